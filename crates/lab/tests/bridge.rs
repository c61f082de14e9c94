//! The cross-chain scenario (`bridge-halt`, `docs/cross-chain.md` §4): a remote collateral
//! asset (LUNA behind a bridge) and a bridge halt on steps 140–159.
//!
//! - During the halt its feed is stale: the engine refuses (`Reject::Blocked`) withdrawing it
//!   and borrowing against it, and does not liquidate the account on the long-stale price (the
//!   note's rule: the remote claim is seized only once the chain is back); the halted bridge
//!   delivers no deposit of it. Each check has a control without the halt, where the same
//!   command is not blocked and the account is liquidated.
//! - The figure: bad debt with the note's haircut on its weights vs valued as local.

mod run_support;

use ballast_engine::command::{Command, Envelope};
use ballast_engine::ids::{AccountId, AssetId, OwnerId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::{Engine, Reject};
use ballast_lab::record::PathResult;
use run_support::{comparable, load, run};

const LUNA: AssetId = AssetId(1);
/// A step inside the halt (`halt = [140, 160]`).
const IN_HALT: u32 = 150;
const NO_HALT: &str = "bridge.halt=[0, 0]";

/// Path 0 of `bridge-halt` stopped after step `IN_HALT`, with `sets`: its result, engine, the
/// borrower's account and the time of that step.
fn at_halt(sets: &[&str]) -> (PathResult, Engine, AccountId, i64) {
    let mut all = vec!["paths=1", "horizon=150"];
    all.extend_from_slice(sets);
    let p = load("bridge-halt", &all);
    let (r, eng) = p.run_path_engine(0).expect("runs");
    let account = *r
        .attack
        .accounts
        .first()
        .expect("the borrower opened an account");
    let step_ms = (p.scenario.step_hours * 3_600_000.0).round() as i64;
    let t = ballast_lab::world::T0_MS + i64::from(IN_HALT) * step_ms;
    (r, eng, account, t)
}

/// A healthy account holding LUNA, opened on a copy of `eng` at `t`: 1 M USD of quote and
/// 1 000 LUNA (so that only the oracle gate can refuse what follows).
fn healthy_holder(eng: &Engine, t: i64) -> (Engine, AccountId) {
    let mut copy = eng.clone();
    let account = AccountId(copy.state().accounts.len() as u32);
    let quote = AssetId(0);
    for cmd in [
        Command::OpenAccount {
            owner: OwnerId(9_999_999),
            pool: ballast_lab::world::POOL,
        },
        Command::Deposit {
            account,
            asset: quote,
            amount: Amount(1_000_000_000_000),
        },
        Command::Deposit {
            account,
            asset: LUNA,
            amount: Amount(1_000_000_000),
        },
    ] {
        let env = Envelope {
            by: None,
            time: Timestamp(t),
            cmd,
        };
        copy.apply(&env).expect("setup accepted");
    }
    (copy, account)
}

fn try_cmd(eng: &Engine, t: i64, cmd: Command) -> Result<(), Reject> {
    let mut copy = eng.clone();
    let env = Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    };
    copy.apply(&env).map(|_| ())
}

fn blocked(r: &Result<(), Reject>) -> bool {
    matches!(r, Err(Reject::Blocked(_)))
}

#[test]
fn during_the_halt_the_remote_collateral_is_frozen() {
    for (sets, halted) in [(vec![], true), (vec![NO_HALT], false)] {
        let (_, eng, _, t) = at_halt(&sets);
        let (eng, account) = healthy_holder(&eng, t);
        let withdraw = try_cmd(
            &eng,
            t,
            Command::Withdraw {
                account,
                asset: LUNA,
                amount: Amount(1_000_000),
            },
        );
        let borrow = try_cmd(
            &eng,
            t,
            Command::Borrow {
                account,
                amount: Amount(1_000_000),
            },
        );
        println!("halted {halted}: withdraw {withdraw:?}, borrow {borrow:?}");
        if halted {
            assert!(blocked(&withdraw), "{withdraw:?}");
            assert!(blocked(&borrow), "{borrow:?}");
        } else {
            assert_eq!(withdraw, Ok(()));
            assert_eq!(borrow, Ok(()));
        }
    }
}

/// The note's liquidation rule: no seizure on the long-stale price during the halt, although
/// the account is under water at the market; without the halt it is liquidated by then.
#[test]
fn during_the_halt_the_remote_claim_is_not_seized() {
    let (halted, eng, account, _) = at_halt(&[]);
    let held = eng.state().accounts[account.idx()].collateral_amount(LUNA);
    let (_, free, free_account, _) = at_halt(&[NO_HALT]);
    let left = free.state().accounts[free_account.idx()].collateral_amount(LUNA);
    println!("LUNA held at step {IN_HALT}: halted {held:?}, no halt {left:?}");
    assert!(held.0 > 0, "it deposited");
    assert!(
        left < held,
        "liquidated without the halt: {left:?} vs {held:?}"
    );
    assert_eq!(halted.bridge_held, 0, "its deposit came before the halt");
}

/// A deposit sent during the halt never reaches the engine.
#[test]
fn the_halted_bridge_delivers_no_deposit() {
    let start = "agents.attackers.0.start_step=145";
    let (r, eng, account, _) = at_halt(&[start]);
    assert_eq!(r.bridge_held, 1, "the borrower's one deposit");
    let held = eng.state().accounts[account.idx()].collateral_amount(LUNA);
    assert_eq!(held, Amount::ZERO);
    let (r, eng, account, _) = at_halt(&[start, NO_HALT]);
    assert_eq!(r.bridge_held, 0);
    assert!(
        eng.state().accounts[account.idx()]
            .collateral_amount(LUNA)
            .0
            > 0
    );
}

/// The figure of `docs/cross-chain.md` §4: the haircut lowers the bad debt the borrower leaves
/// (same paths, common random numbers).
#[test]
fn the_haircut_lowers_bad_debt() {
    let with = run(&load("bridge-halt", &["paths=20"]), 2);
    let without = run(
        &load("bridge-halt", &["paths=20", "bridge.haircut=false"]),
        2,
    );
    println!(
        "bad debt mean: haircut {:.2} USD, as local {:.2} USD",
        with.bad_debt.mean, without.bad_debt.mean
    );
    assert!(without.bad_debt.mean > 0.0, "the collapse leaves bad debt");
    assert!(with.bad_debt.mean < without.bad_debt.mean);
}

#[test]
fn a_bad_bridge_field_is_named() {
    for (set, field) in [
        ("bridge.halt=[5, 1]", "bridge.halt"),
        ("bridge.asset=\"BTC\"", "bridge.asset"),
        ("bridge.sigma=-1.0", "bridge.sigma"),
        ("bridge.haircuts=false", "haircuts"),
    ] {
        let err =
            ballast_lab::embedded::load("bridge-halt", &[set.to_string()]).expect_err("refused");
        assert!(err.to_string().contains(field), "{set}: {err}");
    }
}

#[test]
fn a_bridge_run_is_the_same_on_any_thread_count() {
    let p = load("bridge-halt", &["paths=3"]);
    assert_eq!(comparable(&run(&p, 1)), comparable(&run(&p, 2)));
}
