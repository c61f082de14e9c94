//! The keeper agent of `mechanism = "keeper_fill"` (the peer-radCAD comparison's mechanism;
//! scenarios default to the engine's own liquidation, `engine_liq`), the liquidity model both
//! keepers share, and the choice of mechanism.
//!
//! [`KeeperLiquidator`] closes underwater accounts through plain trading and transfer commands:
//!
//! 1. `below_maintenance()` lists the accounts whose maintenance health is negative.
//! 2. For each position, the keeper checks its profit: `penalty·notional − slippage·notional −
//!    gas ≥ min_profit` (slippage from the liquidity model, gas from the fault model). An
//!    unprofitable or offline keeper leaves the account open: it may sink further.
//! 3. A `Fill` in which the liquidator account takes the other side at `oracle × (1 − penalty)`
//!    for a long (`× (1 + penalty)` for a short). The engine accepts a reducing fill from an
//!    account below margin; the liquidator must pass initial margin on what it takes.
//! 4. The liquidator unwinds at once against the market maker at `oracle × (1 ∓ slippage)`.
//! 5. Waterfall, netted per step as in the peer-radCAD model: a closed account's remaining
//!    equity, if positive, pays `fee_to_fund` of it to the insurance-fund account
//!    (`Withdraw` + `Deposit`); if negative, the insurance fund covers it as far as it can
//!    (`Withdraw` from the fund, `Deposit` into the account, repaying its debt) and the rest is
//!    bad debt (left as the account's negative balance).
//!
//! Its turn is a state machine over rounds ([`crate::agent`]): one close or unwind per round
//! (an unwind only after its close was accepted), then the step's fees, then the covers.

use crate::agent::{send, Act, Agent, Order, Outcome, Purpose, Queue, StepContext};
use crate::error::LabError;
pub use crate::liquidity::Slippage;
use crate::record::quote_balance;
use crate::scenario::Scenario;
use crate::units::{usd, QUOTE};
use ballast_engine::command::Command;
use ballast_engine::ids::{AccountId, MarketId};
use ballast_engine::num::Amount;

/// Where the keeper is in its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Closing the positions of `accounts[acct]`, next `positions[pos]`.
    Close {
        acct: usize,
        pos: usize,
    },
    /// Surplus fees of the closed accounts.
    Fees,
    /// Shortfalls, from the fund as far as it goes.
    Covers,
    Done,
}

/// The keeper agent (see the module doc).
pub struct KeeperLiquidator {
    penalty: f64,
    fee_to_fund: f64,
    min_profit: f64,
    slippage: Slippage,
    decimals: Vec<i32>,
    /// `liquidity.max_sell_usd_per_step`, and what is left of it this step.
    max_sell: Option<f64>,
    budget: f64,
    /// Accounts already closed and settled (never processed again).
    done: Vec<bool>,
    stage: Stage,
    accounts: Vec<AccountId>,
    positions: Vec<(MarketId, Amount)>,
    all_closed: bool,
    /// The unwind of the close just sent, applied only if the close was accepted.
    unwind: Option<Order>,
    closed: Vec<AccountId>,
    equities: Vec<(AccountId, i64)>,
}

impl KeeperLiquidator {
    pub fn new(sc: &Scenario) -> Self {
        KeeperLiquidator {
            penalty: sc.protocol.liquidation.penalty,
            fee_to_fund: sc.protocol.liquidation.fee_to_fund,
            min_profit: sc.keeper.min_profit,
            slippage: Slippage::new(sc),
            decimals: sc.assets.iter().map(|a| a.decimals as i32).collect(),
            max_sell: sc.liquidity.max_sell_usd_per_step,
            budget: f64::INFINITY,
            done: Vec::new(),
            stage: Stage::Done,
            accounts: Vec::new(),
            positions: Vec::new(),
            all_closed: true,
            unwind: None,
            closed: Vec::new(),
            equities: Vec::new(),
        }
    }

    /// Starts the step's turn on the accounts below maintenance.
    fn begin(&mut self, cx: &StepContext<'_>) {
        let n = cx.engine.state().accounts.len();
        if self.done.len() < n {
            self.done.resize(n, false);
        }
        self.accounts.clear();
        self.accounts
            .extend(cx.now.queue.iter().filter(|a| !self.done[a.idx()]));
        self.closed.clear();
        self.unwind = None;
        self.budget = self.max_sell.unwrap_or(f64::INFINITY);
        self.stage = if self.accounts.is_empty() {
            Stage::Done
        } else {
            self.load(cx, 0);
            Stage::Close { acct: 0, pos: 0 }
        };
    }

    /// Reads the positions of `accounts[acct]`.
    fn load(&mut self, cx: &StepContext<'_>, acct: usize) {
        self.positions.clear();
        self.all_closed = true;
        if let Some(id) = self.accounts.get(acct) {
            self.positions.extend(
                cx.engine.state().accounts[id.idx()]
                    .positions
                    .iter()
                    .map(|p| (p.market, p.size)),
            );
        }
    }

    /// Moves on to the next account, remembering the current one if it is fully closed.
    fn next_account(&mut self, cx: &StepContext<'_>, acct: usize) {
        if self.all_closed {
            self.closed.push(self.accounts[acct]);
        }
        if acct + 1 < self.accounts.len() {
            self.load(cx, acct + 1);
            self.stage = Stage::Close {
                acct: acct + 1,
                pos: 0,
            };
        } else {
            self.stage = Stage::Fees;
        }
    }

    /// The close (and its pending unwind) of one position, or why it waits.
    fn close(&mut self, cx: &StepContext<'_>, id: AccountId, pos: usize, acts: &mut Vec<Act>) {
        let (market, size) = self.positions[pos];
        let ai = market.idx();
        let px = cx.now.prices[ai];
        let notional = size.0.unsigned_abs() as f64 / crate::units::pow10(self.decimals[ai]) * px;
        let s = self.slippage.fraction(notional, cx.now.returns[ai]);
        let profit = notional * (self.penalty - s) - cx.now.gas_usd;
        if profit < self.min_profit {
            acts.push(Act::Note(crate::agent::Note::MissedUnprofitable));
            self.all_closed = false;
            return;
        }
        // The sell cap: close what fits, defer the rest to later steps.
        let (mut size, mut notional, mut s) = (size, notional, s);
        if notional > self.budget {
            let q = (size.0 as f64 * (self.budget / notional)) as i64;
            let deferred = usd(notional * (1.0 - q as f64 / size.0 as f64)).0;
            acts.push(Act::Note(crate::agent::Note::DeferredSell(deferred)));
            self.all_closed = false;
            if q == 0 {
                return;
            }
            notional *= q as f64 / size.0 as f64;
            size = Amount(q);
            s = self.slippage.fraction(notional, cx.now.returns[ai]);
        }
        self.budget -= notional;
        let long = size.0 > 0;
        let fill_px = if long {
            px * (1.0 - self.penalty)
        } else {
            px * (1.0 + self.penalty)
        };
        let close = Command::Fill {
            market,
            taker: id,
            maker: cx.house.liquidator,
            size: Amount(-size.0),
            price: fill_px,
        };
        let purpose = Purpose::KeeperClose {
            volume: usd(notional).0,
            penalty: usd(notional * self.penalty).0,
        };
        acts.push(send(cx, close, purpose));
        // Unwind what the liquidator took over (if the close is accepted).
        let unwind_px = if long { px * (1.0 - s) } else { px * (1.0 + s) };
        let unwind = Command::Fill {
            market,
            taker: cx.house.liquidator,
            maker: cx.house.maker,
            size: Amount(-size.0),
            price: unwind_px,
        };
        let slippage = usd(notional * s).0;
        self.unwind = Some(Order {
            time_ms: cx.now.time_ms,
            cmd: unwind,
            purpose: Purpose::KeeperUnwind { slippage },
        });
    }

    /// The next close of the turn (with the notes that come before it).
    fn closes(&mut self, cx: &StepContext<'_>, acct: usize, pos: usize) -> Vec<Act> {
        let id = self.accounts[acct];
        let mut acts = Vec::new();
        if pos == 0 && !self.positions.is_empty() && !cx.now.keeper_online {
            acts.push(Act::Note(crate::agent::Note::MissedOutage(1)));
            self.all_closed = false;
            self.positions.clear();
        }
        let mut pos = pos;
        while pos < self.positions.len() {
            self.close(cx, id, pos, &mut acts);
            pos += 1;
            if self.unwind.is_some() {
                self.stage = Stage::Close { acct, pos };
                return acts;
            }
        }
        self.next_account(cx, acct);
        acts
    }

    /// Waterfall, netted over the step: surplus fees first.
    fn fees(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        self.equities.clear();
        let mut acts = Vec::new();
        for &id in &self.closed {
            let d = quote_balance(cx.engine, id);
            self.equities.push((id, d));
            self.done[id.idx()] = true;
            let fee = (d as f64 * self.fee_to_fund).floor() as i64;
            if d > 0 && fee > 0 {
                let amount = Amount(fee);
                let take = Command::Withdraw {
                    account: id,
                    asset: QUOTE,
                    amount,
                };
                let pay = Command::Deposit {
                    account: cx.house.fund,
                    asset: QUOTE,
                    amount,
                };
                acts.push(send(cx, take, Purpose::Required));
                acts.push(send(cx, pay, Purpose::FeeToFund { fee }));
            }
        }
        acts
    }

    /// Then shortfalls: the fund covers what it can, the rest is bad debt.
    fn covers(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        let mut fund = quote_balance(cx.engine, cx.house.fund);
        let mut acts = Vec::new();
        for &(id, d) in &self.equities {
            if d >= 0 {
                continue;
            }
            let need = -d;
            let cover = need.min(fund.max(0));
            if cover > 0 {
                let amount = Amount(cover);
                let take = Command::Withdraw {
                    account: cx.house.fund,
                    asset: QUOTE,
                    amount,
                };
                let pay = Command::Deposit {
                    account: id,
                    asset: QUOTE,
                    amount,
                };
                acts.push(send(cx, take, Purpose::Required));
                let purpose = Purpose::Cover {
                    account: id,
                    amount: cover,
                };
                acts.push(send(cx, pay, purpose));
                fund -= cover;
            }
            if need > cover {
                acts.push(Act::Note(crate::agent::Note::Uncovered {
                    account: id,
                    amount: need - cover,
                }));
            }
        }
        acts
    }
}

impl Agent for KeeperLiquidator {
    fn queue(&self) -> Queue {
        Queue::ById
    }

    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        if round == 0 {
            self.begin(cx);
        }
        if let Some(u) = self.unwind.take() {
            return Ok(vec![Act::Send(u)]);
        }
        loop {
            let acts = match self.stage {
                Stage::Close { acct, pos } => self.closes(cx, acct, pos),
                Stage::Fees => {
                    self.stage = Stage::Covers;
                    if self.closed.is_empty() {
                        self.stage = Stage::Done;
                    }
                    self.fees(cx)
                }
                Stage::Covers => {
                    self.stage = Stage::Done;
                    self.covers(cx)
                }
                Stage::Done => return Ok(Vec::new()),
            };
            if !acts.is_empty() {
                return Ok(acts);
            }
        }
    }

    fn observe(&mut self, order: &Order, outcome: Outcome<'_>, _cx: &StepContext<'_>) {
        if matches!(order.purpose, Purpose::KeeperClose { .. }) && !outcome.ok() {
            // Refused: nothing to unwind, and the account is not closed.
            self.unwind = None;
            self.all_closed = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slippage_is_linear_capped_and_falls_with_depth() {
        let s = Slippage {
            depth_usd: Some(1e6),
            vol_sensitivity: 1.0,
            max_slippage: 0.05,
        };
        assert!((s.fraction(1e6, 0.0) - 0.01).abs() < 1e-12);
        assert!((s.fraction(1e6, 0.01) - 0.02).abs() < 1e-12);
        assert_eq!(s.fraction(1e9, 0.0), 0.05);
        let none = Slippage {
            depth_usd: None,
            vol_sensitivity: 1.0,
            max_slippage: 0.05,
        };
        assert_eq!(none.fraction(1e9, 0.3), 0.0);
    }
}
