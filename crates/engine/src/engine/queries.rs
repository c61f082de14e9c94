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
        let pool = &self.state.pools[acct.pool.idx()];
        let mut lines = Vec::new();
        let q = quote_now(&acct.quote, &lend)?;
        let mut collateral = Value::from_quote(q);
        lines.push(Contribution::Quote {
            amount: q,
            value: Value::from_quote(q),
        });
        for (asset, amt) in &acct.collateral {
            let cp = self.collateral_params(pool, *asset);
            let price = self.price_for(*asset, kind, true);
            let (value, weight, weighted) = match (price, cp) {
                (Some(p), Some(cp)) => {
                    let w = if kind == HealthKind::Initial {
                        cp.init_weight
                    } else {
                        cp.maint_weight
                    };
                    let v = amt.value(p);
                    (v, w, margin::collateral_weighted(v, w)?)
                }
                _ => (Value::ZERO, Ratio::ZERO, Value::ZERO),
            };
            collateral.add_assign(weighted)?;
            lines.push(Contribution::Collateral {
                asset: *asset,
                amount: *amt,
                value,
                weight,
                weighted,
            });
        }
        let (mut pnl, mut req) = (Value::ZERO, Value::ZERO);
        let standard = acct.margin_mode == MarginMode::Standard;
        for p in &acct.positions {
            let m = &self.state.markets[p.market.idx()];
            let base = &self.state.assets[m.base.idx()];
            let price = self
                .price_for(m.base, kind, p.size.0 > 0)
                .expect("position implies a price");
            let notional = p.size.value(price);
            let upnl = self.counted_pnl(
                m,
                Value::sum([
                    Value::from_quote(p.quote),
                    notional,
                    unsettled_funding(p, m)?,
                ])?,
                kind,
            );
            let rate = self.rate(m, p.size, kind, base.decimals);
            let requirement = if standard {
                margin::position_requirement(notional, rate)?
            } else {
                Value::ZERO
            };
            pnl.add_assign(upnl)?;
            req.add_assign(requirement)?;
            lines.push(Contribution::Perp {
                market: p.market,
                size: p.size,
                notional,
                unrealized_pnl: upnl,
                rate,
                requirement,
            });
        }
        if acct.margin_mode == MarginMode::Portfolio {
            // The scenario revaluation replaces the per-position requirements.
            let health = self.health_of(acct, &lend, kind)?;
            let marks = self.option_marks(acct)?;
            pnl.add_assign(marks)?;
            let requirement = collateral.checked_add(pnl)?.checked_sub(health)?;
            lines.push(Contribution::Portfolio {
                option_marks: marks,
                requirement,
            });
            return Ok(Breakdown {
                kind,
                collateral,
                unrealized_pnl: pnl,
                requirement,
                health,
                lines,
            });
        }
        for op in &acct.options {
            let (mark, requirement) = self.option_line(op, kind)?;
            pnl.add_assign(mark)?;
            req.add_assign(requirement)?;
            lines.push(Contribution::Option {
                series: op.series,
                size: op.size,
                mark,
                requirement,
            });
        }
        Ok(Breakdown {
            kind,
            collateral,
            unrealized_pnl: pnl,
            requirement: req,
            health: collateral.checked_add(pnl)?.checked_sub(req)?,
            lines,
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
