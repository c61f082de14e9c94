//! Perpetual funding math: premium of mark over index, clamped, applied through a cumulative
//! index so no per-account loop is needed when funding settles.

use crate::num::{div_round, mul_div, Overflow, Price, Ratio, Round, MS_PER_HOUR, RATIO_SCALE};

/// Extra precision of the cumulative funding index over [`Price`] raw units, so that small
/// hourly rates on cheap assets do not round to zero.
pub const FUNDING_INDEX_SCALE: i128 = 1_000_000;

/// Hourly funding rate from time-weighted mark and index prices.
///
/// Drift v2: `rate_per_hour = (markTWAP − oracleTWAP) / oracleTWAP / 24`, clamped to
/// `±cap` (Drift clamps to 3/5/10% of the oracle TWAP by contract tier). Positive means longs
/// pay shorts.
pub fn hourly_rate(mark_twap: Price, index_twap: Price, cap: Ratio) -> Ratio {
    let premium = (mark_twap.raw() as i128 - index_twap.raw() as i128) * RATIO_SCALE as i128;
    let r = div_round(premium, index_twap.raw() as i128 * 24, Round::Down);
    let cap = cap.0 as i128;
    Ratio(r.clamp(-cap, cap) as i64)
}

/// Change of the cumulative funding index (quote per base-native unit, in
/// `Price raw × FUNDING_INDEX_SCALE`) for `elapsed_ms` at `rate` per hour on `index_price`.
/// At most one hour of funding is applied per update (Mango v4 guards against downtime the
/// same way), so a long gap in updates cannot produce one giant payment.
///
/// `price × rate` (both i64) fits an i128 and the rest goes through [`mul_div`], so the result is
/// exact (and a wrap can never flip the direction of payment).
pub fn index_delta(rate: Ratio, index_price: Price, elapsed_ms: i64) -> Result<i128, Overflow> {
    let dt = elapsed_ms.clamp(0, MS_PER_HOUR) as i128;
    mul_div(
        index_price.raw() as i128 * rate.0 as i128,
        dt * FUNDING_INDEX_SCALE,
        RATIO_SCALE as i128 * MS_PER_HOUR as i128,
        Round::Down,
    )
}

/// Time-weighted moving average step: moves `avg` toward `sample` by `min(dt, window)/window`.
pub fn twap_step(avg: Price, sample: Price, dt_ms: i64, window_ms: i64) -> Price {
    let w = window_ms.max(1) as i128;
    let dt = dt_ms.clamp(0, window_ms.max(1)) as i128;
    let a = avg.raw() as i128;
    let next = a + div_round((sample.raw() as i128 - a) * dt, w, Round::Down);
    Price::from_raw(next.max(1) as i64).unwrap_or(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: i64) -> Price {
        Price::from_raw(x).unwrap()
    }

    #[test]
    fn premium_over_24_and_clamped() {
        // Mark 1% over index → 1%/24 per hour.
        let r = hourly_rate(p(101_000), p(100_000), Ratio::from_f64(0.01).unwrap());
        assert_eq!(r, Ratio(RATIO_SCALE / 100 / 24));
        // A 50% premium is clamped to the cap.
        let r = hourly_rate(p(150_000), p(100_000), Ratio::from_f64(0.01).unwrap());
        assert_eq!(r, Ratio::from_f64(0.01).unwrap());
        let r = hourly_rate(p(50_000), p(100_000), Ratio::from_f64(0.01).unwrap());
        assert_eq!(r, Ratio::from_f64(-0.01).unwrap());
    }

    #[test]
    fn at_most_one_hour_per_update() {
        let r = Ratio::from_f64(0.001).unwrap();
        let one = index_delta(r, p(1_000_000), MS_PER_HOUR).unwrap();
        assert_eq!(one, 1_000 * FUNDING_INDEX_SCALE);
        assert_eq!(index_delta(r, p(1_000_000), 10 * MS_PER_HOUR), Ok(one));
        assert_eq!(index_delta(r, p(1_000_000), MS_PER_HOUR / 2), Ok(one / 2));
    }

    #[test]
    fn funding_keeps_its_sign_at_the_clamp() {
        // The highest price at the clamp: the delta is either exact and positive or refused,
        // never wrapped to the other direction.
        let r = Ratio::from_f64(0.1).unwrap();
        let d = index_delta(r, p(9_000_000_000_000_000_000), MS_PER_HOUR).unwrap();
        assert_eq!(d, 9_000_000_000_000_000_000 / 10 * FUNDING_INDEX_SCALE);
        assert!(index_delta(Ratio(-r.0), p(i64::MAX / 1000), MS_PER_HOUR).unwrap() < 0);
    }

    #[test]
    fn twap_moves_partially() {
        assert_eq!(twap_step(p(100), p(200), 30, 60), p(150));
        assert_eq!(twap_step(p(100), p(200), 600, 60), p(200));
    }
}
