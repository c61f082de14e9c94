//! Confidence intervals for tail statistics that respect the data: distribution-free
//! order-statistic intervals for quantiles (VaR), a seeded bootstrap for expected shortfall
//! (CVaR) and for the mean of a non-negative quantity.
//!
//! - **Quantile (VaR).** With `B ~ Binomial(n, q)` the number of observations at or below the
//!   true quantile `ξ_q`, `P(X_(l) ≤ ξ_q ≤ X_(u)) ≥ P(l ≤ B ≤ u − 1)` for any distribution
//!   (David & Nagaraja, *Order Statistics*, 3rd ed., 2003, §7.1; Hahn & Meeker, *Statistical
//!   Intervals*, 1991, §5.2). The ranks are chosen equal-tailed: the largest `l` with
//!   `P(B ≤ l − 1) ≤ α/2` and the smallest `u` with `P(B ≤ u − 1) ≥ 1 − α/2`. When no such `u ≤ n`
//!   exists (too few paths for the tail), the upper bound is unbounded and reported as `None`.
//! - **CVaR and the mean.** Percentile bootstrap (Efron & Tibshirani, *An Introduction to the
//!   Bootstrap*, 1993, §13.3) with [`RESAMPLES`] resamples from a ChaCha8 stream seeded by the
//!   run's seed, so the interval is deterministic and identical for sharded and unsharded runs.
//!   A resample's multiplicities are multinomial; a group of `c` of the `m` remaining
//!   observations receives `Binomial(R, c/m)` of the `R` remaining draws (the multinomial's
//!   aggregation property), so a resample costs one binomial draw per group of equal values, not
//!   `n` draws. Percentile intervals stay inside the sample's range, so the mean of a
//!   non-negative quantity never gets a negative bound.
//!
//! Values past the histogram's exact top ([`super::TOP_K`]) enter as their bucket's exact mean
//! (≤ 0.5% off each), like the point estimates.

use super::{LogHistogram, GAMMA};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 1000;

/// Method names, as printed in the table and the JSON.
pub const VAR_METHOD: &str = "order statistics (distribution-free binomial, David & Nagaraja 7.1)";
pub const CVAR_METHOD: &str =
    "percentile bootstrap, 1000 resamples, ChaCha8 seeded by the run seed";
pub const MEAN_METHOD: &str = "percentile bootstrap, 1000 resamples (stays within the support)";
pub const PROB_METHOD: &str = "Wilson score";
pub const COUNT_METHOD: &str = "normal approximation, clipped to the support [0, inf)";

/// A two-sided interval; `hi = None` means unbounded above (too few paths for that tail).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lo: f64,
    pub hi: Option<f64>,
}

/// Sample values as groups of equal (or bucket-averaged) values, largest first.
#[derive(Debug, Clone, Default)]
pub struct Runs {
    /// `(value, count)`, descending by value; the last may be the zero group.
    pub runs: Vec<(f64, u64)>,
    pub n: u64,
}

impl Runs {
    /// The histogram's values, largest first: the exact top one by one, then per bucket the
    /// rest with their exact mean, then the zeros. `fine = false` folds the exact top back into
    /// its buckets (fewer groups, for the mean).
    pub fn of(h: &LogHistogram, fine: bool) -> Runs {
        let mut runs = Vec::new();
        let top: &[i64] = if fine { &h.top } else { &[] };
        runs.extend(top.iter().map(|&v| (v as f64, 1)));
        let mut t = 0;
        for (k, b) in h.buckets.iter().rev() {
            // Top values that fall in this bucket are already listed.
            let (mut c, mut s) = (b.count, b.sum);
            while t < top.len() && LogHistogram::index(top[t]) >= *k {
                c -= 1;
                s -= top[t] as i128;
                t += 1;
            }
            if c > 0 {
                let mean = (s as f64 / c as f64).clamp(b.min as f64, b.max as f64);
                runs.push((mean, c));
            }
        }
        if h.zeros > 0 {
            runs.push((0.0, h.zeros));
        }
        Runs { runs, n: h.count() }
    }
}

/// `ln P(B = k)` for `B ~ Binomial(n, q)`, `0 < q < 1` (through `libm::lgamma`).
fn ln_pmf(n: u64, k: u64, q: f64) -> f64 {
    let (nf, kf) = (n as f64, k as f64);
    libm::lgamma(nf + 1.0) - libm::lgamma(kf + 1.0) - libm::lgamma(nf - kf + 1.0)
        + kf * libm::log(q)
        + (nf - kf) * libm::log1p(-q)
}

/// 1-based ranks `(l, u)` of the equal-tailed distribution-free interval for the `q`-quantile
/// at `level` (e.g. 0.95); `None` for a bound below rank 1 or above rank `n`.
pub fn quantile_ranks(n: u64, q: f64, level: f64) -> (Option<u64>, Option<u64>) {
    if n == 0 || !(q > 0.0 && q < 1.0) {
        return (None, None);
    }
    let a = (1.0 - level) / 2.0;
    // The mass beyond 12 standard deviations (plus a margin for small n) is below 1e-30.
    let (mean, sd) = (n as f64 * q, libm::sqrt(n as f64 * q * (1.0 - q)));
    let lo = (mean - 12.0 * sd - 20.0).max(0.0) as u64;
    let hi = ((mean + 12.0 * sd + 20.0) as u64).min(n);
    let (mut cdf, mut l, mut u) = (0.0f64, None, None);
    // After adding pmf(k), `cdf` = P(B ≤ k): rank k + 1 is a valid lower bound while
    // P(B ≤ k) ≤ α/2, and the first k with P(B ≤ k) ≥ 1 − α/2 gives the upper rank k + 1.
    for k in lo..=hi {
        cdf += libm::exp(ln_pmf(n, k, q));
        if cdf <= a {
            l = Some(k + 1);
        }
        if cdf >= 1.0 - a {
            u = (k < n).then_some(k + 1);
            break;
        }
    }
    (l, u)
}

/// The distribution-free interval for the `q`-quantile of a non-negative sample; a lower rank
/// below 1 is the support's minimum, 0.
pub fn quantile_interval(h: &LogHistogram, q: f64, level: f64) -> Interval {
    let (l, u) = quantile_ranks(h.count(), q, level);
    Interval {
        lo: l.map_or(0.0, |r| h.at_rank(r)),
        hi: u.map(|r| h.at_rank(r)),
    }
}

/// The `[α/2, 1 − α/2]` percentile interval of bootstrap replicates.
fn percentile(mut reps: Vec<f64>, level: f64) -> Interval {
    if reps.is_empty() {
        return Interval::default();
    }
    reps.sort_by(f64::total_cmp);
    let a = (1.0 - level) / 2.0;
    let at = |p: f64| reps[((p * reps.len() as f64) as usize).min(reps.len() - 1)];
    Interval {
        lo: at(a),
        hi: Some(at(1.0 - a)),
    }
}

/// Draws the multiplicities of one resample group by group, largest values first, and hands
/// each `(value, multiplicity)` to `take` until it returns false.
fn resample(runs: &Runs, rng: &mut ChaCha8Rng, mut take: impl FnMut(f64, u64) -> bool) {
    let (mut left_obs, mut left_draws) = (runs.n, runs.n);
    for &(v, c) in &runs.runs {
        if left_draws == 0 {
            return;
        }
        let m = if c >= left_obs {
            left_draws
        } else {
            crate::math::binomial(rng, left_draws, c as f64 / left_obs as f64)
        };
        left_obs -= c;
        left_draws -= m;
        if m > 0 && !take(v, m) {
            return;
        }
    }
}

/// Mean of the top `n − ⌈q·n⌉ + 1` values of one resample (CVaR_q as
/// [`LogHistogram::tail_mean`] defines it).
fn resample_tail_mean(runs: &Runs, q: f64, rng: &mut ChaCha8Rng) -> f64 {
    let n = runs.n;
    let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
    let tail = n - rank + 1;
    let (mut need, mut sum) = (tail, 0.0);
    resample(runs, rng, |v, m| {
        let k = m.min(need);
        sum += v * k as f64;
        need -= k;
        need > 0
    });
    sum / tail as f64
}

fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    // A fixed, documented derivation: the run seed, then one stream per statistic.
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ 0x6261_6c6c_6173_7421);
    r.set_stream(stream);
    r
}

/// Bootstrap interval for CVaR_q of the sample in `h` (`stream` separates statistics).
pub fn cvar_interval(h: &LogHistogram, q: f64, level: f64, seed: u64, stream: u64) -> Interval {
    if h.count() == 0 {
        return Interval::default();
    }
    let runs = Runs::of(h, true);
    let mut rng = rng_for(seed, stream);
    let reps = (0..RESAMPLES)
        .map(|_| resample_tail_mean(&runs, q, &mut rng))
        .collect();
    percentile(reps, level)
}

/// Bootstrap interval for the mean of the sample in `h`.
pub fn mean_interval(h: &LogHistogram, level: f64, seed: u64, stream: u64) -> Interval {
    let n = h.count();
    if n == 0 {
        return Interval::default();
    }
    let runs = Runs::of(h, false);
    let mut rng = rng_for(seed, stream);
    let reps = (0..RESAMPLES)
        .map(|_| {
            let mut sum = 0.0;
            resample(&runs, &mut rng, |v, m| {
                sum += v * m as f64;
                true
            });
            sum / n as f64
        })
        .collect();
    percentile(reps, level)
}

/// Relative error bound of a value that is not an exact order statistic.
pub fn bucket_rel_error() -> f64 {
    libm::sqrt(GAMMA) - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(xs: &[i64]) -> LogHistogram {
        let mut h = LogHistogram::default();
        for &x in xs {
            h.add(x);
        }
        h
    }

    #[test]
    fn ranks_match_the_binomial_definition() {
        // n = 100, q = 0.5: the textbook interval is X_(40) .. X_(61) (coverage 0.9648).
        assert_eq!(quantile_ranks(100, 0.5, 0.95), (Some(40), Some(61)));
        // Too few paths for the 99th percentile: unbounded above.
        assert_eq!(quantile_ranks(100, 0.99, 0.95).1, None);
        let (l, u) = quantile_ranks(10_000, 0.99, 0.95);
        let (l, u) = (l.expect("lower"), u.expect("upper"));
        assert!(l < 9900 && u > 9900 && u <= 10_000, "{l} {u}");
    }

    #[test]
    fn runs_partition_the_sample() {
        let xs: Vec<i64> = (0..3000).map(|i| (i % 7) * 1_000 + i).collect();
        let h = hist(&xs);
        for fine in [true, false] {
            let r = Runs::of(&h, fine);
            assert_eq!(r.runs.iter().map(|x| x.1).sum::<u64>(), 3000);
            let total: f64 = r.runs.iter().map(|(v, c)| v * *c as f64).sum();
            let exact: f64 = xs.iter().map(|&x| x as f64).sum();
            assert!((total - exact).abs() < 1e-6 * exact, "{total} {exact}");
            assert!(r.runs.windows(2).all(|w| w[0].0 >= w[1].0));
        }
    }

    #[test]
    fn a_nonnegative_sample_never_gets_a_negative_bound() {
        // 997 zeros and three huge losses: a normal interval would go far below zero.
        let mut xs = vec![0; 997];
        xs.extend([5_000_000_000, 9_000_000_000, 40_000_000_000]);
        let h = hist(&xs);
        let m = mean_interval(&h, 0.95, 7, 1);
        assert!(m.lo >= 0.0, "{m:?}");
        assert!(m.hi.is_some_and(|hi| hi > 0.0), "{m:?}");
        let c = cvar_interval(&h, 0.99, 0.95, 7, 2);
        assert!(c.lo >= 0.0 && c.hi.is_some_and(|hi| hi >= c.lo), "{c:?}");
        let v = quantile_interval(&h, 0.99, 0.95);
        assert!(v.lo >= 0.0, "{v:?}");
    }

    #[test]
    fn bootstrap_is_deterministic_per_seed() {
        let xs: Vec<i64> = (1..2000).map(|i| i * i).collect();
        let h = hist(&xs);
        assert_eq!(
            cvar_interval(&h, 0.95, 0.95, 3, 1),
            cvar_interval(&h, 0.95, 0.95, 3, 1)
        );
        assert_ne!(
            cvar_interval(&h, 0.95, 0.95, 3, 1),
            cvar_interval(&h, 0.95, 0.95, 4, 1)
        );
    }
}
