//! An independent ledger audit: every balance rebuilt from the event stream alone, compared
//! with the engine's state after every command.
//!
//! The audit never reads engine state to update itself. It keeps, per account, the settled
//! quote balance, each perpetual position's size and cost basis (`Position::quote`), each
//! collateral balance and each option position; per pool the insurance fund, fee account, bad
//! debt, interest clearing account and settlement basket; per market the funding clearing
//! account and funding index; per series the option clearing account; per asset the net
//! deposits and the latest price. Each event moves these by the amounts it carries (see
//! [`Audit::apply`]); a fill's or a liquidation's notional is recomputed from the size and
//! price the event carries with the ledger's documented rounding (buyer pays the rounded-up
//! notional).
//!
//! Then [`Audit::compare`] checks the rebuilt books against the state field by field, and
//! [`Audit::bounds`] checks that the clearing accounts hold only what they legitimately can:
//!
//! - **Funding clearing.** Payers round up and receivers round down, and perpetual sizes sum
//!   to zero, so the clearing account *after every open position settled* lies in
//!   `[0, settlements]`, where `settlements` counts every funding settlement ever made in the
//!   market plus the open positions (each rounding moves less than one unit).
//! - **Interest clearing.** Lenders earn `rs = rb · u · (1 − reserve)` on `D` while borrowers
//!   pay `rb` on `B = u · D`, both rounded against the account, so the reserve *after every
//!   balance settled at the stored indices* is never below `−slack` and never above all the
//!   interest borrowers ever paid or owe plus `slack` (`slack` = 4 units per account of the
//!   pool, plus one part in 10^9 of the outstanding totals, plus 2 units per socialized loss).
//! - **Option clearing.** Once every position of a settled series is paid out, the clearing
//!   account is in `[−ε, settlements + ε]` (longs receive floor, shorts pay floor; `ε` covers
//!   the f64 payoff: 1 + 10^-15 of the total paid).
//!
//! Event-level sign rules are checked as events arrive: interest never moves a borrow up or a
//! deposit below zero, a long option never pays at settlement and a short never receives,
//! and a funding index moves in the direction of its rate.

use ballast_engine::engine::Engine;
use ballast_engine::event::Event;
use ballast_engine::funding::FUNDING_INDEX_SCALE;
use ballast_engine::ids::{AccountId, AssetId, AuctionId, MarketId, PoolId, SeriesId};
use ballast_engine::num::{div_round, mul_div, Round, VALUE_SCALE};
use ballast_engine::rates::INDEX_SCALE;
use ballast_engine::state::{Lot, Position, QuoteBalance, State};
use std::collections::BTreeMap;

/// Which rebuilt quantity disagreed with the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Quote(AccountId),
    PositionSize(AccountId, MarketId),
    PositionCost(AccountId, MarketId),
    Collateral(AccountId, AssetId),
    OptionSize(AccountId, SeriesId),
    OptionPremium(AccountId, SeriesId),
    Insurance(PoolId),
    FeeAccount(PoolId),
    BadDebt(PoolId),
    InterestClearing(PoolId),
    Basket(PoolId, AssetId),
    FundingClearing(MarketId),
    FundingIndex(MarketId),
    OptionClearing(SeriesId),
    NetDeposits(AssetId),
    /// The number of accounts, pools, markets, series or assets.
    Count,
    /// An event named an object the events never created.
    Unknown,
    /// A shutdown's position payout differs from `size × settlement price`.
    SettledPnl(AccountId, MarketId),
    /// A `ClaimFixed` quote differs from the rebuilt balance.
    ClaimQuote(AccountId),
    /// Σ rebuilt holdings − rebuilt net deposits for an asset (the audit's own conservation).
    AuditConservation(AssetId),
}

/// Which clearing account left its legitimate range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clearing {
    Funding(MarketId),
    Interest(PoolId),
    Option(SeriesId),
}

/// A sign rule broken by one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignRule {
    /// Interest settled on a borrow was positive, or took a deposit below zero.
    Interest(AccountId),
    /// A long option paid at settlement, or a short one received.
    OptionPayoff(AccountId, SeriesId),
    /// The funding index moved against the sign of its rate.
    FundingDirection(MarketId),
}

/// What the audit found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditError {
    Mismatch {
        field: Field,
        rebuilt: i128,
        state: i128,
    },
    Bound {
        clearing: Clearing,
        value: i128,
        low: i128,
        high: i128,
    },
    Sign {
        rule: SignRule,
        before: i128,
        amount: i128,
    },
    /// What a clearing account is owed does not fit an i128. Raised against the unchecked
    /// engine (its settlement wrapped); the checked engine refuses such a settlement, so
    /// [`Audit::bounds`] now leaves that market or pool out instead (kept so old
    /// `unrepresentable-clearing` reproducers keep their name).
    Unrepresentable { clearing: Clearing },
}

#[derive(Debug, Clone, Default)]
struct Book {
    pool: PoolId,
    quote: i128,
    /// market → (size, cost basis)
    perps: BTreeMap<MarketId, (i128, i128)>,
    collateral: BTreeMap<AssetId, i128>,
    /// series → (size, premium cash flow)
    options: BTreeMap<SeriesId, (i128, i128)>,
}

#[derive(Debug, Clone, Default)]
struct PoolBook {
    quote: AssetId,
    insurance: i128,
    fees: i128,
    bad_debt: i128,
    interest: i128,
    basket: BTreeMap<AssetId, i128>,
    socialized: u64,
    /// Interest borrowers ever paid (settled), ≥ 0.
    borrower_paid: i128,
}

#[derive(Debug, Clone, Default)]
struct MarketBook {
    base: AssetId,
    clearing: i128,
    index: i128,
    settlements: i128,
}

#[derive(Debug, Clone, Default)]
struct SeriesBook {
    /// The series' pool, learnt from its first fill (a series never filled holds nothing).
    pool: Option<PoolId>,
    clearing: i128,
    settlements: i128,
    paid: i128,
}

/// Running sums of one emergency shutdown, resolved when the command's events end.
#[derive(Debug, Clone, Default)]
struct ShutdownCtx {
    pool: PoolId,
    prices: BTreeMap<AssetId, i128>,
    residue: i128,
    skimmed: i128,
    deficits: i128,
    claims: i128,
    haircuts: i128,
}

/// The books rebuilt from events.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    accounts: Vec<Book>,
    pools: Vec<PoolBook>,
    markets: Vec<MarketBook>,
    series: Vec<SeriesBook>,
    /// (net deposits, latest price raw)
    assets: Vec<(i128, Option<i128>)>,
    auctions: Vec<(AccountId, Lot)>,
}

/// Quote-native amount of `q` base units at raw price `px`, rounded up (what a buyer pays).
fn notional(q: i128, px: i128) -> i128 {
    div_round(q.abs() * px, VALUE_SCALE, Round::Up)
}

fn mismatch(field: Field, rebuilt: i128, state: i128) -> Result<(), AuditError> {
    if rebuilt == state {
        Ok(())
    } else {
        Err(AuditError::Mismatch {
            field,
            rebuilt,
            state,
        })
    }
}

fn bound(clearing: Clearing, value: i128, low: i128, high: i128) -> Result<(), AuditError> {
    if value < low || value > high {
        return Err(AuditError::Bound {
            clearing,
            value,
            low,
            high,
        });
    }
    Ok(())
}

impl Audit {
    pub fn new() -> Audit {
        Audit::default()
    }

    fn book(&mut self, a: AccountId) -> Result<&mut Book, AuditError> {
        let n = self.accounts.len() as i128;
        self.accounts.get_mut(a.idx()).ok_or(AuditError::Mismatch {
            field: Field::Unknown,
            rebuilt: n,
            state: a.0 as i128,
        })
    }

    fn pool_of(&mut self, a: AccountId) -> Result<&mut PoolBook, AuditError> {
        let p = self.book(a)?.pool;
        Ok(&mut self.pools[p.idx()])
    }

    fn is_quote(&mut self, a: AccountId, asset: AssetId) -> Result<bool, AuditError> {
        Ok(self.pool_of(a)?.quote == asset)
    }

    /// Adds `delta` of `asset` to an account (quote balance or collateral).
    fn credit(&mut self, a: AccountId, asset: AssetId, delta: i128) -> Result<(), AuditError> {
        if self.is_quote(a, asset)? {
            self.book(a)?.quote += delta;
        } else {
            let b = self.book(a)?;
            let c = b.collateral.entry(asset).or_insert(0);
            *c += delta;
            if *c == 0 {
                b.collateral.remove(&asset);
            }
        }
        Ok(())
    }

    /// A perpetual trade leg: size changes by `dlt`, the cost basis by `cash`; a closed
    /// position folds its remaining cost basis into the quote balance (realized PnL arrives
    /// as its own event, before the trade's).
    fn perp(&mut self, a: AccountId, m: MarketId, dlt: i128, cash: i128) -> Result<(), AuditError> {
        let b = self.book(a)?;
        let e = b.perps.entry(m).or_insert((0, 0));
        e.0 += dlt;
        e.1 += cash;
        if e.0 == 0 {
            let cost = e.1;
            b.perps.remove(&m);
            b.quote += cost;
        }
        Ok(())
    }

    /// Moves `q` of a lot from `seller` to `buyer` for `n` quote (liquidation-style trade).
    fn trade(&mut self, lot: Lot, seller: AccountId, buyer: AccountId, q: i128, n: i128) -> R {
        let to_seller = if q > 0 { n } else { -n };
        match lot {
            Lot::Perp(m) => {
                self.perp(seller, m, -q, to_seller)?;
                self.perp(buyer, m, q, -to_seller)?;
            }
            Lot::Collateral(asset) => {
                self.credit(seller, asset, -q)?;
                self.credit(buyer, asset, q)?;
                self.book(seller)?.quote += to_seller;
                self.book(buyer)?.quote -= to_seller;
            }
            Lot::Option(series) => {
                for (a, d, c) in [(seller, -q, to_seller), (buyer, q, -to_seller)] {
                    let b = self.book(a)?;
                    b.quote += c;
                    let o = b.options.entry(series).or_insert((0, 0));
                    o.0 += d;
                    o.1 += c;
                    if o.0 == 0 {
                        b.options.remove(&series);
                    }
                }
            }
        }
        Ok(())
    }

    fn price(&self, asset: AssetId) -> Result<i128, AuditError> {
        self.assets
            .get(asset.idx())
            .and_then(|a| a.1)
            .ok_or(AuditError::Mismatch {
                field: Field::Unknown,
                rebuilt: -1,
                state: asset.0 as i128,
            })
    }

    /// Applies the events of one accepted command.
    pub fn apply(&mut self, events: &[Event]) -> Result<(), AuditError> {
        let mut shutdown: Option<ShutdownCtx> = None;
        for ev in events {
            if let Event::ShutdownStarted { pool } = ev {
                shutdown = Some(ShutdownCtx {
                    pool: *pool,
                    ..ShutdownCtx::default()
                });
                continue;
            }
            match shutdown.as_mut() {
                Some(ctx) => self.shutdown_event(ctx, ev)?,
                None => self.event(ev)?,
            }
        }
        if let Some(ctx) = shutdown {
            self.finish_shutdown(&ctx);
        }
        Ok(())
    }

    fn event(&mut self, ev: &Event) -> Result<(), AuditError> {
        if self.listing(ev) || self.liquidation_event(ev)? {
            return Ok(());
        }
        match *ev {
            Event::Deposited {
                account,
                asset,
                amount,
            } => {
                self.credit(account, asset, amount.0 as i128)?;
                self.assets[asset.idx()].0 += amount.0 as i128;
            }
            Event::Withdrawn {
                account,
                asset,
                amount,
            }
            | Event::Claimed {
                account,
                asset,
                amount,
            } => {
                self.credit(account, asset, -(amount.0 as i128))?;
                self.assets[asset.idx()].0 -= amount.0 as i128;
            }
            Event::Borrowed { account, amount } => {
                let q = self.pool_of(account)?.quote;
                self.book(account)?.quote -= amount.0 as i128;
                self.assets[q.idx()].0 -= amount.0 as i128;
            }
            Event::Transferred {
                from,
                to,
                asset,
                amount,
            } => {
                self.credit(from, asset, -(amount.0 as i128))?;
                self.credit(to, asset, amount.0 as i128)?;
            }
            _ => self.trading_event(ev)?,
        }
        Ok(())
    }

    /// Objects created and prices; returns whether `ev` was one of these.
    fn listing(&mut self, ev: &Event) -> bool {
        match *ev {
            Event::AssetCreated { .. } => self.assets.push((0, None)),
            Event::PoolCreated { quote, .. } => self.pools.push(PoolBook {
                quote,
                ..PoolBook::default()
            }),
            Event::MarketCreated { base, .. } => self.markets.push(MarketBook {
                base,
                ..MarketBook::default()
            }),
            Event::SeriesCreated { .. } => self.series.push(SeriesBook::default()),
            Event::AccountOpened { pool, .. } => self.accounts.push(Book {
                pool,
                ..Book::default()
            }),
            Event::PriceUpdated { asset, price } => {
                self.assets[asset.idx()].1 = Some(price.raw() as i128)
            }
            Event::OracleUpdated { asset, price, .. } => {
                if let Some(p) = price {
                    self.assets[asset.idx()].1 = Some(p.raw() as i128);
                }
            }
            _ => return false,
        }
        true
    }

    fn interest(&mut self, account: AccountId, amount: i128) -> R {
        let before = self.book(account)?.quote;
        let after = before + amount;
        let socialized = self.pool_of(account)?.socialized > 0;
        let bad = (before < 0 && amount > 0)
            || (before > 0 && after < 0)
            || (before > 0 && amount < 0 && !socialized)
            || before == 0;
        if bad {
            return Err(AuditError::Sign {
                rule: SignRule::Interest(account),
                before,
                amount,
            });
        }
        self.book(account)?.quote = after;
        let p = self.pool_of(account)?;
        p.interest -= amount;
        if before < 0 {
            p.borrower_paid -= amount;
        }
        Ok(())
    }

    fn trading_event(&mut self, ev: &Event) -> R {
        match *ev {
            Event::Filled {
                market,
                taker,
                maker,
                size,
                notional,
                taker_fee,
                maker_fee,
                ..
            } => {
                let (s, n) = (size.0 as i128, notional.0 as i128);
                let cash = if s > 0 { -n } else { n };
                self.book(taker)?.quote -= taker_fee.0 as i128;
                self.book(maker)?.quote -= maker_fee.0 as i128;
                self.perp(taker, market, s, cash)?;
                self.perp(maker, market, -s, -cash)?;
                self.pool_of(taker)?.fees += taker_fee.0 as i128 + maker_fee.0 as i128;
            }
            Event::PnlRealized {
                account,
                market,
                amount,
            } => {
                let b = self.book(account)?;
                b.quote += amount.0 as i128;
                b.perps.entry(market).or_insert((0, 0)).1 -= amount.0 as i128;
            }
            Event::FundingUpdated {
                market,
                rate,
                index,
            } => {
                let m = &mut self.markets[market.idx()];
                let delta = index.saturating_sub(m.index);
                if (rate.0 > 0 && delta < 0) || (rate.0 < 0 && delta > 0) {
                    return Err(AuditError::Sign {
                        rule: SignRule::FundingDirection(market),
                        before: m.index,
                        amount: delta,
                    });
                }
                m.index = index;
            }
            Event::FundingSettled {
                account,
                amount,
                market,
            } => {
                self.book(account)?.quote += amount.0 as i128;
                let m = &mut self.markets[market.idx()];
                m.clearing -= amount.0 as i128;
                m.settlements += 1;
            }
            Event::InterestSettled { account, amount } => {
                self.interest(account, amount.0 as i128)?
            }
            _ => self.option_event(ev)?,
        }
        Ok(())
    }

    fn option_event(&mut self, ev: &Event) -> R {
        match *ev {
            Event::OptionFilled {
                series,
                taker,
                maker,
                size,
                premium,
                fee,
            } => {
                let (s, p) = (size.0 as i128, premium.0 as i128);
                let cash = if s > 0 { -p } else { p };
                for (a, d, c, f) in [(taker, s, cash, fee.0 as i128), (maker, -s, -cash, 0)] {
                    let b = self.book(a)?;
                    b.quote += c - f;
                    let o = b.options.entry(series).or_insert((0, 0));
                    o.0 += d;
                    o.1 += c;
                    if o.0 == 0 {
                        b.options.remove(&series);
                    }
                }
                let pool = self.book(taker)?.pool;
                self.series[series.idx()].pool.get_or_insert(pool);
                self.pool_of(taker)?.fees += fee.0 as i128;
            }
            Event::OptionSettled {
                account,
                series,
                amount,
            } => {
                let a = amount.0 as i128;
                let b = self.book(account)?;
                let size = b.options.remove(&series).map(|o| o.0).unwrap_or(0);
                if (size > 0 && a < 0) || (size < 0 && a > 0) || size == 0 {
                    return Err(AuditError::Sign {
                        rule: SignRule::OptionPayoff(account, series),
                        before: size,
                        amount: a,
                    });
                }
                b.quote += a;
                let s = &mut self.series[series.idx()];
                s.clearing -= a;
                s.settlements += 1;
                s.paid += a.abs();
            }
            Event::InsuranceFunded { pool, amount } => {
                let p = &mut self.pools[pool.idx()];
                p.fees -= amount.0 as i128;
                p.insurance += amount.0 as i128;
            }
            _ => {}
        }
        Ok(())
    }

    /// Liquidation, auction and waterfall events; returns whether `ev` was one of these.
    fn liquidation_event(&mut self, ev: &Event) -> Result<bool, AuditError> {
        match *ev {
            Event::Liquidated {
                account,
                liquidator,
                lot,
                size,
                price,
                penalty,
                to_liquidator,
                to_insurance,
                ..
            } => {
                let q = size.0 as i128;
                self.trade(
                    lot,
                    account,
                    liquidator,
                    q,
                    notional(q, price.raw() as i128),
                )?;
                self.book(account)?.quote -= penalty.0 as i128;
                self.book(liquidator)?.quote += to_liquidator.0 as i128;
                self.pool_of(account)?.insurance += to_insurance.0 as i128;
            }
            Event::AuctionStarted {
                auction,
                account,
                lot,
                keeper,
                incentive,
                ..
            } => {
                if auction.idx() != self.auctions.len() {
                    return Err(AuditError::Mismatch {
                        field: Field::Unknown,
                        rebuilt: self.auctions.len() as i128,
                        state: auction.0 as i128,
                    });
                }
                self.auctions.push((account, lot));
                self.incentive(keeper, incentive.0 as i128)?;
            }
            Event::AuctionReset {
                keeper, incentive, ..
            } => self.incentive(keeper, incentive.0 as i128)?,
            Event::AuctionTaken {
                auction,
                bidder,
                size,
                paid,
                penalty,
                ..
            } => self.auction_taken(auction, bidder, size.0 as i128, paid.0 as i128, penalty.0)?,
            _ => return self.waterfall_event(ev),
        }
        Ok(true)
    }

    /// Loss-waterfall events outside a shutdown; returns whether `ev` was one of these.
    fn waterfall_event(&mut self, ev: &Event) -> Result<bool, AuditError> {
        match *ev {
            Event::Deleveraged {
                account,
                bankrupt,
                market,
                size,
                haircut,
            } => {
                let held = self.book(bankrupt)?.perps.get(&market).map_or(0, |p| p.0);
                let px = self.price(self.markets[market.idx()].base)?;
                let (d, cut) = (size.0 as i128, haircut.0 as i128);
                let n0 = notional(d, px);
                let (q, n) = if held > 0 {
                    (d, n0 + cut)
                } else {
                    (-d, n0 - cut)
                };
                self.trade(Lot::Perp(market), bankrupt, account, q, n)?;
            }
            Event::InsuranceDrawn {
                account, amount, ..
            } => {
                self.pool_of(account)?.insurance -= amount.0 as i128;
                self.book(account)?.quote += amount.0 as i128;
            }
            Event::LossSocialized {
                account, amount, ..
            } => {
                let p = self.pool_of(account)?;
                p.interest -= amount.0 as i128;
                p.socialized += 1;
                self.book(account)?.quote += amount.0 as i128;
            }
            Event::BadDebt {
                account, amount, ..
            } => {
                self.pool_of(account)?.bad_debt += amount.0 as i128;
                self.book(account)?.quote += amount.0 as i128;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn incentive(&mut self, keeper: AccountId, x: i128) -> R {
        self.pool_of(keeper)?.insurance -= x;
        self.book(keeper)?.quote += x;
        Ok(())
    }

    fn auction_taken(&mut self, id: AuctionId, bidder: AccountId, q: i128, n: i128, pen: i64) -> R {
        let (account, lot) = *self.auctions.get(id.idx()).ok_or(AuditError::Mismatch {
            field: Field::Unknown,
            rebuilt: self.auctions.len() as i128,
            state: id.0 as i128,
        })?;
        self.trade(lot, account, bidder, q, n)?;
        self.book(account)?.quote -= pen as i128;
        self.pool_of(account)?.insurance += pen as i128;
        Ok(())
    }

    /// Events inside an emergency shutdown, where the waterfall books differently: the
    /// deficit is credited once (`Bankrupt`), and insurance, socialized loss and bad debt
    /// only say where it came from.
    fn shutdown_event(&mut self, ctx: &mut ShutdownCtx, ev: &Event) -> R {
        match *ev {
            Event::SettlementPrice { asset, price, .. } => {
                ctx.prices.insert(asset, price.raw() as i128);
            }
            Event::PositionSettled {
                account,
                market,
                size,
                pnl,
            } => {
                let px = ctx.prices.get(&self.markets[market.idx()].base).copied();
                let b = self.book(account)?;
                let (held, cost) = b.perps.remove(&market).unwrap_or((0, 0));
                mismatch(Field::PositionSize(account, market), held, size.0 as i128)?;
                let v = div_round(held * px.unwrap_or(0), VALUE_SCALE, Round::Down);
                mismatch(Field::SettledPnl(account, market), cost + v, pnl.0 as i128)?;
                b.quote += pnl.0 as i128;
                ctx.residue += v;
            }
            Event::Skimmed {
                account,
                asset,
                amount,
                debt,
            } => {
                self.credit(account, asset, -(amount.0 as i128))?;
                self.book(account)?.quote += debt.0 as i128;
                *self.pools[ctx.pool.idx()].basket.entry(asset).or_insert(0) += amount.0 as i128;
                ctx.skimmed += debt.0 as i128;
            }
            Event::Bankrupt { account, deficit } => {
                self.book(account)?.quote += deficit.0 as i128;
                ctx.deficits += deficit.0 as i128;
            }
            Event::InsuranceDrawn { amount, .. } => {
                self.pools[ctx.pool.idx()].insurance -= amount.0 as i128;
                ctx.deficits -= amount.0 as i128;
            }
            Event::BadDebt { amount, .. } => {
                self.pools[ctx.pool.idx()].bad_debt += amount.0 as i128
            }
            Event::LossSocialized { .. } | Event::AuctionEnded { .. } => {}
            Event::BasketShare {
                account,
                asset,
                amount,
            } => {
                self.credit(account, asset, amount.0 as i128)?;
                *self.pools[ctx.pool.idx()].basket.entry(asset).or_insert(0) -= amount.0 as i128;
            }
            Event::ClaimFixed {
                account,
                quote,
                haircut,
            } => {
                let b = self.book(account)?;
                b.quote -= haircut.0 as i128;
                mismatch(Field::ClaimQuote(account), b.quote, quote.0 as i128)?;
                ctx.claims += quote.0 as i128 + haircut.0 as i128;
                ctx.haircuts += haircut.0 as i128;
            }
            _ => self.event(ev)?,
        }
        Ok(())
    }

    /// The shutdown's pool-level bookings no single event carries: the rounding residue of
    /// closing every position, the haircut taken from claimants against the debt they are
    /// owed back as basket collateral, and skimmed debt no claimant matched.
    fn finish_shutdown(&mut self, ctx: &ShutdownCtx) {
        let p = &mut self.pools[ctx.pool.idx()];
        let cut = (ctx.skimmed + ctx.deficits).min(ctx.claims);
        p.insurance += -ctx.residue + ctx.haircuts - cut;
        if ctx.skimmed > cut {
            p.bad_debt += ctx.skimmed - cut;
        }
        p.basket.retain(|_, v| *v != 0);
        // every series of the pool is settled: what its clearing account still holds once
        // the payoffs (the shutdown's `OptionSettled` events) are out goes to insurance
        for s in self.series.iter_mut().filter(|s| s.pool == Some(ctx.pool)) {
            p.insurance += s.clearing;
            s.clearing = 0;
        }
    }
}

type R = Result<(), AuditError>;

impl Audit {
    /// Compares every rebuilt balance with the state.
    pub fn compare(&self, st: &State) -> R {
        let counts = [
            (self.accounts.len(), st.accounts.len()),
            (self.pools.len(), st.pools.len()),
            (self.markets.len(), st.markets.len()),
            (self.series.len(), st.series.len()),
            (self.assets.len(), st.assets.len()),
        ];
        for (mine, theirs) in counts {
            mismatch(Field::Count, mine as i128, theirs as i128)?;
        }
        for (i, (b, a)) in self.accounts.iter().zip(&st.accounts).enumerate() {
            let id = AccountId(i as u32);
            mismatch(Field::Quote(id), b.quote, a.quote.amount.0 as i128)?;
            compare_map(
                &b.perps,
                a.positions
                    .iter()
                    .map(|p| (p.market, (p.size.0 as i128, p.quote.0 as i128))),
                |m, cost| {
                    if cost {
                        Field::PositionCost(id, m)
                    } else {
                        Field::PositionSize(id, m)
                    }
                },
            )?;
            compare_map(
                &b.options,
                a.options
                    .iter()
                    .map(|o| (o.series, (o.size.0 as i128, o.premium.0 as i128))),
                |s, p| {
                    if p {
                        Field::OptionPremium(id, s)
                    } else {
                        Field::OptionSize(id, s)
                    }
                },
            )?;
            let coll = a.collateral.iter().map(|(x, v)| (*x, (v.0 as i128, 0)));
            let mine: BTreeMap<AssetId, (i128, i128)> =
                b.collateral.iter().map(|(k, v)| (*k, (*v, 0))).collect();
            compare_map(&mine, coll, |x, _| Field::Collateral(id, x))?;
        }
        self.compare_pools(st)?;
        for (i, (m, s)) in self.markets.iter().zip(&st.markets).enumerate() {
            let id = MarketId(i as u16);
            mismatch(
                Field::FundingClearing(id),
                m.clearing,
                s.funding_clearing.0 as i128,
            )?;
            mismatch(Field::FundingIndex(id), m.index, s.funding_index)?;
        }
        for (i, (x, s)) in self.series.iter().zip(&st.series).enumerate() {
            mismatch(
                Field::OptionClearing(SeriesId(i as u32)),
                x.clearing,
                s.clearing.0 as i128,
            )?;
        }
        for (i, (x, s)) in self.assets.iter().zip(&st.assets).enumerate() {
            mismatch(Field::NetDeposits(AssetId(i as u16)), x.0, s.net_deposits)?;
        }
        self.own_conservation()
    }

    fn compare_pools(&self, st: &State) -> R {
        for (i, (p, s)) in self.pools.iter().zip(&st.pools).enumerate() {
            let id = PoolId(i as u16);
            mismatch(
                Field::Insurance(id),
                p.insurance,
                s.insurance_fund.0 as i128,
            )?;
            mismatch(Field::FeeAccount(id), p.fees, s.fee_account.0 as i128)?;
            mismatch(Field::BadDebt(id), p.bad_debt, s.bad_debt.0 as i128)?;
            mismatch(
                Field::InterestClearing(id),
                p.interest,
                s.lending.interest_clearing.0 as i128,
            )?;
            let basket = s
                .liquidation
                .basket
                .iter()
                .map(|(a, v)| (*a, (v.0 as i128, 0)));
            let mine: BTreeMap<AssetId, (i128, i128)> =
                p.basket.iter().map(|(k, v)| (*k, (*v, 0))).collect();
            compare_map(&mine, basket, |a, _| Field::Basket(id, a))?;
        }
        Ok(())
    }

    /// Σ of every rebuilt holding of an asset equals its rebuilt net deposits.
    fn own_conservation(&self) -> R {
        let mut held = vec![0i128; self.assets.len()];
        for b in &self.accounts {
            let q = self.pools[b.pool.idx()].quote.idx();
            held[q] += b.quote + b.perps.values().map(|p| p.1).sum::<i128>();
            for (a, v) in &b.collateral {
                held[a.idx()] += v;
            }
        }
        for p in &self.pools {
            held[p.quote.idx()] += p.insurance + p.fees + p.interest - p.bad_debt;
            for (a, v) in &p.basket {
                held[a.idx()] += v;
            }
        }
        // markets and series sit in the quote asset of their pool; every pool shares one.
        if let Some(q) = self.pools.first().map(|p| p.quote.idx()) {
            held[q] += self.markets.iter().map(|m| m.clearing).sum::<i128>();
            held[q] += self.series.iter().map(|s| s.clearing).sum::<i128>();
        }
        for (i, (h, a)) in held.iter().zip(&self.assets).enumerate() {
            mismatch(Field::AuditConservation(AssetId(i as u16)), *h, a.0)?;
        }
        Ok(())
    }
}

/// Compares a rebuilt map of `(size, second)` with the state's, naming the first difference.
fn compare_map<K: Ord + Copy>(
    mine: &BTreeMap<K, (i128, i128)>,
    theirs: impl Iterator<Item = (K, (i128, i128))>,
    field: impl Fn(K, bool) -> Field,
) -> R {
    let theirs: BTreeMap<K, (i128, i128)> = theirs.collect();
    for k in mine.keys().chain(theirs.keys()) {
        let a = mine.get(k).copied().unwrap_or((0, 0));
        let b = theirs.get(k).copied().unwrap_or((0, 0));
        mismatch(field(*k, false), a.0, b.0)?;
        mismatch(field(*k, true), a.1, b.1)?;
    }
    Ok(())
}

/// Funding a position would settle now (the engine's rounding: payers up, receivers down);
/// `None` if `size × Δindex` does not fit an i128 (the engine's settlement would wrap).
fn funding_due(p: &Position, index: i128) -> Option<i128> {
    let owed = (p.size.0 as i128).checked_mul(index.checked_sub(p.funding_snapshot)?)?;
    let unit = FUNDING_INDEX_SCALE * VALUE_SCALE;
    Some(if owed > 0 {
        -div_round(owed, unit, Round::Up)
    } else {
        div_round(owed.checked_neg()?, unit, Round::Down)
    })
}

/// Interest a quote balance would settle at the stored indices (rounded against the account:
/// the floor of the signed value, full width as the engine's `quote_now`); `None` when the
/// balance at the index does not fit (the engine cannot settle it either: `Reject::Overflow`).
fn interest_due(q: &QuoteBalance, deposit_index: i128, borrow_index: i128) -> Option<i128> {
    let a = q.amount.0 as i128;
    if a == 0 || q.index == 0 {
        return Some(0);
    }
    let now = if a > 0 { deposit_index } else { borrow_index };
    if now == q.index {
        return Some(0);
    }
    mul_div(a, now, q.index.max(1), Round::Down)
        .ok()?
        .checked_sub(a)
}

impl Audit {
    /// The clearing accounts hold only what they legitimately can (see the module docs).
    pub fn bounds(&self, e: &Engine) -> R {
        let st = e.state();
        let mut fully = vec![Some(0i128); st.markets.len()];
        let mut open = vec![0i128; st.markets.len()];
        let mut owed = vec![Some(0i128); st.pools.len()];
        let mut earned = vec![Some(0i128); st.pools.len()];
        let mut accts = vec![0i128; st.pools.len()];
        for a in &st.accounts {
            for p in &a.positions {
                let m = &st.markets[p.market.idx()];
                // A due that does not fit an i128 cannot be settled: the checked engine refuses
                // every command that would settle it (`Reject::Overflow`, covered by
                // rejection ⇒ unchanged state), so the market's bound is not checked.
                let i = p.market.idx();
                fully[i] = fully[i].and_then(|f| {
                    let due = funding_due(p, m.funding_index)?;
                    f.checked_sub(due)
                });
                open[i] += 1;
            }
            let l = &st.pools[a.pool.idx()].lending;
            // a balance whose settlement does not fit leaves its pool's bound unchecked
            let i = a.pool.idx();
            match interest_due(&a.quote, l.deposit_index, l.borrow_index) {
                Some(d) if a.quote.amount.0 < 0 => owed[i] = owed[i].and_then(|o| o.checked_sub(d)),
                Some(d) => earned[i] = earned[i].and_then(|e| e.checked_add(d)),
                None => owed[i] = None,
            }
            accts[a.pool.idx()] += 1;
        }
        for (i, m) in st.markets.iter().enumerate() {
            let Some(v) = fully[i].and_then(|f| f.checked_add(m.funding_clearing.0 as i128)) else {
                continue;
            };
            let high = self.markets[i].settlements + open[i] + 1;
            bound(Clearing::Funding(MarketId(i as u16)), v, 0, high)?;
        }
        for (i, p) in st.pools.iter().enumerate() {
            let l = &p.lending;
            let idx = l.deposit_index.abs().max(l.borrow_index.abs()) / INDEX_SCALE + 1;
            let totals = (l
                .deposits_scaled
                .abs()
                .saturating_add(l.borrows_scaled.abs()))
            .saturating_mul(idx);
            let slack =
                4 * (accts[i] + 1) + totals / 1_000_000_000 + 2 * self.pools[i].socialized as i128;
            let (Some(owed), Some(earned)) = (owed[i], earned[i]) else {
                continue;
            };
            let reserve = (l.interest_clearing.0 as i128)
                .saturating_add(owed)
                .saturating_sub(earned);
            let high = self.pools[i]
                .borrower_paid
                .saturating_add(owed)
                .saturating_add(slack);
            bound(Clearing::Interest(PoolId(i as u16)), reserve, -slack, high)?;
        }
        self.option_bounds(st)
    }

    fn option_bounds(&self, st: &State) -> R {
        let mut open = vec![false; st.series.len()];
        for a in &st.accounts {
            for o in &a.options {
                open[o.series.idx()] = true;
            }
        }
        for (i, s) in st.series.iter().enumerate() {
            if s.settlement.is_none() || open[i] {
                continue;
            }
            let x = &self.series[i];
            let eps = 1 + x.paid / 1_000_000_000_000_000;
            let v = s.clearing.0 as i128;
            bound(
                Clearing::Option(SeriesId(i as u32)),
                v,
                -eps,
                x.settlements + eps,
            )?;
        }
        Ok(())
    }
}
