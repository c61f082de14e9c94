//! Regressions for the ledger-arithmetic review (issue 9): each reproducer below wrapped in a
//! release build before the arithmetic was checked. Every one must now be refused with a typed
//! reason and an unchanged state hash, or be computed exactly.

mod common;

use ballast_engine::command::Command;
use ballast_engine::demo::{self, btc, usdc, BTC, BTC_PERP, ETH, POOL, USDC};
use ballast_engine::ids::{AccountId, MarketId, OwnerId, SeriesId};
use ballast_engine::num::{Amount, Ratio, Timestamp};
use ballast_engine::params::{MarketParams, PoolParams};
use ballast_engine::{journal, Engine, HealthKind, Reject, Role};
use ballast_options::pricing::OptionKind;
use common::{assert_conserved, at, flat, run, world};

const DAY: i64 = 86_400_000;

/// Applies a command that must be refused: the state hash is unchanged and value conserved.
fn refused(e: &mut Engine, t: i64, cmd: Command) -> Reject {
    let h = e.state_hash();
    let r = e
        .apply(&at(t, cmd.clone()))
        .expect_err(&format!("{cmd:?} was accepted"));
    assert_eq!(h, e.state_hash(), "a refused command changed the state");
    assert_conserved(e);
    r
}

fn deposit(account: u32, asset: ballast_engine::ids::AssetId, amount: Amount) -> Command {
    Command::Deposit {
        account: AccountId(account),
        asset,
        amount,
    }
}

/// The reviewer's fill: two empty accounts, 785,267,169,184,660 sats of BTC-PERP at 65,000.
fn huge_fill() -> Command {
    Command::Fill {
        market: BTC_PERP,
        taker: AccountId(1),
        maker: AccountId(2),
        size: Amount(785_267_169_184_660),
        price: 65_000.0,
    }
}

/// A pool whose domain limits are the types' own, so only the checked arithmetic can refuse.
fn unbounded_world() -> Engine {
    let mut e = Engine::new();
    let mut g = demo::genesis(0);
    for env in &mut g {
        if let Command::CreatePool { params, .. } = &mut env.cmd {
            params.max_position_notional = Amount(i64::MAX);
            params.max_account_value = Amount(i64::MAX);
        }
        if let Command::CreateMarket { params, .. } = &mut env.cmd {
            // the reviewer's −5 bps maker rebate, inside the governed bounds
            params.maker_fee = Ratio(-500_000);
        }
    }
    run(&mut e, &g);
    for i in 0..3 {
        run(
            &mut e,
            &[at(
                0,
                Command::OpenAccount {
                    owner: OwnerId(i),
                    pool: POOL,
                },
            )],
        );
    }
    run(&mut e, &[at(0, deposit(0, USDC, usdc(1_000_000)))]);
    e
}

#[test]
fn a_zero_collateral_fill_is_refused_and_lenders_keep_their_money() {
    let mut e = unbounded_world();
    let r = refused(&mut e, 1, huge_fill());
    assert!(
        matches!(r, Reject::InsufficientMargin { .. } | Reject::Overflow),
        "{r}"
    );
    // the maker cannot withdraw the lender's deposit, and the lender can
    let r = refused(
        &mut e,
        2,
        Command::Withdraw {
            account: AccountId(2),
            asset: USDC,
            amount: usdc(999_999),
        },
    );
    assert!(
        matches!(
            r,
            Reject::InsufficientBalance { .. } | Reject::InsufficientMargin { .. }
        ),
        "{r}"
    );
    run(
        &mut e,
        &[at(
            3,
            Command::Withdraw {
                account: AccountId(0),
                asset: USDC,
                amount: usdc(1_000_000),
            },
        )],
    );
    assert_conserved(&e);
}

#[test]
fn the_position_notional_cap_is_a_typed_refusal() {
    // demo pools cap one position at 100 bn USDC; the fill is 510 bn
    let mut e = world(3);
    run(&mut e, &[at(0, deposit(1, USDC, usdc(1_000_000_000)))]);
    run(&mut e, &[at(0, deposit(2, USDC, usdc(1_000_000_000)))]);
    let r = refused(&mut e, 1, huge_fill());
    match r {
        Reject::PositionTooLarge { notional, cap, .. } => {
            assert_eq!(cap, usdc(100_000_000_000));
            assert!(notional > cap);
        }
        other => panic!("expected PositionTooLarge, got {other}"),
    }
    // just under the cap (and within margin) is accepted
    run(
        &mut e,
        &[at(
            2,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(1),
                maker: AccountId(2),
                size: btc(100.0),
                price: 65_000.0,
            },
        )],
    );
}

#[test]
fn the_account_value_cap_refuses_a_deposit() {
    let mut e = world(1);
    // 20 M BTC at 65,000 = 1.3 tn USDC, above the demo cap of 1 tn (and far inside the types)
    let r = refused(&mut e, 1, deposit(0, BTC, Amount(2_000_000_000_000_000)));
    assert!(matches!(r, Reject::AccountValueTooLarge { .. }), "{r}");
}

#[test]
fn implausible_timestamps_are_refused_with_the_reason() {
    let mut e = world(1);
    for t in [
        i64::MAX,
        1_764_000_000_000_000, /* microseconds, 2025 */
    ] {
        let r = refused(&mut e, t, deposit(0, USDC, usdc(1)));
        assert!(matches!(r, Reject::TimestampImplausible { .. }), "{r}");
        assert!(r.to_string().contains("microseconds"), "{r}");
    }
    let r = refused(&mut e, -1, deposit(0, USDC, usdc(1)));
    assert!(matches!(r, Reject::TimestampNegative(_)), "{r}");
}

/// A lender (1 M), a borrower of 10 k against 1 BTC, then a gap of `gap` ms.
fn lending_after(gap: i64) -> (Engine, Result<(), Reject>) {
    let mut e = world(2);
    run(
        &mut e,
        &[
            at(0, deposit(0, USDC, usdc(1_000_000))),
            at(0, deposit(1, BTC, btc(1.0))),
            at(
                0,
                Command::Borrow {
                    account: AccountId(1),
                    amount: usdc(10_000),
                },
            ),
        ],
    );
    let r = e.apply(&at(gap, deposit(0, USDC, usdc(1)))).map(|_| ());
    (e, r)
}

#[test]
fn a_long_gap_accrues_in_bounded_steps_and_never_wraps() {
    // The longest gap the timestamps allow: compounding per year either fits or is refused.
    let (mut e, r) = lending_after(ballast_engine::MAX_TIMESTAMP_MS);
    match r {
        Ok(()) => {}
        Err(Reject::Overflow) => {}
        Err(other) => panic!("{other}"),
    }
    assert_conserved(&e);
    // the debt is still a debt, and the lender cannot take more than it is owed
    let debt = e.state().accounts[1].quote.amount;
    assert!(debt.0 < 0, "a debt turned into a deposit: {debt}");
    let r = refused(
        &mut e,
        ballast_engine::MAX_TIMESTAMP_MS,
        Command::Withdraw {
            account: AccountId(0),
            asset: USDC,
            amount: usdc(2_000_000),
        },
    );
    assert!(
        matches!(
            r,
            Reject::InsufficientBalance { .. }
                | Reject::InsufficientLiquidity { .. }
                | Reject::Overflow
        ),
        "{r}"
    );
}

#[test]
fn ten_years_of_interest_compound_yearly_and_exactly() {
    let (e, r) = lending_after(10 * 365 * DAY);
    r.unwrap();
    assert_conserved(&e);
    let l = &e.state().pools[0].lending;
    // the borrow index grew, the supply index grew less, both stayed positive
    assert!(
        l.borrow_index > l.deposit_index && l.deposit_index > ballast_engine::rates::INDEX_SCALE
    );
}

#[test]
fn an_interest_insolvent_borrower_is_in_the_queue() {
    // Lender 52,000; borrower 1 BTC (init weight 0.8 → 52,000) borrows all of it: U = 100%,
    // 64 %/yr, so maintenance health (weight 0.9 → 58,500) goes negative in about 71 days.
    let mut e = world(2);
    run(
        &mut e,
        &[
            at(0, deposit(0, USDC, usdc(52_000))),
            at(0, deposit(1, BTC, btc(1.0))),
            at(
                0,
                Command::Borrow {
                    account: AccountId(1),
                    amount: usdc(51_990),
                },
            ),
        ],
    );
    assert!(e.below_maintenance().is_empty());
    // a price update for another asset moves the clock 77 days on
    let t = 77 * DAY;
    run(
        &mut e,
        &[at(
            t,
            Command::SetPrice {
                asset: ETH,
                price: 3_000.0,
            },
        )],
    );
    let h = e.health(AccountId(1), HealthKind::Maintenance).unwrap();
    assert!(h.0 < 0, "the borrower should be insolvent by now: {h:?}");
    assert_eq!(e.below_maintenance(), vec![AccountId(1)]);
    assert_eq!(e.below_maintenance_scan(), vec![AccountId(1)]);
    let q = e.liquidation_queue();
    assert_eq!(q.first().map(|x| x.account), Some(AccountId(1)));
}

/// 0-decimal base asset at 9 (raw price 9e18, near i64::MAX), a long at 9, the price falls to 7:
/// mark TWAP above index TWAP, the rate clamps, and the long must pay, not receive.
#[test]
fn funding_at_the_clamp_has_the_right_sign() {
    let mut e = world(2);
    let g = Role::Governor;
    run(
        &mut e,
        &[
            at(
                0,
                Command::CreateAsset {
                    role: g,
                    symbol: "ZERO".into(),
                    decimals: 0,
                },
            ),
            at(
                0,
                Command::SetPrice {
                    asset: ballast_engine::ids::AssetId(3),
                    price: 9.0,
                },
            ),
            at(
                0,
                Command::CreateMarket {
                    role: g,
                    symbol: "ZERO-PERP".into(),
                    pool: POOL,
                    base: ballast_engine::ids::AssetId(3),
                    params: demo::market_params(),
                },
            ),
            at(0, deposit(0, USDC, usdc(1_000))),
            at(0, deposit(1, USDC, usdc(1_000))),
            at(
                0,
                Command::Fill {
                    market: MarketId(2),
                    taker: AccountId(0),
                    maker: AccountId(1),
                    size: Amount(100),
                    price: 9.0,
                },
            ),
        ],
    );
    let before = e.state().accounts[0].quote.amount;
    run(
        &mut e,
        &[
            at(
                DAY / 24,
                Command::SetPrice {
                    asset: ballast_engine::ids::AssetId(3),
                    price: 7.0,
                },
            ),
            at(
                DAY / 12,
                Command::SettleFunding {
                    market: MarketId(2),
                },
            ),
            // a reducing fill settles the long's funding into its quote balance
            at(
                DAY / 12,
                Command::Fill {
                    market: MarketId(2),
                    taker: AccountId(1),
                    maker: AccountId(0),
                    size: Amount(1),
                    price: 7.0,
                },
            ),
        ],
    );
    let rate = e.state().markets[2].funding_index;
    assert!(
        rate > 0,
        "mark above index: the index must rise (longs pay), got {rate}"
    );
    let paid = e.state().accounts[0]
        .positions
        .iter()
        .find(|p| p.market == MarketId(2))
        .map(|p| p.size);
    assert_eq!(paid, Some(Amount(99)));
    // the long paid funding (and realized a loss): its quote balance fell
    assert!(e.state().accounts[0].quote.amount < before);
    assert_conserved(&e);
}

#[test]
fn option_settlement_at_a_huge_spot_is_exact_or_refused() {
    let mut e = world(4);
    let g = Role::Governor;
    let exp = 30 * DAY;
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
            at(
                0,
                Command::CreateOptionSeries {
                    role: g,
                    pool: POOL,
                    underlying: BTC,
                    kind: OptionKind::Call,
                    strike: 70_000.0,
                    expiry: Timestamp(exp),
                },
            ),
            at(0, deposit(0, USDC, usdc(100_000_000))),
            at(0, deposit(1, USDC, usdc(100_000_000))),
            at(0, deposit(3, USDC, usdc(900_000_000))),
        ],
    );
    for taker in [0, 1] {
        run(
            &mut e,
            &[at(
                1,
                Command::OptionFill {
                    series: SeriesId(0),
                    taker: AccountId(taker),
                    maker: AccountId(3),
                    size: btc(5_200.0),
                    premium: 1_000.0,
                },
            )],
        );
    }
    run(
        &mut e,
        &[
            at(
                exp,
                Command::SetPrice {
                    asset: BTC,
                    price: 9.0e8,
                },
            ),
            at(
                exp,
                Command::ExpireSeries {
                    series: SeriesId(0),
                },
            ),
        ],
    );
    // Exact payoff of one 5,200-BTC call: size × (settle − strike) in fixed point.
    let s = &e.state().series[0];
    let per_call = (btc(5_200.0).0 as i128
        * (s.settlement.unwrap().raw() as i128 - s.strike.raw() as i128))
        .div_euclid(1_000_000_000_000);
    for a in [0u32, 1, 3] {
        let q0 = e.state().accounts[a as usize].quote.amount.0 as i128;
        let h = e.state_hash();
        match e.apply(&at(
            exp + 1,
            Command::SettleOptions {
                account: AccountId(a),
            },
        )) {
            Ok(_) => {
                let q1 = e.state().accounts[a as usize].quote.amount.0 as i128;
                let want = if a == 3 { -2 * per_call } else { per_call };
                assert_eq!(q1 - q0, want, "account {a}: payoff not exact");
            }
            Err(r) => {
                assert_eq!(r, Reject::Overflow, "account {a}");
                assert_eq!(h, e.state_hash());
            }
        }
        assert_conserved(&e);
    }
    // The short owes 2 × 4.68e18 native units, beyond an i64: it must have been refused.
    assert!(!e.state().accounts[3].options.is_empty());
}

#[test]
fn a_misspelt_field_is_a_parse_error_naming_it() {
    let line = r#"{"time":0,"cmd":{"type":"liquidate","liquidator":2,"account":3,"market":null,"max_sise":35000000}}"#;
    let err = journal::parse(line).expect_err("typo accepted");
    assert!(err.to_string().contains("max_sise"), "{err}");
    let line = r#"{"time":0,"cmd":{"type":"deposit","account":0,"asset":0,"amount":1},"extra":1}"#;
    let err = journal::parse(line).expect_err("unknown envelope field accepted");
    assert!(err.to_string().contains("extra"), "{err}");
    // A pool with a misspelt safety parameter
    let mut p = serde_json::to_value(demo::pool_params()).unwrap();
    p["borow_cap"] = serde_json::json!(1);
    let err = serde_json::from_value::<PoolParams>(p).expect_err("typo accepted");
    assert!(err.to_string().contains("borow_cap"), "{err}");
    let mut m = serde_json::to_value(demo::market_params()).unwrap();
    m["maint_margn"] = serde_json::json!(1);
    assert!(serde_json::from_value::<MarketParams>(m).is_err());
}

#[test]
fn a_long_asset_symbol_is_refused() {
    let mut e = world(0);
    let r = refused(
        &mut e,
        0,
        Command::CreateAsset {
            role: Role::Governor,
            symbol: "X".repeat(100_000),
            decimals: 6,
        },
    );
    assert!(matches!(r, Reject::TooLong { .. }), "{r}");
}
