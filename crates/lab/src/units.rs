//! Units and fixed identifiers the whole lab shares: the quote asset's scale, the genesis time,
//! the one pool, USD ↔ quote-native conversions, an account's quote balance, and step lengths
//! as people write them ("1 min", "4 h", "1 d").

use ballast_engine::ids::{AccountId, AssetId, PoolId};
pub use ballast_engine::num::pow10;
use ballast_engine::num::{Amount, Round};
use ballast_engine::{Engine, HealthKind};

/// Quote asset decimals (USDC-like).
pub const QUOTE_DECIMALS: u8 = 6;
/// Genesis time of every path: 2024-01-01T00:00:00Z.
pub const T0_MS: i64 = 1_704_067_200_000;
pub const POOL: PoolId = PoolId(0);
pub const QUOTE: AssetId = AssetId(0);

/// USD (whole quote tokens) to quote-native units, rounded to nearest.
pub fn usd(x: f64) -> Amount {
    Amount((x * QUOTE_SCALE).round() as i64)
}
/// Quote-native units to USD.
pub fn to_usd(a: i128) -> f64 {
    a as f64 / QUOTE_SCALE
}

/// Quote-native units per USD (`10^QUOTE_DECIMALS`, exact in f64).
pub const QUOTE_SCALE: f64 = 1e6;

/// Quote balance of an account without positions or other collateral (its maintenance health),
/// quote-native, rounded down.
pub fn quote_balance(eng: &Engine, a: AccountId) -> i64 {
    eng.health(a, HealthKind::Maintenance)
        .ok()
        .and_then(|v| v.to_quote(Round::Down).ok())
        .map_or(0, |a| a.0)
}

/// A step length for people: "1 min", "15 min", "1 h", "4 h", "1 d" (never "0.0166… h").
pub fn step_length(hours: f64) -> String {
    let minutes = hours * 60.0;
    if hours >= 24.0 && (hours / 24.0).fract() == 0.0 {
        format!("{} d", hours / 24.0)
    } else if hours >= 1.0 && hours.fract() == 0.0 {
        format!("{hours} h")
    } else if (minutes - libm::round(minutes)).abs() < 1e-6 {
        format!("{} min", libm::round(minutes))
    } else if minutes < 1.0 {
        format!("{:.0} s", minutes * 60.0)
    } else {
        format!("{hours:.3} h")
    }
}

#[cfg(test)]
mod tests {
    use super::step_length;

    #[test]
    fn step_lengths_read_as_people_write_them() {
        assert_eq!(step_length(1.0 / 60.0), "1 min");
        assert_eq!(step_length(0.25), "15 min");
        assert_eq!(step_length(1.0), "1 h");
        assert_eq!(step_length(4.0), "4 h");
        assert_eq!(step_length(24.0), "1 d");
        assert_eq!(step_length(1.5), "90 min");
    }
}
