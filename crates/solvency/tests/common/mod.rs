//! Shared helpers: ledgers built through the engine's own commands.
#![allow(dead_code)]

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo::{self, SplitMix};
use ballast_engine::ids::{AccountId, AssetId, OwnerId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::Engine;
use ballast_solvency::Secret;

pub const T0: i64 = 1_700_000_000_000;

pub fn at(t: i64, cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    }
}

/// Applies commands that must all succeed.
pub fn run(e: &mut Engine, envs: &[Envelope]) {
    for env in envs {
        if let Err(r) = e.apply(env) {
            panic!("setup command {:?} rejected: {r}", env.cmd);
        }
    }
}

pub fn secret() -> Secret {
    Secret::new(b"test secret: thirty-two bytes or more, never published").unwrap()
}

/// Opens an account for `owner` in the demo pool and returns its id.
pub fn open(e: &mut Engine, t: i64, owner: u32) -> AccountId {
    let id = e.state().next_account();
    run(
        e,
        &[at(
            t,
            Command::OpenAccount {
                owner: OwnerId(owner),
                pool: demo::POOL,
            },
        )],
    );
    id
}

pub fn deposit(e: &mut Engine, t: i64, account: AccountId, asset: AssetId, amount: i64) {
    run(
        e,
        &[at(
            t,
            Command::Deposit {
                account,
                asset,
                amount: Amount(amount),
            },
        )],
    );
}

/// Demo genesis plus `n` accounts, each with a random USDC deposit and every third with a
/// random BTC deposit. Returns the engine and the sums deposited per asset.
pub fn deposit_world(n: u32, seed: u64) -> (Engine, Vec<i128>) {
    let mut e = Engine::new();
    run(&mut e, &demo::genesis(T0));
    let mut rng = SplitMix(seed);
    let mut sums = vec![0i128; e.state().assets.len()];
    for i in 0..n {
        let id = open(&mut e, T0, i);
        let usdc = 1 + (rng.next_u64() % 50_000_000_000) as i64;
        deposit(&mut e, T0, id, demo::USDC, usdc);
        sums[demo::USDC.idx()] += usdc as i128;
        if i % 3 == 0 {
            let btc = 1 + (rng.next_u64() % 1_000_000_000) as i64;
            deposit(&mut e, T0, id, demo::BTC, btc);
            sums[demo::BTC.idx()] += btc as i128;
        }
    }
    (e, sums)
}

/// A book with perpetual positions (the demo's synthetic book), borrowers, a price move and
/// a day of interest: positive and negative equities, PnL and accrued interest.
pub fn mixed_world(traders: usize, seed: u64) -> Engine {
    let mut e = Engine::new();
    run(&mut e, &demo::synthetic_book(traders, seed));
    let t = T0 + 10;
    for k in 0..traders as u32 / 4 + 1 {
        let id = open(&mut e, t, 1_000_000 + k);
        deposit(&mut e, t, id, demo::BTC, 100_000_000);
        let amount = demo::usdc(20_000 + 1_000 * (k as i64 % 20));
        run(
            &mut e,
            &[at(
                t,
                Command::Borrow {
                    account: id,
                    amount,
                },
            )],
        );
    }
    let day = 24 * 3_600_000;
    let later = [
        at(
            t + day,
            Command::SetPrice {
                asset: demo::BTC,
                price: 57_000.0,
            },
        ),
        at(
            t + day,
            Command::SetPrice {
                asset: demo::ETH,
                price: 2_900.0,
            },
        ),
    ];
    run(&mut e, &later);
    e
}
