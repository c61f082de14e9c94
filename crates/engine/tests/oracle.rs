//! The engine behind multi-source oracles and circuit breakers: manipulation, naive single
//! source, crash halts, staleness, outflow limits, and a property test that blocked commands
//! change nothing.

mod common;

use ballast_engine::command::{Command, Envelope, Scope, SourceQuote};
use ballast_engine::demo::{btc, usdc, BTC, BTC_PERP, ETH, POOL, USDC};
use ballast_engine::ids::AccountId;
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::{Engine, Event, HealthKind, Reject, Role};
use ballast_oracle::aggregate::{AggregatorConfig, OracleStatus, SourceId, SourceSpec};
use ballast_oracle::breaker::{BreakerConfig, FlowLimiterConfig, Mode};
use ballast_oracle::smooth::StablePriceConfig;
use ballast_oracle::validity::{Action, Gate};
use common::*;
use proptest::prelude::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

fn sources(n: u32) -> Vec<SourceSpec> {
    (0..n)
        .map(|i| SourceSpec {
            id: SourceId(i),
            weight: 1.0,
        })
        .collect()
}

/// Genesis + 4 accounts; BTC priced by an `n`-source oracle with quorum `quorum`; a lender
/// (account 3) and 1 BTC of collateral in account 0.
fn world_with_oracle(n: u32, quorum: usize) -> Engine {
    world_with_config(
        n,
        AggregatorConfig {
            quorum,
            ..AggregatorConfig::default()
        },
    )
}

/// A governance that declares divergence as soon as a quarter of the weight is rejected (by
/// default a strict minority is dropped by the median without divergence).
fn strict(quorum: usize) -> AggregatorConfig {
    AggregatorConfig {
        quorum,
        max_outlier_weight: 0.25,
        ..AggregatorConfig::default()
    }
}

fn world_with_config(n: u32, config: AggregatorConfig) -> Engine {
    let mut e = world(4);
    let stable = StablePriceConfig::default();
    run(
        &mut e,
        &[
            at(
                0,
                Command::ConfigureOracle {
                    role: Role::Governor,
                    asset: BTC,
                    sources: sources(n),
                    config,
                    stable,
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
            at(
                0,
                Command::Deposit {
                    account: AccountId(0),
                    asset: BTC,
                    amount: btc(1.0),
                },
            ),
        ],
    );
    e
}

fn q(source: u32, price: f64) -> SourceQuote {
    SourceQuote {
        source,
        price,
        confidence: price * 1e-4,
    }
}

fn quote(e: &mut Engine, t: i64, source: u32, price: f64) {
    e.apply(&at(
        t,
        Command::OracleUpdate {
            asset: BTC,
            quotes: vec![q(source, price)],
        },
    ))
    .unwrap();
}

/// All three sources at once (one aggregate).
fn quote_all(e: &mut Engine, t: i64, price: f64) -> Vec<Event> {
    let quotes = (0..3)
        .map(|s| q(s, price * (1.0 + 1e-4 * s as f64)))
        .collect();
    e.apply(&at(t, Command::OracleUpdate { asset: BTC, quotes }))
        .unwrap()
}

fn btc_price(e: &Engine) -> f64 {
    e.state().assets[BTC.idx()].price.unwrap().to_human(8, 6)
}

fn btc_status(e: &Engine, t: i64) -> OracleStatus {
    e.state().assets[BTC.idx()]
        .oracle
        .as_ref()
        .unwrap()
        .status_at(t)
        .0
}

#[test]
fn set_price_is_refused_once_an_oracle_prices_the_asset() {
    let mut e = world_with_oracle(3, 2);
    let r = rejects(
        &mut e,
        1,
        Command::SetPrice {
            asset: BTC,
            price: 1.0,
        },
    );
    assert_eq!(r, Reject::OracleConfigured(BTC));
    let r = rejects(
        &mut e,
        1,
        Command::OracleUpdate {
            asset: BTC,
            quotes: vec![q(9, 65_000.0)],
        },
    );
    assert!(matches!(r, Reject::Oracle(_)), "{r:?}");
    // One bad quote refuses the whole update: the good one before it is not kept either.
    let bad = vec![q(0, 65_000.0), q(1, f64::NAN)];
    let r = rejects(
        &mut e,
        1,
        Command::OracleUpdate {
            asset: BTC,
            quotes: bad,
        },
    );
    assert!(matches!(r, Reject::InvalidPrice { .. }), "{r:?}");
    let r = rejects(
        &mut e,
        1,
        Command::OracleUpdate {
            asset: ETH,
            quotes: vec![q(0, 3_000.0)],
        },
    );
    assert_eq!(r, Reject::NoOracle(ETH));
}

#[test]
fn one_manipulated_source_of_three_cannot_be_borrowed_against() {
    // By default the pumped venue is dropped: borrowing goes on at the honest price only.
    let mut e = world_with_oracle(3, 2);
    quote_all(&mut e, MIN, 65_000.0);
    let quotes = vec![q(0, 65_000.0), q(1, 65_001.0), q(2, 65_000.0 * 25.0)];
    e.apply(&at(2 * MIN, Command::OracleUpdate { asset: BTC, quotes }))
        .unwrap();
    assert!((btc_price(&e) / 65_000.0 - 1.0).abs() < 0.001);
    assert_eq!(btc_status(&e, 2 * MIN), OracleStatus::Valid);
    let r = rejects(
        &mut e,
        2 * MIN,
        Command::Borrow {
            account: AccountId(0),
            amount: usdc(70_000),
        },
    );
    assert!(matches!(r, Reject::InsufficientMargin { .. }), "{r:?}");
    e.apply(&at(
        2 * MIN,
        Command::Borrow {
            account: AccountId(0),
            amount: usdc(1_000),
        },
    ))
    .unwrap();
    strict_oracle_blocks_borrowing_during_dissent();
}

/// With the strict governed setting, the dissent itself blocks new risk.
fn strict_oracle_blocks_borrowing_during_dissent() {
    let mut e = world_with_config(3, strict(2));
    quote_all(&mut e, MIN, 65_000.0);
    assert_eq!(btc_status(&e, MIN), OracleStatus::Valid);
    // Source 2 is pumped ×25 within ten minutes while the honest venues stay put.
    let mut t = MIN;
    for step in 1..=10 {
        t += MIN;
        let pumped = 65_000.0 * (1.0 + 24.0 * step as f64 / 10.0);
        let quotes = vec![
            q(0, 65_000.0 + step as f64),
            q(1, 65_000.0 - step as f64),
            q(2, pumped),
        ];
        e.apply(&at(t, Command::OracleUpdate { asset: BTC, quotes }))
            .unwrap();
        let p = btc_price(&e);
        assert!(
            (p / 65_000.0 - 1.0).abs() < 0.01,
            "aggregate followed the pump: {p}"
        );
    }
    // The aggregate is the honest one; the dissent itself blocks new risk.
    let r = rejects(
        &mut e,
        t,
        Command::Borrow {
            account: AccountId(0),
            amount: usdc(1_000),
        },
    );
    match r {
        Reject::Blocked(b) => {
            assert_eq!(b.action, Action::Borrow);
            assert!(
                matches!(
                    b.status,
                    Gate::Oracle {
                        status: OracleStatus::Divergent,
                        ..
                    }
                ),
                "{b:?}"
            );
        }
        other => panic!("expected a block, got {other:?}"),
    }
    let r = rejects(
        &mut e,
        t,
        Command::Withdraw {
            account: AccountId(0),
            asset: BTC,
            amount: btc(0.1),
        },
    );
    assert!(matches!(r, Reject::Blocked(_)), "{r:?}");
    // Whatever the status, the collateral is never worth more than the honest price.
    let h = e.health(AccountId(0), HealthKind::Maintenance).unwrap();
    assert!(h.to_human(6) < 65_100.0 * 0.9, "{}", h.to_human(6));
    // Deposits are always allowed.
    e.apply(&at(
        t,
        Command::Deposit {
            account: AccountId(0),
            asset: USDC,
            amount: usdc(1),
        },
    ))
    .unwrap();
}

#[test]
fn naive_single_source_passes_the_spike_and_only_the_stable_price_limits_borrowing() {
    let mut e = world_with_oracle(1, 1);
    quote(&mut e, MIN, 0, 65_000.0);
    let mut t = MIN;
    for step in 1..=10 {
        t += MIN;
        quote(&mut e, t, 0, 65_000.0 * (1.0 + 24.0 * step as f64 / 10.0));
    }
    // The failure the defences exist for: the manipulated price is the engine's price, Valid.
    assert_eq!(btc_status(&e, t), OracleStatus::Valid);
    assert!(btc_price(&e) > 1_600_000.0);
    let maint = e
        .health(AccountId(0), HealthKind::Maintenance)
        .unwrap()
        .to_human(6);
    assert!(
        maint > 1_000_000.0,
        "maintenance health counts the spike: {maint}"
    );
    // New risk values the collateral at min(spot, stable): the stable price has barely moved.
    let init = e
        .health(AccountId(0), HealthKind::Initial)
        .unwrap()
        .to_human(6);
    assert!(
        init < 65_000.0,
        "initial health follows the stable price: {init}"
    );
    let r = rejects(
        &mut e,
        t,
        Command::Borrow {
            account: AccountId(0),
            amount: usdc(100_000),
        },
    );
    assert!(matches!(r, Reject::InsufficientMargin { .. }), "{r:?}");
    // What an honest valuation allows still goes through.
    e.apply(&at(
        t,
        Command::Borrow {
            account: AccountId(0),
            amount: usdc(40_000),
        },
    ))
    .unwrap();
}

#[test]
fn a_crash_halts_the_market_breaker_and_it_reopens_after_cooldown_and_grace() {
    let mut e = world_with_oracle(3, 2);
    let scope = Scope::Market(BTC_PERP);
    run(
        &mut e,
        &[
            at(
                0,
                Command::ConfigureBreaker {
                    role: Role::Governor,
                    scope,
                    config: BreakerConfig::default(),
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
                    amount: usdc(100_000),
                },
            ),
        ],
    );
    let mut price = 65_000.0;
    let mut t = 0;
    // A calm day of hourly quotes arms the volatility estimator.
    for h in 0..24 {
        t = h * HOUR + MIN;
        price *= 1.0 + 0.002 * if h % 2 == 0 { 1.0 } else { -1.0 };
        quote_all(&mut e, t, price);
    }
    let fill = |size: f64, p: f64| Command::Fill {
        market: BTC_PERP,
        taker: AccountId(1),
        maker: AccountId(2),
        size: btc(size),
        price: p,
    };
    e.apply(&at(t, fill(0.5, price))).unwrap();
    // −20% in one hour.
    t += HOUR;
    price *= 0.8;
    let transitions: Vec<Event> = quote_all(&mut e, t, price)
        .into_iter()
        .filter(|x| matches!(x, Event::BreakerTransition { .. }))
        .collect();
    assert!(
        transitions
            .iter()
            .any(|x| matches!(x, Event::BreakerTransition { to: Mode::Halted, cause, .. } if cause.to_string().contains("move_sigma"))),
        "{transitions:?}"
    );
    let r = rejects(&mut e, t, fill(0.1, price));
    assert!(
        matches!(r, Reject::Blocked(b) if b.status == Gate::Breaker { mode: Mode::Halted }),
        "{r:?}"
    );
    e.apply(&at(
        t,
        Command::Deposit {
            account: AccountId(1),
            asset: USDC,
            amount: usdc(5),
        },
    ))
    .unwrap();
    // The guardian may tighten but never loosen.
    let r = rejects(
        &mut e,
        t,
        Command::GovernBreaker {
            role: Role::Guardian,
            scope,
            mode: Mode::Normal,
        },
    );
    assert!(matches!(r, Reject::Unauthorized { .. }), "{r:?}");
    // Calm hours: cooldown (1 h) → Recovering → grace (1 h) → Normal; trading resumes.
    for _ in 0..4 {
        t += HOUR;
        quote_all(&mut e, t, price);
    }
    let mode = e.state().markets[BTC_PERP.idx()]
        .breaker
        .as_ref()
        .unwrap()
        .mode();
    assert_eq!(mode, Mode::Normal);
    e.apply(&at(t, fill(0.1, price))).unwrap();
}

#[test]
fn a_silent_oracle_goes_stale_and_blocks_withdrawals() {
    let mut e = world_with_oracle(3, 2);
    quote_all(&mut e, MIN, 65_000.0);
    let w = Command::Withdraw {
        account: AccountId(0),
        asset: BTC,
        amount: btc(0.1),
    };
    e.apply(&at(MIN + 1_000, w.clone())).unwrap();
    // No quote for five minutes (staleness limit: one minute).
    let t = MIN + 5 * MIN;
    assert_eq!(btc_status(&e, t), OracleStatus::Stale);
    let r = rejects(&mut e, t, w);
    assert!(
        matches!(r, Reject::Blocked(b) if matches!(b.status, Gate::Oracle { status: OracleStatus::Stale, .. })),
        "{r:?}"
    );
    e.apply(&at(
        t,
        Command::Deposit {
            account: AccountId(0),
            asset: BTC,
            amount: btc(0.1),
        },
    ))
    .unwrap();
}

#[test]
fn outflow_limiter_refuses_a_run_and_refills() {
    let mut e = world_with_oracle(3, 2);
    quote_all(&mut e, MIN, 65_000.0);
    let outflow = FlowLimiterConfig {
        main_capacity: 100_000.0,
        main_refill_ms: 24 * HOUR,
        elastic_decay_ms: HOUR,
        resume_fraction: 0.5,
    };
    let config = BreakerConfig {
        outflow: Some(outflow),
        ..BreakerConfig::default()
    };
    run(
        &mut e,
        &[at(
            MIN,
            Command::ConfigureBreaker {
                role: Role::Governor,
                scope: Scope::Pool(POOL),
                config,
            },
        )],
    );
    e.apply(&at(
        MIN,
        Command::Withdraw {
            account: AccountId(3),
            asset: USDC,
            amount: usdc(60_000),
        },
    ))
    .unwrap();
    let r = rejects(
        &mut e,
        MIN + 1,
        Command::Withdraw {
            account: AccountId(3),
            asset: USDC,
            amount: usdc(60_000),
        },
    );
    assert!(
        matches!(r, Reject::OutflowLimited { pool: POOL, .. }),
        "{r:?}"
    );
    // Value-denominated: 1 BTC (65,000) also counts against the buffer.
    let r = rejects(
        &mut e,
        MIN + 2,
        Command::Withdraw {
            account: AccountId(0),
            asset: BTC,
            amount: btc(1.0),
        },
    );
    assert!(matches!(r, Reject::OutflowLimited { .. }), "{r:?}");
    // Half a day later the buffer has refilled enough.
    let t = MIN + 12 * HOUR;
    quote_all(&mut e, t, 65_000.0);
    e.apply(&at(
        t,
        Command::Withdraw {
            account: AccountId(3),
            asset: USDC,
            amount: usdc(40_000),
        },
    ))
    .unwrap();
}

#[derive(Debug, Clone)]
enum Op {
    Quote(u32, f64),
    Spike(u32, f64),
    Borrow(u32, i64),
    Withdraw(u32, i64),
    Fill(u32, u32, i64),
    Chain(bool),
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3u32, 0.97..1.03f64).prop_map(|(s, f)| Op::Quote(s, f)),
        1 => (0..3u32, 2.0..30.0f64).prop_map(|(s, f)| Op::Spike(s, f)),
        2 => (0..4u32, 1..60_000i64).prop_map(|(a, x)| Op::Borrow(a, x)),
        2 => (0..4u32, 1..50_000_000i64).prop_map(|(a, x)| Op::Withdraw(a, x)),
        3 => (0..4u32, 0..4u32, -50_000_000i64..50_000_000).prop_map(|(t, m, s)| Op::Fill(t, m, s)),
        1 => any::<bool>().prop_map(Op::Chain),
        2 => prop_oneof![4 => 1_000..120_000i64, 1 => 120_000..7_200_000i64].prop_map(Op::Wait),
    ]
}

/// Random quotes (with manipulation), chain signals, borrows, withdrawals and fills under
/// market and pool breakers: a rejected command changes nothing, value is conserved, and no
/// BTC withdrawal, nor any borrow by an account exposed to BTC, is ever accepted unless
/// BTC's oracle is Valid at that moment.
fn blocked_case(ops: Vec<Op>, cov: &std::cell::Cell<(usize, usize)>) -> Result<(), TestCaseError> {
    let mut e = world_with_oracle(3, 2);
    let config = BreakerConfig::default();
    run(
        &mut e,
        &[
            at(
                0,
                Command::ConfigureBreaker {
                    role: Role::Governor,
                    scope: Scope::Market(BTC_PERP),
                    config,
                },
            ),
            at(
                0,
                Command::ConfigureBreaker {
                    role: Role::Governor,
                    scope: Scope::Pool(POOL),
                    config,
                },
            ),
            at(
                0,
                Command::Deposit {
                    account: AccountId(1),
                    asset: USDC,
                    amount: usdc(200_000),
                },
            ),
            at(
                0,
                Command::Deposit {
                    account: AccountId(2),
                    asset: BTC,
                    amount: btc(2.0),
                },
            ),
        ],
    );
    let mut t = MIN;
    let mut honest = 65_000.0;
    quote_all(&mut e, t, honest);
    let (mut accepted_risk, mut blocked) = (0, 0);
    for op in ops {
        let cmd = match op {
            Op::Quote(s, f) => {
                honest *= libm::pow(f, 0.1);
                let quotes = if s < 2 {
                    (0..3).map(|i| q(i, honest)).collect()
                } else {
                    vec![q(s, honest * libm::pow(f, 0.01))]
                };
                Command::OracleUpdate { asset: BTC, quotes }
            }
            Op::Spike(s, f) => Command::OracleUpdate {
                asset: BTC,
                quotes: vec![q(s, honest * f)],
            },
            Op::Borrow(a, x) => Command::Borrow {
                account: AccountId(a),
                amount: usdc(x),
            },
            Op::Withdraw(a, x) => Command::Withdraw {
                account: AccountId(a),
                asset: BTC,
                amount: Amount(x),
            },
            Op::Fill(tk, mk, s) => Command::Fill {
                market: BTC_PERP,
                taker: AccountId(tk),
                maker: AccountId(mk),
                size: Amount(s),
                price: honest,
            },
            Op::Chain(h) => Command::ChainStatus {
                halted: h,
                congestion: 1.0,
            },
            Op::Wait(dt) => {
                t += dt;
                continue;
            }
        };
        t += 1_000;
        // Does this command take value out against BTC's price?
        let is_risk = match &cmd {
            Command::Withdraw { .. } => true,
            Command::Borrow { account, .. } => e
                .state()
                .accounts
                .get(account.idx())
                .is_some_and(|a| !a.collateral.is_empty() || !a.positions.is_empty()),
            _ => false,
        };
        let before = e.state_hash();
        match e.apply(&Envelope {
            by: None,
            time: Timestamp(t),
            cmd,
        }) {
            Ok(_) => {
                if is_risk {
                    accepted_risk += 1;
                    prop_assert_eq!(btc_status(&e, t), OracleStatus::Valid);
                }
            }
            Err(r) => {
                if matches!(r, Reject::Blocked(_)) {
                    blocked += 1;
                }
                prop_assert_eq!(before, e.state_hash());
            }
        }
        for (asset, gap) in e.conservation_gaps() {
            prop_assert_eq!(gap, 0, "asset {} not conserved", asset);
        }
    }
    let (r, b) = cov.get();
    cov.set((r + accepted_risk, b + blocked));
    Ok(())
}

/// The property above over 96 random sequences; the generator must reach both sides of the
/// gate (accepted risk-taking commands and blocked ones), or the property would be vacuous.
#[test]
fn blocked_commands_change_nothing() {
    let cov = std::cell::Cell::new((0usize, 0usize));
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..80), |ops| {
            blocked_case(ops, &cov)
        })
        .unwrap();
    let (accepted_risk, blocked) = cov.get();
    eprintln!("coverage: {accepted_risk} risk-taking commands accepted, {blocked} blocked");
    assert!(
        accepted_risk >= 50,
        "only {accepted_risk} risk-taking commands accepted"
    );
    assert!(blocked >= 50, "only {blocked} commands blocked");
}

#[test]
fn liquidation_waits_for_a_trustworthy_price() {
    // Strict setting: a wild venue is divergence, and the keeper waits for agreement.
    liquidation_under(strict(2), true);
    // Default: the wild venue is dropped and the keeper proceeds at the honest median.
    liquidation_under(
        AggregatorConfig {
            quorum: 2,
            ..AggregatorConfig::default()
        },
        false,
    );
}

fn liquidation_under(config: AggregatorConfig, waits: bool) {
    let mut e = world_with_config(3, config);
    quote_all(&mut e, MIN, 65_000.0);
    run(
        &mut e,
        &[
            at(
                MIN,
                Command::Deposit {
                    account: AccountId(1),
                    asset: USDC,
                    amount: usdc(10_000),
                },
            ),
            at(
                MIN,
                Command::Deposit {
                    account: AccountId(2),
                    asset: USDC,
                    amount: usdc(1_000_000),
                },
            ),
            at(
                MIN,
                Command::Fill {
                    market: BTC_PERP,
                    taker: AccountId(1),
                    maker: AccountId(2),
                    size: btc(1.2),
                    price: 65_000.0,
                },
            ),
        ],
    );
    // −9%: below maintenance, and one venue disagrees wildly at the same time.
    let t = 2 * MIN;
    let quotes = vec![q(0, 59_150.0), q(1, 59_140.0), q(2, 90_000.0)];
    e.apply(&at(t, Command::OracleUpdate { asset: BTC, quotes }))
        .unwrap();
    assert_eq!(e.below_maintenance(), vec![AccountId(1)]);
    let liq = Command::Liquidate {
        liquidator: AccountId(3),
        account: AccountId(1),
        market: None,
        max_size: None,
    };
    if !waits {
        let ev = e.apply(&at(t, liq)).unwrap();
        assert!(ev.iter().any(|x| matches!(x, Event::Liquidated { .. })));
        return;
    }
    let r = rejects(&mut e, t, liq.clone());
    assert!(
        matches!(r, Reject::Blocked(b) if b.action == Action::Liquidate
            && matches!(b.status, Gate::Oracle { status: OracleStatus::Divergent, .. })),
        "{r:?}"
    );
    // The venues agree again: the keeper may proceed.
    quote_all(&mut e, t + MIN, 59_150.0);
    let ev = e.apply(&at(t + MIN, liq)).unwrap();
    assert!(
        ev.iter().any(|x| matches!(x, Event::Liquidated { .. })),
        "{ev:?}"
    );
}
