//! Margin: the health of an account under a [`HealthKind`], its margin rates and the
//! initial-health check of a tentative account.

use super::*;

impl Engine {
    /// Health of `acct` (possibly a tentative copy) with its pool's lending at `lend`.
    pub(crate) fn health_of(
        &self,
        acct: &Account,
        lend: &Lending,
        kind: HealthKind,
    ) -> Result<Value, Overflow> {
        self.health_patched(acct, None, lend, kind)
    }

    /// Health of `acct` as it would be with `patch` applied (a new quote balance and one
    /// position replaced, added or removed), without copying the account.
    pub(super) fn health_patched(
        &self,
        acct: &Account,
        patch: Option<&Patch>,
        lend: &Lending,
        kind: HealthKind,
    ) -> Result<Value, Overflow> {
        let pool = &self.state.pools[acct.pool.idx()];
        let quote = patch.map(|p| &p.quote).unwrap_or(&acct.quote);
        let mut h = Value::from_quote(quote_now(quote, lend)?);
        for (asset, amt) in &acct.collateral {
            if let (Some(price), Some(cp)) = (
                self.price_for(*asset, kind, true),
                self.collateral_params(pool, *asset),
            ) {
                let w = match kind {
                    HealthKind::Initial => cp.init_weight,
                    HealthKind::Maintenance => cp.maint_weight,
                };
                h.add_assign(margin::collateral_weighted(amt.value(price), w)?)?;
            }
        }
        if acct.margin_mode == MarginMode::Portfolio {
            let mut positions: SmallVec<[Position; 4]> = acct
                .positions
                .iter()
                .filter(|p| patch.is_none_or(|pt| pt.market != p.market))
                .copied()
                .collect();
            if let Some(Patch {
                position: Some(p), ..
            }) = patch
            {
                positions.push(*p);
            }
            return self.portfolio_health(acct, &positions, h, kind);
        }
        h.add_assign(self.option_terms(acct, kind)?)?;
        let mut patched = false;
        let positions = acct.positions.iter().filter_map(|p| match patch {
            Some(pt) if pt.market == p.market => {
                patched = true;
                pt.position
            }
            _ => Some(*p),
        });
        let add = |p: Position, h: &mut Value| -> Result<(), Overflow> {
            let m = &self.state.markets[p.market.idx()];
            let base = &self.state.assets[m.base.idx()];
            // A position can only exist once its base asset has a price.
            let price = self
                .price_for(m.base, kind, p.size.0 > 0)
                .expect("position implies a price");
            let notional = p.size.value(price);
            let pnl = Value::sum([
                Value::from_quote(p.quote),
                notional,
                unsettled_funding(&p, m)?,
            ])?;
            let rate = self.rate(m, p.size, kind, base.decimals);
            h.add_assign(self.counted_pnl(m, pnl, kind))?;
            h.sub_assign(margin::position_requirement(notional, rate)?)
        };
        for p in positions {
            add(p, &mut h)?;
        }
        if let Some(Patch {
            position: Some(p), ..
        }) = patch
        {
            if !patched {
                add(*p, &mut h)?;
            }
        }
        Ok(h)
    }

    /// Margin rate of a position: size premium, volatility add-on, breaker multiplier.
    pub(crate) fn rate(&self, m: &Market, size: Amount, kind: HealthKind, decimals: u8) -> Ratio {
        // The volatility add-on raises both requirements (capped at 100% of notional).
        let addon = m.vol_margin.as_ref().map_or(0, |v| v.addon.0);
        let with_addon = |r: Ratio| Ratio((r.0 + addon).min(crate::num::RATIO_SCALE));
        match kind {
            HealthKind::Initial => {
                let base = with_addon(margin::size_adjusted_rate(
                    m.params.init_margin,
                    m.params.imf,
                    size,
                    decimals,
                ));
                if m.breaker.is_none() {
                    return base;
                }
                // A Cautious breaker raises margin for new risk.
                let scaled = div_round(
                    base.0 as i128 * self.margin_multiplier(m).0 as i128,
                    crate::num::RATIO_SCALE as i128,
                    Round::Up,
                );
                Ratio(scaled.min(crate::num::RATIO_SCALE as i128) as i64)
            }
            HealthKind::Maintenance => with_addon(margin::size_adjusted_rate(
                m.params.maint_margin,
                m.params.imf,
                size,
                decimals,
            )),
        }
    }

    pub(super) fn require_health(
        &self,
        id: AccountId,
        acct: &Account,
        lend: &Lending,
        kind: HealthKind,
    ) -> Result<(), Reject> {
        let h = self.health_of(acct, lend, kind)?;
        if h.0 < 0 {
            return Err(Reject::InsufficientMargin {
                account: id,
                kind,
                health: h,
            });
        }
        Ok(())
    }
}
