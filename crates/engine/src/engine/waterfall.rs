//! The loss waterfall of one pool, in order, each step an event with its amounts:
//!
//! 0. the bankrupt account's own equity (its collateral is sold to the liquidator at oracle,
//!    its running auction cancelled) — what is left is the deficit;
//! 1. the pool's insurance fund (never another pool's);
//! 2. auto-deleveraging: the account's positions are closed against opposite positions ranked
//!    by profit × leverage (dYdX v4 closes ADL at the bankruptcy price but picks counterparties
//!    without a risk order — issue #3296; we rank, and [`Engine::adl_rank`] lets every account
//!    see its place). Each counterparty gives up at most its unrealized profit;
//! 3. socialized loss: the pool's quote deposit index is lowered so depositors share the rest
//!    pro rata (Mango v4 / Drift spot-style haircut `index' = index·(1 − loss/Σ deposits)`);
//!    the cut is booked against the interest clearing account, which collects it as deposits
//!    settle at the lower index;
//! 4. what nothing covers is recognised in the pool's `bad_debt` — only that.

use super::liquidation::{notional, LotTrade, Tx};
use super::*;
use crate::state::{AuctionState, Lot};

/// Sort key of an ADL candidate: profitable positions first by profit × leverage (descending),
/// then the rest by PnL (descending); ties by account id.
type AdlKey = (u8, std::cmp::Reverse<i128>, AccountId);

impl Engine {
    /// Profit (quote-native, floor) of a position at the current price.
    fn position_pnl(&self, p: &Position) -> Result<i128, Overflow> {
        let m = &self.state.markets[p.market.idx()];
        let Some(px) = self.state.assets[m.base.idx()].price else {
            return Ok(0);
        };
        Ok(div_round(self.perp_pnl(p, px)?.0, VALUE_SCALE, Round::Down))
    }

    fn adl_key(
        &self,
        id: AccountId,
        acct: &Account,
        p: &Position,
        lend: &Lending,
    ) -> Result<AdlKey, Overflow> {
        let pnl = self.position_pnl(p)?;
        if pnl <= 0 {
            return Ok((1, std::cmp::Reverse(pnl), id));
        }
        let m = &self.state.markets[p.market.idx()];
        let px = self.state.assets[m.base.idx()].price.expect("priced");
        let notional_q = p.size.value(px).0.abs() / VALUE_SCALE;
        let equity_q = (self.assess(acct, lend)?.equity.0 / VALUE_SCALE).max(1);
        let leverage = notional_q.saturating_mul(crate::num::RATIO_SCALE as i128) / equity_q;
        // A ranking key, not a ledger value: saturation keeps the order.
        Ok((0, std::cmp::Reverse(pnl.saturating_mul(leverage)), id))
    }

    /// Positions of `pool` in `market` with the sign of `side`, in ADL order.
    fn adl_candidates(
        &self,
        tx: Option<&Tx>,
        pool: PoolId,
        market: MarketId,
        side: i64,
        lend: &Lending,
    ) -> Result<Vec<AdlKey>, Overflow> {
        let mut v = Vec::new();
        for i in 0..self.state.accounts.len() {
            let id = AccountId(i as u32);
            let a = match tx {
                Some(t) => t.get(self, id),
                None => &self.state.accounts[i],
            };
            if a.pool != pool {
                continue;
            }
            if let Some(p) = a.position(market) {
                if p.size.0.signum() == side.signum() {
                    v.push(self.adl_key(id, a, p, lend)?);
                }
            }
        }
        v.sort();
        Ok(v)
    }

    /// An account's place in the auto-deleveraging queue: `(rank, of)` — 1-based rank among
    /// the profitable positions on its side of the market where it ranks highest, and how
    /// many there are. `None` if it holds no profitable position (it would not be
    /// deleveraged first).
    pub fn adl_rank(&self, account: AccountId) -> Option<(u32, u32)> {
        let acct = self.state.accounts.get(account.idx())?;
        let lend = self.lending_now(acct.pool).ok()?;
        let mut best: Option<(u32, u32)> = None;
        for p in &acct.positions {
            if self.position_pnl(p).ok()? <= 0 {
                continue;
            }
            let q = self
                .adl_candidates(None, acct.pool, p.market, p.size.0, &lend)
                .ok()?;
            let of = q.iter().filter(|k| k.0 == 0).count() as u32;
            let rank = q
                .iter()
                .position(|k| k.2 == account)
                .map(|r| r as u32 + 1)?;
            if best.is_none_or(|(r, _)| rank < r) {
                best = Some((rank, of));
            }
        }
        best
    }

    /// A keeper takes `q` of a lot of a bankrupt account over at oracle (an option at its
    /// model mark), without penalty.
    fn hand_over(
        &self,
        tx: &mut Tx,
        account: AccountId,
        liq: AccountId,
        (lot, q): (Lot, i64),
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let px = self.lot_price(lot)?;
        let n = notional(q, px.raw() as i128);
        let before = self.assess(tx.get(self, account), &tx.lend)?.health;
        let t = LotTrade {
            lot,
            seller: account,
            buyer: liq,
            q,
            n,
        };
        tx.trade(self, t, out)?;
        let after = self.assess(tx.get(self, account), &tx.lend)?.health;
        out.push(Event::Liquidated {
            account,
            liquidator: liq,
            lot,
            size: Amount(q),
            price: px,
            penalty: Amount::ZERO,
            to_liquidator: Amount::ZERO,
            to_insurance: Amount::ZERO,
            health_before: before,
            health_after: after,
        });
        Ok(())
    }

    /// Ends the account's running auction, if any, releasing its room under the hole.
    pub(super) fn cancel_auction_of(&self, tx: &mut Tx, account: AccountId, out: &mut Vec<Event>) {
        if let Some(id) = self.active_auction(tx, account) {
            let a = tx.auction_mut(self, id);
            a.state = AuctionState::Cancelled;
            let dirt = a.dirt.0 as i128;
            a.dirt = Amount::ZERO;
            tx.dirt = (tx.dirt - dirt).max(0);
            tx.set_active(account, None);
            out.push(Event::AuctionEnded {
                auction: id,
                completed: false,
            });
        }
    }

    /// Runs the waterfall on `account` if its equity is negative. Its collateral must first be
    /// sold: to `liquidator` at the oracle price when there is one; otherwise (an auction
    /// path) the waterfall waits until the collateral is gone. Returns whether it ran.
    pub(super) fn resolve_bankruptcy(
        &self,
        tx: &mut Tx,
        _now: Timestamp,
        account: AccountId,
        liquidator: Option<AccountId>,
        out: &mut Vec<Event>,
    ) -> Result<bool, Reject> {
        // 0. the account's own equity: sell its collateral and options.
        if !self.sell_holdings(tx, account, liquidator, out)? {
            return Ok(false);
        }
        let eq = self.assess(tx.get(self, account), &tx.lend)?.equity;
        if eq.0 >= 0 {
            return Ok(false);
        }
        self.cancel_auction_of(tx, account, out);
        let deficit = div_round(-eq.0, VALUE_SCALE, Round::Up);
        out.push(Event::Bankrupt {
            account,
            deficit: Amount::from_i128(deficit)?,
        });
        let rest = self.draw_insurance(tx, account, deficit, liquidator, out)?;
        self.deleverage(tx, account, rest, out)?;
        // The closing trades settle funding rounded against the account, which can leave a few
        // native units more to cover: insurance takes them before anyone is socialized.
        let residual = self.residual_deficit(tx, account)?;
        if residual > 0 && tx.insurance > 0 {
            out.push(Event::Bankrupt {
                account,
                deficit: Amount::from_i128(residual)?,
            });
            self.draw_insurance(tx, account, residual, None, out)?;
        }
        self.socialize_and_write_off(tx, account, out)?;
        tx.set_since(account, None);
        Ok(true)
    }

    /// Step 0: sells the account's collateral to `liquidator` at oracle and hands it its option
    /// positions at the model mark, so their value is in the quote balance before the deficit
    /// is measured. False when there is something to sell but no liquidator (the waterfall
    /// waits).
    fn sell_holdings(
        &self,
        tx: &mut Tx,
        account: AccountId,
        liquidator: Option<AccountId>,
        out: &mut Vec<Event>,
    ) -> Result<bool, Reject> {
        let a = tx.get(self, account);
        let mut lots: SmallVec<[(Lot, i64); 3]> = SmallVec::new();
        lots.extend(
            a.collateral
                .iter()
                .map(|(x, amt)| (Lot::Collateral(*x), amt.0)),
        );
        lots.extend(
            a.options
                .iter()
                .map(|op| (Lot::Option(op.series), op.size.0)),
        );
        let Some(liq) = liquidator else {
            return Ok(lots.is_empty());
        };
        for lot in lots {
            self.hand_over(tx, account, liq, lot, out)?;
        }
        Ok(true)
    }

    /// Step 1: the pool's insurance fund. If it covers the whole deficit the keeper takes the
    /// positions over at oracle, without penalty (as Drift v2 liquidators do once the
    /// insurance fund has resolved a bankruptcy). Returns the deficit left.
    fn draw_insurance(
        &self,
        tx: &mut Tx,
        account: AccountId,
        deficit: i128,
        liquidator: Option<AccountId>,
        out: &mut Vec<Event>,
    ) -> Result<i128, Reject> {
        let x = deficit.min(tx.insurance.max(0));
        if x > 0 {
            tx.insurance -= x;
            tx.quote_change(self, account, x, out)?;
            out.push(Event::InsuranceDrawn {
                pool: tx.pool,
                account,
                amount: Amount::from_i128(x)?,
            });
        }
        let rest = deficit - x;
        if let (0, Some(liq)) = (rest, liquidator) {
            let positions: SmallVec<[Position; 2]> = tx.get(self, account).positions.clone();
            for p in positions {
                self.hand_over(tx, account, liq, (Lot::Perp(p.market), p.size.0), out)?;
            }
        }
        Ok(rest)
    }

    /// Step 2, ADL: closes every remaining position against ranked opposite positions at the
    /// bankruptcy price; the deficit `rest` is split over positions by notional.
    fn deleverage(
        &self,
        tx: &mut Tx,
        account: AccountId,
        rest: i128,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let positions: SmallVec<[Position; 2]> = tx.get(self, account).positions.clone();
        let mut values: SmallVec<[i128; 2]> = SmallVec::new();
        for p in &positions {
            let px = self.lot_price(Lot::Perp(p.market))?.raw() as i128;
            values.push((p.size.0 as i128).abs() * px / VALUE_SCALE);
        }
        let total: i128 = values.iter().sum::<i128>().max(1);
        let mut allocated = 0i128;
        for (k, p) in positions.iter().enumerate() {
            let share = if k + 1 == positions.len() {
                rest - allocated
            } else {
                mul_div(rest, values[k], total, Round::Down)?
            };
            allocated += share;
            self.deleverage_position(tx, account, p, share, out)?;
        }
        Ok(())
    }

    /// Closes one position `p` of a bankrupt account against the ADL queue; the counterparties
    /// absorb `share` of the deficit, each at most its unrealized profit.
    fn deleverage_position(
        &self,
        tx: &mut Tx,
        account: AccountId,
        p: &Position,
        share: i128,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let m = p.market;
        let px = self.lot_price(Lot::Perp(m))?.raw() as i128;
        let s = p.size.0;
        let abs = s.unsigned_abs() as i128;
        let cands = self.adl_candidates(Some(tx), tx.pool, m, -s, &tx.lend)?;
        let mut left = abs;
        let mut taken = 0i128;
        for (_, _, c) in cands {
            if left == 0 {
                break;
            }
            let cp = *tx.get(self, c).position(m).expect("candidate holds");
            let d = left.min(cp.size.0.unsigned_abs() as i128);
            let want = if d == left {
                share - taken
            } else {
                div_round(share * d, abs, Round::Up).min(share - taken)
            };
            let haircut = want.clamp(0, self.position_pnl(&cp)?.max(0));
            let n0 = notional(d as i64, px);
            let (q, n, cut) = if s > 0 {
                (d as i64, n0 + haircut, haircut)
            } else {
                let n = (n0 - haircut).max(0);
                (-(d as i64), n, n0 - n)
            };
            let t = LotTrade {
                lot: Lot::Perp(m),
                seller: account,
                buyer: c,
                q,
                n,
            };
            tx.trade(self, t, out)?;
            taken += cut;
            left -= d;
            out.push(Event::Deleveraged {
                account: c,
                bankrupt: account,
                market: m,
                size: Amount(d as i64),
                haircut: Amount::from_i128(cut)?,
            });
        }
        Ok(())
    }

    /// Steps 3 and 4: socializes what is left over the pool's quote depositors (lowering the
    /// deposit index), and recognises what that cannot cover as bad debt.
    /// What a bankrupt account with no positions left still owes: its negative quote balance
    /// while its equity is negative (0 otherwise).
    fn residual_deficit(&self, tx: &mut Tx, account: AccountId) -> Result<i128, Reject> {
        let q = quote_now(&tx.get(self, account).quote, &tx.lend)?.0 as i128;
        let eq = self.assess(tx.get(self, account), &tx.lend)?.equity;
        Ok(if eq.0 < 0 && tx.get(self, account).positions.is_empty() {
            (-q).max(0)
        } else {
            0
        })
    }

    fn socialize_and_write_off(
        &self,
        tx: &mut Tx,
        account: AccountId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let pool = tx.pool;
        let mut left = self.residual_deficit(tx, account)?;
        if left > 0 {
            let t = Engine::total_deposits(&tx.lend)?;
            // keep the index well above zero: at most 99.9999% of deposits can be cut
            let cut = left.min(t - t / 1_000_000).max(0);
            if cut > 0 {
                let idx = mul_div(tx.lend.deposit_index, t - cut, t, Round::Down)?.max(1);
                tx.lend.deposit_index = idx;
                tx.lend.interest_clearing =
                    Amount::from_i128(tx.lend.interest_clearing.0 as i128 - cut)?;
                tx.quote_change(self, account, cut, out)?;
                tx.invalidate_risk = true;
                left -= cut;
                out.push(Event::LossSocialized {
                    pool,
                    account,
                    amount: Amount::from_i128(cut)?,
                    deposit_index: idx,
                });
            }
        }
        if left > 0 {
            tx.bad_debt += left;
            tx.quote_change(self, account, left, out)?;
            out.push(Event::BadDebt {
                pool,
                account,
                amount: Amount::from_i128(left)?,
            });
        }
        Ok(())
    }
}
