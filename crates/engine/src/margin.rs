//! Standard margin math: size-dependent margin rates and the health formula, as pure
//! functions over plain values. The engine gathers an account's balances and positions and
//! calls these; the same computation serves trading, withdrawal and liquidation checks through
//! [`HealthKind`].

use crate::num::{Amount, Overflow, Ratio, Value, RATIO_SCALE};
use serde::{Deserialize, Serialize};

impl std::fmt::Display for HealthKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HealthKind::Initial => "initial",
            HealthKind::Maintenance => "maintenance",
        })
    }
}

/// Which requirement a health figure is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HealthKind {
    /// Opening risk or withdrawing: the stricter requirement.
    Initial,
    /// Staying open: below zero the account is liquidatable.
    Maintenance,
}

/// Margin rate for a position of `size` (native units, `decimals` of the base asset).
///
/// Drift v2 `math/margin.rs` size premium (IMF): `w' = max(w, 0.8·w + imf·√(10·s + 1))` with
/// `s` the size in whole base units, so the rate grows with the square root of size. The
/// square root is an integer square root rounded up (conservative), and the result is capped
/// at 1.0 (a position never needs more than its notional).
pub fn size_adjusted_rate(base: Ratio, imf: Ratio, size: Amount, decimals: u8) -> Ratio {
    if imf.0 == 0 {
        return base;
    }
    let unit = 10u128.pow(decimals as u32);
    // Fast path without a square root: the premium cannot beat the base rate when
    // imf²·(10s + 1) ≤ (0.2·base)².
    let lhs = (imf.0 as u128)
        .pow(2)
        .saturating_mul(10 * size.0.unsigned_abs() as u128 + unit);
    let fifth = base.0 as u128 / 5;
    if lhs < (fifth * fifth).saturating_mul(unit) {
        return base;
    }
    // sqrt(10 s + 1) = sqrt((10·size + unit) · unit) / unit
    let x = (10 * size.0.unsigned_abs() as u128 + unit) * unit;
    let mut root = x.isqrt();
    if root * root < x {
        root += 1;
    }
    let premium = (imf.0 as u128 * root).div_ceil(unit);
    let scaled = base.0 as u128 * 8 / 10 + premium;
    let rate = (base.0 as u128).max(scaled).min(RATIO_SCALE as u128);
    Ratio(rate as i64)
}

/// Requirement of a position: `|size| × price × rate`, rounded up.
pub fn position_requirement(notional: Value, rate: Ratio) -> Result<Value, Overflow> {
    notional
        .checked_abs()?
        .mul_ratio(rate, crate::num::Round::Up)
}

/// Weighted value of a collateral balance (haircut applied), rounded down.
pub fn collateral_weighted(value: Value, weight: Ratio) -> Result<Value, Overflow> {
    value.mul_ratio(weight, crate::num::Round::Down)
}

/// One line of an account's margin breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Contribution {
    /// Signed quote balance (debt counts in full, deposits in full).
    Quote { amount: Amount, value: Value },
    /// A non-quote collateral balance and its haircut value.
    Collateral {
        asset: crate::ids::AssetId,
        amount: Amount,
        value: Value,
        weight: Ratio,
        weighted: Value,
    },
    /// A perpetual position: unrealized PnL (incl. unsettled funding) and its requirement.
    Perp {
        market: crate::ids::MarketId,
        size: Amount,
        notional: Value,
        unrealized_pnl: Value,
        rate: Ratio,
        requirement: Value,
    },
    /// An option position (standard margin): counted mark and short-option requirement.
    Option {
        series: crate::ids::SeriesId,
        size: Amount,
        mark: Value,
        requirement: Value,
    },
    /// Portfolio margin: option marks and the scenario requirement of the whole account.
    Portfolio {
        option_marks: Value,
        requirement: Value,
    },
}

/// Health of an account with its explanation: `weighted collateral + unrealized PnL −
/// requirement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub kind: HealthKind,
    pub collateral: Value,
    pub unrealized_pnl: Value,
    pub requirement: Value,
    pub health: Value,
    pub lines: Vec<Contribution>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imf_zero_keeps_base_rate() {
        let base = Ratio::from_f64(0.05).unwrap();
        assert_eq!(
            size_adjusted_rate(base, Ratio::ZERO, Amount(1 << 40), 8),
            base
        );
    }

    #[test]
    fn rate_grows_with_sqrt_of_size() {
        let base = Ratio::from_f64(0.05).unwrap();
        let imf = Ratio::from_f64(0.001).unwrap();
        // Small size: base dominates.
        assert_eq!(size_adjusted_rate(base, imf, Amount(100_000_000), 8), base);
        // 10,000 BTC: 0.8·5% + 0.1%·√100001 ≈ 4% + 31.6% = 35.6%.
        let r = size_adjusted_rate(base, imf, Amount(10_000 * 100_000_000), 8).to_f64();
        assert!(
            (r - (0.04 + 0.001 * (100_001f64).sqrt())).abs() < 1e-8,
            "{r}"
        );
        // Monotone and capped at 100%.
        let huge = size_adjusted_rate(base, imf, Amount(i64::MAX), 8);
        assert_eq!(huge, Ratio::ONE);
        // Sign of size does not matter.
        assert_eq!(
            size_adjusted_rate(base, imf, Amount(-5_000_000_000_000), 8),
            size_adjusted_rate(base, imf, Amount(5_000_000_000_000), 8)
        );
    }

    #[test]
    fn requirement_rounds_up_and_weight_down() {
        assert_eq!(
            position_requirement(Value(-10), Ratio(RATIO_SCALE / 3)),
            Ok(Value(4))
        );
        assert_eq!(
            collateral_weighted(Value(10), Ratio(RATIO_SCALE / 3)),
            Ok(Value(3))
        );
    }
}
