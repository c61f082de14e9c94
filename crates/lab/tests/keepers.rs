//! Competing keepers (`[[keepers]]`) on the March 2020 replay: with few keepers under a gas
//! spike, naive Dutch auctions (no reset, no incentive, a price that decays to zero) clear lots
//! near zero; Liquidations 2.0 resets with tip and chip lower the bad debt on the same paths;
//! a keeper whose capital is smaller than a lot takes it in slices; runs are deterministic
//! across threads and shards merge exactly; bad keeper entries are named.

use ballast_lab::embedded;
use ballast_lab::runner::{self, RunConfig};
use ballast_lab::{LabError, Summary};

const NAIVE: &str = "march-2020-keepers";
const DEFENDED: &str = "march-2020-keepers-defended";

mod support;
use support::{load, run};

#[test]
fn naive_auctions_clear_some_lots_near_zero_with_few_keepers_under_a_gas_spike() {
    let naive = run(&load(NAIVE, &["paths=8"]), 0);
    let defended = run(&load(DEFENDED, &["paths=8"]), 0);
    let (n, d) = (naive.auctions.unwrap(), defended.auctions.unwrap());
    assert!(n.priced_takes_mean > 10.0, "the crash is auctioned: {n:?}");
    assert!(
        n.zero_bids_mean > 0.0 && n.below_10 > 0.0,
        "naive auctions should clear some lots under 1% / 10% of the oracle: {n:?}"
    );
    // With a cusp at 60% of the start (top = 110% of the oracle), no take can clear under
    // ~66% of the oracle at the start: the resets take the zero bids away.
    assert!(d.priced_takes_mean > 10.0, "{d:?}");
    assert_eq!(d.zero_bids_mean, 0.0, "{d:?}");
    assert!(d.below_10 < n.below_10, "{d:?} vs {n:?}");
}

#[test]
fn dutch_auctions_with_resets_and_tip_chip_lower_the_bad_debt() {
    // Common random numbers: the same seed gives both variants the same prices, books, gas
    // and keeper schedules path by path; the paired differences must stay above zero.
    let paths = 30;
    let set = format!("paths={paths}");
    let (naive, defended) = (load(NAIVE, &[&set]), load(DEFENDED, &[&set]));
    let d: Vec<f64> = (0..paths)
        .map(|i| {
            let a = naive.run_path(i).unwrap().bad_debt as f64 / 1e6;
            let b = defended.run_path(i).unwrap().bad_debt as f64 / 1e6;
            a - b
        })
        .collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    let lo = mean - 1.96 * (var / n).sqrt();
    assert!(
        lo > 0.0,
        "naive − defended bad debt per path: mean {mean:.0} USD, 95% CI low {lo:.0} ({d:?})"
    );
    // And the defended fund paid incentives that changed who showed up: the kicker (k2, no
    // capital) starts or resets auctions only when tip + chip pays its gas.
    let s = run(&defended, 0).auctions.unwrap();
    assert!(s.keepers[2].kicks_mean > 0.0, "{s:?}");
    let s = run(&naive, 0).auctions.unwrap();
    assert!(
        s.keepers.get(2).is_none_or(|k| k.kicks_mean == 0.0),
        "{s:?}"
    );
}

#[test]
fn a_keeper_takes_partial_slices_of_a_lot_larger_than_its_capital() {
    // One keeper online, every other out; its capital carries ~3k USD of notional at 10%
    // initial margin, while the book holds lots of several hundred thousand.
    let one = |capital: &str| {
        let cap = format!("keepers.0.capital_usd={capital}");
        load(
            NAIVE,
            &[
                "paths=3",
                "keepers.0.online_probability=1",
                "keepers.0.latency_ms=0",
                "keepers.0.min_profit_usd=0",
                "keepers.0.gas_budget_usd=1e9",
                "keepers.1.online_probability=0",
                "keepers.2.online_probability=0",
                &cap,
            ],
        )
    };
    let (small, rich) = (one("300"), one("1e9"));
    let (mut sliced, mut whole) = (0, 0);
    for path in 0..3 {
        let r = small.run_path(path).unwrap();
        let w = rich.run_path(path).unwrap();
        assert!(
            r.keepers.takes[0] > 0 && w.keepers.takes[0] > 0,
            "path {path}"
        );
        sliced += r.keepers.partial;
        whole += w.keepers.partial;
    }
    // Takes that leave part of the lot: the small keeper's lots outgrow its capital.
    assert!(sliced > 0, "no partial take");
    assert!(
        sliced > 2 * whole,
        "slicing comes from capital: {sliced} vs {whole}"
    );
}

#[test]
fn keepers_are_deterministic_across_threads_and_shards_merge() {
    let p = load(NAIVE, &["paths=8", "horizon=90"]);
    let strip = |s: &Summary| {
        let mut v = serde_json::to_value(s).unwrap();
        v.as_object_mut().unwrap().remove("elapsed_s");
        v
    };
    let (a, b) = (run(&p, 1), run(&p, 2));
    assert!(a
        .auctions
        .as_ref()
        .is_some_and(|x| x.priced_takes_mean > 0.0));
    assert_eq!(strip(&a), strip(&b));
    // Two shards' aggregates merge into exactly the unsharded one (integer buckets).
    let agg = |shard| {
        let cfg = RunConfig {
            threads: 2,
            shard,
            ..Default::default()
        };
        runner::run(&p, &cfg).expect("runs").aggregate
    };
    let whole = agg(None);
    let mut merged = agg(Some((1, 2)));
    merged.merge(&agg(Some((2, 2))));
    assert!(whole.auctions.priced_takes() > 0);
    assert_eq!(merged.auctions, whole.auctions);
    assert_eq!(merged.bad_debt, whole.bad_debt);
}

#[test]
fn bad_keeper_entries_are_named() {
    let err = |sets: &[&str], name: &str| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match embedded::load(name, &sets) {
            Err(LabError::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    };
    assert_eq!(
        err(&["keepers.1.capital_usd=-5"], NAIVE),
        "keepers[1].capital_usd"
    );
    assert_eq!(
        err(&["keepers.0.online_probability=1.5"], NAIVE),
        "keepers[0].online_probability"
    );
    assert_eq!(
        err(&["keepers.2.latency_ms=3600000"], NAIVE),
        "keepers[2].latency_ms"
    );
    assert_eq!(
        err(&["protocol.liquidation.mechanism=keeper_fill"], NAIVE),
        "keepers"
    );
    let unknown = embedded::load(NAIVE, &["keepers.0.speed=3".to_string()]);
    assert!(
        matches!(&unknown, Err(LabError::Toml { message, .. }) if message.contains("speed")),
        "{unknown:?}"
    );
}

#[test]
fn competing_keepers_conserve_value_and_also_take_over() {
    // Under both engine mechanisms, with three keeper accounts in the ledger: value is
    // conserved, every loss beyond the fund is booked, and more than one keeper takes.
    for mech in ["engine_auction", "engine_takeover"] {
        let set = format!("protocol.liquidation.mechanism={mech}");
        let p = load(NAIVE, &["paths=3", &set]);
        let mut takers = std::collections::BTreeSet::new();
        for path in 0..3 {
            let (r, eng) = p.run_path_engine(path).unwrap();
            assert!(
                eng.conservation_gaps().iter().all(|(_, g)| *g == 0),
                "{mech} path {path}"
            );
            assert_eq!(r.bad_debt, r.adl + r.socialized + r.engine_bad_debt);
            let takes: u64 = r.keepers.takes.iter().sum();
            assert!(takes > 0, "{mech} path {path}: nobody took");
            for (k, n) in r.keepers.takes.iter().enumerate() {
                if *n > 0 {
                    takers.insert(k);
                }
            }
        }
        assert!(takers.len() >= 2, "{mech}: keepers that took {takers:?}");
    }
}
