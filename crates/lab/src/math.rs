//! Small pure numerical helpers shared by the scenario checks and the price models, and the
//! per-path random streams.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Golden-ratio multiplier of the per-path seed (as in the peer Rust reference).
pub const PATH_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// The random stream `stream` of path `path` (the streams are listed in `path`'s module doc).
pub fn path_rng(seed: u64, path: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed ^ (path + 1).wrapping_mul(PATH_MIX));
    if stream != 0 {
        r.set_stream(stream);
    }
    r
}

/// Lower-triangular Cholesky factor `L` with `L·Lᵀ = c`; `None` if `c` is not positive
/// definite.
// Matrix and per-asset loops read clearest with indices.
#[allow(clippy::needless_range_loop)]
pub fn cholesky(c: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = c.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = c[i][i] - s;
                if d <= 1e-12 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (c[i][j] - s) / l[j][j];
            }
        }
    }
    Some(l)
}

/// `2^-53`: the spacing of the 53-bit uniform grid.
const U53: f64 = 1.0 / (1u64 << 53) as f64;

/// A uniform on `[0, 1)` from the top 53 bits of one `u64` (exact, no rounding).
pub fn uniform<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * U53
}

/// A uniform on `(0, 1]` (safe to take the log of).
fn uniform_open0<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * U53
}

/// A standard normal by the Box–Muller transform (Box & Muller 1958,
/// "A note on the generation of random normal deviates"): `√(−2 ln u₁) · cos(2π u₂)` from two
/// 53-bit uniforms, through `libm`'s `log` and `cos` (pure Rust, the same bits on every
/// platform; `sqrt` is correctly rounded by IEEE 754). Exactly two `u64` per draw, so a stream's
/// position after `k` draws never depends on the values drawn. Replaces `rand_distr`'s
/// ziggurat, whose tail and wedge tests call the platform's `exp`/`ln`.
pub fn std_normal<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1 = uniform_open0(rng);
    let u2 = uniform(rng);
    (-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// Largest mean drawn by Knuth's product method in one go; larger means are split (a sum of
/// independent Poissons is Poisson), so `exp(−λ)` never underflows.
const POISSON_SPLIT: f64 = 30.0;

/// A Poisson(λ) count by Knuth's multiplication method (Knuth, TAOCP vol. 2, 3.4.1): multiply
/// uniforms until the product falls to `exp(−λ)` (`libm::exp`). `λ ≤ 0` or not finite gives 0.
pub fn poisson<R: rand::Rng + ?Sized>(rng: &mut R, lambda: f64) -> u64 {
    if !(lambda.is_finite() && lambda > 0.0) {
        return 0;
    }
    if lambda > POISSON_SPLIT {
        let half = lambda / 2.0;
        return poisson(rng, half) + poisson(rng, lambda - half);
    }
    let floor = libm::exp(-lambda);
    let (mut k, mut p) = (0u64, uniform(rng));
    while p > floor {
        k += 1;
        p *= uniform(rng);
    }
    k
}

/// A Binomial(n, p) count by geometric waiting times (Devroye 1986, *Non-Uniform Random Variate
/// Generation*, X.4.3): the gaps between successes are geometric, `⌊ln u / ln(1 − p)⌋ + 1`
/// (`libm::log`, `libm::log1p`). Expected work `n·min(p, 1 − p) + 1`; `p` outside `(0, 1)`
/// gives the degenerate count.
pub fn binomial<R: rand::Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if p.is_nan() || p <= 0.0 || n == 0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    let denom = libm::log1p(-p);
    let (mut count, mut pos) = (0u64, 0u64);
    loop {
        let gap = (libm::log(uniform_open0(rng)) / denom).floor();
        // A gap past `n` (or not representable) ends the run.
        if gap >= (n - pos) as f64 {
            return count;
        }
        pos += gap as u64 + 1;
        if pos > n {
            return count;
        }
        count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        (m, v)
    }

    #[test]
    fn normal_has_unit_moments_and_normal_tails() {
        let mut r = ChaCha8Rng::seed_from_u64(11);
        let xs: Vec<f64> = (0..200_000).map(|_| std_normal(&mut r)).collect();
        let (m, v) = moments(&xs);
        assert!(m.abs() < 0.01, "mean {m}");
        assert!((v - 1.0).abs() < 0.01, "variance {v}");
        // P(|Z| > 2) = 4.55 %, P(|Z| > 3) = 0.27 %.
        let tail = |k: f64| xs.iter().filter(|x| x.abs() > k).count() as f64 / xs.len() as f64;
        assert!((tail(2.0) - 0.0455).abs() < 0.003, "{}", tail(2.0));
        assert!((tail(3.0) - 0.0027).abs() < 0.0006, "{}", tail(3.0));
    }

    #[test]
    fn normal_stream_is_a_pure_function_of_the_seed() {
        // Two u64 per draw: the 11th draw of a stream equals the first draw after skipping 20.
        let mut a = ChaCha8Rng::seed_from_u64(5);
        let tenth: Vec<f64> = (0..11).map(|_| std_normal(&mut a)).collect();
        let mut b = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..20 {
            b.next_u64();
        }
        assert_eq!(std_normal(&mut b).to_bits(), tenth[10].to_bits());
    }

    #[test]
    fn poisson_and_binomial_match_their_means_and_variances() {
        let mut r = ChaCha8Rng::seed_from_u64(3);
        for lambda in [0.01, 0.7, 4.0, 75.0] {
            let xs: Vec<f64> = (0..40_000)
                .map(|_| poisson(&mut r, lambda) as f64)
                .collect();
            let (m, v) = moments(&xs);
            let tol = 4.0 * (lambda / 40_000.0).sqrt() + 1e-3;
            assert!((m - lambda).abs() < tol, "λ {lambda}: mean {m}");
            assert!((v / lambda - 1.0).abs() < 0.06, "λ {lambda}: var {v}");
        }
        for (n, p) in [(10u64, 0.3), (1000, 0.02), (500, 0.9), (7, 1.0), (9, 0.0)] {
            let xs: Vec<f64> = (0..20_000).map(|_| binomial(&mut r, n, p) as f64).collect();
            assert!(xs.iter().all(|x| *x >= 0.0 && *x <= n as f64));
            let (m, v) = moments(&xs);
            let (em, ev) = (n as f64 * p, n as f64 * p * (1.0 - p));
            assert!(
                (m - em).abs() < 4.0 * (ev / 20_000.0).sqrt() + 1e-9,
                "{n},{p}: {m}"
            );
            if ev > 0.0 {
                assert!((v / ev - 1.0).abs() < 0.08, "{n},{p}: var {v} vs {ev}");
            } else {
                assert_eq!(v, 0.0);
            }
        }
    }
}
