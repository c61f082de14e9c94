//! Volatility-adjusted perpetual margin on the real Black Thursday BTC hours: the add-on rises
//! with realized volatility, never by more than its step per interval, and brings forward the
//! point where a leveraged account becomes liquidatable.

mod common;

use ballast_engine::command::Command;
use ballast_engine::demo::{btc, usdc, BTC, BTC_PERP, USDC};
use ballast_engine::event::Event;
use ballast_engine::ids::AccountId;
use ballast_engine::num::Ratio;
use ballast_engine::volmargin::{VolMarginConfig, VolModel};
use ballast_engine::{Engine, Reject, Role};
use common::*;

const HOUR: i64 = 3_600_000;

fn closes() -> Vec<(i64, f64)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/2020-03_black_thursday_btc_eth_1h.csv"
    );
    let rows = ballast_data::read_prices(path).expect("fixture reads");
    rows.iter()
        .filter(|r| r.venue == "binance" && r.symbol == "BTC/USDT")
        .map(|r| (r.ts_ms, r.close))
        .collect()
}

fn config(max_step: f64) -> VolMarginConfig {
    VolMarginConfig {
        model: VolModel::Ewma { lambda: 0.94 },
        interval_ms: HOUR,
        k: 3.0,
        horizon: 4.0,
        max_step,
    }
}

/// A trader 6x long BTC from the first hour; returns the hour index at which it first falls below
/// maintenance, and the add-on events.
fn run_crash(vol: Option<VolMarginConfig>) -> (Option<usize>, Vec<Ratio>) {
    let series = closes();
    let t0 = series[0].0;
    let mut e = Engine::new();
    run(&mut e, &ballast_engine::demo::genesis(t0));
    let mut setup = vec![
        at(
            t0,
            Command::OpenAccount {
                owner: ballast_engine::ids::OwnerId(0),
                pool: ballast_engine::demo::POOL,
            },
        ),
        at(
            t0,
            Command::OpenAccount {
                owner: ballast_engine::ids::OwnerId(1),
                pool: ballast_engine::demo::POOL,
            },
        ),
        at(
            t0,
            Command::SetPrice {
                asset: BTC,
                price: series[0].1,
            },
        ),
        at(
            t0,
            Command::Deposit {
                account: AccountId(0),
                asset: USDC,
                amount: usdc(10_000),
            },
        ),
        at(
            t0,
            Command::Deposit {
                account: AccountId(1),
                asset: USDC,
                amount: usdc(10_000_000),
            },
        ),
    ];
    if let Some(c) = vol {
        setup.push(at(
            t0,
            Command::ConfigureVolMargin {
                role: Role::Governor,
                market: BTC_PERP,
                config: c,
            },
        ));
    }
    let size = btc(6.0 * 10_000.0 / series[0].1);
    setup.push(at(
        t0,
        Command::Fill {
            market: BTC_PERP,
            taker: AccountId(0),
            maker: AccountId(1),
            size,
            price: series[0].1,
        },
    ));
    run(&mut e, &setup);
    let mut first = None;
    let mut addons = Vec::new();
    for (i, &(ts, close)) in series.iter().enumerate().skip(1) {
        let ev = e
            .apply(&at(
                ts,
                Command::SetPrice {
                    asset: BTC,
                    price: close,
                },
            ))
            .unwrap();
        addons.extend(ev.iter().filter_map(|x| {
            if let Event::VolMarginUpdated { addon, .. } = x {
                Some(*addon)
            } else {
                None
            }
        }));
        let below = e.below_maintenance();
        assert_eq!(below, e.below_maintenance_scan());
        if first.is_none() && below.contains(&AccountId(0)) {
            first = Some(i);
        }
    }
    (first, addons)
}

#[test]
fn addon_rises_in_bounded_steps_and_liquidates_earlier() {
    let step = 0.005;
    let (with_vol, addons) = run_crash(Some(config(step)));
    let (without, none) = run_crash(None);
    assert!(none.is_empty());
    assert!(addons.len() > 20, "{} updates", addons.len());
    let mut prev = Ratio::ZERO;
    for a in &addons {
        assert!(
            (a.0 - prev.0).abs() as f64 <= step * 1e9 + 1.0,
            "{prev:?} → {a:?}"
        );
        prev = *a;
    }
    let peak = addons.iter().max().unwrap().to_f64();
    assert!(peak > 0.05, "add-on peaked at {peak}");
    let (w, wo) = (
        with_vol.expect("liquidatable with vol margin"),
        without.expect("liquidatable without"),
    );
    // On this path the add-on brings the liquidation forward (hour 55 against hour 58).
    assert!(w < wo, "with vol margin at hour {w}, static at hour {wo}");
}

#[test]
fn bad_vol_margin_config_is_refused() {
    let mut e = world(1);
    let mut c = config(0.005);
    c.model = VolModel::Garch {
        omega: 1e-6,
        alpha: 0.3,
        beta: 0.8,
    };
    let before = e.state_hash();
    let r = e
        .apply(&at(
            1,
            Command::ConfigureVolMargin {
                role: Role::Governor,
                market: BTC_PERP,
                config: c,
            },
        ))
        .unwrap_err();
    assert!(matches!(r, Reject::InvalidVolMargin(_)), "{r:?}");
    let r = e
        .apply(&at(
            1,
            Command::ConfigureVolMargin {
                role: Role::Guardian,
                market: BTC_PERP,
                config: config(0.01),
            },
        ))
        .unwrap_err();
    assert!(matches!(r, Reject::Unauthorized { .. }));
    assert_eq!(before, e.state_hash());
}
