//! What the keepers did on one path: auction clearing prices against the oracle, and who took,
//! started and reset (the recorder fills a [`KeeperTally`] from the engine's events; the
//! aggregate is `stats::auctions`).
//!
//! A take's clearing ratio is what the bidder paid per unit over the oracle price at the take:
//! `paid / (|q| · oracle)` for a long lot; a short lot is mirrored (the bidder is paid
//! `2·oracle_start − price`, engine `auction.rs`), so its ratio is `2 − received / (|q|·oracle)`.
//! 1 is a sale at the oracle, 0 a lot given away. Ratios fall in integer 1 % buckets, so
//! tallies merge exactly.

use serde::{Deserialize, Serialize};

/// Buckets of the clearing ratio: `[k %, (k+1) %)` for `k < 150`, the last one `≥ 150 %`.
pub const BUCKETS: usize = 151;

/// The thresholds (% of the oracle) whose shares the summary reports; the last is the
/// zero-bid line.
pub const BELOW_PCT: [u32; 3] = [50, 10, 1];

/// The bucket of a clearing ratio (a fraction of the oracle price).
pub fn bucket(ratio: f64) -> usize {
    if !ratio.is_finite() || ratio <= 0.0 {
        return 0;
    }
    ((ratio * 100.0).floor() as usize).min(BUCKETS - 1)
}

/// One path's keeper tally (see the module doc). Money in quote-native units.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeeperTally {
    /// Takes per clearing bucket (as long as its highest bucket with a take).
    pub clearing: Vec<u64>,
    /// Oracle value of every auction take, and of those below each [`BELOW_PCT`] line.
    pub value: i64,
    pub value_below: [i64; 3],
    /// Per keeper (`[[keepers]]` order; keeper 0 alone without them): takes (auction takes and
    /// takeovers), their oracle value, auctions started or reset, incentives earned (tip+chip).
    pub takes: Vec<u64>,
    pub take_value: Vec<i64>,
    pub kicks: Vec<u64>,
    pub incentives: Vec<i64>,
    /// Auction takes that left part of the lot for later bidders (partial slices).
    #[serde(default)]
    pub partial: u64,
    /// Oracle value of the largest single take.
    #[serde(default)]
    pub largest_take: i64,
    /// Per step (index `step − 1`): takes, and keepers that took at least once.
    #[serde(skip)]
    pub takes_by_step: Vec<u32>,
    #[serde(skip)]
    pub keepers_by_step: Vec<u16>,
    /// Last step each keeper took in (for `keepers_by_step`).
    #[serde(skip)]
    last_step: Vec<u32>,
}

fn slot<T: Default + Clone>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize(i + 1, T::default());
    }
    &mut v[i]
}

impl KeeperTally {
    /// Keeper `k` took a slice worth `oracle_value` at the oracle in step `step` (≥ 1), at a
    /// clearing `ratio` (None for a takeover, which is not priced by an auction).
    pub fn take(&mut self, k: usize, step: u32, oracle_value: i64, ratio: Option<f64>) {
        *slot(&mut self.takes, k) += 1;
        *slot(&mut self.take_value, k) += oracle_value;
        self.largest_take = self.largest_take.max(oracle_value);
        let i = step.saturating_sub(1) as usize;
        *slot(&mut self.takes_by_step, i) += 1;
        if *slot(&mut self.last_step, k) != step {
            self.last_step[k] = step;
            *slot(&mut self.keepers_by_step, i) += 1;
        }
        let Some(r) = ratio else { return };
        *slot(&mut self.clearing, bucket(r)) += 1;
        self.value += oracle_value;
        for (v, pct) in self.value_below.iter_mut().zip(BELOW_PCT) {
            if r * 100.0 < f64::from(pct) {
                *v += oracle_value;
            }
        }
    }

    /// Keeper `k` started or reset an auction and was paid `incentive` by the fund.
    pub fn kick(&mut self, k: usize, incentive: i64) {
        *slot(&mut self.kicks, k) += 1;
        *slot(&mut self.incentives, k) += incentive;
    }

    /// Takes cleared below `pct` % of the oracle.
    pub fn below(&self, pct: u32) -> u64 {
        self.clearing.iter().take(pct as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_zero_to_the_cap() {
        assert_eq!(bucket(0.0), 0);
        assert_eq!(bucket(0.009), 0);
        assert_eq!(bucket(0.011), 1);
        assert_eq!(bucket(0.975), 97);
        assert_eq!(bucket(3.0), BUCKETS - 1);
        assert_eq!(bucket(f64::NAN), 0);
    }

    #[test]
    fn takes_count_per_keeper_step_and_line() {
        let mut t = KeeperTally::default();
        t.take(1, 3, 100, Some(0.005));
        t.take(1, 3, 50, Some(0.95));
        t.take(0, 4, 10, None);
        assert_eq!(t.takes, vec![1, 2]);
        assert_eq!(t.take_value, vec![10, 150]);
        assert_eq!(t.below(1), 1);
        assert_eq!(t.below(100), 2);
        assert_eq!(t.value, 150);
        assert_eq!(t.value_below, [100, 100, 100]);
        assert_eq!(t.takes_by_step, vec![0, 0, 2, 1]);
        assert_eq!(t.keepers_by_step, vec![0, 0, 1, 1]);
    }
}
