//! Per-asset multi-source oracle: "never believe one number".
//!
//! Each configured source (an exchange, an aggregator, a keeper) pushes [`Quote`]s: a price, an
//! absolute confidence in the same units, and the time it was published. [`Aggregator::aggregate`]
//! turns the latest quote of every source into one [`Reading`]:
//!
//! 1. **freshness** — only quotes with `0 ≤ now − publish ≤ max_staleness_ms` and a relative
//!    confidence within `max_source_confidence` count (Drift v2 validity ladder: stale and too
//!    uncertain inputs are not used; Mango v4 confidence filter `conf > k·price`, FORMULAS.md);
//! 2. **quorum** — at least `quorum` fresh sources (dYdX v4: a minimum number of exchanges);
//! 3. **outlier rejection** — a source further than
//!    `max(k · max(1.4826·MAD, floor·median), tolerance·median)` from the weighted median is
//!    dropped (median absolute deviation, scaled to σ for normal data). The tolerance is a
//!    relative band in which a venue is never an outlier: real venues differ by a few tenths of a
//!    percent on an ordinary minute (Pyth's publisher confidence intervals and Chainlink's
//!    deviation thresholds, 0.5 % on major pairs, are of that order), and three honest venues
//!    make a MAD so small that pure noise would otherwise look like an attack;
//! 4. **price** — weighted median of the accepted sources (Maker Median / dYdX v4 stake-weighted
//!    median, FORMULAS.md), so one source cannot move it past its neighbours;
//! 5. **confidence** — `sqrt(dispersion² + conf²)` where dispersion is the weighted standard
//!    deviation of the accepted prices around the aggregate and conf the weighted mean of their own
//!    confidences: disagreement and self-reported uncertainty both widen it.
//!
//! The status is an ordered enum ([`OracleStatus`]); the price is always reported with it so that a
//! consumer can see *what* it would have believed, but only `Valid` is meant to be believed for
//! new risk (see `validity`). Hot path: no allocation; fixed arrays of at most [`MAX_SOURCES`].

use crate::error::{check_amount, check_price, config, Error};
use serde::{Deserialize, Serialize};

/// Most sources one aggregator accepts (bounded so the hot path uses fixed arrays and a `u32` mask).
pub const MAX_SOURCES: usize = 32;

/// Default [`AggregatorConfig::outlier_tolerance`]: 0.5 % of the median.
pub const DEFAULT_OUTLIER_TOLERANCE: f64 = 0.005;

fn default_outlier_tolerance() -> f64 {
    DEFAULT_OUTLIER_TOLERANCE
}

/// Consistency constant turning a MAD into a standard deviation for normal data.
const MAD_TO_SIGMA: f64 = 1.4826;

/// Identifier of a price source within one aggregator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourceId(pub u32);

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A configured source and its weight in the weighted median (e.g. by venue volume or trust).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub id: SourceId,
    /// Positive, finite.
    pub weight: f64,
}

/// One update from one source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub source: SourceId,
    /// Positive, finite.
    pub price: f64,
    /// Absolute half-width of the source's uncertainty, same units as `price`; finite, ≥ 0.
    pub confidence: f64,
    /// Publish time, ms since the UTC epoch. Must not go backwards per source.
    pub publish_ms: i64,
}

/// How far the aggregate can be trusted. Ordered from best to worst; when several conditions hold
/// the worst one is reported (precedence `NoQuorum > Stale > Divergent > LowConfidence > Valid`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum OracleStatus {
    /// Quorum met, sources agree, confidence tight: the price may be used for anything.
    Valid,
    /// Quorum met and sources agree, but the combined confidence is wider than `max_confidence`.
    LowConfidence,
    /// Quorum of fresh sources met, but they disagree: the survivors spread wider than
    /// `max_spread`, fewer than `quorum` survive rejection, or outliers carry more than
    /// `max_outlier_weight` of the fresh weight (by default a majority: one noisy or manipulated
    /// venue among three is dropped by the median and is not divergence). The price shown is the
    /// median of the survivors.
    Divergent,
    /// Fewer than `quorum` fresh sources; the price is the last trusted (`Valid`/`LowConfidence`)
    /// aggregate, at most `max_hold_ms` old (its age is in [`Reading::age_ms`]).
    Stale,
    /// Fewer than `quorum` fresh sources and no trusted aggregate within `max_hold_ms`.
    #[default]
    NoQuorum,
}

impl OracleStatus {
    /// All statuses, best first.
    pub const ALL: [OracleStatus; 5] = [
        OracleStatus::Valid,
        OracleStatus::LowConfidence,
        OracleStatus::Divergent,
        OracleStatus::Stale,
        OracleStatus::NoQuorum,
    ];

    /// Position in [`Self::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Aggregation parameters. Build with [`AggregatorConfig::default`] and adjust; they are checked
/// by [`AggregatorConfig::validate`] (called by [`Aggregator::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorConfig {
    /// A quote older than this (ms) is not fresh. > 0.
    pub max_staleness_ms: i64,
    /// Minimum number of fresh sources for a new aggregate. ≥ 1 and ≤ number of sources.
    pub quorum: usize,
    /// Outlier threshold in robust standard deviations (MAD·1.4826). ≥ 1, which guarantees the
    /// source closest to the median is always kept (`1.4826·MAD ≥ 1.4826·min deviation`).
    pub outlier_k: f64,
    /// Lower bound of the robust deviation, as a fraction of the median, so that near-identical
    /// sources do not reject each other over noise. ≥ 0.
    pub outlier_floor: f64,
    /// Relative distance from the median within which a source is never an outlier (a governed
    /// tolerance for honest venue noise). In [0, 0.5]. Documented default when absent from a
    /// configuration: 0.5 %.
    #[serde(default = "default_outlier_tolerance")]
    pub outlier_tolerance: f64,
    /// Largest share of fresh weight that may be rejected as outliers before the status becomes
    /// `Divergent`. In [0, 1). Default 0.5: a strict minority may be dropped.
    pub max_outlier_weight: f64,
    /// Largest relative spread `(max − min)/price` among accepted sources before `Divergent`. > 0.
    pub max_spread: f64,
    /// Largest relative aggregate confidence `confidence/price` before `LowConfidence`. > 0.
    pub max_confidence: f64,
    /// A single source whose relative confidence exceeds this is ignored (not fresh). > 0.
    pub max_source_confidence: f64,
    /// How long the last trusted aggregate is reported as `Stale` before `NoQuorum`. ≥ 0.
    pub max_hold_ms: i64,
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        Self {
            max_staleness_ms: 60_000,
            quorum: 2,
            outlier_k: 3.0,
            outlier_floor: 0.001,
            outlier_tolerance: DEFAULT_OUTLIER_TOLERANCE,
            max_outlier_weight: 0.5,
            max_spread: 0.02,
            max_confidence: 0.01,
            max_source_confidence: 0.05,
            max_hold_ms: 300_000,
        }
    }
}

impl AggregatorConfig {
    /// Checks every field's range (see the field docs).
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_staleness_ms <= 0 {
            return Err(config("max_staleness_ms", "must be > 0"));
        }
        if self.quorum == 0 || self.quorum > MAX_SOURCES {
            return Err(config("quorum", format!("must be in 1..={MAX_SOURCES}")));
        }
        let pos = |field, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(config(field, format!("must be finite and > 0, got {v}")))
            }
        };
        if !(self.outlier_k.is_finite() && self.outlier_k >= 1.0) {
            return Err(config(
                "outlier_k",
                format!("must be finite and >= 1, got {}", self.outlier_k),
            ));
        }
        pos("max_spread", self.max_spread)?;
        pos("max_confidence", self.max_confidence)?;
        pos("max_source_confidence", self.max_source_confidence)?;
        if !(self.outlier_floor.is_finite() && self.outlier_floor >= 0.0) {
            return Err(config("outlier_floor", "must be finite and >= 0"));
        }
        if !(self.outlier_tolerance >= 0.0 && self.outlier_tolerance <= 0.5) {
            return Err(config("outlier_tolerance", "must be in [0, 0.5]"));
        }
        if !(self.max_outlier_weight >= 0.0 && self.max_outlier_weight < 1.0) {
            return Err(config("max_outlier_weight", "must be in [0, 1)"));
        }
        if self.max_hold_ms < 0 {
            return Err(config("max_hold_ms", "must be >= 0"));
        }
        Ok(())
    }
}

/// The aggregator's answer at one instant. `Copy`, no heap: cheap to hand to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub status: OracleStatus,
    /// Fresh aggregate (`Valid`, `LowConfidence`, `Divergent`) or the held last trusted one
    /// (`Stale`, `NoQuorum`); `None` before any trusted aggregate exists.
    pub price: Option<f64>,
    /// Absolute confidence of `price`, same units.
    pub confidence: Option<f64>,
    /// When `price` was computed (ms).
    pub as_of_ms: Option<i64>,
    /// `now − as_of_ms`: 0 for a fresh aggregate.
    pub age_ms: Option<i64>,
    /// Fresh sources considered (after the staleness and per-source confidence filters).
    pub fresh: u32,
    /// Bit `i` set: source `i` (in ascending id order) was used in the median.
    pub accepted_mask: u32,
    /// Bit `i` set: source `i` was fresh but rejected as an outlier.
    pub rejected_mask: u32,
    /// Relative spread `(max − min)/price` of the accepted sources (0 when not computed).
    pub spread: f64,
}

impl Reading {
    /// Whether `price` was computed now from fresh sources (as opposed to held).
    pub fn is_fresh(&self) -> bool {
        self.status <= OracleStatus::Divergent && self.price.is_some()
    }
    /// Number of sources in the median.
    pub fn accepted(&self) -> u32 {
        self.accepted_mask.count_ones()
    }
    /// Number of fresh sources rejected as outliers.
    pub fn rejected(&self) -> u32 {
        self.rejected_mask.count_ones()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct SourceState {
    spec: SourceSpec,
    last: Option<Quote>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Trusted {
    price: f64,
    confidence: f64,
    as_of_ms: i64,
}

/// One asset's aggregator. Holds the latest quote per source and the last trusted aggregate.
/// `Clone + PartialEq` so tests can prove that a rejected call changed nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregator {
    cfg: AggregatorConfig,
    /// Sorted by id; index = bit position in the masks.
    sources: Vec<SourceState>,
    last_trusted: Option<Trusted>,
    last_now_ms: Option<i64>,
}

/// Scratch entry for one fresh source.
#[derive(Clone, Copy, Default)]
struct Entry {
    price: f64,
    weight: f64,
    conf: f64,
    idx: u32,
}

impl Aggregator {
    /// Validates the config and the sources (1..=[`MAX_SOURCES`], distinct ids, positive finite
    /// weights, `quorum ≤ sources`).
    pub fn new(cfg: AggregatorConfig, sources: &[SourceSpec]) -> Result<Self, Error> {
        cfg.validate()?;
        if sources.is_empty() || sources.len() > MAX_SOURCES {
            return Err(config(
                "sources",
                format!("need 1..={MAX_SOURCES} sources, got {}", sources.len()),
            ));
        }
        if cfg.quorum > sources.len() {
            return Err(config(
                "quorum",
                format!(
                    "quorum {} exceeds the {} configured sources",
                    cfg.quorum,
                    sources.len()
                ),
            ));
        }
        let mut states: Vec<SourceState> = Vec::with_capacity(sources.len());
        for s in sources {
            if !(s.weight.is_finite() && s.weight > 0.0) {
                return Err(config(
                    "sources.weight",
                    format!(
                        "source {} weight must be finite and > 0, got {}",
                        s.id, s.weight
                    ),
                ));
            }
            states.push(SourceState {
                spec: *s,
                last: None,
            });
        }
        states.sort_by_key(|s| s.spec.id);
        if states.windows(2).any(|w| w[0].spec.id == w[1].spec.id) {
            return Err(config("sources.id", "duplicate source id"));
        }
        Ok(Self {
            cfg,
            sources: states,
            last_trusted: None,
            last_now_ms: None,
        })
    }

    /// Governance changes the aggregation rules in place, keeping every source's last quote and
    /// the last trusted aggregate (re-creating the aggregator would drop its history). Checks
    /// the config and `quorum ≤ sources`; on error nothing changes.
    pub fn reconfigure(&mut self, cfg: AggregatorConfig) -> Result<(), Error> {
        cfg.validate()?;
        if cfg.quorum > self.sources.len() {
            return Err(config(
                "quorum",
                format!(
                    "quorum {} exceeds the {} configured sources",
                    cfg.quorum,
                    self.sources.len()
                ),
            ));
        }
        self.cfg = cfg;
        Ok(())
    }

    pub fn config(&self) -> &AggregatorConfig {
        &self.cfg
    }

    /// Source ids in ascending order (bit `i` of the masks is `source_ids()[i]`).
    pub fn source_ids(&self) -> impl Iterator<Item = SourceId> + '_ {
        self.sources.iter().map(|s| s.spec.id)
    }

    /// Ids of the sources whose bit is set in `mask`.
    pub fn ids_in(&self, mask: u32) -> impl Iterator<Item = SourceId> + '_ {
        self.sources
            .iter()
            .enumerate()
            .filter(move |(i, _)| mask & (1u32 << i) != 0)
            .map(|(_, s)| s.spec.id)
    }

    /// Latest quote held for a source.
    pub fn last_quote(&self, id: SourceId) -> Option<Quote> {
        self.index_of(id).and_then(|i| self.sources[i].last)
    }

    fn index_of(&self, id: SourceId) -> Option<usize> {
        self.sources.binary_search_by_key(&id, |s| s.spec.id).ok()
    }

    /// Stores a quote after validating it. On error nothing changes.
    pub fn submit(&mut self, q: Quote) -> Result<(), Error> {
        check_price("quote price", q.price)?;
        check_amount("quote confidence", q.confidence)?;
        let i = self
            .index_of(q.source)
            .ok_or(Error::UnknownSource(q.source))?;
        if let Some(last) = self.sources[i].last {
            if q.publish_ms < last.publish_ms {
                return Err(Error::OutOfOrder {
                    source_id: q.source,
                    last_ms: last.publish_ms,
                    got_ms: q.publish_ms,
                });
            }
        }
        self.sources[i].last = Some(q);
        Ok(())
    }

    /// `submit` then `aggregate`: the per-update hot path. On error nothing changes.
    pub fn update(&mut self, q: Quote, now_ms: i64) -> Result<Reading, Error> {
        self.check_now(now_ms)?;
        self.submit(q)?;
        self.aggregate(now_ms)
    }

    fn check_now(&self, now_ms: i64) -> Result<(), Error> {
        match self.last_now_ms {
            Some(last) if now_ms < last => Err(Error::TimeWentBackwards {
                last_ms: last,
                got_ms: now_ms,
            }),
            _ => Ok(()),
        }
    }

    /// Computes the reading at `now_ms` (which must not go backwards). See the module doc for the
    /// steps. Records the result as the last trusted aggregate when it is `Valid`/`LowConfidence`.
    pub fn aggregate(&mut self, now_ms: i64) -> Result<Reading, Error> {
        self.check_now(now_ms)?;
        self.last_now_ms = Some(now_ms);
        let cfg = &self.cfg;

        // 1. Fresh, not-too-uncertain sources.
        let mut buf = [Entry::default(); MAX_SOURCES];
        let mut n = 0usize;
        for (i, s) in self.sources.iter().enumerate() {
            let Some(q) = s.last else { continue };
            let age = now_ms - q.publish_ms;
            if age < 0 || age > cfg.max_staleness_ms {
                continue; // future-dated (clock skew) or stale
            }
            if q.confidence > cfg.max_source_confidence * q.price {
                continue; // too uncertain (Drift v2 ladder / Mango v4 confidence filter)
            }
            buf[n] = Entry {
                price: q.price,
                weight: s.spec.weight,
                conf: q.confidence,
                idx: i as u32,
            };
            n += 1;
        }
        let fresh = &mut buf[..n];

        // 2. Quorum: below it, hold the last trusted aggregate.
        if n < cfg.quorum {
            return Ok(self.held(now_ms, n as u32));
        }

        // 3. Weighted median and MAD-based outlier rejection.
        sort_by_price(fresh);
        let median = weighted_median(fresh);
        let mut devs = [(0.0f64, 0.0f64); MAX_SOURCES];
        for (d, e) in devs.iter_mut().zip(fresh.iter()) {
            *d = ((e.price - median).abs(), e.weight);
        }
        let devs = &mut devs[..n];
        insertion_sort_pairs(devs);
        let mad = weighted_median_pairs(devs);
        let threshold = (cfg.outlier_k * (MAD_TO_SIGMA * mad).max(cfg.outlier_floor * median))
            .max(cfg.outlier_tolerance * median);

        let mut acc = [Entry::default(); MAX_SOURCES];
        let mut m = 0usize;
        let (mut w_fresh, mut w_rej) = (0.0, 0.0);
        let (mut accepted_mask, mut rejected_mask) = (0u32, 0u32);
        for e in fresh.iter() {
            w_fresh += e.weight;
            if (e.price - median).abs() <= threshold {
                acc[m] = *e;
                m += 1;
                accepted_mask |= 1 << e.idx;
            } else {
                w_rej += e.weight;
                rejected_mask |= 1 << e.idx;
            }
        }
        if m == 0 {
            // Unreachable with outlier_k ≥ 1 (see the field doc); kept so that no input can
            // index out of bounds. Nothing is trusted: report the raw median as Divergent.
            return Ok(Reading {
                status: OracleStatus::Divergent,
                price: Some(median),
                confidence: None,
                as_of_ms: Some(now_ms),
                age_ms: Some(0),
                fresh: n as u32,
                accepted_mask: 0,
                rejected_mask,
                spread: 0.0,
            });
        }
        let acc = &acc[..m]; // still sorted by price

        // 4. Price: weighted median of the accepted sources.
        let price = weighted_median(acc);
        let spread = (acc[m - 1].price - acc[0].price) / price;

        // 5. Confidence: weighted dispersion around the aggregate combined with own confidences.
        let (mut w, mut var, mut conf) = (0.0, 0.0, 0.0);
        for e in acc {
            w += e.weight;
            var += e.weight * (e.price - price) * (e.price - price);
            conf += e.weight * e.conf;
        }
        let confidence = ((var / w) + (conf / w) * (conf / w)).sqrt();

        let status = if m < cfg.quorum
            || w_rej > cfg.max_outlier_weight * w_fresh
            || spread > cfg.max_spread
        {
            OracleStatus::Divergent
        } else if confidence > cfg.max_confidence * price {
            OracleStatus::LowConfidence
        } else {
            OracleStatus::Valid
        };
        if status <= OracleStatus::LowConfidence {
            self.last_trusted = Some(Trusted {
                price,
                confidence,
                as_of_ms: now_ms,
            });
        }
        Ok(Reading {
            status,
            price: Some(price),
            confidence: Some(confidence),
            as_of_ms: Some(now_ms),
            age_ms: Some(0),
            fresh: n as u32,
            accepted_mask,
            rejected_mask,
            spread,
        })
    }

    fn held(&self, now_ms: i64, fresh: u32) -> Reading {
        let (status, price, confidence, as_of, age) = match self.last_trusted {
            Some(t) => {
                let age = now_ms - t.as_of_ms;
                let status = if age <= self.cfg.max_hold_ms {
                    OracleStatus::Stale
                } else {
                    OracleStatus::NoQuorum
                };
                (
                    status,
                    Some(t.price),
                    Some(t.confidence),
                    Some(t.as_of_ms),
                    Some(age),
                )
            }
            None => (OracleStatus::NoQuorum, None, None, None, None),
        };
        Reading {
            status,
            price,
            confidence,
            as_of_ms: as_of,
            age_ms: age,
            fresh,
            accepted_mask: 0,
            rejected_mask: 0,
            spread: 0.0,
        }
    }
}

/// Insertion sort by price, ties by source index: n ≤ 32, branch-light, no allocation,
/// deterministic.
fn sort_by_price(v: &mut [Entry]) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0
            && (v[j - 1].price > x.price || (v[j - 1].price == x.price && v[j - 1].idx > x.idx))
        {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

fn insertion_sort_pairs(v: &mut [(f64, f64)]) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1].0 > x.0 {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

/// Weighted median of values sorted ascending: the first value whose cumulative weight reaches
/// half the total; exactly half → midpoint with the next value (so two equal-weight sources give
/// their midpoint). Always within `[min, max]` of the inputs.
fn weighted_median_by(
    n: usize,
    value: impl Fn(usize) -> f64,
    weight: impl Fn(usize) -> f64,
) -> f64 {
    let total: f64 = (0..n).map(&weight).sum();
    let half = total * 0.5;
    let mut cum = 0.0;
    for i in 0..n {
        cum += weight(i);
        if cum >= half {
            // Tolerance relative to the total weight: exact ties are common with equal weights.
            if (cum - half).abs() <= 1e-12 * total && i + 1 < n {
                return 0.5 * (value(i) + value(i + 1));
            }
            return value(i);
        }
    }
    value(n - 1)
}

fn weighted_median(v: &[Entry]) -> f64 {
    weighted_median_by(v.len(), |i| v[i].price, |i| v[i].weight)
}

fn weighted_median_pairs(v: &[(f64, f64)]) -> f64 {
    weighted_median_by(v.len(), |i| v[i].0, |i| v[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(n: u32, cfg: AggregatorConfig) -> Aggregator {
        let specs: Vec<SourceSpec> = (0..n)
            .map(|i| SourceSpec {
                id: SourceId(i),
                weight: 1.0,
            })
            .collect();
        Aggregator::new(cfg, &specs).unwrap()
    }

    fn q(src: u32, price: f64, t: i64) -> Quote {
        Quote {
            source: SourceId(src),
            price,
            confidence: 0.0,
            publish_ms: t,
        }
    }

    #[test]
    fn median_of_agreeing_sources_is_valid() {
        let mut a = agg(5, AggregatorConfig::default());
        for (i, p) in [100.0, 100.2, 99.9, 100.1, 100.05].into_iter().enumerate() {
            a.submit(q(i as u32, p, 1_000)).unwrap();
        }
        let r = a.aggregate(1_000).unwrap();
        assert_eq!(r.status, OracleStatus::Valid);
        assert_eq!(r.price, Some(100.05));
        assert_eq!(r.accepted(), 5);
    }

    #[test]
    fn two_equal_sources_give_midpoint() {
        let mut a = agg(2, AggregatorConfig::default());
        a.submit(q(0, 100.0, 0)).unwrap();
        a.submit(q(1, 101.0, 0)).unwrap();
        let r = a.aggregate(0).unwrap();
        assert_eq!(r.price, Some(100.5));
        assert_eq!(r.status, OracleStatus::Valid);
    }

    #[test]
    fn a_minority_outlier_is_dropped_by_the_median_without_divergence() {
        let mut a = agg(3, AggregatorConfig::default());
        a.submit(q(0, 100.0, 0)).unwrap();
        a.submit(q(1, 100.1, 0)).unwrap();
        a.submit(q(2, 2500.0, 0)).unwrap();
        let r = a.aggregate(0).unwrap();
        assert_eq!(r.status, OracleStatus::Valid);
        assert_eq!(r.rejected_mask, 0b100);
        assert_eq!(r.price, Some(100.05));
        // A stricter governed share turns the same minority into divergence.
        let strict = AggregatorConfig {
            max_outlier_weight: 0.25,
            ..AggregatorConfig::default()
        };
        let mut a = agg(3, strict);
        a.submit(q(0, 100.0, 0)).unwrap();
        a.submit(q(1, 100.1, 0)).unwrap();
        a.submit(q(2, 2500.0, 0)).unwrap();
        assert_eq!(a.aggregate(0).unwrap().status, OracleStatus::Divergent);
    }

    #[test]
    fn venues_within_the_tolerance_are_never_outliers() {
        // Two venues agree to the cent, the third is 0.4 % away: the MAD is ~0, so without the
        // tolerance the third would be an outlier (k·max(1.4826·MAD, 0.1 %) = 0.3 %).
        let quotes = [100.0, 100.0, 100.4];
        let run = |tolerance: f64| {
            let cfg = AggregatorConfig {
                outlier_tolerance: tolerance,
                ..AggregatorConfig::default()
            };
            let mut a = agg(3, cfg);
            for (i, p) in quotes.into_iter().enumerate() {
                a.submit(q(i as u32, p, 0)).unwrap();
            }
            a.aggregate(0).unwrap()
        };
        assert_eq!(run(0.005).rejected(), 0);
        assert_eq!(run(0.0).rejected(), 1);
        assert!(AggregatorConfig {
            outlier_tolerance: 0.6,
            ..AggregatorConfig::default()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn one_outlier_of_five_is_tolerated() {
        let mut a = agg(5, AggregatorConfig::default());
        for (i, p) in [100.0, 100.1, 99.95, 100.05, 150.0].into_iter().enumerate() {
            a.submit(q(i as u32, p, 0)).unwrap();
        }
        let r = a.aggregate(0).unwrap();
        assert_eq!(r.status, OracleStatus::Valid);
        assert_eq!(r.rejected(), 1);
        assert!((r.price.unwrap() - 100.025).abs() < 1e-9);
    }

    #[test]
    fn stale_then_no_quorum() {
        let cfg = AggregatorConfig::default();
        let mut a = agg(3, cfg);
        for i in 0..3 {
            a.submit(q(i, 100.0, 0)).unwrap();
        }
        assert_eq!(a.aggregate(0).unwrap().status, OracleStatus::Valid);
        a.submit(q(0, 101.0, 61_000)).unwrap();
        let r = a.aggregate(61_000).unwrap();
        assert_eq!(r.status, OracleStatus::Stale);
        assert_eq!((r.price, r.age_ms, r.fresh), (Some(100.0), Some(61_000), 1));
        let r = a.aggregate(400_000).unwrap();
        assert_eq!(r.status, OracleStatus::NoQuorum);
        let mut empty = agg(2, cfg);
        let r = empty.aggregate(0).unwrap();
        assert_eq!((r.status, r.price), (OracleStatus::NoQuorum, None));
    }

    #[test]
    fn wide_confidence_is_low_confidence_and_too_wide_is_ignored() {
        let mut a = agg(2, AggregatorConfig::default());
        let mut x = q(0, 100.0, 0);
        x.confidence = 1.5;
        a.submit(x).unwrap();
        a.submit(q(1, 100.0, 0)).unwrap();
        // weighted mean conf 0.75 → 0.75% < 1%: valid; raise both.
        assert_eq!(a.aggregate(0).unwrap().status, OracleStatus::Valid);
        let mut y = q(1, 100.0, 0);
        y.confidence = 1.5;
        a.submit(y).unwrap();
        assert_eq!(a.aggregate(0).unwrap().status, OracleStatus::LowConfidence);
        x.confidence = 6.0; // > 5% of price: source ignored → below quorum
        a.submit(x).unwrap();
        assert_eq!(a.aggregate(0).unwrap().status, OracleStatus::Stale);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let mut a = agg(2, AggregatorConfig::default());
        let before = a.clone();
        assert!(matches!(
            a.submit(q(0, f64::NAN, 0)),
            Err(Error::InvalidPrice { .. })
        ));
        assert!(matches!(
            a.submit(q(0, 0.0, 0)),
            Err(Error::InvalidPrice { .. })
        ));
        assert!(matches!(
            a.submit(q(7, 1.0, 0)),
            Err(Error::UnknownSource(_))
        ));
        a.submit(q(0, 1.0, 10)).unwrap();
        let mid = a.clone();
        assert!(matches!(
            a.submit(q(0, 1.0, 9)),
            Err(Error::OutOfOrder { .. })
        ));
        assert_eq!(a, mid);
        a.aggregate(10).unwrap();
        assert!(matches!(
            a.aggregate(9),
            Err(Error::TimeWentBackwards { .. })
        ));
        assert_ne!(a, before);
    }

    #[test]
    fn config_is_validated() {
        let bad = AggregatorConfig {
            quorum: 0,
            ..Default::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(Error::Config {
                field: "quorum",
                ..
            })
        ));
        let specs = [SourceSpec {
            id: SourceId(1),
            weight: 1.0,
        }];
        assert!(Aggregator::new(AggregatorConfig::default(), &specs).is_err()); // quorum 2 > 1
        let dup = [specs[0], specs[0]];
        assert!(Aggregator::new(AggregatorConfig::default(), &dup).is_err());
        let nanw = [
            specs[0],
            SourceSpec {
                id: SourceId(2),
                weight: f64::NAN,
            },
        ];
        assert!(Aggregator::new(AggregatorConfig::default(), &nanw).is_err());
    }
}
