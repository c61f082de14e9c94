//! What an attack cost and earned on one path ([`AttackTally`], part of the path result), in
//! quote-native integers so that aggregates merge exactly.
//!
//! The recorder books the attacker's engine commands (capital in, quote out, gas on every
//! transaction, taken or refused) and its spot purchases on the venues it moved (quote spent at
//! the impact price, base bought); [`AttackTally::close`] marks what is left at the horizon:
//! the spot it holds at the final fair (model) price and the equity of its accounts (counted
//! only when positive: an attacker walks away from an account under water, which is then the
//! protocol's loss).
//!
//! `pnl = taken + equity_left + spot_value − deposited − spot_spent − gas`: every cost is in
//! it (impact through `spot_spent − spot_value`, fees, penalties and its own liquidations
//! through its accounts' equity, gas).

use ballast_engine::ids::AccountId;
use ballast_engine::num::{Round, Value};
use ballast_engine::{Engine, Event, HealthKind};
use serde::{Deserialize, Serialize};

/// One path's attack (all zero when the scenario has no attacker).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackTally {
    /// Attackers on the path (0: no attack; the summary then says nothing about attacks).
    pub attackers: u32,
    /// Capital paid into its engine accounts.
    pub deposited: i64,
    /// Quote it borrowed or withdrew.
    pub taken: i64,
    /// Gas of every transaction it sent.
    pub gas: i64,
    /// Quote paid for spot on the venues it moved (at the impact price).
    pub spot_spent: i64,
    /// That spot at the final fair price.
    pub spot_value: i64,
    /// Positive equity left in its accounts at the horizon.
    pub equity_left: i64,
    /// Net profit, every cost included (module doc).
    pub pnl: i64,
    /// What the protocol lost on the path: insurance drawn + bad debt (ADL, socialized,
    /// recognised, uncovered) + unsettled negative equity, plus negative equity of its
    /// position-free accounts (a debt nobody will repay), less `self_adl`.
    pub protocol_loss: i64,
    /// The part of `protocol_loss` booked against its own accounts (their bankruptcies and
    /// their unpaid debt): the loss it caused directly, apart from what the rest of the path
    /// lost anyway.
    pub own_loss: i64,
    /// Borrows and withdrawals the engine refused.
    pub refused: u64,
    /// ADL haircuts the engine took from one of its accounts to pay for another of its
    /// accounts' bankruptcy: its own money, not the protocol's loss.
    pub self_adl: i64,
    /// Spot held per asset (base-native), marked at the horizon.
    #[serde(default)]
    pub spot_base: Vec<i64>,
    /// Its engine accounts (from `AccountOpened` answers to its own commands).
    #[serde(skip)]
    pub accounts: Vec<AccountId>,
    /// Steps of its first and last borrow or withdrawal (taken or refused): where the attack
    /// cashes out, the step a flag must come before (`ControllerTally::flagged_before_exit`).
    #[serde(skip)]
    pub exits: Option<(u32, u32)>,
}

/// What [`AttackTally::close`] reads at the horizon.
pub struct Horizon<'a> {
    pub engine: &'a Engine,
    /// Final fair (model) price and decimals of each asset.
    pub prices: &'a [f64],
    pub decimals: &'a [u8],
    /// The path's insurance drawn + bad debt + unsettled loss (quote-native).
    pub booked_loss: i64,
    /// The part of it booked against the attacker's accounts (quote-native).
    pub booked_own: i64,
}

impl AttackTally {
    /// Books one engine command of an attacker: its gas always, its flow when taken.
    pub fn order(&mut self, flow: crate::agent::AttackFlow, gas: i64, taken: bool) {
        use crate::agent::AttackFlow as F;
        self.gas += gas;
        match (flow, taken) {
            (F::In(x), true) => self.deposited += x,
            (F::Out(x), true) => self.taken += x,
            (F::Out(_), false) => self.refused += 1,
            _ => {}
        }
    }

    /// Remembers the step of a borrow or withdrawal it sent (taken or refused).
    pub fn exit_at(&mut self, flow: crate::agent::AttackFlow, step: u32) {
        if matches!(flow, crate::agent::AttackFlow::Out(_)) {
            let (first, _) = self.exits.unwrap_or((step, step));
            self.exits = Some((first, step));
        }
    }

    /// Remembers the accounts its own commands opened.
    pub fn opened(&mut self, events: &[Event]) {
        for e in events {
            if let Event::AccountOpened { account, .. } = e {
                self.accounts.push(*account);
            }
        }
    }

    /// Books ADL that moved value between two of its own accounts (any command's events).
    pub fn deleveraged(&mut self, events: &[Event]) {
        if self.accounts.is_empty() {
            return;
        }
        for e in events {
            if let Event::Deleveraged {
                account,
                bankrupt,
                haircut,
                ..
            } = e
            {
                if self.accounts.contains(account) && self.accounts.contains(bankrupt) {
                    self.self_adl += haircut.0;
                }
            }
        }
    }

    /// Books a spot purchase on the venues.
    pub fn spot(&mut self, asset: usize, spent: i64, base: i64) {
        if self.spot_base.len() <= asset {
            self.spot_base.resize(asset + 1, 0);
        }
        self.spot_base[asset] += base;
        self.spot_spent += spent;
    }

    /// Its spot holdings at the fair prices `prices`, marked down (against the attacker).
    fn spot_mark(&self, prices: &[f64], decimals: &[u8]) -> i64 {
        self.spot_base
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let px = prices.get(i).copied().unwrap_or(0.0);
                let dec = decimals.get(i).copied().unwrap_or(0);
                let usd = *b as f64 / crate::units::pow10(i32::from(dec)) * px;
                (usd * crate::units::QUOTE_SCALE).floor() as i64
            })
            .sum()
    }

    /// Positive equity left in its accounts, and the negative equity of those holding no
    /// position (a debt nobody will repay), quote-native.
    fn account_marks(&self, engine: &Engine) -> (i64, i64) {
        let (mut left, mut owed) = (0i64, 0i64);
        for id in &self.accounts {
            let Ok(b) = engine.breakdown(*id, HealthKind::Maintenance) else {
                continue;
            };
            let eq = b.health.0 + b.requirement.0;
            let held = engine.state().accounts[id.idx()]
                .positions
                .iter()
                .any(|p| p.size.0 != 0);
            if eq > 0 {
                left += Value(eq).to_quote(Round::Down).map_or(0, |a| a.0);
            } else if !held {
                // Accounts holding positions are already in the path's unsettled loss.
                owed += Value(-eq).to_quote(Round::Up).map_or(0, |a| a.0);
            }
        }
        (left, owed)
    }

    /// The net profit formula of the module doc, for given marks.
    fn pnl_with(&self, equity_left: i64, spot_value: i64) -> i64 {
        self.taken + equity_left + spot_value - self.deposited - self.spot_spent - self.gas
    }

    /// What it would take home if it walked away now: the module doc's `pnl` with its spot at
    /// the fair prices `prices` and its accounts' positive equity now.
    pub fn marked_pnl(&self, engine: &Engine, prices: &[f64], decimals: &[u8]) -> i64 {
        let (left, _) = self.account_marks(engine);
        self.pnl_with(left, self.spot_mark(prices, decimals))
    }

    /// Gross notional of its perps plus the value of its non-quote collateral, at the engine's
    /// prices (quote-native, rounded down).
    pub fn notional(&self, engine: &Engine) -> i64 {
        use ballast_engine::margin::Contribution as C;
        let mut v = 0i128;
        for id in &self.accounts {
            let Ok(b) = engine.breakdown(*id, HealthKind::Maintenance) else {
                continue;
            };
            for line in &b.lines {
                v += match line {
                    C::Perp { notional, .. } => notional.0.abs(),
                    C::Collateral { value, .. } => value.0.max(0),
                    _ => 0,
                };
            }
        }
        Value(v).to_quote(Round::Down).map_or(i64::MAX, |a| a.0)
    }

    /// Marks what is left at the horizon and sets `pnl` and `protocol_loss`.
    pub fn close(&mut self, h: &Horizon<'_>) {
        self.spot_value = self.spot_mark(h.prices, h.decimals);
        let (left, owed) = self.account_marks(h.engine);
        self.equity_left = left;
        self.protocol_loss = h.booked_loss.saturating_add(owed) - self.self_adl;
        self.own_loss = h.booked_own.saturating_add(owed) - self.self_adl;
        self.pnl = self.pnl_with(self.equity_left, self.spot_value);
    }
}
