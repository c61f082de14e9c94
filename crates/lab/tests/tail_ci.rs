//! The tail intervals cover the true value at about their nominal 95% rate on a distribution
//! whose VaR, CVaR and mean are known: Exp(1), where VaR_q = −ln(1 − q) and, memoryless,
//! CVaR_q = VaR_q + 1 and the mean is 1. Each replication draws a fresh seeded sample,
//! builds the lab's histogram from it (values in micro-units) and asks for the intervals.

use ballast_lab::stats::tail::{cvar_interval, mean_interval, quantile_interval, Interval};
use ballast_lab::stats::LogHistogram;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

const SCALE: f64 = 1e6;
const REPS: u64 = 200;

fn sample(n: usize, seed: u64) -> LogHistogram {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut h = LogHistogram::default();
    for _ in 0..n {
        let x: f64 = Exp1.sample(&mut rng);
        h.add((x * SCALE).round() as i64);
    }
    h
}

fn covers(i: &Interval, truth: f64) -> bool {
    i.lo / SCALE <= truth && i.hi.is_some_and(|hi| truth <= hi / SCALE)
}

fn rate(hits: u64) -> f64 {
    hits as f64 / REPS as f64
}

#[test]
fn var_and_cvar_intervals_cover_at_about_the_nominal_rate() {
    let q = 0.95;
    let var = -libm::log(1.0 - q);
    let cvar = var + 1.0;
    let (mut var_hits, mut cvar_hits) = (0, 0);
    for rep in 0..REPS {
        let h = sample(500, 1_000 + rep);
        var_hits += u64::from(covers(&quantile_interval(&h, q, 0.95), var));
        cvar_hits += u64::from(covers(&cvar_interval(&h, q, 0.95, rep, 2), cvar));
    }
    eprintln!(
        "coverage over {REPS} samples of 500: VaR95 {}, CVaR95 {}",
        rate(var_hits),
        rate(cvar_hits)
    );
    // Order-statistic intervals are exact-or-conservative (nominal 0.95, here ≥ 0.95 by
    // construction); 200 replications have a standard error of ~0.015.
    assert!(
        (0.92..=0.995).contains(&rate(var_hits)),
        "VaR coverage {}",
        rate(var_hits)
    );
    // The percentile bootstrap of a 25-point tail mean under-covers a little on a skewed law.
    assert!(
        (0.85..=0.99).contains(&rate(cvar_hits)),
        "CVaR coverage {}",
        rate(cvar_hits)
    );
}

#[test]
fn mean_interval_covers_at_about_the_nominal_rate_and_stays_non_negative() {
    let mut hits = 0;
    for rep in 0..REPS {
        let h = sample(200, 50_000 + rep);
        let m = mean_interval(&h, 0.95, rep, 1);
        assert!(m.lo >= 0.0, "{m:?}");
        hits += u64::from(covers(&m, 1.0));
    }
    eprintln!("coverage over {REPS} samples of 200: mean {}", rate(hits));
    assert!(
        (0.90..=0.99).contains(&rate(hits)),
        "mean coverage {}",
        rate(hits)
    );
}
