//! Chain faults (block halts, congestion), the per-step sell cap, and the report's sample-path
//! and breaker-timeline charts: each changes what it should, stays deterministic across thread
//! counts, and merges exactly across shards.

use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_lab::{embedded, report, Aggregate, Summary};

fn load(name: &str, sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load(name, &sets).expect("scenario loads");
    Prepared::new(sc, base.as_deref()).expect("scenario prepares")
}

fn run_cfg(p: &Prepared, threads: usize, shard: Option<(u64, u64)>) -> (Summary, Aggregate) {
    let o = runner::run(
        p,
        &RunConfig {
            threads,
            shard,
            ..Default::default()
        },
    )
    .expect("runs");
    (o.summary, o.aggregate)
}

fn run(p: &Prepared, threads: usize) -> Summary {
    run_cfg(p, threads, None).0
}

fn comparable(s: &Summary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap();
    v.as_object_mut().unwrap().remove("elapsed_s");
    v
}

/// March 2020 replay (143 hourly bars); a halt on steps 55–90 covers the worst of the crash.
const MARCH: [&str; 1] = ["paths=40"];

#[test]
fn a_block_halt_during_the_crash_raises_bad_debt_and_is_deterministic() {
    let base = run(&load("march-2020", &MARCH), 2);
    let halt_sets = [
        &MARCH[..],
        &["faults.chain=[{from_step = 55, to_step = 90, halted = true}]"],
    ]
    .concat();
    let p = load("march-2020", &halt_sets);
    let halted = run(&p, 2);
    println!(
        "no halt: P {:.3} mean {:.0}; halt 55..90: P {:.3} mean {:.0}",
        base.p_insolvency, base.bad_debt.mean, halted.p_insolvency, halted.bad_debt.mean
    );
    assert!(
        halted.bad_debt.mean > base.bad_debt.mean,
        "{} vs {}",
        halted.bad_debt.mean,
        base.bad_debt.mean
    );
    assert!(
        halted.liquidations.wait_steps_offline_mean > base.liquidations.wait_steps_offline_mean
    );
    assert!((halted.chain_halted_fraction - 35.0 / 143.0).abs() < 1e-12);
    assert_eq!(base.chain_halted_fraction, 0.0);
    // Deterministic across thread counts.
    assert_eq!(comparable(&run(&p, 1)), comparable(&halted));
    // A chain window is part of the scenario: shards of the two runs never merge.
    assert_ne!(base.fingerprint, halted.fingerprint);
}

#[test]
fn a_halt_trips_the_breakers_and_congestion_makes_them_cautious() {
    let sets = ["paths=6", "horizon=50"];
    let base = run(&load("oracle-manipulation-defended", &sets), 2);
    let halted = run(
        &load(
            "oracle-manipulation-defended",
            &[
                &sets[..],
                &["faults.chain=[{from_step = 10, to_step = 20, halted = true}]"],
            ]
            .concat(),
        ),
        2,
    );
    assert!(
        halted.breaker.halted > base.breaker.halted,
        "{:?} vs {:?}",
        halted.breaker,
        base.breaker
    );
    let congested = run(
        &load(
            "oracle-manipulation-defended",
            &[
                &sets[..],
                &["faults.chain=[{from_step = 10, to_step = 20, congestion = 5.0}]"],
            ]
            .concat(),
        ),
        2,
    );
    assert!(
        congested.breaker.cautious > base.breaker.cautious,
        "{:?} vs {:?}",
        congested.breaker,
        base.breaker
    );
    assert_eq!(congested.chain_halted_fraction, 0.0);
}

#[test]
fn a_tight_sell_cap_defers_sales_and_raises_bad_debt() {
    // The lab keeper (`keeper_fill`) closes whole accounts and settles them once closed, so a
    // cap leaves them open to sink; the engine's takeover sends bankrupt accounts to the
    // waterfall whatever the cap, and at 40 paths the direction does not show there.
    let march = [MARCH[0], "protocol.liquidation.mechanism=keeper_fill"];
    let base = run(&load("march-2020", &march), 2);
    let sets = [&march[..], &["liquidity.max_sell_usd_per_step=20000"]].concat();
    let p = load("march-2020", &sets);
    let capped = run(&p, 2);
    println!(
        "no cap: P {:.3} mean {:.0}; cap 20k/step: P {:.3} mean {:.0}, deferred {:.0}/path",
        base.p_insolvency,
        base.bad_debt.mean,
        capped.p_insolvency,
        capped.bad_debt.mean,
        capped.deferred_sell_mean
    );
    assert_eq!(base.deferred_sell_mean, 0.0);
    assert!(capped.deferred_sell_mean > 0.0);
    assert!(
        capped.bad_debt.mean > base.bad_debt.mean,
        "{} vs {}",
        capped.bad_debt.mean,
        base.bad_debt.mean
    );
    // Counting what is still being unwound at the horizon, the loss is larger still.
    assert!(capped.unsettled_mean > base.unsettled_mean);
    assert!(
        capped.bad_debt.mean + capped.unsettled_mean > base.bad_debt.mean + base.unsettled_mean
    );
    assert_eq!(comparable(&run(&p, 1)), comparable(&capped));
    // A cap too loose to bind changes nothing but the fingerprint.
    let loose = run(
        &load(
            "march-2020",
            &[&march[..], &["liquidity.max_sell_usd_per_step=1e15"]].concat(),
        ),
        2,
    );
    let (mut a, mut b) = (comparable(&loose), comparable(&base));
    a.as_object_mut().unwrap().remove("fingerprint");
    b.as_object_mut().unwrap().remove("fingerprint");
    assert_eq!(a, b);
}

#[test]
fn the_sell_cap_applies_to_engine_mechanisms() {
    for mech in ["engine_takeover", "engine_auction"] {
        let m = format!("protocol.liquidation.mechanism={mech}");
        let base = run(&load("march-2020", &["paths=12", &m]), 2);
        let p = load(
            "march-2020",
            &["paths=12", &m, "liquidity.max_sell_usd_per_step=20000"],
        );
        let capped = run(&p, 2);
        assert!(capped.deferred_sell_mean > 0.0, "{mech}");
        assert_eq!(capped.liquidations.refused_mean, 0.0, "{mech}");
        assert!(
            capped.bad_debt.mean > base.bad_debt.mean,
            "{mech}: {} vs {}",
            capped.bad_debt.mean,
            base.bad_debt.mean
        );
        assert_eq!(comparable(&run(&p, 1)), comparable(&capped), "{mech}");
    }
}

#[test]
fn bad_chain_and_cap_input_is_named() {
    let sets: Vec<String> =
        vec!["faults.chain=[{from_step = 9, to_step = 3, halted = true}]".into()];
    let e = embedded::load("jump-tail", &sets)
        .map_err(|e| e.to_string())
        .and_then(|(sc, b)| {
            Prepared::new(sc, b.as_deref())
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .unwrap_err();
    assert!(e.contains("faults.chain[0].to_step"), "{e}");
    let sets: Vec<String> = vec!["liquidity.max_sell_usd_per_step=-1".into()];
    let e = embedded::load("jump-tail", &sets)
        .map_err(|e| e.to_string())
        .and_then(|(sc, b)| {
            Prepared::new(sc, b.as_deref())
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .unwrap_err();
    assert!(e.contains("liquidity.max_sell_usd_per_step"), "{e}");
}

#[test]
fn report_draws_sample_paths_and_breaker_timeline_and_shards_merge_to_the_same_data() {
    let p = load("oracle-manipulation-defended", &["paths=9", "horizon=120"]);
    let (whole_s, whole) = run_cfg(&p, 2, None);
    assert_eq!(whole.sample_paths.len(), 5);
    assert_eq!(
        whole
            .sample_paths
            .iter()
            .map(|s| s.path)
            .collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(whole.breaker_by_step.len(), 120);
    assert!(whole
        .breaker_by_step
        .iter()
        .all(|c| c.iter().sum::<u64>() == 9));
    // Some path is halted during the manipulation.
    assert!(whole.breaker_by_step.iter().any(|c| c[2] > 0));
    let html = report::html(&whole_s, &whole);
    let charts = report::figures::all(&whole_s, &whole);
    let ids: Vec<&str> = charts.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&"breakers"), "timeline chart: {ids:?}");
    let mngo = charts
        .iter()
        .find(|c| c.title == "MNGO model price (USD)")
        .expect("an MNGO price chart");
    let labels: Vec<&str> = mngo.series.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["path 0", "path 1", "path 2", "path 3", "path 4"]);
    assert!(charts.iter().all(|c| c.has_data()), "every chart has data");
    assert_oracle_chart(&whole, &charts);
    let headroom = charts.iter().find(|c| c.id == "headroom");
    let headroom = headroom.expect("a headroom chart");
    assert_eq!(headroom.series.len(), 3, "start, worst step, end");
    // Every account with a requirement at t0 is in one bin: the shares sum to one.
    let t0: f64 = headroom.series[0].values.iter().flatten().sum();
    assert!((t0 - 1.0).abs() < 1e-9, "{t0}");
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(
            !html.contains(external),
            "self-contained: no external reference ({external})"
        );
    }
    // Shards split across the sample paths, run with different thread counts, merged out of
    // order: the same chart data and the same charts.
    let shards: Vec<_> = [(3, 1), (1, 2), (2, 1)]
        .iter()
        .map(|&(i, t)| {
            runner::run(
                &p,
                &RunConfig {
                    threads: t,
                    shard: Some((i, 3)),
                    ..Default::default()
                },
            )
            .unwrap()
            .shard
            .unwrap()
        })
        .collect();
    // Through JSON, as `ballast merge` reads them.
    let shards: Vec<_> = shards
        .iter()
        .map(|s| serde_json::from_str(&serde_json::to_string(s).unwrap()).unwrap())
        .collect();
    let (merged_s, merged) = runner::merge_shards(&shards).unwrap();
    assert_eq!(merged.sample_paths, whole.sample_paths);
    let oracle = |a: &Aggregate| -> Vec<_> {
        let c = report::figures::all(&whole_s, a);
        c.into_iter()
            .filter(|c| c.id.starts_with("oracle_"))
            .collect()
    };
    assert_eq!(
        oracle(&merged),
        oracle(&whole),
        "merged shards: same oracle chart"
    );
    assert_eq!(merged.steps.headroom, whole.steps.headroom);
    assert_eq!(merged.breaker_by_step, whole.breaker_by_step);
    assert_eq!(merged, whole);
    assert_eq!(comparable(&merged_s), comparable(&whole_s));
    assert_eq!(
        report::figures::all(&whole_s, &merged),
        report::figures::all(&whole_s, &whole),
        "merged shards draw the same charts"
    );
    // Without breakers there is no timeline, but sample paths are drawn.
    let (s, a) = run_cfg(&load("jump-tail", &["paths=3", "horizon=50"]), 2, None);
    let charts = report::figures::all(&s, &a);
    assert!(!charts.iter().any(|c| c.id == "breakers"));
    let price = charts
        .iter()
        .find(|c| c.id == "price_0")
        .expect("a price chart");
    assert_eq!(price.series.len(), 3, "three distinct sample paths");
}

/// Path 0 alone records the oracle; on its chart source 0 quotes ×25 the fair price inside the
/// manipulation window (noise 0.001) while the other two and the engine's median stay at it.
fn assert_oracle_chart(whole: &Aggregate, charts: &[report::chart::Chart]) {
    let recorded: Vec<u64> = whole
        .sample_paths
        .iter()
        .filter(|p| !p.oracle.is_empty())
        .map(|p| p.path)
        .collect();
    assert_eq!(recorded, [0], "only path 0 records the oracle");
    let c = charts
        .iter()
        .find(|c| c.id == "oracle_0")
        .expect("an MNGO oracle chart");
    let labels: Vec<&str> = c.series.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "source 0",
            "source 1",
            "source 2",
            "engine aggregate",
            "model (fair) price"
        ]
    );
    // Stride 1 over 120 steps: x = step; step 80 is past the ramp (60 + 10).
    let at = |k: usize| c.series[k].values[79].expect("a value at step 80");
    let fair = at(4);
    let ratio = |k: usize| libm::log(at(k) / fair);
    assert!(
        (ratio(0) - libm::log(25.0)).abs() < 0.01,
        "{}",
        at(0) / fair
    );
    for k in [1, 2, 3] {
        assert!(ratio(k).abs() < 0.01, "series {k}: {} vs {fair}", at(k));
    }
}
