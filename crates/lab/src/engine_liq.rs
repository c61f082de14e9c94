//! The engine's own liquidation behind the lab's [`Liquidation`] seam.
//!
//! [`EngineLiquidator`] plays the keeper of `mechanism = "engine_takeover"` or
//! `"engine_auction"`: it reads the engine's `liquidation_queue()` and drives the engine's
//! commands, while the lab keeps the keeper's world rules (online/outage, gas, slippage when it
//! unwinds, capital through the engine's initial-margin check on the liquidator, `min_profit`).
//!
//! - **Takeover** (`Liquidate`): the engine sizes a partial close to `target_buffer`, charges
//!   `penalty + (penalty_max − penalty)·d²` and pays the keeper its share. The keeper acts when
//!   `share·penalty·notional − slippage·notional − gas ≥ min_profit`, then unwinds what it took
//!   against the market maker at `oracle × (1 ∓ slippage)`.
//! - **Dutch auction** (`StartAuction` / `TakeAuction` / `RedoAuction`, Maker Clipper): the
//!   keeper starts an auction for every queued account (paid `tip + chip·value` by the fund),
//!   bids at the first millisecond of the step at which the falling price leaves it
//!   `σ·(oracle·(1 − σ·slippage) − unit)·|q| − gas ≥ min_profit` (σ = +1 long lot, −1 short),
//!   and resets auctions past `tail` or below `cusp × top` when `auction_resets` is on.
//! - A **bankrupt** account (equity < 0) is sent to the engine's waterfall with `Liquidate`
//!   under either mechanism (insurance → ADL → socialized loss → bad debt): settling it is a
//!   protocol duty, done whenever the keeper is online.
//!
//! The keeper's turn is a state machine over rounds ([`crate::agent`]): each round sends the
//! next engine command (or the batch of unwinds after one), reading the engine as the previous
//! command left it — the same sequence of commands a procedural keeper would send.
//!
//! Metrics come from the engine's events only (booked by the recorder, `record::book_events`):
//! `InsuranceDrawn`, `Deleveraged` (haircut), `LossSocialized`, `BadDebt`, `AuctionReset`,
//! `Liquidated`, `AuctionTaken`; refusals typed `Reject::Blocked` (oracle/breaker gates) are
//! counted as blocked actions. The lab's `bad_debt` for these mechanisms is every loss the
//! insurance fund did not cover: ADL haircuts + socialized loss + the engine's recognised bad
//! debt.

use crate::agent::{send, Act, Agent, Note, Order, Outcome, Purpose, Queue, StepContext};
use crate::error::LabError;
use crate::liquidity::Slippage;
pub use crate::scenario::params::liquidation_params;
use crate::scenario::{MechanismSpec, Scenario};
use crate::units::{usd, POOL, QUOTE_DECIMALS};
use ballast_engine::command::Command;
use ballast_engine::engine::{auction_price, needs_reset};
use ballast_engine::ids::{AccountId, AuctionId, MarketId};
use ballast_engine::num::{Amount, Price};
use ballast_engine::params::LiquidationParams;
use ballast_engine::state::{AuctionState, Lot};
use ballast_engine::{Engine, HealthKind};

/// Most `Liquidate` calls on one account in one step (partial closes converge in a few).
const MAX_ROUNDS: usize = 12;

/// Where the keeper is in its turn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// Deciding round `round` of the takeover of `queue[qi]`.
    Takeover {
        qi: usize,
        round: usize,
    },
    /// A `Liquidate` was sent: unwind, then check (or go on to the next account if `finish`).
    TakeoverSent {
        qi: usize,
        round: usize,
        bankrupt: bool,
        finish: bool,
    },
    /// After the unwind: liquidate `queue[qi]` again while it is still below maintenance.
    TakeoverCheck {
        qi: usize,
        round: usize,
        bankrupt: bool,
        ok: bool,
    },
    /// Starting an auction for (or settling the bankruptcy of) `queue[qi]`.
    Start {
        qi: usize,
    },
    /// A bankrupt account was sent to the waterfall: unwind, then the next start.
    StartSent {
        qi: usize,
    },
    /// Resetting (when due) and pricing the bid on `active[k]`.
    Reset {
        k: usize,
    },
    /// A `RedoAuction` was sent for `active[k]`.
    ResetSent {
        k: usize,
    },
    /// Taking `bids[k]`.
    Bid {
        k: usize,
    },
    /// `bids[k]` was taken at `at`: unwind then.
    BidSent {
        k: usize,
        at: i64,
    },
    Done,
}

/// The keeper of the engine mechanisms (see the module doc).
pub struct EngineLiquidator {
    auction: bool,
    resets: bool,
    lp: LiquidationParams,
    min_profit: f64,
    slippage: Slippage,
    decimals: Vec<u8>,
    /// `liquidity.max_sell_usd_per_step`, and what is left of it in the current step.
    max_sell: Option<f64>,
    budget: f64,
    stage: Stage,
    queue: Vec<AccountId>,
    active: Vec<(AccountId, AuctionId)>,
    bids: Vec<(i64, AuctionId, f64)>,
    /// Whether the last liquidation command was accepted.
    last_ok: bool,
}

impl EngineLiquidator {
    pub fn new(sc: &Scenario) -> Self {
        let lp = liquidation_params(&sc.protocol.liquidation)
            .expect("validated with the scenario (Scenario::validate)");
        EngineLiquidator {
            auction: sc.protocol.liquidation.mechanism == MechanismSpec::EngineAuction,
            resets: sc.protocol.liquidation.auction_resets,
            lp,
            min_profit: sc.keeper.min_profit,
            slippage: Slippage::new(sc),
            decimals: sc.assets.iter().map(|a| a.decimals).collect(),
            max_sell: sc.liquidity.max_sell_usd_per_step,
            budget: f64::INFINITY,
            stage: Stage::Done,
            queue: Vec::new(),
            active: Vec::new(),
            bids: Vec::new(),
            last_ok: false,
        }
    }

    /// Closes whatever the liquidator holds against the market maker at `oracle × (1 ∓ s)`.
    fn unwind(&mut self, cx: &StepContext<'_>, t: i64) -> Vec<Act> {
        let desk = Desk {
            slippage: &self.slippage,
            decimals: &self.decimals,
        };
        desk.unwind(cx, cx.house.liquidator, &mut self.budget, t)
    }

    fn notional(&self, ai: usize, size: i64, px: f64) -> f64 {
        size.unsigned_abs() as f64 / crate::units::pow10(self.decimals[ai] as i32) * px
    }

    /// Equity (quote-native) of an account if closed at oracle: health + requirement (quote
    /// collateral has weight 1 in the lab's pools).
    pub fn equity(eng: &Engine, a: AccountId) -> i128 {
        eng.breakdown(a, HealthKind::Maintenance)
            .map_or(0, |b| b.health.0 + b.requirement.0)
    }

    /// The largest perp lot of an account: (market, size).
    pub fn largest_lot(cx: &StepContext<'_>, a: AccountId) -> Option<(MarketId, i64)> {
        let prices = cx.now.prices;
        cx.engine.state().accounts[a.idx()]
            .positions
            .iter()
            .filter(|p| p.size.0 != 0 && p.market.idx() < prices.len())
            .max_by(|x, y| {
                let vx = x.size.0.unsigned_abs() as f64 * prices[x.market.idx()];
                let vy = y.size.0.unsigned_abs() as f64 * prices[y.market.idx()];
                vx.total_cmp(&vy).then(y.market.cmp(&x.market))
            })
            .map(|p| (p.market, p.size.0))
    }

    /// Round `round` of the takeover of `queue[qi]`: the next `Liquidate`, or a note and the
    /// next account.
    fn takeover(&mut self, cx: &StepContext<'_>, qi: usize, round: usize) -> Vec<Act> {
        let Some(&id) = self.queue.get(qi) else {
            self.stage = Stage::Done;
            return Vec::new();
        };
        let next = Stage::Takeover {
            qi: qi + 1,
            round: 0,
        };
        if round >= MAX_ROUNDS {
            self.stage = next;
            return Vec::new();
        }
        let bankrupt = Self::equity(cx.engine, id) < 0;
        let mut acts = Vec::new();
        let mut max_size = None;
        let mut market = None;
        if !bankrupt {
            let Some((m, size)) = Self::largest_lot(cx, id) else {
                self.stage = next;
                return acts;
            };
            let ai = m.idx();
            let notional = self.notional(ai, size, cx.now.prices[ai]);
            let s = self.slippage.fraction(notional, cx.now.returns[ai]);
            // The engine pays `share × penalty` on what it closes (at least the boundary
            // rate); the keeper's profit rule of keeper.rs with that reward.
            let reward = self.lp.penalty.to_f64() * self.lp.liquidator_share.to_f64();
            if notional * (reward - s) - cx.now.gas_usd < self.min_profit {
                self.stage = next;
                return vec![Act::Note(Note::MissedUnprofitable)];
            }
            // The sell cap: take over no more than the keeper may sell this step.
            if notional > self.budget {
                let q = (size.unsigned_abs() as f64 * (self.budget.max(0.0) / notional)) as i64;
                acts.push(Act::Note(Note::DeferredSell(
                    usd(notional - self.budget.max(0.0)).0,
                )));
                if q == 0 {
                    self.stage = next;
                    return acts;
                }
                market = Some(m);
                max_size = Some(Amount(q));
            }
        }
        let cmd = Command::Liquidate {
            liquidator: cx.house.liquidator,
            account: id,
            market,
            max_size,
        };
        acts.push(send(
            cx,
            cmd,
            Purpose::Keeper {
                keeper: 0,
                oracle: None,
            },
        ));
        self.stage = Stage::TakeoverSent {
            qi,
            round,
            bankrupt,
            finish: max_size.is_some(),
        };
        acts
    }

    /// After the unwind of a takeover round: another round while the account is still below
    /// maintenance (and the last one was accepted and it was not bankrupt).
    fn takeover_check(&mut self, cx: &StepContext<'_>, qi: usize, round: usize, stop: bool) {
        let id = self.queue[qi];
        let healthy = cx
            .engine
            .health(id, HealthKind::Maintenance)
            .map_or(true, |h| h.0 >= 0);
        self.stage = if stop || healthy {
            Stage::Takeover {
                qi: qi + 1,
                round: 0,
            }
        } else {
            Stage::Takeover {
                qi,
                round: round + 1,
            }
        };
    }

    /// Earliest time in `[t, t + step)` at which taking the auction pays the keeper, or
    /// `None` (too expensive all step, or it needs a reset first).
    fn bid_time(&self, cx: &StepContext<'_>, auction: AuctionId) -> Option<(i64, f64)> {
        let eng = cx.engine;
        let a = &eng.state().auctions[auction.idx()];
        let Lot::Perp(market) = a.lot else {
            return None;
        };
        let ai = market.idx();
        let held = eng.state().accounts[a.account.idx()]
            .positions
            .iter()
            .find(|p| p.market == market)
            .map_or(0, |p| p.size.0);
        let q = held.unsigned_abs().min(a.size.0.unsigned_abs()) as i64;
        if q == 0 {
            return None;
        }
        let bd = self.decimals[ai];
        let qd = QUOTE_DECIMALS;
        let px = cx.now.prices[ai];
        let notional = self.notional(ai, q, px);
        let s = self.slippage.fraction(notional, cx.now.returns[ai]);
        let sign = if a.size.0 > 0 { 1.0 } else { -1.0 };
        let oracle0 = a.oracle.to_human(bd, qd);
        // (profitable?, unit price) at `elapsed`; profitability only grows with time.
        let pays = |elapsed: i64| {
            let raw = auction_price(&self.lp, a.top, a.oracle, elapsed);
            let p = Price::from_raw(raw.clamp(0, i64::MAX as i128) as i64)
                .map_or(0.0, |p| p.to_human(bd, qd));
            // Short lots are mirrored: the bidder receives `2·oracle_start − price`.
            let unit = if sign > 0.0 { p } else { 2.0 * oracle0 - p };
            let profit = sign * (px * (1.0 - sign * s) - unit) * q as f64
                / crate::units::pow10(bd as i32)
                - cx.now.gas_usd;
            (profit >= self.min_profit, unit)
        };
        let stale = |elapsed: i64| {
            let raw = auction_price(&self.lp, a.top, a.oracle, elapsed);
            needs_reset(&self.lp, a.top, raw, elapsed)
        };
        let e0 = cx.now.time_ms - a.start.0;
        if let (true, unit) = pays(e0) {
            return (!stale(e0)).then_some((cx.now.time_ms, unit));
        }
        // The price only falls with time: binary search the first paying millisecond; the
        // take happens then unless the auction needs a reset by that time (tail, cusp).
        let (mut lo, mut hi) = (e0, e0 + cx.now.step_ms - 1);
        if !pays(hi).0 {
            return None;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if pays(mid).0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        (!stale(hi)).then(|| (a.start.0 + hi, pays(hi).1))
    }

    /// Starts an auction for `queue[qi]`, or sends it to the waterfall when bankrupt.
    fn start(&mut self, cx: &StepContext<'_>, qi: usize) -> Vec<Act> {
        let Some(&id) = self.queue.get(qi) else {
            self.active = cx.engine.state().pools[POOL.idx()]
                .liquidation
                .active
                .clone();
            self.bids.clear();
            self.stage = Stage::Reset { k: 0 };
            return Vec::new();
        };
        let running = cx.engine.state().pools[POOL.idx()]
            .liquidation
            .active
            .binary_search_by_key(&id, |(a, _)| *a)
            .is_ok();
        if running {
            self.stage = Stage::Start { qi: qi + 1 };
            return Vec::new();
        }
        let keeper = cx.house.liquidator;
        if Self::equity(cx.engine, id) < 0 {
            let cmd = Command::Liquidate {
                liquidator: keeper,
                account: id,
                market: None,
                max_size: None,
            };
            self.stage = Stage::StartSent { qi };
            return vec![send(cx, cmd, Purpose::Liquidation)];
        }
        self.stage = Stage::Start { qi: qi + 1 };
        let cmd = Command::StartAuction {
            account: id,
            keeper,
        };
        vec![send(
            cx,
            cmd,
            Purpose::Keeper {
                keeper: 0,
                oracle: None,
            },
        )]
    }

    /// Resets `active[k]` when due (and allowed), else prices its bid.
    fn reset(&mut self, cx: &StepContext<'_>, k: usize) -> Vec<Act> {
        let Some(&(_, auction)) = self.active.get(k) else {
            self.bids.sort_by_key(|b| (b.0, b.1));
            self.stage = Stage::Bid { k: 0 };
            return Vec::new();
        };
        self.stage = Stage::Reset { k: k + 1 };
        let a = &cx.engine.state().auctions[auction.idx()];
        if a.state != AuctionState::Active {
            return Vec::new();
        }
        let elapsed = cx.now.time_ms - a.start.0;
        let raw = auction_price(&self.lp, a.top, a.oracle, elapsed);
        if needs_reset(&self.lp, a.top, raw, elapsed) {
            if !self.resets {
                return vec![Act::Note(Note::AuctionStuck)];
            }
            self.stage = Stage::ResetSent { k };
            let cmd = Command::RedoAuction {
                auction,
                keeper: cx.house.liquidator,
            };
            return vec![send(
                cx,
                cmd,
                Purpose::Keeper {
                    keeper: 0,
                    oracle: None,
                },
            )];
        }
        self.price_bid(cx, auction)
    }

    /// Queues the bid on `auction`, or notes that it does not pay this step.
    fn price_bid(&mut self, cx: &StepContext<'_>, auction: AuctionId) -> Vec<Act> {
        match self.bid_time(cx, auction) {
            Some((at, unit)) => {
                self.bids.push((at, auction, unit));
                Vec::new()
            }
            None => vec![Act::Note(Note::MissedUnprofitable)],
        }
    }

    /// Takes `bids[k]` (in time order).
    fn bid(&mut self, cx: &StepContext<'_>, k: usize) -> Vec<Act> {
        let Some(&(at, auction, unit)) = self.bids.get(k) else {
            self.stage = Stage::Done;
            return Vec::new();
        };
        self.stage = Stage::Bid { k: k + 1 };
        let a = &cx.engine.state().auctions[auction.idx()];
        if a.state != AuctionState::Active {
            return Vec::new();
        }
        let limit = if a.size.0 > 0 {
            unit * (1.0 + 1e-9) + 1e-9
        } else {
            (unit * (1.0 - 1e-9)).max(1e-12)
        };
        let mut amount = a.size.0.unsigned_abs() as i64;
        let mut acts = Vec::new();
        // The sell cap: bid for no more than the keeper may sell this step.
        if let Lot::Perp(market) = a.lot {
            let ai = market.idx();
            let notional = self.notional(ai, amount, cx.now.prices[ai]);
            if notional > self.budget {
                let q = (amount as f64 * (self.budget.max(0.0) / notional)) as i64;
                acts.push(Act::Note(Note::DeferredSell(
                    usd(notional - self.budget.max(0.0)).0,
                )));
                if q == 0 {
                    return acts;
                }
                amount = q;
            }
        }
        let cmd = Command::TakeAuction {
            auction,
            bidder: cx.house.liquidator,
            max_amount: Amount(amount),
            price_limit: limit,
        };
        acts.push(Act::Send(Order {
            time_ms: at,
            cmd,
            purpose: Purpose::Keeper {
                keeper: 0,
                oracle: lot_oracle(cx, auction),
            },
        }));
        self.stage = Stage::BidSent { k, at };
        acts
    }

    /// Round 0: the queue, the sell budget, the outage rule and a retried unwind.
    fn begin(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        self.queue.clear();
        self.queue.extend_from_slice(cx.now.queue);
        self.budget = self.max_sell.unwrap_or(f64::INFINITY);
        self.stage = Stage::Done;
        if !cx.now.keeper_online {
            return vec![Act::Note(Note::MissedOutage(self.queue.len() as u64))];
        }
        let active = !cx.engine.state().pools[POOL.idx()]
            .liquidation
            .active
            .is_empty();
        // An unwind refused earlier (e.g. a halted market) is retried first.
        let acts = self.unwind(cx, cx.now.time_ms);
        if self.queue.is_empty() && !active {
            return acts;
        }
        self.stage = if self.auction {
            Stage::Start { qi: 0 }
        } else {
            Stage::Takeover { qi: 0, round: 0 }
        };
        acts
    }
}

/// The engine's oracle price of an auction's lot now (what a take's clearing price is
/// compared with).
pub fn lot_oracle(cx: &StepContext<'_>, auction: AuctionId) -> Option<Price> {
    let st = cx.engine.state();
    match st.auctions.get(auction.idx())?.lot {
        Lot::Perp(m) => st.assets[st.markets.get(m.idx())?.base.idx()].price,
        _ => None,
    }
}

/// Where a keeper unwinds what it took: the market maker at `oracle × (1 ∓ slippage)`, within
/// the step's sell cap (shared by the engine keeper and the competing keepers).
pub struct Desk<'a> {
    pub slippage: &'a Slippage,
    pub decimals: &'a [u8],
}

impl Desk<'_> {
    /// The fills that close what `who` holds at `t`; what does not fit in `budget` (USD of
    /// notional left to sell this step) waits, noted as deferred.
    pub fn unwind(
        &self,
        cx: &StepContext<'_>,
        who: AccountId,
        budget: &mut f64,
        t: i64,
    ) -> Vec<Act> {
        let held: Vec<(MarketId, i64)> = cx.engine.state().accounts[who.idx()]
            .positions
            .iter()
            .filter(|p| p.size.0 != 0)
            .map(|p| (p.market, p.size.0))
            .collect();
        let mut acts = Vec::new();
        for (market, size) in held {
            let ai = market.idx();
            if ai >= cx.now.prices.len() {
                continue;
            }
            let px = cx.now.prices[ai];
            let mut size = size;
            let mut notional =
                size.unsigned_abs() as f64 / crate::units::pow10(self.decimals[ai] as i32) * px;
            // The sell cap: unwind what fits; the rest stays with the keeper for later steps.
            if notional > *budget {
                let q = (size as f64 * (budget.max(0.0) / notional)) as i64;
                let deferred = usd(notional * (1.0 - q as f64 / size as f64)).0;
                acts.push(Act::Note(Note::DeferredSell(deferred)));
                if q == 0 {
                    continue;
                }
                notional *= q as f64 / size as f64;
                size = q;
            }
            *budget -= notional;
            let s = self.slippage.fraction(notional, cx.now.returns[ai]);
            let price = if size > 0 {
                px * (1.0 - s)
            } else {
                px * (1.0 + s)
            };
            let cmd = Command::Fill {
                market,
                taker: who,
                maker: cx.house.maker,
                size: Amount(-size),
                price,
            };
            let slippage = usd(notional * s).0;
            acts.push(Act::Send(Order {
                time_ms: t,
                cmd,
                purpose: Purpose::LiquidationUnwind { slippage },
            }));
        }
        acts
    }
}

impl Agent for EngineLiquidator {
    fn queue(&self) -> Queue {
        Queue::WorstFirst
    }

    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        if round == 0 {
            let acts = self.begin(cx);
            if !acts.is_empty() {
                return Ok(acts);
            }
        }
        loop {
            let acts = match self.stage {
                Stage::Takeover { qi, round } => self.takeover(cx, qi, round),
                Stage::TakeoverSent {
                    qi,
                    round,
                    bankrupt,
                    finish,
                } => {
                    let ok = self.last_ok;
                    self.stage = if finish {
                        Stage::Takeover {
                            qi: qi + 1,
                            round: 0,
                        }
                    } else {
                        Stage::TakeoverCheck {
                            qi,
                            round,
                            bankrupt,
                            ok,
                        }
                    };
                    self.unwind(cx, cx.now.time_ms)
                }
                Stage::TakeoverCheck {
                    qi,
                    round,
                    bankrupt,
                    ok,
                } => {
                    self.takeover_check(cx, qi, round, !ok || bankrupt);
                    Vec::new()
                }
                Stage::Start { qi } => self.start(cx, qi),
                Stage::StartSent { qi } => {
                    self.stage = Stage::Start { qi: qi + 1 };
                    self.unwind(cx, cx.now.time_ms)
                }
                Stage::Reset { k } => self.reset(cx, k),
                Stage::ResetSent { k } => {
                    self.stage = Stage::Reset { k: k + 1 };
                    let auction = self.active[k].1;
                    let live =
                        cx.engine.state().auctions[auction.idx()].state == AuctionState::Active;
                    if self.last_ok && live {
                        self.price_bid(cx, auction)
                    } else {
                        Vec::new()
                    }
                }
                Stage::Bid { k } => self.bid(cx, k),
                Stage::BidSent { k, at } => {
                    self.stage = Stage::Bid { k: k + 1 };
                    self.unwind(cx, at)
                }
                Stage::Done => return Ok(Vec::new()),
            };
            if !acts.is_empty() {
                return Ok(acts);
            }
        }
    }

    fn observe(&mut self, order: &Order, outcome: Outcome<'_>, _cx: &StepContext<'_>) {
        if matches!(order.purpose, Purpose::Liquidation | Purpose::Keeper { .. }) {
            self.last_ok = outcome.ok();
        }
    }
}
