//! Options as instruments: premium through the ledger, cash settlement at expiry, the short
//! option rule, portfolio margin as an account's choice, Greeks, bad input, and a property test
//! of conservation and untouched state on rejection.

mod common;

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo::{btc, usdc, BTC, BTC_PERP, POOL, USDC};
use ballast_engine::ids::{AccountId, SeriesId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::state::MarginMode;
use ballast_engine::{Engine, HealthKind, Reject, Role};
use ballast_options::portfolio::SurfaceSpec;
use ballast_options::pricing::{bsm, BsmParams, OptionKind};
use common::*;
use proptest::prelude::*;

const DAY: i64 = 86_400_000;
const YEAR: i64 = 365 * DAY;

fn flat(vol: f64) -> SurfaceSpec {
    SurfaceSpec::Grid {
        expiries: vec![0.001, 2.0],
        log_moneyness: vec![-2.0, 2.0],
        vols: vec![vec![vol, vol], vec![vol, vol]],
    }
}

/// Genesis at t=0, BTC at 65,000 with a flat 60% surface, a 30-day 70,000 call and 60,000 put,
/// four funded accounts (0, 1 well funded; 2 thin; 3 a market maker).
fn book() -> Engine {
    let mut e = world(4);
    let exp = Timestamp(30 * DAY);
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
                    role: Role::Governor,
                    pool: POOL,
                    underlying: BTC,
                    kind: OptionKind::Call,
                    strike: 70_000.0,
                    expiry: exp,
                },
            ),
            at(
                0,
                Command::CreateOptionSeries {
                    role: Role::Governor,
                    pool: POOL,
                    underlying: BTC,
                    kind: OptionKind::Put,
                    strike: 60_000.0,
                    expiry: exp,
                },
            ),
            at(
                0,
                Command::Deposit {
                    account: AccountId(0),
                    asset: USDC,
                    amount: usdc(100_000),
                },
            ),
            at(
                0,
                Command::Deposit {
                    account: AccountId(1),
                    asset: USDC,
                    amount: usdc(100_000),
                },
            ),
            at(
                0,
                Command::Deposit {
                    account: AccountId(2),
                    asset: USDC,
                    amount: usdc(1_000),
                },
            ),
            at(
                0,
                Command::Deposit {
                    account: AccountId(3),
                    asset: USDC,
                    amount: usdc(10_000_000),
                },
            ),
        ],
    );
    e
}

const CALL: SeriesId = SeriesId(0);
const PUT: SeriesId = SeriesId(1);

fn fill(series: SeriesId, taker: u32, maker: u32, size: f64, premium: f64) -> Command {
    Command::OptionFill {
        series,
        taker: AccountId(taker),
        maker: AccountId(maker),
        size: btc(size),
        premium,
    }
}

#[test]
fn premium_moves_and_expiry_pays_intrinsic() {
    let mut e = book();
    let q0 = e.state().accounts[0].quote.amount;
    e.apply(&at(1, fill(CALL, 0, 3, 2.0, 2_500.0))).unwrap();
    // 2 × 2,500 premium; fee min(0.03% × 2 × 65,000, 12.5% × 5,000) = 39.
    assert_eq!(
        e.state().accounts[0].quote.amount.0,
        q0.0 - usdc(5_000).0 - usdc(39).0
    );
    assert_eq!(e.state().series[0].long_oi, btc(2.0));
    assert_conserved(&e);
    // Expiry: BTC at 75,000 → the call pays 5,000 per BTC.
    let t = 30 * DAY;
    run(
        &mut e,
        &[at(
            t,
            Command::SetPrice {
                asset: BTC,
                price: 75_000.0,
            },
        )],
    );
    let r = rejects(&mut e, t, fill(CALL, 0, 3, 1.0, 5_000.0));
    assert_eq!(r, Reject::SeriesExpired(CALL));
    run(&mut e, &[at(t, Command::ExpireSeries { series: CALL })]);
    let (l0, s0) = (
        e.state().accounts[0].quote.amount.0,
        e.state().accounts[3].quote.amount.0,
    );
    run(
        &mut e,
        &[
            at(
                t + 1,
                Command::SettleOptions {
                    account: AccountId(0),
                },
            ),
            at(
                t + 1,
                Command::SettleOptions {
                    account: AccountId(3),
                },
            ),
        ],
    );
    assert_eq!(e.state().accounts[0].quote.amount.0 - l0, usdc(10_000).0);
    assert_eq!(s0 - e.state().accounts[3].quote.amount.0, usdc(10_000).0);
    assert!(e.state().accounts[0].options.is_empty() && e.state().accounts[3].options.is_empty());
    assert!(e.state().series[0].clearing.0 >= 0);
    assert_conserved(&e);
    let r = rejects(
        &mut e,
        t + 2,
        Command::SettleOptions {
            account: AccountId(0),
        },
    );
    assert_eq!(r, Reject::NothingToSettle(AccountId(0)));
}

#[test]
fn a_short_option_needs_margin() {
    let mut e = book();
    // Selling 1 BTC of the put needs about 0.15·65,000 − OTM ≈ 4,750 + mark: account 2 has 1,000.
    let r = rejects(&mut e, 1, fill(PUT, 2, 3, -1.0, 1_000.0));
    assert!(
        matches!(
            r,
            Reject::InsufficientMargin {
                account: AccountId(2),
                ..
            }
        ),
        "{r:?}"
    );
    e.apply(&at(1, fill(PUT, 1, 3, -1.0, 1_000.0))).unwrap();
    let b = e.breakdown(AccountId(1), HealthKind::Initial).unwrap();
    // max(0.15 − 5,000/65,000, 0.10) × 65,000 = 6,500 on top of the mark.
    assert!(
        (b.requirement.to_human(6) - 6_500.0).abs() < 0.01,
        "{}",
        b.requirement.to_human(6)
    );
    assert_eq!(
        b.health,
        e.health(AccountId(1), HealthKind::Initial).unwrap()
    );
}

#[test]
fn greeks_per_account_and_pool() {
    let mut e = book();
    e.apply(&at(1, fill(CALL, 0, 3, 2.0, 2_500.0))).unwrap();
    e.apply(&at(
        1,
        Command::Fill {
            market: BTC_PERP,
            taker: AccountId(1),
            maker: AccountId(3),
            size: btc(0.5),
            price: 65_000.0,
        },
    ))
    .unwrap();
    let g = bsm(
        OptionKind::Call,
        &BsmParams::new(
            65_000.0,
            70_000.0,
            (30.0 * 86_400_000.0 - 1.0) / (YEAR as f64),
            0.0,
            0.0,
            0.6,
        )
        .unwrap(),
    )
    .unwrap();
    let a = e.account_greeks(AccountId(0)).unwrap();
    assert_eq!(a.len(), 1);
    assert!(
        (a[0].delta - 2.0 * g.delta).abs() < 1e-9,
        "{} vs {}",
        a[0].delta,
        2.0 * g.delta
    );
    assert!((a[0].vega - 2.0 * g.vega).abs() < 1e-6);
    let mm = e.account_greeks(AccountId(3)).unwrap();
    assert!(
        (mm[0].delta + 2.0 * g.delta + 0.5).abs() < 1e-9,
        "maker is short the call and the perp"
    );
    let pool = e.pool_greeks(POOL).unwrap();
    let btc_line = pool.iter().find(|x| x.asset == BTC).unwrap();
    assert!((btc_line.delta - (2.0 * g.delta + 0.5)).abs() < 1e-9);
    assert!(btc_line.gamma > 0.0);
}

#[test]
fn portfolio_margin_credits_a_delta_hedge_and_switching_needs_margin() {
    let mut e = book();
    run(
        &mut e,
        &[at(
            1,
            Command::Deposit {
                account: AccountId(2),
                asset: USDC,
                amount: usdc(99_000),
            },
        )],
    );
    for a in 0..3 {
        run(
            &mut e,
            &[at(
                1,
                Command::SetMarginMode {
                    account: AccountId(a),
                    mode: MarginMode::Portfolio,
                },
            )],
        );
    }
    // Account 0: long 10 calls + short perp at the call's delta (≈0.365); account 1 the calls
    // alone; account 2 the perp alone.
    let hedge = Command::Fill {
        market: BTC_PERP,
        taker: AccountId(0),
        maker: AccountId(3),
        size: btc(-3.65),
        price: 65_000.0,
    };
    let perp = Command::Fill {
        market: BTC_PERP,
        taker: AccountId(2),
        maker: AccountId(3),
        size: btc(-3.65),
        price: 65_000.0,
    };
    run(
        &mut e,
        &[
            at(1, fill(CALL, 0, 3, 10.0, 2_500.0)),
            at(1, hedge),
            at(1, fill(CALL, 1, 3, 10.0, 2_500.0)),
            at(1, perp),
        ],
    );
    let req = |e: &Engine, a: u32| {
        e.breakdown(AccountId(a), HealthKind::Maintenance)
            .unwrap()
            .requirement
            .to_human(6)
    };
    let (hedged, calls, short_perp) = (req(&e, 0), req(&e, 1), req(&e, 2));
    assert!(
        hedged < 0.5 * (calls + short_perp),
        "hedged {hedged} vs standalone {calls} + {short_perp}"
    );
    // Switching into a mode the account cannot afford is refused: a short put is margined more
    // strictly by the scenario grid than by the standard rule.
    let mut e = book();
    run(&mut e, &[at(2, fill(PUT, 2, 3, -0.05, 1_000.0))]);
    run(
        &mut e,
        &[at(
            2,
            Command::Withdraw {
                account: AccountId(2),
                asset: USDC,
                amount: usdc(600),
            },
        )],
    );
    let r = rejects(
        &mut e,
        3,
        Command::SetMarginMode {
            account: AccountId(2),
            mode: MarginMode::Portfolio,
        },
    );
    assert!(
        matches!(
            r,
            Reject::InsufficientMargin {
                account: AccountId(2),
                ..
            }
        ),
        "{r:?}"
    );
}

#[test]
fn a_short_strangle_needs_more_when_volatility_rises() {
    let mut e = book();
    run(
        &mut e,
        &[at(
            1,
            Command::SetMarginMode {
                account: AccountId(1),
                mode: MarginMode::Portfolio,
            },
        )],
    );
    run(
        &mut e,
        &[
            at(1, fill(CALL, 1, 3, -1.0, 2_500.0)),
            at(1, fill(PUT, 1, 3, -1.0, 1_500.0)),
        ],
    );
    let low = e
        .breakdown(AccountId(1), HealthKind::Maintenance)
        .unwrap()
        .requirement
        .to_human(6);
    run(
        &mut e,
        &[at(
            2,
            Command::SetVolSurface {
                asset: BTC,
                surface: flat(1.2),
            },
        )],
    );
    let high = e
        .breakdown(AccountId(1), HealthKind::Maintenance)
        .unwrap()
        .requirement
        .to_human(6);
    assert!(high > low, "requirement at 120% vol {high} vs 60% {low}");
    let h_low_vol_std = {
        let mut s = book();
        run(
            &mut s,
            &[
                at(1, fill(CALL, 1, 3, -1.0, 2_500.0)),
                at(1, fill(PUT, 1, 3, -1.0, 1_500.0)),
            ],
        );
        let a = s.health(AccountId(1), HealthKind::Maintenance).unwrap();
        run(
            &mut s,
            &[at(
                2,
                Command::SetVolSurface {
                    asset: BTC,
                    surface: flat(1.2),
                },
            )],
        );
        (a, s.health(AccountId(1), HealthKind::Maintenance).unwrap())
    };
    assert!(
        h_low_vol_std.1 < h_low_vol_std.0,
        "standard margin also marks the shorts up"
    );
}

#[test]
fn bad_option_input() {
    let mut e = book();
    let r = rejects(
        &mut e,
        5,
        Command::CreateOptionSeries {
            role: Role::Governor,
            pool: POOL,
            underlying: BTC,
            kind: OptionKind::Call,
            strike: 1.0,
            expiry: Timestamp(4),
        },
    );
    assert!(matches!(r, Reject::ExpiryNotInFuture { .. }), "{r:?}");
    for strike in [0.0, -5.0, f64::NAN] {
        let r = rejects(
            &mut e,
            5,
            Command::CreateOptionSeries {
                role: Role::Governor,
                pool: POOL,
                underlying: BTC,
                kind: OptionKind::Put,
                strike,
                expiry: Timestamp(DAY),
            },
        );
        assert!(matches!(r, Reject::InvalidPrice { .. }), "{r:?}");
    }
    let r = rejects(
        &mut e,
        5,
        Command::CreateOptionSeries {
            role: Role::Governor,
            pool: POOL,
            underlying: USDC,
            kind: OptionKind::Put,
            strike: 1.0,
            expiry: Timestamp(DAY),
        },
    );
    assert!(matches!(r, Reject::InvalidParams(_)), "{r:?}");
    // Calendar arbitrage: total variance falling with expiry.
    let bad = SurfaceSpec::Grid {
        expiries: vec![0.1, 1.0],
        log_moneyness: vec![-1.0, 1.0],
        vols: vec![vec![1.0, 1.0], vec![0.2, 0.2]],
    };
    let r = rejects(
        &mut e,
        5,
        Command::SetVolSurface {
            asset: BTC,
            surface: bad,
        },
    );
    assert!(matches!(r, Reject::Options(_)), "{r:?}");
    let r = rejects(
        &mut e,
        5,
        Command::SetVolSurface {
            asset: BTC,
            surface: flat(-0.5),
        },
    );
    assert!(matches!(r, Reject::Options(_)), "{r:?}");
    let r = rejects(&mut e, 5, fill(CALL, 0, 3, 1.0, f64::NAN));
    assert_eq!(r, Reject::InvalidPremium(CALL));
    let r = rejects(&mut e, 5, fill(SeriesId(9), 0, 3, 1.0, 1.0));
    assert_eq!(r, Reject::UnknownSeries(SeriesId(9)));
    let r = rejects(&mut e, 5, Command::ExpireSeries { series: CALL });
    assert!(matches!(r, Reject::SeriesNotExpired { .. }), "{r:?}");
    let r = rejects(
        &mut e,
        5,
        Command::SetMarginMode {
            account: AccountId(9),
            mode: MarginMode::Portfolio,
        },
    );
    assert_eq!(r, Reject::UnknownAccount(AccountId(9)));
}

#[derive(Debug, Clone)]
enum Op {
    Trade(bool, u32, u32, i64, f64),
    Price(f64),
    Vol(f64),
    Mode(u32, bool),
    Expire(bool),
    Settle(u32),
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (any::<bool>(), 0..4u32, 0..4u32, -300_000_000i64..300_000_000, 0.0..6_000.0f64).prop_map(|(c, t, m, s, p)| Op::Trade(c, t, m, s, p)),
        3 => (0.8..1.25f64).prop_map(Op::Price),
        1 => (0.2..1.5f64).prop_map(Op::Vol),
        1 => (0..4u32, any::<bool>()).prop_map(|(a, p)| Op::Mode(a, p)),
        1 => any::<bool>().prop_map(Op::Expire),
        2 => (0..4u32).prop_map(Op::Settle),
        2 => (0..10 * DAY).prop_map(Op::Wait),
    ]
}

fn options_case(ops: Vec<Op>, trades: &std::cell::Cell<usize>) -> Result<(), TestCaseError> {
    let mut e = book();
    let mut t = 1;
    let mut price = 65_000.0;
    let mut accepted_trades = 0usize;
    for op in ops {
        let cmd = match op {
            Op::Trade(call, tk, mk, s, p) => Command::OptionFill {
                series: if call { CALL } else { PUT },
                taker: AccountId(tk),
                maker: AccountId(mk),
                size: Amount(s),
                premium: p,
            },
            Op::Price(f) => {
                price *= f;
                Command::SetPrice { asset: BTC, price }
            }
            Op::Vol(v) => Command::SetVolSurface {
                asset: BTC,
                surface: flat(v),
            },
            Op::Mode(a, p) => Command::SetMarginMode {
                account: AccountId(a),
                mode: if p {
                    MarginMode::Portfolio
                } else {
                    MarginMode::Standard
                },
            },
            Op::Expire(call) => Command::ExpireSeries {
                series: if call { CALL } else { PUT },
            },
            Op::Settle(a) => Command::SettleOptions {
                account: AccountId(a),
            },
            Op::Wait(dt) => {
                t += dt;
                continue;
            }
        };
        t += 1;
        let before = e.state_hash();
        let is_trade = matches!(cmd, Command::OptionFill { .. });
        match e.apply(&Envelope {
            by: None,
            time: Timestamp(t),
            cmd,
        }) {
            Err(_) => prop_assert_eq!(before, e.state_hash()),
            Ok(_) => accepted_trades += usize::from(is_trade),
        }
        for (asset, gap) in e.conservation_gaps() {
            prop_assert_eq!(gap, 0, "asset {} not conserved", asset);
        }
        for s in &e.state().series {
            let longs: i64 = e
                .state()
                .accounts
                .iter()
                .flat_map(|a| a.options.iter())
                .filter(|o| o.size.0 > 0 && std::ptr::eq(&e.state().series[o.series.idx()], s))
                .map(|o| o.size.0)
                .sum();
            let shorts: i64 = e
                .state()
                .accounts
                .iter()
                .flat_map(|a| a.options.iter())
                .filter(|o| o.size.0 < 0 && std::ptr::eq(&e.state().series[o.series.idx()], s))
                .map(|o| -o.size.0)
                .sum();
            if s.settlement.is_none() {
                prop_assert_eq!(longs, shorts);
                prop_assert_eq!(longs, s.long_oi.0);
            }
        }
    }
    prop_assert_eq!(e.below_maintenance(), e.below_maintenance_scan());
    trades.set(trades.get() + accepted_trades);
    Ok(())
}

/// Option fills, expiries and settlements over 64 random sequences conserve value and
/// rejections change nothing; the generator must reach accepted option trades.
#[test]
fn options_conserve_value_and_rejections_change_nothing() {
    let trades = std::cell::Cell::new(0usize);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..60), |ops| {
            options_case(ops, &trades)
        })
        .unwrap();
    eprintln!(
        "coverage: {} option trades accepted over 64 sequences",
        trades.get()
    );
    assert!(
        trades.get() >= 64,
        "only {} option trades accepted",
        trades.get()
    );
}
