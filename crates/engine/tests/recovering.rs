//! Liquidation in the engine during a breaker's Recovering grace period (Aave v3
//! PriceOracleSentinel): an account below maintenance is liquidated only if its health factor
//! `(health + requirement) / requirement` is below the governed grace level (0.95 by default).
//! Probed on both sides of the boundary: 0.949 is liquidated, 0.951 is refused as Blocked and
//! changes nothing.

mod common;

use ballast_engine::command::{Command, Scope};
use ballast_engine::demo::{btc, usdc, BTC, BTC_PERP, USDC};
use ballast_engine::event::Event;
use ballast_engine::ids::AccountId;
use ballast_engine::{Engine, HealthKind, Reject, Role};
use ballast_oracle::breaker::{BreakerConfig, Mode};
use ballast_oracle::Gate;
use common::{at, run, world};

const TRADER: AccountId = AccountId(1);
const T: i64 = 1_000;

/// A trader long 1 BTC-PERP at 65,000 on 7,000 USDC, the market's breaker in Recovering.
fn recovering_book() -> Engine {
    let mut e = world(4);
    let deposit = |a: u32, x: i64| Command::Deposit {
        account: AccountId(a),
        asset: USDC,
        amount: usdc(x),
    };
    let govern = |mode| Command::GovernBreaker {
        role: Role::Governor,
        scope: Scope::Market(BTC_PERP),
        mode,
    };
    run(
        &mut e,
        &[
            at(0, deposit(1, 7_000)),
            at(0, deposit(2, 1_000_000)),
            at(0, deposit(3, 1_000_000)),
            at(
                0,
                Command::Fill {
                    market: BTC_PERP,
                    taker: TRADER,
                    maker: AccountId(2),
                    size: btc(1.0),
                    price: 65_000.0,
                },
            ),
            at(
                0,
                Command::ConfigureBreaker {
                    role: Role::Governor,
                    scope: Scope::Market(BTC_PERP),
                    config: BreakerConfig::default(),
                },
            ),
            at(T, govern(Mode::Halted)),
            at(T, govern(Mode::Recovering)),
        ],
    );
    e
}

/// The trader's health factor after BTC moves to `price` (on a copy).
fn health_factor_at(e: &Engine, price: f64) -> (Engine, f64) {
    let mut c = e.clone();
    run(&mut c, &[at(T, Command::SetPrice { asset: BTC, price })]);
    let b = c.breakdown(TRADER, HealthKind::Maintenance).unwrap();
    let hf = (b.health.0 + b.requirement.0) as f64 / b.requirement.0 as f64;
    (c, hf)
}

/// The book at a BTC price where the health factor is within 1e-6 of `target` (bisection:
/// the factor rises with the price of a long).
fn at_health_factor(e: &Engine, target: f64) -> Engine {
    let (mut lo, mut hi) = (30_000.0, 65_000.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        let (c, hf) = health_factor_at(e, mid);
        if (hf - target).abs() < 1e-6 {
            return c;
        }
        if hf < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    panic!("no price gives health factor {target}");
}

fn liquidate() -> Command {
    Command::Liquidate {
        liquidator: AccountId(3),
        account: TRADER,
        market: None,
        max_size: None,
    }
}

#[test]
fn recovering_liquidates_below_the_grace_level_and_not_above() {
    let e = recovering_book();
    let level = BreakerConfig::default().grace_liquidation_health;
    assert_eq!(level, 0.95);
    // 0.951: below maintenance, but inside the grace period's protection.
    let mut above = at_health_factor(&e, 0.951);
    let h = above.health(TRADER, HealthKind::Maintenance).unwrap();
    assert!(h.0 < 0, "setup: below maintenance ({h:?})");
    let hash = above.state_hash();
    let r = above
        .apply(&at(T, liquidate()))
        .expect_err("0.951 liquidated");
    assert!(
        matches!(&r, Reject::Blocked(b) if b.status == Gate::Breaker { mode: Mode::Recovering }),
        "{r:?}"
    );
    assert_eq!(hash, above.state_hash());
    // 0.949: deep enough to be liquidated during the grace period.
    let mut below = at_health_factor(&e, 0.949);
    let ev = below
        .apply(&at(T, liquidate()))
        .unwrap_or_else(|r| panic!("0.949 refused: {r}"));
    assert!(ev
        .iter()
        .any(|x| matches!(x, Event::Liquidated { account, .. } if *account == TRADER)));
    common::assert_conserved(&below);
}
