//! Portfolio margin inside the engine equals `ballast margin` on the same book: long BTC and
//! long ETH perps in a portfolio-margin account, with the pool's BTC–ETH correlation raised to
//! 0.9 through governance (four steps of at most 0.25, each after the timelock and the minimum
//! delay). The engine's maintenance requirement is the CLI's requirement, rounded up to the
//! ledger's fixed point; and the correlation matters (it is larger than at ρ = 0).

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo::{self, btc, usdc, BTC, BTC_PERP, ETH, ETH_PERP, POOL, USDC};
use ballast_engine::ids::{AccountId, OwnerId};
use ballast_engine::num::Timestamp;
use ballast_engine::params::ParamKey;
use ballast_engine::portfolio::PortfolioField;
use ballast_engine::state::MarginMode;
use ballast_engine::{Engine, Event, HealthKind, Role};
use std::process::Command as Proc;

const DAY: i64 = 86_400_000;

fn at(t: i64, cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    }
}

fn ok(e: &mut Engine, env: Envelope) -> Vec<Event> {
    e.apply(&env)
        .unwrap_or_else(|r| panic!("{:?}: {r}", env.cmd))
}

/// Genesis; account 0 (portfolio mode) long 1 BTC and 10 ETH against account 1.
fn book() -> Engine {
    let mut e = Engine::new();
    for env in demo::genesis(0) {
        ok(&mut e, env);
    }
    for i in 0..2 {
        ok(
            &mut e,
            at(
                1,
                Command::OpenAccount {
                    owner: OwnerId(i),
                    pool: POOL,
                },
            ),
        );
        let dep = Command::Deposit {
            account: AccountId(i),
            asset: USDC,
            amount: usdc(1_000_000),
        };
        ok(&mut e, at(1, dep));
    }
    let mode = Command::SetMarginMode {
        account: AccountId(0),
        mode: MarginMode::Portfolio,
    };
    ok(&mut e, at(1, mode));
    let fill = |market, size, price| Command::Fill {
        market,
        taker: AccountId(0),
        maker: AccountId(1),
        size,
        price,
    };
    let spot = |e: &Engine, a: ballast_engine::ids::AssetId| human_price(e, a);
    let (pb, pe) = (spot(&e, BTC), spot(&e, ETH));
    ok(&mut e, at(2, fill(BTC_PERP, btc(1.0), pb)));
    // ETH has 9 decimals.
    ok(
        &mut e,
        at(
            2,
            fill(ETH_PERP, ballast_engine::num::Amount(10_000_000_000), pe),
        ),
    );
    e
}

fn human_price(e: &Engine, a: ballast_engine::ids::AssetId) -> f64 {
    let st = e.state();
    let q = st.numeraire.map_or(6, |n| st.assets[n.idx()].decimals);
    st.assets[a.idx()]
        .price
        .expect("priced")
        .to_human(st.assets[a.idx()].decimals, q)
}

/// Raises the pool's BTC–ETH correlation to `rho` in governed steps; returns the time after.
fn set_rho(e: &mut Engine, rho: f64) -> i64 {
    let key = ParamKey::Portfolio {
        pool: POOL,
        field: PortfolioField::Correlation { a: BTC, b: ETH },
    };
    let step = key.spec().max_step;
    let target = (rho * 1e9) as i64;
    let mut t = 10;
    while e.param(&key).expect("a portfolio key") < target {
        let next = (e.param(&key).unwrap() + step).min(target);
        let ev = ok(
            e,
            at(
                t,
                Command::Propose {
                    role: Role::Governor,
                    key,
                    value: next,
                },
            ),
        );
        let Some(Event::ParamProposed { proposal, .. }) = ev.first().cloned() else {
            panic!("no proposal event: {ev:?}");
        };
        t += 2 * DAY;
        ok(
            e,
            at(
                t,
                Command::Execute {
                    role: Role::Governor,
                    proposal,
                },
            ),
        );
    }
    t
}

/// `ballast margin --json` on the same book; its requirement.
fn cli_requirement(e: &Engine, rho: f64) -> f64 {
    let market = |name: &str, spot: f64| serde_json::json!({"name": name, "spot": spot, "vol": 0.8, "spot_range": 0.2, "oracle_confidence": 0.0});
    let file = serde_json::json!({
        "market": [market("BTC", human_price(e, BTC)), market("ETH", human_price(e, ETH))],
        "correlation": {"underlyings": ["BTC", "ETH"], "matrix": [[1.0, rho], [rho, 1.0]]},
        "positions": [
            {"type": "perp", "underlying": "BTC", "size": 1.0},
            {"type": "perp", "underlying": "ETH", "size": 10.0}
        ]
    });
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("book.json");
    std::fs::write(&p, file.to_string()).unwrap();
    let out = Proc::new(env!("CARGO_BIN_EXE_ballast"))
        .args(["margin", "--json", "--portfolio"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["requirement"].as_f64().expect("a requirement")
}

fn engine_requirement(e: &Engine) -> f64 {
    let b = e.breakdown(AccountId(0), HealthKind::Maintenance).unwrap();
    let st = e.state();
    b.requirement.to_human(st.assets[USDC.idx()].decimals)
}

#[test]
fn engine_portfolio_margin_equals_the_cli_at_a_governed_correlation() {
    let mut e = book();
    let at_zero = engine_requirement(&e);
    assert!((at_zero - cli_requirement(&e, 0.0)).abs() < 1e-6, "ρ = 0");
    set_rho(&mut e, 0.9);
    let st = e.state();
    assert_eq!(st.pools[POOL.idx()].portfolio.rho(BTC, ETH), 0.9);
    let engine = engine_requirement(&e);
    let cli = cli_requirement(&e, 0.9);
    // The engine rounds the requirement up to its fixed point (1e-12 USDC-native).
    assert!(
        engine >= cli && engine - cli < 1e-6,
        "engine {engine} vs cli {cli}"
    );
    assert!(
        engine > at_zero * 1.05,
        "correlated longs need more: {engine} vs {at_zero}"
    );
}

#[test]
fn a_correlation_matrix_that_is_not_positive_semi_definite_is_refused() {
    // Three underlyings pairwise at −0.75 cannot all hold (the smallest eigenvalue of such a
    // matrix is 1 + 2ρ < 0): some step is refused, and whatever executed stays valid.
    let mut e = book();
    let third = USDC; // any third asset id serves as a third underlying
    let (mut t, mut refused) = (10, 0);
    for (a, b) in [(BTC, ETH), (third, BTC), (third, ETH)] {
        let key = ParamKey::Portfolio {
            pool: POOL,
            field: PortfolioField::Correlation { a, b },
        };
        for v in [-250_000_000, -500_000_000, -750_000_000] {
            let proposed = e.apply(&at(
                t,
                Command::Propose {
                    role: Role::Governor,
                    key,
                    value: v,
                },
            ));
            let executed = match proposed {
                Ok(ev) => match ev.first() {
                    Some(Event::ParamProposed { proposal, .. }) => {
                        let cmd = Command::Execute {
                            role: Role::Governor,
                            proposal: *proposal,
                        };
                        e.apply(&at(t + 2 * DAY, cmd)).map(|_| ())
                    }
                    _ => panic!("no proposal event: {ev:?}"),
                },
                Err(r) => Err(r),
            };
            t += 4 * DAY;
            if let Err(r) = executed {
                assert!(r.to_string().contains("positive semi-definite"), "{r}");
                refused += 1;
                break;
            }
        }
    }
    assert!(refused >= 1, "an indefinite matrix was accepted");
    assert!(e.state().pools[POOL.idx()].portfolio.validate().is_ok());
}
