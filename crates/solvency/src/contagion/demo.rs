//! A small three-pool ledger for the contagion map, as a journal (for tests, the README and
//! `ballast contagion --state`): the engine's demo genesis (pool `main`: BTC and ETH
//! collateral, BTC and ETH perpetuals), pool `second` (BTC collateral, a BTC perpetual) and
//! pool `isolated` (SOL collateral only). Each pool has a USDC lender and a borrower near its
//! initial-margin limit; pool `main` also has an ETH borrower and a 5x BTC-PERP long against a
//! market maker; one owner has accounts in `second` and `isolated`.

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo::{self, BTC, ETH, USDC};
use ballast_engine::error::Role;
use ballast_engine::ids::{AccountId, AssetId, OwnerId, PoolId};
use ballast_engine::num::{Amount, Ratio, Timestamp, RATIO_SCALE};

/// The asset the demo adds after the engine's genesis.
pub const SOL: AssetId = AssetId(3);
/// Time of every command.
pub const T0: i64 = 1_700_000_000_000;

fn weight(percent: i64) -> Ratio {
    Ratio(RATIO_SCALE / 100 * percent)
}

fn at(cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(T0),
        cmd,
    }
}

/// Pools `second` and `isolated`, SOL and its price, and the BTC perpetual of `second`.
fn more_pools() -> Vec<Envelope> {
    let g = Role::Governor;
    let pool = |name: &str| Command::CreatePool {
        role: g,
        name: name.into(),
        quote: USDC,
        params: demo::pool_params(),
    };
    let collateral = |pool, asset| Command::AddCollateral {
        role: g,
        pool: PoolId(pool),
        asset,
        init_weight: weight(80),
        maint_weight: weight(90),
    };
    let sol = Command::CreateAsset {
        role: g,
        symbol: "SOL".into(),
        decimals: 9,
    };
    let market = Command::CreateMarket {
        role: g,
        symbol: "BTC-PERP-2".into(),
        pool: PoolId(1),
        base: BTC,
        params: demo::market_params(),
    };
    let cmds = [
        sol,
        Command::SetPrice {
            asset: SOL,
            price: 150.0,
        },
        pool("second"),
        collateral(1, BTC),
        pool("isolated"),
        collateral(2, SOL),
        market,
    ];
    cmds.into_iter().map(at).collect()
}

/// Builds the journal while tracking the next account id.
struct Book {
    envs: Vec<Envelope>,
    accounts: u32,
}

impl Book {
    fn open(&mut self, owner: u32, pool: u16) -> AccountId {
        self.envs.push(at(Command::OpenAccount {
            owner: OwnerId(owner),
            pool: PoolId(pool),
        }));
        self.accounts += 1;
        AccountId(self.accounts - 1)
    }
    fn deposit(&mut self, account: AccountId, asset: AssetId, amount: i64) {
        self.envs.push(at(Command::Deposit {
            account,
            asset,
            amount: Amount(amount),
        }));
    }
    /// A lender of 1 M USDC and a borrower of `debt` USDC against `collateral` of `asset`.
    fn lend_and_borrow(
        &mut self,
        owner: u32,
        pool: u16,
        asset: AssetId,
        collateral: i64,
        debt: i64,
    ) {
        let lender = self.open(owner, pool);
        self.deposit(lender, USDC, demo::usdc(1_000_000).0);
        let borrower = self.open(owner + 1, pool);
        self.deposit(borrower, asset, collateral);
        self.envs.push(at(Command::Borrow {
            account: borrower,
            amount: demo::usdc(debt),
        }));
    }
}

/// The whole journal.
pub fn journal() -> Vec<Envelope> {
    let mut envs = demo::genesis(T0);
    envs.extend(more_pools());
    let mut b = Book { envs, accounts: 0 };
    b.lend_and_borrow(100, 0, BTC, demo::btc(1.0).0, 50_000);
    b.lend_and_borrow(200, 1, BTC, demo::btc(1.0).0, 50_000);
    b.lend_and_borrow(300, 2, SOL, 400_000_000_000, 40_000);
    // An ETH borrower in `main` (10 ETH at 3,000) and one owner spanning `second` and
    // `isolated`.
    let eth = b.open(400, 0);
    b.deposit(eth, ETH, 10_000_000_000);
    b.envs.push(at(Command::Borrow {
        account: eth,
        amount: demo::usdc(21_000),
    }));
    let a = b.open(500, 1);
    b.deposit(a, USDC, demo::usdc(5_000).0);
    let c = b.open(500, 2);
    b.deposit(c, USDC, demo::usdc(3_000).0);
    // A 5x BTC-PERP long in `main` against a market maker.
    let maker = b.open(600, 0);
    b.deposit(maker, USDC, demo::usdc(1_000_000).0);
    let long = b.open(601, 0);
    b.deposit(long, USDC, demo::usdc(13_000).0);
    b.envs.push(at(Command::Fill {
        market: demo::BTC_PERP,
        taker: long,
        maker,
        size: demo::btc(1.0),
        price: 65_000.0,
    }));
    b.envs
}
