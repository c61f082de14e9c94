//! Capital efficiency over the path, not just at t0: what a defence costs the traders.
//!
//! At [`SAMPLES`] evenly spaced steps of each path the book's initial-margin requirement, open
//! interest (Σ |perp notional|) and equity (collateral + unrealized PnL) are summed over the
//! trader accounts through the engine's own breakdown (`HealthKind::Initial`: equity =
//! health + requirement). Pooled over samples and paths, IM / OI is the time-averaged margin per
//! unit of open interest and IM / equity the share of the traders' equity a defence locks up
//! (vol-adjusted margin raises both; liquidations and trader penalties are the other cost).
//! The t0 figure (`capital efficiency`) is [`book_capital`] of the opened book.

use crate::world::House;
use ballast_engine::ids::AccountId;
use ballast_engine::margin::Contribution;
use ballast_engine::num::{Round, Value};
use ballast_engine::{Engine, HealthKind};
use serde::{Deserialize, Serialize};

/// Samples per path (besides t0).
pub const SAMPLES: u32 = 8;

/// The trader book's initial margin, open interest and equity now (quote-native).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookCapital {
    pub im: i64,
    pub oi: i64,
    pub equity: i64,
}

/// [`BookCapital`] of the trader accounts (`house.first_trader..`).
pub fn book_capital(eng: &Engine, house: &House) -> BookCapital {
    let (mut im, mut oi, mut eq) = (0i128, 0i128, 0i128);
    for i in house.first_trader..eng.state().accounts.len() as u32 {
        if let Ok(b) = eng.breakdown(AccountId(i), HealthKind::Initial) {
            im += b.requirement.0;
            eq += b.health.0 + b.requirement.0;
            for l in &b.lines {
                if let Contribution::Perp { notional, .. } = l {
                    oi += notional.0.abs();
                }
            }
        }
    }
    let q = |v: i128, r| Value(v).to_quote(r).map_or(i64::MAX, |a| a.0);
    BookCapital {
        im: q(im, Round::Up),
        oi: q(oi, Round::Up),
        equity: q(eq, Round::Down),
    }
}

/// One path's samples: sums over the sampled steps (quote-native).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EfficiencyTally {
    pub samples: u32,
    pub im: i64,
    pub oi: i64,
    pub equity: i64,
}

impl EfficiencyTally {
    /// Whether `step` (1-based) of a `horizon`-step path is sampled: every
    /// `⌈horizon / SAMPLES⌉` steps, and the last step.
    pub fn samples_at(step: u32, horizon: u32) -> bool {
        step.is_multiple_of(horizon.div_ceil(SAMPLES).max(1)) || step == horizon
    }

    /// Adds the book as it stands.
    pub fn sample(&mut self, eng: &Engine, house: &House) {
        let c = book_capital(eng, house);
        self.samples += 1;
        self.im = self.im.saturating_add(c.im);
        self.oi = self.oi.saturating_add(c.oi);
        self.equity = self.equity.saturating_add(c.equity);
    }
}

/// Sums over paths.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EfficiencyAgg {
    pub samples: u64,
    pub im: i128,
    pub oi: i128,
    pub equity: i128,
}

impl EfficiencyAgg {
    pub fn add(&mut self, t: &EfficiencyTally) {
        self.samples += u64::from(t.samples);
        self.im += i128::from(t.im);
        self.oi += i128::from(t.oi);
        self.equity += i128::from(t.equity);
    }
    pub fn merge(&mut self, o: &EfficiencyAgg) {
        self.samples += o.samples;
        self.im += o.im;
        self.oi += o.oi;
        self.equity += o.equity;
    }
    /// (IM / OI, IM / equity) pooled over the samples; 0 where the denominator is not positive.
    pub fn ratios(&self) -> (f64, f64) {
        let r = |a: i128, b: i128| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        (r(self.im, self.oi), r(self.im, self.equity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_every_stride_and_the_last_step() {
        let at: Vec<u32> = (1..=20)
            .filter(|s| EfficiencyTally::samples_at(*s, 20))
            .collect();
        assert_eq!(at, vec![3, 6, 9, 12, 15, 18, 20]);
        let at: Vec<u32> = (1..=3)
            .filter(|s| EfficiencyTally::samples_at(*s, 3))
            .collect();
        assert_eq!(at, vec![1, 2, 3]);
    }

    #[test]
    fn ratios_pool_the_sums() {
        let mut a = EfficiencyAgg::default();
        a.add(&EfficiencyTally {
            samples: 2,
            im: 10,
            oi: 100,
            equity: 40,
        });
        a.add(&EfficiencyTally {
            samples: 2,
            im: 30,
            oi: 300,
            equity: 60,
        });
        assert_eq!(a.ratios(), (0.1, 0.4));
        assert_eq!(EfficiencyAgg::default().ratios(), (0.0, 0.0));
    }
}
