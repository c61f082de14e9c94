//! Balances: deposits, withdrawals and transfers of the quote asset and of collateral, with
//! the per-account value cap, the initial-health check on anything taken out and the pool's
//! outflow limiter as the last gate before commit.

use super::*;

impl Engine {
    /// Checks that `asset` can be held in `pool`; returns true for the quote asset.
    pub(super) fn holdable(&self, pool: PoolId, asset: AssetId) -> Result<bool, Reject> {
        self.asset(asset)?;
        let p = &self.state.pools[pool.idx()];
        if p.quote == asset {
            Ok(true)
        } else if self.collateral_params(p, asset).is_some() {
            Ok(false)
        } else {
            Err(Reject::NotCollateral { pool, asset })
        }
    }

    /// Credits a non-quote collateral balance on a copy.
    pub(super) fn credit_collateral(
        acct: &mut Account,
        asset: AssetId,
        amount: Amount,
    ) -> Result<(), Reject> {
        match acct.collateral.iter_mut().find(|(a, _)| *a == asset) {
            Some((_, bal)) => *bal = bal.checked_add(amount)?,
            None => {
                let at = acct
                    .collateral
                    .iter()
                    .position(|(a, _)| *a > asset)
                    .unwrap_or(acct.collateral.len());
                acct.collateral.insert(at, (asset, amount));
            }
        }
        Ok(())
    }

    /// Debits a quote (`is_quote`) or collateral balance on a copy, never below zero.
    fn debit_balance(
        id: AccountId,
        a: &mut Account,
        l: &mut Lending,
        (asset, is_quote): (AssetId, bool),
        amount: Amount,
    ) -> Result<(), Reject> {
        if !is_quote {
            return Self::debit_collateral(id, a, asset, amount);
        }
        if a.quote.amount < amount {
            return Err(Reject::InsufficientBalance {
                account: id,
                asset,
                have: a.quote.amount.max(Amount::ZERO),
                want: amount,
            });
        }
        add_quote(&mut a.quote, l, -amount.0)
    }

    /// Debits a non-quote collateral balance on a copy (never below zero).
    pub(super) fn debit_collateral(
        id: AccountId,
        acct: &mut Account,
        asset: AssetId,
        amount: Amount,
    ) -> Result<(), Reject> {
        let have = acct.collateral_amount(asset);
        if have < amount {
            return Err(Reject::InsufficientBalance {
                account: id,
                asset,
                have,
                want: amount,
            });
        }
        let i = acct
            .collateral
            .iter()
            .position(|(a, _)| *a == asset)
            .expect("have > 0");
        acct.collateral[i].1 = Amount(have.0 - amount.0);
        if acct.collateral[i].1.is_zero() {
            acct.collateral.remove(i);
        }
        Ok(())
    }

    pub(super) fn deposit(
        &mut self,
        now: Timestamp,
        id: AccountId,
        asset: AssetId,
        amount: Amount,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        positive(amount)?;
        let acct0 = self.account(id)?;
        let is_quote = self.holdable(acct0.pool, asset)?;
        let pool_id = acct0.pool;
        let mut acct = acct0.clone();
        let net = self.state.assets[asset.idx()]
            .net_deposits
            .checked_add(amount.0 as i128)
            .ok_or(Reject::Overflow)?;
        let mut lend = None;
        if is_quote {
            let p = &self.state.pools[pool_id.idx()];
            let mut l = accrued(&p.lending, &p.params.curve, now)?;
            self.settle_all_interest(id, &mut acct, &mut l, out)?;
            add_quote(&mut acct.quote, &mut l, amount.0)?;
            if Self::total_deposits(&l)? > p.params.supply_cap.0 as i128 {
                return Err(Reject::SupplyCapExceeded {
                    pool: pool_id,
                    cap: p.params.supply_cap,
                });
            }
            lend = Some(l);
        } else {
            Self::credit_collateral(&mut acct, asset, amount)?;
        }
        self.require_account_value(id, &acct)?;
        // commit
        if let Some(l) = lend {
            self.state.pools[pool_id.idx()].lending = l;
        }
        self.state.assets[asset.idx()].net_deposits = net;
        self.state.accounts[id.idx()] = acct;
        self.risk.touch(id);
        let value = self.value_of(asset, amount);
        self.record_inflow(now, pool_id, value);
        out.push(Event::Deposited {
            account: id,
            asset,
            amount,
        });
        Ok(())
    }

    /// Refuses an account holding more than its pool's `max_account_value`: its quote balance
    /// plus every collateral balance at the oracle price (a domain limit that keeps every sum
    /// over the account far inside the ledger's types).
    pub(super) fn require_account_value(
        &self,
        id: AccountId,
        acct: &Account,
    ) -> Result<(), Reject> {
        let cap = self.state.pools[acct.pool.idx()].params.max_account_value;
        let mut v = Value::from_quote(acct.quote.amount);
        for (asset, amt) in &acct.collateral {
            if let Some(px) = self.state.assets[asset.idx()].price {
                v.add_assign(amt.value(px))?;
            }
        }
        if v > Value::from_quote(cap) {
            return Err(Reject::AccountValueTooLarge {
                account: id,
                value: v,
                cap,
            });
        }
        Ok(())
    }

    /// Spot value of an amount of an asset (zero without a price).
    pub(super) fn value_of(&self, asset: AssetId, amount: Amount) -> Value {
        if Some(asset) == self.state.numeraire {
            return Value::from_quote(amount);
        }
        match self.state.assets[asset.idx()].price {
            Some(p) => amount.value(p),
            None => Value::ZERO,
        }
    }
    pub(super) fn withdraw(
        &mut self,
        now: Timestamp,
        id: AccountId,
        asset: AssetId,
        amount: Amount,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        positive(amount)?;
        let acct0 = self.account(id)?;
        let pool_id = acct0.pool;
        let is_quote = self.holdable(pool_id, asset)?;
        self.check_not_paused(pool_id, None)?;
        let p = &self.state.pools[pool_id.idx()];
        let mut l = accrued(&p.lending, &p.params.curve, now)?;
        let mut acct = acct0.clone();
        let mut ev = Vec::new();
        self.settle_all_interest(id, &mut acct, &mut l, &mut ev)?;
        if is_quote {
            if acct.quote.amount < amount {
                return Err(Reject::InsufficientBalance {
                    account: id,
                    asset,
                    have: acct.quote.amount.max(Amount::ZERO),
                    want: amount,
                });
            }
            Self::require_liquidity(pool_id, &l, amount)?;
            add_quote(&mut acct.quote, &mut l, -amount.0)?;
        } else {
            Self::debit_collateral(id, &mut acct, asset, amount)?;
        }
        self.require_health(id, &acct, &l, HealthKind::Initial)?;
        self.gate_account(now, acct0, Some(asset), Action::Withdraw)?;
        self.commit_take_out(now, id, acct, l, asset, amount)?;
        out.extend(ev);
        out.push(Event::Withdrawn {
            account: id,
            asset,
            amount,
        });
        Ok(())
    }

    /// The last check and the commit of a withdrawal or borrow: the pool's outflow limiter
    /// (the only check that can still refuse), then the account, lending and net deposits.
    pub(super) fn commit_take_out(
        &mut self,
        now: Timestamp,
        id: AccountId,
        acct: Account,
        l: Lending,
        asset: AssetId,
        amount: Amount,
    ) -> Result<(), Reject> {
        let pool_id = acct.pool;
        let limiter = self.check_outflow(now, pool_id, self.value_of(asset, amount))?;
        if limiter.is_some() {
            self.state.pools[pool_id.idx()].breaker = limiter;
        }
        self.state.pools[pool_id.idx()].lending = l;
        self.state.assets[asset.idx()].net_deposits -= amount.0 as i128;
        self.state.accounts[id.idx()] = acct;
        self.risk.touch(id);
        Ok(())
    }

    pub(super) fn transfer(
        &mut self,
        now: Timestamp,
        from: AccountId,
        to: AccountId,
        asset: AssetId,
        amount: Amount,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        positive(amount)?;
        let a = self.account(from)?;
        let b = self.account(to)?;
        if from == to {
            return Err(Reject::SelfTrade);
        }
        if a.owner != b.owner {
            return Err(Reject::NotSameOwner { from, to });
        }
        let (pa, pb) = (a.pool, b.pool);
        let is_quote_a = self.holdable(pa, asset)?;
        let is_quote_b = self.holdable(pb, asset)?;
        self.check_not_paused(pa, None)?;
        let mut la = {
            let p = &self.state.pools[pa.idx()];
            accrued(&p.lending, &p.params.curve, now)?
        };
        let mut lb = if pa == pb {
            None
        } else {
            let p = &self.state.pools[pb.idx()];
            Some(accrued(&p.lending, &p.params.curve, now)?)
        };
        let (mut a, mut b) = (a.clone(), b.clone());
        let mut ev = Vec::new();
        self.settle_all_interest(from, &mut a, &mut la, &mut ev)?;
        {
            let lbr = lb.as_mut().unwrap_or(&mut la);
            self.settle_all_interest(to, &mut b, lbr, &mut ev)?;
        }
        Self::debit_balance(from, &mut a, &mut la, (asset, is_quote_a), amount)?;
        if is_quote_b {
            let lbr = lb.as_mut().unwrap_or(&mut la);
            add_quote(&mut b.quote, lbr, amount.0)?;
            if pa != pb {
                let p = &self.state.pools[pb.idx()];
                if Self::total_deposits(lbr)? > p.params.supply_cap.0 as i128 {
                    return Err(Reject::SupplyCapExceeded {
                        pool: pb,
                        cap: p.params.supply_cap,
                    });
                }
            }
        } else {
            Self::credit_collateral(&mut b, asset, amount)?;
        }
        self.require_health(from, &a, &la, HealthKind::Initial)?;
        self.require_account_value(to, &b)?;
        self.gate_account(now, self.account(from)?, Some(asset), Action::Withdraw)?;
        self.state.pools[pa.idx()].lending = la;
        if let Some(lb) = lb {
            self.state.pools[pb.idx()].lending = lb;
        }
        self.state.accounts[from.idx()] = a;
        self.state.accounts[to.idx()] = b;
        self.risk.touch(from);
        self.risk.touch(to);
        out.extend(ev);
        out.push(Event::Transferred {
            from,
            to,
            asset,
            amount,
        });
        Ok(())
    }
}
