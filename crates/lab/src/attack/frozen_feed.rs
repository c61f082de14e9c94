//! `frozen_feed_borrow` (Venus Protocol on BNB Chain, 12 May 2022): while an oracle source is
//! frozen above the market, buy the asset at market, deposit it as collateral, borrow the quote
//! asset against the frozen price and walk away.
//!
//! The incident (Venus Protocol post-mortem, 13 May 2022; Chainlink's LUNA/USD feed stopped at
//! its `minAnswer` of 0.107 USD while LUNA traded near 0.01): attackers bought LUNA at market,
//! supplied it to Venus at the floor price and borrowed other assets against it, leaving about
//! 11.2 M USD of shortfall.
//!
//! Here, at `start_step`: open one account; buy the asset with the whole capital on a venue of
//! depth `venue_depth_usd` (the constant-product curve of `oracle_pump`: `B` quote buys
//! `X(1 − Y/(Y + B))` base, `X = Y/P` at the fair price `P`) — its buying does not move the
//! oracle; deposit it; then, on that step and the next `hold_steps − 1`, borrow what the
//! engine's initial health allows. The collateral left behind is worth what the market says at
//! the horizon (its account's equity, counted when positive).

use crate::agent::{send, Act, AttackFlow, Note, Order, Outcome, Purpose, StepContext};
use crate::error::LabError;
use crate::scenario::attack::AttackerSpec;
use crate::scenario::Scenario;
use crate::units::usd;
use ballast_engine::command::Command;
use ballast_engine::ids::{AccountId, AssetId, OwnerId};
use ballast_engine::num::Amount;

/// Borrow attempts per step.
const MAX_BORROWS: u32 = 6;

/// Where the attack is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Wait,
    /// Account opened: buy and deposit this much (base-native).
    Deposit,
    Borrow,
    Done,
}

/// One `frozen_feed_borrow` attacker of a path.
pub struct FrozenFeedBorrow {
    spec: AttackerSpec,
    owner: OwnerId,
    asset: usize,
    depth: f64,
    stage: Stage,
    account: AccountId,
    next_borrow: Option<i64>,
    tries: u32,
}

impl FrozenFeedBorrow {
    pub fn new(sc: &Scenario, spec: &AttackerSpec, index: usize) -> FrozenFeedBorrow {
        FrozenFeedBorrow {
            owner: OwnerId(1_000_000 + index as u32),
            asset: spec.asset_index(sc),
            depth: spec.depth(sc),
            stage: Stage::Wait,
            account: AccountId(0),
            next_borrow: None,
            tries: 0,
            spec: spec.clone(),
        }
    }

    fn order(&self, cx: &StepContext<'_>, cmd: Command, flow: AttackFlow) -> Act {
        let gas = usd(self.spec.gas_usd.unwrap_or(cx.now.gas_usd)).0;
        send(cx, cmd, Purpose::Attack { flow, gas })
    }

    /// Buys with the whole capital at the impact price and deposits what it bought.
    fn buy_and_deposit(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        let i = self.asset;
        let (px, b) = (cx.now.model_prices[i], self.spec.capital_usd);
        let y = self.depth;
        let base_usd = if y.is_finite() {
            y / px * (1.0 - y / (y + b))
        } else {
            b / px
        };
        let dec = cx.scenario.assets[i].decimals;
        let base = (base_usd * crate::units::pow10(i32::from(dec))).floor() as i64;
        self.stage = Stage::Borrow;
        let gas = usd(self.spec.gas_usd.unwrap_or(cx.now.gas_usd)).0;
        // All of it goes into the account: none is held outside (base 0 in the tally).
        let bought = Note::AttackSpot {
            asset: i,
            spent: usd(b).0,
            base: 0,
            gas,
        };
        let deposit = Command::Deposit {
            account: self.account,
            asset: AssetId(i as u16 + 1),
            amount: Amount(base),
        };
        vec![Act::Note(bought), self.order(cx, deposit, AttackFlow::None)]
    }

    fn borrow(&mut self, cx: &StepContext<'_>) -> Vec<Act> {
        let last = self.spec.start_step + self.spec.hold_steps.max(1);
        if self.tries >= MAX_BORROWS || cx.now.step >= last || cx.now.chain_halted {
            return Vec::new();
        }
        let amount = match self.next_borrow.take() {
            Some(a) => a,
            None => super::borrowable(cx.engine, self.account),
        };
        if amount < usd(1.0).0 {
            return Vec::new();
        }
        self.tries += 1;
        let cmd = Command::Borrow {
            account: self.account,
            amount: Amount(amount),
        };
        vec![self.order(cx, cmd, AttackFlow::Out(amount))]
    }
}

impl crate::agent::Agent for FrozenFeedBorrow {
    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        if round == 0 {
            self.tries = 0;
            self.next_borrow = None;
        }
        Ok(match self.stage {
            Stage::Wait if cx.now.step == self.spec.start_step => {
                let (id, open) = super::next_account(cx, self.owner);
                (self.account, self.stage) = (id, Stage::Deposit);
                vec![self.order(cx, open, AttackFlow::None)]
            }
            Stage::Deposit => self.buy_and_deposit(cx),
            Stage::Borrow => self.borrow(cx),
            Stage::Wait | Stage::Done => Vec::new(),
        })
    }

    fn observe(&mut self, order: &Order, outcome: Outcome<'_>, _cx: &StepContext<'_>) {
        match (&order.cmd, outcome) {
            (Command::OpenAccount { .. } | Command::Deposit { .. }, Outcome::Refused(_)) => {
                self.stage = Stage::Done
            }
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
