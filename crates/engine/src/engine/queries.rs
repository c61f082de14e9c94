//! Queries: read-only answers about the whole ledger — health and its breakdown per account,
//! the conservation check, and the below-maintenance scan served by the risk index.

use super::*;

impl Engine {
    /// Health of an account now (interest accrued to the latest command's time).
    pub fn health(&self, account: AccountId, kind: HealthKind) -> Result<Value, Reject> {
        let a = self.account(account)?;
        Ok(self.health_of(a, &self.lending_now(a.pool)?, kind)?)
    }

    /// What each balance and position contributes to an account's health.
    pub fn breakdown(&self, account: AccountId, kind: HealthKind) -> Result<Breakdown, Reject> {
        let acct = self.account(account)?;
        let lend = self.lending_now(acct.pool)?;
        let m = self.margin(acct, &lend, MarginContext::of(kind).with_breakdown())?;
        Ok(Breakdown {
            kind,
            collateral: m.collateral,
            unrealized_pnl: m.pnl,
            requirement: m.requirement,
            health: m.health,
            lines: m.lines,
        })
    }

    /// For every asset: value held in the ledger minus net deposits. Always zero: every unit is
    /// in an account balance or position cash flow, an insurance fund, a fee account, a
    /// funding or interest clearing account, or recognised as bad debt.
    pub fn conservation_gaps(&self) -> Vec<(AssetId, i128)> {
        let st = &self.state;
        let mut held = vec![0i128; st.assets.len()];
        for a in &st.accounts {
            let quote = st.pools[a.pool.idx()].quote;
            held[quote.idx()] += a.quote.amount.0 as i128;
            for p in &a.positions {
                held[quote.idx()] += p.quote.0 as i128;
            }
            for (asset, amt) in &a.collateral {
                held[asset.idx()] += amt.0 as i128;
            }
        }
        for p in &st.pools {
            held[p.quote.idx()] += p.insurance_fund.0 as i128
                + p.fee_account.0 as i128
                + p.lending.interest_clearing.0 as i128
                - p.bad_debt.0 as i128;
            for (asset, amt) in &p.liquidation.basket {
                held[asset.idx()] += amt.0 as i128;
            }
        }
        for m in &st.markets {
            held[st.pools[m.pool.idx()].quote.idx()] += m.funding_clearing.0 as i128;
        }
        for s in &st.series {
            held[st.pools[s.pool.idx()].quote.idx()] += s.clearing.0 as i128;
        }
        held.iter()
            .zip(&st.assets)
            .enumerate()
            .map(|(i, (h, a))| (AssetId(i as u16), h - a.net_deposits))
            .collect()
    }

    /// Every account whose maintenance health is below zero at current prices, ascending by id.
    ///
    /// Served from an index of liquidation prices (see [`crate::risk`]), so the cost after a
    /// price update is proportional to the accounts near or past their threshold, not to the
    /// number of accounts.
    pub fn below_maintenance(&mut self) -> Vec<AccountId> {
        let mut risk = std::mem::take(&mut self.risk);
        let out = risk.below_maintenance(self);
        self.risk = risk;
        out
    }

    /// Reference implementation of [`Engine::below_maintenance`]: checks every account.
    pub fn below_maintenance_scan(&self) -> Vec<AccountId> {
        let lends: Vec<Option<Lending>> = (0..self.state.pools.len())
            .map(|p| self.lending_now(PoolId(p as u16)).ok())
            .collect();
        (0..self.state.accounts.len())
            .filter(|&i| {
                let a = &self.state.accounts[i];
                self.maintenance_or_worst(a, lends[a.pool.idx()].as_ref()).0 < 0
            })
            .map(|i| AccountId(i as u32))
            .collect()
    }

    /// Maintenance health for risk queries. An account whose health (or whose pool's interest)
    /// no longer fits the ledger's types counts as the worst possible: a query never hides it.
    pub(crate) fn maintenance_or_worst(&self, acct: &Account, lend: Option<&Lending>) -> Value {
        lend.and_then(|l| self.health_of(acct, l, HealthKind::Maintenance).ok())
            .unwrap_or(Value(i128::MIN))
    }
}
