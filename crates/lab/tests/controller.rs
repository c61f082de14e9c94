//! The lab's `[controller]`: off by default (no tally, no summary block); on, every change it
//! makes goes through the engine's governance and stays inside the governed range, one allowed
//! step from the value before, at least the minimum delay apart — re-checked here on the final
//! engines' executed proposals and by the path's own tally.

mod run_support;

use ballast_engine::state::{Change, ProposalState};
use run_support::{comparable, load, run};

const VARIANTS: [&str; 4] = [
    "march-2020-controlled",
    "luna-2022-frozen-feed-defended-controlled",
    "oracle-manipulation-defended-controlled",
    "mango-2022-attack-defended-controlled",
];

#[test]
fn without_the_table_there_is_no_controller_in_the_results() {
    let p = load("march-2020", &["paths=2"]);
    let (r, eng) = p.run_path_engine(0).expect("runs");
    assert!(r.controller.is_off(), "{:?}", r.controller);
    let json = serde_json::to_value(&r).expect("serializes");
    assert!(json.get("controller").is_none(), "absent when off");
    assert!(eng.state().proposals.is_empty(), "nobody proposed anything");
    assert!(run(&p, 1).controller.is_none());
}

#[test]
fn every_executed_move_is_one_governed_step_through_the_timelock() {
    let mut executed_anywhere = 0;
    for name in VARIANTS {
        let p = load(name, &["paths=2"]);
        let genesis = p.setup().genesis.clone();
        let gov = genesis.state().governance;
        for path in 0..2 {
            let (r, eng) = p.run_path_engine(path).expect("runs");
            let t = &r.controller;
            assert_eq!(t.on, 1, "{name}: {t:?}");
            assert!(t.decisions > 0, "{name}: {t:?}");
            assert_eq!(t.out_of_bounds, 0, "{name} path {path}: {t:?}");
            let executed: Vec<_> = eng
                .state()
                .proposals
                .iter()
                .filter(|p| p.state == ProposalState::Executed)
                .collect();
            assert_eq!(executed.len() as u64, t.executed, "{name}: {t:?}");
            // Per key, from the genesis value: each executed value one step from the last.
            let mut last: Vec<(ballast_engine::params::ParamKey, i64)> = Vec::new();
            for prop in &executed {
                let Change::Param { key, value } = &prop.change else {
                    panic!("{name}: the controller only proposes parameter changes");
                };
                assert!(prop.eta.0 - prop.proposed_at.0 >= gov.timelock_ms);
                let from = match last.iter().find(|(k, _)| k == key) {
                    Some((_, v)) => *v,
                    None => genesis.param(key).expect("a genesis value"),
                };
                let spec = key.spec();
                assert!(*value >= spec.min && *value <= spec.max, "{name}: {key:?}");
                assert!(
                    (*value - from).abs() <= spec.allowed_step(from),
                    "{name}: {key:?} {from} -> {value}"
                );
                last.retain(|(k, _)| k != key);
                last.push((*key, *value));
            }
            executed_anywhere += executed.len();
        }
    }
    assert!(executed_anywhere > 0, "the controller never moved anything");
}

#[test]
fn a_bad_controller_field_is_named() {
    let sets = vec!["controller={every_steps=0}".to_string()];
    let err = ballast_lab::embedded::load("march-2020", &sets).expect_err("refused");
    assert!(err.to_string().contains("controller.every_steps"), "{err}");
    let sets = vec!["controller={every_step=1}".to_string()];
    let err = ballast_lab::embedded::load("march-2020", &sets).expect_err("refused");
    assert!(err.to_string().contains("every_step"), "{err}");
}

#[test]
fn a_controlled_run_is_the_same_on_any_thread_count() {
    let p = load("oracle-manipulation-defended-controlled", &["paths=3"]);
    let (one, two) = (run(&p, 1), run(&p, 2));
    assert!(one.controller.is_some());
    assert_eq!(comparable(&one), comparable(&two));
}

/// Direction, where the controller helps: under the Mango-style manipulation of
/// `oracle-manipulation-defended`, raising margins through the fast-lane timelock as the
/// volatility add-on and the source spread climb lowers bad debt and P(insolvency) on the same
/// paths (common random numbers), at the cost of more liquidations.
#[test]
fn the_controller_lowers_bad_debt_under_the_oracle_manipulation() {
    let base = run(&load("oracle-manipulation-defended", &["paths=20"]), 2);
    let ctl = run(
        &load("oracle-manipulation-defended-controlled", &["paths=20"]),
        2,
    );
    println!("{}", ballast_lab::compare::table(&base, &ctl));
    assert!(base.bad_debt.mean > 0.0, "the uncontrolled run must lose");
    assert!(
        ctl.bad_debt.mean < 0.7 * base.bad_debt.mean,
        "{} vs {}",
        ctl.bad_debt.mean,
        base.bad_debt.mean
    );
    assert!(ctl.p_insolvency < base.p_insolvency);
    let t = ctl.controller.as_ref().expect("a controller block");
    assert!(t.executed > 0 && t.out_of_bounds == 0, "{t:?}");
    assert!(
        ctl.liquidations.count_mean > base.liquidations.count_mean,
        "the price paid"
    );
}

/// The flagging rule finds the Mango attacker's accounts in the lab (one owner on both sides of
/// the thin market) on most paths before its pump has run its course — by the step the pump
/// ends (`start_step + ramp_steps`), before the hold in which it would borrow against the
/// paper profit — and few ordinary traders. Not on every path: 3 of these 4 fire; why the
/// fourth does not (the rule's `min_share` of each side's open interest?) is not examined yet.
#[test]
fn the_mango_attackers_are_flagged_before_the_pump_ends() {
    let p = load("mango-2022-attack-defended-controlled", &["paths=4"]);
    let a = &p.scenario.agents.attackers[0];
    let pump_end = u64::from(a.start_step + a.ramp_steps);
    let s = run(&p, 2);
    let t = s.controller.as_ref().expect("a controller block");
    println!("{t:?}");
    assert!(
        4 * t.attacker_flag_paths >= 3 * t.on,
        "an attacker flagged on at least 3 paths in 4: {t:?}"
    );
    assert!(
        t.attacker_flag_step_sum <= t.attacker_flag_paths * pump_end,
        "flagged by the pump's end: {t:?}"
    );
    assert!(t.flagged - t.flagged_attackers <= 4, "{t:?}");
}
