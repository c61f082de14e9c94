//! Multi-source oracles, oracle faults, circuit breakers and volatility-adjusted margin in
//! scenarios.
//!
//! With an `[oracle]` table, prices no longer enter the engine by `SetPrice`: every asset gets a
//! multi-source oracle (`ConfigureOracle`: median with outlier rejection, staleness, confidence,
//! a bounded stable price — see `crates/oracle`), and each step publishes one quote per live
//! source in one `OracleUpdate`. Source `j` of an asset quotes
//! `P_model(t − lag_j) · exp(bias_j + noise · Z_j) · factor_j(t)`, where `Z_j` are standard
//! normals drawn from the path's oracle stream (ChaCha stream 3, so the model prices are the
//! same with or without an oracle: common random numbers), `lag_j` comes from a latency fault,
//! `factor_j` from a manipulation fault, and a source in an outage window sends nothing (it goes
//! stale after `max_staleness_s`).
//!
//! `[breaker]` installs the engine's circuit breaker (`ConfigureBreaker`) on every market and/or
//! the pool: k·σ move triggers, oracle-status demands, cooldown and Aave-style grace period. The
//! lab records the mode of each breaker after every step. `[vol_margin]` adds the engine's
//! EWMA/GARCH margin add-on (`ConfigureVolMargin`) to every market.

use crate::error::LabError;
use crate::scenario::Scenario;
use ballast_engine::command::{Command, SourceQuote};
use ballast_engine::ids::{AssetId, MarketId};
use ballast_engine::volmargin::{VolMarginConfig, VolModel};
use ballast_engine::{Engine, Role, Scope};
use ballast_oracle::aggregate::{AggregatorConfig, SourceId, SourceSpec};
use ballast_oracle::breaker::{BreakerConfig, Mode};
use ballast_oracle::smooth::StablePriceConfig;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// `[oracle]`: the same source set for every asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OracleSpec {
    /// Number of sources (venues) per asset.
    pub sources: u32,
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
}

impl Default for OracleSpec {
    fn default() -> Self {
        let a = AggregatorConfig::default();
        OracleSpec {
            sources: 3,
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
    fn parts(&self) -> (&Option<String>, u32, u32, u32) {
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
    fn hits(&self, symbol: &str, source: u32, step: u32) -> bool {
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
    fn specs(&self) -> Vec<SourceSpec> {
        (0..self.sources)
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
        if o.sources == 0 {
            return Err(f("oracle.sources", "at least one source"));
        }
        if o.quorum == 0 || o.quorum > o.sources as usize {
            return Err(f(
                "oracle.quorum",
                format!("must be within 1..={} (got {})", o.sources, o.quorum),
            ));
        }
        for (name, v) in [("oracle.weights", &o.weights), ("oracle.bias", &o.bias)] {
            if let Some(v) = v {
                if v.len() != o.sources as usize {
                    return Err(f(
                        name,
                        format!("needs one entry per source ({})", o.sources),
                    ));
                }
                if v.iter().any(|x| !x.is_finite()) {
                    return Err(f(name, "entries must be finite"));
                }
            }
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
        if source >= o.sources {
            return Err(f(
                format!("{at}.source"),
                format!("no source {source} (sources are 0..{})", o.sources),
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

/// Genesis commands: oracles (with an honest first update at `t`), breakers, vol margin.
pub fn genesis_commands(sc: &Scenario, prices: &[f64], markets: &[MarketId]) -> Vec<Command> {
    let g = Role::Governor;
    let mut cmds = Vec::new();
    if let Some(o) = &sc.oracle {
        for (i, _) in sc.assets.iter().enumerate() {
            let asset = AssetId(i as u16 + 1);
            cmds.push(Command::ConfigureOracle {
                role: g,
                asset,
                sources: o.specs(),
                config: o.aggregator(sc.step_hours),
                stable: StablePriceConfig::default(),
            });
            cmds.push(Command::OracleUpdate {
                asset,
                quotes: (0..o.sources)
                    .map(|j| SourceQuote {
                        source: j,
                        price: prices[i],
                        confidence: prices[i] * o.confidence,
                    })
                    .collect(),
            });
        }
    }
    if let Some(b) = &sc.breaker {
        let config = b.config();
        if matches!(b.scope, BreakerScope::Market | BreakerScope::Both) {
            for &m in markets {
                cmds.push(Command::ConfigureBreaker {
                    role: g,
                    scope: Scope::Market(m),
                    config,
                });
            }
        }
        if matches!(b.scope, BreakerScope::Pool | BreakerScope::Both) {
            cmds.push(Command::ConfigureBreaker {
                role: g,
                scope: Scope::Pool(crate::world::POOL),
                config,
            });
        }
    }
    if let Some(v) = &sc.vol_margin {
        for &m in markets {
            cmds.push(Command::ConfigureVolMargin {
                role: g,
                market: m,
                config: v.config(),
            });
        }
    }
    cmds
}

/// One path's feed: the model price history (for latency faults) and the noise stream.
pub struct Feed {
    history: Vec<Vec<f64>>,
    rng: ChaCha8Rng,
}

impl Feed {
    pub fn new(prices0: &[f64], rng: ChaCha8Rng) -> Feed {
        Feed {
            history: prices0.iter().map(|p| vec![*p]).collect(),
            rng,
        }
    }

    /// The `OracleUpdate` of asset `i` at `step` for model price `price` (pushes it to the
    /// history). Draws one normal per source, live or not, so faults never shift the stream.
    pub fn update(&mut self, sc: &Scenario, i: usize, step: u32, price: f64) -> Command {
        let o = sc.oracle.as_ref().expect("feed only with an [oracle]");
        let h = &mut self.history[i];
        h.push(price);
        let sym = &sc.assets[i].symbol;
        let mut quotes = Vec::with_capacity(o.sources as usize);
        for j in 0..o.sources {
            let z: f64 = if o.noise > 0.0 {
                StandardNormal.sample(&mut self.rng)
            } else {
                0.0
            };
            let mut lag = 0u32;
            let mut factor = 1.0;
            let mut out = false;
            let mut floor: Option<f64> = None;
            let mut stuck: Option<u32> = None;
            for fault in sc.faults.oracle.iter().filter(|f| f.hits(sym, j, step)) {
                match fault {
                    OracleFault::Outage { .. } => out = true,
                    OracleFault::Latency { lag_steps, .. } => lag = lag.max(*lag_steps),
                    OracleFault::Manipulation {
                        factor: k,
                        ramp_steps,
                        start,
                        ..
                    } => {
                        // Linear ramp to the full factor over `ramp_steps`.
                        let w = if *ramp_steps == 0 {
                            1.0
                        } else {
                            ((step - start + 1) as f64 / *ramp_steps as f64).min(1.0)
                        };
                        factor *= 1.0 + (k - 1.0) * w;
                    }
                    OracleFault::Freeze { floor: Some(x), .. } => {
                        floor = Some(floor.map_or(*x, |y: f64| y.max(*x)))
                    }
                    OracleFault::Freeze {
                        floor: None, start, ..
                    } => stuck = Some(stuck.map_or(*start, |s: u32| s.min(*start))),
                }
            }
            if out {
                continue;
            }
            // A stuck feed repeats the model price of step `start − 1` (history index).
            let base = match stuck {
                Some(s0) => h[(s0.max(1) as usize - 1).min(h.len() - 1)],
                None => h[h.len().saturating_sub(1 + lag as usize)],
            };
            let bias = o.bias.as_ref().map_or(0.0, |b| b[j as usize]);
            let mut p = base * (bias + o.noise * z).exp() * factor;
            if let Some(x) = floor {
                p = p.max(x);
            }
            quotes.push(SourceQuote {
                source: j,
                price: p,
                confidence: p * o.confidence,
            });
        }
        Command::OracleUpdate {
            asset: AssetId(i as u16 + 1),
            quotes,
        }
    }
}

/// Index of a breaker mode in `PathResult::breaker_steps`.
pub fn mode_index(m: Mode) -> usize {
    match m {
        Mode::Normal => 0,
        Mode::Cautious => 1,
        Mode::Halted => 2,
        Mode::Recovering => 3,
    }
}

/// Adds the current mode of every configured breaker to the path's counters; returns the
/// most severe mode (its [`mode_index`]) if any breaker is configured.
pub fn record_modes(eng: &Engine, m: &mut crate::path::PathResult) -> Option<u8> {
    let st = eng.state();
    let modes = st
        .markets
        .iter()
        .filter_map(|mk| mk.breaker.as_ref())
        .chain(st.pools.iter().filter_map(|p| p.breaker.as_ref()))
        .map(|b| b.mode());
    let mut worst: Option<Mode> = None;
    for mode in modes {
        m.breaker_steps[mode_index(mode)] += 1;
        m.breaker_scope_steps += 1;
        if worst.is_none_or(|w| mode.severity() > w.severity()) {
            worst = Some(mode);
        }
    }
    worst.map(|w| mode_index(w) as u8)
}

/// The engine's current price of asset `i` (USD), if it has one.
pub fn engine_price(eng: &Engine, i: usize) -> Option<f64> {
    let st = eng.state();
    let a = &st.assets[i + 1];
    let q = st.assets[0].decimals;
    a.price.map(|p| p.to_human(a.decimals, q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn faults_shape_each_source_quote() {
        let text = r#"
name = "f"
paths = 1
horizon = 10
step_hours = 1.0
[[assets]]
symbol = "X"
price = 100.0
model = { kind = "gbm", sigma = 0.0 }
[population]
accounts = 1
margin = { dist = "fixed", value = 100.0 }
leverage = { dist = "fixed", value = 2.0 }
[oracle]
sources = 3
quorum = 2
[[faults.oracle]]
kind = "outage"
source = 0
start = 2
end = 4
[[faults.oracle]]
kind = "latency"
source = 1
lag_steps = 2
start = 1
end = 10
[[faults.oracle]]
kind = "manipulation"
source = 2
factor = 25.0
ramp_steps = 4
start = 3
end = 10
"#;
        let sc = Scenario::from_toml(text, "t", &[]).unwrap();
        let mut f = Feed::new(&[100.0], ChaCha8Rng::seed_from_u64(1));
        let quotes = |c: Command| match c {
            Command::OracleUpdate { quotes, .. } => quotes
                .iter()
                .map(|q| (q.source, q.price))
                .collect::<Vec<_>>(),
            _ => unreachable!(),
        };
        // Step 1: model 110; source 1 lags two steps (only the start price exists).
        assert_eq!(
            quotes(f.update(&sc, 0, 1, 110.0)),
            [(0, 110.0), (1, 100.0), (2, 110.0)]
        );
        // Step 2: source 0 is out.
        assert_eq!(quotes(f.update(&sc, 0, 2, 120.0)), [(1, 100.0), (2, 120.0)]);
        // Step 3: manipulation ramps: factor 1 + 24·1/4 = 7.
        let q = quotes(f.update(&sc, 0, 3, 130.0));
        assert_eq!(q[0], (1, 110.0));
        assert!((q[1].1 - 130.0 * 7.0).abs() < 1e-9, "{q:?}");
        // Step 6 onwards: the full x25 on source 2; source 0 is back.
        f.update(&sc, 0, 4, 130.0);
        f.update(&sc, 0, 5, 130.0);
        let q = quotes(f.update(&sc, 0, 6, 130.0));
        assert_eq!(q[0], (0, 130.0));
        assert!((q[2].1 - 130.0 * 25.0).abs() < 1e-9);
    }

    #[test]
    fn a_frozen_source_stops_following_the_market_down() {
        let text = r#"
name = "f"
paths = 1
horizon = 10
step_hours = 1.0
[[assets]]
symbol = "X"
price = 100.0
model = { kind = "gbm", sigma = 0.0 }
[population]
accounts = 1
margin = { dist = "fixed", value = 100.0 }
leverage = { dist = "fixed", value = 2.0 }
[oracle]
sources = 2
quorum = 1
[[faults.oracle]]
kind = "freeze"
source = 0
floor = 80.0
from_step = 2
to_step = 5
[[faults.oracle]]
kind = "freeze"
source = 1
start = 3
end = 5
"#;
        let sc = Scenario::from_toml(text, "t", &[]).unwrap();
        let mut f = Feed::new(&[100.0], ChaCha8Rng::seed_from_u64(1));
        let quotes = |c: Command| match c {
            Command::OracleUpdate { quotes, .. } => {
                quotes.iter().map(|q| q.price).collect::<Vec<_>>()
            }
            _ => unreachable!(),
        };
        assert_eq!(quotes(f.update(&sc, 0, 1, 90.0)), [90.0, 90.0]);
        // Source 0 floors at 80 but follows the market above it.
        assert_eq!(quotes(f.update(&sc, 0, 2, 85.0)), [85.0, 85.0]);
        // Source 1 repeats its price of step 2 (a stuck feed).
        assert_eq!(quotes(f.update(&sc, 0, 3, 70.0)), [80.0, 85.0]);
        assert_eq!(quotes(f.update(&sc, 0, 4, 120.0)), [120.0, 85.0]);
        // The window ends: both follow the market again.
        assert_eq!(quotes(f.update(&sc, 0, 5, 50.0)), [50.0, 50.0]);
    }
}
