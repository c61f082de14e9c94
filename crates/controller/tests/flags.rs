//! The flagging rules against the attacks they name, and their false-positive rate on an
//! ordinary book: the Mango pattern (one owner on both sides of a market) is flagged as soon as
//! the position exists, before any borrow against it; a large deposit of an asset whose
//! oracle sources disagree (the Venus/LUNA frozen feed) is flagged; ordinary traders are not.

use ballast_controller::flags::FlagRules;
use ballast_controller::{decide, Pattern, Policy};
use ballast_engine::command::{Command, Envelope, SourceQuote};
use ballast_engine::demo::{self, btc, usdc, BTC, BTC_PERP, POOL, USDC};
use ballast_engine::ids::{AccountId, OwnerId};
use ballast_engine::num::Timestamp;
use ballast_engine::Engine;

fn at(t: i64, cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    }
}

fn run(e: &mut Engine, envs: &[Envelope]) {
    for env in envs {
        if let Err(r) = e.apply(env) {
            panic!("setup {:?}: {r}", env.cmd);
        }
    }
}

/// Demo genesis, four accounts (owners 0, 0, 1, 1), USDC in each.
fn world() -> Engine {
    let mut e = Engine::new();
    run(&mut e, &demo::genesis(0));
    for i in 0..4u32 {
        let open = Command::OpenAccount {
            owner: OwnerId(i / 2),
            pool: POOL,
        };
        run(&mut e, &[at(0, open)]);
        let dep = Command::Deposit {
            account: AccountId(i),
            asset: USDC,
            amount: usdc(5_000_000),
        };
        run(&mut e, &[at(0, dep)]);
    }
    e
}

fn fill(t: i64, taker: u32, maker: u32, size: f64) -> Envelope {
    at(
        t,
        Command::Fill {
            market: BTC_PERP,
            taker: AccountId(taker),
            maker: AccountId(maker),
            size: btc(size),
            price: 65_000.0,
        },
    )
}

#[test]
fn one_owner_on_both_sides_is_flagged_before_any_borrow() {
    let mut e = world();
    let d = decide(&e, &mut Policy::default(), &FlagRules::default(), 1);
    assert!(d.flags.is_empty(), "nothing to flag yet: {:?}", d.flags);
    // Accounts 0 and 1 share owner 0: the Mango setup.
    run(&mut e, &[fill(1, 0, 1, 10.0)]);
    let d = decide(&e, &mut Policy::default(), &FlagRules::default(), 2);
    assert!(
        d.flags.iter().any(|f| matches!(
            f.pattern,
            Pattern::BothSides { market, owner, .. } if market == BTC_PERP && owner == OwnerId(0)
        )),
        "{:?}",
        d.flags
    );
    assert!(d.flags.iter().all(|f| f.recommend == "reduce_only"));
}

#[test]
fn two_owners_on_opposite_sides_are_not_flagged_as_both_sides() {
    let mut e = world();
    // Owner 0 (accounts 0, 1) long against owner 1 (accounts 2, 3) short.
    run(&mut e, &[fill(1, 0, 2, 1.0), fill(1, 1, 3, 1.0)]);
    let d = decide(&e, &mut Policy::default(), &FlagRules::default(), 2);
    assert!(
        !d.flags
            .iter()
            .any(|f| matches!(f.pattern, Pattern::BothSides { .. })),
        "{:?}",
        d.flags
    );
}

fn oracle() -> Command {
    demo::equal_sources_oracle(BTC, 3)
}

fn quotes(t: i64, prices: [f64; 3]) -> Envelope {
    let quotes = prices
        .iter()
        .enumerate()
        .map(|(s, p)| SourceQuote {
            source: s as u32,
            price: *p,
            confidence: p * 1e-4,
        })
        .collect();
    at(t, Command::OracleUpdate { asset: BTC, quotes })
}

#[test]
fn a_large_deposit_of_an_asset_whose_sources_disagree_is_flagged() {
    let mut e = world();
    run(
        &mut e,
        &[at(0, oracle()), quotes(1, [65_000.0, 65_010.0, 64_990.0])],
    );
    let dep = |a: u32, x: f64| {
        at(
            2,
            Command::Deposit {
                account: AccountId(a),
                asset: BTC,
                amount: btc(x),
            },
        )
    };
    run(&mut e, &[dep(3, 90.0), dep(2, 10.0)]);
    let d = decide(&e, &mut Policy::default(), &FlagRules::default(), 3);
    assert!(d.flags.is_empty(), "sources agree: {:?}", d.flags);
    // One source frozen 10 % above the other two.
    run(&mut e, &[quotes(60_000, [71_500.0, 65_000.0, 65_010.0])]);
    let d = decide(&e, &mut Policy::default(), &FlagRules::default(), 60_001);
    let flagged: Vec<u32> = d
        .flags
        .iter()
        .filter(|f| matches!(f.pattern, Pattern::DivergentCollateral { asset, .. } if asset == BTC))
        .map(|f| f.account.0)
        .collect();
    assert_eq!(
        flagged,
        [3],
        "the 90 % holder, not the 10 % one: {:?}",
        d.flags
    );
    // The same divergence asks governance for a lower BTC collateral weight, one step.
    assert!(
        d.moves
            .iter()
            .any(|m| matches!(m.reason, ballast_controller::Reason::Divergence { .. })),
        "{:?}",
        d.moves
    );
}

#[test]
fn ordinary_traders_are_rarely_flagged() {
    let mut e = Engine::new();
    for env in demo::synthetic_book(400, 11) {
        if let Err(r) = e.apply(&env) {
            panic!("synthetic book command {:?} refused: {r}", env.cmd);
        }
    }
    let d = decide(
        &e,
        &mut Policy::default(),
        &FlagRules::default(),
        e.state().time.0 + 1,
    );
    let n = e.state().accounts.len();
    let rate = d.flags.len() as f64 / n as f64;
    println!(
        "flagged {} of {n} accounts of an ordinary book: {rate:.4}",
        d.flags.len()
    );
    assert!(rate <= 0.01, "false-positive rate {rate}: {:?}", d.flags);
}
