//! Scenario input is strict and bounded: a misspelt key anywhere is a TOML error naming it,
//! and every size cap (paths, horizon, accounts, lenders, threads) is a typed `OverCap` that
//! names the cap, raised before any path runs.

use ballast_lab::embedded;
use ballast_lab::error::Cap;
use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_lab::{LabError, Scenario};

const BASE: &str = include_str!("../scenarios/gbm-baseline.toml");

fn parse(text: &str, sets: &[&str]) -> Result<Scenario, LabError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scenario::from_toml(text, "test.toml", &sets)
}

#[test]
fn misspelt_keys_are_errors_naming_the_key() {
    assert!(parse(BASE, &[]).is_ok());
    for (from, to) in [
        ("step_hours = 1.0", "step_hour = 1.0"),
        ("insurance_fund = 50000.0", "insurance_fnd = 50000.0"),
        ("fee_to_fund = 0.5", "fee_to_fnd = 0.5"),
        (
            "mu = 0.0, sigma = 0.6",
            "mu = 0.0, sigma = 0.6, drift = 0.1",
        ),
        ("decimals = 8", "decimal = 8"),
    ] {
        assert!(BASE.contains(from), "{from}");
        let key = to.split([' ', '=']).next().unwrap();
        let key = if to.contains("drift") { "drift" } else { key };
        let e = parse(&BASE.replacen(from, to, 1), &[])
            .expect_err(to)
            .to_string();
        assert!(e.contains(&format!("unknown field `{key}`")), "{to}: {e}");
    }
}

fn cap_of(r: Result<impl Sized, LabError>) -> (Cap, u64) {
    match r {
        Err(LabError::OverCap { cap, value }) => (cap, value),
        Err(e) => panic!("expected OverCap, got {e}"),
        Ok(_) => panic!("expected OverCap, got a scenario"),
    }
}

#[test]
fn scenario_caps_are_typed_errors_naming_the_cap() {
    for (set, cap, value) in [
        ("paths=1000000000000", Cap::Paths, 1_000_000_000_000),
        ("horizon=4000000000", Cap::Horizon, 4_000_000_000),
        (
            "population.accounts=1000000000",
            Cap::Accounts,
            1_000_000_000,
        ),
    ] {
        let r = parse(BASE, &[set]);
        assert_eq!(cap_of(r), (cap, value), "{set}");
        let e = parse(BASE, &[set]).unwrap_err().to_string();
        assert!(
            e.contains(cap.name()) && e.contains(&cap.max().to_string()),
            "{e}"
        );
    }
    let lenders = format!(
        "{BASE}\n[agents.lenders]\ncount = 200000\ndeposit_usd = 1000.0\nwithdraw_drawdown = 0.1\n"
    );
    assert_eq!(cap_of(parse(&lenders, &[])), (Cap::Lenders, 200_000));
    // At the caps it still parses.
    let max = format!("paths={}", Cap::Paths.max());
    assert!(parse(BASE, &[&max]).is_ok());
}

#[test]
fn threads_over_the_cap_are_refused_before_running() {
    let (sc, base) = embedded::load(embedded::DEFAULT, &["paths=2".into()]).unwrap();
    let prep = Prepared::new(sc, base.as_deref()).unwrap();
    let cfg = |threads| RunConfig {
        threads,
        shard: None,
        progress: false,
        out_dir: None,
    };
    assert_eq!(
        cap_of(runner::run(&prep, &cfg(100_000))),
        (Cap::Threads, 100_000)
    );
    assert!(runner::run(&prep, &cfg(2)).is_ok());
}
