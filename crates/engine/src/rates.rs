//! Interest-rate math for collateral lending: a utilization-based kinked curve and index
//! growth. Pure functions over plain values.

use crate::num::{div_round, mul_div, Overflow, Ratio, Round, MS_PER_YEAR, RATIO_SCALE};
use serde::{Deserialize, Serialize};

/// Raw steps of an interest index per 1.0.
pub const INDEX_SCALE: i128 = 1_000_000_000_000_000_000;

/// Parameters of a two-slope interest curve (annual rates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateCurve {
    pub base: Ratio,
    pub slope1: Ratio,
    pub slope2: Ratio,
    /// The kink `U*`, strictly between 0 and 1.
    pub optimal_utilization: Ratio,
    /// Share of borrower interest kept by the protocol.
    pub reserve_factor: Ratio,
}

/// `borrows / deposits` as a ratio in `[0, 1]` (1 when there are borrows but no deposits).
pub fn utilization(borrows: i128, deposits: i128) -> Ratio {
    if borrows <= 0 {
        return Ratio::ZERO;
    }
    if deposits <= 0 || borrows >= deposits {
        return Ratio::ONE;
    }
    Ratio(div_round(borrows * RATIO_SCALE as i128, deposits, Round::Up) as i64)
}

/// Annual borrow rate at utilization `u`.
///
/// Aave v3 `DefaultReserveInterestRateStrategy`:
/// `r = base + s1·min(U, U*)/U* + s2·max(0, U − U*)/(1 − U*)`.
pub fn borrow_rate(c: &RateCurve, u: Ratio) -> Ratio {
    let opt = c.optimal_utilization.0 as i128;
    let one = RATIO_SCALE as i128;
    let u = u.0 as i128;
    let below = u.min(opt);
    let above = (u - opt).max(0);
    let r = c.base.0 as i128
        + div_round(c.slope1.0 as i128 * below, opt, Round::Up)
        + div_round(c.slope2.0 as i128 * above, one - opt, Round::Up);
    // Every term is bounded by its i64 inputs, so the sum fits an i128; a rate beyond i64 (only
    // from absurd governed slopes) saturates at the maximum rate, which the caller's checked
    // index growth then refuses as an overflow rather than wrapping.
    Ratio(i64::try_from(r).unwrap_or(i64::MAX))
}

/// Annual supply rate: `r_supply = r_borrow · U · (1 − reserveFactor)` (Aave v3), rounded down.
pub fn supply_rate(c: &RateCurve, u: Ratio, borrow: Ratio) -> Ratio {
    let one = RATIO_SCALE as i128;
    let r = div_round(
        borrow.0 as i128 * u.0 as i128 * (one - c.reserve_factor.0 as i128),
        one * one,
        Round::Down,
    );
    Ratio(r as i64)
}

/// Longest span accrued as one simple-interest step; a longer gap compounds in steps of this
/// length, so a gap of decades cannot turn into one unbounded linear product.
pub const MAX_ACCRUAL_STEP_MS: i64 = MS_PER_YEAR;

/// Grows an index by simple interest over `dt_ms`: `index · (1 + rate · dt / year)`.
/// Compounding happens across accrual steps (Aave v3 accrues the liquidity index linearly per
/// step); a gap longer than [`MAX_ACCRUAL_STEP_MS`] compounds once per step. Borrow indices
/// round up, supply indices down. An index that no longer fits is an [`Overflow`].
pub fn grow_index(
    index: i128,
    annual_rate: Ratio,
    dt_ms: i64,
    round: Round,
) -> Result<i128, Overflow> {
    if dt_ms <= 0 || annual_rate.0 == 0 {
        return Ok(index);
    }
    let mut index = index;
    let mut left = dt_ms;
    while left > 0 {
        let step = left.min(MAX_ACCRUAL_STEP_MS);
        let growth = mul_div(
            index.checked_mul(annual_rate.0 as i128).ok_or(Overflow)?,
            step as i128,
            RATIO_SCALE as i128 * MS_PER_YEAR as i128,
            round,
        )?;
        index = index.checked_add(growth).ok_or(Overflow)?;
        left -= step;
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve() -> RateCurve {
        // Aave v3 USDC-like: base 0, slope1 4%, slope2 60%, U* 90%, RF 10%.
        RateCurve {
            base: Ratio(0),
            slope1: Ratio::from_f64(0.04).unwrap(),
            slope2: Ratio::from_f64(0.60).unwrap(),
            optimal_utilization: Ratio::from_f64(0.90).unwrap(),
            reserve_factor: Ratio::from_f64(0.10).unwrap(),
        }
    }

    #[test]
    fn kinked_curve_matches_formula() {
        let c = curve();
        assert_eq!(borrow_rate(&c, Ratio::ZERO), Ratio(0));
        assert_eq!(
            borrow_rate(&c, Ratio::from_f64(0.45).unwrap()),
            Ratio::from_f64(0.02).unwrap()
        );
        assert_eq!(
            borrow_rate(&c, Ratio::from_f64(0.90).unwrap()),
            Ratio::from_f64(0.04).unwrap()
        );
        // Halfway up the steep slope: 4% + 30%.
        assert_eq!(
            borrow_rate(&c, Ratio::from_f64(0.95).unwrap()),
            Ratio::from_f64(0.34).unwrap()
        );
        assert_eq!(borrow_rate(&c, Ratio::ONE), Ratio::from_f64(0.64).unwrap());
    }

    #[test]
    fn supply_rate_is_borrow_times_u_net_of_reserve() {
        let c = curve();
        let u = Ratio::from_f64(0.5).unwrap();
        let b = borrow_rate(&c, u);
        let s = supply_rate(&c, u, b);
        assert!((s.to_f64() - b.to_f64() * 0.5 * 0.9).abs() < 1e-9);
    }

    #[test]
    fn index_grows_by_simple_interest() {
        let i = grow_index(
            INDEX_SCALE,
            Ratio::from_f64(0.10).unwrap(),
            MS_PER_YEAR,
            Round::Up,
        );
        assert_eq!(i, Ok(INDEX_SCALE + INDEX_SCALE / 10));
        assert_eq!(
            grow_index(INDEX_SCALE, Ratio(5), 0, Round::Up),
            Ok(INDEX_SCALE)
        );
        // Two years compound once per year: 1.1² = 1.21.
        let two = grow_index(
            INDEX_SCALE,
            Ratio::from_f64(0.10).unwrap(),
            2 * MS_PER_YEAR,
            Round::Down,
        );
        assert_eq!(two, Ok(INDEX_SCALE * 121 / 100));
    }

    #[test]
    fn index_growth_never_wraps() {
        // The longest gap at the highest rate: an overflow, never a negative index.
        let r = grow_index(INDEX_SCALE, Ratio(i64::MAX), i64::MAX, Round::Up);
        assert_eq!(r, Err(Overflow));
    }

    #[test]
    fn utilization_edges() {
        assert_eq!(utilization(0, 0), Ratio::ZERO);
        assert_eq!(utilization(5, 0), Ratio::ONE);
        assert_eq!(utilization(50, 100), Ratio(RATIO_SCALE / 2));
    }
}
