//! Ablations: the `!key` removal the knock-outs use, the plan's errors, and the defences whose
//! effect separates on a CI-sized run (the full plan, with more paths, is `ballast ablate`).

use ballast_lab::ablation::{self, Knockout, Plan, Study};
use ballast_lab::embedded;
use ballast_lab::error::LabError;

#[test]
fn removing_a_table_switches_the_defence_off_and_a_misspelt_removal_is_an_error() {
    let (on, _) = embedded::load("oracle-manipulation-defended", &[]).expect("loads");
    assert!(on.breaker.is_some() && on.vol_margin.is_some());
    let (off, _) =
        embedded::load("oracle-manipulation-defended", &["!breaker".into()]).expect("loads");
    assert!(off.breaker.is_none() && off.vol_margin.is_some());
    match embedded::load("oracle-manipulation-defended", &["!braker".into()]) {
        Err(LabError::Override { spec, message }) => {
            assert_eq!(spec, "!braker");
            assert!(message.contains("braker"), "{message}");
        }
        other => panic!("expected an override error, got {other:?}"),
    }
}

#[test]
fn the_embedded_plan_parses_and_a_bad_plan_names_its_field() {
    let plan = Plan::from_toml(ablation::DEFAULT_PLAN, "embedded").expect("embedded plan");
    assert!(plan.study.iter().map(|s| s.knockout.len()).sum::<usize>() >= 6);
    for s in &plan.study {
        assert!(embedded::get(&s.scenario).is_some(), "{}", s.scenario);
    }
    let bad = "[[study]]\nscenario = \"x\"\nknockouts = []\n";
    let e = Plan::from_toml(bad, "bad.toml").unwrap_err().to_string();
    assert!(e.contains("bad.toml") && e.contains("knockouts"), "{e}");
}

#[test]
fn a_knockout_that_changes_the_seed_cannot_be_paired() {
    let study = Study {
        scenario: "gbm-baseline".into(),
        set: vec!["paths=2".into(), "horizon=4".into()],
        knockout: vec![Knockout {
            defence: "nothing".into(),
            off: vec!["seed=99".into()],
            claim: String::new(),
        }],
    };
    match ablation::run_study(&study, 1) {
        Err(LabError::UnpairedKnockout { defence }) => assert_eq!(defence, "nothing"),
        other => panic!("expected an unpaired knock-out, got {other:?}"),
    }
}

#[test]
fn a_knockout_that_changes_nothing_measures_exactly_nothing() {
    // Paired on the same paths, a no-op knock-out differs by exactly zero on every path; were
    // the two sides run on different paths, the differences would scatter around zero.
    let study = Study {
        scenario: "jump-tail".into(),
        set: vec![
            "paths=24".into(),
            "horizon=200".into(),
            "population.accounts=60".into(),
        ],
        knockout: vec![Knockout {
            defence: "no-op".into(),
            off: vec!["paths=24".into()],
            claim: String::new(),
        }],
    };
    let e = &ablation::run_study(&study, 2).expect("runs")[0];
    assert_eq!(e.paths, 24);
    assert_eq!(e.loss_delta.mean, 0.0);
    assert_eq!(e.loss_delta.ci95, [0.0, 0.0]);
    assert_eq!(e.p_on, e.p_off);
    assert_eq!(e.verdict, ablation::Verdict::NoEffect);
}

/// The embedded plan's study of `scenario`, with `paths` and only the named knock-outs.
fn study(scenario: &str, paths: u64, defences: &[&str]) -> Study {
    let plan = Plan::from_toml(ablation::DEFAULT_PLAN, "embedded").expect("embedded plan");
    let mut s = plan
        .study
        .into_iter()
        .find(|s| s.scenario == scenario)
        .unwrap_or_else(|| panic!("no study of {scenario}"));
    s.set.push(format!("paths={paths}"));
    s.knockout
        .retain(|k| defences.contains(&k.defence.as_str()));
    assert_eq!(s.knockout.len(), defences.len(), "{defences:?}");
    s
}

#[test]
fn each_measured_defence_lowers_the_loss_with_separated_intervals() {
    // CI-sized subsets of `ballast ablate` (docs/ablations.md has the full table, 200 paths):
    // each defence switched off alone raises the mean loss per path, and the 95 % interval of
    // the paired difference lies above zero.
    let runs = [
        study(
            "luna-2022-frozen-feed-defended",
            40,
            &["multi-source median"],
        ),
        study(
            "oracle-manipulation-defended",
            60,
            &["volatility-adjusted margin"],
        ),
        study(
            "luna-2022-frozen-feed",
            100,
            &["close factor (frozen feed)"],
        ),
    ];
    for s in &runs {
        for e in ablation::run_study(s, 2).expect("runs") {
            assert_eq!(e.verdict, ablation::Verdict::Lowers, "{e:?}");
            assert!(
                e.loss_off.mean > e.loss_on.mean && e.loss_delta.ci95[0] > 0.0,
                "{e:?}"
            );
        }
    }
}
