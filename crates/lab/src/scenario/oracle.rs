//! Oracle, oracle-fault, breaker and vol-margin tables of a scenario (`[oracle]`,
//! `[[faults.oracle]]`, `[breaker]`, `[vol_margin]`): plain data, their engine configurations and
//! their validation. The feed that turns them into engine commands lives in `feeds`.

use super::Scenario;
use crate::error::LabError;
use ballast_engine::volmargin::{VolMarginConfig, VolModel};
use ballast_oracle::aggregate::{AggregatorConfig, SourceId, SourceSpec};
use ballast_oracle::breaker::BreakerConfig;
use ballast_oracle::timeline::TimelineConfig;
use serde::{Deserialize, Serialize};

/// `[oracle] sources`: a number of synthetic sources per asset (the model price with noise,
/// bias and faults), or `"csv"`: every venue of the asset's replayed CSV is one source, quoting
/// its own bar closes (faults on top), aggregated as `ballast oracle --csv` aggregates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sources {
    Count(u32),
    Csv,
}

impl Sources {
    /// The number of synthetic sources (`None` for `"csv"`: one per venue, known once the CSV
    /// is read).
    pub fn count(self) -> Option<u32> {
        match self {
            Sources::Count(n) => Some(n),
            Sources::Csv => None,
        }
    }
}

impl Serialize for Sources {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Sources::Count(n) => s.serialize_u32(*n),
            Sources::Csv => s.serialize_str("csv"),
        }
    }
}

impl<'de> Deserialize<'de> for Sources {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Sources;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of sources or \"csv\" (each venue of the replayed CSV)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Sources, E> {
                u32::try_from(v)
                    .map(Sources::Count)
                    .map_err(|_| E::custom(format!("{v} sources is too many")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Sources, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("{v}: the number of sources must be >= 0")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Sources, E> {
                match v {
                    "csv" => Ok(Sources::Csv),
                    _ => Err(E::custom(format!(
                        "unknown source set `{v}`: a number of sources or \"csv\""
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `[oracle]`: the same source set for every asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OracleSpec {
    /// Number of sources (venues) per asset, or `"csv"` (see [`Sources`]).
    pub sources: Sources,
    /// Weights of the sources (default all 1).
    pub weights: Option<Vec<f64>>,
    /// Standard deviation of each source's log noise per step.
    pub noise: f64,
    /// Fixed venue divergence per source (log), e.g. `[0, 0.002, -0.001]`.
    pub bias: Option<Vec<f64>>,
    /// Each quote's confidence half-width, as a fraction of its price.
    pub confidence: f64,
    /// Fresh sources needed for an aggregate (Maker `bar`).
    pub quorum: usize,
    pub max_staleness_s: f64,
    pub outlier_k: f64,
    pub outlier_floor: f64,
    /// Relative band around the median in which a venue is never an outlier.
    pub outlier_tolerance: f64,
    pub max_outlier_weight: f64,
    pub max_spread: f64,
    pub max_confidence: f64,
    pub max_hold_s: f64,
    /// Whether the engine's stable price (Mango v4 defaults) is in force; `false` installs
    /// the loosest stable price the oracle accepts (99 % growth per interval and per second),
    /// a knock-out for ablations.
    pub stable_price: bool,
}

impl OracleSpec {
    /// The stable-price settings installed with each asset's oracle.
    pub fn stable(&self) -> ballast_oracle::smooth::StablePriceConfig {
        let mango = ballast_oracle::smooth::StablePriceConfig::default();
        if self.stable_price {
            return mango;
        }
        ballast_oracle::smooth::StablePriceConfig {
            delay_growth_limit: 0.99,
            stable_growth_limit_per_s: 0.99,
            ..mango
        }
    }
}

impl Default for OracleSpec {
    fn default() -> Self {
        let a = AggregatorConfig::default();
        OracleSpec {
            sources: Sources::Count(3),
            weights: None,
            noise: 0.0,
            bias: None,
            confidence: 0.0005,
            quorum: a.quorum,
            max_staleness_s: 0.0,
            outlier_k: a.outlier_k,
            outlier_floor: a.outlier_floor,
            outlier_tolerance: a.outlier_tolerance,
            max_outlier_weight: a.max_outlier_weight,
            max_spread: a.max_spread,
            max_confidence: a.max_confidence,
            max_hold_s: a.max_hold_ms as f64 / 1000.0,
            stable_price: true,
        }
    }
}

/// One oracle fault (`[[faults.oracle]]`), active on steps `[start, end)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OracleFault {
    /// The source sends nothing.
    Outage {
        #[serde(default)]
        asset: Option<String>,
        source: u32,
        start: u32,
        end: u32,
    },
    /// The source quotes the price of `lag_steps` steps ago (a slow or stuck feed).
    Latency {
        #[serde(default)]
        asset: Option<String>,
        source: u32,
        lag_steps: u32,
        start: u32,
        end: u32,
    },
    /// The source's price is multiplied by `factor`, reached linearly over `ramp_steps`
    /// (Mango, Oct 2022: one thin venue ×25 in ~10 minutes).
    Manipulation {
        #[serde(default)]
        asset: Option<String>,
        source: u32,
        factor: f64,
        #[serde(default)]
        ramp_steps: u32,
        start: u32,
        end: u32,
    },
    /// The source stops following the market down (LUNA, May 2022: a feed stuck at its floor
    /// while the market fell through it). With `floor` it quotes `max(floor, its honest
    /// quote)`; without, it repeats its honest price of step `start − 1` (a stuck feed).
    /// `from_step`/`to_step` are accepted for `start`/`end`.
    Freeze {
        #[serde(default)]
        asset: Option<String>,
        source: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        floor: Option<f64>,
        #[serde(alias = "from_step")]
        start: u32,
        #[serde(alias = "to_step")]
        end: u32,
    },
}

impl OracleFault {
    /// (asset filter, source, start, end) of the fault.
    pub fn parts(&self) -> (&Option<String>, u32, u32, u32) {
        match self {
            OracleFault::Outage {
                asset,
                source,
                start,
                end,
            }
            | OracleFault::Latency {
                asset,
                source,
                start,
                end,
                ..
            }
            | OracleFault::Manipulation {
                asset,
                source,
                start,
                end,
                ..
            }
            | OracleFault::Freeze {
                asset,
                source,
                start,
                end,
                ..
            } => (asset, *source, *start, *end),
        }
    }
    pub fn hits(&self, symbol: &str, source: u32, step: u32) -> bool {
        let (asset, s, start, end) = self.parts();
        s == source && start <= step && step < end && asset.as_deref().is_none_or(|a| a == symbol)
    }
}

/// Where breakers go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerScope {
    Market,
    Pool,
    Both,
}

/// `[breaker]`: the engine's circuit breaker (units: σ, minutes, hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSpec {
    pub scope: BreakerScope,
    pub cautious_sigma: f64,
    pub halt_sigma: f64,
    pub move_window_min: f64,
    pub vol_half_life_h: f64,
    pub min_vol_samples: u32,
    pub sigma_floor_per_sqrt_hour: f64,
    pub cooldown_min: f64,
    pub grace_min: f64,
    pub grace_liquidation_health: f64,
}

impl Default for BreakerSpec {
    fn default() -> Self {
        let b = BreakerConfig::default();
        BreakerSpec {
            scope: BreakerScope::Market,
            cautious_sigma: b.cautious_sigma,
            halt_sigma: b.halt_sigma,
            move_window_min: b.move_window_ms as f64 / 60_000.0,
            vol_half_life_h: b.vol_half_life_ms as f64 / 3_600_000.0,
            min_vol_samples: b.min_vol_samples,
            sigma_floor_per_sqrt_hour: b.sigma_floor_per_sqrt_hour,
            cooldown_min: b.cooldown_ms as f64 / 60_000.0,
            grace_min: b.grace_ms as f64 / 60_000.0,
            grace_liquidation_health: b.grace_liquidation_health,
        }
    }
}

/// `[vol_margin]`: the engine's volatility add-on on every market (RiskMetrics EWMA
/// `σ²_t = λσ²_{t−1} + (1−λ)r²_t`; add-on `k·σ·√horizon`, moving at most `max_step` per interval).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VolMarginSpec {
    pub lambda: f64,
    pub interval_min: f64,
    pub k: f64,
    /// Liquidation horizon, in intervals.
    pub horizon: f64,
    pub max_step: f64,
}

impl Default for VolMarginSpec {
    fn default() -> Self {
        VolMarginSpec {
            lambda: 0.94,
            interval_min: 60.0,
            k: 3.0,
            horizon: 1.0,
            max_step: 0.02,
        }
    }
}

fn ms(x: f64) -> i64 {
    (x * 1000.0).round() as i64
}

impl OracleSpec {
    /// The engine's aggregator configuration; staleness defaults to 1.5 steps.
    pub fn aggregator(&self, step_hours: f64) -> AggregatorConfig {
        let stale = if self.max_staleness_s > 0.0 {
            self.max_staleness_s
        } else {
            step_hours * 3600.0 * 1.5
        };
        AggregatorConfig {
            max_staleness_ms: ms(stale).max(1),
            quorum: self.quorum,
            outlier_k: self.outlier_k,
            outlier_floor: self.outlier_floor,
            outlier_tolerance: self.outlier_tolerance,
            max_outlier_weight: self.max_outlier_weight,
            max_spread: self.max_spread,
            max_confidence: self.max_confidence,
            max_source_confidence: AggregatorConfig::default()
                .max_source_confidence
                .max(self.confidence * 2.0),
            max_hold_ms: ms(self.max_hold_s),
        }
    }
    /// The replay configuration `ballast oracle --csv` uses, with this table's outlier, spread
    /// and confidence limits; staleness, quorum and hold keep the replay's per-asset defaults
    /// (1.5 bars, a majority of the venues, the staleness) unless this table sets them.
    pub fn timeline_config(&self) -> TimelineConfig {
        let d = AggregatorConfig::default();
        TimelineConfig {
            aggregator: AggregatorConfig {
                outlier_k: self.outlier_k,
                outlier_floor: self.outlier_floor,
                outlier_tolerance: self.outlier_tolerance,
                max_outlier_weight: self.max_outlier_weight,
                max_spread: self.max_spread,
                max_confidence: self.max_confidence,
                ..d
            },
            staleness_ms: (self.max_staleness_s > 0.0).then(|| ms(self.max_staleness_s).max(1)),
            quorum: (self.quorum != d.quorum).then_some(self.quorum),
            hold_ms: (ms(self.max_hold_s) != d.max_hold_ms).then(|| ms(self.max_hold_s)),
            ..TimelineConfig::default()
        }
    }

    /// Source weights of `n` synthetic sources (all 1 unless `weights` says otherwise).
    pub fn specs(&self) -> Vec<SourceSpec> {
        (0..self.sources.count().unwrap_or(0))
            .map(|j| SourceSpec {
                id: SourceId(j),
                weight: self
                    .weights
                    .as_ref()
                    .map_or(1.0, |w| w.get(j as usize).copied().unwrap_or(1.0)),
            })
            .collect()
    }
}

impl BreakerSpec {
    pub fn config(&self) -> BreakerConfig {
        BreakerConfig {
            cautious_sigma: self.cautious_sigma,
            halt_sigma: self.halt_sigma,
            move_window_ms: (self.move_window_min * 60_000.0).round() as i64,
            vol_half_life_ms: (self.vol_half_life_h * 3_600_000.0).round() as i64,
            min_vol_samples: self.min_vol_samples,
            sigma_floor_per_sqrt_hour: self.sigma_floor_per_sqrt_hour,
            cooldown_ms: (self.cooldown_min * 60_000.0).round() as i64,
            grace_ms: (self.grace_min * 60_000.0).round() as i64,
            grace_liquidation_health: self.grace_liquidation_health,
            ..BreakerConfig::default()
        }
    }
}

impl VolMarginSpec {
    pub fn config(&self) -> VolMarginConfig {
        VolMarginConfig {
            model: VolModel::Ewma {
                lambda: self.lambda,
            },
            interval_ms: (self.interval_min * 60_000.0).round() as i64,
            k: self.k,
            horizon: self.horizon,
            max_step: self.max_step,
        }
    }
}

/// Scenario checks of the oracle, fault, breaker and vol-margin tables; errors name the field.
pub fn validate(sc: &Scenario) -> Result<(), LabError> {
    fn f(a: impl Into<String>, b: impl Into<String>) -> LabError {
        LabError::field(a, b)
    }
    if let Some(o) = &sc.oracle {
        match o.sources {
            Sources::Count(n) => validate_count(o, n)?,
            Sources::Csv => validate_csv(sc, o)?,
        }
        if !(o.noise.is_finite() && o.noise >= 0.0) {
            return Err(f("oracle.noise", format!("must be >= 0 (got {})", o.noise)));
        }
        if !(o.confidence.is_finite() && o.confidence >= 0.0) {
            return Err(f("oracle.confidence", "must be >= 0"));
        }
        o.aggregator(sc.step_hours)
            .validate()
            .map_err(|e| f("oracle", e.to_string()))?;
    }
    for (i, fault) in sc.faults.oracle.iter().enumerate() {
        let at = format!("faults.oracle[{i}]");
        let Some(o) = &sc.oracle else {
            return Err(f(at, "an oracle fault needs an [oracle] table"));
        };
        let (asset, source, start, end) = fault.parts();
        // With `"csv"` the venues are known once the CSV is read (checked there).
        if let Some(n) = o.sources.count().filter(|n| source >= *n) {
            return Err(f(
                format!("{at}.source"),
                format!("no source {source} (sources are 0..{n})"),
            ));
        }
        if end < start {
            return Err(f(format!("{at}.end"), "must be >= start"));
        }
        if let Some(a) = asset {
            if !sc.assets.iter().any(|x| &x.symbol == a) {
                return Err(f(format!("{at}.asset"), format!("no asset `{a}`")));
            }
        }
        if let OracleFault::Manipulation { factor, .. } = fault {
            if !(factor.is_finite() && *factor > 0.0) {
                return Err(f(format!("{at}.factor"), "must be > 0"));
            }
        }
        if let OracleFault::Freeze { floor: Some(x), .. } = fault {
            if !(x.is_finite() && *x > 0.0) {
                return Err(f(format!("{at}.floor"), "must be > 0"));
            }
        }
    }
    if let Some(b) = &sc.breaker {
        if sc.oracle.is_none() {
            return Err(f(
                "breaker",
                "a breaker needs an [oracle] table (breakers step on oracle updates)",
            ));
        }
        b.config()
            .validate()
            .map_err(|e| f("breaker", e.to_string()))?;
    }
    if let Some(v) = &sc.vol_margin {
        if !(v.interval_min.is_finite() && v.interval_min > 0.0) {
            return Err(f("vol_margin.interval_min", "must be > 0"));
        }
        ballast_engine::volmargin::VolMargin::new(v.config())
            .map_err(|e| f("vol_margin", e.to_string()))?;
    }
    Ok(())
}

/// Checks of `sources = N`: quorum within the sources, one weight and bias per source.
fn validate_count(o: &OracleSpec, n: u32) -> Result<(), LabError> {
    fn f(a: impl Into<String>, b: impl Into<String>) -> LabError {
        LabError::field(a, b)
    }
    if n == 0 {
        return Err(f("oracle.sources", "at least one source"));
    }
    if o.quorum == 0 || o.quorum > n as usize {
        return Err(f(
            "oracle.quorum",
            format!("must be within 1..={n} (got {})", o.quorum),
        ));
    }
    for (name, v) in [("oracle.weights", &o.weights), ("oracle.bias", &o.bias)] {
        if let Some(v) = v {
            if v.len() != n as usize {
                return Err(f(name, format!("needs one entry per source ({n})")));
            }
            if v.iter().any(|x| !x.is_finite()) {
                return Err(f(name, "entries must be finite"));
            }
        }
    }
    Ok(())
}

/// Checks of `sources = "csv"`: every asset replays a CSV (whose venues are the sources), and
/// the per-source lists, whose length is not known before the CSV is read, are not given.
fn validate_csv(sc: &Scenario, o: &OracleSpec) -> Result<(), LabError> {
    fn f(a: impl Into<String>, b: impl Into<String>) -> LabError {
        LabError::field(a, b)
    }
    for (i, a) in sc.assets.iter().enumerate() {
        if !matches!(a.model, super::ModelSpec::Replay { .. }) {
            return Err(f(
                format!("assets[{i}].model"),
                "oracle.sources = \"csv\" needs a `replay` model (its CSV's venues are the sources)",
            ));
        }
    }
    for (name, v) in [("oracle.weights", &o.weights), ("oracle.bias", &o.bias)] {
        if v.is_some() {
            return Err(f(
                name,
                "not with sources = \"csv\" (one source per venue; the venues are only known from the CSV)",
            ));
        }
    }
    if o.quorum == 0 {
        return Err(f("oracle.quorum", "must be at least 1"));
    }
    Ok(())
}
