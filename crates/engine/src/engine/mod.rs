//! The engine: `apply(command) -> events | reject`. Every state change happens here, and
//! each handler works on copies of what it touches and commits only when every check has
//! passed, so a rejected command leaves the state byte-for-byte unchanged.

use crate::command::{Command, Envelope, Scope};
use crate::error::{Reject, Role};
use crate::event::Event;
use crate::funding::{self, FUNDING_INDEX_SCALE};
use crate::ids::{AccountId, AssetId, MarketId, OwnerId, PoolId, ProposalId};
use crate::margin::{self, Breakdown, Contribution, HealthKind};
use crate::math::position::PositionUpdate;
use crate::num::{
    div_round, mul_div, Amount, Overflow, Price, Ratio, Round, Timestamp, Value, MS_PER_HOUR,
    VALUE_SCALE,
};
use crate::params::{CollateralParams, MarketParams, ParamKey, PoolParams};
use crate::rates::{self, INDEX_SCALE};
use crate::risk::RiskIndex;
use crate::state::*;
use smallvec::SmallVec;

mod governance;
mod options;
mod oracle;
pub use oracle::HaltedExposure;

pub use options::BookGreeks;

use ballast_oracle::validity::Action;
mod auction;
mod liquidation;
mod settlement;
mod waterfall;

pub use auction::{auction_price, needs_reset};
pub use liquidation::{liquidator_share, penalty_rate, size_to_target, QueueEntry};

/// A tentative change to one account: its new quote balance and one position's new state.
#[derive(Debug, Clone, Copy, Default)]
struct Patch {
    quote: QuoteBalance,
    market: MarketId,
    position: Option<Position>,
}

/// Window of the mark and index TWAPs used for funding.
pub const TWAP_WINDOW_MS: i64 = MS_PER_HOUR;

/// The clearing state machine. Owns the ledger [`State`] and a derived risk index (not part of
/// the state hash; rebuilt identically on replay).
#[derive(Debug, Clone, Default)]
pub struct Engine {
    state: State,
    risk: RiskIndex,
    /// Time at which risk is evaluated: the command being applied, else the last accepted one.
    clock: Timestamp,
}

/// Lending state advanced to `now` (pure: returns a new value). An index that no longer fits
/// is an [`Overflow`]: the command that needs it is refused and nothing changes.
pub(crate) fn accrued(
    l: &Lending,
    curve: &rates::RateCurve,
    now: Timestamp,
) -> Result<Lending, Overflow> {
    let dt = now.0.saturating_sub(l.last_accrual.0);
    if dt <= 0 || (l.borrows_scaled == 0 && curve.base.0 == 0) {
        // No borrows and no base rate: indices cannot move; only the clock advances.
        let mut out = l.clone();
        out.last_accrual = out.last_accrual.max(now);
        return Ok(out);
    }
    let deposits = mul_div(l.deposits_scaled, l.deposit_index, INDEX_SCALE, Round::Down)?;
    let borrows = mul_div(l.borrows_scaled, l.borrow_index, INDEX_SCALE, Round::Down)?;
    let u = rates::utilization(borrows, deposits);
    let rb = rates::borrow_rate(curve, u);
    let rs = rates::supply_rate(curve, u, rb);
    let mut out = l.clone();
    out.borrow_index = rates::grow_index(l.borrow_index, rb, dt, Round::Up)?;
    out.deposit_index = rates::grow_index(l.deposit_index, rs, dt, Round::Down)?;
    out.last_accrual = now;
    Ok(out)
}

/// Contribution of a signed balance to the scaled totals at `index` (deposits round down,
/// borrows round up: both against the account).
fn scaled_of(amount: Amount, index: i128) -> Result<i128, Overflow> {
    // The floor of the signed quotient rounds deposits down and debts up in magnitude.
    mul_div(amount.0 as i128, INDEX_SCALE, index, Round::Down)
}

/// Current value of a quote balance at the lending indices, rounded against the account. A
/// balance that no longer fits an [`Amount`] is an [`Overflow`], never a clamp.
pub(crate) fn quote_now(q: &QuoteBalance, l: &Lending) -> Result<Amount, Overflow> {
    let a = q.amount.0 as i128;
    if a == 0 || q.index == 0 {
        return Ok(q.amount);
    }
    let current = if a > 0 {
        l.deposit_index
    } else {
        l.borrow_index
    };
    if current == q.index {
        return Ok(q.amount);
    }
    // Deposits round down, debts round up in magnitude: both are floor of the signed value.
    Amount::from_i128(mul_div(a, current, q.index, Round::Down)?)
}

/// Sets a quote balance that is settled at the current indices, keeping the pool's scaled
/// totals exact. Works on copies: on an overflow neither `q` nor `l` has changed.
fn set_quote(q: &mut QuoteBalance, l: &mut Lending, new: Amount) -> Result<(), Overflow> {
    let (mut dep, mut bor) = (l.deposits_scaled, l.borrows_scaled);
    if q.scaled >= 0 {
        dep = dep.checked_sub(q.scaled).ok_or(Overflow)?;
    } else {
        bor = bor.checked_add(q.scaled).ok_or(Overflow)?;
    }
    let index = if new.0 >= 0 {
        l.deposit_index
    } else {
        l.borrow_index
    };
    let scaled = scaled_of(new, index)?;
    if scaled >= 0 {
        dep = dep.checked_add(scaled).ok_or(Overflow)?;
    } else {
        bor = bor.checked_sub(scaled).ok_or(Overflow)?;
    }
    (l.deposits_scaled, l.borrows_scaled) = (dep, bor);
    q.amount = new;
    q.index = if new.0 == 0 { 0 } else { index };
    q.scaled = scaled;
    Ok(())
}

/// Brings a quote balance to the current indices; interest flows through the clearing account.
fn settle_interest(q: &mut QuoteBalance, l: &mut Lending) -> Result<Amount, Overflow> {
    if q.amount.0 == 0
        || q.index
            == if q.amount.0 > 0 {
                l.deposit_index
            } else {
                l.borrow_index
            }
    {
        return Ok(Amount::ZERO);
    }
    let now = quote_now(q, l)?;
    let delta = now.checked_sub(q.amount)?;
    let clearing = l.interest_clearing.checked_sub(delta)?;
    set_quote(q, l, now)?;
    l.interest_clearing = clearing;
    Ok(delta)
}

/// Adds `delta` to a settled quote balance.
fn add_quote(q: &mut QuoteBalance, l: &mut Lending, delta: i64) -> Result<(), Reject> {
    let new = q.amount.0.checked_add(delta).ok_or(Reject::Overflow)?;
    set_quote(q, l, Amount(new))?;
    Ok(())
}

/// Unsettled funding of a position as a value (negative: owed), rounded against the account.
pub(crate) fn unsettled_funding(p: &Position, m: &Market) -> Result<Value, Overflow> {
    if m.funding_index == p.funding_snapshot {
        return Ok(Value::ZERO);
    }
    let owed = funding_owed(p.size, m.funding_index, p.funding_snapshot)?;
    Ok(Value(-div_round(owed, FUNDING_INDEX_SCALE, Round::Up)))
}

/// `size × (index − snapshot)`, checked: funding owed in `Value × FUNDING_INDEX_SCALE` units.
fn funding_owed(size: Amount, index: i128, snapshot: i128) -> Result<i128, Overflow> {
    index
        .checked_sub(snapshot)
        .and_then(|d| d.checked_mul(size.0 as i128))
        .ok_or(Overflow)
}

/// Funding owed to (positive) or by (negative) a position since its last settlement, rounded
/// against the account (payers round up, receivers down); moves the snapshot to `index`. The
/// caller books the amount against the market's funding clearing account.
fn funding_payment(p: &mut Position, index: i128) -> Result<Amount, Reject> {
    let owed = funding_owed(p.size, index, p.funding_snapshot)?;
    p.funding_snapshot = index;
    if owed == 0 {
        return Ok(Amount::ZERO);
    }
    let unit = FUNDING_INDEX_SCALE * VALUE_SCALE;
    // Payers (owed > 0) round up in magnitude, receivers down: both are floor of −owed.
    let paid = div_round(owed.checked_neg().ok_or(Overflow)?, unit, Round::Down);
    Ok(Amount::from_i128(paid)?)
}

fn governor(role: Role, action: &'static str) -> Result<(), Reject> {
    if role == Role::Governor {
        Ok(())
    } else {
        Err(Reject::Unauthorized { role, action })
    }
}

/// Longest asset symbol, market symbol or pool name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Latest accepted command time: 9999-12-31T23:59:59.999Z in milliseconds. A microsecond
/// timestamp of today (~1.7e15) is beyond it, so a unit mistake is refused, not accrued.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;

fn bounded_name(what: &'static str, s: &str) -> Result<(), Reject> {
    if s.len() > MAX_NAME_LEN {
        return Err(Reject::TooLong {
            what,
            len: s.len(),
            max: MAX_NAME_LEN,
        });
    }
    Ok(())
}

/// Timestamp sanity: milliseconds since the epoch, not before it, not past year 9999.
fn plausible_time(t: Timestamp) -> Result<(), Reject> {
    if t.0 < 0 {
        return Err(Reject::TimestampNegative(t));
    }
    if t.0 > MAX_TIMESTAMP_MS {
        return Err(Reject::TimestampImplausible {
            got: t,
            max: Timestamp(MAX_TIMESTAMP_MS),
        });
    }
    Ok(())
}

fn positive(amount: Amount) -> Result<(), Reject> {
    if amount.0 > 0 {
        Ok(())
    } else {
        Err(Reject::NonPositiveAmount(amount))
    }
}

impl Engine {
    pub fn new() -> Self {
        Engine::default()
    }

    /// An engine with non-default governance settings (timelock, grace period).
    pub fn with_governance(governance: GovernanceConfig) -> Self {
        let mut e = Engine::default();
        e.state.governance = governance;
        e
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// An engine resumed from a saved [`State`] (a snapshot taken with [`Engine::state`]). The
    /// derived risk index is rebuilt at its first query, so the result answers and applies
    /// commands exactly as the engine that saved the state (same state hash after each one).
    pub fn from_state(state: State) -> Self {
        let mut e = Engine {
            clock: state.time,
            state,
            risk: RiskIndex::default(),
        };
        e.risk.resize_assets(e.state.assets.len());
        e.risk.resize_accounts(e.state.accounts.len());
        e.risk.invalidate_all();
        e
    }

    /// Canonical hash of the ledger state.
    pub fn state_hash(&self) -> String {
        self.state.hash()
    }

    /// Applies one command, returning its events; on rejection nothing changes.
    pub fn apply(&mut self, env: &Envelope) -> Result<Vec<Event>, Reject> {
        let mut out = Vec::new();
        self.apply_into(env, &mut out)?;
        Ok(out)
    }

    /// As [`Engine::apply`], appending events to a caller-owned buffer (no allocation per
    /// command on the hot path). On rejection `out` is left as it was.
    pub fn apply_into(&mut self, env: &Envelope, out: &mut Vec<Event>) -> Result<(), Reject> {
        let now = env.time;
        plausible_time(now)?;
        if now < self.state.time {
            return Err(Reject::TimeWentBackwards {
                last: self.state.time,
                got: now,
            });
        }
        let mark = out.len();
        self.clock = now;
        let r = self.dispatch(now, &env.cmd, out);
        match r {
            Ok(()) => {
                self.state.time = now;
                self.state.seq += 1;
                Ok(())
            }
            Err(e) => {
                out.truncate(mark);
                self.clock = self.state.time;
                Err(e)
            }
        }
    }

    fn dispatch(
        &mut self,
        now: Timestamp,
        cmd: &Command,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        self.check_frozen(cmd)?;
        match cmd {
            Command::CreateAsset {
                role,
                symbol,
                decimals,
            } => self.create_asset(*role, symbol, *decimals, out),
            Command::CreatePool {
                role,
                name,
                quote,
                params,
            } => self.create_pool(now, *role, name, *quote, params, out),
            Command::AddCollateral {
                role,
                pool,
                asset,
                init_weight,
                maint_weight,
            } => self.add_collateral(*role, *pool, *asset, *init_weight, *maint_weight, out),
            Command::CreateMarket {
                role,
                symbol,
                pool,
                base,
                params,
            } => self.create_market(now, *role, symbol, *pool, *base, params, out),
            Command::OpenAccount { owner, pool } => self.open_account(*owner, *pool, out),
            Command::Deposit {
                account,
                asset,
                amount,
            } => self.deposit(now, *account, *asset, *amount, out),
            Command::Withdraw {
                account,
                asset,
                amount,
            } => self.withdraw(now, *account, *asset, *amount, out),
            Command::Borrow { account, amount } => self.borrow(now, *account, *amount, out),
            Command::Transfer {
                from,
                to,
                asset,
                amount,
            } => self.transfer(now, *from, *to, *asset, *amount, out),
            Command::SetPrice { asset, price } => self.set_price(now, *asset, *price, out),
            Command::Fill {
                market,
                taker,
                maker,
                size,
                price,
            } => self.fill(now, *market, *taker, *maker, *size, *price, out),
            Command::SettleFunding { market } => self.settle_market_funding(now, *market, out),
            Command::Propose { role, key, value } => self.propose(now, *role, *key, *value, out),
            Command::Execute { role, proposal } => self.execute(now, *role, *proposal, out),
            Command::Cancel { role, proposal } => self.cancel(*role, *proposal, out),
            Command::Pause { role, scope } => self.pause(*role, *scope, true, out),
            Command::Unpause { role, scope } => {
                governor(*role, "unpause")?;
                self.pause(*role, *scope, false, out)
            }
            Command::ConfigureOracle {
                role,
                asset,
                sources,
                config,
                stable,
            } => self.configure_oracle(*role, *asset, sources, config, stable, out),
            Command::OracleUpdate { asset, quotes } => self.oracle_update(now, *asset, quotes, out),
            Command::ConfigureVolMargin {
                role,
                market,
                config,
            } => self.configure_vol_margin(*role, *market, config, out),
            Command::CreateOptionSeries {
                role,
                pool,
                underlying,
                kind,
                strike,
                expiry,
            } => self.create_series(now, *role, *pool, *underlying, *kind, *strike, *expiry, out),
            Command::SetVolSurface { asset, surface } => self.set_vol_surface(*asset, surface, out),
            Command::OptionFill {
                series,
                taker,
                maker,
                size,
                premium,
            } => self.option_fill(now, *series, *taker, *maker, *size, *premium, out),
            Command::ExpireSeries { series } => self.expire_series(now, *series, out),
            Command::SettleOptions { account } => self.settle_options(now, *account, out),
            Command::SetMarginMode { account, mode } => {
                self.set_margin_mode(now, *account, *mode, out)
            }
            Command::ConfigureBreaker {
                role,
                scope,
                config,
            } => self.configure_breaker(*role, *scope, config, out),
            Command::ChainStatus { halted, congestion } => {
                self.chain_status(now, *halted, *congestion, out)
            }
            Command::GovernBreaker { role, scope, mode } => {
                self.govern_breaker(now, *role, *scope, *mode, out)
            }
            Command::ConfigureLiquidation { role, pool, params } => {
                self.configure_liquidation(*role, *pool, params, out)
            }
            Command::Liquidate {
                liquidator,
                account,
                market,
                max_size,
            } => self.liquidate(now, *liquidator, *account, *market, *max_size, out),
            Command::StartAuction { account, keeper } => {
                self.start_auction(now, *account, *keeper, out)
            }
            Command::TakeAuction {
                auction,
                bidder,
                max_amount,
                price_limit,
            } => self.take_auction(now, *auction, *bidder, *max_amount, *price_limit, out),
            Command::RedoAuction { auction, keeper } => {
                self.redo_auction(now, *auction, *keeper, out)
            }
            Command::SetAuctionBreaker { role, pool, level } => {
                self.set_auction_breaker(*role, *pool, *level, out)
            }
            Command::Shutdown { role, pool } => self.shutdown(now, *role, *pool, out),
            Command::Claim {
                account,
                asset,
                amount,
            } => self.claim(*account, *asset, *amount, out),
        }
    }

    // ----- lookups -------------------------------------------------------------------------

    fn asset(&self, a: AssetId) -> Result<&Asset, Reject> {
        self.state
            .assets
            .get(a.idx())
            .ok_or(Reject::UnknownAsset(a))
    }
    fn pool(&self, p: PoolId) -> Result<&Pool, Reject> {
        self.state.pools.get(p.idx()).ok_or(Reject::UnknownPool(p))
    }
    fn market(&self, m: MarketId) -> Result<&Market, Reject> {
        self.state
            .markets
            .get(m.idx())
            .ok_or(Reject::UnknownMarket(m))
    }
    fn account(&self, a: AccountId) -> Result<&Account, Reject> {
        self.state
            .accounts
            .get(a.idx())
            .ok_or(Reject::UnknownAccount(a))
    }

    fn check_not_paused(&self, pool: PoolId, market: Option<MarketId>) -> Result<(), Reject> {
        if self.state.paused {
            return Err(Reject::Paused(Scope::Global.to_string()));
        }
        if self.state.pools[pool.idx()].paused {
            return Err(Reject::Paused(Scope::Pool(pool).to_string()));
        }
        if let Some(m) = market {
            if self.state.markets[m.idx()].paused {
                return Err(Reject::Paused(Scope::Market(m).to_string()));
            }
        }
        Ok(())
    }

    fn collateral_params(&self, pool: &Pool, asset: AssetId) -> Option<CollateralParams> {
        pool.collateral.iter().find(|c| c.asset == asset).copied()
    }

    // ----- margin --------------------------------------------------------------------------

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
    fn health_patched(
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

    /// Lending of `pool` advanced to the engine's current time without changing state.
    pub(crate) fn lending_now(&self, pool: PoolId) -> Result<Lending, Overflow> {
        let p = &self.state.pools[pool.idx()];
        accrued(&p.lending, &p.params.curve, self.state.time)
    }

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

    fn require_health(
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

    // ----- listing -------------------------------------------------------------------------

    fn create_asset(
        &mut self,
        role: Role,
        symbol: &str,
        decimals: u8,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        governor(role, "list assets")?;
        bounded_name("asset symbol", symbol)?;
        if decimals > MAX_DECIMALS {
            return Err(Reject::DecimalsTooLarge(decimals));
        }
        if self.state.assets.len() >= u16::MAX as usize {
            return Err(Reject::Overflow);
        }
        let id = AssetId(self.state.assets.len() as u16);
        self.state.assets.push(Asset {
            symbol: symbol.to_string(),
            decimals,
            price: None,
            price_time: Timestamp(0),
            net_deposits: 0,
            oracle: None,
            vol_surface: None,
        });
        self.risk.resize_assets(self.state.assets.len());
        out.push(Event::AssetCreated {
            asset: id,
            symbol: symbol.to_string(),
            decimals,
        });
        Ok(())
    }

    fn create_pool(
        &mut self,
        now: Timestamp,
        role: Role,
        name: &str,
        quote: AssetId,
        params: &PoolParams,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        governor(role, "create pools")?;
        bounded_name("pool name", name)?;
        self.asset(quote)?;
        if let Some(n) = self.state.numeraire {
            if n != quote {
                return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                    "every pool settles in the same quote asset (the numeraire of prices)",
                )));
            }
        }
        params.validate().map_err(Reject::InvalidParams)?;
        if self.state.pools.len() >= u16::MAX as usize {
            return Err(Reject::Overflow);
        }
        let id = PoolId(self.state.pools.len() as u16);
        self.state.numeraire = Some(quote);
        self.state.pools.push(Pool {
            name: name.to_string(),
            quote,
            collateral: Vec::new(),
            markets: Vec::new(),
            params: *params,
            lending: Lending {
                deposit_index: INDEX_SCALE,
                borrow_index: INDEX_SCALE,
                last_accrual: now,
                deposits_scaled: 0,
                borrows_scaled: 0,
                interest_clearing: Amount::ZERO,
            },
            insurance_fund: Amount::ZERO,
            fee_account: Amount::ZERO,
            bad_debt: Amount::ZERO,
            paused: false,
            breaker: None,
            liquidation: Default::default(),
        });
        out.push(Event::PoolCreated {
            pool: id,
            name: name.to_string(),
            quote,
        });
        Ok(())
    }

    fn add_collateral(
        &mut self,
        role: Role,
        pool: PoolId,
        asset: AssetId,
        init_weight: Ratio,
        maint_weight: Ratio,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        governor(role, "add collateral")?;
        let p = self.pool(pool)?;
        self.asset(asset)?;
        if p.quote == asset || self.collateral_params(p, asset).is_some() {
            return Err(Reject::DuplicateCollateral { pool, asset });
        }
        let cp = CollateralParams {
            asset,
            init_weight,
            maint_weight,
        };
        cp.validate().map_err(Reject::InvalidParams)?;
        self.state.pools[pool.idx()].collateral.push(cp);
        out.push(Event::CollateralAdded {
            pool,
            asset,
            init_weight,
            maint_weight,
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn create_market(
        &mut self,
        now: Timestamp,
        role: Role,
        symbol: &str,
        pool: PoolId,
        base: AssetId,
        params: &MarketParams,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        governor(role, "create markets")?;
        bounded_name("market symbol", symbol)?;
        let p = self.pool(pool)?;
        self.asset(base)?;
        if p.quote == base {
            return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                "a perpetual's base cannot be its own quote asset",
            )));
        }
        params.validate().map_err(Reject::InvalidParams)?;
        if self.state.markets.len() >= u16::MAX as usize {
            return Err(Reject::Overflow);
        }
        let id = MarketId(self.state.markets.len() as u16);
        self.state.markets.push(Market {
            symbol: symbol.to_string(),
            pool,
            base,
            params: *params,
            funding_index: 0,
            last_funding: now,
            mark_twap: None,
            last_mark: now,
            index_twap: self.state.assets[base.idx()].price,
            last_index: now,
            long_oi: Amount::ZERO,
            short_oi: Amount::ZERO,
            funding_clearing: Amount::ZERO,
            paused: false,
            breaker: None,
            vol_margin: None,
        });
        self.state.pools[pool.idx()].markets.push(id);
        out.push(Event::MarketCreated {
            market: id,
            symbol: symbol.to_string(),
            pool,
            base,
        });
        Ok(())
    }

    fn open_account(
        &mut self,
        owner: OwnerId,
        pool: PoolId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        self.pool(pool)?;
        if self.state.accounts.len() >= u32::MAX as usize {
            return Err(Reject::Overflow);
        }
        let id = self.state.next_account();
        self.state.accounts.push(Account {
            owner,
            pool,
            quote: QuoteBalance::default(),
            collateral: SmallVec::new(),
            positions: SmallVec::new(),
            options: SmallVec::new(),
            margin_mode: MarginMode::Standard,
        });
        self.risk.resize_accounts(self.state.accounts.len());
        out.push(Event::AccountOpened {
            account: id,
            owner,
            pool,
        });
        Ok(())
    }

    // ----- balances ------------------------------------------------------------------------

    /// Checks that `asset` can be held in `pool`; returns true for the quote asset.
    fn holdable(&self, pool: PoolId, asset: AssetId) -> Result<bool, Reject> {
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
    fn credit_collateral(acct: &mut Account, asset: AssetId, amount: Amount) -> Result<(), Reject> {
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

    /// Debits a non-quote collateral balance on a copy (never below zero).
    fn debit_collateral(
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

    /// Quote deposits of a pool at its current index (rounded down), checked.
    fn total_deposits(l: &Lending) -> Result<i128, Overflow> {
        mul_div(l.deposits_scaled, l.deposit_index, INDEX_SCALE, Round::Down)
    }
    /// Quote borrows of a pool at its current index (rounded up), checked.
    fn total_borrows(l: &Lending) -> Result<i128, Overflow> {
        mul_div(l.borrows_scaled, l.borrow_index, INDEX_SCALE, Round::Up)
    }

    fn deposit(
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
    fn require_account_value(&self, id: AccountId, acct: &Account) -> Result<(), Reject> {
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
    fn value_of(&self, asset: AssetId, amount: Amount) -> Value {
        if Some(asset) == self.state.numeraire {
            return Value::from_quote(amount);
        }
        match self.state.assets[asset.idx()].price {
            Some(p) => amount.value(p),
            None => Value::ZERO,
        }
    }

    fn settle_all_interest(
        &self,
        id: AccountId,
        acct: &mut Account,
        l: &mut Lending,
        out: &mut Vec<Event>,
    ) -> Result<(), Overflow> {
        let d = settle_interest(&mut acct.quote, l)?;
        if d.0 != 0 {
            out.push(Event::InterestSettled {
                account: id,
                amount: d,
            });
        }
        Ok(())
    }

    fn withdraw(
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

    /// Refuses taking `amount` of quote out of a pool whose deposits are lent out.
    fn require_liquidity(pool: PoolId, l: &Lending, amount: Amount) -> Result<(), Reject> {
        let available = Self::total_deposits(l)? - Self::total_borrows(l)?;
        if available < amount.0 as i128 {
            return Err(Reject::InsufficientLiquidity {
                pool,
                available: Amount(i64::try_from(available.max(0)).unwrap_or(i64::MAX)),
                wanted: amount,
            });
        }
        Ok(())
    }

    /// The last check and the commit of a withdrawal or borrow: the pool's outflow limiter
    /// (the only check that can still refuse), then the account, lending and net deposits.
    fn commit_take_out(
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

    fn borrow(
        &mut self,
        now: Timestamp,
        id: AccountId,
        amount: Amount,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        positive(amount)?;
        let acct0 = self.account(id)?;
        let pool_id = acct0.pool;
        self.check_not_paused(pool_id, None)?;
        let p = &self.state.pools[pool_id.idx()];
        let mut l = accrued(&p.lending, &p.params.curve, now)?;
        let mut acct = acct0.clone();
        let mut ev = Vec::new();
        self.settle_all_interest(id, &mut acct, &mut l, &mut ev)?;
        Self::require_liquidity(pool_id, &l, amount)?;
        add_quote(&mut acct.quote, &mut l, -amount.0)?;
        if Self::total_borrows(&l)? > p.params.borrow_cap.0 as i128 {
            return Err(Reject::BorrowCapExceeded {
                pool: pool_id,
                cap: p.params.borrow_cap,
            });
        }
        self.require_health(id, &acct, &l, HealthKind::Initial)?;
        self.gate_account(now, acct0, None, Action::Borrow)?;
        let quote = p.quote;
        self.commit_take_out(now, id, acct, l, quote, amount)?;
        out.extend(ev);
        out.push(Event::Borrowed {
            account: id,
            amount,
        });
        Ok(())
    }

    fn transfer(
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
        if is_quote_a {
            if a.quote.amount < amount {
                return Err(Reject::InsufficientBalance {
                    account: from,
                    asset,
                    have: a.quote.amount.max(Amount::ZERO),
                    want: amount,
                });
            }
            add_quote(&mut a.quote, &mut la, -amount.0)?;
        } else {
            Self::debit_collateral(from, &mut a, asset, amount)?;
        }
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

    // ----- prices and funding ----------------------------------------------------------------

    fn set_price(
        &mut self,
        now: Timestamp,
        asset: AssetId,
        price: f64,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let a = self.asset(asset)?;
        let numeraire = match self.state.numeraire {
            Some(n) if n == asset => {
                return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                    "the quote asset is the numeraire; its price is 1 by definition",
                )))
            }
            Some(n) => n,
            None => return Err(Reject::NoPrice(asset)),
        };
        if a.oracle.is_some() {
            return Err(Reject::OracleConfigured(asset));
        }
        let p = Price::from_human(
            price,
            a.decimals,
            self.state.assets[numeraire.idx()].decimals,
        )
        .map_err(|reason| Reject::InvalidPrice { asset, reason })?;
        out.push(Event::PriceUpdated { asset, price: p });
        self.apply_price(now, asset, p, out);
        Ok(())
    }

    /// Makes `p` the asset's price and feeds the index TWAP and volatility add-on of its markets.
    fn apply_price(&mut self, now: Timestamp, asset: AssetId, p: Price, out: &mut Vec<Event>) {
        let a = &mut self.state.assets[asset.idx()];
        a.price = Some(p);
        a.price_time = now;
        let decimals = a.decimals;
        let quote_decimals = self.quote_decimals();
        let mut moved = false;
        for (i, m) in self.state.markets.iter_mut().enumerate() {
            if m.base != asset {
                continue;
            }
            m.index_twap = Some(match m.index_twap {
                Some(t) => funding::twap_step(t, p, now.0 - m.last_index.0, TWAP_WINDOW_MS),
                None => p,
            });
            m.last_index = now;
            let vol = m.vol_margin.as_mut();
            if let Some(addon) =
                vol.and_then(|v| v.observe(now.0, p.to_human(decimals, quote_decimals)))
            {
                out.push(Event::VolMarginUpdated {
                    market: MarketId(i as u16),
                    addon,
                });
                moved = true;
            }
        }
        if moved {
            // Margin rates changed: every liquidation price may have moved.
            self.risk.invalidate_all();
        }
    }

    fn configure_vol_margin(
        &mut self,
        role: Role,
        market: MarketId,
        config: &crate::volmargin::VolMarginConfig,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        governor(role, "configure volatility margin")?;
        if self.market(market)?.vol_margin.is_some() {
            return Err(Reject::AlreadyInstalled(
                crate::error::Installed::VolMargin(market),
            ));
        }
        let v =
            crate::volmargin::VolMargin::new(*config).map_err(|e| Reject::InvalidVolMargin(e.0))?;
        self.state.markets[market.idx()].vol_margin = Some(v);
        self.risk.invalidate_all();
        out.push(Event::VolMarginConfigured { market });
        Ok(())
    }

    fn settle_market_funding(
        &mut self,
        now: Timestamp,
        market: MarketId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let m = self.market(market)?;
        let index = self.state.assets[m.base.idx()]
            .price
            .ok_or(Reject::NoPrice(m.base))?;
        self.gate_market(now, market, Action::SettleFunding)?;
        let index_twap = m.index_twap.unwrap_or(index);
        let mark_twap = m.mark_twap.unwrap_or(index_twap);
        let rate = funding::hourly_rate(mark_twap, index_twap, m.params.funding_cap);
        let delta = funding::index_delta(rate, index, now.0.saturating_sub(m.last_funding.0))?;
        let new_index = m.funding_index.checked_add(delta).ok_or(Reject::Overflow)?;
        let m = &mut self.state.markets[market.idx()];
        m.funding_index = new_index;
        m.last_funding = now;
        if delta != 0 {
            self.risk.funding_moved(market);
        }
        out.push(Event::FundingUpdated {
            market,
            rate,
            index: new_index,
        });
        Ok(())
    }

    // ----- trading --------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    /// Open-interest caps of a fill: the market's long open interest after it (when it grows)
    /// and each risk-adding side's size against its share of the cap.
    fn check_open_interest(
        &self,
        market: MarketId,
        long_after: i128,
        sides: [(AccountId, bool, Option<Position>); 2],
    ) -> Result<(), Reject> {
        let m = &self.state.markets[market.idx()];
        let cap = m.params.max_open_interest;
        if long_after > m.long_oi.0 as i128 && long_after > cap.0 as i128 {
            return Err(Reject::OpenInterestCap {
                market,
                open_interest: Amount::from_i128(long_after)?,
                cap,
            });
        }
        let share_cap = Amount::from_i128(crate::num::mul_div(
            cap.0 as i128,
            m.params.max_account_oi_share.0 as i128,
            crate::num::RATIO_SCALE as i128,
            Round::Down,
        )?)?;
        for (account, adds_risk, position) in sides {
            let size = position.map_or(0, |p| p.size.0.unsigned_abs());
            if adds_risk && size > share_cap.0.unsigned_abs() {
                return Err(Reject::AccountOpenInterestCap {
                    account,
                    market,
                    size: Amount(size.min(i64::MAX as u64) as i64),
                    cap: share_cap,
                });
            }
        }
        Ok(())
    }

    fn fill(
        &mut self,
        now: Timestamp,
        market: MarketId,
        taker: AccountId,
        maker: AccountId,
        size: Amount,
        price: f64,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let m0 = self.market(market)?;
        let pool_id = m0.pool;
        let t0 = self.account(taker)?;
        let k0 = self.account(maker)?;
        if taker == maker {
            return Err(Reject::SelfTrade);
        }
        for (id, a) in [(taker, t0), (maker, k0)] {
            if a.pool != pool_id {
                return Err(Reject::WrongPool {
                    account: id,
                    expected: pool_id,
                    actual: a.pool,
                });
            }
        }
        if size.0 == 0 {
            return Err(Reject::ZeroSize);
        }
        if size.0 == i64::MIN {
            return Err(Reject::Overflow);
        }
        self.check_not_paused(pool_id, Some(market))?;
        let base = &self.state.assets[m0.base.idx()];
        let pool = &self.state.pools[pool_id.idx()];
        let quote_decimals = self.state.assets[pool.quote.idx()].decimals;
        let px = Price::from_human(price, base.decimals, quote_decimals).map_err(|reason| {
            Reject::InvalidPrice {
                asset: m0.base,
                reason,
            }
        })?;
        let index = base.price.ok_or(Reject::NoPrice(m0.base))?;
        // |px − index| / index > band, without a division on the accepted path.
        let gap = (px.raw() as i128 - index.raw() as i128).abs() * crate::num::RATIO_SCALE as i128;
        if gap > m0.params.price_band.0 as i128 * index.raw() as i128 {
            return Err(Reject::PriceOutsideBand {
                deviation: px.deviation_from(index),
                band: m0.params.price_band,
            });
        }
        // Buyer pays the rounded-up notional, seller receives the same number: zero-sum.
        let notional = Value(size.value(px).0.abs()).to_quote(Round::Up)?;
        let fee = |rate: Ratio| -> Result<Amount, Reject> {
            Ok(Amount::from_i128(div_round(
                notional.0 as i128 * rate.0 as i128,
                crate::num::RATIO_SCALE as i128,
                Round::Up,
            ))?)
        };
        let (taker_fee, maker_fee) = (fee(m0.params.taker_fee)?, fee(m0.params.maker_fee)?);
        let fee_account = pool
            .fee_account
            .checked_add(taker_fee.checked_add(maker_fee)?)?;

        let mut l = accrued(&pool.lending, &pool.params.curve, now)?;
        let funding_index = m0.funding_index;
        let mut clearing = m0.funding_clearing.0 as i128;
        let (mut long_oi, mut short_oi) = (m0.long_oi.0 as i128, m0.short_oi.0 as i128);
        let ids = [taker, maker];
        let sides = [size.0, -size.0];
        let cash = if size.0 > 0 {
            [-notional.0, notional.0]
        } else {
            [notional.0, -notional.0]
        };
        let fees = [taker_fee, maker_fee];
        let mut patches = [Patch::default(), Patch::default()];
        let mut increases = [false; 2];
        for i in 0..2 {
            let acct = &self.state.accounts[ids[i].idx()];
            let mut q = acct.quote;
            let d = settle_interest(&mut q, &mut l)?;
            if d.0 != 0 {
                out.push(Event::InterestSettled {
                    account: ids[i],
                    amount: d,
                });
            }
            let mut pos = acct.position(market).copied().unwrap_or(Position {
                market,
                size: Amount::ZERO,
                quote: Amount::ZERO,
                funding_snapshot: funding_index,
            });
            // Everything this fill does to the quote balance, booked once at the end.
            let mut qdelta: i128 = -(fees[i].0 as i128);
            let f = funding_payment(&mut pos, funding_index)?;
            if f.0 != 0 {
                qdelta += f.0 as i128;
                clearing -= f.0 as i128;
                out.push(Event::FundingSettled {
                    account: ids[i],
                    market,
                    amount: f,
                });
            }
            let s = pos.size.0;
            let dlt = sides[i];
            let new_size = s.checked_add(dlt).ok_or(Reject::Overflow)?;
            let c = cash[i];
            if s == 0 || (s > 0) == (dlt > 0) {
                pos.quote = pos.quote.checked_add(Amount(c))?;
            } else {
                // Reducing or flipping: realize the closed part; the remaining cost basis and the
                // opening part of the cash round against the account.
                let abs_s = s.unsigned_abs() as i128;
                let abs_d = dlt.unsigned_abs() as i128;
                let closed = abs_s.min(abs_d);
                let remaining =
                    div_round(pos.quote.0 as i128 * (abs_s - closed), abs_s, Round::Down);
                let cash_open = div_round(c as i128 * (abs_d - closed), abs_d, Round::Down);
                let realized = (pos.quote.0 as i128 - remaining) + (c as i128 - cash_open);
                pos.quote = Amount::from_i128(remaining + cash_open)?;
                qdelta += realized;
                if realized != 0 {
                    out.push(Event::PnlRealized {
                        account: ids[i],
                        market,
                        amount: Amount::from_i128(realized)?,
                    });
                }
            }
            pos.size = Amount(new_size);
            let position = if new_size == 0 {
                // The cost basis of a closed position is zero by construction; fold any residue.
                qdelta += pos.quote.0 as i128;
                None
            } else {
                Some(pos)
            };
            add_quote(&mut q, &mut l, Amount::from_i128(qdelta)?.0)?;
            long_oi += new_size.max(0) as i128 - s.max(0) as i128;
            short_oi += (-(new_size as i128)).max(0) - (-(s as i128)).max(0);
            increases[i] = PositionUpdate::classify(s, new_size).adds_risk();
            patches[i] = Patch {
                quote: q,
                market,
                position,
            };
        }
        for inc in increases {
            self.gate_market(
                now,
                market,
                if inc {
                    Action::Trade
                } else {
                    Action::ReduceTrade
                },
            )?;
        }
        let cap = self.state.pools[pool_id.idx()].params.max_position_notional;
        for i in 0..2 {
            if let (true, Some(p)) = (increases[i], patches[i].position) {
                let notional = p.size.value(px);
                if notional.checked_abs()? > Value::from_quote(cap) {
                    return Err(Reject::PositionTooLarge {
                        account: ids[i],
                        market,
                        notional: notional.checked_abs()?.to_quote(Round::Up)?,
                        cap,
                    });
                }
            }
        }
        self.check_open_interest(
            market,
            long_oi,
            [0, 1].map(|i| (ids[i], increases[i], patches[i].position)),
        )?;
        for i in 0..2 {
            if increases[i] {
                let acct = &self.state.accounts[ids[i].idx()];
                let h = self.health_patched(acct, Some(&patches[i]), &l, HealthKind::Initial)?;
                if h.0 < 0 {
                    return Err(Reject::InsufficientMargin {
                        account: ids[i],
                        kind: HealthKind::Initial,
                        health: h,
                    });
                }
            }
        }
        let clearing = Amount::from_i128(clearing)?;
        let (long_oi, short_oi) = (Amount::from_i128(long_oi)?, Amount::from_i128(short_oi)?);
        let mark_twap = Some(match m0.mark_twap {
            Some(t) => funding::twap_step(t, px, now.0 - m0.last_mark.0, TWAP_WINDOW_MS),
            None => px,
        });
        // commit
        for (i, patch) in patches.iter().enumerate() {
            let acct = &mut self.state.accounts[ids[i].idx()];
            acct.quote = patch.quote;
            let at = acct.positions.iter().position(|p| p.market >= market);
            match (at, patch.position) {
                (Some(at), Some(p)) if acct.positions[at].market == market => {
                    acct.positions[at] = p
                }
                (Some(at), None) if acct.positions[at].market == market => {
                    acct.positions.remove(at);
                }
                (at, Some(p)) => acct.positions.insert(at.unwrap_or(acct.positions.len()), p),
                (_, None) => {}
            }
        }
        let m = &mut self.state.markets[market.idx()];
        m.funding_clearing = clearing;
        m.long_oi = long_oi;
        m.short_oi = short_oi;
        m.mark_twap = mark_twap;
        m.last_mark = now;
        let pool = &mut self.state.pools[pool_id.idx()];
        pool.lending = l;
        pool.fee_account = fee_account;
        self.route_fee_share(pool_id, taker_fee.0 as i128 + maker_fee.0 as i128, out);
        self.risk.touch(taker);
        self.risk.touch(maker);
        out.push(Event::Filled {
            market,
            taker,
            maker,
            size,
            price: px,
            notional,
            taker_fee,
            maker_fee,
        });
        Ok(())
    }

    fn pause(
        &mut self,
        _role: Role,
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

    // ----- invariants -----------------------------------------------------------------------

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

    // ----- risk queries ---------------------------------------------------------------------

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
