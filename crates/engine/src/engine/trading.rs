//! Trading: the perpetual fill. Both sides' positions, quote balances, funding and interest
//! are updated on copies, then the price band, position and open-interest caps, breakers and
//! the initial health of every risk-adding side are checked before anything is committed.
//!
//! [`trade_leg`] is the one perpetual position update: a fill runs it for both sides, a
//! liquidation or deleveraging transfer for each account it moves a lot between.

use super::options::trade_action;
use super::*;
use crate::math::position::apply_trade;

/// Changes of one market's funding clearing account and open interest inside a command.
#[derive(Debug, Clone, Copy)]
pub(super) struct MarketTx {
    pub id: MarketId,
    pub clearing: i128,
    pub long_oi: i128,
    pub short_oi: i128,
}

impl MarketTx {
    pub(super) fn of(id: MarketId, m: &Market) -> MarketTx {
        MarketTx {
            id,
            clearing: m.funding_clearing.0 as i128,
            long_oi: m.long_oi.0 as i128,
            short_oi: m.short_oi.0 as i128,
        }
    }
}

/// One account's side of a perpetual trade: `delta` base units for `cash` quote received
/// (negative: paid), less `fee`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Leg {
    pub account: AccountId,
    pub delta: i64,
    pub cash: i128,
    pub fee: i128,
}

/// Applies a [`Leg`] on copies: settles the account's interest and the position's funding,
/// moves the position ([`apply_trade`]), books everything on the quote balance at once and
/// updates the market's open interest. Returns the position after the trade (`None`: flat)
/// and whether the trade added risk.
#[must_use = "the position after the trade must be written back"]
pub(super) fn trade_leg(
    leg: Leg,
    quote: &mut QuoteBalance,
    current: Option<Position>,
    lend: &mut Lending,
    mkt: &mut MarketTx,
    funding_index: i128,
    out: &mut Vec<Event>,
) -> Result<(Option<Position>, bool), Reject> {
    let (id, market) = (leg.account, mkt.id);
    let d = settle_interest(quote, lend)?;
    if d.0 != 0 {
        out.push(Event::InterestSettled {
            account: id,
            amount: d,
        });
    }
    let mut pos = current.unwrap_or(Position {
        market,
        size: Amount::ZERO,
        quote: Amount::ZERO,
        funding_snapshot: funding_index,
    });
    let mut qdelta = -leg.fee;
    let f = funding_payment(&mut pos, funding_index)?;
    if f.0 != 0 {
        qdelta += f.0 as i128;
        mkt.clearing -= f.0 as i128;
        out.push(Event::FundingSettled {
            account: id,
            market,
            amount: f,
        });
    }
    let old = pos.size.0;
    let t = apply_trade(old, pos.quote.0, leg.delta, leg.cash)?;
    if t.realized != 0 {
        out.push(Event::PnlRealized {
            account: id,
            market,
            amount: Amount::from_i128(t.realized)?,
        });
    }
    qdelta += t.realized + t.residue;
    (pos.size, pos.quote) = (Amount(t.size), Amount(t.basis));
    add_quote(quote, lend, Amount::from_i128(qdelta)?.0)?;
    mkt.long_oi += t.size.max(0) as i128 - old.max(0) as i128;
    mkt.short_oi += (-(t.size as i128)).max(0) - (-(old as i128)).max(0);
    Ok(((t.size != 0).then_some(pos), t.update.adds_risk()))
}

/// Replaces, inserts or removes an account's position in `market`, keeping positions sorted.
pub(super) fn put_position(acct: &mut Account, market: MarketId, position: Option<Position>) {
    let at = acct.positions.iter().position(|p| p.market >= market);
    match (at, position) {
        (Some(at), Some(p)) if acct.positions[at].market == market => acct.positions[at] = p,
        (Some(at), None) if acct.positions[at].market == market => {
            acct.positions.remove(at);
        }
        (at, Some(p)) => acct.positions.insert(at.unwrap_or(acct.positions.len()), p),
        (_, None) => {}
    }
}

/// What a fill costs: its fixed-point price, notional and each side's fee.
#[derive(Debug, Clone, Copy)]
struct FillCost {
    px: Price,
    notional: Amount,
    taker_fee: Amount,
    maker_fee: Amount,
}

/// One side of a fill, computed on copies.
#[derive(Debug, Clone, Copy)]
struct Side {
    id: AccountId,
    patch: Patch,
    adds_risk: bool,
}

/// A perpetual fill between a taker and a maker: the `Fill` command's fields.
#[derive(Debug, Clone, Copy)]
pub(super) struct Trade {
    pub market: MarketId,
    pub taker: AccountId,
    pub maker: AccountId,
    /// Signed size bought by the taker (base-native units).
    pub size: Amount,
    /// Human price (quote per base token).
    pub price: f64,
}

impl Engine {
    /// Open-interest caps of a fill: the market's long open interest after it (when it grows)
    /// and each risk-adding side's size against its share of the cap.
    pub(super) fn check_open_interest(
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

    pub(super) fn fill(
        &mut self,
        now: Timestamp,
        trade: &Trade,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let pool_id = self.fill_parties(trade)?;
        let cost = self.fill_cost(trade)?;
        let (market, m0) = (trade.market, &self.state.markets[trade.market.idx()]);
        let pool = &self.state.pools[pool_id.idx()];
        let fees = cost.taker_fee.checked_add(cost.maker_fee)?;
        let fee_account = pool.fee_account.checked_add(fees)?;
        let mut l = accrued(&pool.lending, &pool.params.curve, now)?;
        let mut mkt = MarketTx::of(market, m0);
        // Buyer pays the rounded-up notional, seller receives the same number: zero-sum.
        let paid = if trade.size.0 > 0 { -1 } else { 1 } * cost.notional.0 as i128;
        let mut side = |account: AccountId, delta: i64, cash: i128, fee: Amount| {
            let acct = &self.state.accounts[account.idx()];
            let mut quote = acct.quote;
            let leg = Leg {
                account,
                delta,
                cash,
                fee: fee.0 as i128,
            };
            let current = acct.position(market).copied();
            let (position, adds_risk) = trade_leg(
                leg,
                &mut quote,
                current,
                &mut l,
                &mut mkt,
                m0.funding_index,
                out,
            )?;
            Ok::<_, Reject>(Side {
                id: account,
                patch: Patch {
                    quote,
                    market,
                    position,
                },
                adds_risk,
            })
        };
        let sides = [
            side(trade.taker, trade.size.0, paid, cost.taker_fee)?,
            side(trade.maker, -trade.size.0, -paid, cost.maker_fee)?,
        ];
        self.check_fill(now, market, &sides, &mkt, &l, cost.px)?;
        self.commit_fill(now, &sides, mkt, cost.px)?;
        let pool = &mut self.state.pools[pool_id.idx()];
        pool.lending = l;
        pool.fee_account = fee_account;
        self.route_fee_share(pool_id, fees.0 as i128, out);
        out.push(Event::Filled {
            market,
            taker: trade.taker,
            maker: trade.maker,
            size: trade.size,
            price: cost.px,
            notional: cost.notional,
            taker_fee: cost.taker_fee,
            maker_fee: cost.maker_fee,
        });
        Ok(())
    }

    /// The parties of a fill: both accounts exist, differ and belong to the market's pool, the
    /// size is non-zero and nothing is paused. Returns the pool.
    fn fill_parties(&self, trade: &Trade) -> Result<PoolId, Reject> {
        let pool_id = self.market(trade.market)?.pool;
        let t0 = self.account(trade.taker)?;
        let k0 = self.account(trade.maker)?;
        if trade.taker == trade.maker {
            return Err(Reject::SelfTrade);
        }
        for (id, a) in [(trade.taker, t0), (trade.maker, k0)] {
            if a.pool != pool_id {
                return Err(Reject::WrongPool {
                    account: id,
                    expected: pool_id,
                    actual: a.pool,
                });
            }
        }
        if trade.size.0 == 0 {
            return Err(Reject::ZeroSize);
        }
        if trade.size.0 == i64::MIN {
            return Err(Reject::Overflow);
        }
        self.check_not_paused(pool_id, Some(trade.market))?;
        Ok(pool_id)
    }

    /// Price (inside the market's band around the index), notional and fees of a fill.
    fn fill_cost(&self, trade: &Trade) -> Result<FillCost, Reject> {
        let m0 = &self.state.markets[trade.market.idx()];
        let base = &self.state.assets[m0.base.idx()];
        let pool = &self.state.pools[m0.pool.idx()];
        let quote_decimals = self.state.assets[pool.quote.idx()].decimals;
        let px =
            Price::from_human(trade.price, base.decimals, quote_decimals).map_err(|reason| {
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
        let notional = Value(trade.size.value(px).0.abs()).to_quote(Round::Up)?;
        let fee = |rate: Ratio| -> Result<Amount, Reject> {
            Ok(Amount::from_i128(div_round(
                notional.0 as i128 * rate.0 as i128,
                crate::num::RATIO_SCALE as i128,
                Round::Up,
            ))?)
        };
        Ok(FillCost {
            px,
            notional,
            taker_fee: fee(m0.params.taker_fee)?,
            maker_fee: fee(m0.params.maker_fee)?,
        })
    }

    /// The checks of a fill after both sides are computed: breakers, position-size and
    /// open-interest caps, and initial health of every side that adds risk.
    fn check_fill(
        &self,
        now: Timestamp,
        market: MarketId,
        sides: &[Side; 2],
        mkt: &MarketTx,
        l: &Lending,
        px: Price,
    ) -> Result<(), Reject> {
        for s in sides {
            self.gate_market(now, market, trade_action(s.adds_risk))?;
        }
        let pool = self.state.markets[market.idx()].pool;
        let cap = self.state.pools[pool.idx()].params.max_position_notional;
        for s in sides {
            if let (true, Some(p)) = (s.adds_risk, s.patch.position) {
                let notional = p.size.value(px).checked_abs()?;
                if notional > Value::from_quote(cap) {
                    return Err(Reject::PositionTooLarge {
                        account: s.id,
                        market,
                        notional: notional.to_quote(Round::Up)?,
                        cap,
                    });
                }
            }
        }
        self.check_open_interest(
            market,
            mkt.long_oi,
            sides.map(|s| (s.id, s.adds_risk, s.patch.position)),
        )?;
        for s in sides.iter().filter(|s| s.adds_risk) {
            let acct = &self.state.accounts[s.id.idx()];
            let h = self.health_patched(acct, &s.patch, l, HealthKind::Initial)?;
            if h.0 < 0 {
                return Err(Reject::InsufficientMargin {
                    account: s.id,
                    kind: HealthKind::Initial,
                    health: h,
                });
            }
        }
        Ok(())
    }

    /// Commits both sides of a fill and the market's totals and mark TWAP.
    fn commit_fill(
        &mut self,
        now: Timestamp,
        sides: &[Side; 2],
        mkt: MarketTx,
        px: Price,
    ) -> Result<(), Reject> {
        let clearing = Amount::from_i128(mkt.clearing)?;
        let (long_oi, short_oi) = (
            Amount::from_i128(mkt.long_oi)?,
            Amount::from_i128(mkt.short_oi)?,
        );
        let m = &mut self.state.markets[mkt.id.idx()];
        let mark_twap = Some(match m.mark_twap {
            Some(t) => funding::twap_step(t, px, now.0 - m.last_mark.0, TWAP_WINDOW_MS),
            None => px,
        });
        (m.funding_clearing, m.long_oi, m.short_oi) = (clearing, long_oi, short_oi);
        (m.mark_twap, m.last_mark) = (mark_twap, now);
        for s in sides {
            let acct = &mut self.state.accounts[s.id.idx()];
            acct.quote = s.patch.quote;
            put_position(acct, mkt.id, s.patch.position);
            self.risk.touch(s.id);
        }
        Ok(())
    }
}
