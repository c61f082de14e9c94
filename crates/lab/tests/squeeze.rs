//! The CRV-style squeeze (`strategy = "squeeze"`): against the naive protocol a squeezer who
//! lifts the one thin venue the engine hears profits on every path and the shorts' liquidations
//! cost the protocol; the reflexive impact of their forced buying adds to its profit on the same
//! paths; against the median of three venues it loses money on average and the protocol loses
//! nothing. The liquidation hunter (`strategy = "liquidation_hunt"`), aiming at the shorts'
//! liquidation prices it reads from the engine, profits against the naive protocol, more with
//! the reflexive impact, and far less against the median. Bad input names the field.

use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_lab::stats::attack::AttackSummary;
use ballast_lab::{embedded, Scenario};

const NAIVE: &str = include_str!("../scenarios/crv-2022-squeeze-naive.toml");

fn attack(name: &str, sets: &[&str]) -> AttackSummary {
    let mut sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sets.push("paths=4".into());
    let (sc, base) = embedded::load(name, &sets).expect("scenario loads");
    let p = Prepared::new(sc, base.as_deref()).expect("scenario prepares");
    let cfg = RunConfig {
        threads: 2,
        ..Default::default()
    };
    let s = runner::run(&p, &cfg).expect("runs").summary;
    println!("{name} {sets:?}:\n{}", s.table());
    s.attack.expect("an attack summary")
}

#[test]
fn the_naive_squeeze_pays_and_its_liquidations_cost_the_protocol() {
    let a = attack("crv-2022-squeeze-naive", &[]);
    assert_eq!(a.p_profitable, 1.0, "{a:?}");
    assert!(a.profit_mean_ci95[0] > 1e6, "{a:?}");
    // It paid for the spot it lifted the venue with.
    assert!(a.spot_impact_mean > 1e4 && a.gas_mean > 0.0, "{a:?}");
    assert!(a.protocol_loss_mean > 1e4, "{a:?}");
}

#[test]
fn reflexive_impact_adds_to_the_squeeze_on_the_same_paths() {
    let on = attack("crv-2022-squeeze-naive", &[]);
    let off = attack("crv-2022-squeeze-naive", &["liquidity.impact=off"]);
    assert!(on.profit_mean > off.profit_mean, "{on:?} vs {off:?}");
    assert!(
        on.protocol_loss_mean > off.protocol_loss_mean,
        "{on:?} vs {off:?}"
    );
}

#[test]
fn a_median_of_three_venues_makes_the_squeeze_lose_money() {
    let naive = attack("crv-2022-squeeze-naive", &[]);
    let d = attack("crv-2022-squeeze-defended", &[]);
    assert!(d.profit_mean < 0.0, "{d:?}");
    assert!(d.p_profitable < naive.p_profitable, "{d:?}");
    assert!(
        d.protocol_loss_mean < naive.protocol_loss_mean / 10.0,
        "{d:?} vs {naive:?}"
    );
}

#[test]
fn bad_squeeze_input_names_the_field() {
    let bad = |from: &str, to: &str| {
        assert!(NAIVE.contains(from), "{from}");
        Scenario::from_toml(&NAIVE.replace(from, to), "t", &[])
            .expect_err("refused")
            .to_string()
    };
    let e = bad("size_usd = 2e7", "size_usd = 0.0");
    assert!(e.contains("agents.attackers[0].size_usd"), "{e}");
    let e = bad("hold_steps = 4", "hold_steps = 0");
    assert!(e.contains("agents.attackers[0].hold_steps"), "{e}");
    let e = bad("capital_usd = 6e6", "capital_usd = 1e6");
    assert!(e.contains("agents.attackers[0].capital_usd"), "{e}");
    let e = bad("venues = [0]", "venues = [1]");
    assert!(e.contains("agents.attackers[0].venues"), "{e}");
}

#[test]
fn the_ledger_conserves_value_through_the_squeeze() {
    for name in ["crv-2022-squeeze-naive", "crv-2022-squeeze-defended"] {
        let (sc, base) = embedded::load(name, &["paths=2".to_string()]).expect("loads");
        let p = Prepared::new(sc, base.as_deref())
            .expect("prepares")
            .with_audit();
        // `with_audit`: conservation through the ledger after every step, or an error.
        let (r, _) = p.run_path_engine(1).expect("conserves value");
        assert_eq!(r.attack.attackers, 1, "{name}");
        assert!(r.attack.deposited > 0, "{name}: {:?}", r.attack);
    }
}

#[test]
fn the_liquidation_hunt_pays_against_the_naive_protocol_and_much_less_against_the_median() {
    let naive = attack("liquidation-hunt", &[]);
    assert_eq!(naive.p_profitable, 1.0, "{naive:?}");
    assert!(naive.profit_mean_ci95[0] > 1e6, "{naive:?}");
    let off = attack("liquidation-hunt", &["liquidity.impact=off"]);
    assert!(naive.profit_mean > off.profit_mean, "{naive:?} vs {off:?}");
    let d = attack("liquidation-hunt-defended", &[]);
    assert!(
        d.profit_mean < naive.profit_mean / 5.0,
        "{d:?} vs {naive:?}"
    );
    assert!(d.protocol_loss_mean < naive.protocol_loss_mean, "{d:?}");
}

#[test]
fn a_hunt_without_a_hold_names_the_field() {
    let text = NAIVE
        .replace("strategy = \"squeeze\"", "strategy = \"liquidation_hunt\"")
        .replace("hold_steps = 4", "hold_steps = 0");
    let e = Scenario::from_toml(&text, "t", &[])
        .expect_err("refused")
        .to_string();
    assert!(e.contains("agents.attackers[0].hold_steps"), "{e}");
}

#[test]
fn squeeze_and_hunt_runs_are_the_same_on_one_and_two_threads() {
    for name in ["crv-2022-squeeze-naive", "liquidation-hunt"] {
        let (sc, base) = embedded::load(name, &["paths=3".to_string()]).expect("loads");
        let p = Prepared::new(sc, base.as_deref()).expect("prepares");
        let json = |threads| {
            let cfg = RunConfig {
                threads,
                ..Default::default()
            };
            let mut v =
                serde_json::to_value(runner::run(&p, &cfg).expect("runs").summary).expect("json");
            v.as_object_mut().expect("object").remove("elapsed_s");
            v
        };
        assert_eq!(json(1), json(2), "{name}");
    }
}
