//! `ballast prove`, `verify` and `contagion` end to end: a proof round-trips through files,
//! tampering and unknown fields are refused with a message (never a panic), and the contagion
//! map of the three-pool demo shows the shared BTC edge and the shock's losses.

use std::path::{Path, PathBuf};
use std::process::Command;

fn ballast(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ballast-cli-solv-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn demo_journal(d: &Path) -> PathBuf {
    let j = d.join("demo.jsonl");
    let (ok, _, err) = ballast(&["demo", "--write", s(&j)]);
    assert!(ok, "{err}");
    j
}

#[test]
fn prove_then_verify_every_account() {
    let d = dir("prove");
    let j = demo_journal(&d);
    let secret = d.join("secret.key");
    std::fs::write(&secret, [7u8; 40]).unwrap();
    let out = d.join("out");
    let (ok, text, err) = ballast(&[
        "prove",
        "--state",
        s(&j),
        "--out",
        s(&out),
        "--secret-file",
        s(&secret),
    ]);
    assert!(ok, "{err}");
    assert!(text.contains("USDC") && text.contains("covered"), "{text}");
    let roots = out.join("roots.json");
    let lines = std::fs::read_to_string(out.join("proofs.jsonl")).unwrap();
    let n = lines.lines().count();
    assert!(
        n > 0 && text.contains(&format!("over {n} accounts")),
        "{text}"
    );
    for (i, line) in lines.lines().enumerate() {
        let p = d.join(format!("p{i}.json"));
        std::fs::write(&p, line).unwrap();
        let (ok, text, err) = ballast(&["verify", "--root", s(&roots), "--proof", s(&p)]);
        assert!(ok, "account {i}: {err}");
        assert!(text.contains("OK: 3 asset proof(s) verified"), "{text}");
    }
    // --account extracts one proof, identical to its line in proofs.jsonl.
    let one = d.join("one");
    let (ok, _, err) = ballast(&[
        "prove",
        "--state",
        s(&j),
        "--out",
        s(&one),
        "--secret-file",
        s(&secret),
        "--account",
        "2",
    ]);
    assert!(ok, "{err}");
    let single: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("proof-2.json")).unwrap()).unwrap();
    let line: serde_json::Value = serde_json::from_str(lines.lines().nth(2).unwrap()).unwrap();
    assert_eq!(single, line);
}

#[test]
fn tampered_and_malformed_proofs_are_refused() {
    let d = dir("tamper");
    let j = demo_journal(&d);
    let out = d.join("out");
    let (ok, _, err) = ballast(&[
        "prove",
        "--state",
        s(&j),
        "--out",
        s(&out),
        "--account",
        "1",
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("demo secret"), "{err}");
    let roots = out.join("roots.json");
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("proof-1.json")).unwrap()).unwrap();
    let check = |v: &serde_json::Value, want: &str| {
        let p = d.join("t.json");
        std::fs::write(&p, v.to_string()).unwrap();
        let (ok, _, err) = ballast(&["verify", "--root", s(&roots), "--proof", s(&p)]);
        assert!(!ok, "accepted: {v}");
        assert!(err.contains(want), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    let mut v = good.clone();
    v["proofs"][0]["liability"] = "1".into();
    check(&v, "does not verify");
    let mut v = good.clone();
    v["proofs"][0]["path"][0]["sum"] = "0".into();
    check(&v, "tree root");
    let mut v = good.clone();
    v["proofs"][0]["extra"] = 1.into();
    check(&v, "unknown field");
    let mut v = good.clone();
    v["proofs"][0]["liability"] = 12.into();
    check(&v, "expected a string");
    // A root that is neither hex nor a file.
    let (ok, _, err) = ballast(&[
        "verify",
        "--root",
        "nope",
        "--proof",
        s(&out.join("proof-1.json")),
    ]);
    assert!(!ok && err.contains("neither 64 hex digits"), "{err}");
}

#[test]
fn contagion_shows_the_shared_edge_and_the_losses() {
    let d = dir("contagion");
    let j = d.join("pools.jsonl");
    let text = ballast_engine::journal::to_text(&ballast_solvency::contagion::demo::journal());
    std::fs::write(&j, text).unwrap();
    let dot = d.join("pools.dot");
    let (ok, out, err) = ballast(&[
        "contagion",
        "--state",
        s(&j),
        "--shock",
        "BTC=-50%",
        "--dot",
        s(&dot),
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("shared_collateral  main           second"),
        "{out}"
    );
    assert!(out.contains("shock BTC -50%"), "{out}");
    let dot = std::fs::read_to_string(dot).unwrap();
    assert!(
        dot.starts_with("graph contagion {") && dot.contains("pool0 -- pool1"),
        "{dot}"
    );
    let (ok, out, err) = ballast(&[
        "contagion",
        "--state",
        s(&j),
        "--shock",
        "btc=-50",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let losses = v["shock"]["losses"].as_array().unwrap();
    let pool = |i: u64| {
        losses
            .iter()
            .find(|l| l["node"]["kind"] == "pool" && l["node"]["id"] == i)
            .unwrap()["loss"]
            .as_str()
            .unwrap()
            .parse::<i128>()
            .unwrap()
    };
    assert!(pool(0) > 0 && pool(1) > 0);
    assert_eq!(pool(2), 0);
    let (ok, _, err) = ballast(&["contagion", "--state", s(&j), "--shock", "DOGE=-10%"]);
    assert!(!ok && err.contains("no asset"), "{err}");
}
