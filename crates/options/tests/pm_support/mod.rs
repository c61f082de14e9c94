//! Shared by the portfolio-margin tests: an underlying's market data with a ±20 % stress range,
//! no rates and an exact oracle.

use ballast_options::portfolio::UnderlyingMarket;

/// `name` at `spot` with a flat `vol`, `spot_range` 0.2, zero rate, carry and confidence.
pub fn market(name: &str, spot: f64, vol: f64) -> UnderlyingMarket {
    UnderlyingMarket {
        name: name.into(),
        spot,
        vol,
        rate: 0.0,
        carry_yield: 0.0,
        spot_range: 0.2,
        oracle_confidence: 0.0,
        surface: None,
    }
}
