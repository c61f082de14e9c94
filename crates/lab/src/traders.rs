//! Trader rules (`[agents.traders]`): the leveraged traders open, add and close by rules.
//!
//! Each step (after prices, before the liquidation mechanism, never while the chain is halted)
//! every trader account that is above maintenance is checked in account order:
//! - `take_profit = x`: close when unrealized PnL ≥ x × its margin (equity when it opened);
//! - `stop_loss = y`: close when unrealized PnL ≤ −y × its margin;
//! - `add_on_dip = z` (with `dip = d`): add z × its opening size when the price has moved d
//!   against it since the entry (or the last add); the engine refuses the add when initial
//!   margin does not allow it (counted, and the trader waits for another d);
//! - `reopen_prob = p`: a trader whose position was closed by its own rule (take profit or stop
//!   loss; a liquidated trader is out) reopens with probability p per step, with a fresh draw of
//!   leverage and side from `[population]` on its remaining equity (same asset).
//!
//! Every action is a real `Fill` against the market maker at the engine's price; refused fills
//! are counted. Random draws (reopen, leverage, side) come from the path's ChaCha stream 4, so
//! prices, faults and books are unchanged by the rules.

use crate::error::LabError;
use crate::path::PathResult;
use crate::scenario::Scenario;
use crate::world::{self, House};
use ballast_engine::command::Command;
use ballast_engine::ids::AccountId;
use ballast_engine::num::{Amount, Round, Value};
use ballast_engine::{Engine, Event, HealthKind};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};
use serde::{Deserialize, Serialize};

/// `[agents.traders]`: rules of the trader population (all off by default).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraderRules {
    /// Close when unrealized PnL ≥ this × margin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub take_profit: Option<f64>,
    /// Close when unrealized PnL ≤ −this × margin (in (0, 1)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_loss: Option<f64>,
    /// Add this × the opening size on each adverse move of `dip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_on_dip: Option<f64>,
    /// Adverse move (fraction of the entry price) that triggers an add (default 0.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dip: Option<f64>,
    /// Probability per step that a trader without a position reopens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reopen_prob: Option<f64>,
}

impl TraderRules {
    pub fn dip(&self) -> f64 {
        self.dip.unwrap_or(0.1)
    }

    pub fn validate(&self) -> Result<(), LabError> {
        let f = |a: &str, b: &str| Err(LabError::field(format!("agents.traders.{a}"), b));
        let pos = |x: Option<f64>| x.is_none_or(|x| x.is_finite() && x > 0.0);
        if !pos(self.take_profit) {
            return f("take_profit", "must be > 0");
        }
        if !self
            .stop_loss
            .is_none_or(|x| x.is_finite() && x > 0.0 && x < 1.0)
        {
            return f("stop_loss", "must be in (0, 1)");
        }
        if !pos(self.add_on_dip) {
            return f("add_on_dip", "must be > 0");
        }
        if !self.dip.is_none_or(|x| x.is_finite() && x > 0.0 && x < 1.0) {
            return f("dip", "must be in (0, 1)");
        }
        if !self
            .reopen_prob
            .is_none_or(|x| x.is_finite() && (0.0..=1.0).contains(&x))
        {
            return f("reopen_prob", "must be in [0, 1]");
        }
        Ok(())
    }
}

/// One trader's rule state.
#[derive(Debug, Clone)]
struct Trader {
    id: AccountId,
    asset: usize,
    /// Equity when it (re)opened, quote-native: "its margin".
    base: i64,
    /// Price of the entry or the last add (the dip reference).
    reference: f64,
    /// Opening size (base-native, signed).
    size0: i64,
    /// Closed by its own rule (may reopen); liquidated traders never reopen.
    closed_by_rule: bool,
}

/// The rule-following traders of one path.
pub struct Traders {
    traders: Vec<Trader>,
    rng: ChaCha8Rng,
}

fn equity(eng: &Engine, id: AccountId) -> Option<(i64, bool)> {
    let b = eng.breakdown(id, HealthKind::Maintenance).ok()?;
    let eq = Value(b.health.0 + b.requirement.0)
        .to_quote(Round::Down)
        .ok()?
        .0;
    Some((eq, b.health.0 >= 0))
}

fn position(eng: &Engine, house: &House, id: AccountId) -> Option<(usize, i64)> {
    eng.state().accounts[id.idx()]
        .positions
        .iter()
        .find(|p| p.size.0 != 0)
        .and_then(|p| {
            house
                .markets
                .iter()
                .position(|m| *m == p.market)
                .map(|i| (i, p.size.0))
        })
}

impl Traders {
    /// Reads the book at t0 (after `populate`).
    pub fn new(sc: &Scenario, eng: &Engine, house: &House, rng: ChaCha8Rng) -> Traders {
        let mut traders = Vec::new();
        for k in 0..sc.population.accounts {
            let id = AccountId(house.first_trader + k);
            let (asset, size0) = position(eng, house, id).unwrap_or((0, 0));
            let base = equity(eng, id).map_or(0, |e| e.0);
            let reference = crate::feeds::engine_price(eng, asset).unwrap_or(0.0);
            traders.push(Trader {
                id,
                asset,
                base,
                reference,
                size0,
                closed_by_rule: false,
            });
        }
        Traders { traders, rng }
    }

    /// Applies the rules at one step.
    #[allow(clippy::too_many_arguments)]
    pub fn on_step(
        &mut self,
        sc: &Scenario,
        eng: &mut Engine,
        house: &House,
        buf: &mut Vec<Event>,
        t: i64,
        path: u64,
        step: u32,
        m: &mut PathResult,
    ) -> Result<(), LabError> {
        let rules = sc.agents.traders.as_ref().expect("traders configured");
        let u01 = Uniform::new(0.0, 1.0).expect("valid");
        let pop = &sc.population;
        for tr in self.traders.iter_mut() {
            let Some(px) = crate::feeds::engine_price(eng, tr.asset) else {
                continue;
            };
            let (id, asset) = (tr.id, tr.asset);
            let fill = |eng: &mut Engine, buf: &mut Vec<Event>, size: i64| {
                let cmd = Command::Fill {
                    market: house.markets[asset],
                    taker: id,
                    maker: house.maker,
                    size: Amount(size),
                    price: px,
                };
                world::apply(eng, buf, t, cmd, path, step).is_ok()
            };
            match position(eng, house, tr.id) {
                Some((_, size)) => {
                    let Some((eq, healthy)) = equity(eng, tr.id) else {
                        continue;
                    };
                    // Below maintenance the account belongs to the liquidation mechanism.
                    if !healthy || tr.base <= 0 {
                        continue;
                    }
                    let pnl = (eq - tr.base) as f64 / tr.base as f64;
                    let close = rules.take_profit.is_some_and(|x| pnl >= x)
                        || rules.stop_loss.is_some_and(|y| pnl <= -y);
                    if close {
                        if fill(eng, buf, -size) {
                            m.trader_closes += 1;
                            tr.closed_by_rule = true;
                        } else {
                            m.trader_refused += 1;
                        }
                        continue;
                    }
                    if let Some(z) = rules.add_on_dip {
                        let d = rules.dip();
                        let adverse = if size > 0 {
                            px <= tr.reference * (1.0 - d)
                        } else {
                            px >= tr.reference * (1.0 + d)
                        };
                        if adverse {
                            // Refused or not, the next add waits for another `dip`.
                            tr.reference = px;
                            let add = (tr.size0 as f64 * z).round() as i64;
                            if add == 0 {
                                continue;
                            }
                            if fill(eng, buf, add) {
                                m.trader_adds += 1;
                            } else {
                                m.trader_refused += 1;
                            }
                        }
                    }
                }
                None => {
                    let Some(p) = rules.reopen_prob else {
                        continue;
                    };
                    if !tr.closed_by_rule {
                        continue;
                    }
                    if u01.sample(&mut self.rng) >= p {
                        continue;
                    }
                    let lev = world::sample(&pop.leverage, &mut self.rng);
                    let long = if pop.long_fraction < 1.0 {
                        u01.sample(&mut self.rng) < pop.long_fraction
                    } else {
                        true
                    };
                    let eq = crate::keeper::KeeperLiquidator::balance(eng, tr.id);
                    if eq <= 0 {
                        continue;
                    }
                    let dec = sc.assets[tr.asset].decimals as i32;
                    let usd = eq as f64 / 1e6;
                    let qty = (usd * lev / px * 10f64.powi(dec)).floor() as i64;
                    if qty <= 0 {
                        continue;
                    }
                    let size = if long { qty } else { -qty };
                    if fill(eng, buf, size) {
                        m.trader_reopens += 1;
                        tr.closed_by_rule = false;
                        tr.base = equity(eng, tr.id).map_or(eq, |e| e.0);
                        tr.reference = px;
                        tr.size0 = size;
                    } else {
                        m.trader_refused += 1;
                    }
                }
            }
        }
        Ok(())
    }
}
