//! Units and fixed identifiers the whole lab shares: the quote asset's scale, the genesis time,
//! the one pool, USD ↔ quote-native conversions and an account's quote balance.

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
