//! Every printing command survives a reader that goes away (`ballast … | head -1`): the child
//! exits 0 with nothing on stderr instead of panicking with "failed printing to stdout".

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Runs `ballast args`, reads `lines` lines of its stdout (0: none), closes the pipe, and
/// returns the exit status and stderr.
fn close_early(args: &[&str], lines: usize) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    for _ in 0..lines {
        let mut l = String::new();
        assert!(
            out.read_line(&mut l).expect("reads") > 0,
            "{args:?}: no output"
        );
    }
    drop(out);
    let output = child.wait_with_output().expect("waits");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_is_a_clean_exit() {
    // Outputs far larger than the pipe buffer and ours (64 KiB each): a write after the close
    // is certain.
    let luna = "data/2022-05_luna_binance_1m.csv";
    for args in [
        &["oracle", "--csv", luna, "--all"][..],
        &["oracle", "--csv", luna, "--json"][..],
    ] {
        let (status, err) = close_early(args, 1);
        assert!(status.success(), "{args:?}: {status} {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    // The commands of the report, closed before anything is read.
    for args in [
        &["stress", "--paths", "4", "--json"][..],
        &["replay", "examples/liquidation.jsonl", "--events"][..],
        &["replay", "examples/liquidation.jsonl", "--json"][..],
        &["demo", "--events"][..],
        &["scenarios"][..],
        &[
            "margin",
            "--portfolio",
            "crates/options/tests/data/portfolio_example.json",
        ][..],
        &[
            "greeks", "--type", "call", "--spot", "100", "--strike", "100", "--t", "1", "--vol",
            "0.2",
        ][..],
    ] {
        let (status, err) = close_early(args, 0);
        assert!(status.success(), "{args:?}: {status} {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
