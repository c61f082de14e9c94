//! The lenders (`[agents.lenders]`): quote depositors who withdraw everything once any asset
//! trades `withdraw_drawdown` below its running peak (never while the chain is halted). A
//! refused withdrawal is retried every step. What they lose — deposits − withdrawn − what is
//! left — is their share of socialized loss.

use crate::agent::{send, Act, Agent, Order, Outcome, Purpose, StepContext};
use crate::error::LabError;
use crate::record::quote_balance;
use crate::scenario::Scenario;
use crate::units::QUOTE;
use crate::world::{self, House};
use ballast_engine::command::Command;
use ballast_engine::ids::AccountId;
use ballast_engine::num::Amount;
use ballast_engine::Engine;

/// The lenders of one path.
pub struct Lenders {
    first: u32,
    /// Lender `k` has withdrawn (or has nothing left).
    out: Vec<bool>,
    withdraw_drawdown: f64,
}

impl Lenders {
    pub fn new(sc: &Scenario, house: &House) -> Option<Lenders> {
        let l = sc.agents.lenders.as_ref()?;
        Some(Lenders {
            first: world::first_lender(sc, house),
            out: vec![false; l.count as usize],
            withdraw_drawdown: l.withdraw_drawdown,
        })
    }

    /// Quote the lenders still hold (quote-native).
    pub fn left(&self, eng: &Engine) -> i64 {
        (0..self.out.len() as u32)
            .map(|k| quote_balance(eng, AccountId(self.first + k)))
            .sum()
    }
}

impl Agent for Lenders {
    fn act(&mut self, cx: &StepContext<'_>, round: u32) -> Result<Vec<Act>, LabError> {
        if round > 0 || cx.now.chain_halted {
            return Ok(Vec::new());
        }
        let n = cx.now.model_prices.len();
        let dd = (0..n)
            .map(|i| 1.0 - cx.now.model_prices[i] / cx.now.peaks[i])
            .fold(0.0, f64::max);
        if dd < self.withdraw_drawdown {
            return Ok(Vec::new());
        }
        let mut acts = Vec::new();
        for k in 0..self.out.len() {
            if self.out[k] {
                continue;
            }
            let id = AccountId(self.first + k as u32);
            let bal = quote_balance(cx.engine, id);
            if bal <= 0 {
                self.out[k] = true;
                continue;
            }
            let cmd = Command::Withdraw {
                account: id,
                asset: QUOTE,
                amount: Amount(bal),
            };
            acts.push(send(cx, cmd, Purpose::LenderWithdraw { amount: bal }));
        }
        Ok(acts)
    }

    fn observe(&mut self, order: &Order, outcome: Outcome<'_>, _cx: &StepContext<'_>) {
        if let (Command::Withdraw { account, .. }, true) = (&order.cmd, outcome.ok()) {
            if let Some(k) = account.0.checked_sub(self.first) {
                if let Some(o) = self.out.get_mut(k as usize) {
                    *o = true;
                }
            }
        }
    }
}
