//! Shared helpers for the liquidation, waterfall and settlement tests: a small world with a
//! lender, a market maker, a keeper and leveraged traders, and assertions that every command
//! conserves value and that a refused command changes nothing.
#![allow(dead_code)]

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo::{self, BTC, BTC_PERP, POOL, USDC};
use ballast_engine::event::Event;
use ballast_engine::ids::{AccountId, AssetId, AuctionId, MarketId, OwnerId, PoolId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::params::{LiquidationParams, Mechanism};
use ballast_engine::{Engine, Reject, Role};

pub const LENDER: AccountId = AccountId(0);
pub const MAKER: AccountId = AccountId(1);
pub const KEEPER: AccountId = AccountId(2);
/// First trader account.
pub const T0: u32 = 3;

pub fn usdc(x: i64) -> Amount {
    Amount(x * 1_000_000)
}

pub fn at(t: i64, cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    }
}

pub fn assert_conserved(e: &Engine) {
    for (asset, gap) in e.conservation_gaps() {
        assert_eq!(gap, 0, "value not conserved for {asset}");
    }
}

/// Applies a command that must succeed; checks conservation.
pub fn ok(e: &mut Engine, t: i64, cmd: Command) -> Vec<Event> {
    match e.apply(&at(t, cmd.clone())) {
        Ok(ev) => {
            assert_conserved(e);
            ev
        }
        Err(r) => panic!("{cmd:?} rejected: {r}"),
    }
}

/// Applies a command that must be refused; checks the state hash is unchanged.
pub fn refused(e: &mut Engine, t: i64, cmd: Command) -> Reject {
    let h = e.state_hash();
    let r = e
        .apply(&at(t, cmd.clone()))
        .expect_err(&format!("{cmd:?} accepted"));
    assert_eq!(h, e.state_hash(), "refused command changed the state");
    r
}

pub fn params(mechanism: Mechanism) -> LiquidationParams {
    LiquidationParams {
        mechanism,
        insurance_fee_share: ballast_engine::num::Ratio(1_000_000_000),
        ..LiquidationParams::default()
    }
}

/// Genesis, liquidation parameters, lender (10M USDC), maker (5M), keeper (5M) and
/// `traders` accounts funded with `margin(i)` USDC each.
pub fn world(p: LiquidationParams, traders: u32, margin: impl Fn(u32) -> i64) -> Engine {
    let mut e = Engine::new();
    for env in demo::genesis(0) {
        e.apply(&env).expect("genesis");
    }
    ok(
        &mut e,
        0,
        Command::ConfigureLiquidation {
            role: Role::Governor,
            pool: POOL,
            params: p,
        },
    );
    for i in 0..T0 + traders {
        ok(
            &mut e,
            0,
            Command::OpenAccount {
                owner: OwnerId(i),
                pool: POOL,
            },
        );
    }
    for (a, x) in [
        (LENDER, 10_000_000),
        (MAKER, 5_000_000),
        (KEEPER, 5_000_000),
    ] {
        deposit(&mut e, 0, a, usdc(x));
    }
    for i in 0..traders {
        if margin(i) > 0 {
            deposit(&mut e, 0, AccountId(T0 + i), usdc(margin(i)));
        }
    }
    e
}

pub fn deposit(e: &mut Engine, t: i64, account: AccountId, amount: Amount) {
    ok(
        e,
        t,
        Command::Deposit {
            account,
            asset: USDC,
            amount,
        },
    );
}

pub fn fill(
    e: &mut Engine,
    t: i64,
    market: MarketId,
    taker: AccountId,
    maker: AccountId,
    size: i64,
    price: f64,
) {
    ok(
        e,
        t,
        Command::Fill {
            market,
            taker,
            maker,
            size: Amount(size),
            price,
        },
    );
}

pub fn set_price(e: &mut Engine, t: i64, asset: AssetId, price: f64) {
    ok(e, t, Command::SetPrice { asset, price });
}

/// Every trader goes long `btc` BTC-PERP at 65 000 against the maker.
pub fn open_longs(e: &mut Engine, traders: u32, btc: f64) {
    for i in 0..traders {
        fill(
            e,
            0,
            BTC_PERP,
            AccountId(T0 + i),
            MAKER,
            (btc * 1e8) as i64,
            65_000.0,
        );
    }
}

pub fn liquidate(liquidator: AccountId, account: AccountId) -> Command {
    Command::Liquidate {
        liquidator,
        account,
        market: None,
        max_size: None,
    }
}

pub fn take(auction: AuctionId, bidder: AccountId, max: i64, limit: f64) -> Command {
    Command::TakeAuction {
        auction,
        bidder,
        max_amount: Amount(max),
        price_limit: limit,
    }
}

pub fn pool_of(e: &Engine, p: PoolId) -> &ballast_engine::state::Pool {
    &e.state().pools[p.idx()]
}

pub fn btc_units(x: f64) -> i64 {
    (x * 1e8) as i64
}

pub const BTC_ASSET: AssetId = BTC;
