//! Bad input: each case asserts the typed rejection and that the state hash is unchanged.

mod common;

use ballast_engine::command::{Command, Scope};
use ballast_engine::demo::{btc, usdc, BTC, BTC_PERP, POOL, USDC};
use ballast_engine::ids::{AccountId, AssetId, MarketId, PoolId, ProposalId};
use ballast_engine::num::{Amount, PriceError, Timestamp};
use ballast_engine::params::{MarketField, ParamKey};
use ballast_engine::{journal, Engine, Reject, Role};
use common::*;

/// A world with two funded accounts holding opposite BTC positions.
fn funded() -> Engine {
    let mut e = world(4);
    run(
        &mut e,
        &[
            at(
                1,
                Command::Deposit {
                    account: AccountId(0),
                    asset: USDC,
                    amount: usdc(10_000),
                },
            ),
            at(
                1,
                Command::Deposit {
                    account: AccountId(1),
                    asset: USDC,
                    amount: usdc(100_000),
                },
            ),
            at(
                2,
                Command::Fill {
                    market: BTC_PERP,
                    taker: AccountId(0),
                    maker: AccountId(1),
                    size: btc(1.0),
                    price: 65_000.0,
                },
            ),
        ],
    );
    e
}

/// Applies `cmd` at `t`, expects a rejection matching `check`, and the same state hash.
fn rejects(e: &mut Engine, t: i64, cmd: Command, check: impl Fn(&Reject) -> bool) {
    let before = e.state_hash();
    let err = e
        .apply(&at(t, cmd.clone()))
        .expect_err(&format!("{cmd:?} should be rejected"));
    assert!(check(&err), "{cmd:?}: unexpected rejection {err:?}");
    assert_eq!(before, e.state_hash(), "{cmd:?} changed the state");
    assert!(!err.to_string().is_empty());
}

#[test]
fn bad_prices() {
    let mut e = funded();
    for (p, want) in [
        (f64::NAN, PriceError::NaN),
        (f64::INFINITY, PriceError::Infinite),
        (f64::NEG_INFINITY, PriceError::Infinite),
        (-5.0, PriceError::NotPositive),
        (0.0, PriceError::NotPositive),
    ] {
        rejects(
            &mut e,
            10,
            Command::SetPrice {
                asset: BTC,
                price: p,
            },
            |r| {
                *r == Reject::InvalidPrice {
                    asset: BTC,
                    reason: want,
                }
            },
        );
        rejects(
            &mut e,
            10,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(1),
                size: btc(0.1),
                price: p,
            },
            |r| {
                *r == Reject::InvalidPrice {
                    asset: BTC,
                    reason: want,
                }
            },
        );
    }
    // The quote asset is the numeraire: it has no price of its own.
    rejects(
        &mut e,
        10,
        Command::SetPrice {
            asset: USDC,
            price: 1.0,
        },
        |r| matches!(r, Reject::InvalidParams(_)),
    );
}

#[test]
fn overflowing_amounts() {
    let mut e = funded();
    // i64::MAX sats of BTC is far beyond the pool's max_account_value: a typed refusal, before
    // any sum over the account could approach the types' limits.
    rejects(
        &mut e,
        4,
        Command::Deposit {
            account: AccountId(2),
            asset: BTC,
            amount: Amount(i64::MAX),
        },
        |r| matches!(r, Reject::AccountValueTooLarge { .. }),
    );
    rejects(
        &mut e,
        4,
        Command::Fill {
            market: BTC_PERP,
            taker: AccountId(0),
            maker: AccountId(1),
            size: Amount(i64::MIN),
            price: 65_000.0,
        },
        |r| *r == Reject::Overflow,
    );
    // Quote deposits hit the supply cap first.
    rejects(
        &mut e,
        4,
        Command::Deposit {
            account: AccountId(3),
            asset: USDC,
            amount: Amount(i64::MAX),
        },
        |r| matches!(r, Reject::SupplyCapExceeded { .. }),
    );
    rejects(
        &mut e,
        4,
        Command::Deposit {
            account: AccountId(3),
            asset: USDC,
            amount: Amount(0),
        },
        |r| *r == Reject::NonPositiveAmount(Amount(0)),
    );
    rejects(
        &mut e,
        4,
        Command::Withdraw {
            account: AccountId(3),
            asset: USDC,
            amount: Amount(-1),
        },
        |r| *r == Reject::NonPositiveAmount(Amount(-1)),
    );
}

#[test]
fn unknown_ids() {
    let mut e = funded();
    rejects(
        &mut e,
        5,
        Command::Deposit {
            account: AccountId(99),
            asset: USDC,
            amount: usdc(1),
        },
        |r| *r == Reject::UnknownAccount(AccountId(99)),
    );
    rejects(
        &mut e,
        5,
        Command::Deposit {
            account: AccountId(0),
            asset: AssetId(42),
            amount: usdc(1),
        },
        |r| *r == Reject::UnknownAsset(AssetId(42)),
    );
    rejects(
        &mut e,
        5,
        Command::SetPrice {
            asset: AssetId(42),
            price: 1.0,
        },
        |r| *r == Reject::UnknownAsset(AssetId(42)),
    );
    rejects(
        &mut e,
        5,
        Command::Fill {
            market: MarketId(7),
            taker: AccountId(0),
            maker: AccountId(1),
            size: btc(0.1),
            price: 65_000.0,
        },
        |r| *r == Reject::UnknownMarket(MarketId(7)),
    );
    rejects(
        &mut e,
        5,
        Command::SettleFunding {
            market: MarketId(7),
        },
        |r| *r == Reject::UnknownMarket(MarketId(7)),
    );
    rejects(
        &mut e,
        5,
        Command::OpenAccount {
            owner: ballast_engine::ids::OwnerId(1),
            pool: PoolId(3),
        },
        |r| *r == Reject::UnknownPool(PoolId(3)),
    );
    rejects(
        &mut e,
        5,
        Command::Execute {
            role: Role::Governor,
            proposal: ProposalId(0),
        },
        |r| *r == Reject::UnknownProposal(ProposalId(0)),
    );
    rejects(
        &mut e,
        5,
        Command::Pause {
            role: Role::Guardian,
            scope: Scope::Market(MarketId(7)),
        },
        |r| *r == Reject::UnknownMarket(MarketId(7)),
    );
}

#[test]
fn time_going_backwards() {
    let mut e = funded();
    rejects(
        &mut e,
        1,
        Command::Deposit {
            account: AccountId(0),
            asset: USDC,
            amount: usdc(1),
        },
        |r| {
            *r == Reject::TimeWentBackwards {
                last: Timestamp(2),
                got: Timestamp(1),
            }
        },
    );
}

#[test]
fn withdrawal_beyond_free_collateral() {
    let mut e = funded();
    // 10,000 USDC against 1 BTC long at 65,000 (10% initial = 6,500 plus fees): ~3,400 free.
    rejects(
        &mut e,
        5,
        Command::Withdraw {
            account: AccountId(0),
            asset: USDC,
            amount: usdc(4_000),
        },
        |r| {
            matches!(
                r,
                Reject::InsufficientMargin {
                    account: AccountId(0),
                    kind: ballast_engine::HealthKind::Initial,
                    ..
                }
            )
        },
    );
    // More than the balance itself.
    rejects(
        &mut e,
        5,
        Command::Withdraw {
            account: AccountId(2),
            asset: USDC,
            amount: usdc(1),
        },
        |r| matches!(r, Reject::InsufficientBalance { .. }),
    );
    // Borrowing against nothing.
    rejects(
        &mut e,
        5,
        Command::Borrow {
            account: AccountId(2),
            amount: usdc(1),
        },
        |r| matches!(r, Reject::InsufficientMargin { .. }),
    );
    // A fill that would breach initial margin.
    rejects(
        &mut e,
        5,
        Command::Fill {
            market: BTC_PERP,
            taker: AccountId(0),
            maker: AccountId(1),
            size: btc(1.0),
            price: 65_000.0,
        },
        |r| {
            matches!(
                r,
                Reject::InsufficientMargin {
                    account: AccountId(0),
                    ..
                }
            )
        },
    );
    // A price outside the band around the index.
    rejects(
        &mut e,
        5,
        Command::Fill {
            market: BTC_PERP,
            taker: AccountId(0),
            maker: AccountId(1),
            size: btc(0.01),
            price: 75_000.0,
        },
        |r| matches!(r, Reject::PriceOutsideBand { .. }),
    );
    // Within the limit it goes through.
    e.apply(&at(
        5,
        Command::Withdraw {
            account: AccountId(0),
            asset: USDC,
            amount: usdc(3_000),
        },
    ))
    .unwrap();
}

#[test]
fn parameters_out_of_bounds_step_and_timelock() {
    let mut e = funded();
    let key = ParamKey::Market {
        market: BTC_PERP,
        field: MarketField::MaintMargin,
    };
    let cur = e.state().markets[0].params.maint_margin.0;
    rejects(
        &mut e,
        5,
        Command::Propose {
            role: Role::Governor,
            key,
            value: 900_000_000,
        },
        |r| matches!(r, Reject::ParamOutOfBounds { .. }),
    );
    rejects(
        &mut e,
        5,
        Command::Propose {
            role: Role::Governor,
            key,
            value: cur + 40_000_000,
        },
        |r| matches!(r, Reject::ParamStepTooLarge { .. }),
    );
    // Cross-parameter rule: maintenance may not reach initial (10%).
    let im = ParamKey::Market {
        market: BTC_PERP,
        field: MarketField::InitMargin,
    };
    rejects(
        &mut e,
        5,
        Command::Propose {
            role: Role::Governor,
            key: im,
            value: cur,
        },
        |r| matches!(r, Reject::InvalidParams(_)),
    );
    rejects(
        &mut e,
        5,
        Command::Propose {
            role: Role::Guardian,
            key,
            value: cur + 1,
        },
        |r| matches!(r, Reject::Unauthorized { .. }),
    );
    e.apply(&at(
        5,
        Command::Propose {
            role: Role::Governor,
            key,
            value: cur + 10_000_000,
        },
    ))
    .unwrap();
    rejects(
        &mut e,
        6,
        Command::Execute {
            role: Role::Governor,
            proposal: ProposalId(0),
        },
        |r| matches!(r, Reject::TimelockNotElapsed { .. }),
    );
    let tl = e.state().governance.timelock_ms;
    let grace = e.state().governance.grace_ms;
    rejects(
        &mut e,
        5 + tl + grace + 1,
        Command::Execute {
            role: Role::Governor,
            proposal: ProposalId(0),
        },
        |r| matches!(r, Reject::ProposalExpired { .. }),
    );
}

#[test]
fn pause_blocks_risk_not_deposits_and_guardian_moves_nothing() {
    let mut e = funded();
    e.apply(&at(
        5,
        Command::Pause {
            role: Role::Guardian,
            scope: Scope::Pool(POOL),
        },
    ))
    .unwrap();
    rejects(
        &mut e,
        6,
        Command::Withdraw {
            account: AccountId(1),
            asset: USDC,
            amount: usdc(1),
        },
        |r| matches!(r, Reject::Paused(_)),
    );
    rejects(
        &mut e,
        6,
        Command::Fill {
            market: BTC_PERP,
            taker: AccountId(1),
            maker: AccountId(0),
            size: btc(0.1),
            price: 65_000.0,
        },
        |r| matches!(r, Reject::Paused(_)),
    );
    e.apply(&at(
        6,
        Command::Deposit {
            account: AccountId(0),
            asset: USDC,
            amount: usdc(1),
        },
    ))
    .unwrap();
    rejects(
        &mut e,
        7,
        Command::Unpause {
            role: Role::Guardian,
            scope: Scope::Pool(POOL),
        },
        |r| matches!(r, Reject::Unauthorized { .. }),
    );
    rejects(
        &mut e,
        7,
        Command::CreateAsset {
            role: Role::Guardian,
            symbol: "X".into(),
            decimals: 6,
        },
        |r| matches!(r, Reject::Unauthorized { .. }),
    );
    e.apply(&at(
        8,
        Command::Unpause {
            role: Role::Governor,
            scope: Scope::Pool(POOL),
        },
    ))
    .unwrap();
    e.apply(&at(
        8,
        Command::Withdraw {
            account: AccountId(1),
            asset: USDC,
            amount: usdc(1),
        },
    ))
    .unwrap();
}

#[test]
fn transfers_only_between_an_owners_sub_accounts() {
    let mut e = funded();
    // Accounts 0 and 1 belong to owner 0; 2 and 3 to owner 1.
    rejects(
        &mut e,
        5,
        Command::Transfer {
            from: AccountId(1),
            to: AccountId(2),
            asset: USDC,
            amount: usdc(1),
        },
        |r| matches!(r, Reject::NotSameOwner { .. }),
    );
    rejects(
        &mut e,
        5,
        Command::Transfer {
            from: AccountId(0),
            to: AccountId(1),
            asset: USDC,
            amount: usdc(9_000),
        },
        |r| matches!(r, Reject::InsufficientMargin { .. }),
    );
    e.apply(&at(
        5,
        Command::Transfer {
            from: AccountId(1),
            to: AccountId(0),
            asset: USDC,
            amount: usdc(1_000),
        },
    ))
    .unwrap();
}

#[test]
fn malformed_journal_line_names_the_line() {
    let good = journal::to_text(&ballast_engine::demo::genesis(0));
    let text =
        format!("{good}{{\"time\": 5, \"cmd\": {{\"type\": \"deposit\", \"account\": 0}}}}\n");
    let err = journal::parse(&text).unwrap_err();
    assert_eq!(err.line, good.lines().count() + 1);
    assert!(err.message.contains("missing field"), "{}", err.message);
}
