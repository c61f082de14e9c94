//! Exact expected values where a closed form exists, derived in the test from the published
//! formula rather than read back from the engine.
//!
//! - The volatility add-on on the real Black Thursday BTC hours: RiskMetrics EWMA
//!   `σ²_t = λσ²_{t−1} + (1−λ)r²_t` seeded with the first squared log return, target
//!   `k·σ·√horizon`, moved toward it by at most `max_step` per interval, rounded up to the
//!   ratio scale (J.P. Morgan/Reuters, RiskMetrics Technical Document, 1996).

mod common;

use ballast_engine::command::Command;
use ballast_engine::demo::{BTC, BTC_PERP};
use ballast_engine::event::Event;
use ballast_engine::num::RATIO_SCALE;
use ballast_engine::volmargin::{VolMarginConfig, VolModel};
use ballast_engine::{Engine, Role};
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

/// The add-on after each hour, computed from the formula alone (in ratio units).
fn expected_addons(
    series: &[(i64, f64)],
    lambda: f64,
    k: f64,
    horizon: f64,
    max_step: f64,
) -> Vec<i64> {
    let mut out = Vec::new();
    let (mut var, mut addon): (Option<f64>, f64) = (None, 0.0);
    for w in series.windows(2) {
        let ((t0, p0), (t1, p1)) = (w[0], w[1]);
        let gap = (t1.div_euclid(HOUR) - t0.div_euclid(HOUR)) as f64;
        assert!(gap >= 1.0, "one close per hour");
        let r = libm::log(p1 / p0);
        let r2 = r * r / gap;
        let v = match var {
            None => r2,
            Some(v) => lambda * v + (1.0 - lambda) * r2,
        };
        var = Some(v);
        let target = k * v.sqrt() * horizon.sqrt();
        addon += (target - addon).clamp(-max_step, max_step);
        out.push((addon * RATIO_SCALE as f64).ceil() as i64);
    }
    out
}

#[test]
fn the_vol_addon_equals_the_riskmetrics_ewma_hour_by_hour() {
    let series = closes();
    assert!(series.len() > 100, "{} hours", series.len());
    let (lambda, k, horizon, max_step) = (0.94, 3.0, 4.0, 0.02);
    let t0 = series[0].0;
    let mut e = Engine::new();
    run(&mut e, &ballast_engine::demo::genesis(t0));
    run(
        &mut e,
        &[at(
            t0,
            Command::ConfigureVolMargin {
                role: Role::Governor,
                market: BTC_PERP,
                config: VolMarginConfig {
                    model: VolModel::Ewma { lambda },
                    interval_ms: HOUR,
                    k,
                    horizon,
                    max_step,
                },
            },
        )],
    );
    let mut got = Vec::new();
    let mut current = 0i64;
    for (i, &(ts, price)) in series.iter().enumerate() {
        let ev = e
            .apply(&at(ts, Command::SetPrice { asset: BTC, price }))
            .unwrap_or_else(|r| panic!("hour {i}: {r:?}"));
        for x in &ev {
            if let Event::VolMarginUpdated { addon, .. } = x {
                current = addon.0;
            }
        }
        if i > 0 {
            got.push(current);
        }
    }
    let want = expected_addons(&series, lambda, k, horizon, max_step);
    assert_eq!(got.len(), want.len());
    for (h, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g,
            w,
            "hour {}: engine add-on {g}, formula {w} (1e-9 units)",
            h + 1
        );
    }
    // The crash moves it: not a test that holds for a flat add-on.
    let peak = *want.iter().max().unwrap();
    assert!(peak as f64 / RATIO_SCALE as f64 > 0.05, "peak {peak}");
    assert!(
        want.windows(2).any(|w| w[1] < w[0]),
        "the add-on also falls back"
    );
}
