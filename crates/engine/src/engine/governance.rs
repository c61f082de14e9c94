//! Governance: proposals, the timelock, and the one place a governed setting changes.
//!
//! A change is checked twice with the same rules, when proposed and when executed: hard
//! bounds, the max step from the value *at execution* (so queued proposals cannot add their
//! steps up), the cross-parameter invariants, and a minimum delay between two executed changes
//! of the same key (Aave Risk Stewards' `minDelay`; Maker's GSM delay is the timelock). A
//! switch of mechanism or curve waits [`DISCRETE_DELAY_FACTOR`] min-delays.

use super::*;
use crate::params::DISCRETE_DELAY_FACTOR;
use crate::state::{Change, ParamChange};

impl Engine {
    /// The current raw value of a governed setting (see [`ParamKey::format_value`]).
    pub fn param(&self, key: &ParamKey) -> Result<i64, Reject> {
        self.current_param(key)
    }

    pub(super) fn current_param(&self, key: &ParamKey) -> Result<i64, Reject> {
        Ok(match *key {
            ParamKey::Market { market, field } => self.market(market)?.params.get(field),
            ParamKey::Pool { pool, field } => self.pool(pool)?.params.get(field),
            ParamKey::Collateral { pool, asset, field } => {
                let p = self.pool(pool)?;
                self.collateral_params(p, asset)
                    .ok_or(Reject::NotCollateral { pool, asset })?
                    .get(field)
            }
            ParamKey::Liquidation { pool, field } => self.pool(pool)?.liquidation.params.get(field),
            ParamKey::MarketBreaker { field, .. } | ParamKey::PoolBreaker { field, .. } => {
                field.get(self.governed_breaker(key)?.0.config())
            }
            ParamKey::Oracle { asset, field } => {
                field.get(self.oracle_feed(asset)?.aggregator.config())
            }
            ParamKey::VolMargin { market, field } => field.get(&self.vol_margin_of(market)?.config),
            ParamKey::AuctionBreaker { pool } => self.pool(pool)?.liquidation.breaker as i64,
            ParamKey::Portfolio { pool, field } => self.pool(pool)?.portfolio.get(field),
            ParamKey::OptionMargin { pool, field } => self.pool(pool)?.option_margin.get(field),
            ParamKey::Validity { action, status } => self.state.validity.rule(action, status).raw(),
        })
    }

    fn oracle_feed(&self, asset: AssetId) -> Result<&OracleFeed, Reject> {
        self.asset(asset)?
            .oracle
            .as_deref()
            .ok_or(Reject::NoOracle(asset))
    }

    fn vol_margin_of(&self, market: MarketId) -> Result<&crate::volmargin::VolMargin, Reject> {
        self.market(market)?
            .vol_margin
            .as_ref()
            .ok_or(Reject::NoVolMargin(market))
    }

    /// The breaker a breaker key names, with its scope.
    fn governed_breaker(
        &self,
        key: &ParamKey,
    ) -> Result<(&ballast_oracle::breaker::Breaker, Scope), Reject> {
        let scope = match *key {
            ParamKey::MarketBreaker { market, .. } => Scope::Market(market),
            ParamKey::PoolBreaker { pool, .. } => Scope::Pool(pool),
            // Only breaker keys reach here; any other key names no breaker at all.
            _ => return Err(Reject::NoBreaker(Scope::Global)),
        };
        let b = match scope {
            Scope::Market(m) => self.market(m)?.breaker.as_ref(),
            Scope::Pool(p) => self.pool(p)?.breaker.as_ref(),
            Scope::Global => None,
        };
        Ok((b.ok_or(Reject::NoBreaker(scope))?, scope))
    }

    /// Checks bounds, step and cross-parameter rules of setting `key` to `value` now; returns
    /// the current value.
    pub(super) fn check_change(&self, key: &ParamKey, value: i64) -> Result<i64, Reject> {
        let current = self.current_param(key)?;
        let spec = key.spec();
        if value < spec.min || value > spec.max {
            return Err(Reject::ParamOutOfBounds {
                key: *key,
                value,
                min: spec.min,
                max: spec.max,
            });
        }
        let max_step = spec.allowed_step(current);
        if (value as i128 - current as i128).abs() > max_step as i128 {
            return Err(Reject::ParamStepTooLarge {
                key: *key,
                current,
                value,
                max_step,
            });
        }
        self.changed_copy(key, value)?;
        Ok(current)
    }

    /// What the change would install, checked by the target's own rules.
    fn changed_copy(&self, key: &ParamKey, value: i64) -> Result<Changed, Reject> {
        Ok(match *key {
            ParamKey::Market { market, field } => {
                let mut p = self.state.markets[market.idx()].params;
                p.set(field, value);
                p.validate().map_err(Reject::InvalidParams)?;
                Changed::Market(market, p)
            }
            ParamKey::Pool { pool, field } => {
                let mut p = self.state.pools[pool.idx()].params;
                p.set(field, value);
                p.validate().map_err(Reject::InvalidParams)?;
                Changed::Pool(pool, p)
            }
            ParamKey::Collateral { pool, asset, field } => {
                let mut c = self
                    .collateral_params(&self.state.pools[pool.idx()], asset)
                    .ok_or(Reject::NotCollateral { pool, asset })?;
                c.set(field, value);
                c.validate().map_err(Reject::InvalidParams)?;
                Changed::Collateral(pool, c, field)
            }
            ParamKey::Liquidation { pool, field } => {
                let mut p = self.state.pools[pool.idx()].liquidation.params;
                p.set(field, value);
                p.validate().map_err(Reject::InvalidParams)?;
                Changed::Liquidation(pool, p)
            }
            ParamKey::MarketBreaker { field, .. } | ParamKey::PoolBreaker { field, .. } => {
                let (b, scope) = self.governed_breaker(key)?;
                let mut cfg = *b.config();
                field.set(&mut cfg, value);
                let mut b = b.clone();
                b.reconfigure(cfg).map_err(Reject::Oracle)?;
                Changed::Breaker(scope, Box::new(b))
            }
            ParamKey::Oracle { asset, field } => {
                let mut feed = self.oracle_feed(asset)?.clone();
                let mut cfg = *feed.aggregator.config();
                field.set(&mut cfg, value);
                feed.aggregator.reconfigure(cfg).map_err(Reject::Oracle)?;
                Changed::Oracle(asset, Box::new(feed))
            }
            ParamKey::VolMargin { market, field } => {
                let mut v = self.vol_margin_of(market)?.clone();
                let mut cfg = v.config;
                field.set(&mut cfg, value);
                v.reconfigure(cfg)
                    .map_err(|e| Reject::InvalidVolMargin(e.0))?;
                Changed::VolMargin(market, Box::new(v))
            }
            ParamKey::AuctionBreaker { pool } => {
                self.pool(pool)?;
                Changed::AuctionBreaker(pool, value.clamp(0, 3) as u8)
            }
            ParamKey::Portfolio { pool, field } => {
                if let crate::portfolio::PortfolioField::Correlation { a, b } = field {
                    self.asset(a)?;
                    self.asset(b)?;
                }
                let mut p = self.pool(pool)?.portfolio.clone();
                p.set(field, value);
                p.validate().map_err(Reject::InvalidPortfolio)?;
                Changed::Portfolio(pool, Box::new(p))
            }
            ParamKey::OptionMargin { pool, field } => {
                let mut p = self.pool(pool)?.option_margin;
                p.set(field, value);
                p.validate()
                    .map_err(|rule| Reject::OptionMarginInverted { key: *key, rule })?;
                Changed::OptionMargin(pool, p)
            }
            ParamKey::Validity { action, status } => {
                let mut m = self.state.validity.clone();
                let rule = ballast_oracle::validity::Rule::from_raw(value);
                m.set(action, status, rule).map_err(Reject::Oracle)?;
                Changed::Validity(Box::new(m))
            }
        })
    }

    /// Earliest time `key` may change again.
    fn next_change_allowed(&self, key: &ParamKey) -> Result<Option<Timestamp>, Reject> {
        let Some(last) = self.state.param_changes.iter().find(|c| c.key == *key) else {
            return Ok(None);
        };
        let factor = if key.spec().discrete {
            DISCRETE_DELAY_FACTOR
        } else {
            1
        };
        let delay = self
            .state
            .governance
            .min_delay_ms
            .checked_mul(factor)
            .ok_or(Reject::Overflow)?;
        Ok(Some(Timestamp(last.at.0.saturating_add(delay))))
    }

    pub(super) fn propose(
        &mut self,
        now: Timestamp,
        key: ParamKey,
        value: i64,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        self.check_change(&key, value)?;
        let (proposal, eta) = self.queue(now, Change::Param { key, value })?;
        out.push(Event::ParamProposed {
            proposal,
            key,
            value,
            eta,
        });
        Ok(())
    }

    /// Queues a listing, an install or a role change behind the timelock. It is dry-run now
    /// on a copy (so a proposal that could not execute today is refused with the command's
    /// own reason) and checked again when executed.
    pub(super) fn propose_command(
        &mut self,
        now: Timestamp,
        command: &Command,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if !crate::roles::through_timelock(command) {
            return Err(Reject::NotProposable(command.kind()));
        }
        let mut trial = self.clone();
        trial.dispatch(now, command, &mut Vec::new())?;
        let change = Change::Command {
            command: Box::new(command.clone()),
        };
        let (proposal, eta) = self.queue(now, change)?;
        out.push(Event::CommandProposed {
            proposal,
            command: Box::new(command.clone()),
            eta,
        });
        Ok(())
    }

    fn queue(&mut self, now: Timestamp, change: Change) -> Result<(ProposalId, Timestamp), Reject> {
        let id = ProposalId(self.state.proposals.len() as u32);
        let eta = Timestamp(
            now.0
                .checked_add(self.state.governance.timelock_ms)
                .ok_or(Reject::Overflow)?,
        );
        self.state.proposals.push(Proposal {
            change,
            proposed_at: now,
            eta,
            state: ProposalState::Pending,
        });
        Ok((id, eta))
    }

    pub(super) fn execute(
        &mut self,
        now: Timestamp,
        id: ProposalId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let p = self
            .state
            .proposal(id)
            .ok_or(Reject::UnknownProposal(id))?
            .clone();
        if p.state != ProposalState::Pending {
            return Err(Reject::ProposalNotPending(id));
        }
        if now < p.eta {
            return Err(Reject::TimelockNotElapsed {
                proposal: id,
                eta: p.eta,
            });
        }
        let expires = Timestamp(p.eta.0.saturating_add(self.state.governance.grace_ms));
        if now > expires {
            return Err(Reject::ProposalExpired {
                proposal: id,
                expired_at: expires,
            });
        }
        match p.change {
            Change::Param { key, value } => self.execute_param(now, id, key, value, out)?,
            Change::Command { command } => {
                // The timelock is the authority: the payload runs without a role check.
                out.push(Event::ProposalExecuted { proposal: id });
                self.dispatch(now, &command, out)?;
            }
        }
        self.state.proposals[id.idx()].state = ProposalState::Executed;
        Ok(())
    }

    fn execute_param(
        &mut self,
        now: Timestamp,
        id: ProposalId,
        key: ParamKey,
        value: i64,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        if let Some(earliest) = self.next_change_allowed(&key)? {
            if now < earliest {
                return Err(Reject::ParamChangeTooSoon { key, earliest });
            }
        }
        let old = self.check_change(&key, value)?;
        let changed = self.changed_copy(&key, value)?;
        self.install(now, changed)?;
        self.record_change(key, now);
        out.push(Event::ParamExecuted {
            proposal: id,
            key,
            old,
            new: value,
        });
        Ok(())
    }

    fn record_change(&mut self, key: ParamKey, at: Timestamp) {
        match self.state.param_changes.iter_mut().find(|c| c.key == key) {
            Some(c) => c.at = at,
            None => self.state.param_changes.push(ParamChange { key, at }),
        }
    }

    /// The one place a governed setting changes.
    fn install(&mut self, now: Timestamp, changed: Changed) -> Result<(), Reject> {
        match changed {
            Changed::Market(m, p) => {
                self.state.markets[m.idx()].params = p;
                self.risk.invalidate_all();
            }
            Changed::Pool(pool, p) => {
                // Accrue at the old curve up to now, so a rate change applies only forward.
                let pl = &mut self.state.pools[pool.idx()];
                pl.lending = accrued(&pl.lending, &pl.params.curve, now)?;
                pl.params = p;
            }
            Changed::Collateral(pool, c, field) => {
                self.install_collateral(now, pool, c, field);
                self.risk.invalidate_all();
            }
            Changed::Liquidation(pool, p) => self.state.pools[pool.idx()].liquidation.params = p,
            Changed::Breaker(scope, b) => match scope {
                Scope::Market(m) => {
                    self.state.markets[m.idx()].breaker = Some(*b);
                    self.risk.invalidate_all();
                }
                Scope::Pool(p) => self.state.pools[p.idx()].breaker = Some(*b),
                Scope::Global => {}
            },
            Changed::Oracle(asset, feed) => self.state.assets[asset.idx()].oracle = Some(feed),
            Changed::VolMargin(m, v) => {
                self.state.markets[m.idx()].vol_margin = Some(*v);
                self.risk.invalidate_all();
            }
            Changed::AuctionBreaker(pool, level) => {
                self.state.pools[pool.idx()].liquidation.breaker = level
            }
            Changed::Portfolio(pool, p) => {
                self.state.pools[pool.idx()].portfolio = *p;
                self.risk.invalidate_all();
            }
            Changed::OptionMargin(pool, p) => {
                self.state.pools[pool.idx()].option_margin = p;
                self.risk.invalidate_all();
            }
            Changed::Validity(m) => self.state.validity = *m,
        }
        Ok(())
    }

    /// A collateral weight change. `c` holds the weights in effect with the change applied.
    /// A lowered maintenance weight is stored as its target and ramps in from the weight in
    /// effect over `ramp_ms`; a raised one applies at once and ends any ramp. The initial
    /// weight (new borrowing) always changes at once, as Euler's borrow LTV does.
    fn install_collateral(
        &mut self,
        now: Timestamp,
        pool: PoolId,
        c: CollateralParams,
        field: crate::params::CollateralField,
    ) {
        use crate::params::CollateralField;
        let ramp_ms = self.state.governance.ramp_ms;
        let effective = self.collateral_params(&self.state.pools[pool.idx()], c.asset);
        let pl = &mut self.state.pools[pool.idx()];
        let Some(slot) = pl.collateral.iter_mut().find(|x| x.asset == c.asset) else {
            return;
        };
        match field {
            CollateralField::InitWeight => slot.init_weight = c.init_weight,
            CollateralField::MaintWeight => {
                pl.maint_ramps.retain(|r| r.asset != c.asset);
                let from = effective.map_or(slot.maint_weight, |e| e.maint_weight);
                slot.maint_weight = c.maint_weight;
                if c.maint_weight < from && ramp_ms > 0 {
                    pl.maint_ramps.push(crate::state::WeightRamp {
                        asset: c.asset,
                        from,
                        to: c.maint_weight,
                        start: now,
                        end: Timestamp(now.0.saturating_add(ramp_ms)),
                    });
                }
            }
        }
    }

    pub(super) fn cancel(&mut self, id: ProposalId, out: &mut Vec<Event>) -> Result<(), Reject> {
        // The guardian may veto a queued change (Aave's guardian cancels steward updates); it
        // can never execute or propose one (`roles::required`).
        let p = self.state.proposal(id).ok_or(Reject::UnknownProposal(id))?;
        if p.state != ProposalState::Pending {
            return Err(Reject::ProposalNotPending(id));
        }
        self.state.proposals[id.idx()].state = ProposalState::Cancelled;
        out.push(Event::ProposalCancelled { proposal: id });
        Ok(())
    }

    /// Pauses (the guardian or the governor may stop the presses) or unpauses (the governor
    /// only; `roles::required`) a scope.
    pub(super) fn pause(
        &mut self,
        scope: Scope,
        on: bool,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        match scope {
            Scope::Global => self.state.paused = on,
            Scope::Pool(p) => {
                self.pool(p)?;
                self.state.pools[p.idx()].paused = on;
            }
            Scope::Market(m) => {
                self.market(m)?;
                self.state.markets[m.idx()].paused = on;
            }
        }
        out.push(if on {
            Event::Paused { scope }
        } else {
            Event::Unpaused { scope }
        });
        Ok(())
    }
}

/// A checked copy of what one change installs.
enum Changed {
    Market(MarketId, MarketParams),
    Pool(PoolId, PoolParams),
    Collateral(PoolId, CollateralParams, crate::params::CollateralField),
    Liquidation(PoolId, crate::params::LiquidationParams),
    Breaker(Scope, Box<ballast_oracle::breaker::Breaker>),
    Oracle(AssetId, Box<OracleFeed>),
    VolMargin(MarketId, Box<crate::volmargin::VolMargin>),
    AuctionBreaker(PoolId, u8),
    Portfolio(PoolId, Box<crate::portfolio::PortfolioParams>),
    OptionMargin(PoolId, crate::option_margin::OptionMarginParams),
    Validity(Box<ballast_oracle::validity::ValidityMatrix>),
}
