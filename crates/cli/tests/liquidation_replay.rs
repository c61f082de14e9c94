//! `ballast replay --events` on the liquidation example journal tells the story in words:
//! keeper takeovers with their penalty split, a bankruptcy covered by insurance then ADL, an
//! emergency shutdown with settlement prices, haircuts and claims, and typed refusals.

use std::process::Command;

#[test]
fn liquidation_journal_reads_as_a_story() {
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(["replay", "examples/liquidation.jsonl", "--events"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("runs");
    assert!(out.status.success());
    let out = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "took over 0.350349 BTC-PERP of acct#4 at oracle 60900.00; penalty",
        "insurance fund +9.100000 from trading fees",
        "acct#5 is bankrupt",
        "waterfall 1/3: pool#0 insurance fund covered",
        "waterfall 2/3: auto-deleveraged 0.400000 BTC-PERP of acct#1 against bankrupt acct#5",
        "EMERGENCY SHUTDOWN of pool#0",
        "pool#0 settles BTC at 52000.00",
        "waterfall 3/3:",
        "acct#0 may claim",
        "acct#0 claimed 1000.000000 USDC",
        "rejected: acct#3 is not liquidatable",
        "rejected: pool#0 is shut down: only claims are accepted",
        "cannot withdraw 10000000000000",
        "bad debt 0.000000",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}
