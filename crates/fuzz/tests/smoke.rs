//! CI smoke run of the fuzzer: a fixed seed and a bounded number of commands, asserting zero
//! findings *and* that the run reached deep paths (fills, liquidations, ADL, option
//! settlements, funding and interest settlements, shutdowns), so a generator that only
//! produced rejections would fail.
//!
//! `bounded_profile_is_clean` runs the bounded ranges (no hot lending pool).
//! `overflow_profile_is_clean` runs the mixed profile, half of it extreme (type limits,
//! `i64::MAX` time jumps, microsecond timestamps), and the hot lending pool that makes borrowers
//! insolvent by interest alone. Both apply every check, the auction-health rule included (an
//! auction take on an account back above maintenance is a finding). These ran only with
//! `BALLAST_FUZZ_OVERFLOW=1` before the issue-9 fixes; they run by default now.
//! `committed_reproducers_are_fixed` replays every fixed reproducer in `findings/`
//! (open ones, if any, go in `findings/open/` and are not part of it).

use ballast_fuzz::run::{run, Config, Profiles, Report};
use std::time::Duration;

fn smoke(profiles: Profiles, hot: f64, auction_health: bool, commands: u64) -> Report {
    let cfg = Config {
        seed: 9,
        commands,
        time: Duration::from_secs(40),
        profiles,
        case_len: 500,
        hot,
        auction_health,
        shrink_time: Duration::from_secs(3),
        ..Config::default()
    };
    run(&cfg)
}

fn assert_clean_and_deep(rep: &Report) {
    let r = &rep.reached;
    eprintln!(
        "{} commands, {} accepted, {:.0}/s; reached {:?}",
        rep.commands,
        rep.accepted,
        rep.per_second(),
        r
    );
    for f in &rep.findings {
        eprintln!(
            "finding {:?} ({} commands):\n{}",
            f.kind,
            f.journal.len(),
            ballast_engine::journal::to_text(&f.journal)
        );
    }
    assert!(rep.findings.is_empty(), "findings: {:?}", rep.hits);
    assert!(
        rep.accepted * 3 > rep.commands,
        "mostly rejections: {} of {}",
        rep.accepted,
        rep.commands
    );
    for (what, n) in [
        ("fills", r.fills),
        ("liquidations", r.liquidations),
        ("ADL", r.deleveraged),
        ("option fills", r.option_fills),
        ("option settlements", r.option_settlements),
        ("funding settlements", r.funding_settlements),
        ("interest settlements", r.interest_settlements),
        ("borrows", r.borrows),
        ("withdrawals", r.withdrawals),
        ("transfers", r.transfers),
        ("parameter changes", r.params_executed),
        ("shutdowns", r.shutdowns),
    ] {
        assert!(n > 0, "the run never reached {what}");
    }
}

#[test]
fn bounded_profile_is_clean() {
    let rep = smoke(Profiles::Bounded, 0.0, true, 8_000);
    assert_clean_and_deep(&rep);
}

#[test]
fn overflow_profile_is_clean() {
    let rep = smoke(Profiles::Mixed, 0.5, true, 8_000);
    assert_clean_and_deep(&rep);
}

/// The committed reproducers of fixed bugs (`findings/*.jsonl`) replay with no finding.
#[test]
fn committed_reproducers_are_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("findings");
    let mut failing = Vec::new();
    for entry in std::fs::read_dir(dir).expect("findings dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let envs: Vec<_> = ballast_engine::journal::parse(&text)
            .expect("journal parses")
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        if let Some(k) = ballast_fuzz::check::check_journal(&envs) {
            failing.push(format!("{}: {k:?}", path.display()));
        }
    }
    assert!(failing.is_empty(), "{failing:#?}");
}
