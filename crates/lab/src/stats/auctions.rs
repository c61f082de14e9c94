//! Auction clearing prices and keeper participation over all paths: the mergeable sums of the
//! paths' [`KeeperTally`]s and what the summary says of them (the clearing-price
//! distribution against the oracle, the shares cleared below 50 %, 10 % and 1 % of it — the
//! last is the zero-bid count — and each keeper's share of the takes).

use super::vec_i128_str;
use crate::clearing::{KeeperTally, BELOW_PCT, BUCKETS};
use serde::{Deserialize, Serialize};

/// Sums of the paths' keeper tallies (integers: merges are exact).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionStats {
    /// Auction takes per 1 % clearing bucket (`clearing::BUCKETS`).
    pub clearing: Vec<u64>,
    /// Oracle value of the takes: all, and below each `BELOW_PCT` line (quote-native).
    #[serde(with = "vec_i128_str")]
    pub value: Vec<i128>,
    /// Paths with at least one take below 1 % of the oracle.
    pub zero_bid_paths: u64,
    /// Per keeper: takes, their oracle value, starts + resets, incentives earned.
    pub takes: Vec<u64>,
    #[serde(with = "vec_i128_str")]
    pub take_value: Vec<i128>,
    pub kicks: Vec<u64>,
    #[serde(with = "vec_i128_str")]
    pub incentives: Vec<i128>,
    /// Per step, summed over paths: takes, and keepers that took.
    pub takes_by_step: Vec<u64>,
    pub keepers_by_step: Vec<u64>,
}

fn add_into<A: Copy + Default + std::ops::AddAssign, B: Copy + Into<A>>(
    acc: &mut Vec<A>,
    xs: &[B],
) {
    if acc.len() < xs.len() {
        acc.resize(xs.len(), A::default());
    }
    for (a, x) in acc.iter_mut().zip(xs) {
        *a += (*x).into();
    }
}

impl AuctionStats {
    pub fn add(&mut self, t: &KeeperTally) {
        add_into(&mut self.clearing, &t.clearing);
        let v: Vec<i64> = std::iter::once(t.value).chain(t.value_below).collect();
        add_into(&mut self.value, &v);
        self.zero_bid_paths += u64::from(t.below(BELOW_PCT[2]) > 0);
        add_into(&mut self.takes, &t.takes);
        add_into(&mut self.take_value, &t.take_value);
        add_into(&mut self.kicks, &t.kicks);
        add_into(&mut self.incentives, &t.incentives);
        add_into(&mut self.takes_by_step, &t.takes_by_step);
        add_into(&mut self.keepers_by_step, &t.keepers_by_step);
    }

    pub fn merge(&mut self, o: &AuctionStats) {
        add_into(&mut self.clearing, &o.clearing);
        add_into(&mut self.value, &o.value);
        self.zero_bid_paths += o.zero_bid_paths;
        add_into(&mut self.takes, &o.takes);
        add_into(&mut self.take_value, &o.take_value);
        add_into(&mut self.kicks, &o.kicks);
        add_into(&mut self.incentives, &o.incentives);
        add_into(&mut self.takes_by_step, &o.takes_by_step);
        add_into(&mut self.keepers_by_step, &o.keepers_by_step);
    }

    /// Auction takes in all.
    pub fn priced_takes(&self) -> u64 {
        self.clearing.iter().sum()
    }

    /// Takes below `pct` % of the oracle.
    pub fn below(&self, pct: u32) -> u64 {
        self.clearing.iter().take(pct as usize).sum()
    }

    /// The clearing ratio at quantile `q` (bucket midpoint).
    pub fn quantile(&self, q: f64) -> f64 {
        let n = self.priced_takes();
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n.max(1));
        let mut seen = 0;
        for (k, c) in self.clearing.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return if k + 1 == BUCKETS {
                    k as f64 / 100.0
                } else {
                    (k as f64 + 0.5) / 100.0
                };
            }
        }
        0.0
    }

    /// The summary block, when any keeper took or kicked anything.
    pub fn summary(&self, paths: u64) -> Option<AuctionSummary> {
        let n = paths.max(1) as f64;
        let takes: u64 = self.takes.iter().sum();
        if takes == 0 && self.kicks.iter().all(|k| *k == 0) {
            return None;
        }
        let priced = self.priced_takes();
        let share = |x: u64| x as f64 / priced.max(1) as f64;
        let value = self.value.first().copied().unwrap_or(0);
        let vshare = |i: usize| {
            let v = self.value.get(i).copied().unwrap_or(0);
            v as f64 / value.max(1) as f64
        };
        let usd = |x: i128| crate::units::to_usd(x) / n;
        let keepers = (0..self.takes.len().max(self.kicks.len()))
            .map(|k| {
                let g = |v: &[u64]| v.get(k).copied().unwrap_or(0);
                let gi = |v: &[i128]| v.get(k).copied().unwrap_or(0);
                KeeperShare {
                    takes_mean: g(&self.takes) as f64 / n,
                    take_share: g(&self.takes) as f64 / takes.max(1) as f64,
                    value_mean: usd(gi(&self.take_value)),
                    kicks_mean: g(&self.kicks) as f64 / n,
                    incentives_mean: usd(gi(&self.incentives)),
                }
            })
            .collect();
        Some(AuctionSummary {
            priced_takes_mean: priced as f64 / n,
            clearing_median: self.quantile(0.5),
            clearing_p10: self.quantile(0.1),
            below_50: share(self.below(BELOW_PCT[0])),
            below_10: share(self.below(BELOW_PCT[1])),
            zero_bids_mean: self.below(BELOW_PCT[2]) as f64 / n,
            zero_bid_share: share(self.below(BELOW_PCT[2])),
            p_zero_bid: self.zero_bid_paths as f64 / n,
            value_below: [vshare(1), vshare(2), vshare(3)],
            keepers,
        })
    }
}

/// One keeper's part, per path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeeperShare {
    /// Takes (auction takes and takeovers) per path, and its share of all takes.
    pub takes_mean: f64,
    pub take_share: f64,
    /// Oracle value of what it took, USD per path.
    pub value_mean: f64,
    /// Auctions it started or reset per path, and the incentives (tip + chip) it was paid.
    pub kicks_mean: f64,
    pub incentives_mean: f64,
}

/// Auction clearing prices against the oracle and keeper participation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuctionSummary {
    /// Auction takes per path.
    pub priced_takes_mean: f64,
    /// Clearing price / oracle: median and 10th percentile over takes (1 % buckets).
    pub clearing_median: f64,
    pub clearing_p10: f64,
    /// Shares of the takes cleared below 50 % and 10 % of the oracle.
    pub below_50: f64,
    pub below_10: f64,
    /// Zero bids (cleared below 1 % of the oracle): per path, share of takes, share of paths.
    pub zero_bids_mean: f64,
    pub zero_bid_share: f64,
    pub p_zero_bid: f64,
    /// Shares of the taken oracle value cleared below 50 %, 10 %, 1 %.
    pub value_below: [f64; 3],
    /// Per keeper, in `[[keepers]]` order (keeper 0 alone without them).
    pub keepers: Vec<KeeperShare>,
}

impl AuctionSummary {
    /// The summary table's rows.
    pub fn rows(&self) -> Vec<(String, String)> {
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        let mut rows = Vec::new();
        if self.priced_takes_mean > 0.0 {
            rows.push((
                "auction clearing".to_string(),
                format!(
                    "{:.2} takes / path; price/oracle median {}, p10 {}; below 50% {}, below 10% {}",
                    self.priced_takes_mean,
                    pct(self.clearing_median),
                    pct(self.clearing_p10),
                    pct(self.below_50),
                    pct(self.below_10)
                ),
            ));
            rows.push((
                "zero bids".to_string(),
                format!(
                    "{:.2} / path below 1% of oracle ({} of takes, {} of value; P(any) {})",
                    self.zero_bids_mean,
                    pct(self.zero_bid_share),
                    pct(self.value_below[2]),
                    pct(self.p_zero_bid)
                ),
            ));
        }
        // One keeper takes everything: nothing to split.
        if self.keepers.len() < 2 {
            return rows;
        }
        let parts: Vec<String> = self
            .keepers
            .iter()
            .enumerate()
            .map(|(k, s)| format!("k{k} {} ({:.1} kicks)", pct(s.take_share), s.kicks_mean))
            .collect();
        rows.push(("keeper takes".to_string(), parts.join(", ")));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tally(takes: &[(u8, u8, u32, u16)]) -> KeeperTally {
        let mut t = KeeperTally::default();
        for &(k, step, value, ratio) in takes {
            let r = (ratio != u16::MAX).then(|| f64::from(ratio) / 1000.0);
            t.take(
                usize::from(k % 4),
                u32::from(step % 9) + 1,
                i64::from(value),
                r,
            );
            if value % 3 == 0 {
                t.kick(usize::from(k % 4), i64::from(value / 7));
            }
        }
        t
    }

    proptest! {
        /// Any split of the paths into shards merges into exactly the one-pass sums.
        #[test]
        fn merging_shards_equals_one_pass(
            paths in prop::collection::vec(
                prop::collection::vec((any::<u8>(), any::<u8>(), 0u32..1_000_000, any::<u16>()), 0..12),
                1..10,
            ),
            cut in 0usize..10,
        ) {
            let tallies: Vec<KeeperTally> = paths.iter().map(|p| tally(p)).collect();
            let mut whole = AuctionStats::default();
            tallies.iter().for_each(|t| whole.add(t));
            let cut = cut.min(tallies.len());
            let (mut a, mut b) = (AuctionStats::default(), AuctionStats::default());
            tallies[..cut].iter().for_each(|t| a.add(t));
            tallies[cut..].iter().for_each(|t| b.add(t));
            b.merge(&a);
            prop_assert_eq!(&b, &whole);
            // Every take lands in one bucket: the shares below each line are monotone.
            prop_assert!(whole.below(1) <= whole.below(10));
            prop_assert!(whole.below(10) <= whole.below(50));
            prop_assert!(whole.below(50) <= whole.priced_takes());
        }
    }

    #[test]
    fn summary_reads_shares_and_keepers() {
        let mut s = AuctionStats::default();
        s.add(&tally(&[
            (0, 1, 100, 5),
            (1, 1, 300, 980),
            (1, 2, 100, 400),
        ]));
        let x = s.summary(1).expect("takes");
        assert!((x.zero_bid_share - 1.0 / 3.0).abs() < 1e-12, "{x:?}");
        assert!((x.below_50 - 2.0 / 3.0).abs() < 1e-12, "{x:?}");
        assert_eq!(x.keepers.len(), 2);
        assert!((x.keepers[1].take_share - 2.0 / 3.0).abs() < 1e-12);
        assert!((x.value_below[2] - 0.2).abs() < 1e-12, "{x:?}");
        assert_eq!(x.clearing_median, 0.405);
    }
}
