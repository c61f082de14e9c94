//! `[oracle] sources = "csv"`: the real venues of a multi-venue CSV as the oracle's sources.
//!
//! The engine's aggregate at every step of `march-2020-venues` must be what `ballast oracle
//! --csv data/2020-03_black_thursday_btc_eth_1h.csv` computes (`ballast_oracle::timeline`, the
//! replay that command prints) on the same file, to the fixed-point unit; and faults still act
//! on top of a venue.

use ballast_engine::num::Price;
use ballast_engine::Engine;
use ballast_lab::embedded;
use ballast_lab::feeds::Feed;
use ballast_lab::path::{oracle_phase, path_rng};
use ballast_lab::runner::Prepared;
use ballast_oracle::aggregate::OracleStatus;
use ballast_oracle::timeline::{run_timeline, TimelineConfig, TimelineRow};

const CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/2020-03_black_thursday_btc_eth_1h.csv"
);

fn load(sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load("march-2020-venues", &sets).expect("scenario loads");
    Prepared::new(sc, base.as_deref()).expect("scenario prepares")
}

/// `march-2020-venues` with `extra` TOML appended (written to a temp file; the CSV still
/// comes from the binary's embedded copy).
fn with_fault(tag: &str, extra: &str) -> Result<Prepared, ballast_lab::LabError> {
    let text = embedded::EMBEDDED
        .iter()
        .find(|(n, _)| *n == "march-2020-venues")
        .expect("embedded")
        .1;
    let dir = std::env::temp_dir().join(format!("ballast-venues-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("s.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).expect("written");
    let (sc, base) = embedded::load(path.to_str().expect("utf-8"), &[])?;
    Prepared::new(sc, base.as_deref())
}

/// What `ballast oracle --csv CSV` prints, per asset, in time order.
fn replay(symbol: &str) -> Vec<TimelineRow> {
    let opts = ballast_data::ReadOptions {
        allow_gaps: true,
        bad_bars: ballast_data::BadBarPolicy::Drop,
    };
    let rows = ballast_data::read_prices_with(std::path::Path::new(CSV), opts)
        .expect("fixture reads")
        .rows;
    run_timeline(&rows, &TimelineConfig::default())
        .expect("replay runs")
        .into_iter()
        .filter(|r| r.symbol == symbol)
        .collect()
}

/// The engine's (fixed-point price, status) of asset `i` (0-based, as the lab numbers them).
fn engine_view(eng: &Engine, i: usize) -> (Option<Price>, OracleStatus) {
    let a = &eng.state().assets[i + 1];
    (
        a.price,
        a.oracle.as_ref().expect("oracle configured").status,
    )
}

/// Steps the engine through the path's price and oracle phases (the venues' quotes do not
/// depend on the model prices) and returns each step's view of every asset.
fn drive(p: &Prepared) -> Vec<Vec<(Option<Price>, OracleStatus)>> {
    let sc = &p.scenario;
    let mut eng = p.genesis.clone();
    let mut feed = Feed::new(&p.assets, path_rng(sc.seed, 0, 3));
    let prices: Vec<f64> = p.assets.iter().map(|a| a.price0).collect();
    let n = prices.len();
    let mut views = vec![(0..n).map(|i| engine_view(&eng, i)).collect::<Vec<_>>()];
    let step_ms = (sc.step_hours * 3_600_000.0) as i64;
    for step in 1..=sc.horizon {
        let t = ballast_lab::units::T0_MS + i64::from(step) * step_ms;
        oracle_phase(&mut eng, sc, Some(&mut feed), &prices, (t, 0, step)).expect("accepted");
        views.push((0..n).map(|i| engine_view(&eng, i)).collect());
    }
    views
}

#[test]
fn the_aggregate_at_every_step_is_what_ballast_oracle_computes() {
    let p = load(&[]);
    let views = drive(&p);
    let decimals = |i: usize| p.genesis.state().assets[i + 1].decimals;
    let qd = p.genesis.state().assets[0].decimals;
    for (i, symbol) in ["BTC", "ETH"].into_iter().enumerate() {
        let rows = replay(symbol);
        assert_eq!(rows.len(), views.len(), "{symbol}: one replay row per step");
        let mut fresh = 0;
        for (step, (row, view)) in rows.iter().zip(&views).enumerate() {
            let (price, status) = view[i];
            assert_eq!(status, row.status, "{symbol} step {step} ({})", row.ts);
            let is_fresh = matches!(
                row.status,
                OracleStatus::Valid | OracleStatus::LowConfidence | OracleStatus::Divergent
            );
            if let (true, Some(agg)) = (is_fresh, row.price) {
                let want = Price::from_human(agg, decimals(i), qd).expect("a price");
                assert_eq!(price, Some(want), "{symbol} step {step} ({})", row.ts);
                fresh += 1;
            }
        }
        assert!(fresh > 100, "{symbol}: only {fresh} fresh steps compared");
    }
    // BTC has two venues (Binance, Gemini): the aggregate is not simply Binance's close.
    let btc = &p.assets[0]
        .venues
        .as_ref()
        .expect("csv venues")
        .layout
        .labels;
    assert_eq!(btc, &["binance", "gemini"]);
    let rows = replay("BTC");
    assert!(rows
        .iter()
        .any(|r| r.quotes.len() == 2 && r.price.is_some_and(|x| x != r.quotes["binance"])));
}

#[test]
fn faults_act_on_top_of_a_venue() {
    // Gemini (source 1) manipulated ×3: with two venues and a majority quorum of 2 the spread
    // blows up and the engine's status leaves Valid, unlike the honest replay.
    let honest = drive(&load(&[]));
    let faulted = drive(
        &with_fault(
            "manip",
            "[[faults.oracle]]\nkind = \"manipulation\"\nasset = \"BTC\"\nsource = 1\nfactor = 3.0\nstart = 30\nend = 40\n",
        )
        .expect("prepares"),
    );
    let changed = (30..40).filter(|&s| faulted[s][0] != honest[s][0]).count();
    assert!(changed > 0, "the manipulated venue changed nothing");
    assert_eq!(faulted[20], honest[20], "before the fault the runs agree");
    // ETH has one venue: a fault on its source 1 names a venue it does not have.
    let Err(e) = with_fault(
        "eth1",
        "[[faults.oracle]]\nkind = \"outage\"\nasset = \"ETH\"\nsource = 1\nstart = 1\nend = 5\n",
    ) else {
        panic!("a fault on a venue ETH does not have is refused")
    };
    let e = e.to_string();
    assert!(
        e.contains("faults.oracle[0].source") && e.contains("binance"),
        "{e}"
    );
}

#[test]
fn csv_sources_need_replayed_assets_and_refuse_per_source_lists() {
    let e = embedded::load("gbm-baseline", &["oracle.sources=csv".to_string()])
        .expect_err("refused")
        .to_string();
    assert!(e.contains("assets[0].model") && e.contains("replay"), "{e}");
    let e = embedded::load(
        "march-2020-venues",
        &["oracle.weights=[1.0, 2.0]".to_string()],
    )
    .expect_err("refused")
    .to_string();
    assert!(e.contains("oracle.weights"), "{e}");
    let e = embedded::load(
        "march-2020-venues",
        &["oracle.sources=\"venues\"".to_string()],
    )
    .expect_err("refused")
    .to_string();
    assert!(e.contains("csv"), "{e}");
}
