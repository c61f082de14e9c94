//! Streaming, mergeable aggregates and the run summary.
//!
//! Everything an [`Aggregate`] holds is an integer (counts, sums in quote-native units, bucket
//! counts), so merging is exact, associative and commutative: any split of the paths into
//! threads or shards gives bit-for-bit the same aggregate, and therefore the same summary.
//! Memory is bounded independently of the number of paths.
//!
//! Quantiles come from a log-bucketed histogram (DDSketch-style, Masson, Rim & Lee 2019):
//! bucket `k` holds values in `[γ^k, γ^{k+1})` quote-native units with `γ = 1.01`, plus an exact
//! bucket for zero. Each bucket keeps its count, exact sum, min and max. A quantile is the
//! geometric midpoint of the bucket holding the rank `⌈q·n⌉`, clamped to that bucket's exact
//! min/max: relative error ≤ `√γ − 1 ≈ 0.5%`, and exact when the bucket holds one distinct value
//! (always true for zero). CVaR uses exact bucket sums for the buckets above the VaR bucket and
//! the VaR bucket's mean for its part of the tail: the same ≤ 0.5% bound. Each histogram also
//! keeps its 1,024 largest values exactly (merged by union and truncation, still exact), so tail
//! quantiles and CVaR are exact whenever the tail fits (VaR99/CVaR99 up to ~100,000 paths);
//! `quantiles_exact` in the summary says which case applied. With at most ~4,400 buckets per
//! histogram (1 µUSD … 9.2e12 USD) plus 1,024 values, memory stays bounded.
//!
//! Confidence intervals (each named in the summary's `ci_methods`): Wilson score interval for
//! probabilities (Wilson 1927); distribution-free order-statistic intervals for VaR, a seeded
//! percentile bootstrap for CVaR and the bad-debt mean (see [`tail`]); for the other means of
//! non-negative counts, the normal approximation `mean ± 1.96·s/√n` clipped at 0.

use crate::units::to_usd;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod attack;
pub mod auctions;
pub mod contagion;
pub mod controller;
pub mod markets;
pub mod numeraire;
pub mod steps;
pub mod tail;
pub use tail::Interval;

/// Bucket growth factor of the histograms.
pub const GAMMA: f64 = 1.01;
/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

mod i128_str {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i128, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

pub(crate) mod vec_i128_str {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[i128], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| x.to_string()))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i128>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| s.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}

/// One histogram bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub count: u64,
    #[serde(with = "i128_str")]
    pub sum: i128,
    pub min: i64,
    pub max: i64,
}

/// Largest values kept exactly by each histogram: tail quantiles and CVaR are exact while the
/// tail they need fits (VaR99/CVaR99 up to ~100,000 paths).
pub const TOP_K: usize = 1024;

/// Log-bucketed histogram of non-negative integers (negative values are clamped to 0), plus
/// the [`TOP_K`] largest values exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHistogram {
    pub zeros: u64,
    pub buckets: BTreeMap<i32, Bucket>,
    /// The largest positive values, descending, at most [`TOP_K`].
    #[serde(default)]
    pub top: Vec<i64>,
}

impl LogHistogram {
    pub(crate) fn index(x: i64) -> i32 {
        (libm::log(x as f64) / libm::log(GAMMA)).floor() as i32
    }
    pub fn count(&self) -> u64 {
        self.zeros + self.buckets.values().map(|b| b.count).sum::<u64>()
    }
    pub fn add(&mut self, x: i64) {
        if x <= 0 {
            self.zeros += 1;
            return;
        }
        if self.top.len() < TOP_K || x > *self.top.last().expect("full") {
            let at = self.top.partition_point(|&v| v >= x);
            self.top.insert(at, x);
            self.top.truncate(TOP_K);
        }
        let b = self.buckets.entry(Self::index(x)).or_insert(Bucket {
            count: 0,
            sum: 0,
            min: x,
            max: x,
        });
        b.count += 1;
        b.sum += x as i128;
        b.min = b.min.min(x);
        b.max = b.max.max(x);
    }
    pub fn merge(&mut self, o: &LogHistogram) {
        self.zeros += o.zeros;
        self.top.extend_from_slice(&o.top);
        self.top.sort_unstable_by(|a, b| b.cmp(a));
        self.top.truncate(TOP_K);
        for (k, ob) in &o.buckets {
            match self.buckets.get_mut(k) {
                Some(b) => {
                    b.count += ob.count;
                    b.sum += ob.sum;
                    b.min = b.min.min(ob.min);
                    b.max = b.max.max(ob.max);
                }
                None => {
                    self.buckets.insert(*k, ob.clone());
                }
            }
        }
    }
    fn estimate(k: i32, b: &Bucket) -> f64 {
        if b.min == b.max {
            return b.min as f64;
        }
        libm::pow(GAMMA, k as f64 + 0.5).clamp(b.min as f64, b.max as f64)
    }
    /// The value at rank `⌈q·n⌉` (lower quantile, as `numpy` with `method="inverted_cdf"`).
    pub fn quantile(&self, q: f64) -> f64 {
        let n = self.count();
        if n == 0 {
            return 0.0;
        }
        self.at_rank(((q * n as f64).ceil() as u64).clamp(1, n))
    }
    /// The value at 1-based `rank` (the order statistic `X_(rank)`): exact in the zero bucket
    /// and the kept top, else its bucket's estimate.
    pub fn at_rank(&self, rank: u64) -> f64 {
        let n = self.count();
        if n == 0 {
            return 0.0;
        }
        let rank = rank.clamp(1, n);
        if rank <= self.zeros {
            return 0.0;
        }
        if let Some(v) = self.exact_at(rank) {
            return v as f64;
        }
        let mut seen = self.zeros;
        for (k, b) in &self.buckets {
            seen += b.count;
            if seen >= rank {
                return Self::estimate(*k, b);
            }
        }
        self.buckets.values().last().map_or(0.0, |b| b.max as f64)
    }
    /// Mean of the values at ranks `⌈q·n⌉ … n` (expected shortfall, CVaR_q).
    pub fn tail_mean(&self, q: f64) -> f64 {
        let n = self.count();
        if n == 0 {
            return 0.0;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let tail = n - rank + 1;
        if self.all_positives_kept() || tail as usize <= self.top.len() {
            let k = (tail as usize).min(self.top.len());
            let sum: i128 = self.top[..k].iter().map(|&v| v as i128).sum();
            return sum as f64 / tail as f64;
        }
        // Walk from the top.
        let mut need = tail;
        let mut sum = 0.0f64;
        for b in self.buckets.values().rev() {
            if need == 0 {
                break;
            }
            if b.count <= need {
                sum += b.sum as f64;
                need -= b.count;
            } else {
                let mean = if b.min == b.max {
                    b.min as f64
                } else {
                    (b.sum as f64 / b.count as f64).clamp(b.min as f64, b.max as f64)
                };
                sum += mean * need as f64;
                need = 0;
            }
        }
        // Whatever is left comes from the zero bucket.
        sum / tail as f64
    }
    /// True while every positive value is in `top` (then every statistic is exact).
    fn all_positives_kept(&self) -> bool {
        self.top.len() as u64 == self.count() - self.zeros
    }
    /// The value at 1-based `rank` if it is known exactly.
    fn exact_at(&self, rank: u64) -> Option<i64> {
        let from_top = (self.count() - rank) as usize;
        if from_top < self.top.len() {
            Some(self.top[from_top])
        } else {
            None
        }
    }
    /// Whether `quantile(q)` and `tail_mean(q)` are exact.
    pub fn exact_for(&self, q: f64) -> bool {
        let n = self.count();
        if n == 0 || self.all_positives_kept() {
            return true;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        rank <= self.zeros || ((n - rank + 1) as usize) <= self.top.len()
    }
    pub fn max(&self) -> i64 {
        self.buckets.values().last().map_or(0, |b| b.max)
    }
    pub fn min(&self) -> i64 {
        if self.zeros > 0 {
            0
        } else {
            self.buckets.values().next().map_or(0, |b| b.min)
        }
    }
}

/// Paths `0..SAMPLE_PATHS` (global indices, so shards agree) keep their price path for the
/// report's sample-path chart.
pub const SAMPLE_PATHS: u64 = 5;

/// One sample price path: the model price of each asset at steps `0, stride, 2·stride, …`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePath {
    pub path: u64,
    pub stride: u32,
    /// `prices[k][asset]`.
    pub prices: Vec<Vec<f64>>,
    /// Path 0 with an `[oracle]`: per asset, its sources and aggregate at sampled steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oracle: Vec<Vec<steps::OracleMark>>,
}

// Prices are finite (the models refuse anything else): equality is reflexive.
impl Eq for SamplePath {}

/// Growth factor of the per-step band histograms (relative error ≤ √1.05 − 1 ≈ 2.5%).
pub const BAND_GAMMA: f64 = 1.05;
/// At most this many steps carry band histograms (a stride keeps long horizons cheap).
pub const BAND_POINTS: usize = 200;

/// A small log-bucket histogram (counts only) for per-step quantile bands: mergeable exactly,
/// quantiles within `√BAND_GAMMA − 1` relative error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandHist {
    pub zeros: u64,
    pub buckets: BTreeMap<i32, u64>,
}

impl BandHist {
    pub fn add(&mut self, x: i64) {
        if x <= 0 {
            self.zeros += 1;
        } else {
            let k = (libm::log(x as f64) / libm::log(BAND_GAMMA)).floor() as i32;
            *self.buckets.entry(k).or_insert(0) += 1;
        }
    }
    pub fn merge(&mut self, o: &BandHist) {
        self.zeros += o.zeros;
        for (k, c) in &o.buckets {
            *self.buckets.entry(*k).or_insert(0) += c;
        }
    }
    /// Values counted.
    pub fn count(&self) -> u64 {
        self.zeros + self.buckets.values().sum::<u64>()
    }
    /// Value at rank `⌈q·n⌉` (bucket geometric midpoint), in native units.
    pub fn quantile(&self, q: f64) -> f64 {
        let n = self.count();
        if n == 0 {
            return 0.0;
        }
        self.at_rank(((q * n as f64).ceil() as u64).clamp(1, n))
    }
    /// The `rank`-th smallest value (1-based; bucket geometric midpoint), in native units.
    pub fn at_rank(&self, rank: u64) -> f64 {
        if rank <= self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for (k, c) in &self.buckets {
            seen += c;
            if seen >= rank {
                return libm::pow(BAND_GAMMA, *k as f64 + 0.5);
            }
        }
        0.0
    }
}

/// Exact sum with its sum of squares (squares in whole quote units, i.e. USD², to stay far
/// from overflow).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moments {
    #[serde(with = "i128_str")]
    pub sum: i128,
    #[serde(with = "i128_str")]
    pub sum_sq_units: i128,
}

impl Moments {
    /// `x` in native units; `unit` = native units per squared unit (1e6 for USD).
    pub(crate) fn add(&mut self, x: i64, unit: i64) {
        self.sum += x as i128;
        let w = (x as i128 + unit as i128 / 2).div_euclid(unit as i128);
        self.sum_sq_units += w * w;
    }
    fn merge(&mut self, o: &Moments) {
        self.sum += o.sum;
        self.sum_sq_units += o.sum_sq_units;
    }
    /// (mean, 95% half-width) in units of `unit` native units.
    pub(crate) fn mean_ci(&self, n: u64, unit: i64) -> (f64, f64) {
        if n == 0 {
            return (0.0, 0.0);
        }
        let nf = n as f64;
        let mean = self.sum as f64 / unit as f64 / nf;
        if n < 2 {
            return (mean, 0.0);
        }
        let var = ((self.sum_sq_units as f64 - nf * mean * mean) / (nf - 1.0)).max(0.0);
        (mean, Z95 * (var / nf).sqrt())
    }
}

/// Everything the summary needs, as mergeable integers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    pub paths: u64,
    pub insolvent: u64,
    pub depleted: u64,
    pub bad_debt: LogHistogram,
    pub bad_debt_m: Moments,
    pub fund_min: LogHistogram,
    pub fund_final: Moments,
    pub liquidations: Moments,
    pub liq_volume: Moments,
    pub penalties: Moments,
    pub slippage: Moments,
    pub fees_to_fund: Moments,
    pub covered: Moments,
    pub missed_outage: u64,
    pub missed_unprofitable: u64,
    pub refused: u64,
    #[serde(with = "i128_str")]
    pub init_margin: i128,
    #[serde(with = "i128_str")]
    pub open_interest: i128,
    pub outage_steps: u64,
    /// Σ over paths of the insurance fund at the end of step `s + 1` (quote-native).
    #[serde(default, with = "vec_i128_str")]
    pub fund_by_step: Vec<i128>,
    /// Paths whose first bad debt appeared at step `s + 1`.
    #[serde(default)]
    pub first_bad_by_step: Vec<u64>,
    /// Engine mechanisms: ADL haircuts, socialized loss, engine bad debt (per path sums).
    #[serde(default)]
    pub adl: Moments,
    #[serde(default)]
    pub adl_paths: u64,
    #[serde(default)]
    pub socialized: Moments,
    #[serde(default)]
    pub socialized_paths: u64,
    #[serde(default)]
    pub engine_bad_debt: Moments,
    #[serde(default)]
    pub auctions_started: u64,
    #[serde(default)]
    pub auction_resets: u64,
    #[serde(default)]
    pub auctions_stuck: u64,
    #[serde(default)]
    pub blocked: u64,
    #[serde(default)]
    pub breaker_steps: [u64; 4],
    #[serde(default)]
    pub breaker_scope_steps: u64,
    /// Steps between band samples (0 until the first path): band `j` is step `(j+1)·stride`.
    #[serde(default)]
    pub band_stride: u32,
    /// Paths on which the whale dumped.
    #[serde(default)]
    pub whale_dumps: u64,
    #[serde(default)]
    pub lender_withdrawn: Moments,
    #[serde(default)]
    pub lender_refused: u64,
    #[serde(default)]
    pub lender_loss: Moments,
    /// Insurance fund at sampled steps, per-step distribution over paths.
    #[serde(default)]
    pub fund_bands: Vec<BandHist>,
    /// Cumulative bad debt at sampled steps.
    #[serde(default)]
    pub bad_bands: Vec<BandHist>,
    /// Steps with the chain halted, summed over paths.
    #[serde(default)]
    pub chain_halted_steps: u64,
    /// Liquidation sales deferred by the per-step sell cap.
    #[serde(default)]
    pub deferred_sell: Moments,
    /// Funding paid by longs to shorts.
    #[serde(default)]
    pub funding_paid: Moments,
    /// Option lots liquidated, summed over paths.
    #[serde(default)]
    pub option_liquidations: u64,
    /// Bad debt by what the bankrupt accounts held at t0: perps, options, borrows, non-quote
    /// collateral, none of these.
    #[serde(default)]
    pub bad_debt_by_instrument: [Moments; 5],
    /// Unsettled negative equity at the horizon.
    #[serde(default)]
    pub unsettled: Moments,
    /// Trader rules: closes, adds, reopens, refused fills (summed over paths).
    #[serde(default)]
    pub trader_closes: u64,
    #[serde(default)]
    pub trader_adds: u64,
    #[serde(default)]
    pub trader_reopens: u64,
    #[serde(default)]
    pub trader_refused: u64,
    /// Sample price paths (global path indices `< SAMPLE_PATHS`), sorted by path.
    #[serde(default)]
    pub sample_paths: Vec<SamplePath>,
    /// Per step: paths whose most severe breaker is Normal, Cautious, Halted, Recovering.
    #[serde(default)]
    pub breaker_by_step: Vec<[u64; 4]>,
    /// Asset symbols, in order (set by the runner; for chart labels).
    #[serde(default)]
    pub asset_symbols: Vec<String>,
    /// Unix milliseconds of step 0 when the run replays dated data (set by the runner).
    #[serde(default)]
    pub start_ms: Option<i64>,
    /// Bad debt by market: totals and the worst paths' splits.
    #[serde(default)]
    pub market_loss: markets::MarketLoss,
    /// Auction clearing prices and keeper participation.
    #[serde(default)]
    pub auctions: auctions::AuctionStats,
    /// Cost and profit of attack (paths with attackers).
    #[serde(default)]
    pub attack: attack::AttackAgg,
    /// What the controller did (paths with `[controller]`).
    #[serde(default)]
    pub controller: crate::controller::ControllerTally,
    /// The book's margin, open interest and equity at sampled steps.
    #[serde(default)]
    pub efficiency: crate::efficiency::EfficiencyAgg,
    /// USD values under a de-pegging numeraire (paths with `[numeraire]`).
    #[serde(default)]
    pub depeg: numeraire::DepegAgg,
    /// Per-step liquidations, health counts and the attacker's timeline.
    #[serde(default)]
    pub steps: steps::StepAgg,
    /// The scenario's fault windows (set by the runner; for the time charts' markers).
    #[serde(default)]
    pub fault_windows: Vec<steps::FaultWindow>,
}

const USD: i64 = 1_000_000;

impl Aggregate {
    pub fn add(&mut self, r: &crate::record::PathResult) {
        self.paths += 1;
        self.auctions.add(&r.keepers);
        self.attack.add(&r.attack);
        controller::merge(&mut self.controller, &r.controller);
        self.depeg.add(&r.depeg);
        self.efficiency.add(&r.efficiency);
        self.market_loss
            .add(r.path, r.bad_debt, &r.bad_debt_by_market);
        if r.bad_debt > 0 {
            self.insolvent += 1;
        }
        if r.fund_min <= 0 {
            self.depleted += 1;
        }
        self.bad_debt.add(r.bad_debt);
        self.bad_debt_m.add(r.bad_debt, USD);
        self.fund_min.add(r.fund_min);
        self.fund_final.add(r.fund_final, USD);
        self.liquidations.add(r.liquidations as i64, 1);
        self.liq_volume.add(r.liq_volume, USD);
        self.penalties.add(r.penalties, USD);
        self.slippage.add(r.slippage, USD);
        self.fees_to_fund.add(r.fees_to_fund, USD);
        self.covered.add(r.covered, USD);
        self.missed_outage += r.missed_outage;
        self.missed_unprofitable += r.missed_unprofitable;
        self.refused += r.refused;
        self.init_margin += r.init_margin as i128;
        self.open_interest += r.open_interest as i128;
        self.outage_steps += r.outage_steps as u64;
        if self.fund_by_step.len() < r.fund_path.len() {
            self.fund_by_step.resize(r.fund_path.len(), 0);
        }
        for (acc, f) in self.fund_by_step.iter_mut().zip(&r.fund_path) {
            *acc += *f as i128;
        }
        self.adl.add(r.adl, USD);
        self.adl_paths += u64::from(r.adl > 0);
        self.socialized.add(r.socialized, USD);
        self.socialized_paths += u64::from(r.socialized > 0);
        self.engine_bad_debt.add(r.engine_bad_debt, USD);
        self.auctions_started += r.auctions_started;
        self.auction_resets += r.auction_resets;
        self.auctions_stuck += r.auctions_stuck;
        self.blocked += r.blocked;
        for (a, b) in self.breaker_steps.iter_mut().zip(r.breaker_steps) {
            *a += b;
        }
        self.breaker_scope_steps += r.breaker_scope_steps;
        self.whale_dumps += u64::from(r.whale_dump_step.is_some());
        self.lender_withdrawn.add(r.lender_withdrawn, USD);
        self.lender_refused += r.lender_refused;
        self.lender_loss.add(r.lender_loss, USD);
        if self.band_stride == 0 && !r.fund_path.is_empty() {
            self.band_stride = r.fund_path.len().div_ceil(BAND_POINTS) as u32;
        }
        if self.band_stride > 0 {
            let stride = self.band_stride as usize;
            let m = r.fund_path.len() / stride;
            if self.fund_bands.len() < m {
                self.fund_bands.resize(m, BandHist::default());
                self.bad_bands.resize(m, BandHist::default());
            }
            for j in 0..m {
                let i = (j + 1) * stride - 1;
                self.fund_bands[j].add(r.fund_path[i]);
                self.bad_bands[j].add(r.bad_path.get(i).copied().unwrap_or(0));
            }
        }
        let health_stride = steps::health_stride(r.fund_path.len() as u32);
        self.steps.add(&r.steps, health_stride, self.band_stride);
        self.chain_halted_steps += r.chain_halted_steps as u64;
        self.deferred_sell.add(r.deferred_sell, USD);
        self.unsettled.add(r.unsettled, USD);
        self.funding_paid.add(r.funding_paid, USD);
        self.option_liquidations += r.option_liquidations;
        let parts = [
            r.bad_debt_perp,
            r.bad_debt_option,
            r.bad_debt_borrow,
            r.bad_debt_collateral,
            r.bad_debt_unheld,
        ];
        for (m, x) in self.bad_debt_by_instrument.iter_mut().zip(parts) {
            m.add(x, USD);
        }
        self.trader_closes += r.trader_closes;
        self.trader_adds += r.trader_adds;
        self.trader_reopens += r.trader_reopens;
        self.trader_refused += r.trader_refused;
        if !r.price_samples.is_empty() {
            self.add_sample(SamplePath {
                path: r.path,
                stride: crate::record::sample_stride(r.fund_path.len() as u32),
                prices: r.price_samples.clone(),
                oracle: r.steps.oracle.clone(),
            });
        }
        if self.breaker_by_step.len() < r.mode_path.len() {
            self.breaker_by_step.resize(r.mode_path.len(), [0; 4]);
        }
        for (acc, m) in self.breaker_by_step.iter_mut().zip(&r.mode_path) {
            acc[*m as usize & 3] += 1;
        }
        if let Some(s) = r.first_bad_step {
            let i = s as usize - 1;
            if self.first_bad_by_step.len() <= i {
                self.first_bad_by_step.resize(i + 1, 0);
            }
            self.first_bad_by_step[i] += 1;
        }
    }
    fn add_sample(&mut self, sp: SamplePath) {
        if let Err(at) = self.sample_paths.binary_search_by_key(&sp.path, |x| x.path) {
            self.sample_paths.insert(at, sp);
        }
    }
    pub fn merge(&mut self, o: &Aggregate) {
        self.auctions.merge(&o.auctions);
        self.attack.merge(&o.attack);
        controller::merge(&mut self.controller, &o.controller);
        self.depeg.merge(&o.depeg);
        self.efficiency.merge(&o.efficiency);
        self.market_loss.merge(&o.market_loss);
        if self.start_ms.is_none() {
            self.start_ms = o.start_ms;
        }
        if self.asset_symbols.is_empty() {
            self.asset_symbols = o.asset_symbols.clone();
        }
        if self.fault_windows.is_empty() {
            self.fault_windows = o.fault_windows.clone();
        }
        self.steps.merge(&o.steps);
        self.chain_halted_steps += o.chain_halted_steps;
        self.deferred_sell.merge(&o.deferred_sell);
        self.unsettled.merge(&o.unsettled);
        self.funding_paid.merge(&o.funding_paid);
        self.option_liquidations += o.option_liquidations;
        for (m, x) in self
            .bad_debt_by_instrument
            .iter_mut()
            .zip(&o.bad_debt_by_instrument)
        {
            m.merge(x);
        }
        self.trader_closes += o.trader_closes;
        self.trader_adds += o.trader_adds;
        self.trader_reopens += o.trader_reopens;
        self.trader_refused += o.trader_refused;
        for sp in &o.sample_paths {
            self.add_sample(sp.clone());
        }
        if self.breaker_by_step.len() < o.breaker_by_step.len() {
            self.breaker_by_step.resize(o.breaker_by_step.len(), [0; 4]);
        }
        for (a, b) in self.breaker_by_step.iter_mut().zip(&o.breaker_by_step) {
            for k in 0..4 {
                a[k] += b[k];
            }
        }
        self.paths += o.paths;
        self.insolvent += o.insolvent;
        self.depleted += o.depleted;
        self.bad_debt.merge(&o.bad_debt);
        self.bad_debt_m.merge(&o.bad_debt_m);
        self.fund_min.merge(&o.fund_min);
        self.fund_final.merge(&o.fund_final);
        self.liquidations.merge(&o.liquidations);
        self.liq_volume.merge(&o.liq_volume);
        self.penalties.merge(&o.penalties);
        self.slippage.merge(&o.slippage);
        self.fees_to_fund.merge(&o.fees_to_fund);
        self.covered.merge(&o.covered);
        self.missed_outage += o.missed_outage;
        self.missed_unprofitable += o.missed_unprofitable;
        self.refused += o.refused;
        self.init_margin += o.init_margin;
        self.open_interest += o.open_interest;
        self.outage_steps += o.outage_steps;
        if self.fund_by_step.len() < o.fund_by_step.len() {
            self.fund_by_step.resize(o.fund_by_step.len(), 0);
        }
        for (acc, f) in self.fund_by_step.iter_mut().zip(&o.fund_by_step) {
            *acc += *f;
        }
        self.adl.merge(&o.adl);
        self.adl_paths += o.adl_paths;
        self.socialized.merge(&o.socialized);
        self.socialized_paths += o.socialized_paths;
        self.engine_bad_debt.merge(&o.engine_bad_debt);
        self.auctions_started += o.auctions_started;
        self.auction_resets += o.auction_resets;
        self.auctions_stuck += o.auctions_stuck;
        self.blocked += o.blocked;
        for (a, b) in self.breaker_steps.iter_mut().zip(o.breaker_steps) {
            *a += b;
        }
        self.breaker_scope_steps += o.breaker_scope_steps;
        self.whale_dumps += o.whale_dumps;
        self.lender_withdrawn.merge(&o.lender_withdrawn);
        self.lender_refused += o.lender_refused;
        self.lender_loss.merge(&o.lender_loss);
        if self.band_stride == 0 {
            self.band_stride = o.band_stride;
        }
        if self.fund_bands.len() < o.fund_bands.len() {
            self.fund_bands
                .resize(o.fund_bands.len(), BandHist::default());
            self.bad_bands
                .resize(o.bad_bands.len(), BandHist::default());
        }
        for (a, b) in self.fund_bands.iter_mut().zip(&o.fund_bands) {
            a.merge(b);
        }
        for (a, b) in self.bad_bands.iter_mut().zip(&o.bad_bands) {
            a.merge(b);
        }
        if self.first_bad_by_step.len() < o.first_bad_by_step.len() {
            self.first_bad_by_step.resize(o.first_bad_by_step.len(), 0);
        }
        for (acc, c) in self.first_bad_by_step.iter_mut().zip(&o.first_bad_by_step) {
            *acc += *c;
        }
    }
}

/// Wilson score interval (95%) for `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (nf, p) = (n as f64, k as f64 / n as f64);
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    [(center - half).max(0.0), (center + half).min(1.0)]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BadDebt {
    pub mean: f64,
    /// Percentile bootstrap ([`CiMethods::mean`]): never below 0.
    pub mean_ci95: [f64; 2],
    pub var95: f64,
    pub var99: f64,
    pub cvar99: f64,
    pub max: f64,
    /// Distribution-free order-statistic intervals ([`CiMethods::var`]); `hi: null` when the
    /// run has too few paths to bound that quantile from above.
    #[serde(default)]
    pub var95_ci95: Interval,
    #[serde(default)]
    pub var99_ci95: Interval,
    /// Percentile bootstrap ([`CiMethods::cvar`]).
    #[serde(default)]
    pub cvar99_ci95: Interval,
}

/// How each confidence interval of the summary was computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CiMethods {
    /// `p_insolvency_ci95`, `insurance_fund.p_depleted_ci95`.
    pub probability: String,
    /// `bad_debt.mean_ci95`.
    pub mean: String,
    /// `bad_debt.var95_ci95`, `bad_debt.var99_ci95`.
    pub var: String,
    /// `bad_debt.cvar99_ci95`.
    pub cvar: String,
    /// `liquidations.count_mean_ci95`, `adl.mean_ci95`, `socialized.mean_ci95`.
    pub counts: String,
}

impl CiMethods {
    fn current() -> CiMethods {
        CiMethods {
            probability: tail::PROB_METHOD.into(),
            mean: tail::MEAN_METHOD.into(),
            var: tail::VAR_METHOD.into(),
            cvar: tail::CVAR_METHOD.into(),
            counts: tail::COUNT_METHOD.into(),
        }
    }
}

/// `mean ± h` as an interval clipped to the support of a non-negative quantity.
fn clipped((m, h): (f64, f64)) -> [f64; 2] {
    [(m - h).max(0.0), m + h]
}

/// The bad-debt block: point estimates and their intervals (native units in `h`).
fn bad_debt_block(h: &LogHistogram, mean: f64, seed: u64) -> BadDebt {
    let usd = |x: f64| x / USD as f64;
    let iv = |i: Interval| Interval {
        lo: usd(i.lo),
        hi: i.hi.map(usd),
    };
    let m = tail::mean_interval(h, 0.95, seed, 1);
    BadDebt {
        mean,
        mean_ci95: [usd(m.lo), usd(m.hi.unwrap_or(m.lo))],
        var95: usd(h.quantile(0.95)),
        var99: usd(h.quantile(0.99)),
        cvar99: usd(h.tail_mean(0.99)),
        max: to_usd(h.max() as i128),
        var95_ci95: iv(tail::quantile_interval(h, 0.95, 0.95)),
        var99_ci95: iv(tail::quantile_interval(h, 0.99, 0.95)),
        cvar99_ci95: iv(tail::cvar_interval(h, 0.99, 0.95, seed, 2)),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fund {
    pub initial: f64,
    /// Lowest balance reached on any path.
    pub min: f64,
    /// 5th percentile of the per-path minimum.
    pub min_p05: f64,
    pub min_median: f64,
    pub p_depleted: f64,
    pub p_depleted_ci95: [f64; 2],
    pub final_mean: f64,
    pub covered_mean: f64,
    pub fees_in_mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Liquidations {
    pub count_mean: f64,
    pub count_mean_ci95: [f64; 2],
    pub volume_mean: f64,
    pub penalties_mean: f64,
    /// Steps an underwater account waited because the keeper was offline, summed over accounts,
    /// per path (account-steps, not missed liquidations: one account waiting 10 steps is 10).
    #[serde(alias = "missed_outage_mean")]
    pub wait_steps_offline_mean: f64,
    /// Steps a liquidation (position or auction) waited because gas + slippage exceeded the
    /// reward, summed over positions / auctions, per path (position-steps).
    #[serde(alias = "missed_unprofitable_mean")]
    pub wait_steps_unprofitable_mean: f64,
    pub refused_mean: f64,
}

/// A loss beyond the insurance fund borne by other accounts (engine mechanisms).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SharedLoss {
    /// Mean per path, USD.
    pub mean: f64,
    pub mean_ci95: [f64; 2],
    /// Probability that a path has any.
    pub p_any: f64,
}

/// Breakers and gates: fraction of (scope × step) in each mode and refused actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BreakerSummary {
    /// Whether any breaker was configured (fractions are 0 otherwise).
    pub configured: bool,
    pub normal: f64,
    pub cautious: f64,
    pub halted: f64,
    pub recovering: f64,
    /// Liquidation commands refused as `Blocked` (oracle status or breaker mode), per path.
    pub blocked_mean: f64,
}

/// What the engine's own liquidation did (engine mechanisms), per path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineLiq {
    /// Loss the engine recognised as bad debt (pool `bad_debt`), USD per path.
    pub bad_debt_mean: f64,
    /// Insurance fund draws (`InsuranceDrawn`), USD per path.
    pub insurance_drawn_mean: f64,
    pub auctions_started_mean: f64,
    pub auction_resets_mean: f64,
    /// Auction-steps stuck needing a reset nobody may do, per path.
    pub auctions_stuck_mean: f64,
}

/// What the lenders did, per path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LenderSummary {
    /// Quote withdrawn in the run, USD.
    pub withdrawn_mean: f64,
    /// Withdrawals the engine refused (retried next step).
    pub refused_mean: f64,
    /// Loss borne by the lenders (socialized loss on what they left in), USD.
    pub loss_mean: f64,
}

/// The run summary (`--json` prints exactly this object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub fingerprint: String,
    pub paths: u64,
    pub seed: u64,
    pub steps: u32,
    pub step_hours: f64,
    pub accounts: u32,
    /// Probability of any bad debt.
    pub p_insolvency: f64,
    pub p_insolvency_ci95: [f64; 2],
    /// Bad debt per path, USD.
    pub bad_debt: BadDebt,
    pub insurance_fund: Fund,
    pub liquidations: Liquidations,
    /// Mean slippage paid when unwinding liquidated positions, USD per path.
    pub slippage_cost_mean: f64,
    /// Initial margin per unit of open interest at t0 (Σ requirement / Σ |notional|).
    pub capital_efficiency: f64,
    /// Mean fraction of steps with the keeper offline.
    pub keeper_outage_fraction: f64,
    /// Bound on the relative error of the quantiles and CVaR (0 when they are exact).
    pub quantile_rel_error: f64,
    /// True when bad-debt VaR95, VaR99 and CVaR99 are exact order statistics.
    pub quantiles_exact: bool,
    /// Liquidation mechanism (`keeper_fill`, `engine_takeover`, `engine_auction`).
    #[serde(default)]
    pub mechanism: String,
    /// Auto-deleveraging haircuts (engine mechanisms).
    #[serde(default)]
    pub adl: SharedLoss,
    /// Socialized loss (engine mechanisms).
    #[serde(default)]
    pub socialized: SharedLoss,
    #[serde(default)]
    pub engine: EngineLiq,
    #[serde(default)]
    pub breaker: BreakerSummary,
    /// Fraction of paths on which the whale dumped (0 without a whale).
    #[serde(default)]
    pub whale_dump_p: f64,
    /// Lenders (zeros without them).
    #[serde(default)]
    pub lenders: LenderSummary,
    /// Fraction of steps with the chain halted (`[[faults.chain]]`; absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub chain_halted_fraction: f64,
    /// Liquidation sales deferred by `liquidity.max_sell_usd_per_step`: USD per path, summed
    /// over the steps they waited (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deferred_sell_mean: f64,
    /// Negative equity of accounts still open at the horizon (losses not yet settled, not in
    /// `bad_debt`), USD per path (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unsettled_mean: f64,
    /// Funding paid by longs to shorts (negative: received), USD per path, settled every step
    /// (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub funding_paid_mean: f64,
    /// Option lots liquidated per path (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub option_liquidations_mean: f64,
    /// Mean bad debt (USD per path) by what the bankrupt accounts held at t0: `[perps, options,
    /// borrows, collateral, none]`; sums to `bad_debt.mean` (absent when there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_debt_by_instrument: Option<[f64; 5]>,
    /// Trader rules, per path (absent when 0): closes (take-profit/stop-loss), adds on dips,
    /// reopens, trader fills the engine refused.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub trader_closes_mean: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub trader_adds_mean: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub trader_reopens_mean: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub trader_refused_mean: f64,
    /// How each interval above was computed.
    #[serde(default)]
    pub ci_methods: CiMethods,
    /// Bad debt by market: the mean's and CVaR99's split.
    #[serde(default)]
    pub bad_debt_by_market: markets::MarketAttribution,
    /// Auction clearing prices against the oracle and keeper participation (absent when no
    /// keeper took or started anything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auctions: Option<auctions::AuctionSummary>,
    /// Cost and profit of attack (absent without attackers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack: Option<attack::AttackSummary>,
    /// What the controller did, totals over paths (absent without `[controller]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<crate::controller::ControllerTally>,
    /// Capital efficiency over the path: initial margin per unit of open interest and per unit
    /// of trader equity, pooled over the sampled steps of every path (`efficiency`).
    #[serde(default)]
    pub im_per_oi_over_path: f64,
    #[serde(default)]
    pub im_per_equity_over_path: f64,
    /// USD values under a de-pegging numeraire (absent without `[numeraire]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depeg: Option<numeraire::DepegSummary>,
    pub elapsed_s: f64,
    /// The contagion map of the t0 book and a shock's losses (`report::contagion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contagion: Option<contagion::ContagionView>,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// `x` with two decimals and thousands separators (`-1,234.50`).
pub fn group_thousands(x: f64) -> String {
    let s = format!("{:.2}", x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut g = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            g.push(',');
        }
        g.push(c);
    }
    format!("{}{g}.{frac}", if x < 0.0 { "-" } else { "" })
}

/// Scenario facts the summary reports.
pub struct SummaryInfo<'a> {
    pub scenario: &'a str,
    pub fingerprint: &'a str,
    pub seed: u64,
    pub steps: u32,
    pub step_hours: f64,
    pub accounts: u32,
    pub fund0_usd: f64,
    pub mechanism: &'a str,
}

fn shared(m: &Moments, k: u64, n: u64) -> SharedLoss {
    let (mean, h) = m.mean_ci(n, USD);
    SharedLoss {
        mean,
        mean_ci95: clipped((mean, h)),
        p_any: if n > 0 { k as f64 / n as f64 } else { 0.0 },
    }
}

impl Summary {
    pub fn from_aggregate(a: &Aggregate, info: &SummaryInfo<'_>, elapsed_s: f64) -> Summary {
        let n = a.paths.max(1) as f64;
        let usd = |x: f64| x / USD as f64;
        let (bm, _) = a.bad_debt_m.mean_ci(a.paths, USD);
        let (lm, lh) = a.liquidations.mean_ci(a.paths, 1);
        let mean = |m: &Moments| m.sum as f64 / USD as f64 / n;
        let exact = a.bad_debt.exact_for(0.95) && a.bad_debt.exact_for(0.99);
        Summary {
            contagion: None,
            scenario: info.scenario.to_string(),
            fingerprint: info.fingerprint.to_string(),
            paths: a.paths,
            seed: info.seed,
            steps: info.steps,
            step_hours: info.step_hours,
            accounts: info.accounts,
            p_insolvency: a.insolvent as f64 / n,
            p_insolvency_ci95: wilson(a.insolvent, a.paths),
            bad_debt: bad_debt_block(&a.bad_debt, bm, info.seed),
            insurance_fund: Fund {
                initial: info.fund0_usd,
                min: to_usd(a.fund_min.min() as i128),
                min_p05: usd(a.fund_min.quantile(0.05)),
                min_median: usd(a.fund_min.quantile(0.5)),
                p_depleted: a.depleted as f64 / n,
                p_depleted_ci95: wilson(a.depleted, a.paths),
                final_mean: mean(&a.fund_final),
                covered_mean: mean(&a.covered),
                fees_in_mean: mean(&a.fees_to_fund),
            },
            liquidations: Liquidations {
                count_mean: lm,
                count_mean_ci95: clipped((lm, lh)),
                volume_mean: mean(&a.liq_volume),
                penalties_mean: mean(&a.penalties),
                wait_steps_offline_mean: a.missed_outage as f64 / n,
                wait_steps_unprofitable_mean: a.missed_unprofitable as f64 / n,
                refused_mean: a.refused as f64 / n,
            },
            slippage_cost_mean: mean(&a.slippage),
            capital_efficiency: if a.open_interest > 0 {
                a.init_margin as f64 / a.open_interest as f64
            } else {
                0.0
            },
            keeper_outage_fraction: a.outage_steps as f64 / n / info.steps.max(1) as f64,
            quantile_rel_error: if exact { 0.0 } else { GAMMA.sqrt() - 1.0 },
            quantiles_exact: exact,
            mechanism: info.mechanism.to_string(),
            adl: shared(&a.adl, a.adl_paths, a.paths),
            socialized: shared(&a.socialized, a.socialized_paths, a.paths),
            engine: EngineLiq {
                bad_debt_mean: mean(&a.engine_bad_debt),
                insurance_drawn_mean: mean(&a.covered),
                auctions_started_mean: a.auctions_started as f64 / n,
                auction_resets_mean: a.auction_resets as f64 / n,
                auctions_stuck_mean: a.auctions_stuck as f64 / n,
            },
            whale_dump_p: a.whale_dumps as f64 / n,
            chain_halted_fraction: a.chain_halted_steps as f64 / n / info.steps.max(1) as f64,
            deferred_sell_mean: mean(&a.deferred_sell),
            unsettled_mean: mean(&a.unsettled),
            funding_paid_mean: mean(&a.funding_paid),
            option_liquidations_mean: a.option_liquidations as f64 / n,
            bad_debt_by_instrument: {
                let v = a.bad_debt_by_instrument.each_ref().map(mean);
                // Perps alone (the population's book): the split says nothing new.
                (v[1..].iter().any(|x| *x != 0.0)).then_some(v)
            },
            trader_closes_mean: a.trader_closes as f64 / n,
            trader_adds_mean: a.trader_adds as f64 / n,
            trader_reopens_mean: a.trader_reopens as f64 / n,
            trader_refused_mean: a.trader_refused as f64 / n,
            lenders: LenderSummary {
                withdrawn_mean: mean(&a.lender_withdrawn),
                refused_mean: a.lender_refused as f64 / n,
                loss_mean: mean(&a.lender_loss),
            },
            breaker: {
                let d = a.breaker_scope_steps.max(1) as f64;
                BreakerSummary {
                    configured: a.breaker_scope_steps > 0,
                    normal: a.breaker_steps[0] as f64 / d,
                    cautious: a.breaker_steps[1] as f64 / d,
                    halted: a.breaker_steps[2] as f64 / d,
                    recovering: a.breaker_steps[3] as f64 / d,
                    blocked_mean: a.blocked as f64 / n,
                }
            },
            ci_methods: CiMethods::current(),
            bad_debt_by_market: a.market_loss.attribution(a.paths, &a.asset_symbols, 0.99),
            auctions: a.auctions.summary(a.paths),
            attack: a.attack.summary(),
            controller: controller::summary(&a.controller),
            depeg: a.depeg.summary(),
            im_per_oi_over_path: a.efficiency.ratios().0,
            im_per_equity_over_path: a.efficiency.ratios().1,
            elapsed_s,
        }
    }

    /// The summary as a terminal table.
    pub fn table(&self) -> String {
        let money = group_thousands;
        let pct = |x: f64| format!("{:.2}%", x * 100.0);
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
        row(
            "scenario",
            format!(
                "{} ({} paths × {} steps of {}, seed {}, {} accounts)",
                self.scenario,
                self.paths,
                self.steps,
                crate::units::step_length(self.step_hours),
                self.seed,
                self.accounts
            ),
        );
        row(
            "P(insolvency)",
            format!(
                "{}  (95% CI {} – {})",
                pct(self.p_insolvency),
                pct(self.p_insolvency_ci95[0]),
                pct(self.p_insolvency_ci95[1])
            ),
        );
        row(
            "bad debt mean",
            format!(
                "{} USD  (95% CI {} – {})",
                money(self.bad_debt.mean),
                money(self.bad_debt.mean_ci95[0]),
                money(self.bad_debt.mean_ci95[1])
            ),
        );
        let bound = |i: &Interval| {
            let hi = i.hi.map_or("unbounded (too few paths)".to_string(), &money);
            format!("95% CI {} – {hi}", money(i.lo))
        };
        let b = &self.bad_debt;
        for (k, v, ci) in [
            ("bad debt VaR95", b.var95, &b.var95_ci95),
            ("bad debt VaR99", b.var99, &b.var99_ci95),
            ("bad debt CVaR99", b.cvar99, &b.cvar99_ci95),
        ] {
            row(k, format!("{} USD  ({})", money(v), bound(ci)));
        }
        row("bad debt max", format!("{} USD", money(self.bad_debt.max)));
        let split = |v: &[crate::attribution::Share]| {
            let parts: Vec<String> = v
                .iter()
                .take(4)
                .map(|x| format!("{} {:.1}%", x.name, x.share * 100.0))
                .collect();
            parts.join(", ")
        };
        let bm = &self.bad_debt_by_market;
        if !bm.mean.is_empty() {
            row(
                "bad debt by market",
                format!("mean: {}; CVaR99: {}", split(&bm.mean), split(&bm.cvar99)),
            );
        }
        let f = &self.insurance_fund;
        row(
            "insurance fund",
            format!(
                "start {}  min {}  p05 of min {}  mean final {} USD",
                money(f.initial),
                money(f.min),
                money(f.min_p05),
                money(f.final_mean)
            ),
        );
        row(
            "P(fund depleted)",
            format!(
                "{}  (95% CI {} – {})",
                pct(f.p_depleted),
                pct(f.p_depleted_ci95[0]),
                pct(f.p_depleted_ci95[1])
            ),
        );
        let l = &self.liquidations;
        row(
            "liquidations / path",
            format!(
                "{:.2}  (95% CI {:.2} – {:.2}), volume {} USD",
                l.count_mean,
                l.count_mean_ci95[0],
                l.count_mean_ci95[1],
                money(l.volume_mean)
            ),
        );
        row(
            "waits / path",
            format!(
                "{:.2} account-steps keeper offline, {:.2} steps unprofitable, {:.2} refused",
                l.wait_steps_offline_mean, l.wait_steps_unprofitable_mean, l.refused_mean
            ),
        );
        row(
            "slippage cost / path",
            format!("{} USD", money(self.slippage_cost_mean)),
        );
        row(
            "capital efficiency",
            format!(
                "{:.4} initial margin per unit of open interest",
                self.capital_efficiency
            ),
        );
        row(
            "cost over the path",
            format!(
                "{:.4} initial margin per unit of open interest, {:.4} per unit of equity (time-averaged); penalties {} USD / path",
                self.im_per_oi_over_path,
                self.im_per_equity_over_path,
                money(self.liquidations.penalties_mean)
            ),
        );
        row("keeper offline", pct(self.keeper_outage_fraction));
        if !self.mechanism.is_empty() && self.mechanism != "keeper_fill" {
            row("mechanism", self.mechanism.clone());
            row(
                "beyond the fund",
                format!(
                    "ADL {} USD (P {}), socialized {} USD (P {}), engine bad debt {} USD",
                    money(self.adl.mean),
                    pct(self.adl.p_any),
                    money(self.socialized.mean),
                    pct(self.socialized.p_any),
                    money(self.engine.bad_debt_mean)
                ),
            );
            row(
                "auctions / path",
                format!(
                    "{:.2} started, {:.2} reset, {:.2} stuck",
                    self.engine.auctions_started_mean,
                    self.engine.auction_resets_mean,
                    self.engine.auctions_stuck_mean
                ),
            );
        }
        for (k, v) in self.auctions.iter().flat_map(|x| x.rows()) {
            row(&k, v);
        }
        if self.lenders != LenderSummary::default() {
            let l = &self.lenders;
            row(
                "lenders / path",
                format!(
                    "withdrew {} USD, {:.2} refused, lost {} USD",
                    money(l.withdrawn_mean),
                    l.refused_mean,
                    money(l.loss_mean)
                ),
            );
        }
        if self.whale_dump_p > 0.0 {
            row("whale dumped", pct(self.whale_dump_p));
        }
        if self.chain_halted_fraction > 0.0 {
            row("chain halted", pct(self.chain_halted_fraction));
        }
        if let Some(v) = self.bad_debt_by_instrument {
            row(
                "bad debt by holding",
                format!(
                    "perps {} / options {} / borrows {} / collateral {} / other {} USD (t0 holdings of the bankrupt)",
                    money(v[0]),
                    money(v[1]),
                    money(v[2]),
                    money(v[3]),
                    money(v[4])
                ),
            );
        }
        if self.option_liquidations_mean > 0.0 {
            row(
                "option liquidations",
                format!("{:.1} / path", self.option_liquidations_mean),
            );
        }
        if self.funding_paid_mean != 0.0 {
            row(
                "funding paid",
                format!(
                    "{} USD / path by longs to shorts (settled every step)",
                    money(self.funding_paid_mean)
                ),
            );
        }
        if self.unsettled_mean > 0.0 {
            row(
                "unsettled at end",
                format!(
                    "{} USD / path (negative equity still open at the horizon)",
                    money(self.unsettled_mean)
                ),
            );
        }
        if self.trader_closes_mean
            + self.trader_adds_mean
            + self.trader_reopens_mean
            + self.trader_refused_mean
            > 0.0
        {
            row(
                "trader rules / path",
                format!(
                    "{:.2} closes, {:.2} adds, {:.2} reopens, {:.2} refused",
                    self.trader_closes_mean,
                    self.trader_adds_mean,
                    self.trader_reopens_mean,
                    self.trader_refused_mean
                ),
            );
        }
        if self.deferred_sell_mean > 0.0 {
            row(
                "sales deferred",
                format!(
                    "{} USD / path (sell cap; summed over the steps waited)",
                    money(self.deferred_sell_mean)
                ),
            );
        }
        if self.breaker.configured || self.breaker.blocked_mean > 0.0 {
            let b = &self.breaker;
            row(
                "breaker modes",
                format!(
                    "normal {}  cautious {}  halted {}  recovering {}",
                    pct(b.normal),
                    pct(b.cautious),
                    pct(b.halted),
                    pct(b.recovering)
                ),
            );
            row("blocked / path", format!("{:.2}", b.blocked_mean));
        }
        if let Some(a) = &self.attack {
            a.rows(&mut row);
        }
        if let Some(d) = &self.depeg {
            d.rows(&mut row);
        }
        if let Some(c) = &self.controller {
            controller::rows(c, &mut row);
        }
        row("elapsed", format!("{:.2} s", self.elapsed_s));
        let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut s = String::new();
        for (k, v) in rows {
            s.push_str(&format!("{k:<w$}  {v}\n"));
        }
        if self.quantiles_exact {
            s.push_str("(VaR and CVaR are exact order statistics)\n");
        } else {
            s.push_str(&format!(
                "(VaR and CVaR from log-bucket histograms: relative error ≤ {:.2}%)\n",
                self.quantile_rel_error * 100.0
            ));
        }
        let m = &self.ci_methods;
        s.push_str(&format!(
            "(95% CIs: probabilities {}; bad-debt mean {}; VaR {}; CVaR {}; counts {})\n",
            m.probability, m.mean, m.var, m.cvar, m.counts
        ));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_quantile(v: &mut [i64], q: f64) -> f64 {
        v.sort();
        let n = v.len();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        v[rank - 1] as f64
    }

    #[test]
    fn histogram_quantiles_within_bound_and_merge_exactly() {
        let mut rng = 12345u64;
        let mut vals = Vec::new();
        let (mut a, mut b, mut all) = (
            LogHistogram::default(),
            LogHistogram::default(),
            LogHistogram::default(),
        );
        for i in 0..20_000 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = if i % 3 == 0 {
                0
            } else {
                (rng >> 20) as i64 % 50_000_000_000
            };
            vals.push(x);
            all.add(x);
            if i % 2 == 0 {
                a.add(x)
            } else {
                b.add(x)
            }
        }
        let mut m = b.clone();
        m.merge(&a);
        assert_eq!(m, all);
        // The top values are exact: the 99.9% quantile of 20,000 values is inside them.
        assert!(all.exact_for(0.999) && !all.exact_for(0.5));
        assert_eq!(all.quantile(0.999), exact_quantile(&mut vals, 0.999));
        for q in [0.5, 0.9, 0.95, 0.99, 0.999] {
            let e = exact_quantile(&mut vals, q);
            let h = all.quantile(q);
            assert!(
                (h - e).abs() <= e * (GAMMA.sqrt() - 1.0) + 1e-9,
                "q={q}: {h} vs {e}"
            );
        }
        // Tail mean against the exact tail mean.
        vals.sort();
        let n = vals.len();
        let rank = (0.99 * n as f64).ceil() as usize;
        let exact: f64 =
            vals[rank - 1..].iter().map(|&x| x as f64).sum::<f64>() / (n - rank + 1) as f64;
        let est = all.tail_mean(0.99);
        assert!((est - exact).abs() <= exact * 0.01, "{est} vs {exact}");
    }

    #[test]
    fn band_histograms_quantile_within_bound_and_merge() {
        let (mut a, mut b, mut all) = (
            BandHist::default(),
            BandHist::default(),
            BandHist::default(),
        );
        let vals: Vec<i64> = (0..1000).map(|i| i * 1_000_003 % 97_000_001).collect();
        for (i, v) in vals.iter().enumerate() {
            all.add(*v);
            if i % 3 == 0 {
                a.add(*v)
            } else {
                b.add(*v)
            }
        }
        a.merge(&b);
        assert_eq!(a, all);
        let mut sorted = vals.clone();
        sorted.sort();
        for q in [0.05, 0.5, 0.95] {
            let exact = sorted[((q * 1000.0f64).ceil() as usize).clamp(1, 1000) - 1] as f64;
            let est = all.quantile(q);
            assert!(
                (est - exact).abs() <= exact * (BAND_GAMMA.sqrt() - 1.0) + 1.0,
                "{q}: {est} vs {exact}"
            );
        }
    }

    #[test]
    fn wilson_interval_brackets_p() {
        let [lo, hi] = wilson(26, 100);
        assert!(lo < 0.26 && hi > 0.26);
        assert!(
            (lo - 0.1841).abs() < 1e-3 && (hi - 0.3540).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert_eq!(wilson(0, 10)[0], 0.0);
    }
}
