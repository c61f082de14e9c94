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
//! The traders are one [`Agent`]: every action is a real `Fill` against the market maker at the engine's price; refused fills
//! are counted. Random draws (reopen, leverage, side) come from the path's ChaCha stream 4, so
//! prices, faults and books are unchanged by the rules.

use crate::agent::{send, Act, Agent, Order, Outcome, Purpose, StepContext};
use crate::error::LabError;
use crate::record::quote_balance;
pub use crate::scenario::rules::TraderRules;
use crate::scenario::Scenario;
use crate::world::{self, House};
use ballast_engine::command::Command;
use ballast_engine::ids::AccountId;
use ballast_engine::num::{Amount, Round, Value};
use ballast_engine::{Engine, HealthKind};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

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
}

impl Traders {
    /// The trader behind account `id`, if it is one.
    fn index(&self, id: AccountId) -> Option<usize> {
        let first = self.traders.first()?.id.0;
        let k = id.0.checked_sub(first)? as usize;
        (k < self.traders.len()).then_some(k)
    }

    /// The decision of one trader at price `px` (a fill size and its purpose), if any.
    fn decide(
        tr: &mut Trader,
        cx: &StepContext<'_>,
        rng: &mut ChaCha8Rng,
        px: f64,
    ) -> Option<(i64, Purpose)> {
        let (eng, house, sc) = (cx.engine, cx.house, cx.scenario);
        let rules = sc.agents.traders.as_ref()?;
        let u01 = Uniform::new(0.0, 1.0).expect("valid");
        let pop = &sc.population;
        match position(eng, house, tr.id) {
            Some((_, size)) => {
                let (eq, healthy) = equity(eng, tr.id)?;
                // Below maintenance the account belongs to the liquidation mechanism.
                if !healthy || tr.base <= 0 {
                    return None;
                }
                let pnl = (eq - tr.base) as f64 / tr.base as f64;
                let close = rules.take_profit.is_some_and(|x| pnl >= x)
                    || rules.stop_loss.is_some_and(|y| pnl <= -y);
                if close {
                    return Some((-size, Purpose::TraderClose));
                }
                let z = rules.add_on_dip?;
                let d = rules.dip();
                let adverse = if size > 0 {
                    px <= tr.reference * (1.0 - d)
                } else {
                    px >= tr.reference * (1.0 + d)
                };
                if !adverse {
                    return None;
                }
                // Refused or not, the next add waits for another `dip`.
                tr.reference = px;
                let add = (tr.size0 as f64 * z).round() as i64;
                (add != 0).then_some((add, Purpose::TraderAdd))
            }
            None => {
                let p = rules.reopen_prob?;
                if !tr.closed_by_rule || u01.sample(rng) >= p {
                    return None;
                }
                let lev = world::sample(&pop.leverage, rng);
                let long = if pop.long_fraction < 1.0 {
                    u01.sample(rng) < pop.long_fraction
                } else {
                    true
                };
                let eq = quote_balance(eng, tr.id);
                if eq <= 0 {
                    return None;
                }
                let dec = sc.assets[tr.asset].decimals as i32;
                let usd = eq as f64 / 1e6;
                let qty = (usd * lev / px * crate::units::pow10(dec)).floor() as i64;
                if qty <= 0 {
                    return None;
                }
                Some((if long { qty } else { -qty }, Purpose::TraderReopen))
            }
        }
    }
}

impl Agent for Traders {
    /// One round: every trader's rule in account order, as fills against the market maker at
    /// the engine's price (a trader's decision reads only its own account and the price, so
    /// one batch sends what a trader-by-trader loop would).
    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        if round > 0 || cx.now.chain_halted {
            return Ok(Vec::new());
        }
        let mut acts = Vec::new();
        for tr in self.traders.iter_mut() {
            let Some(px) = crate::feeds::engine_price(cx.engine, tr.asset) else {
                continue;
            };
            if let Some((size, purpose)) = Self::decide(tr, cx, &mut self.rng, px) {
                let cmd = Command::Fill {
                    market: cx.house.markets[tr.asset],
                    taker: tr.id,
                    maker: cx.house.maker,
                    size: Amount(size),
                    price: px,
                };
                acts.push(send(cx, cmd, purpose));
            }
        }
        Ok(acts)
    }

    fn observe(&mut self, order: &Order, outcome: Outcome<'_>, cx: &StepContext<'_>) {
        let Command::Fill {
            taker, size, price, ..
        } = order.cmd
        else {
            return;
        };
        let Some(k) = self.index(taker) else {
            return;
        };
        if !outcome.ok() {
            return;
        }
        let tr = &mut self.traders[k];
        match order.purpose {
            Purpose::TraderClose => tr.closed_by_rule = true,
            Purpose::TraderReopen => {
                tr.closed_by_rule = false;
                let eq = quote_balance(cx.engine, tr.id);
                tr.base = equity(cx.engine, tr.id).map_or(eq, |e| e.0);
                tr.reference = price;
                tr.size0 = size.0;
            }
            _ => {}
        }
    }
}
