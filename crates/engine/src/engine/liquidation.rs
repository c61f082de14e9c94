//! Liquidation: the worst-first queue, partial sizing (target health plus a buffer, close
//! factor, dust), the non-linear penalty and the liquidator reward that rises with time, and
//! the keeper-takeover mechanism. The Dutch auction ([`super::auction`]) sells the same lots
//! with the same sizing; the loss waterfall lives in [`super::waterfall`].
//!
//! Every handler builds a [`Tx`] — copies of the accounts, market totals and pool buckets it
//! touches — and commits it only after every check has passed, so a rejected command changes
//! nothing. Lots change hands in zero-sum trades (the buyer pays the rounded-up notional, the
//! seller receives the same number), so conservation needs no new bucket.

use super::options::change_option;
use super::trading::{put_position, trade_leg, Leg, MarketTx};
use super::*;
use crate::ids::AuctionId;
use crate::params::{LiquidationParams, Mechanism};
use crate::state::{Auction, Lot, PoolLiquidation};

/// Maintenance health, maintenance requirement and unweighted equity of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Assess {
    /// Weighted collateral + PnL − maintenance requirement.
    pub health: Value,
    /// Maintenance requirement of all positions.
    pub req: Value,
    /// Quote + collateral at full oracle value + PnL: what the account is worth if closed.
    pub equity: Value,
}

/// One entry of the liquidation queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueEntry {
    pub account: AccountId,
    /// Maintenance health (negative).
    pub health: Value,
    /// Maintenance requirement.
    pub requirement: Value,
    /// `health / requirement` as a [`Ratio`] (most negative first); `i64::MIN` when there is
    /// no requirement (debt against collateral only).
    pub severity: i64,
}

/// A lot changing hands: `q` of `lot` (signed as the seller holds it) from `seller` to `buyer`
/// for `n` quote (see [`Tx::trade`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct LotTrade {
    pub lot: Lot,
    pub seller: AccountId,
    pub buyer: AccountId,
    pub q: i64,
    pub n: i128,
}

/// Copies of everything a liquidation command touches; committed at the end.
pub(super) struct Tx {
    pub pool: PoolId,
    pub lend: Lending,
    pub accts: SmallVec<[(AccountId, Account); 4]>,
    pub mkts: SmallVec<[MarketTx; 2]>,
    /// Long open interest of option series touched (series, new long OI).
    pub series_oi: SmallVec<[(crate::ids::SeriesId, i128); 1]>,
    pub insurance: i128,
    pub bad_debt: i128,
    pub dirt: i128,
    /// `since` updates: `Some(t)` starts the clock if not running, `None` stops it.
    pub since: SmallVec<[(AccountId, Option<Timestamp>); 2]>,
    /// Auctions changed (existing ids) or created (ids past the end, in order).
    pub auctions: SmallVec<[(AuctionId, Auction); 2]>,
    /// Active-auction index updates: `Some(id)` registers, `None` removes.
    pub active: SmallVec<[(AccountId, Option<AuctionId>); 2]>,
    pub invalidate_risk: bool,
}

impl Tx {
    pub fn new(e: &Engine, pool: PoolId, now: Timestamp) -> Result<Tx, Overflow> {
        let p = &e.state.pools[pool.idx()];
        Ok(Tx {
            pool,
            lend: accrued(&p.lending, &p.params.curve, now)?,
            accts: SmallVec::new(),
            mkts: SmallVec::new(),
            series_oi: SmallVec::new(),
            insurance: p.insurance_fund.0 as i128,
            bad_debt: p.bad_debt.0 as i128,
            dirt: p.liquidation.dirt.0 as i128,
            since: SmallVec::new(),
            auctions: SmallVec::new(),
            active: SmallVec::new(),
            invalidate_risk: false,
        })
    }

    fn slot(&mut self, e: &Engine, id: AccountId) -> usize {
        match self.accts.iter().position(|(a, _)| *a == id) {
            Some(i) => i,
            None => {
                self.accts.push((id, e.state.accounts[id.idx()].clone()));
                self.accts.len() - 1
            }
        }
    }

    /// The tentative copy of an account (cloned from the ledger on first use).
    pub fn acct(&mut self, e: &Engine, id: AccountId) -> &mut Account {
        let i = self.slot(e, id);
        &mut self.accts[i].1
    }

    /// The account as this transaction sees it.
    pub fn get<'a>(&'a self, e: &'a Engine, id: AccountId) -> &'a Account {
        self.accts
            .iter()
            .find(|(a, _)| *a == id)
            .map(|(_, a)| a)
            .unwrap_or(&e.state.accounts[id.idx()])
    }

    fn mkt(&mut self, e: &Engine, id: MarketId) -> usize {
        match self.mkts.iter().position(|m| m.id == id) {
            Some(i) => i,
            None => {
                self.mkts.push(MarketTx::of(id, &e.state.markets[id.idx()]));
                self.mkts.len() - 1
            }
        }
    }

    pub fn auction_mut(&mut self, e: &Engine, id: AuctionId) -> &mut Auction {
        let i = match self.auctions.iter().position(|(a, _)| *a == id) {
            Some(i) => i,
            None => {
                self.auctions.push((id, e.state.auctions[id.idx()].clone()));
                self.auctions.len() - 1
            }
        };
        &mut self.auctions[i].1
    }

    /// Adds `delta` to an account's quote balance after settling its interest.
    pub fn quote_change(
        &mut self,
        e: &Engine,
        id: AccountId,
        delta: i128,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let i = self.slot(e, id);
        let q = &mut self.accts[i].1.quote;
        let d = settle_interest(q, &mut self.lend)?;
        if d.0 != 0 {
            out.push(Event::InterestSettled {
                account: id,
                amount: d,
            });
        }
        add_quote(q, &mut self.lend, Amount::from_i128(delta)?.0)
    }

    /// Changes an account's position in `market` by `dlt` with quote cash `cash` (as a fill
    /// does, through the same [`trade_leg`]).
    pub fn perp_change(
        &mut self,
        e: &Engine,
        id: AccountId,
        market: MarketId,
        dlt: i64,
        cash: i128,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let funding_index = e.state.markets[market.idx()].funding_index;
        let mi = self.mkt(e, market);
        let ai = self.slot(e, id);
        let acct = &mut self.accts[ai].1;
        let leg = Leg {
            account: id,
            delta: dlt,
            cash,
            fee: 0,
        };
        let current = acct.position(market).copied();
        let (position, _) = trade_leg(
            leg,
            &mut acct.quote,
            current,
            &mut self.lend,
            &mut self.mkts[mi],
            funding_index,
            out,
        )?;
        put_position(acct, market, position);
        Ok(())
    }

    /// Moves `q` of `lot` from `seller` to `buyer` for `n` quote. `q` is signed as the seller
    /// holds the lot (a short perp lot is negative); for a long or collateral lot the buyer
    /// pays `n`, for a short lot the seller pays `n` (it buys back, the buyer goes short).
    pub fn trade(&mut self, e: &Engine, t: LotTrade, out: &mut Vec<Event>) -> Result<(), Reject> {
        let LotTrade {
            lot,
            seller,
            buyer,
            q,
            n,
        } = t;
        let to_seller = if q > 0 { n } else { -n };
        match lot {
            Lot::Perp(m) => {
                self.perp_change(e, seller, m, -q, to_seller, out)?;
                self.perp_change(e, buyer, m, q, -to_seller, out)?;
            }
            Lot::Collateral(a) => {
                Engine::debit_collateral(seller, self.acct(e, seller), a, Amount(q))?;
                Engine::credit_collateral(self.acct(e, buyer), a, Amount(q))?;
                self.quote_change(e, seller, to_seller, out)?;
                self.quote_change(e, buyer, -to_seller, out)?;
            }
            Lot::Option(s) => {
                self.option_change(e, seller, s, -q, to_seller)?;
                self.option_change(e, buyer, s, q, -to_seller)?;
                self.quote_change(e, seller, to_seller, out)?;
                self.quote_change(e, buyer, -to_seller, out)?;
            }
        }
        Ok(())
    }

    /// Changes an account's position in option series `s` by `dlt` for quote cash `cash` (its
    /// premium basis moves by the cash; the caller books the cash itself), tracking long OI.
    fn option_change(
        &mut self,
        e: &Engine,
        id: AccountId,
        s: crate::ids::SeriesId,
        dlt: i64,
        cash: i128,
    ) -> Result<(), Reject> {
        let (old, new) = change_option(self.acct(e, id), s, dlt, cash)?;
        let oi_change = new.max(0) as i128 - old.max(0) as i128;
        match self.series_oi.iter_mut().find(|(x, _)| *x == s) {
            Some(x) => x.1 += oi_change,
            None => self
                .series_oi
                .push((s, e.state.series[s.idx()].long_oi.0 as i128 + oi_change)),
        }
        Ok(())
    }

    /// Starts (`Some`) or stops (`None`) an account's liquidation clock.
    pub fn set_since(&mut self, id: AccountId, t: Option<Timestamp>) {
        self.since.retain(|(a, _)| *a != id);
        self.since.push((id, t));
    }

    /// Records that `account`'s running auction is now `a` (or none).
    pub fn set_active(&mut self, account: AccountId, a: Option<AuctionId>) {
        self.active.retain(|(x, _)| *x != account);
        self.active.push((account, a));
    }

    /// Writes everything back and marks the touched accounts for the risk index.
    /// Every total is converted (checked) before anything is written, so an overflow leaves the
    /// engine untouched.
    pub fn commit(self, e: &mut Engine) -> Result<(), Overflow> {
        let insurance = Amount::from_i128(self.insurance)?;
        let bad_debt = Amount::from_i128(self.bad_debt)?;
        let dirt = Amount::from_i128(self.dirt)?;
        let mut series_oi: SmallVec<[(crate::ids::SeriesId, Amount); 1]> = SmallVec::new();
        for (s, oi) in &self.series_oi {
            series_oi.push((*s, Amount::from_i128(*oi)?));
        }
        let mut mkts: SmallVec<[(MarketId, [Amount; 3]); 2]> = SmallVec::new();
        for m in &self.mkts {
            let c = Amount::from_i128(m.clearing)?;
            let l = Amount::from_i128(m.long_oi)?;
            let s = Amount::from_i128(m.short_oi)?;
            mkts.push((m.id, [c, l, s]));
        }
        let p = &mut e.state.pools[self.pool.idx()];
        p.lending = self.lend;
        p.insurance_fund = insurance;
        p.bad_debt = bad_debt;
        let liq = &mut p.liquidation;
        liq.dirt = dirt;
        for (id, t) in self.since {
            let at = liq.since.binary_search_by_key(&id, |(a, _)| *a);
            match (at, t) {
                (Ok(_), Some(_)) => {}
                (Ok(i), None) => {
                    liq.since.remove(i);
                }
                (Err(i), Some(t)) => liq.since.insert(i, (id, t)),
                (Err(_), None) => {}
            }
        }
        for (id, a) in self.active {
            let at = liq.active.binary_search_by_key(&id, |(x, _)| *x);
            match (at, a) {
                (Ok(i), Some(a)) => liq.active[i].1 = a,
                (Ok(i), None) => {
                    liq.active.remove(i);
                }
                (Err(i), Some(a)) => liq.active.insert(i, (id, a)),
                (Err(_), None) => {}
            }
        }
        for (s, oi) in series_oi {
            e.state.series[s.idx()].long_oi = oi;
        }
        for (id, [clearing, long_oi, short_oi]) in mkts {
            let mk = &mut e.state.markets[id.idx()];
            mk.funding_clearing = clearing;
            mk.long_oi = long_oi;
            mk.short_oi = short_oi;
        }
        for (id, a) in self.accts {
            e.state.accounts[id.idx()] = a;
            e.risk.touch(id);
        }
        for (id, a) in self.auctions {
            if id.idx() < e.state.auctions.len() {
                e.state.auctions[id.idx()] = a;
            } else {
                e.state.auctions.push(a);
            }
        }
        if self.invalidate_risk {
            e.risk.invalidate_all();
        }
        Ok(())
    }

    /// Checks that totals fit their stored types (called before commit).
    pub fn check_fits(&self) -> Result<(), Reject> {
        for v in [self.insurance, self.bad_debt, self.dirt] {
            Amount::from_i128(v)?;
        }
        for m in &self.mkts {
            for v in [m.clearing, m.long_oi, m.short_oi] {
                Amount::from_i128(v)?;
            }
        }
        Ok(())
    }
}

/// The penalty on `q` base units (unsigned) taken at raw price `px`: `rate` of their value,
/// rounded up, never more than the equity left after the trade (so a liquidation never
/// creates a deficit).
pub(super) fn capped_penalty(
    q: i128,
    px: i128,
    rate: Ratio,
    equity: Value,
) -> Result<i128, Overflow> {
    let value = div_round(q * px, VALUE_SCALE, Round::Up);
    Ok(
        mul_ratio(value, rate, Round::Up)?
            .min(div_round(equity.0, VALUE_SCALE, Round::Down).max(0)),
    )
}

/// A step of `q` from a lot of `abs` (both unsigned) adjusted so that neither the slice nor
/// the remainder is dust, within `limit`; `None` when the limit leaves only dust to take
/// (Maker Clipper: a partial take never leaves dust).
fn without_dust(mut q: i128, abs: i128, limit: i128, dust_units: i128) -> Option<i128> {
    // never a dust-sized slice of a bigger lot
    if q < abs && q < dust_units {
        q = dust_units.min(abs);
    }
    // never a dust-sized remainder
    if abs - q < dust_units {
        q = abs;
    }
    if q > limit {
        q = limit;
        if abs - q < dust_units {
            q = abs - dust_units;
            if q <= 0 {
                return None;
            }
        }
    }
    Some(q)
}

/// `a × r` for a [`Ratio`], rounded as asked.
pub(super) fn mul_ratio(a: i128, r: Ratio, round: Round) -> Result<i128, Overflow> {
    mul_div(a, r.0 as i128, crate::num::RATIO_SCALE as i128, round)
}

/// Quote-native amount of `q` base units at raw price `px`, rounded up (what a buyer pays).
#[must_use]
pub(super) fn notional(q: i64, px: i128) -> i128 {
    div_round((q as i128).abs() * px, VALUE_SCALE, Round::Up)
}

/// Penalty rate for an account with maintenance `health` against requirement `req`: the base
/// rate at the maintenance boundary rising with the square of the deficit
/// `d = clamp(−health/req, 0, 1)` to `penalty_max` where weighted equity reaches zero.
/// Our own curve, in the spirit of dYdX v4's fillable price (the allowed price slides toward
/// the bankruptcy price as the account worsens): small, cheap liquidations near the boundary,
/// a steep incentive for accounts that are almost gone.
pub fn penalty_rate(p: &LiquidationParams, health: Value, req: Value) -> Ratio {
    let one = crate::num::RATIO_SCALE as i128;
    let d = if health.0 >= 0 {
        0
    } else if req.0 <= 0 {
        one
    } else {
        // A deficit ratio beyond 1 (or beyond the types) is the full deficit.
        health
            .checked_neg()
            .ok()
            .and_then(|h| mul_div(h.0, one, req.0, Round::Up).ok())
            .map_or(one, |x| x.min(one))
    };
    let span = (p.penalty_max.0 - p.penalty.0) as i128;
    Ratio(p.penalty.0 + div_round(span * d * d, one * one, Round::Up) as i64)
}

/// Liquidator's share of the penalty `elapsed_ms` after the account's liquidation began: the
/// base share until `reward_ramp_ms`, then rising linearly to the cap at twice that (Drift v2:
/// the liquidator fee rises after ~10 minutes of an account being liquidatable, capped).
pub fn liquidator_share(p: &LiquidationParams, elapsed_ms: i64) -> Ratio {
    let ramp = p.reward_ramp_ms;
    if elapsed_ms <= ramp {
        return p.liquidator_share;
    }
    if ramp == 0 {
        return p.liquidator_share_max;
    }
    let t = (elapsed_ms - ramp).min(ramp) as i128;
    let span = (p.liquidator_share_max.0 - p.liquidator_share.0) as i128;
    Ratio(p.liquidator_share.0 + div_round(span * t, ramp as i128, Round::Down) as i64)
}

/// Base units to close so that `health + q·px·gain ≥ buffer·(req − q·px·release)` afterwards,
/// where closing one unit of value raises health by `gain` and releases `release` of
/// requirement (both [`Ratio`]s of the unit's value). `None` when closing cannot restore it
/// (gain too small against the penalty): take the whole lot.
pub fn size_to_target(
    health: Value,
    req: Value,
    px: i128,
    gain: i128,
    release: i128,
    buffer: Ratio,
) -> Option<i128> {
    let one = crate::num::RATIO_SCALE as i128;
    // Checked throughout: a requirement or health beyond the types gives `None` (the caller
    // then takes the whole lot, capped by the close factor).
    let need = mul_div(req.0, buffer.0 as i128, one, Round::Up)
        .ok()?
        .checked_sub(health.0)?;
    if need <= 0 {
        return Some(0);
    }
    let k = gain.checked_add(mul_div(release, buffer.0 as i128, one, Round::Down).ok()?)?;
    if k <= 0 || px <= 0 {
        return None;
    }
    mul_div(need, one, px.checked_mul(k)?, Round::Up).ok()
}

/// Queue order key: `health / requirement` as a [`Ratio`] (more negative = worse), rounded down;
/// `i64::MIN` with no requirement (pure bad debt). A ratio beyond the type saturates at the worst
/// end (a queue key, not a ledger value: saturation keeps the order, a wrap would invert it).
fn queue_severity(health: Value, req: Value) -> i64 {
    if req.0 <= 0 {
        return i64::MIN;
    }
    match mul_div(
        health.0,
        crate::num::RATIO_SCALE as i128,
        req.0,
        Round::Down,
    ) {
        Ok(r) => r.clamp(i64::MIN as i128 + 1, i64::MAX as i128) as i64,
        Err(_) if health.0 < 0 => i64::MIN + 1,
        Err(_) => i64::MAX,
    }
}

impl Engine {
    /// Maintenance health, the per-position maintenance requirement and the full equity of
    /// `acct` (quote + collateral at full oracle value + perp PnL + option marks): the
    /// liquidation-end view of the one health computation ([`Engine::margin`]).
    pub(super) fn assess(&self, acct: &Account, lend: &Lending) -> Result<Assess, Overflow> {
        let m = self.margin(acct, lend, MarginContext::liquidation_end())?;
        Ok(Assess {
            health: m.health,
            req: m.position_requirement,
            equity: m.equity()?,
        })
    }

    /// Oracle price of a lot (raw, per base-native unit).
    pub(super) fn lot_price(&self, lot: Lot) -> Result<Price, Reject> {
        let asset = match lot {
            Lot::Perp(m) => self.state.markets[m.idx()].base,
            Lot::Collateral(a) => a,
            Lot::Option(s) => return self.option_unit_mark(s),
        };
        self.state.assets[asset.idx()]
            .price
            .ok_or(Reject::NoPrice(asset))
    }

    /// What the account holds of a lot, signed (short perp lots negative).
    pub(super) fn holding(acct: &Account, lot: Lot) -> i64 {
        match lot {
            Lot::Perp(m) => acct.position(m).map(|p| p.size.0).unwrap_or(0),
            Lot::Collateral(a) => acct.collateral_amount(a).0,
            Lot::Option(s) => acct
                .options
                .iter()
                .find(|o| o.series == s)
                .map_or(0, |o| o.size.0),
        }
    }

    /// The underlying asset of a lot (the asset whose oracle gates its liquidation).
    pub(super) fn lot_asset(&self, lot: Lot) -> AssetId {
        match lot {
            Lot::Perp(m) => self.state.markets[m.idx()].base,
            Lot::Collateral(a) => a,
            Lot::Option(s) => self.state.series[s.idx()].underlying,
        }
    }

    /// The lot to liquidate: the given market's position, else the position with the largest
    /// notional, else (only against debt) the collateral with the largest value. Ties by id.
    pub(super) fn pick_lot(
        &self,
        id: AccountId,
        acct: &Account,
        market: Option<MarketId>,
        lend: &Lending,
    ) -> Result<Lot, Reject> {
        if let Some(m) = market {
            return match acct.position(m) {
                Some(_) => Ok(Lot::Perp(m)),
                None => Err(Reject::NothingToLiquidate { account: id }),
            };
        }
        let mut best: Option<(i128, Lot)> = None;
        for p in &acct.positions {
            let base = self.state.markets[p.market.idx()].base;
            let v = self.state.assets[base.idx()]
                .price
                .map(|px| p.size.value(px).0.abs())
                .unwrap_or(0);
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, Lot::Perp(p.market)));
            }
        }
        // No perp: the option position with the largest requirement plus |mark| (a short
        // deep in the money first), then, against debt only, collateral.
        if best.is_none() {
            for op in &acct.options {
                let (mark, req) = self.option_line(op, HealthKind::Maintenance)?;
                let short_mark = if op.size.0 < 0 {
                    self.option_marks_of(op)?.checked_abs()?
                } else {
                    mark
                };
                let v = req.checked_add(short_mark)?.0;
                if v > 0 && best.is_none_or(|(b, _)| v > b) {
                    best = Some((v, Lot::Option(op.series)));
                }
            }
        }
        if best.is_none() && quote_now(&acct.quote, lend)?.0 < 0 {
            for (a, amt) in &acct.collateral {
                if let Some(px) = self.state.assets[a.idx()].price {
                    let v = amt.value(px).0;
                    if best.is_none_or(|(b, _)| v > b) {
                        best = Some((v, Lot::Collateral(*a)));
                    }
                }
            }
        }
        best.map(|(_, l)| l)
            .ok_or(Reject::NothingToLiquidate { account: id })
    }

    /// How much of `lot` one liquidation step takes (signed as held): enough to restore
    /// `target_buffer × requirement`, capped by the close factor (100% past
    /// `full_close_deficit`) and `max_size`; the whole lot if the rest would be dust, never a
    /// dust-sized slice unless it is the whole lot.
    pub(super) fn step_size(
        &self,
        id: AccountId,
        acct: &Account,
        lot: Lot,
        a: &Assess,
        penalty: Ratio,
        max_size: Option<Amount>,
    ) -> Result<i64, Reject> {
        let lp = &self.state.pools[acct.pool.idx()].liquidation.params;
        let held = Self::holding(acct, lot);
        if held == 0 {
            return Err(Reject::NothingToLiquidate { account: id });
        }
        let abs = held.unsigned_abs() as i128;
        if let Lot::Option(_) = lot {
            // An option lot is closed whole (up to `max_size`): its requirement is not linear in
            // size the way a perp's rate is, so there is no partial target to aim at.
            let q = max_size.map_or(abs, |m| (m.0.max(1) as i128).min(abs));
            let q = i64::try_from(q).map_err(|_| Overflow)?;
            return Ok(if held > 0 { q } else { -q });
        }
        let px = self.lot_price(lot)?.raw() as i128;
        let one = crate::num::RATIO_SCALE as i128;
        let (gain, release) = self.lot_gain(acct, lot, held, penalty);
        // aim a few quote-native units above the target: the trade, the penalty and the
        // requirement each round against the account by up to one unit
        let slack = Value(4 * VALUE_SCALE);
        let need = size_to_target(
            a.health.checked_sub(slack)?,
            a.req,
            px,
            gain,
            release,
            lp.target_buffer,
        )
        .unwrap_or(abs)
        .clamp(1, abs);
        let deficit = if a.req.0 > 0 {
            mul_div(a.health.checked_neg()?.0, one, a.req.0, Round::Up)?
        } else {
            one
        };
        let cap = if deficit >= lp.full_close_deficit.0 as i128 {
            abs
        } else {
            mul_ratio(abs, lp.close_factor, Round::Up)?.max(1)
        };
        let limit = max_size.map(|m| m.0.max(0) as i128).unwrap_or(abs).min(abs);
        if limit == 0 {
            return Err(Reject::NonPositiveAmount(max_size.unwrap_or(Amount::ZERO)));
        }
        let dust_units = div_round(lp.dust as i128 * VALUE_SCALE, px, Round::Up);
        let q = without_dust(need.min(cap), abs, limit, dust_units)
            .ok_or(Reject::NothingToLiquidate { account: id })?;
        let q = i64::try_from(q).map_err(|_| Overflow)?;
        Ok(if held > 0 { q } else { -q })
    }

    /// Per unit of a lot sold, what maintenance health gains (net of the penalty rate) and the
    /// requirement released, as ratios of its value. Option lots are closed whole and never
    /// sized here (zero gain).
    fn lot_gain(&self, acct: &Account, lot: Lot, held: i64, penalty: Ratio) -> (i128, i128) {
        match lot {
            Lot::Perp(m) => {
                let mk = &self.state.markets[m.idx()];
                let dec = self.state.assets[mk.base.idx()].decimals;
                let r = self.rate(mk, Amount(held), HealthKind::Maintenance, dec).0 as i128;
                (r - penalty.0 as i128, r)
            }
            Lot::Collateral(asset) => {
                let pool = &self.state.pools[acct.pool.idx()];
                let w = self
                    .collateral_params(pool, asset)
                    .map(|c| c.maint_weight.0 as i128)
                    .unwrap_or(0);
                (crate::num::RATIO_SCALE as i128 - w - penalty.0 as i128, 0)
            }
            Lot::Option(_) => (0, 0),
        }
    }

    /// The liquidator's and the insurance fund's shares of `penalty`: the liquidator's share
    /// rises with the time since the account first became liquidatable.
    fn penalty_shares(
        &self,
        pool: PoolId,
        account: AccountId,
        now: Timestamp,
        penalty: i128,
    ) -> Result<(i128, i128), Overflow> {
        let pl = &self.state.pools[pool.idx()].liquidation;
        let started = (pl.since.binary_search_by_key(&account, |(a, _)| *a))
            .map(|i| pl.since[i].1)
            .unwrap_or(now);
        let share = liquidator_share(&pl.params, now.0 - started.0);
        let to_liq = mul_ratio(penalty, share, Round::Down)?;
        Ok((to_liq, penalty - to_liq))
    }

    /// Accounts below maintenance, worst first: most negative `health / requirement`, ties
    /// by id. A keeper serves it from the top; `Liquidate` does not enforce the order.
    pub fn liquidation_queue(&mut self) -> Vec<QueueEntry> {
        let ids = self.below_maintenance();
        let lends: Vec<Option<Lending>> = (0..self.state.pools.len())
            .map(|p| self.lending_now(PoolId(p as u16)).ok())
            .collect();
        let mut q: Vec<QueueEntry> = ids
            .into_iter()
            .map(|id| {
                let acct = &self.state.accounts[id.idx()];
                let a = lends[acct.pool.idx()]
                    .as_ref()
                    .and_then(|l| self.assess(acct, l).ok());
                // An account whose risk no longer fits the ledger's types is the worst of all.
                let Some(a) = a else {
                    return QueueEntry {
                        account: id,
                        health: Value(i128::MIN),
                        requirement: Value::ZERO,
                        severity: i64::MIN,
                    };
                };
                QueueEntry {
                    account: id,
                    health: a.health,
                    requirement: a.req,
                    severity: queue_severity(a.health, a.req),
                }
            })
            .collect();
        q.sort_by_key(|e| (e.severity, e.account));
        q
    }

    /// Insurance fund over open interest (both sides at oracle), as a [`Ratio`]; `None` with
    /// no open interest.
    pub fn insurance_ratio(&self, pool: PoolId) -> Option<Ratio> {
        let p = self.state.pools.get(pool.idx())?;
        let mut oi: i128 = 0;
        for m in &p.markets {
            let mk = &self.state.markets[m.idx()];
            if let Some(px) = self.state.assets[mk.base.idx()].price {
                oi += (mk.long_oi.value(px).0 + mk.short_oi.value(px).0) / VALUE_SCALE;
            }
        }
        if oi == 0 {
            return None;
        }
        let r = div_round(
            p.insurance_fund.0 as i128 * crate::num::RATIO_SCALE as i128,
            oi,
            Round::Down,
        );
        Some(Ratio(r.min(i64::MAX as i128) as i64))
    }

    /// Routes `insurance_fee_share` of a fill's fees from the fee account to the insurance fund
    /// (hook called by `fill`).
    pub(super) fn route_fee_share(&mut self, pool: PoolId, fees: i128, out: &mut Vec<Event>) {
        let p = &mut self.state.pools[pool.idx()];
        let share = p.liquidation.params.insurance_fee_share;
        if share.0 == 0 || fees <= 0 {
            return;
        }
        let Ok(x) = mul_ratio(fees, share, Round::Down) else {
            return;
        };
        // At most the fee account's balance, so the share fits an Amount.
        let x = x.min(p.fee_account.0.max(0) as i128) as i64;
        let Some(ins) = p.insurance_fund.0.checked_add(x) else {
            return;
        };
        if x > 0 {
            p.fee_account.0 -= x;
            p.insurance_fund.0 = ins;
            out.push(Event::InsuranceFunded {
                pool,
                amount: Amount(x),
            });
        }
    }

    pub(super) fn configure_liquidation(
        &mut self,
        pool: PoolId,
        params: &LiquidationParams,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        self.pool(pool)?;
        if self.state.accounts.iter().any(|a| a.pool == pool) {
            return Err(Reject::AlreadyConfigured(pool));
        }
        params.validate().map_err(Reject::InvalidParams)?;
        self.state.pools[pool.idx()].liquidation.params = *params;
        out.push(Event::LiquidationConfigured { pool });
        Ok(())
    }

    /// Common checks of a liquidation-type command: both accounts exist, differ, share a pool
    /// that is not paused.
    pub(super) fn liq_pair(
        &self,
        account: AccountId,
        other: AccountId,
        market: Option<MarketId>,
    ) -> Result<PoolId, Reject> {
        let a = self.account(account)?;
        let b = self.account(other)?;
        if account == other {
            return Err(Reject::SelfTrade);
        }
        if a.pool != b.pool {
            return Err(Reject::WrongPool {
                account: other,
                expected: a.pool,
                actual: b.pool,
            });
        }
        if let Some(m) = market {
            self.market(m)?;
        }
        self.check_not_paused(a.pool, market)?;
        Ok(a.pool)
    }

    pub(super) fn liquidate(
        &mut self,
        now: Timestamp,
        liquidator: AccountId,
        account: AccountId,
        market: Option<MarketId>,
        max_size: Option<Amount>,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let pool = self.liq_pair(account, liquidator, market)?;
        let mut tx = Tx::new(self, pool, now)?;
        let acct0 = &self.state.accounts[account.idx()];
        let before = self.assess(acct0, &tx.lend)?;
        if before.health.0 >= 0 {
            return Err(Reject::NotLiquidatable {
                account,
                health: before.health,
            });
        }
        self.gate_liquidation(now, acct0, before.health, before.req)?;
        if before.equity.0 < 0 {
            // Bankrupt: no penalty can be paid; the waterfall takes over (either mechanism).
            self.resolve_bankruptcy(&mut tx, now, account, Some(liquidator), out)?;
            self.require_liquidator(&tx, liquidator)?;
            tx.check_fits()?;
            tx.commit(self)?;
            return Ok(());
        }
        let lp = self.state.pools[pool.idx()].liquidation.params;
        if lp.mechanism != Mechanism::KeeperTakeover {
            return Err(Reject::WrongMechanism {
                pool,
                mechanism: "dutch auction",
            });
        }
        let lot = self.pick_lot(account, acct0, market, &tx.lend)?;
        let rate = penalty_rate(&lp, before.health, before.req);
        let max_size = self.within_capacity(now, lot, max_size)?;
        let q = self.step_size(account, acct0, lot, &before, rate, max_size)?;
        let px = self.lot_price(lot)?;
        let n = notional(q, px.raw() as i128);
        let t = LotTrade {
            lot,
            seller: account,
            buyer: liquidator,
            q,
            n,
        };
        tx.trade(self, t, out)?;
        // Penalty on the value taken, never more than the equity left (so a liquidation never
        // creates a deficit).
        let mid = self.assess(tx.get(self, account), &tx.lend)?;
        let penalty = capped_penalty((q as i128).abs(), px.raw() as i128, rate, mid.equity)?;
        let (to_liq, to_ins) = self.penalty_shares(pool, account, now, penalty)?;
        tx.quote_change(self, account, -penalty, out)?;
        tx.quote_change(self, liquidator, to_liq, out)?;
        tx.insurance += to_ins;
        self.require_liquidator(&tx, liquidator)?;
        let after = self.assess(tx.get(self, account), &tx.lend)?;
        tx.set_since(account, if after.health.0 >= 0 { None } else { Some(now) });
        out.push(Event::Liquidated {
            account,
            liquidator,
            lot,
            size: Amount(q),
            price: px,
            penalty: Amount::from_i128(penalty)?,
            to_liquidator: Amount::from_i128(to_liq)?,
            to_insurance: Amount::from_i128(to_ins)?,
            health_before: before.health,
            health_after: after.health,
        });
        tx.check_fits()?;
        tx.commit(self)?;
        self.use_capacity(now, lot, q);
        Ok(())
    }

    /// The part of a market's liquidation capacity left in the current window, applied to a
    /// keeper's `max_size` (Synthetix v3 perps pace liquidations per market per window; only
    /// solvent accounts are paced, a bankrupt one goes to the waterfall at once).
    fn within_capacity(
        &self,
        now: Timestamp,
        lot: Lot,
        max_size: Option<Amount>,
    ) -> Result<Option<Amount>, Reject> {
        let Lot::Perp(m) = lot else {
            return Ok(max_size);
        };
        let mk = &self.state.markets[m.idx()];
        let cap = mk.params.max_liquidation_per_window;
        if cap.0 == i64::MAX {
            return Ok(max_size);
        }
        let window = now.0.div_euclid(mk.params.liquidation_window_ms.max(1));
        let used = if mk.liquidation_window.window == window {
            mk.liquidation_window.used.0
        } else {
            0
        };
        let left = cap.0.saturating_sub(used);
        if left <= 0 {
            let next = (window + 1).saturating_mul(mk.params.liquidation_window_ms.max(1));
            return Err(Reject::LiquidationCapacity {
                market: m,
                cap,
                next_window: Timestamp(next),
            });
        }
        Ok(Some(Amount(max_size.map_or(left, |x| x.0.min(left)))))
    }

    fn use_capacity(&mut self, now: Timestamp, lot: Lot, q: i64) {
        let Lot::Perp(m) = lot else { return };
        let mk = &mut self.state.markets[m.idx()];
        if mk.params.max_liquidation_per_window.0 == i64::MAX {
            return;
        }
        let window = now.0.div_euclid(mk.params.liquidation_window_ms.max(1));
        let used = if mk.liquidation_window.window == window {
            mk.liquidation_window.used.0
        } else {
            0
        };
        mk.liquidation_window = LiquidationWindow {
            window,
            used: Amount(used.saturating_add(q.saturating_abs())),
        };
    }

    /// A liquidator or bidder must itself pass initial margin after taking a lot over.
    pub(super) fn require_liquidator(&self, tx: &Tx, id: AccountId) -> Result<(), Reject> {
        self.require_health(id, tx.get(self, id), &tx.lend, HealthKind::Initial)
    }

    /// The running auction of an account, if any.
    pub(super) fn active_auction(&self, tx: &Tx, account: AccountId) -> Option<AuctionId> {
        if let Some((_, a)) = tx.active.iter().find(|(a, _)| *a == account) {
            return *a;
        }
        let l = &self.state.pools[tx.pool.idx()].liquidation.active;
        l.binary_search_by_key(&account, |(a, _)| *a)
            .ok()
            .map(|i| l[i].1)
    }
}

impl PoolLiquidation {
    /// Since when the account's liquidation has been running.
    pub fn started(&self, account: AccountId) -> Option<Timestamp> {
        self.since
            .binary_search_by_key(&account, |(a, _)| *a)
            .ok()
            .map(|i| self.since[i].1)
    }
}
