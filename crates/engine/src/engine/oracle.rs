//! Oracle and circuit-breaker integration: how multi-source quotes become the engine's prices,
//! how breakers step, and the gates that fills, withdrawals, borrows, funding and liquidation
//! pass through. The mechanisms themselves live in the `ballast-oracle` crate; this file only
//! wires them to the ledger, keeping the rule that a rejected command changes nothing.

use super::*;
use ballast_oracle::aggregate::{
    Aggregator, AggregatorConfig, OracleStatus, Quote, SourceId, SourceSpec,
};
use ballast_oracle::breaker::{
    Breaker, BreakerConfig, BreakerInput, ChainSignal, Mode, Transition,
};
use ballast_oracle::smooth::{StablePrice, StablePriceConfig};
use ballast_oracle::validity::Action;

fn oracle_scope(s: Scope) -> Option<ballast_oracle::breaker::Scope> {
    match s {
        Scope::Market(m) => Some(ballast_oracle::breaker::Scope::Market(m.0 as u32)),
        Scope::Pool(p) => Some(ballast_oracle::breaker::Scope::Pool(p.0 as u32)),
        Scope::Global => None,
    }
}

fn transition_events(scope: Scope, ts: &[Transition], out: &mut Vec<Event>) {
    for t in ts {
        out.push(Event::BreakerTransition {
            scope,
            from: t.from,
            to: t.to,
            cause: t.cause,
        });
    }
}

/// An account whose quote debt rests on unrealized gains in a halted market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HaltedExposure {
    pub account: AccountId,
    pub market: MarketId,
    /// Quote debt, quote-native units.
    pub debt: Amount,
    /// Unrealized gains in the halted market.
    pub gains: Value,
}

impl Engine {
    // ----- commands --------------------------------------------------------------------------

    pub(super) fn configure_oracle(
        &mut self,
        asset: AssetId,
        sources: &[SourceSpec],
        config: &AggregatorConfig,
        stable: &StablePriceConfig,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if self.asset(asset)?.oracle.is_some() {
            return Err(Reject::AlreadyInstalled(crate::error::Installed::Oracle(
                asset,
            )));
        }
        if self.state.numeraire == Some(asset) {
            return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                "the quote asset is the numeraire; it has no oracle",
            )));
        }
        let aggregator = Aggregator::new(*config, sources).map_err(Reject::Oracle)?;
        let stable = StablePrice::new(*stable).map_err(Reject::Oracle)?;
        self.state.assets[asset.idx()].oracle = Some(Box::new(OracleFeed {
            aggregator,
            stable,
            status: OracleStatus::NoQuorum,
            age_ms: None,
            stable_price: None,
            as_of_ms: None,
        }));
        out.push(Event::OracleConfigured {
            asset,
            sources: sources.len() as u32,
        });
        Ok(())
    }

    pub(super) fn oracle_update(
        &mut self,
        now: Timestamp,
        asset: AssetId,
        quotes: &[crate::command::SourceQuote],
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let a = self.asset(asset)?;
        let numeraire = self.state.numeraire.ok_or(Reject::NoPrice(asset))?;
        let (bd, qd) = (a.decimals, self.state.assets[numeraire.idx()].decimals);
        let mut feed = (**a.oracle.as_ref().ok_or(Reject::NoOracle(asset))?).clone();
        for q in quotes {
            // The same typed price errors as `set_price`, before the oracle sees the number.
            Price::from_human(q.price, bd, qd)
                .map_err(|reason| Reject::InvalidPrice { asset, reason })?;
            let q = Quote {
                source: SourceId(q.source),
                price: q.price,
                confidence: q.confidence,
                publish_ms: now.0,
            };
            feed.aggregator.submit(q).map_err(Reject::Oracle)?;
        }
        let reading = feed.aggregator.aggregate(now.0).map_err(Reject::Oracle)?;
        let fresh = matches!(
            reading.status,
            OracleStatus::Valid | OracleStatus::LowConfidence | OracleStatus::Divergent
        );
        let mut new_price = None;
        if let (true, Some(p)) = (fresh, reading.price) {
            let fixed = Price::from_human(p, bd, qd)
                .map_err(|reason| Reject::InvalidPrice { asset, reason })?;
            let s = feed.stable.update(now.0, p).map_err(Reject::Oracle)?;
            feed.stable_price = Price::from_human(s, bd, qd).ok();
            new_price = Some(fixed);
        }
        feed.status = reading.status;
        feed.age_ms = reading.age_ms;
        if reading.price.is_some() {
            feed.as_of_ms = reading.as_of_ms;
        }
        // Breakers see the new status (and the new price, for the move trigger).
        let chain = self.state.chain;
        let input = BreakerInput {
            now_ms: now.0,
            price: new_price.and(reading.price),
            oracle: feed.status,
            chain,
        };
        let market_breakers = self.step_market_breakers(asset, input)?;
        let pool_breakers = self.step_pools(now, Some((asset, feed.status)), chain)?;
        // commit
        let status = feed.status;
        let stable = feed.stable_price;
        self.state.assets[asset.idx()].oracle = Some(Box::new(feed));
        if let Some(p) = new_price {
            self.apply_price(now, asset, p, out);
        }
        out.push(Event::OracleUpdated {
            asset,
            price: self.state.assets[asset.idx()].price,
            status,
            stable,
        });
        for (m, b, ts) in market_breakers {
            transition_events(Scope::Market(m), &ts, out);
            self.state.markets[m.idx()].breaker = Some(b);
            self.report_halted_exposure(m, &ts, out);
        }
        self.commit_pool_breakers(pool_breakers, out);
        Ok(())
    }

    /// Steps the breaker of every market on `asset` with `input`, on copies.
    fn step_market_breakers(
        &self,
        asset: AssetId,
        input: BreakerInput,
    ) -> Result<Vec<(MarketId, Breaker, Vec<Transition>)>, Reject> {
        let mut res = Vec::new();
        for (i, m) in self.state.markets.iter().enumerate() {
            if let (true, Some(b)) = (m.base == asset, &m.breaker) {
                let mut b = b.clone();
                let ts = b.step(input).map_err(Reject::Oracle)?;
                res.push((MarketId(i as u16), b, ts));
            }
        }
        Ok(res)
    }

    /// Steps every pool breaker with the worst oracle status among the pool's assets (with
    /// `update` applied), on copies.
    fn step_pools(
        &self,
        now: Timestamp,
        update: Option<(AssetId, OracleStatus)>,
        chain: ChainSignal,
    ) -> Result<Vec<(PoolId, Breaker, Vec<Transition>)>, Reject> {
        let mut res = Vec::new();
        for (i, p) in self.state.pools.iter().enumerate() {
            let Some(b) = &p.breaker else { continue };
            let pool = PoolId(i as u16);
            let mut assets: Vec<AssetId> = p.collateral.iter().map(|c| c.asset).collect();
            assets.extend(p.markets.iter().map(|m| self.state.markets[m.idx()].base));
            if let Some((a, _)) = update {
                if !assets.contains(&a) {
                    continue;
                }
            }
            let worst = assets
                .iter()
                .filter_map(|a| match update {
                    Some((u, s)) if u == *a => Some(s),
                    _ => self.state.assets[a.idx()].oracle.as_ref().map(|f| f.status),
                })
                .max()
                .unwrap_or(OracleStatus::Valid);
            let mut b = b.clone();
            let ts = b
                .step(BreakerInput {
                    now_ms: now.0,
                    price: None,
                    oracle: worst,
                    chain,
                })
                .map_err(Reject::Oracle)?;
            res.push((pool, b, ts));
        }
        Ok(res)
    }

    fn commit_pool_breakers(
        &mut self,
        bs: Vec<(PoolId, Breaker, Vec<Transition>)>,
        out: &mut Vec<Event>,
    ) {
        for (p, b, ts) in bs {
            transition_events(Scope::Pool(p), &ts, out);
            self.state.pools[p.idx()].breaker = Some(b);
        }
    }

    pub(super) fn configure_breaker(
        &mut self,
        scope: Scope,
        config: &BreakerConfig,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let os = oracle_scope(scope).ok_or(Reject::NoBreaker(scope))?;
        use crate::error::Installed;
        let installed = match scope {
            Scope::Market(m) => self
                .market(m)?
                .breaker
                .is_some()
                .then_some(Installed::MarketBreaker(m)),
            Scope::Pool(p) => self
                .pool(p)?
                .breaker
                .is_some()
                .then_some(Installed::PoolBreaker(p)),
            Scope::Global => None,
        };
        if let Some(what) = installed {
            return Err(Reject::AlreadyInstalled(what));
        }
        let b = Breaker::new(os, *config).map_err(Reject::Oracle)?;
        match scope {
            Scope::Market(m) => self.state.markets[m.idx()].breaker = Some(b),
            Scope::Pool(p) => self.state.pools[p.idx()].breaker = Some(b),
            Scope::Global => {}
        }
        out.push(Event::BreakerConfigured { scope });
        Ok(())
    }

    pub(super) fn chain_status(
        &mut self,
        now: Timestamp,
        halted: bool,
        congestion: f64,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if !congestion.is_finite() || congestion < 0.0 {
            return Err(Reject::Oracle(ballast_oracle::Error::InvalidAmount {
                what: "congestion",
                value: congestion,
            }));
        }
        let chain = ChainSignal { halted, congestion };
        let mut markets = Vec::new();
        for (i, m) in self.state.markets.iter().enumerate() {
            if let Some(b) = &m.breaker {
                // An asset without a multi-source oracle takes `set_price` at face value (as
                // `oracle_allows` does): its breaker sees a valid feed, not "no quorum".
                let status = self.state.assets[m.base.idx()]
                    .oracle
                    .as_ref()
                    .map_or(OracleStatus::Valid, |f| f.status);
                let mut b = b.clone();
                let ts = b
                    .step(BreakerInput {
                        now_ms: now.0,
                        price: None,
                        oracle: status,
                        chain,
                    })
                    .map_err(Reject::Oracle)?;
                markets.push((MarketId(i as u16), b, ts));
            }
        }
        let pools = self.step_pools(now, None, chain)?;
        self.state.chain = chain;
        out.push(Event::ChainStatusChanged { halted });
        for (m, b, ts) in markets {
            transition_events(Scope::Market(m), &ts, out);
            self.state.markets[m.idx()].breaker = Some(b);
            self.report_halted_exposure(m, &ts, out);
        }
        self.commit_pool_breakers(pools, out);
        Ok(())
    }

    pub(super) fn govern_breaker(
        &mut self,
        now: Timestamp,
        scope: Scope,
        mode: Mode,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        // The guardian may tighten (an emergency stop); loosening is governance's
        // (`roles::required`, checked before this runs).
        let b = self.breaker(scope)?.ok_or(Reject::NoBreaker(scope))?;
        let mut b = b.clone();
        let ts = b.govern(mode, now.0).map_err(Reject::Oracle)?;
        transition_events(scope, &ts, out);
        match scope {
            Scope::Market(m) => self.state.markets[m.idx()].breaker = Some(b),
            Scope::Pool(p) => self.state.pools[p.idx()].breaker = Some(b),
            Scope::Global => {}
        }
        Ok(())
    }

    /// On a transition into Halted, one [`Event::DebtAgainstHaltedMarket`] per account whose
    /// debt rests on its gains in `market`.
    fn report_halted_exposure(&self, market: MarketId, ts: &[Transition], out: &mut Vec<Event>) {
        if !ts.iter().any(|t| t.to == Mode::Halted) {
            return;
        }
        for x in self.debt_against_market(market) {
            out.push(Event::DebtAgainstHaltedMarket {
                account: x.account,
                market: x.market,
                debt: x.debt,
                gains: x.gains,
            });
        }
    }

    /// Accounts with quote debt and unrealized gains in `market` whose maintenance health is
    /// negative once those gains are left out. An account whose health does not fit the types
    /// is reported too (with its gains as computed, or zero).
    pub(crate) fn debt_against_market(&self, market: MarketId) -> Vec<HaltedExposure> {
        let m = &self.state.markets[market.idx()];
        let Some(price) = self.state.assets[m.base.idx()].price else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for (i, a) in self.state.accounts.iter().enumerate() {
            let Some(p) = a.position(market) else {
                continue;
            };
            let Ok(lend) = self.lending_now(a.pool) else {
                continue;
            };
            let debt = match quote_now(&a.quote, &lend) {
                Ok(q) if q.0 < 0 => Amount(q.0.saturating_neg()),
                _ => continue,
            };
            let gains = Value::sum([
                Value::from_quote(p.quote),
                p.size.value(price),
                unsettled_funding(p, m).unwrap_or(Value::ZERO),
            ])
            .unwrap_or(Value::ZERO);
            if gains.0 <= 0 {
                continue;
            }
            let without = self
                .health_of(a, &lend, HealthKind::Maintenance)
                .ok()
                .and_then(|h| h.checked_sub(gains).ok());
            if without.is_none_or(|h| h.0 < 0) {
                found.push(HaltedExposure {
                    account: AccountId(i as u32),
                    market,
                    debt,
                    gains,
                });
            }
        }
        found
    }

    /// Every account whose debt rests on gains in a market whose breaker is Halted now.
    pub fn debt_against_halted(&self) -> Vec<HaltedExposure> {
        let halted = self
            .state
            .markets
            .iter()
            .enumerate()
            .filter(|(_, m)| m.breaker.as_ref().is_some_and(|b| b.mode() == Mode::Halted));
        halted
            .flat_map(|(i, _)| self.debt_against_market(MarketId(i as u16)))
            .collect()
    }

    fn breaker(&self, scope: Scope) -> Result<Option<&Breaker>, Reject> {
        Ok(match scope {
            Scope::Market(m) => self.market(m)?.breaker.as_ref(),
            Scope::Pool(p) => self.pool(p)?.breaker.as_ref(),
            Scope::Global => None,
        })
    }

    // ----- gates -----------------------------------------------------------------------------

    /// May `action` rely on this asset's price now? Assets without an oracle take `set_price`
    /// at face value (the seam for a single trusted feed).
    pub(crate) fn oracle_allows(
        &self,
        now: Timestamp,
        asset: AssetId,
        action: Action,
    ) -> Result<(), Reject> {
        match &self.state.assets[asset.idx()].oracle {
            None => Ok(()),
            Some(f) => {
                let (status, age) = f.status_at(now.0);
                self.state
                    .validity
                    .check_status(action, status, age)
                    .map_err(Reject::Blocked)
            }
        }
    }

    fn breaker_allows(b: &Option<Breaker>, action: Action) -> Result<(), Reject> {
        match b {
            Some(b) => b.allows(action).map_err(Reject::Blocked),
            None => Ok(()),
        }
    }

    /// The gate for trading, funding and liquidating on a market: its breaker, its pool's
    /// breaker, then the base asset's oracle status.
    pub(crate) fn gate_market(
        &self,
        now: Timestamp,
        market: MarketId,
        action: Action,
    ) -> Result<(), Reject> {
        let m = &self.state.markets[market.idx()];
        Self::breaker_allows(&m.breaker, action)?;
        Self::breaker_allows(&self.state.pools[m.pool.idx()].breaker, action)?;
        self.oracle_allows(now, m.base, action)
    }

    /// The gate for taking value out of an account (withdraw, borrow, transfer): the pool's
    /// breaker, then the oracle status of every asset the account's health depends on.
    pub(crate) fn gate_account(
        &self,
        now: Timestamp,
        acct: &Account,
        extra: Option<AssetId>,
        action: Action,
    ) -> Result<(), Reject> {
        Self::breaker_allows(&self.state.pools[acct.pool.idx()].breaker, action)?;
        for (a, _) in &acct.collateral {
            self.oracle_allows(now, *a, action)?;
        }
        for p in &acct.positions {
            self.oracle_allows(now, self.state.markets[p.market.idx()].base, action)?;
        }
        if let Some(a) = extra {
            self.oracle_allows(now, a, action)?;
        }
        Ok(())
    }

    /// The gate for liquidating an account: the pool breaker and the breakers of the markets it
    /// holds (during Recovering only accounts with a health factor below the grace level —
    /// Aave v3 PriceOracleSentinel), then the oracle status of every asset its health depends on
    /// (the validity matrix allows liquidation on a short-stale or low-confidence price, never on
    /// a divergent one). Health factor here: `(health + requirement) / requirement`.
    pub(crate) fn gate_liquidation(
        &self,
        now: Timestamp,
        acct: &Account,
        health: Value,
        req: Value,
    ) -> Result<(), Reject> {
        let hf = if req.0 > 0 {
            (health.0 + req.0) as f64 / req.0 as f64
        } else {
            f64::INFINITY
        };
        let check = |b: &Option<Breaker>| match b {
            Some(b) => b.allows_liquidation(hf).map_err(Reject::Blocked),
            None => Ok(()),
        };
        check(&self.state.pools[acct.pool.idx()].breaker)?;
        for p in &acct.positions {
            let m = &self.state.markets[p.market.idx()];
            check(&m.breaker)?;
            self.oracle_allows(now, m.base, Action::Liquidate)?;
        }
        for (a, _) in &acct.collateral {
            self.oracle_allows(now, *a, Action::Liquidate)?;
        }
        Ok(())
    }

    /// Records an outflow of `value` on the pool's limiter (on a copy, returned for commit);
    /// refuses the command when it exceeds the ERC-7265 buffer.
    pub(crate) fn check_outflow(
        &self,
        now: Timestamp,
        pool: PoolId,
        value: Value,
    ) -> Result<Option<Breaker>, Reject> {
        let Some(b) = &self.state.pools[pool.idx()].breaker else {
            return Ok(None);
        };
        let mut b = b.clone();
        let v = value.to_human(self.quote_decimals()).max(0.0);
        let (check, _) = b.record_outflow(now.0, v).map_err(Reject::Oracle)?;
        if check != ballast_oracle::breaker::FlowCheck::Within {
            let wanted = value.to_quote(Round::Up).unwrap_or(Amount(i64::MAX));
            return Err(Reject::OutflowLimited { pool, wanted });
        }
        Ok(Some(b))
    }

    /// Records an inflow (deposit, repayment) on the pool's limiter; never refuses.
    pub(crate) fn record_inflow(&mut self, now: Timestamp, pool: PoolId, value: Value) {
        let d = self.quote_decimals();
        if let Some(b) = &mut self.state.pools[pool.idx()].breaker {
            // Inputs are finite and non-negative and time is monotone: this cannot fail.
            let _ = b.record_inflow(now.0, value.to_human(d).max(0.0));
        }
    }

    pub(crate) fn quote_decimals(&self) -> u8 {
        self.state
            .numeraire
            .map(|n| self.state.assets[n.idx()].decimals)
            .unwrap_or(6)
    }

    /// Price used for a health term: spot for maintenance; for initial (new risk), assets at
    /// `min(spot, stable)` and liabilities at `max(spot, stable)` (Mango v4 init health).
    pub(crate) fn price_for(
        &self,
        asset: AssetId,
        kind: HealthKind,
        is_asset: bool,
    ) -> Option<Price> {
        let a = &self.state.assets[asset.idx()];
        let spot = a.price?;
        if kind == HealthKind::Maintenance {
            return Some(spot);
        }
        match a.oracle.as_ref().and_then(|f| f.stable_price) {
            Some(stable) if is_asset => Some(spot.min(stable)),
            Some(stable) => Some(spot.max(stable)),
            None => Some(spot),
        }
    }

    /// Unrealized PnL of a perp as it counts toward health of `kind`. For initial health (the
    /// test of new risk: fills that add risk, borrows, withdrawals, transfers out), a market
    /// whose breaker is not Normal counts its losses but not its gains: a pump the breaker saw
    /// cannot be borrowed against (the Mango Markets exploit of 2022-10-11). Mango v4 gives
    /// positive perp PnL its own `init_overall_asset_weight` (0 = not borrowable) and values it
    /// at the stable price; Drift v2 refuses margin actions on an oracle that fails its validity
    /// check. Here the trigger is the breaker that detected the move.
    pub(crate) fn counted_pnl(&self, m: &Market, pnl: Value, kind: HealthKind) -> Value {
        let tripped = m.breaker.as_ref().is_some_and(|b| b.mode() != Mode::Normal);
        if kind == HealthKind::Initial && tripped && pnl.0 > 0 {
            Value::ZERO
        } else {
            pnl
        }
    }

    /// Initial-margin multiplier of a market's breaker (Cautious raises margin), as a ratio ≥ 1,
    /// rounded up.
    pub(crate) fn margin_multiplier(&self, m: &Market) -> Ratio {
        let mult = m
            .breaker
            .as_ref()
            .map(|b| b.margin_multiplier())
            .unwrap_or(1.0);
        let r = Ratio::from_f64(mult).unwrap_or(Ratio::ONE);
        Ratio(r.0.max(Ratio::ONE.0))
    }
}
