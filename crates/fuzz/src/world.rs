//! A small valid world to mutate, so commands reach deep paths instead of early rejections:
//! the demo genesis (USDC, BTC, ETH, a keeper-takeover pool with BTC and ETH perps), a
//! 0-decimal and a 12-decimal asset with a perp, a second pool that liquidates by Dutch
//! auction, volatility surfaces and option series that expire within the case, funded
//! lenders, keepers and traders (account `2k` and `2k+1` share an owner, and pool-1 accounts
//! share owners with pool-0 ones so cross-pool transfers are possible).

use crate::draw::Draw;
use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo;
use ballast_engine::ids::{AccountId, AssetId, MarketId, OwnerId, PoolId};
use ballast_engine::num::{Amount, Ratio, Timestamp};
use ballast_engine::params::{LiquidationParams, Mechanism};
use ballast_engine::Role;
use ballast_options::portfolio::SurfaceSpec;
use ballast_options::pricing::OptionKind;

/// Genesis time: a realistic epoch in milliseconds.
pub const T0: i64 = 1_700_000_000_000;
pub const ZERO_DEC: AssetId = AssetId(3);
pub const TWELVE_DEC: AssetId = AssetId(4);
pub const AUCTION_POOL: PoolId = PoolId(1);
/// Accounts per pool; the first two of each pool are a lender and a keeper.
pub const POOL0_ACCOUNTS: u32 = 10;
pub const POOL1_ACCOUNTS: u32 = 6;

fn r(x: f64) -> Ratio {
    Ratio::from_f64(x).expect("finite")
}

fn at(t: i64, cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    }
}

/// A flat implied-volatility surface.
pub fn flat(vol: f64) -> SurfaceSpec {
    SurfaceSpec::Grid {
        expiries: vec![0.0001, 5.0],
        log_moneyness: vec![-3.0, 3.0],
        vols: vec![vec![vol, vol], vec![vol, vol]],
    }
}

/// Listing: genesis, extra assets and markets, the auction pool, surfaces and series.
fn listing(d: &mut Draw, hot: bool) -> Vec<Envelope> {
    let g = Role::Governor;
    let mut v = demo::genesis(T0);
    let liq = LiquidationParams {
        insurance_fee_share: r(0.5),
        ..LiquidationParams::default()
    };
    v.push(at(
        T0,
        Command::ConfigureLiquidation {
            role: g,
            pool: demo::POOL,
            params: liq,
        },
    ));
    // At $9 a 0-decimal token's raw price is 9e18, next to i64::MAX: the extreme profile
    // lists it there, the bounded one at 5 cents.
    let zero_px = if d.extreme() { 9.0 } else { 0.05 };
    for (sym, dec, px) in [("ZERO", 0u8, zero_px), ("PICO", 12, 0.5)] {
        v.push(at(
            T0,
            Command::CreateAsset {
                role: g,
                symbol: sym.into(),
                decimals: dec,
            },
        ));
        let asset = if dec == 0 { ZERO_DEC } else { TWELVE_DEC };
        v.push(at(T0, Command::SetPrice { asset, price: px }));
    }
    v.push(at(
        T0,
        Command::AddCollateral {
            role: g,
            pool: demo::POOL,
            asset: TWELVE_DEC,
            init_weight: r(0.5),
            maint_weight: r(0.6),
        },
    ));
    for (sym, base) in [("ZERO-PERP", ZERO_DEC), ("PICO-PERP", TWELVE_DEC)] {
        v.push(at(
            T0,
            Command::CreateMarket {
                role: g,
                symbol: sym.into(),
                pool: demo::POOL,
                base,
                params: demo::market_params(),
            },
        ));
    }
    v.extend(auction_pool(hot));
    v.extend(options(d));
    v
}

/// Pool 1: liquidated by Dutch auction, BTC collateral, one BTC perp (a steep curve if hot).
fn auction_pool(hot: bool) -> Vec<Envelope> {
    let g = Role::Governor;
    let mut v = Vec::new();
    let mut params = demo::pool_params();
    if hot {
        // steep curve: a borrower at its initial limit crosses maintenance by interest alone
        // within days
        params.curve.base = r(0.2);
        params.curve.slope1 = r(0.5);
        params.curve.slope2 = r(5.0);
        params.curve.optimal_utilization = r(0.5);
    }
    v.push(at(
        T0,
        Command::CreatePool {
            role: g,
            name: "auction".into(),
            quote: demo::USDC,
            params,
        },
    ));
    let auction = LiquidationParams {
        mechanism: Mechanism::DutchAuction,
        insurance_fee_share: r(0.5),
        auction_tip: 1_000_000,
        ..LiquidationParams::default()
    };
    v.push(at(
        T0,
        Command::ConfigureLiquidation {
            role: g,
            pool: AUCTION_POOL,
            params: auction,
        },
    ));
    v.push(at(
        T0,
        Command::AddCollateral {
            role: g,
            pool: AUCTION_POOL,
            asset: demo::BTC,
            init_weight: r(0.8),
            maint_weight: r(0.9),
        },
    ));
    v.push(at(
        T0,
        Command::CreateMarket {
            role: g,
            symbol: "BTC-PERP-A".into(),
            pool: AUCTION_POOL,
            base: demo::BTC,
            params: demo::market_params(),
        },
    ));
    v
}

/// Volatility surfaces and a few series expiring within the first hours of the case.
fn options(d: &mut Draw) -> Vec<Envelope> {
    let g = Role::Governor;
    let mut v = Vec::new();
    for asset in [demo::BTC, demo::ETH] {
        let surface = flat(d.uniform(0.3, 1.2));
        v.push(at(T0, Command::SetVolSurface { asset, surface }));
    }
    let series = [
        (demo::POOL, demo::BTC, OptionKind::Call, 66_000.0),
        (demo::POOL, demo::BTC, OptionKind::Call, 70_000.0),
        (demo::POOL, demo::BTC, OptionKind::Put, 64_000.0),
        (demo::POOL, demo::ETH, OptionKind::Call, 3_000.0),
        (AUCTION_POOL, demo::BTC, OptionKind::Put, 65_000.0),
    ];
    for (pool, underlying, kind, strike) in series {
        let expiry = Timestamp(T0 + d.uniform(6e5, 1.5e7) as i64);
        v.push(at(
            T0,
            Command::CreateOptionSeries {
                role: g,
                pool,
                underlying,
                kind,
                strike,
                expiry,
            },
        ));
    }
    v
}

/// Accounts and their first balances.
fn accounts(d: &mut Draw, hot: bool) -> Vec<Envelope> {
    let mut v = Vec::new();
    for i in 0..POOL0_ACCOUNTS {
        v.push(at(
            T0,
            Command::OpenAccount {
                owner: OwnerId(i / 2),
                pool: demo::POOL,
            },
        ));
    }
    for i in 0..POOL1_ACCOUNTS {
        v.push(at(
            T0,
            Command::OpenAccount {
                owner: OwnerId(i / 2),
                pool: AUCTION_POOL,
            },
        ));
    }
    let total = if hot {
        POOL0_ACCOUNTS
    } else {
        POOL0_ACCOUNTS + POOL1_ACCOUNTS
    };
    for i in 0..total {
        let first = i == 0 || i == 1 || i == POOL0_ACCOUNTS || i == POOL0_ACCOUNTS + 1;
        let usdc = if first {
            libm::pow(10.0, d.uniform(12.0, 13.0))
        } else {
            d.log_f64(9.0, 11.5)
        };
        let account = AccountId(i);
        v.push(at(
            T0,
            Command::Deposit {
                account,
                asset: demo::USDC,
                amount: Amount(usdc as i64),
            },
        ));
        if d.chance(0.5) {
            let amount = Amount(d.log_f64(6.0, 9.0) as i64);
            v.push(at(
                T0,
                Command::Deposit {
                    account,
                    asset: demo::BTC,
                    amount,
                },
            ));
        }
        if i < POOL0_ACCOUNTS && d.chance(0.3) {
            let amount = Amount(d.log_f64(7.0, 10.0) as i64);
            v.push(at(
                T0,
                Command::Deposit {
                    account,
                    asset: demo::ETH,
                    amount,
                },
            ));
        }
    }
    if hot {
        v.extend(hot_pool(d));
    }
    v
}

/// Pool 1 lent out to ~98%: its borrowers hold only BTC and borrow up to their initial limit,
/// its keeper holds only BTC, its lender supplies just what is borrowed.
fn hot_pool(d: &mut Draw) -> Vec<Envelope> {
    let mut v = Vec::new();
    let lender = AccountId(POOL0_ACCOUNTS);
    let keeper = AccountId(POOL0_ACCOUNTS + 1);
    v.push(at(
        T0,
        Command::Deposit {
            account: keeper,
            asset: demo::BTC,
            amount: Amount(1_000_000_000),
        },
    ));
    let mut borrows = Vec::new();
    let mut total = 0i64;
    for i in 2..POOL1_ACCOUNTS {
        let account = AccountId(POOL0_ACCOUNTS + i);
        let btc = d.log_f64(7.0, 8.5) as i64;
        v.push(at(
            T0,
            Command::Deposit {
                account,
                asset: demo::BTC,
                amount: Amount(btc),
            },
        ));
        // 65,000 USDC per BTC, 8 → 6 decimals, just under the 0.80 initial weight
        let amount = (btc as f64 * 650.0 * d.uniform(0.70, 0.79)) as i64;
        total += amount;
        borrows.push(at(
            T0,
            Command::Borrow {
                account,
                amount: Amount(amount),
            },
        ));
    }
    v.push(at(
        T0,
        Command::Deposit {
            account: lender,
            asset: demo::USDC,
            amount: Amount(total + total / 50),
        },
    ));
    v.extend(borrows);
    v
}

/// The whole setup journal of a world case; with probability `hot` its lending pool 1 is lent
/// out to ~98% on a steep curve.
pub fn setup(d: &mut Draw, hot: f64) -> Vec<Envelope> {
    let hot = d.chance(hot);
    let mut v = listing(d, hot);
    v.extend(accounts(d, hot));
    v
}

/// Markets of the world (id, pool).
pub fn markets() -> [(MarketId, PoolId); 5] {
    [
        (demo::BTC_PERP, demo::POOL),
        (demo::ETH_PERP, demo::POOL),
        (MarketId(2), demo::POOL),
        (MarketId(3), demo::POOL),
        (MarketId(4), AUCTION_POOL),
    ]
}
