//! The command generator: every command type, aimed at the current state (accounts of the
//! right pool, fills sized from the accounts' margin, liquidations of accounts below
//! maintenance, takes of running auctions, settlements of expired series), with a share of
//! deliberately wrong inputs (unknown ids, self-trades, both sides one account, boundary
//! amounts, non-finite prices, guardian calling governor commands).

use crate::draw::Draw;
use crate::world;
use ballast_engine::command::{Command, Envelope, Scope, SourceQuote};
use ballast_engine::demo;
use ballast_engine::ids::{
    AccountId, AssetId, AuctionId, MarketId, OwnerId, PoolId, ProposalId, SeriesId,
};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::option_margin::OptionMarginField;
use ballast_engine::params::{CollateralField, LiquidationField, MarketField, ParamKey, PoolField};
use ballast_engine::portfolio::PortfolioField;
use ballast_engine::settings::{BreakerField, OracleField, VolMarginField};
use ballast_engine::state::{AuctionState, MarginMode, State};
use ballast_engine::{Engine, HealthKind, Role};
use ballast_options::pricing::OptionKind;
use ballast_oracle::aggregate::OracleStatus;
use ballast_oracle::breaker::{BreakerConfig, Mode};
use ballast_oracle::validity::Action;

/// A generated command and whether it has a JSON form (NaN and ∞ do not).
pub struct Generated {
    pub env: Envelope,
    pub representable: bool,
}

/// What the generator looks at: the engine and the accounts below maintenance now.
pub struct View<'a> {
    pub engine: &'a Engine,
    pub below: &'a [AccountId],
    /// Share of the case already run (raises the odds of a shutdown at the end).
    pub progress: f64,
}

impl View<'_> {
    fn st(&self) -> &State {
        self.engine.state()
    }
}

/// Command families and their weights.
const WEIGHTS: [u32; 9] = [
    /* balances */ 16, /* fills */ 30, /* prices */ 16, /* funding */ 4,
    /* liquidation */ 12, /* options */ 10, /* governance */ 5,
    /* oracle/breakers */ 4, /* admin */ 3,
];

/// The next command.
pub fn next(d: &mut Draw, v: &View) -> Generated {
    let now = v.st().time.0;
    let time = Timestamp(d.next_time(now.max(world::T0)));
    let mut representable = true;
    let st = v.st();
    if (st.markets.len() < 2 || st.accounts.len() < 4) && d.chance(0.7) {
        // a world under construction (raw mode): list, open, fund
        let cmd = match d.below(4) {
            0 | 1 => listing(d, v),
            2 => Command::OpenAccount {
                owner: OwnerId(d.below(4) as u32),
                pool: PoolId(d.below(2) as u16),
            },
            _ => {
                let asset = asset(d, v);
                let x = d.amount();
                let x = if d.extreme() {
                    x
                } else {
                    bounded_notional(v, asset, x)
                };
                Command::Deposit {
                    account: account(d, v),
                    asset,
                    amount: Amount(x),
                }
            }
        };
        return Generated {
            env: Envelope {
                by: None,
                time,
                cmd,
            },
            representable,
        };
    }
    let cmd = match d.weighted(&WEIGHTS) {
        0 => balance(d, v),
        1 => fill(d, v, &mut representable),
        2 => price(d, v, &mut representable),
        3 => Command::SettleFunding {
            market: market(d, v),
        },
        4 => liquidation(d, v),
        5 => option(d, v),
        6 => governance(d, v),
        7 => oracle(d, v),
        _ => admin(d, v),
    };
    Generated {
        env: Envelope {
            by: None,
            time,
            cmd,
        },
        representable,
    }
}

/// Any account id, one past the end now and then.
fn account(d: &mut Draw, v: &View) -> AccountId {
    let n = v.st().accounts.len();
    let extra = usize::from(d.chance(0.03));
    AccountId(d.below(n + extra) as u32)
}

/// An account of `pool` (falls back to any account).
fn account_in(d: &mut Draw, v: &View, pool: PoolId) -> AccountId {
    let ids: Vec<usize> = (0..v.st().accounts.len())
        .filter(|&i| v.st().accounts[i].pool == pool)
        .collect();
    if ids.is_empty() || d.chance(0.02) {
        return account(d, v);
    }
    AccountId(ids[d.below(ids.len())] as u32)
}

/// An account of `pool` other than `not` (a few tries).
fn other_in(d: &mut Draw, v: &View, pool: PoolId, not: AccountId) -> AccountId {
    let mut a = account_in(d, v, pool);
    for _ in 0..4 {
        if a != not {
            break;
        }
        a = account_in(d, v, pool);
    }
    a
}

/// A well-funded keeper of `pool` (account 1 of pool 0, the second account of pool 1).
fn keeper(d: &mut Draw, pool: PoolId) -> AccountId {
    let base = if pool == demo::POOL {
        0
    } else {
        world::POOL0_ACCOUNTS
    };
    AccountId(base + d.below(2) as u32)
}

fn market(d: &mut Draw, v: &View) -> MarketId {
    let extra = usize::from(d.chance(0.03));
    MarketId(d.below(v.st().markets.len() + extra) as u16)
}

fn asset(d: &mut Draw, v: &View) -> AssetId {
    let extra = usize::from(d.chance(0.03));
    AssetId(d.below(v.st().assets.len() + extra) as u16)
}

/// Human price of an asset (1 without a price).
fn human(v: &View, a: AssetId) -> f64 {
    let st = v.st();
    let q = st.numeraire.map_or(6, |n| st.assets[n.idx()].decimals);
    st.assets
        .get(a.idx())
        .and_then(|x| x.price.map(|p| p.to_human(x.decimals, q)))
        .unwrap_or(1.0)
}

fn balance(d: &mut Draw, v: &View) -> Command {
    let account = account(d, v);
    let pool = v
        .st()
        .accounts
        .get(account.idx())
        .map_or(demo::POOL, |a| a.pool);
    let asset = if d.chance(0.6) {
        demo::USDC
    } else {
        asset(d, v)
    };
    let amount = Amount(held_fraction(d, v, account, asset));
    match d.weighted(&[5, 4, 3, 3]) {
        0 => {
            let x = d.amount();
            // collateral value enters health through `× weight`: keep it in range when bounded
            let x = if d.extreme() {
                x
            } else {
                bounded_notional(v, asset, x)
            };
            Command::Deposit {
                account,
                asset,
                amount: Amount(x),
            }
        }
        1 => Command::Withdraw {
            account,
            asset,
            amount,
        },
        2 => Command::Borrow {
            account,
            amount: Amount(d.amount().min(amount.0.max(1).saturating_mul(4))),
        },
        _ => {
            let to = if d.chance(0.2) {
                account_in(d, v, pool)
            } else {
                AccountId(account.0 ^ 1)
            };
            Command::Transfer {
                from: account,
                to,
                asset,
                amount,
            }
        }
    }
}

/// Mostly a fraction of what the account holds of `asset`, sometimes a random amount.
fn held_fraction(d: &mut Draw, v: &View, a: AccountId, asset: AssetId) -> i64 {
    let Some(acct) = v.st().accounts.get(a.idx()) else {
        return d.amount();
    };
    let quote = v.st().pools[acct.pool.idx()].quote;
    let have = if asset == quote {
        acct.quote.amount.0
    } else {
        acct.collateral_amount(asset).0
    };
    if have <= 0 || d.chance(0.2) {
        return d.amount();
    }
    ((have as f64) * d.uniform(0.0, 1.05)) as i64
}

/// Size that uses about `k` of the smaller of the two accounts' initial-margin room.
fn margin_size(v: &View, m: MarketId, t: AccountId, k: AccountId, f: f64) -> i64 {
    let st = v.st();
    let base = st.markets[m.idx()].base;
    let Some(px) = st.assets[base.idx()].price else {
        return 1;
    };
    let room = |a| {
        v.engine
            .health(a, HealthKind::Initial)
            .map_or(0, |h| h.0.max(0))
    };
    let h = room(t).min(room(k)) as f64;
    let rate = st.markets[m.idx()].params.init_margin.0 as f64 / 1e9;
    ((h / (px.raw() as f64 * rate.max(0.01))) * f).clamp(1.0, 9e18) as i64
}

fn fill(d: &mut Draw, v: &View, representable: &mut bool) -> Command {
    let (m, pool) = if d.chance(0.97) {
        world::markets()[d.below(5)]
    } else {
        (market(d, v), demo::POOL)
    };
    let taker = account_in(d, v, pool);
    let maker = match d.below(40) {
        0 => taker, // both sides one account
        1 => AccountId(taker.0 ^ 1),
        _ => other_in(d, v, pool, taker),
    };
    let size = match d.weighted(&[6, 3, 2]) {
        0 if m.idx() < v.st().markets.len() => {
            let s = margin_size(v, m, taker, maker, d.log_f64(-2.0, 0.2));
            if d.chance(0.5) {
                s
            } else {
                -s
            }
        }
        1 => close_size(d, v, taker, m),
        _ => d.size(),
    };
    let base = v.st().markets.get(m.idx()).map_or(demo::BTC, |x| x.base);
    let size = if d.extreme() {
        size
    } else {
        bounded_notional(v, base, size)
    };
    let price = human(v, base) * d.uniform(0.975, 1.025);
    let price = if d.extreme() && d.chance(0.05) {
        price * d.price_factor()
    } else {
        price
    };
    *representable = price.is_finite();
    Command::Fill {
        market: m,
        taker,
        maker,
        size: Amount(size),
        price,
    }
}

/// Caps `|size × price|` at 10^26 raw value units (10^14 quote-native units): far beyond
/// any real book, yet inside the fixed-point ranges a correct engine handles.
/// An asset without a price yet is capped as if priced at the top of the range (its price
/// may come later); the quote asset is not capped.
fn bounded_notional(v: &View, base: AssetId, size: i64) -> i64 {
    if v.st().numeraire == Some(base) {
        return size;
    }
    let px = v
        .st()
        .assets
        .get(base.idx())
        .and_then(|a| a.price)
        .map_or(i64::MAX, |p| p.raw().max(1));
    let cap =
        (100_000_000_000_000_000_000_000_000i128 / px as i128).clamp(1, i64::MAX as i128) as i64;
    size.clamp(-cap, cap)
}

/// Closes (part of) the taker's position, or flips it.
fn close_size(d: &mut Draw, v: &View, a: AccountId, m: MarketId) -> i64 {
    let held = v
        .st()
        .accounts
        .get(a.idx())
        .and_then(|x| x.position(m))
        .map_or(0, |p| p.size.0);
    if held == 0 {
        return d.size();
    }
    let f = [1.0, 0.5, 2.0][d.below(3)];
    (-(held as f64) * f) as i64
}

fn price(d: &mut Draw, v: &View, representable: &mut bool) -> Command {
    let n = v.st().assets.len();
    let asset = if d.chance(0.95) && n > 1 {
        AssetId(1 + d.below(n - 1) as u16)
    } else {
        asset(d, v)
    };
    let mut price = human(v, asset) * d.price_factor();
    if !d.extreme() && asset == world::ZERO_DEC {
        price = price.clamp(0.005, 0.5);
    }
    *representable = price.is_finite();
    Command::SetPrice { asset, price }
}

fn liquidation(d: &mut Draw, v: &View) -> Command {
    let target = if !v.below.is_empty() && d.chance(0.85) {
        v.below[d.below(v.below.len())]
    } else {
        account(d, v)
    };
    let pool = v
        .st()
        .accounts
        .get(target.idx())
        .map_or(demo::POOL, |a| a.pool);
    let liquidator = if d.chance(0.9) {
        keeper(d, pool)
    } else {
        account(d, v)
    };
    if pool == world::AUCTION_POOL && d.chance(0.8) {
        return auction(d, v, target, liquidator);
    }
    let market = if d.chance(0.3) {
        Some(market(d, v))
    } else {
        None
    };
    let max_size = if d.chance(0.3) {
        Some(Amount(d.amount()))
    } else {
        None
    };
    Command::Liquidate {
        liquidator,
        account: target,
        market,
        max_size,
    }
}

fn auction(d: &mut Draw, v: &View, target: AccountId, keeper: AccountId) -> Command {
    let active: Vec<usize> = (0..v.st().auctions.len())
        .filter(|&i| v.st().auctions[i].state == AuctionState::Active)
        .collect();
    if active.is_empty() || d.chance(0.2) {
        return Command::StartAuction {
            account: target,
            keeper,
        };
    }
    let i = active[d.below(active.len())];
    let a = &v.st().auctions[i];
    let auction = AuctionId(i as u32);
    if d.chance(0.35) {
        return Command::RedoAuction { auction, keeper };
    }
    let max_amount = Amount(if d.chance(0.7) {
        a.size.0.unsigned_abs() as i64
    } else {
        d.amount()
    });
    let price_limit = if a.size.0 > 0 { 1e12 } else { 1e-9 };
    Command::TakeAuction {
        auction,
        bidder: keeper,
        max_amount,
        price_limit,
    }
}

fn option(d: &mut Draw, v: &View) -> Command {
    let n = v.st().series.len();
    let extra = usize::from(d.chance(0.03));
    let now = v.st().time;
    let live: Vec<usize> = (0..n).filter(|&i| v.st().series[i].expiry > now).collect();
    let series = if !live.is_empty() && d.chance(0.85) {
        SeriesId(live[d.below(live.len())] as u32)
    } else {
        SeriesId(d.below(n + extra) as u32)
    };
    let create = if live.len() < 3 { 6 } else { 1 };
    match d.weighted(&[8, 3, 4, create, 1, 1]) {
        0 => option_fill(d, v, series),
        1 => Command::ExpireSeries { series },
        2 => Command::SettleOptions {
            account: option_holder(d, v),
        },
        3 => {
            let underlying = [demo::BTC, demo::ETH, world::TWELVE_DEC][d.below(3)];
            let strike = human(v, underlying) * d.uniform(0.7, 1.3);
            let expiry = Timestamp(v.st().time.0.saturating_add(d.uniform(6e5, 2e8) as i64));
            let pool = [demo::POOL, world::AUCTION_POOL][d.below(2)];
            let kind = [OptionKind::Call, OptionKind::Put][d.below(2)];
            Command::CreateOptionSeries {
                role: Role::Governor,
                pool,
                underlying,
                kind,
                strike,
                expiry,
            }
        }
        4 => Command::SetVolSurface {
            asset: asset(d, v),
            surface: world::flat(d.uniform(0.05, 3.0)),
        },
        _ => Command::SetMarginMode {
            account: account(d, v),
            mode: [MarginMode::Standard, MarginMode::Portfolio][d.below(2)],
        },
    }
}

fn option_fill(d: &mut Draw, v: &View, series: SeriesId) -> Command {
    let s = v.st().series.get(series.idx());
    let pool = s.map_or(demo::POOL, |s| s.pool);
    let taker = account_in(d, v, pool);
    let maker = if d.chance(0.03) {
        taker
    } else {
        other_in(d, v, pool, taker)
    };
    let under = s.map_or(demo::BTC, |s| s.underlying);
    let dec = v.st().assets.get(under.idx()).map_or(8, |a| a.decimals) as f64;
    let size = if d.extreme() && d.chance(0.3) {
        d.size()
    } else {
        let s =
            (d.log_f64(-3.0, if d.extreme() { 4.0 } else { 0.7 }) * libm::pow(10.0, dec)) as i64;
        if d.chance(0.5) {
            s.max(1)
        } else {
            -s.max(1)
        }
    };
    let premium = human(v, under) * d.log_f64(-3.0, -0.7);
    Command::OptionFill {
        series,
        taker,
        maker,
        size: Amount(size),
        premium,
    }
}

/// An account holding options, preferring settled series.
fn option_holder(d: &mut Draw, v: &View) -> AccountId {
    let st = v.st();
    let holders: Vec<usize> = (0..st.accounts.len())
        .filter(|&i| {
            st.accounts[i]
                .options
                .iter()
                .any(|o| st.series[o.series.idx()].settlement.is_some())
        })
        .collect();
    if holders.is_empty() || d.chance(0.1) {
        return account(d, v);
    }
    AccountId(holders[d.below(holders.len())] as u32)
}

/// A governed parameter key of a random object.
fn param_key(d: &mut Draw, v: &View) -> ParamKey {
    let pool = PoolId(d.below(v.st().pools.len().max(1)) as u16);
    match d.below(6) {
        4 => protective_key(d, v, pool),
        0 => {
            let f = [
                MarketField::InitMargin,
                MarketField::MaintMargin,
                MarketField::Imf,
                MarketField::TakerFee,
                MarketField::MakerFee,
                MarketField::PriceBand,
                MarketField::FundingCap,
            ];
            ParamKey::Market {
                market: market(d, v),
                field: f[d.below(f.len())],
            }
        }
        1 => {
            let f = [
                PoolField::BaseRate,
                PoolField::Slope1,
                PoolField::Slope2,
                PoolField::OptimalUtilization,
                PoolField::ReserveFactor,
                PoolField::SupplyCap,
                PoolField::BorrowCap,
            ];
            ParamKey::Pool {
                pool,
                field: f[d.below(f.len())],
            }
        }
        2 => {
            let f = [CollateralField::InitWeight, CollateralField::MaintWeight];
            ParamKey::Collateral {
                pool,
                asset: asset(d, v),
                field: f[d.below(2)],
            }
        }
        _ => {
            let f = [
                LiquidationField::Penalty,
                LiquidationField::PenaltyMax,
                LiquidationField::LiquidatorShare,
                LiquidationField::CloseFactor,
                LiquidationField::Dust,
                LiquidationField::InsuranceFeeShare,
                LiquidationField::AuctionTauMs,
                LiquidationField::AuctionTip,
            ];
            ParamKey::Liquidation {
                pool,
                field: f[d.below(f.len())],
            }
        }
    }
}

/// A key of a breaker, oracle or volatility-margin setting.
fn protective_key(d: &mut Draw, v: &View, pool: PoolId) -> ParamKey {
    let b = [
        BreakerField::CautiousSigma,
        BreakerField::HaltSigma,
        BreakerField::CooldownMs,
        BreakerField::GraceMs,
        BreakerField::HaltedMarginMultiplier,
    ];
    let o = [
        OracleField::Quorum,
        OracleField::MaxStalenessMs,
        OracleField::OutlierTolerance,
        OracleField::MaxOutlierWeight,
        OracleField::MaxSpread,
        OracleField::MaxHoldMs,
    ];
    let vm = [
        VolMarginField::K,
        VolMarginField::Horizon,
        VolMarginField::MaxStep,
    ];
    let pf = [
        PortfolioField::SpotRange,
        PortfolioField::InitialFactor,
        PortfolioField::VolRangeUp,
        PortfolioField::Correlation {
            a: asset(d, v),
            b: asset(d, v),
        },
    ];
    match d.below(8) {
        7 => governed_constant_key(d, pool),
        6 => ParamKey::Validity {
            action: Action::ALL[d.below(Action::ALL.len())],
            status: OracleStatus::ALL[d.below(OracleStatus::ALL.len())],
        },
        5 => ParamKey::Portfolio {
            pool,
            field: pf[d.below(pf.len())],
        },
        4 => ParamKey::AuctionBreaker { pool },
        0 => ParamKey::MarketBreaker {
            market: market(d, v),
            field: b[d.below(b.len())],
        },
        1 => ParamKey::PoolBreaker {
            pool,
            field: b[d.below(b.len())],
        },
        2 => ParamKey::Oracle {
            asset: asset(d, v),
            field: o[d.below(o.len())],
        },
        _ => ParamKey::VolMargin {
            market: market(d, v),
            field: vm[d.below(vm.len())],
        },
    }
}

/// A pool's option-margin constant.
fn governed_constant_key(d: &mut Draw, pool: PoolId) -> ParamKey {
    ParamKey::OptionMargin {
        pool,
        field: OptionMarginField::ALL[d.below(OptionMarginField::ALL.len())],
    }
}

/// The current value of a governed parameter, if its object exists.
fn current(v: &View, key: &ParamKey) -> Option<i64> {
    let st = v.st();
    Some(match *key {
        ParamKey::Market { market, field } => st.markets.get(market.idx())?.params.get(field),
        ParamKey::Pool { pool, field } => st.pools.get(pool.idx())?.params.get(field),
        ParamKey::Collateral { pool, asset, field } => {
            let p = st.pools.get(pool.idx())?;
            p.collateral.iter().find(|c| c.asset == asset)?.get(field)
        }
        ParamKey::Liquidation { pool, field } => {
            st.pools.get(pool.idx())?.liquidation.params.get(field)
        }
        ParamKey::MarketBreaker { market, field } => {
            field.get(st.markets.get(market.idx())?.breaker.as_ref()?.config())
        }
        ParamKey::PoolBreaker { pool, field } => {
            field.get(st.pools.get(pool.idx())?.breaker.as_ref()?.config())
        }
        ParamKey::Oracle { asset, field } => field.get(
            st.assets
                .get(asset.idx())?
                .oracle
                .as_ref()?
                .aggregator
                .config(),
        ),
        ParamKey::VolMargin { market, field } => {
            field.get(&st.markets.get(market.idx())?.vol_margin.as_ref()?.config)
        }
        ParamKey::AuctionBreaker { pool } => st.pools.get(pool.idx())?.liquidation.breaker as i64,
        ParamKey::Portfolio { pool, field } => st.pools.get(pool.idx())?.portfolio.get(field),
        ParamKey::OptionMargin { pool, field } => {
            st.pools.get(pool.idx())?.option_margin.get(field)
        }
        ParamKey::Validity { action, status } => st.validity.rule(action, status).raw(),
    })
}

fn governance(d: &mut Draw, v: &View) -> Command {
    let role = if d.chance(0.95) {
        Role::Governor
    } else {
        Role::Guardian
    };
    let n = v.st().proposals.len();
    let proposal = ProposalId(d.below(n + 1) as u32);
    match d.weighted(&[5, 4, 1]) {
        0 => {
            let key = param_key(d, v);
            let spec = key.spec();
            let base = current(v, &key).unwrap_or(if d.chance(0.5) { spec.min } else { spec.max });
            let span = spec.allowed_step(base).max(1) as f64;
            let value = if d.extreme() && d.chance(0.1) {
                d.special_i64()
            } else {
                base.saturating_add((d.uniform(-1.0, 1.0) * span) as i64)
                    .clamp(spec.min, spec.max)
            };
            Command::Propose { role, key, value }
        }
        1 => Command::Execute { role, proposal },
        _ => Command::Cancel { role, proposal },
    }
}

fn scope(d: &mut Draw, v: &View) -> Scope {
    match d.below(3) {
        0 => Scope::Global,
        1 => Scope::Pool(PoolId(d.below(v.st().pools.len() + 1) as u16)),
        _ => Scope::Market(market(d, v)),
    }
}

/// A scope that is paused now (else any scope).
fn paused_scope(d: &mut Draw, v: &View) -> Scope {
    let st = v.st();
    if st.paused {
        return Scope::Global;
    }
    if let Some(p) = st.pools.iter().position(|p| p.paused) {
        return Scope::Pool(PoolId(p as u16));
    }
    if let Some(m) = st.markets.iter().position(|m| m.paused) {
        return Scope::Market(MarketId(m as u16));
    }
    scope(d, v)
}

fn oracle(d: &mut Draw, v: &View) -> Command {
    let role = if d.chance(0.9) {
        Role::Governor
    } else {
        Role::Guardian
    };
    match d.weighted(&[1, 8, 1, 2, 1, 1]) {
        0 => Command::ConfigureOracle {
            role,
            asset: if d.chance(0.9) {
                world::TWELVE_DEC
            } else {
                AssetId(2 + d.below(3) as u16)
            },
            sources: (0..3)
                .map(|i| ballast_oracle::aggregate::SourceSpec {
                    id: ballast_oracle::aggregate::SourceId(i),
                    weight: 1.0,
                })
                .collect(),
            config: Default::default(),
            stable: Default::default(),
        },
        1 => {
            let with: Vec<usize> = (0..v.st().assets.len())
                .filter(|&i| v.st().assets[i].oracle.is_some())
                .collect();
            let asset = if with.is_empty() || d.chance(0.1) {
                asset(d, v)
            } else {
                AssetId(with[d.below(with.len())] as u16)
            };
            let p = human(v, asset) * d.price_factor().max(0.0);
            let quotes = (0..3)
                .map(|i| SourceQuote {
                    source: i,
                    price: p * d.uniform(0.999, 1.001),
                    confidence: p * 1e-4,
                })
                .collect();
            Command::OracleUpdate { asset, quotes }
        }
        2 => Command::ConfigureBreaker {
            role,
            scope: scope(d, v),
            config: BreakerConfig::default(),
        },
        3 => Command::ChainStatus {
            halted: d.chance(0.2),
            congestion: d.uniform(0.0, 1.0),
        },
        4 => {
            let mode = [Mode::Normal, Mode::Cautious, Mode::Halted, Mode::Recovering][d.below(4)];
            Command::GovernBreaker {
                role,
                scope: scope(d, v),
                mode,
            }
        }
        _ => Command::ConfigureVolMargin {
            role,
            market: market(d, v),
            config: ballast_engine::volmargin::VolMarginConfig {
                model: ballast_engine::volmargin::VolModel::Ewma { lambda: 0.94 },
                interval_ms: 3_600_000,
                k: 3.0,
                horizon: 1.0,
                max_step: 0.01,
            },
        },
    }
}

fn admin(d: &mut Draw, v: &View) -> Command {
    let shut = if v.progress > 0.9 { 6 } else { 0 };
    let claim = if v
        .st()
        .pools
        .iter()
        .any(|p| p.liquidation.shutdown.is_some())
    {
        30
    } else {
        1
    };
    match d.weighted(&[1, 3, 2, 1, shut, claim, 1]) {
        0 => Command::Pause {
            role: if d.chance(0.5) {
                Role::Guardian
            } else {
                Role::Governor
            },
            scope: scope(d, v),
        },
        1 => Command::Unpause {
            role: Role::Governor,
            scope: paused_scope(d, v),
        },
        2 => Command::OpenAccount {
            owner: OwnerId(d.below(12) as u32),
            pool: PoolId(d.below(3) as u16),
        },
        3 => {
            let level = if d.chance(0.6) { 0 } else { d.below(5) as u8 };
            Command::SetAuctionBreaker {
                role: Role::Governor,
                pool: world::AUCTION_POOL,
                level,
            }
        }
        4 => Command::Shutdown {
            role: Role::Governor,
            pool: PoolId(d.below(2) as u16),
        },
        5 => claim_cmd(d, v),
        _ => listing(d, v),
    }
}

/// A claim of (part of) an account's settlement claim.
fn claim_cmd(d: &mut Draw, v: &View) -> Command {
    let account = account(d, v);
    let acct = v.st().accounts.get(account.idx());
    let coll = acct.and_then(|a| a.collateral.first().copied());
    let (asset, have) = match (coll, d.chance(0.6)) {
        (Some((a, x)), false) => (a, x.0),
        _ => (demo::USDC, acct.map_or(1, |a| a.quote.amount.0)),
    };
    let amount = if d.chance(0.8) {
        have.max(1)
    } else {
        d.amount()
    };
    Command::Claim {
        account,
        asset,
        amount: Amount(amount),
    }
}

/// Listing commands with boundary inputs: decimals 0–18, long symbols, markets on new assets.
fn listing(d: &mut Draw, v: &View) -> Command {
    let g = Role::Governor;
    match d.below(5) {
        3 => Command::CreatePool {
            role: g,
            name: "P".into(),
            quote: asset(d, v),
            params: demo::pool_params(),
        },
        4 => Command::SetPrice {
            asset: asset(d, v),
            price: d.log_f64(-6.0, 6.0),
        },
        0 => Command::CreateAsset {
            role: g,
            symbol: "X".repeat(1 + d.below(64)),
            decimals: d.below(19) as u8,
        },
        1 => Command::CreateMarket {
            role: g,
            symbol: "NEW-PERP".into(),
            pool: PoolId(d.below(2) as u16),
            base: asset(d, v),
            params: demo::market_params(),
        },
        _ => Command::AddCollateral {
            role: g,
            pool: PoolId(d.below(2) as u16),
            asset: asset(d, v),
            init_weight: ballast_engine::num::Ratio(d.below(1_000_000_001) as i64),
            maint_weight: ballast_engine::num::Ratio(d.below(1_000_000_001) as i64),
        },
    }
}
