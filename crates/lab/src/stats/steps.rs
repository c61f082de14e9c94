//! Per-step series for the report's time charts, mergeable exactly across shards: liquidations
//! and liquidated volume per step (sums over paths), the share of accounts below their
//! initial and maintenance requirements and their maintenance-headroom bins at sampled
//! steps, and the attacker's timeline
//! (capital spent, quote taken, position notional and marked profit as per-step quantile
//! bands, with the step of each attack phase per path).
//!
//! Every field is an integer sum or a count histogram, so `merge` in any order gives the same
//! aggregate as one run.

use super::BandHist;
use serde::{Deserialize, Serialize};

pub use crate::step_record::{
    headroom_bin, health_stride, AttackMark, HeadroomCount, HealthCount, OracleMark, StepRecord,
    HEADROOM_EDGES, HEADROOM_LABELS, HEALTH_POINTS, ORACLE_ASSETS, PHASES,
};

/// A band histogram of a signed quantity: negatives by magnitude, the rest as is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBand {
    pub neg: BandHist,
    pub pos: BandHist,
}

impl SignedBand {
    pub fn add(&mut self, x: i64) {
        if x < 0 {
            self.neg.add(x.saturating_neg());
        } else {
            self.pos.add(x);
        }
    }
    pub fn merge(&mut self, o: &SignedBand) {
        self.neg.merge(&o.neg);
        self.pos.merge(&o.pos);
    }
    /// Value at rank `⌈q·n⌉` from the most negative, native units (bucket midpoints).
    pub fn quantile(&self, q: f64) -> f64 {
        let (nn, np) = (self.neg.count(), self.pos.count());
        let n = nn + np;
        if n == 0 {
            return 0.0;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        if rank <= nn {
            -self.neg.at_rank(nn - rank + 1)
        } else {
            self.pos.at_rank(rank - nn)
        }
    }
}

/// Attacker bands at one sampled step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackBand {
    pub spent: BandHist,
    pub taken: BandHist,
    pub notional: BandHist,
    pub pnl: SignedBand,
}

/// The mergeable per-step series of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepAgg {
    /// Σ over paths of the liquidations in step `s + 1`.
    pub liquidations: Vec<u64>,
    /// Σ over paths of the liquidated notional in step `s + 1` (quote-native).
    #[serde(with = "super::vec_i128_str")]
    pub liq_volume: Vec<i128>,
    /// Steps between health samples (0 until a path recorded one).
    pub health_stride: u32,
    /// Σ over paths of [`HealthCount`] at each sampled step.
    pub health: Vec<[u64; 3]>,
    /// Σ over paths of [`HeadroomCount`] at steps `0, stride, 2·stride, …`.
    #[serde(default)]
    pub headroom: Vec<[u64; 7]>,
    /// Attacker bands at steps `(j + 1)·band_stride` (the aggregate's band stride).
    pub attack: Vec<AttackBand>,
    /// Per phase of [`PHASES`]: paths on which it happened at step `s + 1`.
    pub phases: [Vec<u64>; 4],
}

fn add_at<T: Copy + std::ops::AddAssign + Default>(acc: &mut Vec<T>, i: usize, x: T) {
    if acc.len() <= i {
        acc.resize(i + 1, T::default());
    }
    acc[i] += x;
}

fn merge_into<T: Copy + std::ops::AddAssign + Default>(acc: &mut Vec<T>, o: &[T]) {
    for (i, x) in o.iter().enumerate() {
        add_at(acc, i, *x);
    }
}

impl StepAgg {
    /// Adds one path; `health_stride` is the stride its health samples were taken at,
    /// `band_stride` the aggregate's.
    pub fn add(&mut self, r: &StepRecord, health_stride: u32, band_stride: u32) {
        merge_into(&mut self.liquidations, &to_u64(&r.liquidations));
        let vol: Vec<i128> = r.liq_volume.iter().map(|v| i128::from(*v)).collect();
        merge_into(&mut self.liq_volume, &vol);
        if !r.health.is_empty() {
            self.health_stride = health_stride;
        }
        let health: Vec<[u64; 3]> = r.health.iter().map(|h| h.map(u64::from)).collect();
        merge_health(&mut self.health, &health);
        let headroom: Vec<[u64; 7]> = r.headroom.iter().map(|h| h.map(u64::from)).collect();
        merge_health(&mut self.headroom, &headroom);
        self.add_attack(r, band_stride as usize);
    }

    fn add_attack(&mut self, r: &StepRecord, stride: usize) {
        if r.attack.is_empty() || stride == 0 {
            return;
        }
        for (k, step) in r.phases().iter().enumerate() {
            if let Some(s) = step {
                add_at(&mut self.phases[k], *s as usize - 1, 1);
            }
        }
        let m = r.attack.len() / stride;
        if self.attack.len() < m {
            self.attack.resize(m, AttackBand::default());
        }
        for (j, band) in self.attack.iter_mut().enumerate().take(m) {
            let mark = r.attack[(j + 1) * stride - 1];
            band.spent.add(mark.spent());
            band.taken.add(mark.taken);
            band.notional.add(mark.notional);
            band.pnl.add(mark.pnl);
        }
    }

    pub fn merge(&mut self, o: &StepAgg) {
        merge_into(&mut self.liquidations, &o.liquidations);
        merge_into(&mut self.liq_volume, &o.liq_volume);
        if self.health_stride == 0 {
            self.health_stride = o.health_stride;
        }
        merge_health(&mut self.health, &o.health);
        merge_health(&mut self.headroom, &o.headroom);
        if self.attack.len() < o.attack.len() {
            self.attack.resize(o.attack.len(), AttackBand::default());
        }
        for (a, b) in self.attack.iter_mut().zip(&o.attack) {
            a.spent.merge(&b.spent);
            a.taken.merge(&b.taken);
            a.notional.merge(&b.notional);
            a.pnl.merge(&b.pnl);
        }
        for (a, b) in self.phases.iter_mut().zip(&o.phases) {
            merge_into(a, b);
        }
    }

    /// The median step (1-based) of phase `k` over the paths on which it happened, and on
    /// how many paths it did.
    pub fn phase_median(&self, k: usize) -> Option<(u32, u64)> {
        let counts = self.phases.get(k)?;
        let n: u64 = counts.iter().sum();
        let half = n.div_ceil(2);
        let mut seen = 0;
        let i = counts.iter().position(|c| {
            seen += c;
            n > 0 && seen >= half
        })?;
        Some((i as u32 + 1, n))
    }
}

/// Adds sampled count arrays element-wise (health counts, headroom bins).
fn merge_health<const N: usize>(acc: &mut Vec<[u64; N]>, o: &[[u64; N]]) {
    if acc.len() < o.len() {
        acc.resize(o.len(), [0; N]);
    }
    for (a, b) in acc.iter_mut().zip(o) {
        for (x, y) in a.iter_mut().zip(b) {
            *x += *y;
        }
    }
}

fn to_u64(v: &[u32]) -> Vec<u64> {
    v.iter().map(|x| u64::from(*x)).collect()
}

/// A scenario fault active on steps `[from_step, to_step)`, for the time charts' shading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultWindow {
    pub from_step: u32,
    pub to_step: u32,
    /// What it is: "manipulation ×25 (MNGO source 0)", "keeper outage", "chain halt", …
    pub label: String,
}

/// Every fixed window of `[faults]`: oracle faults, keeper outage windows and chain faults.
/// Random outages and the gas process differ by path and are not windows.
pub fn fault_windows(f: &crate::scenario::Faults) -> Vec<FaultWindow> {
    use crate::scenario::oracle::OracleFault as O;
    let mut out = Vec::new();
    for o in &f.oracle {
        let (asset, source, from_step, to_step) = o.parts();
        let what = match o {
            O::Outage { .. } => "oracle outage".to_string(),
            O::Latency { lag_steps, .. } => format!("oracle latency {lag_steps} steps"),
            O::Manipulation { factor, .. } => format!("manipulation ×{factor}"),
            O::Freeze { .. } => "frozen feed".to_string(),
        };
        let on = asset.as_deref().unwrap_or("every asset");
        out.push(FaultWindow {
            from_step,
            to_step,
            label: format!("{what} ({on}, source {source})"),
        });
    }
    for w in &f.keeper_outage.windows {
        out.push(FaultWindow {
            from_step: w[0],
            to_step: w[1],
            label: "keeper outage".into(),
        });
    }
    for c in &f.chain {
        let label = match (c.halted, c.congestion > 0.0) {
            (true, _) => "chain halt".to_string(),
            (false, true) => format!("chain congestion {}", c.congestion),
            (false, false) => "chain window".to_string(),
        };
        out.push(FaultWindow {
            from_step: c.from_step,
            to_step: c.to_step,
            label,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(deposited: i64, spot: i64, taken: i64, pnl: i64) -> AttackMark {
        AttackMark {
            deposited,
            spot_spent: spot,
            gas: 1,
            taken,
            notional: 10 * deposited,
            pnl,
        }
    }

    fn path(k: i64) -> StepRecord {
        StepRecord {
            liquidations: vec![0, k as u32, 2],
            liq_volume: vec![0, 1_000 * k, 5],
            health: vec![[4, k as u32, 1]],
            headroom: vec![[0, 0, 0, 0, 0, 0, 4], [1, k as u32, 0, 0, 0, 0, 3]],
            oracle: Vec::new(),
            attack: vec![
                mark(100, 0, 0, -1),
                mark(100, 50 * k, 0, -50 * k),
                mark(100, 50 * k, 300, 150 - 50 * k),
                mark(100, 50 * k, 300 + k, 150),
            ],
        }
    }

    #[test]
    fn headroom_bins_split_at_their_edges() {
        let cases = [
            (-0.01, 0),
            (0.0, 1),
            (0.099, 1),
            (0.10, 2),
            (0.3, 3),
            (0.5, 4),
            (1.5, 5),
            (2.0, 6),
            (50.0, 6),
        ];
        for (h, bin) in cases {
            assert_eq!(headroom_bin(h), bin, "headroom {h}");
        }
        assert_eq!(HEADROOM_LABELS.len(), HEADROOM_EDGES.len() + 1);
    }

    #[test]
    fn phases_are_the_first_deposit_pump_borrow_and_last_take() {
        assert_eq!(path(2).phases(), [Some(1), Some(2), Some(3), Some(4)]);
        // No later take: the last take is the first borrow; no spot bought: no pump.
        assert_eq!(path(0).phases(), [Some(1), None, Some(3), Some(3)]);
    }

    #[test]
    fn shards_merge_to_the_whole_and_bands_read_signed_quantiles() {
        let mut whole = StepAgg::default();
        let (mut a, mut b) = (StepAgg::default(), StepAgg::default());
        for k in 0..6 {
            whole.add(&path(k), 5, 2);
            if k % 2 == 0 { &mut a } else { &mut b }.add(&path(k), 5, 2);
        }
        b.merge(&a);
        assert_eq!(b, whole);
        assert_eq!(whole.liquidations, [0, 15, 12]);
        assert_eq!(whole.liq_volume, [0, 15_000, 30]);
        assert_eq!(whole.health, [[24, 15, 6]]);
        assert_eq!(
            whole.headroom,
            [[0, 0, 0, 0, 0, 0, 24], [6, 15, 0, 0, 0, 0, 18]]
        );
        assert_eq!(whole.health_stride, 5);
        // Bands at steps 2 and 4; at step 2 the marked profit is −50·k, k = 0..5.
        assert_eq!(whole.attack.len(), 2);
        let p = &whole.attack[0].pnl;
        assert_eq!(p.quantile(0.0), -band_mid(250), "the most negative: k = 5");
        assert_eq!(p.quantile(1.0), 0.0, "the top rank is k = 0's zero");
        // Rank 3 of 6 from the bottom: −250, −200, −150.
        assert_eq!(p.quantile(0.5), -band_mid(150));
        assert!((p.quantile(0.5) + 150.0).abs() <= 150.0 * 0.025);
        assert_eq!(whole.phase_median(1), Some((2, 5)), "k = 0 never pumps");
        assert_eq!(whole.phase_median(3), Some((4, 6)));
    }

    /// The band histogram's bucket midpoint for `x`.
    fn band_mid(x: i64) -> f64 {
        let mut h = BandHist::default();
        h.add(x);
        h.at_rank(1)
    }
}
