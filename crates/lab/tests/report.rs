//! The report's charts from a run: replays of dated data put UTC dates on their time axes,
//! synthetic runs count hours or days, and every chart carries data.

use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_lab::{embedded, report};

fn run(name: &str, sets: &[&str]) -> ballast_lab::RunOutput {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load(name, &sets).expect("scenario loads");
    let p = Prepared::new(sc, base.as_deref()).expect("scenario prepares");
    runner::run(&p, &RunConfig::default()).expect("runs")
}

#[test]
fn replays_are_dated_and_synthetic_runs_count_hours() {
    let r = run("march-2020", &["paths=2"]);
    let charts = report::figures::all(&r.summary, &r.aggregate);
    let fund = charts
        .iter()
        .find(|c| c.id == "fund")
        .expect("a fund chart");
    // Step 0 is the first Binance BTC/USDT bar of the replayed file.
    let csv = embedded::data("data/2020-03_black_thursday_btc_eth_1h.csv").expect("embedded");
    let first_ms: f64 = std::str::from_utf8(csv)
        .expect("utf-8")
        .lines()
        .find(|l| l.contains(",binance,BTC/USDT,"))
        .and_then(|l| l.split(',').nth(1))
        .and_then(|v| v.parse().ok())
        .expect("a first bar");
    let start = fund.x_axis.start_unix_s.expect("a dated axis");
    assert_eq!(start, first_ms / 1000.0);
    assert_eq!(fund.x_axis.label, "date (UTC)");
    assert!(charts.iter().all(|c| c.has_data()));

    let r = run("gbm-baseline", &["paths=2", "horizon=48"]);
    let charts = report::figures::all(&r.summary, &r.aggregate);
    let fund = charts
        .iter()
        .find(|c| c.id == "fund")
        .expect("a fund chart");
    assert_eq!(fund.x_axis.start_unix_s, None);
    assert_eq!(fund.x_axis.label, "hours since start");
    assert_eq!(
        fund.x.last().copied(),
        Some(48.0),
        "the last step ends at 48 h"
    );
}
