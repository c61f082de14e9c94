//! Emergency shutdown of one pool, after Maker's global settlement (dss `end.sol`):
//! `cage` (freeze the pool: every command on it but `Claim` is refused with
//! [`Reject::PoolShutDown`]) → `cage(ilk)` (fix a settlement price per asset) → cancel running
//! auctions (`snip`) → close every position at the fixed price → `skim` (take collateral worth
//! each debt at the fixed price into a basket) → waterfall (insurance fund, then a pro-rata
//! haircut of quote claims, then bad debt) → `cash` (each quote claimant receives its pro-rata
//! share of the basket). What each account then holds is exactly its claim; `Claim` withdraws
//! it and nothing else can change the pool.
//!
//! Everything happens in the one `Shutdown` command, on copies, so a refused shutdown changes
//! nothing. Closing every position at one price is zero-sum up to rounding (sizes sum to zero
//! per market); each payout rounds down and the remainder goes to the insurance fund.

use super::*;
use crate::ids::AuctionId;
use crate::state::{AuctionState, Shutdown};

/// What shutdown did to one option series of the pool.
struct SeriesClose {
    series: crate::ids::SeriesId,
    /// The price it settled at (its own expiry price if already expired, else the cage price).
    price: Price,
    /// What is left in its clearing account once every position is paid (≥ 0 by rounding);
    /// it goes to the insurance fund.
    remainder: i128,
}

/// Working copies of one pool's shutdown: the fixed prices, the pool's buckets and every
/// account of the pool, changed phase by phase and committed at the end.
struct Wind {
    pool: PoolId,
    /// The cage price of every asset the pool values, sorted by asset.
    prices: Vec<(AssetId, Price)>,
    lend: Lending,
    insurance: i128,
    bad_debt: i128,
    basket: Vec<(AssetId, i128)>,
    cancelled: Vec<AuctionId>,
    clearing: Vec<(MarketId, i128)>,
    ids: Vec<AccountId>,
    accts: Vec<Account>,
    series: Vec<SeriesClose>,
    ev: Vec<Event>,
}

impl Wind {
    /// The cage price of `a` (raw): every asset an account of the pool can hold has one.
    fn fixed(&self, a: AssetId) -> i128 {
        self.prices
            .binary_search_by_key(&a, |(x, _)| *x)
            .map(|i| self.prices[i].1.raw() as i128)
            .expect("every asset the pool values has a cage price")
    }
}

impl Engine {
    /// Settles every open option position of the pool at its series' settlement price, or, for
    /// an unexpired series, at intrinsic value at the cage price (as if it expired at that
    /// price: exact in fixed point and zero-sum, since long and short sizes cancel; time value
    /// is forfeited, the rule Maker's End applies to every position — one fixed price, no
    /// model). Payoffs go into quote balances, so claims include option value exactly.
    fn settle_series_at_shutdown(&self, w: &mut Wind) -> Result<(), Reject> {
        for (i, s) in self.state.series.iter().enumerate() {
            if s.pool != w.pool {
                continue;
            }
            let price = match s.settlement {
                Some(p) => p,
                None => {
                    Price::from_raw(w.fixed(s.underlying) as i64).map_err(|_| Reject::Overflow)?
                }
            };
            w.series.push(SeriesClose {
                series: crate::ids::SeriesId(i as u32),
                price,
                remainder: s.clearing.0 as i128,
            });
        }
        for (id, a) in w.ids.iter().zip(w.accts.iter_mut()) {
            let mut delta = 0i128;
            for op in std::mem::take(&mut a.options) {
                let s = &self.state.series[op.series.idx()];
                let x = w
                    .series
                    .iter_mut()
                    .find(|x| x.series == op.series)
                    .expect("a position's series is in its pool");
                let pay = crate::math::option_cash::payoff(s.kind, op.size, x.price, s.strike)?;
                x.remainder -= pay.0 as i128;
                delta += pay.0 as i128;
                w.ev.push(Event::OptionSettled {
                    account: *id,
                    series: op.series,
                    amount: pay,
                });
            }
            if delta != 0 {
                add_quote(&mut a.quote, &mut w.lend, Amount::from_i128(delta)?.0)?;
            }
        }
        w.insurance += w.series.iter().map(|x| x.remainder).sum::<i128>();
        Ok(())
    }

    /// The pool a command acts on, if it is shut down.
    fn frozen_pool(&self, cmd: &Command) -> Option<PoolId> {
        let st = &self.state;
        let acct = |a: &AccountId| st.accounts.get(a.idx()).map(|x| x.pool);
        let market = |m: &MarketId| st.markets.get(m.idx()).map(|x| x.pool);
        let auction = |a: &AuctionId| st.auctions.get(a.idx()).map(|x| x.pool);
        let key = |k: &ParamKey| match k {
            ParamKey::Market { market: m, .. }
            | ParamKey::MarketBreaker { market: m, .. }
            | ParamKey::VolMargin { market: m, .. } => market(m),
            ParamKey::Pool { pool, .. }
            | ParamKey::Collateral { pool, .. }
            | ParamKey::Liquidation { pool, .. }
            | ParamKey::PoolBreaker { pool, .. }
            | ParamKey::AuctionBreaker { pool }
            | ParamKey::Portfolio { pool, .. }
            | ParamKey::OptionMargin { pool, .. } => Some(*pool),
            // An asset's oracle and the validity matrix serve every pool.
            ParamKey::Oracle { .. } | ParamKey::Validity { .. } => None,
        };
        let pools: [Option<PoolId>; 2] = match cmd {
            Command::AddCollateral { pool, .. }
            | Command::CreateMarket { pool, .. }
            | Command::OpenAccount { pool, .. }
            | Command::ConfigureLiquidation { pool, .. }
            | Command::SetAuctionBreaker { pool, .. }
            | Command::Shutdown { pool, .. } => [Some(*pool), None],
            Command::Deposit { account, .. }
            | Command::Withdraw { account, .. }
            | Command::Borrow { account, .. }
            | Command::StartAuction { account, .. } => [acct(account), None],
            Command::Liquidate {
                liquidator,
                account,
                ..
            } => [acct(account), acct(liquidator)],
            Command::Transfer { from, to, .. } => [acct(from), acct(to)],
            Command::Fill { market: m, .. } | Command::SettleFunding { market: m } => {
                [market(m), None]
            }
            Command::TakeAuction {
                auction: a, bidder, ..
            } => [auction(a), acct(bidder)],
            Command::RedoAuction { auction: a, keeper } => [auction(a), acct(keeper)],
            Command::CreateOptionSeries { pool, .. } => [Some(*pool), None],
            Command::ConfigureVolMargin { market: m, .. } => [market(m), None],
            Command::ConfigureBreaker { scope, .. } | Command::GovernBreaker { scope, .. } => {
                match scope {
                    crate::command::Scope::Pool(p) => [Some(*p), None],
                    crate::command::Scope::Market(m) => [market(m), None],
                    crate::command::Scope::Global => [None, None],
                }
            }
            Command::OptionFill { series, taker, .. } => {
                [st.series.get(series.idx()).map(|s| s.pool), acct(taker)]
            }
            Command::ExpireSeries { series } => [st.series.get(series.idx()).map(|s| s.pool), None],
            Command::SettleOptions { account } | Command::SetMarginMode { account, .. } => {
                [acct(account), None]
            }
            Command::Propose { key: k, .. } => [key(k), None],
            Command::Execute { proposal, .. } => match st.proposal(*proposal).map(|p| &p.change) {
                Some(crate::state::Change::Command { command }) => {
                    return self.frozen_pool(command)
                }
                Some(crate::state::Change::Param { key: k, .. }) => [key(k), None],
                None => [None, None],
            },
            Command::ProposeCommand { command, .. } => return self.frozen_pool(command),
            _ => [None, None],
        };
        pools.into_iter().flatten().find(|p| {
            st.pools
                .get(p.idx())
                .is_some_and(|x| x.liquidation.shutdown.is_some())
        })
    }

    /// Refuses any command on a shut-down pool except `Claim` (cheap when no pool is shut).
    pub(super) fn check_frozen(&self, cmd: &Command) -> Result<(), Reject> {
        if matches!(cmd, Command::Claim { .. })
            || self
                .state
                .pools
                .iter()
                .all(|p| p.liquidation.shutdown.is_none())
        {
            return Ok(());
        }
        match self.frozen_pool(cmd) {
            Some(p) => Err(Reject::PoolShutDown(p)),
            None => Ok(()),
        }
    }

    pub(super) fn shutdown(
        &mut self,
        now: Timestamp,
        pool: PoolId,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let mut w = self.cage(now, pool)?;
        self.close_positions(&mut w)?;
        self.settle_series_at_shutdown(&mut w)?;
        let skimmed = self.skim(&mut w)?;
        let deficits = Self::cover_deficits(&mut w)?;
        Self::haircut_claims(&mut w, skimmed, deficits)?;
        self.commit_shutdown(now, w, out)
    }

    /// `cage`: fixes a price for every asset the pool values, cancels its running auctions
    /// (`snip`) and takes copies of its buckets and accounts.
    fn cage(&self, now: Timestamp, pool: PoolId) -> Result<Wind, Reject> {
        let p = self.pool(pool)?;
        let mut assets: Vec<AssetId> = p.collateral.iter().map(|c| c.asset).collect();
        assets.extend(p.markets.iter().map(|m| self.state.markets[m.idx()].base));
        assets.extend(
            self.state
                .series
                .iter()
                .filter(|s| s.pool == pool && s.settlement.is_none())
                .map(|s| s.underlying),
        );
        assets.sort();
        assets.dedup();
        let mut prices = Vec::with_capacity(assets.len());
        for a in assets {
            prices.push((
                a,
                self.state.assets[a.idx()].price.ok_or(Reject::NoPrice(a))?,
            ));
        }
        let mut ev = vec![Event::ShutdownStarted { pool }];
        for (asset, price) in &prices {
            ev.push(Event::SettlementPrice {
                pool,
                asset: *asset,
                price: *price,
            });
        }
        let cancelled: Vec<AuctionId> = p.liquidation.active.iter().map(|(_, a)| *a).collect();
        for a in &cancelled {
            ev.push(Event::AuctionEnded {
                auction: *a,
                completed: false,
            });
        }
        let ids: Vec<AccountId> = (0..self.state.accounts.len())
            .filter(|&i| self.state.accounts[i].pool == pool)
            .map(|i| AccountId(i as u32))
            .collect();
        Ok(Wind {
            pool,
            prices,
            lend: accrued(&p.lending, &p.params.curve, now)?,
            insurance: p.insurance_fund.0 as i128,
            bad_debt: p.bad_debt.0 as i128,
            basket: (p.liquidation.basket.iter())
                .map(|(a, x)| (*a, x.0 as i128))
                .collect(),
            cancelled,
            clearing: (p.markets.iter())
                .map(|m| (*m, self.state.markets[m.idx()].funding_clearing.0 as i128))
                .collect(),
            accts: (ids.iter())
                .map(|i| self.state.accounts[i.idx()].clone())
                .collect(),
            ids,
            series: Vec::new(),
            ev,
        })
    }

    /// Closes every perpetual position at the fixed price (funding and interest settled first).
    fn close_positions(&self, w: &mut Wind) -> Result<(), Reject> {
        let mut residue = 0i128;
        for k in 0..w.ids.len() {
            let id = w.ids[k];
            let a = &mut w.accts[k];
            let d = settle_interest(&mut a.quote, &mut w.lend)?;
            if d.0 != 0 {
                w.ev.push(Event::InterestSettled {
                    account: id,
                    amount: d,
                });
            }
            let mut qdelta = 0i128;
            for mut pos in std::mem::take(&mut a.positions) {
                let m = &self.state.markets[pos.market.idx()];
                let f = funding_payment(&mut pos, m.funding_index)?;
                if f.0 != 0 {
                    qdelta += f.0 as i128;
                    let c = (w.clearing.iter_mut())
                        .find(|(x, _)| *x == pos.market)
                        .expect("pool market");
                    c.1 -= f.0 as i128;
                    w.ev.push(Event::FundingSettled {
                        account: id,
                        market: pos.market,
                        amount: f,
                    });
                }
                let px = w.prices[(w.prices.binary_search_by_key(&m.base, |(x, _)| *x))
                    .expect("every market's base has a cage price")]
                .1
                .raw() as i128;
                let v = div_round(pos.size.0 as i128 * px, VALUE_SCALE, Round::Down);
                residue += v;
                let pnl = pos.quote.0 as i128 + v;
                qdelta += pnl;
                w.ev.push(Event::PositionSettled {
                    account: id,
                    market: pos.market,
                    size: pos.size,
                    pnl: Amount::from_i128(pnl)?,
                });
            }
            add_quote(&mut a.quote, &mut w.lend, Amount::from_i128(qdelta)?.0)?;
        }
        // sizes sum to zero per market, so Σ floor(size·price) ≤ 0: the rounding goes to insurance
        w.insurance -= residue;
        Ok(())
    }

    /// `skim`: takes collateral worth each debt at the fixed price into the basket. Returns the
    /// debt covered.
    fn skim(&self, w: &mut Wind) -> Result<i128, Reject> {
        let mut skimmed = 0i128;
        for k in 0..w.ids.len() {
            let id = w.ids[k];
            let mut debt = -(w.accts[k].quote.amount.0 as i128);
            let coll: Vec<(AssetId, Amount)> = w.accts[k].collateral.iter().copied().collect();
            for (asset, amt) in coll {
                if debt <= 0 {
                    break;
                }
                let px = w.fixed(asset);
                let need = div_round(debt * VALUE_SCALE, px, Round::Up);
                let c = need.min(amt.0 as i128);
                let covered = debt.min(div_round(c * px, VALUE_SCALE, Round::Down));
                let a = &mut w.accts[k];
                Self::debit_collateral(id, a, asset, Amount::from_i128(c)?)?;
                match w.basket.iter_mut().find(|(x, _)| *x == asset) {
                    Some(b) => b.1 += c,
                    None => w.basket.push((asset, c)),
                }
                add_quote(&mut a.quote, &mut w.lend, covered as i64)?;
                debt -= covered;
                skimmed += covered;
                w.ev.push(Event::Skimmed {
                    account: id,
                    asset,
                    amount: Amount::from_i128(c)?,
                    debt: Amount::from_i128(covered)?,
                });
            }
        }
        w.basket.sort();
        Ok(skimmed)
    }

    /// The waterfall's first step: the insurance fund covers each remaining deficit in account
    /// order. Returns what it could not cover, per account.
    fn cover_deficits(w: &mut Wind) -> Result<Vec<(AccountId, i128)>, Reject> {
        let mut deficits: Vec<(AccountId, i128)> = Vec::new();
        for (id, a) in w.ids.iter().zip(w.accts.iter_mut()) {
            let d = -(a.quote.amount.0 as i128);
            if d <= 0 {
                continue;
            }
            w.ev.push(Event::Bankrupt {
                account: *id,
                deficit: Amount::from_i128(d)?,
            });
            let x = d.min(w.insurance.max(0));
            if x > 0 {
                w.insurance -= x;
                w.ev.push(Event::InsuranceDrawn {
                    pool: w.pool,
                    account: *id,
                    amount: Amount::from_i128(x)?,
                });
            }
            add_quote(&mut a.quote, &mut w.lend, d as i64)?;
            if d > x {
                deficits.push((*id, d - x));
            }
        }
        Ok(deficits)
    }

    /// Then a pro-rata haircut of quote claims (funding the skimmed debt first, which the
    /// claimants receive back as basket collateral), then bad debt; `cash`: each claimant gets
    /// its pro-rata share of the basket.
    fn haircut_claims(
        w: &mut Wind,
        skimmed: i128,
        deficits: Vec<(AccountId, i128)>,
    ) -> Result<(), Reject> {
        let claims: i128 = w
            .accts
            .iter()
            .map(|a| a.quote.amount.0.max(0) as i128)
            .sum();
        let owed = skimmed + deficits.iter().map(|(_, d)| *d).sum::<i128>();
        let cut = owed.min(claims);
        let mut socialize = cut - skimmed.min(cut);
        for (id, d) in deficits {
            let s = d.min(socialize);
            socialize -= s;
            if s > 0 {
                w.ev.push(Event::LossSocialized {
                    pool: w.pool,
                    account: id,
                    amount: Amount::from_i128(s)?,
                    deposit_index: w.lend.deposit_index,
                });
            }
            if d > s {
                w.bad_debt += d - s;
                w.ev.push(Event::BadDebt {
                    pool: w.pool,
                    account: id,
                    amount: Amount::from_i128(d - s)?,
                });
            }
        }
        let taken = if claims > 0 {
            Self::hand_out_basket(w, cut, claims)?
        } else {
            0
        };
        w.insurance += taken - cut;
        // skimmed debt not matched by any claimant is uncovered too
        if skimmed > cut {
            w.bad_debt += skimmed - cut;
        }
        Ok(())
    }

    /// Cuts each quote claim by its share of `cut` (rounded up) and hands it its share of the
    /// basket (rounded down). Returns the quote taken.
    fn hand_out_basket(w: &mut Wind, cut: i128, claims: i128) -> Result<i128, Reject> {
        let mut taken = 0i128;
        let basket0 = w.basket.clone();
        let mut handed = vec![0i128; w.basket.len()];
        for (id, a) in w.ids.iter().zip(w.accts.iter_mut()) {
            let q = a.quote.amount.0 as i128;
            if q <= 0 {
                continue;
            }
            let h = div_round(cut * q, claims, Round::Up).min(q);
            add_quote(&mut a.quote, &mut w.lend, -(h as i64))?;
            taken += h;
            for (k, (asset, b)) in basket0.iter().enumerate() {
                let share = *b * q / claims;
                handed[k] += share;
                if share > 0 {
                    Self::credit_collateral(a, *asset, Amount::from_i128(share)?)?;
                    w.ev.push(Event::BasketShare {
                        account: *id,
                        asset: *asset,
                        amount: Amount::from_i128(share)?,
                    });
                }
            }
            w.ev.push(Event::ClaimFixed {
                account: *id,
                quote: a.quote.amount,
                haircut: Amount::from_i128(h)?,
            });
        }
        for ((_, b), h) in w.basket.iter_mut().zip(&handed) {
            *b -= *h;
        }
        Ok(taken)
    }

    /// Commits a shutdown: every conversion that can still fail happens first.
    fn commit_shutdown(
        &mut self,
        now: Timestamp,
        w: Wind,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let insurance = Amount::from_i128(w.insurance)?;
        let bad_debt = Amount::from_i128(w.bad_debt)?;
        let clearing: Vec<(MarketId, Amount)> = (w.clearing.into_iter())
            .map(|(m, c)| Amount::from_i128(c).map(|c| (m, c)))
            .collect::<Result<_, _>>()?;
        let basket: Vec<(AssetId, Amount)> = (w.basket.into_iter())
            .filter(|(_, b)| *b != 0)
            .map(|(a, b)| Amount::from_i128(b).map(|b| (a, b)))
            .collect::<Result<_, _>>()?;
        for a in &w.cancelled {
            let x = &mut self.state.auctions[a.idx()];
            x.state = AuctionState::Cancelled;
            x.dirt = Amount::ZERO;
        }
        for x in w.series {
            let s = &mut self.state.series[x.series.idx()];
            s.settlement = Some(x.price);
            s.clearing = Amount::ZERO;
            s.long_oi = Amount::ZERO;
        }
        for (m, c) in clearing {
            let mk = &mut self.state.markets[m.idx()];
            mk.funding_clearing = c;
            mk.long_oi = Amount::ZERO;
            mk.short_oi = Amount::ZERO;
        }
        for (id, a) in w.ids.iter().zip(w.accts) {
            self.state.accounts[id.idx()] = a;
            self.risk.touch(*id);
        }
        let p = &mut self.state.pools[w.pool.idx()];
        p.lending = w.lend;
        p.insurance_fund = insurance;
        p.bad_debt = bad_debt;
        let liq = &mut p.liquidation;
        liq.active.clear();
        liq.since.clear();
        liq.dirt = Amount::ZERO;
        liq.basket = basket;
        liq.shutdown = Some(Shutdown {
            at: now,
            prices: w.prices,
        });
        out.extend(w.ev);
        Ok(())
    }

    pub(super) fn claim(
        &mut self,
        account: AccountId,
        asset: AssetId,
        amount: Amount,
        out: &mut Vec<Event>,
    ) -> Result<(), Reject> {
        let acct = self.account(account)?;
        let pool = acct.pool;
        if self.state.pools[pool.idx()].liquidation.shutdown.is_none() {
            return Err(Reject::NotShutDown(pool));
        }
        positive(amount)?;
        let is_quote = self.holdable(pool, asset)?;
        let mut a = acct.clone();
        let have = if is_quote {
            a.quote.amount.max(Amount::ZERO)
        } else {
            a.collateral_amount(asset)
        };
        if amount > have {
            return Err(Reject::ClaimExceeded {
                account,
                asset,
                claim: have,
                want: amount,
            });
        }
        let p = &mut self.state.pools[pool.idx()];
        if is_quote {
            // lending is frozen at shutdown: balances are settled, indices no longer move
            let mut l = p.lending.clone();
            add_quote(&mut a.quote, &mut l, -amount.0)?;
            p.lending = l;
        } else {
            Self::debit_collateral(account, &mut a, asset, amount)?;
        }
        self.state.accounts[account.idx()] = a;
        self.state.assets[asset.idx()].net_deposits -= amount.0 as i128;
        self.risk.touch(account);
        out.push(Event::Claimed {
            account,
            asset,
            amount,
        });
        Ok(())
    }
}
