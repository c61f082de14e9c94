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

use crate::models::{PreparedAsset, Venues};
pub use crate::scenario::oracle::{
    BreakerScope, BreakerSpec, OracleFault, OracleSpec, VolMarginSpec,
};
use crate::scenario::Scenario;
use ballast_engine::command::{Command, SourceQuote};
use ballast_engine::ids::{AssetId, MarketId};
use ballast_engine::{Engine, Role, Scope};
use ballast_oracle::breaker::Mode;
use rand_chacha::ChaCha8Rng;

/// Genesis commands: oracles (with an honest first update at `t`), breakers, vol margin.
pub fn genesis_commands(
    sc: &Scenario,
    assets: &[PreparedAsset],
    markets: &[MarketId],
) -> Vec<Command> {
    let g = Role::Governor;
    let mut cmds = Vec::new();
    if let Some(o) = &sc.oracle {
        for (i, a) in assets.iter().enumerate() {
            let asset = AssetId(i as u16 + 1);
            let (sources, config, quotes) = match &a.venues {
                // Each venue's first close (step 0), as `ballast oracle --csv` publishes it.
                Some(v) => (
                    v.layout.specs.clone(),
                    v.layout.config,
                    venue_quotes(&v.quotes[0]),
                ),
                None => (
                    o.specs(),
                    o.aggregator(sc.step_hours),
                    (0..o.sources.count().unwrap_or(0))
                        .map(|j| SourceQuote {
                            source: j,
                            price: a.price0,
                            confidence: a.price0 * o.confidence,
                        })
                        .collect(),
                ),
            };
            cmds.push(Command::ConfigureOracle {
                role: g,
                asset,
                sources,
                config,
                stable: o.stable(),
            });
            cmds.push(Command::OracleUpdate { asset, quotes });
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
                scope: Scope::Pool(crate::units::POOL),
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

/// Quotes of the venues that have a bar closing at this step.
fn venue_quotes(row: &[Option<(f64, f64)>]) -> Vec<SourceQuote> {
    row.iter()
        .enumerate()
        .filter_map(|(j, q)| {
            q.map(|(price, confidence)| SourceQuote {
                source: j as u32,
                price,
                confidence,
            })
        })
        .collect()
}

/// The faults acting on one source at one step, combined.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Faulted {
    out: bool,
    lag: u32,
    factor: f64,
    floor: Option<f64>,
    /// A stuck feed repeats its quote of step `stuck − 1`.
    stuck: Option<u32>,
}

fn faults_at(sc: &Scenario, sym: &str, source: u32, step: u32) -> Faulted {
    let mut f = Faulted {
        out: crate::scenario::bridge::feed_out(sc, sym, step),
        lag: 0,
        factor: 1.0,
        floor: None,
        stuck: None,
    };
    for fault in sc
        .faults
        .oracle
        .iter()
        .filter(|x| x.hits(sym, source, step))
    {
        match fault {
            OracleFault::Outage { .. } => f.out = true,
            OracleFault::Latency { lag_steps, .. } => f.lag = f.lag.max(*lag_steps),
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
                f.factor *= 1.0 + (k - 1.0) * w;
            }
            OracleFault::Freeze { floor: Some(x), .. } => {
                f.floor = Some(f.floor.map_or(*x, |y: f64| y.max(*x)))
            }
            OracleFault::Freeze {
                floor: None, start, ..
            } => f.stuck = Some(f.stuck.map_or(*start, |s: u32| s.min(*start))),
        }
    }
    f
}

/// One path's feed: the model price history (for latency faults), the replayed venues (with
/// `sources = "csv"`) and the noise stream.
pub struct Feed {
    history: Vec<Vec<f64>>,
    venues: Vec<Option<std::sync::Arc<Venues>>>,
    rng: ChaCha8Rng,
    /// Multiple of each (asset, source) quote pushed by an attacker's trades (`attack`).
    pushed: Vec<Vec<f64>>,
    /// `(source, price)` of the last quotes sent for each asset (the report's oracle chart).
    last: Vec<Vec<(u32, f64)>>,
}

impl Feed {
    pub fn new(assets: &[PreparedAsset], rng: ChaCha8Rng) -> Feed {
        Feed {
            history: assets.iter().map(|a| vec![a.price0]).collect(),
            venues: assets.iter().map(|a| a.venues.clone()).collect(),
            rng,
            pushed: vec![Vec::new(); assets.len()],
            last: vec![Vec::new(); assets.len()],
        }
    }

    /// `(source, price)` of the quotes last sent for asset `i`.
    pub fn last_quotes(&self, i: usize) -> &[(u32, f64)] {
        self.last.get(i).map_or(&[], Vec::as_slice)
    }

    /// From now on, source `source` of asset `i` quotes `factor` × its price (an attacker's
    /// spot buying on that venue; 1 when it lets go).
    pub fn push(&mut self, i: usize, source: u32, factor: f64) {
        let v = &mut self.pushed[i];
        if v.len() <= source as usize {
            v.resize(source as usize + 1, 1.0);
        }
        v[source as usize] = factor;
    }

    /// The `OracleUpdate` of asset `i` at `step` for model price `price` (pushes it to the
    /// history). Source `j` quotes the model price (synthetic sources) or venue `j`'s close
    /// (`sources = "csv"`), then `exp(bias_j + noise·Z_j)`, the faults on top. Draws one normal
    /// per source, live or not, so faults never shift the stream.
    pub fn update(&mut self, sc: &Scenario, i: usize, step: u32, price: f64) -> Command {
        let o = sc.oracle.as_ref().expect("feed only with an [oracle]");
        let h = &mut self.history[i];
        h.push(price);
        let venues = self.venues[i].as_deref();
        let n = venues.map_or(o.sources.count().unwrap_or(0), |v| {
            v.layout.labels.len() as u32
        });
        let sym = &sc.assets[i].symbol;
        let mut quotes = Vec::with_capacity(n as usize);
        for j in 0..n {
            let z: f64 = if o.noise > 0.0 {
                crate::math::std_normal(&mut self.rng)
            } else {
                0.0
            };
            let f = faults_at(sc, sym, j, step);
            if f.out {
                continue;
            }
            // The step whose quote the source repeats: `start − 1` when stuck, else `lag` ago.
            let at = match f.stuck {
                Some(s0) => (s0.max(1) as usize - 1).min(h.len() - 1),
                None => h.len().saturating_sub(1 + f.lag as usize),
            };
            // (base price, the confidence of an unmoved quote)
            let (base, conf) = match venues {
                Some(v) => match v.quotes.get(at).and_then(|row| row[j as usize]) {
                    Some(q) => q,
                    None => continue,
                },
                None => (h[at], h[at] * o.confidence),
            };
            let bias = o.bias.as_ref().map_or(0.0, |b| b[j as usize]);
            let pushed = self.pushed[i].get(j as usize).copied().unwrap_or(1.0);
            let mut p = base * libm::exp(bias + o.noise * z) * f.factor * pushed;
            if let Some(x) = f.floor {
                p = p.max(x);
            }
            // A moved quote keeps its relative confidence.
            let confidence = if p == base { conf } else { conf / base * p };
            quotes.push(SourceQuote {
                source: j,
                price: p,
                confidence,
            });
        }
        let last = &mut self.last[i];
        last.clear();
        last.extend(quotes.iter().map(|q| (q.source, q.price)));
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

    fn asset(price0: f64) -> PreparedAsset {
        PreparedAsset {
            model: crate::models::Model::Replay {
                returns: std::sync::Arc::new(Vec::new()),
            },
            price0,
            venues: None,
            start_ms: None,
        }
    }

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
        let mut f = Feed::new(&[asset(100.0)], ChaCha8Rng::seed_from_u64(1));
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
        let mut f = Feed::new(&[asset(100.0)], ChaCha8Rng::seed_from_u64(1));
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
