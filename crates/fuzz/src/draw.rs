//! Random draws for adversarial inputs: integers log-uniform up to the type limits, prices
//! over twenty decades (and NaN, ±∞, 0, negatives), time gaps up to `i64::MAX`, and the
//! special values that sit on type boundaries.

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How far the generator reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Ranges a correct engine handles without reaching an overflow site (amounts ≤ 2^40,
    /// sizes ≤ 2^36, gaps ≤ 2 days). A clean engine produces no finding here.
    Bounded,
    /// Everything up to the type limits: amounts and sizes log-uniform to `i64::MAX`, prices
    /// from 1e-15 to 1e20, time jumps to `i64::MAX`, microsecond-looking timestamps.
    Extreme,
}

/// The random source of one fuzz case.
pub struct Draw {
    rng: ChaCha8Rng,
    pub profile: Profile,
    /// Extreme cases only: whether time jumps to the type limit too (half the cases; the
    /// other half keep sane clocks so amount and price overflows are not masked by the
    /// interest-index wrap that a wild clock hits first).
    pub wild_time: bool,
}

impl Draw {
    pub fn new(seed: u64, profile: Profile) -> Draw {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let wild_time = profile == Profile::Extreme && rng.random_bool(0.5);
        Draw {
            rng,
            profile,
            wild_time,
        }
    }

    pub fn extreme(&self) -> bool {
        self.profile == Profile::Extreme
    }

    pub fn u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// Uniform in `[0, n)` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.rng.random_range(0..n)
        }
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            return lo;
        }
        self.rng.random_range(lo..hi)
    }

    /// Log-uniform in `[10^lo, 10^hi)`.
    pub fn log_f64(&mut self, lo: f64, hi: f64) -> f64 {
        libm::pow(10.0, self.uniform(lo, hi))
    }

    /// An index into `weights`, drawn proportionally.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.rng.random_range(0..total.max(1));
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// A non-negative integer whose bit length is uniform in `0..=bits` (so every decade up
    /// to `2^bits` is equally likely).
    pub fn log_i64(&mut self, bits: u32) -> i64 {
        let k = self.rng.random_range(0..=bits.min(63));
        if k == 0 {
            return 0;
        }
        let lo = 1i64 << (k - 1);
        let hi = if k == 63 { i64::MAX } else { (1i64 << k) - 1 };
        self.rng.random_range(lo..=hi)
    }

    /// A boundary value of `i64`.
    pub fn special_i64(&mut self) -> i64 {
        const S: [i64; 9] = [
            0,
            1,
            -1,
            i64::MAX,
            i64::MIN,
            i64::MAX / 2,
            i64::MAX - 1,
            i64::MIN + 1,
            1 << 53,
        ];
        S[self.below(S.len())]
    }

    /// A positive amount: log-uniform to 2^40 (bounded) or to `i64::MAX` (extreme), now and
    /// then zero, negative or a boundary value.
    pub fn amount(&mut self) -> i64 {
        if self.chance(0.02) {
            return if self.extreme() {
                self.special_i64()
            } else {
                [0, -1][self.below(2)]
            };
        }
        let bits = if self.extreme() { 63 } else { 40 };
        self.log_i64(bits).max(1)
    }

    /// A signed size of random magnitude.
    pub fn size(&mut self) -> i64 {
        if self.extreme() && self.chance(0.03) {
            return self.special_i64();
        }
        let bits = if self.extreme() { 63 } else { 36 };
        let s = self.log_i64(bits).max(1);
        if self.chance(0.5) {
            s
        } else {
            -s
        }
    }

    /// A price factor around 1 (fills in band, moderate moves) or, in the extreme profile,
    /// anything from 1e-15 to 1e20 and the non-finite values.
    pub fn price_factor(&mut self) -> f64 {
        if self.extreme() && self.chance(0.1) {
            return match self.below(6) {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => -1.0,
                3 => 0.0,
                _ => self.log_f64(-15.0, 20.0),
            };
        }
        if self.chance(0.7) {
            self.uniform(0.985, 1.015)
        } else {
            self.uniform(0.85, 1.12)
        }
    }

    /// The next command's time after `now` (ms).
    pub fn next_time(&mut self, now: i64) -> i64 {
        let p = self.wild_time;
        let gap = match self.weighted(&[160, 8, 3, 6, if p { 8 } else { 0 }, if p { 4 } else { 0 }])
        {
            0 => self.log_i64(21),                   // up to ~35 min
            1 => self.uniform(3.6e6, 9e7) as i64,    // 1–25 h
            2 => self.uniform(8.64e7, 1.8e8) as i64, // 1–2 days (timelocks, expiries)
            3 => -(self.log_i64(12)),                // backwards: rejected
            4 => self.log_i64(63),                   // anything to i64::MAX
            _ => return self.odd_time(now),
        };
        now.saturating_add(gap)
    }

    /// Timestamps a careless client writes: microseconds, `i64::MAX`, the far past.
    fn odd_time(&mut self, now: i64) -> i64 {
        match self.below(4) {
            0 => now.saturating_mul(1000),
            1 => i64::MAX,
            2 => i64::MAX - self.log_i64(30),
            _ => now.saturating_add(1_000_000_000_000_000),
        }
    }
}
