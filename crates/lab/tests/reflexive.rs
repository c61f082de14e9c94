//! Reflexive liquidity (`[liquidity] impact`): liquidation flow moves the price it liquidates
//! at. On the same paths of the FTX replay (common random numbers) the crash liquidates more and loses more with the
//! impact on than off; the default is off; an impact without depth names the field.

use ballast_lab::record::PathResult;
use ballast_lab::runner::Prepared;
use ballast_lab::{embedded, Scenario};

fn load(name: &str, sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load(name, &sets).expect("scenario loads");
    Prepared::new(sc, base.as_deref()).expect("scenario prepares")
}

const PATHS: u64 = 4;

fn paths(impact: &str) -> Vec<PathResult> {
    let set = format!("liquidity.impact={impact}");
    let p = load("ftx-2022", &["paths=4", "population.accounts=150", &set]);
    (0..PATHS)
        .map(|i| p.run_path(i).expect("path runs"))
        .collect()
}

fn loss(r: &PathResult) -> i64 {
    r.bad_debt + r.covered
}

#[test]
fn a_crash_liquidates_more_and_loses_more_with_reflexive_impact() {
    let off = paths("off");
    for shape in ["linear", "sqrt"] {
        let on = paths(shape);
        let liq = |v: &[PathResult]| v.iter().map(|r| r.liquidations).sum::<u64>();
        let lost = |v: &[PathResult]| v.iter().map(loss).sum::<i64>();
        let dd = |v: &[PathResult]| v.iter().map(|r| r.max_drawdown).sum::<f64>();
        println!(
            "{shape}: liquidations {} vs {}, loss {} vs {}, drawdown {:.3} vs {:.3}",
            liq(&on),
            liq(&off),
            lost(&on),
            lost(&off),
            dd(&on),
            dd(&off)
        );
        // The liquidations' selling deepens the crash on the very same shocks.
        assert!(dd(&on) > dd(&off), "{shape}");
        assert!(liq(&on) >= liq(&off), "{shape}");
        assert!(lost(&on) > lost(&off), "{shape}");
    }
}

#[test]
fn the_impact_is_off_by_default_and_off_changes_nothing() {
    let p = load("march-2020", &["paths=2", "population.accounts=100"]);
    assert!(p.scenario.liquidity.impact.is_off());
    let q = load(
        "march-2020",
        &["paths=2", "population.accounts=100", "liquidity.impact=off"],
    );
    for i in 0..2 {
        assert_eq!(p.run_path(i).unwrap(), q.run_path(i).unwrap());
    }
}

#[test]
fn an_impact_without_depth_or_of_unknown_shape_names_the_field() {
    let base = "name = \"x\"\nseed = 1\npaths = 1\nhorizon = 2\nstep_hours = 1.0\n\
        [[assets]]\nsymbol = \"BTC\"\nprice = 100.0\nmodel = { kind = \"gbm\", sigma = 0.5 }\n\
        [population]\naccounts = 1\nmargin = { dist = \"fixed\", value = 100.0 }\n\
        leverage = { dist = \"fixed\", value = 2.0 }\n";
    let e = Scenario::from_toml(&format!("{base}[liquidity]\nimpact = \"sqrt\"\n"), "t", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("liquidity.impact"), "{e}");
    let e = Scenario::from_toml(
        &format!("{base}[liquidity]\ndepth_usd = 1e6\nimpact = \"cubic\"\n"),
        "t",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("impact") && e.contains("cubic"), "{e}");
}
