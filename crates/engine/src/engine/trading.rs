//! Trading: the perpetual fill. Both sides' positions, quote balances, funding and interest
//! are updated on copies, then the price band, position and open-interest caps, breakers and
//! the initial health of every risk-adding side are checked before anything is committed.

use super::*;

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
        let Trade {
            market,
            taker,
            maker,
            size,
            price,
        } = *trade;
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
}
