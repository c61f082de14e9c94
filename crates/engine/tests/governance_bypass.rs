//! The bypasses of issue 11, each closed: re-installing a breaker, an oracle or a volatility
//! add-on cannot reset its protective state; queued proposals cannot move a setting faster than
//! one step per minimum delay; a breaker that saw a pump stops the borrow against it; roles
//! are checked. Every refusal is typed and leaves the state hash unchanged.

mod common;

use ballast_engine::command::{Command, Scope, SourceQuote};
use ballast_engine::demo::{btc, usdc, BTC, BTC_PERP, POOL, USDC};
use ballast_engine::error::Installed;
use ballast_engine::ids::{AccountId, ProposalId};
use ballast_engine::params::{MarketField, ParamKey, PoolField};
use ballast_engine::settings::{BreakerField, OracleField, VolMarginField};
use ballast_engine::state::GovernanceConfig;
use ballast_engine::volmargin::{VolMarginConfig, VolModel};
use ballast_engine::{Engine, Event, HealthKind, Reject, Role};
use ballast_oracle::aggregate::{AggregatorConfig, SourceId, SourceSpec};
use ballast_oracle::breaker::{BreakerConfig, Mode};
use ballast_oracle::smooth::StablePriceConfig;
use ballast_oracle::validity::Action;
use common::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// A deposit envelope (setup shorthand).
fn deposit(
    t: i64,
    account: u32,
    asset: ballast_engine::ids::AssetId,
    amount: ballast_engine::num::Amount,
) -> ballast_engine::command::Envelope {
    at(
        t,
        Command::Deposit {
            account: AccountId(account),
            asset,
            amount,
        },
    )
}

fn breaker_cmd() -> Command {
    Command::ConfigureBreaker {
        role: Role::Governor,
        scope: Scope::Market(BTC_PERP),
        config: BreakerConfig::default(),
    }
}

fn mode(e: &Engine) -> Mode {
    e.state().markets[BTC_PERP.idx()]
        .breaker
        .as_ref()
        .expect("breaker")
        .mode()
}

#[test]
fn reinstalling_a_breaker_does_not_reset_a_halt() {
    let mut e = world(2);
    run(&mut e, &[at(0, breaker_cmd())]);
    run(
        &mut e,
        &[at(
            MIN,
            Command::ChainStatus {
                halted: true,
                congestion: 0.0,
            },
        )],
    );
    assert_eq!(mode(&e), Mode::Halted);
    let r = rejects(&mut e, 2 * MIN, breaker_cmd());
    assert_eq!(
        r,
        Reject::AlreadyInstalled(Installed::MarketBreaker(BTC_PERP))
    );
    assert_eq!(mode(&e), Mode::Halted);
    // Its thresholds change in place through governance, and the mode stays.
    let key = ParamKey::MarketBreaker {
        market: BTC_PERP,
        field: BreakerField::CooldownMs,
    };
    let tl = e.state().governance.timelock_ms;
    run(
        &mut e,
        &[
            at(
                2 * MIN,
                Command::Propose {
                    role: Role::Governor,
                    key,
                    value: 2 * HOUR,
                },
            ),
            at(
                2 * MIN + tl,
                Command::Execute {
                    role: Role::Governor,
                    proposal: ProposalId(0),
                },
            ),
        ],
    );
    let b = e.state().markets[BTC_PERP.idx()].breaker.as_ref().unwrap();
    assert_eq!(b.config().cooldown_ms, 2 * HOUR);
    assert_eq!(b.mode(), Mode::Halted);
}

#[test]
fn chain_status_does_not_halt_a_market_whose_asset_has_no_oracle() {
    let mut e = world(2);
    run(&mut e, &[at(0, breaker_cmd())]);
    run(
        &mut e,
        &[at(
            MIN,
            Command::ChainStatus {
                halted: false,
                congestion: 0.0,
            },
        )],
    );
    assert_eq!(mode(&e), Mode::Normal);
}

fn vol_cfg(k: f64) -> VolMarginConfig {
    VolMarginConfig {
        model: VolModel::Ewma { lambda: 0.94 },
        interval_ms: MIN,
        k,
        horizon: 4.0,
        max_step: 0.02,
    }
}

#[test]
fn reinstalling_vol_margin_keeps_the_addon_and_k_moves_by_governance() {
    let mut e = world(2);
    let cfg = Command::ConfigureVolMargin {
        role: Role::Governor,
        market: BTC_PERP,
        config: vol_cfg(3.0),
    };
    run(&mut e, &[at(0, cfg.clone())]);
    // Volatile minutes lift the add-on.
    let mut p = 65_000.0;
    for i in 1..=20 {
        p *= if i % 2 == 0 { 1.04 } else { 0.96 };
        run(
            &mut e,
            &[at(
                i * MIN,
                Command::SetPrice {
                    asset: BTC,
                    price: p,
                },
            )],
        );
    }
    let addon = |e: &Engine| {
        e.state().markets[BTC_PERP.idx()]
            .vol_margin
            .as_ref()
            .unwrap()
            .addon
    };
    let before = addon(&e);
    assert!(before.0 > 0, "no add-on built up");
    let r = rejects(&mut e, 21 * MIN, cfg);
    assert_eq!(r, Reject::AlreadyInstalled(Installed::VolMargin(BTC_PERP)));
    // A cut of k larger than its step is refused; a step-sized cut keeps the level at once.
    let key = ParamKey::VolMargin {
        market: BTC_PERP,
        field: VolMarginField::K,
    };
    let r = rejects(
        &mut e,
        21 * MIN,
        Command::Propose {
            role: Role::Governor,
            key,
            value: 0,
        },
    );
    assert!(matches!(r, Reject::ParamStepTooLarge { .. }), "{r:?}");
    let tl = e.state().governance.timelock_ms;
    run(
        &mut e,
        &[
            at(
                21 * MIN,
                Command::Propose {
                    role: Role::Governor,
                    key,
                    value: 2_500_000_000,
                },
            ),
            at(
                21 * MIN + tl,
                Command::Execute {
                    role: Role::Governor,
                    proposal: ProposalId(0),
                },
            ),
        ],
    );
    assert_eq!(addon(&e), before);
}

fn sources() -> Vec<SourceSpec> {
    (0..3)
        .map(|i| SourceSpec {
            id: SourceId(i),
            weight: 1.0,
        })
        .collect()
}

/// A stable price that follows the oracle within minutes: a loosely tuned stable price, so
/// that the breaker is the defence under test.
fn loose_stable() -> StablePriceConfig {
    StablePriceConfig {
        delay_growth_limit: 0.99,
        stable_growth_limit_per_s: 0.99,
        ..StablePriceConfig::default()
    }
}

fn oracle_cmd() -> Command {
    Command::ConfigureOracle {
        role: Role::Governor,
        asset: BTC,
        sources: sources(),
        config: AggregatorConfig::default(),
        stable: loose_stable(),
    }
}

fn quote_all(e: &mut Engine, t: i64, price: f64) -> Vec<Event> {
    let quotes = (0..3)
        .map(|s| SourceQuote {
            source: s,
            price: price * (1.0 + 1e-4 * s as f64),
            confidence: price * 1e-4,
        })
        .collect();
    e.apply(&at(t, Command::OracleUpdate { asset: BTC, quotes }))
        .expect("oracle update")
}

#[test]
fn reinstalling_an_oracle_is_refused_and_quorum_is_governed() {
    let mut e = world(2);
    run(&mut e, &[at(0, oracle_cmd())]);
    quote_all(&mut e, MIN, 65_000.0);
    let r = rejects(&mut e, 2 * MIN, oracle_cmd());
    assert_eq!(r, Reject::AlreadyInstalled(Installed::Oracle(BTC)));
    let key = ParamKey::Oracle {
        asset: BTC,
        field: OracleField::Quorum,
    };
    // Quorum above the configured sources: refused by the oracle's own rule, at proposal.
    let r = rejects(
        &mut e,
        2 * MIN,
        Command::Propose {
            role: Role::Governor,
            key,
            value: 4,
        },
    );
    assert!(
        matches!(r, Reject::ParamStepTooLarge { .. } | Reject::Oracle(_)),
        "{r:?}"
    );
    let tl = e.state().governance.timelock_ms;
    run(
        &mut e,
        &[
            at(
                2 * MIN,
                Command::Propose {
                    role: Role::Governor,
                    key,
                    value: 3,
                },
            ),
            at(
                2 * MIN + tl,
                Command::Execute {
                    role: Role::Governor,
                    proposal: ProposalId(0),
                },
            ),
        ],
    );
    let feed = e.state().assets[BTC.idx()].oracle.as_ref().unwrap();
    assert_eq!(feed.aggregator.config().quorum, 3);
    // The history survived: the last trusted price is still held.
    assert!(e.state().assets[BTC.idx()].price.is_some());
}

#[test]
fn queued_proposals_cannot_chain_steps_faster_than_the_min_delay() {
    let gov = GovernanceConfig {
        timelock_ms: HOUR,
        min_delay_ms: DAY,
        ..GovernanceConfig::default()
    };
    let mut e = Engine::with_governance(gov);
    run(&mut e, &ballast_engine::demo::genesis(0));
    let key = ParamKey::Market {
        market: BTC_PERP,
        field: MarketField::InitMargin,
    };
    let step = key.spec().max_step;
    let v0 = e.state().markets[0].params.init_margin.0;
    let propose = |value| Command::Propose {
        role: Role::Governor,
        key,
        value,
    };
    let execute = |p| Command::Execute {
        role: Role::Governor,
        proposal: ProposalId(p),
    };
    // Two steps at once are refused at proposal.
    let r = rejects(&mut e, 0, propose(v0 + 2 * step));
    assert!(matches!(r, Reject::ParamStepTooLarge { .. }), "{r:?}");
    run(&mut e, &[at(0, propose(v0 + step)), at(HOUR, execute(0))]);
    // The next step is proposed at once and its timelock passes, but the key changed less than
    // a day ago.
    run(&mut e, &[at(HOUR, propose(v0 + 2 * step))]);
    let r = rejects(&mut e, 2 * HOUR, execute(1));
    assert!(
        matches!(r, Reject::ParamChangeTooSoon { earliest, .. } if earliest.0 == HOUR + DAY),
        "{r:?}"
    );
    run(&mut e, &[at(HOUR + DAY, execute(1))]);
    assert_eq!(e.state().markets[0].params.init_margin.0, v0 + 2 * step);
}

#[test]
fn caps_move_by_a_relative_step() {
    let mut e = world(0);
    let key = ParamKey::Pool {
        pool: POOL,
        field: PoolField::BorrowCap,
    };
    let cap = e.state().pools[0].params.borrow_cap.0;
    let r = rejects(
        &mut e,
        0,
        Command::Propose {
            role: Role::Governor,
            key,
            value: cap.saturating_mul(3).min(i64::MAX / 2),
        },
    );
    assert!(matches!(r, Reject::ParamStepTooLarge { .. }), "{r:?}");
    run(
        &mut e,
        &[at(
            0,
            Command::Propose {
                role: Role::Governor,
                key,
                value: cap / 2,
            },
        )],
    );
}

#[test]
fn the_guardian_vetoes_but_never_proposes_or_executes() {
    let mut e = world(0);
    let key = ParamKey::Market {
        market: BTC_PERP,
        field: MarketField::MaintMargin,
    };
    let v = e.state().markets[0].params.maint_margin.0 + 1_000_000;
    let r = rejects(
        &mut e,
        0,
        Command::Propose {
            role: Role::Guardian,
            key,
            value: v,
        },
    );
    assert!(
        matches!(
            r,
            Reject::Unauthorized {
                claimed: Some(Role::Guardian),
                needs: ballast_engine::roles::Need::Governor,
                command: "propose",
                ..
            }
        ),
        "{r:?}"
    );
    run(
        &mut e,
        &[at(
            0,
            Command::Propose {
                role: Role::Governor,
                key,
                value: v,
            },
        )],
    );
    let tl = e.state().governance.timelock_ms;
    let r = rejects(
        &mut e,
        tl,
        Command::Execute {
            role: Role::Guardian,
            proposal: ProposalId(0),
        },
    );
    assert!(matches!(r, Reject::Unauthorized { .. }), "{r:?}");
    let ev = e
        .apply(&at(
            tl,
            Command::Cancel {
                role: Role::Guardian,
                proposal: ProposalId(0),
            },
        ))
        .unwrap();
    assert!(matches!(ev[..], [Event::ProposalCancelled { .. }]));
}

/// The Mango Markets pattern on BTC-PERP: a long and a short, all venues pumped ×2 in ten
/// minutes, then the long borrows against its paper profit. Returns the borrow's outcome and
/// the engine.
fn mango(with_breaker: bool) -> (Result<Vec<Event>, Reject>, Engine) {
    let mut e = world(4);
    let mut setup = vec![at(0, oracle_cmd())];
    if with_breaker {
        setup.push(at(0, breaker_cmd()));
    }
    setup.extend([
        deposit(0, 3, USDC, usdc(10_000_000)),
        deposit(0, 0, USDC, usdc(100_000)),
        deposit(0, 1, USDC, usdc(5_000_000)),
    ]);
    run(&mut e, &setup);
    // Half an hour of calm minutes arms the breaker's volatility estimate.
    let mut t = 0;
    for i in 0..30 {
        t += MIN;
        quote_all(
            &mut e,
            t,
            65_000.0 * (1.0 + 0.0005 * ((i % 3) as f64 - 1.0)),
        );
    }
    run(
        &mut e,
        &[at(
            t,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(1),
                size: btc(10.0),
                price: 65_000.0,
            },
        )],
    );
    for step in 1..=10 {
        t += MIN;
        quote_all(&mut e, t, 65_000.0 * (1.0 + step as f64 / 10.0));
    }
    let borrow = Command::Borrow {
        account: AccountId(0),
        amount: usdc(400_000),
    };
    let before = e.state_hash();
    let r = e.apply(&at(t, borrow));
    if r.is_err() {
        assert_eq!(before, e.state_hash());
    }
    (r, e)
}

#[test]
fn a_breaker_that_saw_the_pump_stops_the_borrow_against_it() {
    // Ablation: without the breaker the same borrow goes through.
    let (naive, _) = mango(false);
    assert!(naive.is_ok(), "{naive:?}");
    let (defended, e) = mango(true);
    assert_ne!(mode(&e), Mode::Normal);
    assert!(
        matches!(
            defended,
            Err(Reject::InsufficientMargin {
                account: AccountId(0),
                kind: HealthKind::Initial,
                ..
            })
        ),
        "{defended:?}"
    );
    // The paper profit still counts for maintenance: the long is not liquidated for it.
    assert!(e.health(AccountId(0), HealthKind::Maintenance).unwrap().0 > 0);
    // Taking out the cash that the paper profit now margins is refused the same way.
    let mut e = e;
    let t = e.state().time.0;
    let r = rejects(
        &mut e,
        t,
        Command::Withdraw {
            account: AccountId(0),
            asset: USDC,
            amount: usdc(90_000),
        },
    );
    assert!(
        matches!(r, Reject::InsufficientMargin { .. } | Reject::Blocked(_)),
        "{r:?}"
    );
}

#[test]
fn debt_against_a_market_that_then_halts_is_reported() {
    // The long borrows against a rise the breaker did not flag; then the chain halts, the
    // market breaker goes Halted, and the exposure is reported rather than hidden.
    let mut e = world(4);
    run(
        &mut e,
        &[
            at(0, breaker_cmd()),
            deposit(0, 3, USDC, usdc(10_000_000)),
            deposit(0, 0, USDC, usdc(70_000)),
            deposit(0, 1, USDC, usdc(5_000_000)),
            at(
                0,
                Command::Fill {
                    market: BTC_PERP,
                    taker: AccountId(0),
                    maker: AccountId(1),
                    size: btc(10.0),
                    price: 65_000.0,
                },
            ),
            // Without an oracle the breaker sees no moves: the rise is "normal".
            at(
                HOUR,
                Command::SetPrice {
                    asset: BTC,
                    price: 68_000.0,
                },
            ),
            at(
                2 * HOUR,
                Command::SetPrice {
                    asset: BTC,
                    price: 71_000.0,
                },
            ),
            at(
                3 * HOUR,
                Command::SetPrice {
                    asset: BTC,
                    price: 74_000.0,
                },
            ),
            at(
                3 * HOUR,
                Command::Borrow {
                    account: AccountId(0),
                    amount: usdc(80_000),
                },
            ),
        ],
    );
    assert!(e.debt_against_halted().is_empty());
    let ev = e
        .apply(&at(
            3 * HOUR + MIN,
            Command::ChainStatus {
                halted: true,
                congestion: 0.0,
            },
        ))
        .unwrap();
    let reported: Vec<_> = ev
        .iter()
        .filter_map(|x| match x {
            Event::DebtAgainstHaltedMarket { account, debt, .. } => Some((*account, *debt)),
            _ => None,
        })
        .collect();
    assert_eq!(reported.len(), 1, "{ev:?}");
    assert_eq!(reported[0].0, AccountId(0));
    assert!(reported[0].1 .0 >= usdc(10_000).0, "{:?}", reported[0]);
    assert_eq!(e.debt_against_halted().len(), 1);
    // And a trade that adds risk on the halted market is blocked.
    let r = rejects(
        &mut e,
        3 * HOUR + MIN,
        Command::Fill {
            market: BTC_PERP,
            taker: AccountId(2),
            maker: AccountId(1),
            size: btc(0.01),
            price: 74_000.0,
        },
    );
    assert!(
        matches!(r, Reject::Blocked(b) if b.action == Action::Trade),
        "{r:?}"
    );
}

#[test]
fn open_interest_caps_stop_growth_but_never_a_reduction() {
    let mut e = world(4);
    run(
        &mut e,
        &[0, 1, 2].map(|i| deposit(0, i, USDC, usdc(1_000_000))),
    );
    let tl = e.state().governance.timelock_ms;
    let set = |field, value, p| {
        [
            at(
                0,
                Command::Propose {
                    role: Role::Governor,
                    key: ParamKey::Market {
                        market: BTC_PERP,
                        field,
                    },
                    value,
                },
            ),
            at(
                tl,
                Command::Execute {
                    role: Role::Governor,
                    proposal: ProposalId(p),
                },
            ),
        ]
    };
    let [p0, x0] = set(MarketField::MaxOpenInterest, btc(1.0).0, 0);
    let [p1, x1] = set(MarketField::MaxAccountOiShare, 900_000_000, 1);
    run(&mut e, &[p0, p1, x0, x1]);
    let fill = |taker: u32, maker: u32, size: f64| Command::Fill {
        market: BTC_PERP,
        taker: AccountId(taker),
        maker: AccountId(maker),
        size: btc(size),
        price: 65_000.0,
    };
    let t = tl;
    run(&mut e, &[at(t, fill(0, 1, 0.5))]);
    // One account beyond 90 % of the cap.
    let r = rejects(&mut e, t, fill(0, 2, 0.45));
    assert!(
        matches!(
            r,
            Reject::AccountOpenInterestCap {
                account: AccountId(0),
                ..
            }
        ),
        "{r:?}"
    );
    // The market beyond its cap.
    let r = rejects(&mut e, t, fill(2, 3, 0.6));
    assert!(matches!(r, Reject::OpenInterestCap { .. }), "{r:?}");
    // Reducing is always allowed, and frees room.
    run(&mut e, &[at(t, fill(1, 0, 0.3)), at(t, fill(2, 1, 0.5))]);
    assert_eq!(e.state().markets[BTC_PERP.idx()].long_oi, btc(0.7));
}

#[test]
fn liquidation_capacity_paces_a_cascade_per_window() {
    let mut e = world(4);
    let dep = |a: u32, x: i64| deposit(0, a, USDC, usdc(x));
    let fill = |taker: u32| {
        at(
            0,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(taker),
                maker: AccountId(2),
                size: btc(1.0),
                price: 65_000.0,
            },
        )
    };
    let key = ParamKey::Market {
        market: BTC_PERP,
        field: MarketField::MaxLiquidationPerWindow,
    };
    let tl = e.state().governance.timelock_ms;
    run(
        &mut e,
        &[
            dep(0, 7_000),
            dep(1, 7_000),
            dep(2, 1_000_000),
            dep(3, 1_000_000),
            fill(0),
            fill(1),
            at(
                0,
                Command::Propose {
                    role: Role::Governor,
                    key,
                    value: btc(0.05).0,
                },
            ),
            at(
                tl,
                Command::Execute {
                    role: Role::Governor,
                    proposal: ProposalId(0),
                },
            ),
            at(
                tl,
                Command::SetPrice {
                    asset: BTC,
                    price: 61_000.0,
                },
            ),
        ],
    );
    let liq = |a: u32| Command::Liquidate {
        liquidator: AccountId(3),
        account: AccountId(a),
        market: Some(BTC_PERP),
        max_size: None,
    };
    let window = 60_000 * (tl / 60_000 + 1);
    let t = window; // the start of a window
    let (mut taken, mut paced) = (0i64, 0);
    for _ in 0..4 {
        let Some(a) = e.below_maintenance().first().map(|a| a.0) else {
            break;
        };
        let before = e.state_hash();
        match e.apply(&at(t, liq(a))) {
            Ok(ev) => {
                for x in &ev {
                    if let Event::Liquidated { size, .. } = x {
                        taken += size.0.abs();
                    }
                }
            }
            Err(Reject::LiquidationCapacity { next_window, .. }) => {
                assert_eq!(before, e.state_hash());
                assert_eq!(next_window.0, t + 60_000);
                paced += 1;
            }
            Err(r) => panic!("{r:?}"),
        }
    }
    assert!(taken > 0 && taken <= btc(0.05).0, "{taken}");
    assert!(paced > 0, "capacity never bound");
    // The next window has capacity again.
    let below = e.below_maintenance();
    assert!(!below.is_empty());
    let ev = e.apply(&at(t + 60_000, liq(below[0].0))).unwrap();
    assert!(ev.iter().any(|x| matches!(x, Event::Liquidated { .. })));
}

#[test]
fn a_lowered_maintenance_weight_ramps_in_instead_of_jumping() {
    use ballast_engine::params::CollateralField;
    let mut e = world(2);
    let key = ParamKey::Collateral {
        pool: POOL,
        asset: BTC,
        field: CollateralField::MaintWeight,
    };
    let w0 = e.param(&key).unwrap();
    let step = key.spec().max_step;
    let tl = e.state().governance.timelock_ms;
    let ramp = e.state().governance.ramp_ms;
    run(
        &mut e,
        &[
            deposit(0, 1, USDC, usdc(1_000_000)),
            deposit(0, 0, BTC, btc(1.0)),
            at(
                0,
                Command::Borrow {
                    account: AccountId(0),
                    amount: usdc(50_000),
                },
            ),
            at(
                0,
                Command::Propose {
                    role: Role::Governor,
                    key,
                    value: w0 - step,
                },
            ),
            at(
                tl,
                Command::Execute {
                    role: Role::Governor,
                    proposal: ProposalId(0),
                },
            ),
        ],
    );
    let health = |e: &mut Engine, t: i64| {
        run(
            e,
            &[at(
                t,
                Command::SetPrice {
                    asset: BTC,
                    price: 65_000.0,
                },
            )],
        );
        assert_eq!(e.below_maintenance(), e.below_maintenance_scan());
        (
            e.param(&key).unwrap(),
            e.health(AccountId(0), HealthKind::Maintenance).unwrap().0,
        )
    };
    let (w_start, h_start) = health(&mut e, tl);
    let (w_mid, h_mid) = health(&mut e, tl + ramp / 2);
    let (w_end, h_end) = health(&mut e, tl + ramp);
    assert_eq!(w_start, w0, "the weight jumped at execution");
    assert_eq!(w_mid, w0 - step / 2);
    assert_eq!(w_end, w0 - step);
    assert!(
        h_start > h_mid && h_mid > h_end,
        "{h_start} {h_mid} {h_end}"
    );
    // Interest aside, health falls with the weight: the middle is halfway.
    let halfway = (h_start + h_end) / 2;
    assert!((h_mid - halfway).abs() < (h_start - h_end) / 50);
    // Raising it again applies at once and ends the ramp.
    let min_delay = e.state().governance.min_delay_ms;
    let t = tl + ramp + min_delay;
    run(
        &mut e,
        &[
            at(
                t,
                Command::Propose {
                    role: Role::Governor,
                    key,
                    value: w0,
                },
            ),
            at(
                t + tl,
                Command::Execute {
                    role: Role::Governor,
                    proposal: ProposalId(1),
                },
            ),
        ],
    );
    assert_eq!(e.param(&key).unwrap(), w0);
    assert!(e.state().pools[0].maint_ramps.is_empty());
}
