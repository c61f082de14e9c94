//! `ballast replay --json` writes ledger `i128` values (`Value`, indices) as exact decimal
//! strings: the liquidation example, whose health figures are far beyond 2^53, exits 0 and each
//! figure parses back to the engine's own value.

use ballast_engine::event::Event;
use ballast_engine::{journal, Engine};
use std::process::Command;

const JOURNAL: &str = "examples/liquidation.jsonl";

fn root() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../..")
}

/// `(health_before, health_after)` of every liquidation, replayed in this process.
fn in_process() -> Vec<(i128, i128)> {
    let text = std::fs::read_to_string(format!("{}/{JOURNAL}", root())).unwrap();
    let parsed = journal::parse(&text).unwrap();
    let r = journal::replay(&mut Engine::new(), &parsed, true);
    r.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Liquidated {
                health_before,
                health_after,
                ..
            } => Some((health_before.0, health_after.0)),
            _ => None,
        })
        .collect()
}

#[test]
fn replay_json_keeps_i128_exact() {
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(["replay", JOURNAL, "--json"])
        .current_dir(root())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let exact = |x: &serde_json::Value| -> i128 {
        x.as_str()
            .expect("an i128 is a string")
            .parse()
            .expect("decimal")
    };
    let from_cli: Vec<(i128, i128)> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["event"])
        .filter(|e| e["event"] == "liquidated")
        .map(|e| (exact(&e["health_before"]), exact(&e["health_after"])))
        .collect();
    let expected = in_process();
    assert!(!expected.is_empty());
    // Beyond f64's exact integers: a JSON number would have lost digits here.
    assert!(expected
        .iter()
        .any(|&(b, _)| b.unsigned_abs() > 1u128 << 53));
    assert_eq!(from_cli, expected);
    assert!(v["applied"].as_u64().unwrap() > 0);
    assert!(v["state_hash"].as_str().unwrap().len() == 64);
}
