//! End-to-end tests of the attack figures on the command line: `ballast attack-capital` (its
//! answer agrees with its own probes, and with the JSON) and the attack block of
//! `ballast stress --json`; a scenario without attackers is refused naming the field.

#[path = "support/run.rs"]
mod run;
use run::ballast;

#[test]
fn attack_capital_prints_the_bracket_its_probes_support() {
    let args = ["attack-capital", "mango-2022-attack-naive", "--paths", "4"];
    let (ok, out, err) = ballast(&[&args[..], &["--json"]].concat());
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    let min = v["min_capital_usd"].as_f64().expect("a profitable capital");
    for p in v["probes"].as_array().unwrap() {
        let (c, profit) = (
            p["capital_usd"].as_f64().unwrap(),
            p["profit_mean"].as_f64().unwrap(),
        );
        assert_eq!(profit > 0.0, c >= min, "{p} vs {min}");
    }
    let (ok, table, err) = ballast(&args);
    assert!(ok, "{err}");
    let last = table.lines().last().unwrap();
    let shown = ballast_lab::stats::group_thousands(min);
    assert_eq!(
        last,
        format!("minimum profitable attack capital: {shown} USD")
    );
}

#[test]
fn stress_json_carries_the_attack_block_and_attack_capital_needs_an_attacker() {
    let (ok, out, err) = ballast(&[
        "stress",
        "mango-2022-attack-defended",
        "--paths",
        "2",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["attack"]["paths"], 2);
    assert_eq!(v["attack"]["p_profitable"], 0.0);
    assert!(v["attack"]["profit_mean"].as_f64().unwrap() < 0.0);
    // No attackers, no attack block.
    let (ok, out, _) = ballast(&["stress", "--paths", "2", "--json"]);
    assert!(ok);
    assert!(serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .get("attack")
        .is_none());
    let (ok, _, err) = ballast(&["attack-capital", "gbm-baseline", "--paths", "2"]);
    assert!(!ok);
    assert!(err.contains("agents.attackers"), "{err}");
}
