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

pub use crate::scenario::oracle::{
    BreakerScope, BreakerSpec, OracleFault, OracleSpec, VolMarginSpec,
};
use crate::scenario::Scenario;
use ballast_engine::command::{Command, SourceQuote};
use ballast_engine::ids::{AssetId, MarketId};
use ballast_engine::{Engine, Role, Scope};
use ballast_oracle::breaker::Mode;
use ballast_oracle::smooth::StablePriceConfig;
use rand_chacha::ChaCha8Rng;

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
                crate::math::std_normal(&mut self.rng)
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
            let mut p = base * libm::exp(bias + o.noise * z) * factor;
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
