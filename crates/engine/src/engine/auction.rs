//! Dutch-auction liquidation after Maker Liquidations 2.0 (dss `dog.sol` Dog, `clip.sol`
//! Clipper, `abaci.sol` price curves): a keeper starts an auction of one lot and is paid
//! `tip + chip × value` from the pool's insurance fund; the price starts at `buf × oracle` and
//! falls (linear, stairstep or exponential); bidders take slices at the current price; an
//! auction older than `tail` or cheaper than `cusp × top` must be reset at the current oracle
//! price (`redo`); the value in auction at once is capped (`hole`); a breaker stops new
//! auctions (1), also resets (2), also takes (3) (Clipper `stopped`).
//!
//! A short perp lot is mirrored: the bidder takes the short and is paid `2·oracle − price`,
//! so its concession grows as the price curve falls, exactly as a long lot's does.

use super::liquidation::{capped_penalty, mul_ratio, notional, penalty_rate, LotTrade, Tx};
use super::*;
use crate::ids::AuctionId;
use crate::num::RATIO_SCALE;
use crate::params::{AuctionCurve, LiquidationParams, Mechanism};
use crate::state::{Auction, AuctionState};

/// `x^n` at [`RATIO_SCALE`], rounded down at each step (Maker `rpow`).
fn rpow(x: Ratio, mut n: i64) -> i128 {
    let one = RATIO_SCALE as i128;
    let (mut base, mut acc) = (x.0 as i128, one);
    while n > 0 {
        if n & 1 == 1 {
            acc = acc * base / one;
        }
        n >>= 1;
        if n > 0 {
            base = base * base / one;
        }
        if acc == 0 {
            break;
        }
    }
    acc
}

/// Price of a long or collateral lot `elapsed_ms` after the start (raw [`Price`] units, may
/// be zero), never below `floor × oracle`.
pub fn auction_price(p: &LiquidationParams, top: Price, oracle: Price, elapsed_ms: i64) -> i128 {
    let top = top.raw() as i128;
    let one = RATIO_SCALE as i128;
    let t = elapsed_ms.max(0);
    let decayed = match p.auction_curve {
        AuctionCurve::Linear => {
            let tau = p.auction_tau_ms as i128;
            if t as i128 >= tau {
                0
            } else {
                top * (tau - t as i128) / tau
            }
        }
        AuctionCurve::Stairstep => top * rpow(p.auction_cut, t / p.auction_step_ms) / one,
        AuctionCurve::Exponential => top * rpow(p.auction_cut, t / 1000) / one,
    };
    // oracle (i64) × floor (i64) always fits an i128: the product cannot fail.
    let floor = mul_ratio(oracle.raw() as i128, p.auction_floor, Round::Up).unwrap_or(i128::MAX);
    decayed.max(floor)
}

/// Whether an auction needs a reset: older than `tail`, or `price / top < cusp` (Clipper
/// `status`).
pub fn needs_reset(p: &LiquidationParams, top: Price, price: i128, elapsed_ms: i64) -> bool {
    elapsed_ms > p.auction_tail_ms
        || price * (RATIO_SCALE as i128) < top.raw() as i128 * p.auction_cusp.0 as i128
}

/// What one unit of the lot costs the bidder (long, collateral) or pays it (short).
fn unit_price(size: Amount, oracle: Price, price: i128) -> i128 {
    if size.0 < 0 {
        2 * oracle.raw() as i128 - price
    } else {
        price
    }
}

/// Maker Dog: room = hole − dirt; a lot that does not fit is cut to the room. Returns the size
/// and its notional.
fn fit_to_hole(lp: &LiquidationParams, tx: &Tx, q: i64, px: Price) -> Result<(i64, i128), Reject> {
    let value = notional(q, px.raw() as i128);
    let room = lp.auction_hole as i128 - tx.dirt;
    if value <= room {
        return Ok((q, value));
    }
    let fit = if room > 0 {
        room * VALUE_SCALE / px.raw() as i128
    } else {
        0
    };
    if fit == 0 {
        return Err(Reject::AuctionHoleFull {
            pool: tx.pool,
            room: Amount::from_i128(room.max(0))?,
        });
    }
    let fit = i64::try_from(fit).map_err(|_| Overflow)?;
    let q = if q > 0 { fit } else { -fit };
    Ok((q, notional(q, px.raw() as i128)))
}

/// How much of an auction a bid of `max_amount` takes from an account holding `held` of the
/// lot: unsigned and signed as the auction's size. A partial take never leaves dust (Clipper
/// `take`).
fn take_size(
    auc: &Auction,
    held: i64,
    lp: &LiquidationParams,
    max_amount: Amount,
) -> Result<(i128, i64), Reject> {
    let nothing = Reject::NothingToLiquidate {
        account: auc.account,
    };
    if held == 0 || held.signum() != auc.size.0.signum() {
        return Err(nothing);
    }
    let avail = (held.unsigned_abs()).min(auc.size.0.unsigned_abs()) as i128;
    let mut q = avail.min(max_amount.0 as i128);
    let dust_units = div_round(
        lp.dust as i128 * VALUE_SCALE,
        auc.oracle.raw() as i128,
        Round::Up,
    );
    if q < avail && avail - q < dust_units {
        q = avail - dust_units;
        if q <= 0 {
            return Err(nothing);
        }
    }
    let q64 = i64::try_from(q).map_err(|_| Overflow)?;
    Ok((q, if auc.size.0 > 0 { q64 } else { -q64 }))
}

impl Engine {
    fn auction_incentive(
        lp: &LiquidationParams,
        value: i128,
        insurance: i128,
    ) -> Result<i128, Overflow> {
        let chip = mul_ratio(value, lp.auction_chip, Round::Down)?;
        Ok((lp.auction_tip as i128)
            .checked_add(chip)
            .ok_or(Overflow)?
            .min(insurance.max(0)))
    }

    /// The pool sells by Dutch auction and its auction breaker lets new auctions start.
    fn auctions_open(&self, pool: PoolId) -> Result<LiquidationParams, Reject> {
        let pl = &self.state.pools[pool.idx()].liquidation;
        if pl.params.mechanism != Mechanism::DutchAuction {
            return Err(Reject::WrongMechanism {
                pool,
                mechanism: "keeper takeover",
            });
        }
        auction_breaker_allows(pool, pl.breaker, 1, "start auctions")?;
        Ok(pl.params)
    }

    pub(super) fn start_auction(
        &mut self,
        now: Timestamp,
        account: AccountId,
        keeper: AccountId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let pool = self.liq_pair(account, keeper, None)?;
        let lp = self.auctions_open(pool)?;
        let mut tx = Tx::new(self, pool, now)?;
        let acct = &self.state.accounts[account.idx()];
        let a = self.assess(acct, &tx.lend)?;
        if a.health.0 >= 0 {
            return Err(Reject::NotLiquidatable {
                account,
                health: a.health,
            });
        }
        self.gate_liquidation(now, acct, a.health, a.req)?;
        if let Some(auction) = self.active_auction(&tx, account) {
            return Err(Reject::AuctionRunning { account, auction });
        }
        let lot = self.pick_lot(account, acct, None, &tx.lend)?;
        let rate = penalty_rate(&lp, a.health, a.req);
        let q = self.step_size(account, acct, lot, &a, rate, None)?;
        let px = self.lot_price(lot)?;
        let (q, value) = fit_to_hole(&lp, &tx, q, px)?;
        let top = mul_ratio(px.raw() as i128, lp.auction_buf, Round::Down)?;
        let top = Price::from_raw(i64::try_from(top).map_err(|_| Overflow)?).map_err(|reason| {
            Reject::InvalidPrice {
                asset: self.lot_asset(lot),
                reason,
            }
        })?;
        let incentive = Self::auction_incentive(&lp, value, tx.insurance)?;
        tx.insurance -= incentive;
        tx.quote_change(self, keeper, incentive, out)?;
        let id = AuctionId((self.state.auctions.len() + tx.auctions.len()) as u32);
        tx.auctions.push((
            id,
            Auction {
                pool,
                account,
                lot,
                size: Amount(q),
                oracle: px,
                top,
                start: now,
                dirt: Amount::from_i128(value)?,
                state: AuctionState::Active,
            },
        ));
        tx.set_active(account, Some(id));
        tx.dirt += value;
        if self.state.pools[pool.idx()]
            .liquidation
            .started(account)
            .is_none()
        {
            tx.set_since(account, Some(now));
        }
        out.push(Event::AuctionStarted {
            auction: id,
            account,
            lot,
            size: Amount(q),
            top,
            keeper,
            incentive: Amount::from_i128(incentive)?,
        });
        tx.check_fits()?;
        tx.commit(self)?;
        Ok(())
    }

    /// The auction's current unit price (raw, per base-native unit), refused when the auction
    /// needs a reset or the price is past the bidder's limit.
    fn take_price(
        &self,
        now: Timestamp,
        (id, auc): (AuctionId, &Auction),
        lp: &LiquidationParams,
        price_limit: f64,
    ) -> Result<i128, Reject> {
        let elapsed = now.0 - auc.start.0;
        let price = auction_price(lp, auc.top, auc.oracle, elapsed);
        if needs_reset(lp, auc.top, price, elapsed) {
            return Err(Reject::AuctionNeedsReset(id));
        }
        let unit = unit_price(auc.size, auc.oracle, price);
        let asset = self.lot_asset(auc.lot);
        let qdec = self.state.assets[self.state.pools[auc.pool.idx()].quote.idx()].decimals;
        let limit = Price::from_human(price_limit, self.state.assets[asset.idx()].decimals, qdec)
            .map_err(|reason| Reject::InvalidPrice { asset, reason })?
            .raw() as i128;
        if (auc.size.0 > 0 && unit > limit) || (auc.size.0 < 0 && unit < limit) {
            return Err(Reject::AuctionPriceLimit {
                price: unit.clamp(0, i64::MAX as i128) as i64,
                limit: limit.clamp(0, i64::MAX as i128) as i64,
            });
        }
        Ok(unit)
    }

    /// Books a take of `q` (signed `sq`) on the auction: its size, the dirt it releases, and
    /// its end when nothing is left. Returns the size remaining.
    fn record_take(&self, tx: &mut Tx, id: AuctionId, q: i128, sq: i64) -> Result<Amount, Reject> {
        let a = tx.auction_mut(self, id);
        let release = if q == a.size.0.unsigned_abs() as i128 {
            a.dirt.0 as i128
        } else {
            a.dirt.0 as i128 * q / a.size.0.unsigned_abs() as i128
        };
        a.size = a.size.checked_sub(Amount(sq))?;
        a.dirt = a.dirt.checked_sub(Amount::from_i128(release)?)?;
        let remaining = a.size;
        if remaining.is_zero() {
            a.state = AuctionState::Done;
        }
        tx.dirt = (tx.dirt - release).max(0);
        Ok(remaining)
    }

    fn active(&self, id: AuctionId) -> Result<&Auction, Reject> {
        let a = self
            .state
            .auctions
            .get(id.idx())
            .ok_or(Reject::UnknownAuction(id))?;
        if a.state != AuctionState::Active {
            return Err(Reject::AuctionNotActive(id));
        }
        Ok(a)
    }

    pub(super) fn take_auction(
        &mut self,
        now: Timestamp,
        id: AuctionId,
        bidder: AccountId,
        max_amount: Amount,
        price_limit: f64,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let auc = self.active(id)?.clone();
        let pool = self.liq_pair(auc.account, bidder, None)?;
        let pl = &self.state.pools[pool.idx()].liquidation;
        let lp = pl.params;
        auction_breaker_allows(pool, pl.breaker, 3, "take")?;
        positive(max_amount)?;
        let unit = self.take_price(now, (id, &auc), &lp, price_limit)?;
        let mut tx = Tx::new(self, pool, now)?;
        let acct = &self.state.accounts[auc.account.idx()];
        let before = self.assess(acct, &tx.lend)?;
        // Re-checked on every take: an account that is back above maintenance is not sold from
        // (its auction ends with `redo_auction`).
        if before.health.0 >= 0 {
            return Err(Reject::AuctionAccountRecovered {
                auction: id,
                account: auc.account,
                health: before.health,
            });
        }
        let (q, sq) = take_size(&auc, Self::holding(acct, auc.lot), &lp, max_amount)?;
        let n = notional(sq, unit.max(0));
        let t = LotTrade {
            lot: auc.lot,
            seller: auc.account,
            buyer: bidder,
            q: sq,
            n,
        };
        tx.trade(self, t, out)?;
        // the penalty goes to the insurance fund (the keeper was paid tip + chip at the start)
        let px = self.lot_price(auc.lot)?.raw() as i128;
        let mid = self.assess(tx.get(self, auc.account), &tx.lend)?;
        let rate = penalty_rate(&lp, before.health, before.req);
        let penalty = capped_penalty(q, px, rate, mid.equity)?;
        tx.quote_change(self, auc.account, -penalty, out)?;
        tx.insurance += penalty;
        self.require_liquidator(&tx, bidder)?;
        let remaining = self.record_take(&mut tx, id, q, sq)?;
        let done = remaining.is_zero();
        out.push(Event::AuctionTaken {
            auction: id,
            bidder,
            size: Amount(sq),
            paid: Amount::from_i128(n)?,
            penalty: Amount::from_i128(penalty)?,
            remaining,
            at_mark: Amount::from_i128(notional(sq, px.max(0)))?,
        });
        if done {
            tx.set_active(auc.account, None);
            out.push(Event::AuctionEnded {
                auction: id,
                completed: true,
            });
        }
        let after = self.assess(tx.get(self, auc.account), &tx.lend)?;
        if after.health.0 >= 0 {
            tx.set_since(auc.account, None);
        }
        if after.equity.0 < 0 {
            self.resolve_bankruptcy(&mut tx, now, auc.account, None, out)?;
        }
        tx.check_fits()?;
        tx.commit(self)?;
        Ok(())
    }

    pub(super) fn redo_auction(
        &mut self,
        now: Timestamp,
        id: AuctionId,
        keeper: AccountId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let auc = self.active(id)?.clone();
        let pool = self.liq_pair(auc.account, keeper, None)?;
        let pl = &self.state.pools[pool.idx()].liquidation;
        let lp = pl.params;
        auction_breaker_allows(pool, pl.breaker, 2, "reset auctions")?;
        let elapsed = now.0 - auc.start.0;
        let price = auction_price(&lp, auc.top, auc.oracle, elapsed);
        let mut tx = Tx::new(self, pool, now)?;
        let a = self.assess(&self.state.accounts[auc.account.idx()], &tx.lend)?;
        if a.health.0 < 0 && !needs_reset(&lp, auc.top, price, elapsed) {
            return Err(Reject::AuctionNoReset(id));
        }
        if a.health.0 >= 0 {
            // restored meanwhile (reset due or not): the auction ends instead of restarting
            self.cancel_auction_of(&mut tx, auc.account, out);
            tx.set_since(auc.account, None);
            tx.commit(self)?;
            return Ok(());
        }
        let px = self.lot_price(auc.lot)?;
        let top = mul_ratio(px.raw() as i128, lp.auction_buf, Round::Down)?;
        let top = Price::from_raw(i64::try_from(top).map_err(|_| Overflow)?)
            .map_err(|_| Reject::Overflow)?;
        let value = notional(auc.size.0, px.raw() as i128);
        let incentive = Self::auction_incentive(&lp, value, tx.insurance)?;
        tx.insurance -= incentive;
        tx.quote_change(self, keeper, incentive, out)?;
        let a = tx.auction_mut(self, id);
        a.top = top;
        a.oracle = px;
        a.start = now;
        out.push(Event::AuctionReset {
            auction: id,
            keeper,
            top,
            incentive: Amount::from_i128(incentive)?,
        });
        tx.check_fits()?;
        tx.commit(self)?;
        Ok(())
    }

    pub(super) fn set_auction_breaker(
        &mut self,
        pool: PoolId,
        level: u8,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        self.pool(pool)?;
        if level > 3 {
            return Err(Reject::InvalidParams(crate::params::InvariantError::Rule(
                "auction breaker levels are 0 to 3",
            )));
        }
        // An emergency stop may only tighten at once (guardian or governor); loosening goes
        // through `Propose` on `ParamKey::AuctionBreaker` and its timelock (the rule is
        // `roles::required`, checked before this runs).
        self.state.pools[pool.idx()].liquidation.breaker = level;
        out.push(Event::AuctionBreakerSet { pool, level });
        Ok(())
    }
}

/// The pool's auction breaker (Maker Clipper `stopped`) stops `action` from level `stops_at` up:
/// 1 new auctions, 2 resets, 3 takes.
fn auction_breaker_allows(
    pool: PoolId,
    level: u8,
    stops_at: u8,
    action: &'static str,
) -> Result<(), Reject> {
    if level >= stops_at {
        return Err(Reject::AuctionStopped {
            pool,
            level,
            action,
        });
    }
    Ok(())
}
