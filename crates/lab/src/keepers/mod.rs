//! Competing keepers (`[[keepers]]`) behind the lab's liquidation seam: N engine accounts,
//! each with its capital, gas budget, latency, profit threshold and online schedule, racing
//! for the liquidations of the engine mechanisms.
//!
//! Within a step the keepers act in time order (a small discrete-event loop: each round sends
//! the earliest action any keeper would take, then the engine answers and the next earliest is
//! found on the engine as it now is):
//! - **Dutch auction** (`StartAuction` / `TakeAuction` / `RedoAuction`, Maker Clipper): a queued
//!   account is started by the first keeper to arrive (its latency into the step) that either
//!   bids or is paid enough by `tip + chip·value` to cover gas and its threshold. A lot
//!   **clears at the best bid present in the block**: the price falls with time, so the first
//!   keeper at which a take pays (`crate::keepers::lot`) is the highest bidder, and it takes
//!   the slice its capital (the engine's initial-margin check), the sell cap and what is left
//!   allow; the next keeper takes the rest at its own, later and lower, price. With nobody
//!   online the price keeps falling, which is how lots clear near zero (Black Thursday, see
//!   `scenario::keepers`). An auction past `tail` or under `cusp·top` is reset by the first
//!   willing keeper when resets are on (paid the incentive again), else it stays stuck.
//! - **Takeover** (`Liquidate`): the first arriving keeper for whom
//!   `share·penalty·notional − slippage − gas ≥ min_profit` takes over the slice its capital
//!   carries (`max_size`), unwinds, and the account is offered again while below maintenance.
//! - A **bankrupt** account goes to the engine's waterfall through the first keeper online.
//!
//! Every start, reset, take and takeover costs the step's gas from the keeper's budget; every
//! take is unwound at once against the market maker ([`crate::engine_liq::Desk`]).

pub mod crew;
pub mod lot;
mod plan;

use crate::agent::{Act, Agent, Note, Order, Outcome, Purpose, Queue, StepContext};
use crate::engine_liq::{lot_oracle, Desk};
use crate::error::LabError;
use crate::liquidity::Slippage;
use crate::scenario::params::liquidation_params;
use crate::scenario::{MechanismSpec, Scenario};
use crate::units::to_usd;
use ballast_engine::command::Command;
use ballast_engine::ids::{AccountId, AuctionId};
use ballast_engine::num::Amount;
use ballast_engine::params::LiquidationParams;
use ballast_engine::Event;
use crew::Crew;
use plan::{Action, Plan};

/// Most resets of one auction in one step.
const MAX_RESETS: u32 = 4;
/// Most takeover rounds on one account in one step.
const MAX_ROUNDS: u32 = 12;
/// A refused slice is halved; below this share of its first size the keeper gives up the lot.
const MIN_SHRINK: f64 = 1.0 / 64.0;

/// What the last order was, for its answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sent {
    Start(usize, AccountId),
    Reset(usize, AuctionId),
    Take(usize, AuctionId, i64),
    Liquidate(usize, AccountId, i64),
    Settle(usize, AccountId, i64),
}

/// The competing keepers of one path (see the module doc).
pub struct KeeperMarket {
    auction: bool,
    resets: bool,
    lp: LiquidationParams,
    slippage: Slippage,
    decimals: Vec<u8>,
    max_sell: Option<f64>,
    crew: Option<Crew>,
    plan: Plan,
    sent: Option<Sent>,
    unwind: Option<(usize, i64)>,
}

impl KeeperMarket {
    pub fn new(sc: &Scenario) -> Self {
        KeeperMarket {
            auction: sc.protocol.liquidation.mechanism == MechanismSpec::EngineAuction,
            resets: sc.protocol.liquidation.auction_resets,
            lp: liquidation_params(&sc.protocol.liquidation)
                .expect("validated with the scenario (Scenario::validate)"),
            slippage: Slippage::new(sc),
            decimals: sc.assets.iter().map(|a| a.decimals).collect(),
            max_sell: sc.liquidity.max_sell_usd_per_step,
            crew: None,
            plan: Plan::default(),
            sent: None,
            unwind: None,
        }
    }

    /// Round 0: who is online, the gas budgets, the sell cap, and unwinds refused earlier.
    fn begin(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        let crew = self
            .crew
            .get_or_insert_with(|| Crew::new(cx.scenario, &cx.house.keepers, cx.now.path));
        crew.begin_step(cx);
        self.plan.begin(cx, self.max_sell.unwrap_or(f64::INFINITY));
        self.sent = None;
        self.unwind = None;
        let accounts: Vec<AccountId> = crew.members.iter().map(|m| m.account).collect();
        let desk = Desk {
            slippage: &self.slippage,
            decimals: &self.decimals,
        };
        let mut acts = Vec::new();
        for a in accounts {
            acts.extend(desk.unwind(cx, a, &mut self.plan.sell_left, cx.now.time_ms));
        }
        acts
    }

    /// The order for the earliest action, with its gas booked.
    fn order(&mut self, cx: &StepContext<'_>, at: i64, k: usize, action: Action) -> Act {
        let crew = self.crew.as_mut().expect("built in begin");
        let keeper = crew.members[k].account;
        let gas = cx.now.gas_usd;
        let tag = |oracle| Purpose::Keeper {
            keeper: k as u16,
            oracle,
        };
        self.plan.clock = at;
        let (cmd, purpose) = match action {
            Action::Start(account) => {
                crew.spend(k, gas, None);
                self.sent = Some(Sent::Start(k, account));
                (Command::StartAuction { account, keeper }, tag(None))
            }
            Action::Settle(account) => {
                // Once per step, as the engine keeper does (another keeper retries a refusal).
                self.plan.handled.push(account);
                self.sent = Some(Sent::Settle(k, account, at));
                let cmd = Command::Liquidate {
                    liquidator: keeper,
                    account,
                    market: None,
                    max_size: None,
                };
                (cmd, Purpose::Liquidation)
            }
            Action::Reset(auction) => {
                crew.spend(k, gas, Some(auction));
                self.plan.count_reset(auction);
                self.sent = Some(Sent::Reset(k, auction));
                (Command::RedoAuction { auction, keeper }, tag(None))
            }
            Action::Take { auction, q, limit } => {
                // A slice pays its own gas (in its profit): the lot's credit is for kicks.
                crew.spend(k, gas, None);
                self.sent = Some(Sent::Take(k, auction, at));
                let cmd = Command::TakeAuction {
                    auction,
                    bidder: keeper,
                    max_amount: Amount(q),
                    price_limit: limit,
                };
                (cmd, tag(lot_oracle(cx, auction)))
            }
            Action::Takeover { account, market, q } => {
                crew.spend(k, gas, None);
                self.plan.count_round(account);
                self.sent = Some(Sent::Liquidate(k, account, at));
                let cmd = Command::Liquidate {
                    liquidator: keeper,
                    account,
                    market: Some(market),
                    max_size: Some(Amount(q)),
                };
                (cmd, tag(None))
            }
        };
        Act::Send(Order {
            time_ms: at,
            cmd,
            purpose,
        })
    }
}

impl Agent for KeeperMarket {
    fn queue(&self) -> Queue {
        Queue::WorstFirst
    }

    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        if round == 0 {
            let acts = self.begin(cx);
            if !cx.now.keeper_online {
                self.plan.done = true;
                let n = cx.now.queue.len() as u64;
                return Ok(vec![Act::Note(Note::MissedOutage(n))]);
            }
            if !acts.is_empty() {
                return Ok(acts);
            }
        }
        if self.plan.done {
            return Ok(Vec::new());
        }
        if let Some((k, at)) = self.unwind.take() {
            let account = self.crew.as_ref().expect("built in begin").members[k].account;
            let desk = Desk {
                slippage: &self.slippage,
                decimals: &self.decimals,
            };
            let acts = desk.unwind(cx, account, &mut self.plan.sell_left, at);
            if !acts.is_empty() {
                return Ok(acts);
            }
        }
        let crew = self.crew.as_ref().expect("built in begin");
        let anyone = crew.members.iter().any(|m| m.online);
        let ctx = plan::Ctx {
            lp: &self.lp,
            crew,
            auction: self.auction,
            resets: self.resets,
            max_resets: MAX_RESETS,
            max_rounds: MAX_ROUNDS,
        };
        match self.plan.next(cx, &ctx) {
            Some((at, k, action)) => Ok(vec![self.order(cx, at, k, action)]),
            None => {
                self.plan.done = true;
                Ok(self.plan.missed(cx, &ctx, anyone))
            }
        }
    }

    fn observe(&mut self, _order: &Order, outcome: Outcome<'_>, cx: &StepContext<'_>) {
        // Unwinds carry no `sent`: only the keeper action just sent does.
        let Some(sent) = self.sent.take() else {
            return;
        };
        let crew = self.crew.as_mut().expect("built in begin");
        match (sent, outcome) {
            (Sent::Start(k, _), Outcome::Done(events)) => {
                for e in events {
                    if let Event::AuctionStarted {
                        auction, incentive, ..
                    } = e
                    {
                        // The start's gas was spent before the auction had an id.
                        let net = to_usd(incentive.0 as i128) - cx.now.gas_usd;
                        crew.add_credit(k, *auction, net);
                    }
                }
            }
            (Sent::Start(_, account), Outcome::Refused(_)) => self.plan.handled.push(account),
            (Sent::Reset(k, auction), Outcome::Done(events)) => {
                for e in events {
                    if let Event::AuctionReset { incentive, .. } = e {
                        crew.add_credit(k, auction, to_usd(incentive.0 as i128));
                    }
                }
            }
            (Sent::Reset(_, auction), Outcome::Refused(_)) => self.plan.give_up_resets(auction),
            (Sent::Take(k, _, at), Outcome::Done(_)) => self.unwind = Some((k, at)),
            (Sent::Take(k, auction, _), Outcome::Refused(_)) => {
                self.plan.shrink(k, auction, MIN_SHRINK)
            }
            (Sent::Liquidate(k, _, at) | Sent::Settle(k, _, at), Outcome::Done(_)) => {
                self.unwind = Some((k, at))
            }
            (Sent::Liquidate(_, account, _), Outcome::Refused(_)) => {
                self.plan.handled.push(account)
            }
            (Sent::Settle(k, account, _), Outcome::Refused(_)) => {
                self.plan.handled.retain(|a| *a != account);
                self.plan.settle_refused.push((k, account))
            }
        }
    }
}
