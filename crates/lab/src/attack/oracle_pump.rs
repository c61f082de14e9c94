//! `oracle_pump` (Mango Markets, 11 Oct 2022): an attacker with two accounts takes both sides
//! of a large perp at the fair price, pumps the spot venues the oracle reads, borrows the
//! pool's quote against the long's paper profit and walks away.
//!
//! The incident as the post-mortems tell it (Mango DAO post-mortem and the CFTC / SEC
//! complaints against A. Eisenberg, 2023; OtterSec "Mango Markets exploit" write-up, Oct 2022):
//! two accounts funded with 5 M USDC each traded ~483 M MNGO-PERP against each other at
//! ~0.038; the attacker then bought MNGO spot on the thin venues feeding the oracle (FTX,
//! AscendEX, Serum) and lifted the price ~×24 in ~10 minutes; the long's unrealized profit
//! counted as collateral, and it borrowed ~115 M of the pool's deposits and withdrew them.
//!
//! Here, step by step (each an engine command the attacker pays gas for):
//! 1. at `start_step`: open two accounts, deposit the margin of each
//!    (notional × (initial rate + fee) × `margin_buffer`), fill `size_usd` long/short between
//!    them at the engine's price;
//! 2. over `ramp_steps`, before the oracle hears the step's quotes, buy spot on each venue it
//!    moves until that venue quotes `pump` × the fair price, within its spot budget (capital −
//!    margins). Each venue is a constant-product pool with quote reserve `venue_depth_usd`
//!    (Uniswap v2, Adams–Zinsmeister–Robinson 2020: `x·y = k`): lifting the price multiple
//!    from `k₀` to `k₁` costs `Y(√k₁ − √k₀)` and buys `X(1/√k₀ − 1/√k₁)` base, `X = Y/P`;
//! 3. on every pumped step and for `hold_steps` after the ramp: borrow (`Borrow`) as much as the
//!    engine allows on the long account (its initial health; on `InsufficientLiquidity` what is
//!    left in the pool);
//! 4. then it stops buying: the venues fall back to the fair price and it walks away. The spot
//!    it bought is marked at the final fair price (`tally`).

use super::Spot;
use crate::agent::{send, Act, AttackFlow, Note, Order, Outcome, Purpose, StepContext};
use crate::error::LabError;
use crate::scenario::attack::AttackerSpec;
use crate::scenario::Scenario;
use crate::units::{usd, QUOTE};
use ballast_engine::command::Command;
use ballast_engine::ids::{AccountId, OwnerId};
use ballast_engine::num::Amount;
use ballast_engine::Reject;

/// Borrow attempts per step (each a transaction that pays gas).
const MAX_BORROWS: u32 = 6;

/// Where the attack is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// Before `start_step`.
    Wait,
    /// Accounts opened: deposit this much (quote-native) into each.
    Fund(i64),
    /// Funded: trade.
    Trade,
    /// Position opened; pumping and borrowing.
    Live,
    /// Refused at the start, or done.
    Done,
}

/// One `oracle_pump` attacker of a path.
pub struct OraclePump {
    spec: AttackerSpec,
    owner: OwnerId,
    asset: usize,
    venues: Vec<u32>,
    depth: f64,
    stage: Stage,
    /// Its long and short accounts (once opened).
    accounts: Vec<AccountId>,
    /// √ of the venues' current price multiple.
    root: f64,
    /// Spot budget left, USD.
    budget: f64,
    /// Spot bought this step, to report in the turn.
    pending: Option<Note>,
    /// Next borrow amount (quote-native), and borrows tried this step.
    next_borrow: Option<i64>,
    tries: u32,
    /// Margin top-ups after a refused fill.
    top_ups: u32,
}

impl OraclePump {
    pub fn new(sc: &Scenario, spec: &AttackerSpec, index: usize) -> OraclePump {
        let n = sc
            .oracle
            .as_ref()
            .and_then(|o| o.sources.count())
            .unwrap_or(1);
        OraclePump {
            owner: OwnerId(1_000_000 + index as u32),
            asset: spec.asset_index(sc),
            venues: spec.venue_list(n),
            depth: spec.depth(sc),
            stage: Stage::Wait,
            accounts: Vec::new(),
            root: 1.0,
            budget: spec.capital_usd - 2.0 * spec.margin_usd(sc),
            pending: None,
            next_borrow: None,
            tries: 0,
            top_ups: 0,
            spec: spec.clone(),
        }
    }

    /// Only the venue buying of `spec` (for `squeeze`, which trades its own perp): pumping
    /// from the step after `start_step`, with the capital left after one account's margin.
    pub fn venue_buyer(sc: &Scenario, spec: &AttackerSpec, index: usize) -> OraclePump {
        let mut p = OraclePump::new(sc, spec, index);
        p.stage = Stage::Live;
        p.budget = spec.capital_usd - spec.margin_usd(sc);
        p
    }

    /// Aims the pump at multiple `pump` of the fair price (`liquidation_hunt`).
    pub fn aim(&mut self, pump: f64) {
        self.spec.pump = pump;
    }

    /// Stops the venue buying (the venues fall back to the fair price on the next step).
    pub fn stop(&mut self) {
        self.stage = Stage::Done;
    }

    /// The spot bought this step, once.
    pub fn take_note(&mut self) -> Option<Note> {
        self.pending.take()
    }

    /// The last step of the hold (the venues still pumped).
    pub fn last_pumped(&self) -> u32 {
        self.ramp_end() + self.spec.hold_steps - 1
    }

    fn ramp_end(&self) -> u32 {
        self.spec.start_step + self.spec.ramp_steps
    }

    /// It borrows from the first pumped step (before the liquidation agent's turn: its short
    /// is bankrupt as soon as the pump passes its margin) through the hold.
    fn borrowing(&self, step: u32) -> bool {
        self.stage == Stage::Live
            && step > self.spec.start_step
            && step < self.ramp_end() + self.spec.hold_steps
    }

    /// Before the oracle hears the step: the venues' multiple this step, buying the spot that
    /// lifts them there (the quote multiple is returned for the feed, with the venues).
    pub fn pump(&mut self, spot: &Spot<'_>) -> Option<(usize, &[u32], f64)> {
        let s = &self.spec;
        if self.stage != Stage::Live || spot.step <= s.start_step {
            return None;
        }
        if spot.step >= self.ramp_end() + s.hold_steps {
            self.stage = Stage::Done;
            return Some((self.asset, &self.venues, 1.0));
        }
        let along = f64::from((spot.step - s.start_step).min(s.ramp_steps));
        let goal = 1.0 + (libm::sqrt(s.pump) - 1.0) * along / f64::from(s.ramp_steps);
        let n = self.venues.len() as f64;
        // Quote for all venues: n·Y·(√k₁ − √k₀), within the budget left.
        let reach = self.root + self.budget.max(0.0) / (n * self.depth);
        let to = goal.min(reach);
        if to > self.root {
            let spent = n * self.depth * (to - self.root);
            let px = spot.fair[self.asset];
            let base = n * self.depth / px * (1.0 / self.root - 1.0 / to);
            self.budget -= spent;
            self.root = to;
            let dec = spot.scenario.assets[self.asset].decimals;
            self.pending = Some(Note::AttackSpot {
                asset: self.asset,
                spent: usd(spent).0,
                // Base bought rounded down: what it holds is never overstated.
                base: (base * crate::units::pow10(i32::from(dec))).floor() as i64,
                gas: usd(self.spec.gas_usd.unwrap_or(spot.gas_usd) * n).0,
            });
        }
        Some((self.asset, &self.venues, self.root * self.root))
    }

    fn gas(&self, cx: &StepContext<'_>) -> i64 {
        usd(self.spec.gas_usd.unwrap_or(cx.now.gas_usd)).0
    }

    fn order(&self, cx: &StepContext<'_>, cmd: Command, flow: AttackFlow) -> Act {
        send(
            cx,
            cmd,
            Purpose::Attack {
                flow,
                gas: self.gas(cx),
            },
        )
    }

    /// Step 1: open, fund and trade (a round each).
    fn open(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        match self.stage {
            Stage::Wait => {
                let first = cx.engine.state().accounts.len() as u32;
                self.accounts = vec![AccountId(first), AccountId(first + 1)];
                self.stage = Stage::Fund(usd(self.spec.margin_usd(cx.scenario)).0);
                let open = Command::OpenAccount {
                    owner: self.owner,
                    pool: crate::units::POOL,
                };
                vec![
                    self.order(cx, open.clone(), AttackFlow::None),
                    self.order(cx, open, AttackFlow::None),
                ]
            }
            Stage::Fund(m) => {
                self.stage = Stage::Trade;
                self.accounts
                    .iter()
                    .map(|a| {
                        let cmd = Command::Deposit {
                            account: *a,
                            asset: QUOTE,
                            amount: Amount(m),
                        };
                        self.order(cx, cmd, AttackFlow::In(m))
                    })
                    .collect()
            }
            Stage::Trade => {
                let i = self.asset;
                let px = crate::feeds::engine_price(cx.engine, i).unwrap_or(cx.now.model_prices[i]);
                let dec = cx.scenario.assets[i].decimals;
                let q = (self.spec.size_usd / px * crate::units::pow10(i32::from(dec))).floor();
                self.stage = Stage::Live;
                let fill = Command::Fill {
                    market: cx.house.markets[i],
                    taker: self.accounts[0],
                    maker: self.accounts[1],
                    size: Amount(q as i64),
                    price: px,
                };
                vec![self.order(cx, fill, AttackFlow::None)]
            }
            Stage::Live | Stage::Done => Vec::new(),
        }
    }

    /// A fill refused for margin (the engine's requirement is more than the static rate: a
    /// volatility add-on, a cautious breaker): deposit the shortfall, +5 %, into each account
    /// and try again, at most twice and within the spot budget.
    fn top_up(&mut self, health: ballast_engine::num::Value) -> Stage {
        let short = health
            .0
            .unsigned_abs()
            .div_ceil(ballast_engine::num::VALUE_SCALE as u128);
        let more = (short as f64 * 1.05) as i64 + usd(1.0).0;
        let cost = 2.0 * crate::units::to_usd(i128::from(more));
        self.top_ups += 1;
        if self.top_ups > 2 || cost > self.budget {
            return Stage::Done;
        }
        self.budget -= cost;
        Stage::Fund(more)
    }

    /// Step 3: the most the engine lets the long account borrow now (its initial health in
    /// quote, rounded down), or what the last refusal said is left.
    fn borrow(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        if self.tries >= MAX_BORROWS || cx.now.chain_halted {
            return Vec::new();
        }
        let long = self.accounts[0];
        let amount = match self.next_borrow.take() {
            Some(a) => a,
            None => super::borrowable(cx.engine, long),
        };
        // Less than a dollar is not worth a transaction.
        if amount < usd(1.0).0 {
            return Vec::new();
        }
        self.tries += 1;
        let cmd = Command::Borrow {
            account: long,
            amount: Amount(amount),
        };
        vec![self.order(cx, cmd, AttackFlow::Out(amount))]
    }
}

impl crate::agent::Agent for OraclePump {
    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        let mut acts: Vec<Act> = Vec::new();
        if round == 0 {
            self.tries = 0;
            self.next_borrow = None;
            acts.extend(self.pending.take().map(Act::Note));
        }
        let step = cx.now.step;
        if step == self.spec.start_step && !matches!(self.stage, Stage::Live | Stage::Done) {
            acts.extend(self.open(cx));
        } else if self.borrowing(step) {
            acts.extend(self.borrow(cx));
        }
        Ok(acts)
    }

    fn observe(&mut self, order: &Order, outcome: Outcome<'_>, _cx: &StepContext<'_>) {
        match (&order.cmd, outcome) {
            (Command::Fill { .. }, Outcome::Refused(Reject::InsufficientMargin { health, .. })) => {
                self.stage = self.top_up(*health)
            }
            // Refused at the start (a price band, a cap, a breaker): the attack is off.
            (
                Command::OpenAccount { .. } | Command::Deposit { .. } | Command::Fill { .. },
                Outcome::Refused(_),
            ) => self.stage = Stage::Done,
            (Command::Borrow { .. }, Outcome::Refused(r)) => {
                self.next_borrow = super::retry_borrow(r);
                if self.next_borrow.is_none() {
                    self.tries = MAX_BORROWS;
                }
            }
            _ => {}
        }
    }
}
