//! Options where they meet the defences (issue 10): one position-update rule for every
//! instrument, interest settled (and shown) on option fills, and option value counted in the
//! equity that decides bankruptcy.

mod common;

use ballast_engine::command::Command;
use ballast_engine::demo::{btc, usdc, BTC, BTC_PERP, POOL, USDC};
use ballast_engine::event::Event;
use ballast_engine::ids::{AccountId, SeriesId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::{Engine, HealthKind, Reject, Role};
use ballast_options::pricing::OptionKind;
use common::{assert_conserved, at, flat, run, world};

const DAY: i64 = 86_400_000;
const CALL: SeriesId = SeriesId(0);
const PUT: SeriesId = SeriesId(1);

fn deposit(a: u32, asset: ballast_engine::ids::AssetId, amount: Amount) -> Command {
    Command::Deposit {
        account: AccountId(a),
        asset,
        amount,
    }
}

fn option_fill(series: SeriesId, taker: u32, maker: u32, size: f64, premium: f64) -> Command {
    Command::OptionFill {
        series,
        taker: AccountId(taker),
        maker: AccountId(maker),
        size: if size < 0.0 {
            Amount(-btc(-size).0)
        } else {
            btc(size)
        },
        premium,
    }
}

fn perp(taker: u32, maker: u32, size: f64, price: f64) -> Command {
    Command::Fill {
        market: BTC_PERP,
        taker: AccountId(taker),
        maker: AccountId(maker),
        size: if size < 0.0 {
            Amount(-btc(-size).0)
        } else {
            btc(size)
        },
        price,
    }
}

fn price(p: f64) -> Command {
    Command::SetPrice {
        asset: BTC,
        price: p,
    }
}

/// BTC at 65,000 with a flat 60 % surface, a 30-day 70,000 call and 60,000 put; account 3 is a
/// well-funded market maker, account 4 a keeper.
fn book() -> Engine {
    let mut e = world(5);
    let g = Role::Governor;
    let series = |kind, strike| Command::CreateOptionSeries {
        role: g,
        pool: POOL,
        underlying: BTC,
        kind,
        strike,
        expiry: Timestamp(30 * DAY),
    };
    run(
        &mut e,
        &[
            at(
                0,
                Command::SetVolSurface {
                    asset: BTC,
                    surface: flat(0.6),
                },
            ),
            at(0, series(OptionKind::Call, 70_000.0)),
            at(0, series(OptionKind::Put, 60_000.0)),
            at(0, deposit(3, USDC, usdc(10_000_000))),
            at(0, deposit(4, USDC, usdc(1_000_000))),
        ],
    );
    e
}

#[test]
fn closing_a_long_option_under_negative_initial_health_is_accepted() {
    let mut e = book();
    run(
        &mut e,
        &[
            at(0, deposit(2, USDC, usdc(1_000))),
            at(1, perp(2, 3, 0.05, 65_000.0)),
            at(1, option_fill(CALL, 2, 3, 0.2, 2_500.0)),
            at(2, price(60_000.0)),
        ],
    );
    let init = e.health(AccountId(2), HealthKind::Initial).unwrap();
    let maint = e.health(AccountId(2), HealthKind::Maintenance).unwrap();
    assert!(init.0 < 0 && maint.0 >= 0, "setup: {init:?} {maint:?}");
    // Selling the call back reduces risk: accepted although initial health is negative.
    let ev = e
        .apply(&at(3, option_fill(CALL, 2, 3, -0.2, 1_000.0)))
        .unwrap_or_else(|r| panic!("closing the long call was refused: {r}"));
    assert!(ev.iter().any(|x| matches!(x, Event::OptionFilled { .. })));
    assert!(e.state().accounts[2].options.is_empty());
    // Opening more is still refused.
    let h = e.state_hash();
    let r = e
        .apply(&at(4, option_fill(CALL, 2, 3, 0.2, 1_000.0)))
        .expect_err("opening under negative initial health");
    assert!(matches!(r, Reject::InsufficientMargin { .. }), "{r}");
    assert_eq!(h, e.state_hash());
    assert_conserved(&e);
}

#[test]
fn an_option_fill_settles_and_reports_interest() {
    let mut e = book();
    run(
        &mut e,
        &[
            at(0, deposit(0, USDC, usdc(100_000))),
            at(0, deposit(1, BTC, btc(1.0))),
            at(
                0,
                Command::Borrow {
                    account: AccountId(1),
                    amount: usdc(20_000),
                },
            ),
        ],
    );
    let ev = e
        .apply(&at(30 * DAY - 1, option_fill(PUT, 0, 3, 0.1, 500.0)))
        .unwrap();
    let interest: Vec<_> = ev
        .iter()
        .filter_map(|x| match x {
            Event::InterestSettled { account, amount } => Some((*account, *amount)),
            _ => None,
        })
        .collect();
    assert!(
        interest.iter().any(|(a, x)| *a == AccountId(0) && x.0 > 0),
        "the lender's interest must be an event: {ev:?}"
    );
    assert_conserved(&e);
}

/// The reviewer's false bankruptcy: a perp whose loss exceeds the account's cash, hedged by a
/// profitable put. The account's full equity is positive, so it is liquidated, not declared
/// bankrupt, and nobody is auto-deleveraged.
#[test]
fn a_hedged_account_is_not_declared_bankrupt() {
    let mut e = book();
    run(
        &mut e,
        &[
            at(0, deposit(2, USDC, usdc(9_000))),
            at(1, option_fill(PUT, 2, 3, 0.9, 1_500.0)),
            at(1, perp(2, 3, 1.0, 65_000.0)),
        ],
    );
    // BTC falls to 40,000 in steps (each fill and price stays inside the band).
    let mut t = 2;
    for p in [60_000.0, 55_000.0, 50_000.0, 45_000.0, 40_000.0] {
        run(&mut e, &[at(t, price(p))]);
        t += 1;
    }
    let b = e.breakdown(AccountId(2), HealthKind::Maintenance).unwrap();
    let perp_equity = e.state().accounts[2].quote.amount.0 / 1_000_000 - 25_000;
    assert!(perp_equity < 0, "setup: the perp alone is under water");
    assert!(b.health.0 < 0, "setup: liquidatable");
    let ev = e
        .apply(&at(
            t,
            Command::Liquidate {
                liquidator: AccountId(4),
                account: AccountId(2),
                market: None,
                max_size: None,
            },
        ))
        .unwrap_or_else(|r| panic!("{r}"));
    assert!(
        !ev.iter()
            .any(|x| matches!(x, Event::Bankrupt { .. } | Event::Deleveraged { .. })),
        "false bankruptcy: {ev:?}"
    );
    assert!(ev.iter().any(|x| matches!(x, Event::Liquidated { .. })));
    // the account keeps its put and the pool records no bad debt
    assert_eq!(e.state().accounts[2].options.len(), 1);
    assert_eq!(e.state().pools[0].bad_debt, Amount::ZERO);
    assert_conserved(&e);
}

/// Shutdown with open options: every series settles at intrinsic value at the cage price,
/// each holder's claim includes it exactly, and the claims plus the pool's buckets are exactly
/// the USDC the pool holds.
#[test]
fn shutdown_settles_open_options_into_exact_claims() {
    let mut e = book();
    run(
        &mut e,
        &[
            at(0, deposit(0, USDC, usdc(100_000))),
            at(0, deposit(1, USDC, usdc(100_000))),
            at(1, option_fill(CALL, 0, 3, 2.0, 2_500.0)),
            at(1, option_fill(PUT, 1, 3, 1.0, 1_500.0)),
            at(2, price(68_000.0)),
            at(3, price(72_000.0)),
            at(4, price(75_000.0)),
        ],
    );
    let before: Vec<i64> = (0..4)
        .map(|i| e.state().accounts[i].quote.amount.0)
        .collect();
    let ev = e
        .apply(&at(
            5,
            Command::Shutdown {
                role: Role::Governor,
                pool: POOL,
            },
        ))
        .unwrap_or_else(|r| panic!("{r}"));
    // the 70,000 call pays 5,000 per BTC at the cage price 75,000; the 60,000 put nothing
    let settled = |a: u32| -> i64 {
        ev.iter()
            .filter_map(|x| match x {
                Event::OptionSettled {
                    account, amount, ..
                } if *account == AccountId(a) => Some(amount.0),
                _ => None,
            })
            .sum()
    };
    assert_eq!(settled(0), usdc(10_000).0);
    assert_eq!(settled(1), 0);
    assert_eq!(settled(3), -usdc(10_000).0);
    assert_eq!(
        e.state().accounts[0].quote.amount.0 - before[0],
        usdc(10_000).0
    );
    assert!(e.state().accounts.iter().all(|a| a.options.is_empty()));
    assert!(e
        .state()
        .series
        .iter()
        .all(|s| s.clearing.0 == 0 && s.settlement.is_some()));
    assert_conserved(&e);
    // Σ claims + buckets − bad debt = USDC held
    let st = e.state();
    let p = &st.pools[0];
    let claims: i128 = st.accounts.iter().map(|a| a.quote.amount.0 as i128).sum();
    let buckets = p.insurance_fund.0 as i128
        + p.fee_account.0 as i128
        + p.lending.interest_clearing.0 as i128
        + st.markets
            .iter()
            .map(|m| m.funding_clearing.0 as i128)
            .sum::<i128>()
        - p.bad_debt.0 as i128;
    assert_eq!(claims + buckets, st.assets[USDC.idx()].net_deposits);
    // each account can claim exactly its balance
    let have = st.accounts[0].quote.amount;
    run(
        &mut e,
        &[at(
            6,
            Command::Claim {
                account: AccountId(0),
                asset: USDC,
                amount: have,
            },
        )],
    );
}

/// A short call deep in the money, below maintenance and holding nothing else, is liquidated:
/// the keeper takes the short over at the model mark, the account pays the penalty and ends
/// above its (now zero) requirement.
#[test]
fn a_deep_in_the_money_short_call_is_liquidated() {
    let mut e = book();
    run(
        &mut e,
        &[
            at(0, deposit(2, USDC, usdc(20_000))),
            at(1, option_fill(CALL, 3, 2, 1.0, 2_500.0)),
        ],
    );
    assert_eq!(e.state().accounts[2].options[0].size.0, -btc(1.0).0);
    for (t, p) in [(2, 75_000.0), (3, 82_000.0), (4, 90_000.0)] {
        run(&mut e, &[at(t, price(p))]);
    }
    let h = e.health(AccountId(2), HealthKind::Maintenance).unwrap();
    assert!(h.0 < 0, "setup: below maintenance, got {h:?}");
    let ev = e
        .apply(&at(
            5,
            Command::Liquidate {
                liquidator: AccountId(4),
                account: AccountId(2),
                market: None,
                max_size: None,
            },
        ))
        .unwrap_or_else(|r| panic!("the short call must be liquidatable: {r}"));
    let lot = ev.iter().find_map(|x| match x {
        Event::Liquidated { lot, penalty, .. } => Some((*lot, *penalty)),
        _ => None,
    });
    let (lot, penalty) = lot.expect("a Liquidated event");
    assert_eq!(lot, ballast_engine::state::Lot::Option(CALL));
    assert!(penalty.0 > 0, "the account pays a penalty");
    assert!(e.state().accounts[2].options.is_empty());
    let after = e.health(AccountId(2), HealthKind::Maintenance).unwrap();
    assert!(after.0 >= 0, "back above maintenance: {after:?}");
    let keeper = &e.state().accounts[4].options;
    assert_eq!(keeper.len(), 1);
    assert_eq!(
        keeper[0].size.0,
        -btc(1.0).0,
        "the keeper now holds the short"
    );
    // long open interest is unchanged: the long (account 3) still holds its call
    assert_eq!(e.state().series[0].long_oi, btc(1.0));
    assert_conserved(&e);
}
