//! End-to-end tests of `ballast stress`, `ballast scenarios` and `ballast merge`: the CLI
//! contract (JSON keys, shards that merge into the unsharded result, clear errors, no
//! half-written output).

use std::path::PathBuf;

#[path = "support/run.rs"]
mod run;
use run::ballast;

fn json(s: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(s).expect("one JSON object");
    v.as_object_mut().unwrap().remove("elapsed_s");
    v
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ballast-cli-stress-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn stress_json_has_the_documented_fields() {
    let (ok, out, err) = ballast(&["stress", "--paths", "16", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["scenario"], "gbm-baseline");
    assert_eq!(v["paths"], 16);
    assert_eq!(v["seed"], 42);
    for key in [
        "/p_insolvency",
        "/bad_debt/mean",
        "/bad_debt/var95",
        "/bad_debt/var99",
        "/bad_debt/cvar99",
        "/insurance_fund/min",
        "/insurance_fund/p_depleted",
        "/liquidations/count_mean",
        "/liquidations/volume_mean",
        "/slippage_cost_mean",
        "/capital_efficiency",
        "/elapsed_s",
    ] {
        assert!(
            v.pointer(key).is_some_and(|x| x.is_number()),
            "{key} missing in {out}"
        );
    }
    assert!(err.is_empty(), "no progress bar when not a terminal: {err}");
}

#[test]
fn table_threads_and_shards() {
    let args = [
        "stress",
        "peer-radcad",
        "--paths",
        "40",
        "--set",
        "assets.ETH.model.jump_intensity=30",
    ];
    let (ok, table, err) = ballast(&args);
    assert!(ok, "{err}");
    assert!(
        table.contains("P(insolvency)") && table.contains("bad debt CVaR99"),
        "{table}"
    );
    let run = |extra: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(extra);
        a.push("--json");
        let (ok, out, err) = ballast(&a);
        assert!(ok, "{err}");
        out
    };
    let full = json(&run(&["--threads", "1"]));
    assert_eq!(full, json(&run(&["--threads", "2"])));
    let dir = scratch("shards");
    let mut outs = Vec::new();
    for i in 1..=3 {
        let d = dir.join(format!("s{i}"));
        let shard = format!("{i}/3");
        run(&["--shard", &shard, "--out", d.to_str().unwrap()]);
        assert!(d.join("shard.json").is_file() && d.join("paths.csv").is_file());
        outs.push(d.to_string_lossy().into_owned());
    }
    let mut m = vec!["merge", "--json"];
    m.extend(outs.iter().rev().map(String::as_str));
    let (ok, merged, err) = ballast(&m);
    assert!(ok, "{err}");
    assert_eq!(json(&merged), full);
    let merged_dir = dir.join("merged");
    let md = merged_dir.to_str().unwrap();
    let (ok, _, err) = ballast(&["merge", &outs[0], &outs[1], &outs[2], "--out", md]);
    assert!(ok, "{err}");
    let on_disk = std::fs::read_to_string(merged_dir.join("summary.json")).unwrap();
    assert_eq!(json(&on_disk), full);
    assert!(merged_dir.join("report.html").is_file());
    let (ok, _, err) = ballast(&["merge", &outs[0], &outs[2]]);
    assert!(!ok && err.contains("missing"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_fails_clearly_and_writes_nothing() {
    let dir = scratch("bad");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    for (args, needle) in [
        (
            vec![
                "stress",
                "gbm-baseline",
                "--set",
                "assets.ETH.model.sigma=-1",
                "--out",
                o,
            ],
            "assets[1].model.sigma",
        ),
        (
            vec![
                "stress",
                "march-2020",
                "--set",
                "assets.BTC.model.csv=data/missing.csv",
                "--out",
                o,
            ],
            "data/missing.csv",
        ),
        (
            vec![
                "stress",
                "gbm-baseline",
                "--set",
                "assets.BTC.model.kind=heston",
                "--out",
                o,
            ],
            "unknown variant `heston`",
        ),
        (vec!["stress", "no-such.toml", "--out", o], "no-such.toml"),
        (vec!["stress", "--shard", "1/2"], "--shard needs --out"),
        (vec!["stress", "--shard", "3/2", "--out", o], "1 <= i <= N"),
    ] {
        let (ok, _, err) = ballast(&args);
        assert!(!ok, "{args:?} should fail");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left {out:?}");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "{args:?} left files"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scenarios_lists_the_embedded_ones() {
    let (ok, out, _) = ballast(&["scenarios"]);
    assert!(ok);
    for name in ["gbm-baseline", "jump-tail", "march-2020", "peer-radcad"] {
        assert!(out.contains(name), "{out}");
    }
    assert!(out.contains("(default)"));
}

#[test]
fn engine_mechanism_json_has_adl_socialized_and_breaker_sections() {
    let (ok, out, err) = ballast(&[
        "stress",
        "oracle-manipulation-defended",
        "--paths",
        "6",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "scenario",
        "paths",
        "seed",
        "p_insolvency",
        "bad_debt",
        "insurance_fund",
        "liquidations",
        "elapsed_s",
        "adl",
        "socialized",
        "breaker",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["mechanism"], "engine_auction");
    assert_eq!(v["breaker"]["configured"], true);
    for k in ["mean", "var95", "var99", "cvar99"] {
        assert!(v["bad_debt"][k].is_number(), "bad_debt.{k}");
    }
}

#[test]
fn compare_runs_both_side_by_side() {
    let (ok, out, err) = ballast(&[
        "stress",
        "--compare",
        "oracle-manipulation-naive",
        "oracle-manipulation-defended",
        "--paths",
        "6",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("P(insolvency)") && out.contains("oracle-manipulation-defended"));
    let (ok, out, err) = ballast(&[
        "stress",
        "--compare",
        "oracle-manipulation-naive",
        "oracle-manipulation-defended",
        "--paths",
        "6",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["a"]["scenario"], "oracle-manipulation-naive");
    assert_eq!(v["b"]["scenario"], "oracle-manipulation-defended");
}

#[test]
fn sweep_prints_the_frontier_and_names_bad_grids() {
    let (ok, out, err) = ballast(&[
        "sweep",
        "peer-radcad",
        "--grid",
        "protocol.market.maint_margin=0.03,0.05",
        "--set",
        "horizon=100",
        "--set",
        "assets.ETH.model.jump_intensity=30",
        "--paths",
        "20",
        "--max-p-insolvency",
        "0.9",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["points"].as_array().unwrap().len(), 2);
    assert!(v["recommended"].is_number());
    let (ok, _, err) = ballast(&["sweep", "peer-radcad", "--grid", "maint_margin"]);
    assert!(!ok && err.contains("--grid maint_margin"), "{err}");
}

#[test]
fn report_has_sample_paths_and_breaker_timeline_and_merged_shards_match() {
    let dir = scratch("charts");
    let common = [
        "stress",
        "oracle-manipulation-defended",
        "--paths",
        "8",
        "--set",
        "horizon=100",
        "--set",
        "faults.chain=[{from_step = 20, to_step = 30, halted = true}]",
        "--threads",
        "2",
    ];
    let full = dir.join("full");
    let mut a = common.to_vec();
    a.extend(["--out", full.to_str().unwrap()]);
    let (ok, _, err) = ballast(&a);
    assert!(ok, "{err}");
    let mut outs = Vec::new();
    for i in ["1/2", "2/2"] {
        let d = dir.join(i.replace('/', "-"));
        let mut a = common.to_vec();
        a.extend(["--shard", i, "--out", d.to_str().unwrap()]);
        let (ok, _, err) = ballast(&a);
        assert!(ok, "{err}");
        outs.push(d.to_str().unwrap().to_string());
    }
    let merged = dir.join("merged");
    let (ok, _, err) = ballast(&[
        "merge",
        &outs[1],
        &outs[0],
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    // Everything but the timings is the same page.
    let page = |d: &PathBuf| {
        std::fs::read_to_string(d.join("report.html"))
            .unwrap()
            .lines()
            .filter(|l| !l.contains("elapsed"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (f, m) = (page(&full), page(&merged));
    assert!(f.contains("Breaker mode (share of paths"));
    assert!(f.contains("MNGO model price (USD)") && f.contains(r#""label":"path 4""#));
    assert!(f.contains("chain halted"));
    assert_eq!(f, m);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn trader_rules_and_frozen_feed_from_the_command_line() {
    // Trader rules by --set: their counters appear in the JSON only when the rules are on.
    let (ok, out, err) = ballast(&["stress", "march-2020", "--paths", "6", "--json"]);
    assert!(ok, "{err}");
    assert!(!out.contains("trader_"), "{out}");
    let (ok, out, err) = ballast(&[
        "stress",
        "march-2020",
        "--paths",
        "6",
        "--json",
        "--set",
        "agents.traders.stop_loss=0.5",
    ]);
    assert!(ok, "{err}");
    let v = json(&out);
    assert!(v["trader_closes_mean"].as_f64().unwrap() > 0.0, "{out}");
    // The frozen-feed pair is embedded and compares.
    let (ok, out, err) = ballast(&[
        "stress",
        "--compare",
        "luna-2022-frozen-feed",
        "luna-2022-frozen-feed-defended",
        "--paths",
        "4",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["a"]["scenario"], "luna-2022-frozen-feed");
    assert_eq!(v["b"]["scenario"], "luna-2022-frozen-feed-defended");
    // A bad floor names the field.
    let (ok, _, err) = ballast(&[
        "stress",
        "luna-2022-frozen-feed",
        "--set",
        "faults.oracle.0.floor=0",
    ]);
    assert!(!ok);
    assert!(err.contains("faults.oracle[0].floor"), "{err}");
}
