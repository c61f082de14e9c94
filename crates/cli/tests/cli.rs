//! End-to-end tests of the `ballast` binary: the README commands work and their output holds.

#[path = "support/run.rs"]
mod run;
use run::ballast;

#[test]
fn demo_runs_and_matches_the_committed_journal() {
    let (ok, out, _) = ballast(&["demo"]);
    assert!(ok);
    assert!(
        out.contains("rejected: acct#1 would fall below initial margin"),
        "{out}"
    );
    assert!(out.contains("is time-locked until"));
    // The ×25 venue is dropped: Bob's large borrow is priced at the honest median.
    assert!(
        out.contains("line   38  rejected: acct#2 would fall below initial margin"),
        "{out}"
    );
    let hash = out
        .lines()
        .find_map(|l| l.strip_prefix("state hash "))
        .expect("hash line")
        .to_string();
    // Replaying the committed journal gives the same state, twice.
    for _ in 0..2 {
        let (ok, out, _) = ballast(&["replay", "examples/demo.jsonl", "--json"]);
        assert!(ok);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["state_hash"], hash.as_str());
        assert_eq!(v["rejected"].as_array().unwrap().len(), 4);
    }
}

#[test]
fn replay_reports_a_malformed_line() {
    let dir = std::env::temp_dir().join(format!("ballast-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.jsonl");
    let good = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/demo.jsonl"
    ))
    .unwrap();
    let first: Vec<&str> = good.lines().take(3).collect();
    std::fs::write(
        &path,
        format!(
            "{}\n{{\"time\":1,\"cmd\":{{\"type\":\"deposit\"}}}}\n",
            first.join("\n")
        ),
    )
    .unwrap();
    let (ok, _, err) = ballast(&["replay", path.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("journal line 4"), "{err}");
    let (ok, _, err) = ballast(&["replay", "no/such/file.jsonl"]);
    assert!(!ok && err.contains("reading journal"), "{err}");
}

#[test]
fn oracle_json_has_the_contract_keys() {
    let (ok, out, err) = ballast(&[
        "oracle",
        "--csv",
        "data/2020-03_black_thursday_btc_eth_1h.csv",
        "--symbol",
        "BTC",
        "--json",
    ]);
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() > 100);
    for r in &rows {
        for k in ["ts", "symbol", "price", "status", "mode"] {
            assert!(r.get(k).is_some(), "missing {k} in {r}");
        }
        assert_eq!(r["symbol"], "BTC");
    }
    // The 2020-03-12 crash halts the breaker at some point.
    assert!(rows.iter().any(|r| r["mode"] == "Halted"));
    let (ok, _, err) = ballast(&["oracle", "--csv", "data/missing.csv"]);
    assert!(!ok && err.contains("missing.csv"), "{err}");
}

#[test]
fn greeks_json_matches_haug_and_rejects_bad_input() {
    // Haug (1998) p.2-8: call S=60 K=65 T=0.25 r=8% σ=30% → 2.1334.
    let (ok, out, err) = ballast(&[
        "greeks", "--model", "bsm", "--type", "call", "--spot", "60", "--strike", "65", "--t",
        "0.25", "--rate", "0.08", "--div", "0", "--vol", "0.3", "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in ["price", "delta", "gamma", "vega", "theta", "rho"] {
        assert!(v[k].is_f64(), "missing {k}");
    }
    assert!((v["price"].as_f64().unwrap() - 2.1334).abs() < 1e-4);
    let (ok, _, err) = ballast(&[
        "greeks", "--type", "put", "--spot", "100", "--strike", "100", "--t", "-1", "--vol", "0.2",
    ]);
    assert!(!ok && err.contains("expiry"), "{err}");
    let (ok, _, err) = ballast(&[
        "greeks", "--type", "put", "--spot", "100", "--strike", "0", "--t", "1", "--vol", "0.2",
    ]);
    assert!(!ok && err.contains("strike"), "{err}");
}

#[test]
fn margin_names_the_worst_scenario() {
    let (ok, out, err) = ballast(&[
        "margin",
        "--portfolio",
        "crates/options/tests/data/portfolio_example.json",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["requirement"].as_f64().unwrap() > 0.0);
    assert!(v["worst_scenario"].is_object());
    assert!(v["requirement"].as_f64().unwrap() <= v["sum_of_standalone"].as_f64().unwrap());
    let (ok, _, err) = ballast(&["margin", "--portfolio", "no/such.json"]);
    assert!(!ok && err.contains("no/such.json"), "{err}");
}
