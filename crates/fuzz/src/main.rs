//! `ballast-fuzz`: run the structured fuzzer for a time or command budget.

use ballast_fuzz::run::{run, Config, Profiles, Report};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProfileArg {
    Bounded,
    Extreme,
    Mixed,
}

/// Fuzz the clearing engine with adversarial command sequences.
#[derive(Debug, Parser)]
#[command(name = "ballast-fuzz", version)]
struct Args {
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    seconds: f64,
    /// Master seed (each case draws its own seed from it).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many commands.
    #[arg(long)]
    commands: Option<u64>,
    /// Write reproducers (`<kind>.jsonl`) and `INDEX.txt` here.
    #[arg(long)]
    findings: Option<PathBuf>,
    /// Input ranges: bounded (no overflow site reachable), extreme (to the type limits), or
    /// mixed (alternate cases).
    #[arg(long, value_enum, default_value_t = ProfileArg::Mixed)]
    profile: ProfileArg,
    /// Commands per case after the world setup.
    #[arg(long, default_value_t = 600)]
    case_len: usize,
    /// Share of cases with a lending pool lent out to ~98% on a steep curve.
    #[arg(long, default_value_t = 0.5)]
    hot: f64,
    /// Instead of fuzzing, run these reproducer journals under every check and print what each
    /// finds (exit non-zero if any still shows a finding).
    #[arg(long, num_args = 1..)]
    check: Vec<PathBuf>,
    /// With `--check`: print each command's outcome (events or the rejection).
    #[arg(long)]
    trace: bool,
    /// Do not treat an accepted auction take on a healthy account as a finding.
    #[arg(long)]
    no_auction_health: bool,
    /// Print accepted and rejected counts (by reason) per command type.
    #[arg(long)]
    outcomes: bool,
    /// Seconds allowed to shrink one reproducer.
    #[arg(long, default_value_t = 20.0)]
    shrink_seconds: f64,
}

fn print(rep: &Report) {
    let r = &rep.reached;
    println!(
        "{} commands in {:.1} s ({:.0} commands/s), {} accepted, {} cases",
        rep.commands,
        rep.elapsed.as_secs_f64(),
        rep.per_second(),
        rep.accepted,
        rep.cases
    );
    println!(
        "reached: fills {}, liquidations {}, auction takes {}, option fills {}, option settlements {}, funding settlements {}, interest settlements {}, ADL {}, socialized {}, bad debt {}, shutdowns {}, claims {}, params executed {}, borrows {}, withdrawals {}, transfers {}",
        r.fills, r.liquidations, r.auctions_taken, r.option_fills, r.option_settlements,
        r.funding_settlements, r.interest_settlements, r.deleveraged, r.socialized, r.bad_debt,
        r.shutdowns, r.claims, r.params_executed, r.borrows, r.withdrawals, r.transfers
    );
    for (k, n) in &rep.hits {
        println!("finding {k}: {n} hit(s)");
    }
    for f in &rep.findings {
        let path = f
            .path
            .as_ref()
            .map_or("(not written)".into(), |p| p.display().to_string());
        println!("  {} — {} commands — {:?}", path, f.journal.len(), f.kind);
    }
}

/// Prints what each command of a journal does.
fn trace_journal(envs: &[ballast_engine::Envelope]) {
    let mut e = ballast_engine::Engine::new();
    for (i, env) in envs.iter().enumerate() {
        let name = ballast_fuzz::run::command_name(&env.cmd);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.apply(env))) {
            Ok(Ok(ev)) => {
                println!("{:>4} {name}: {ev:?}", i + 1);
                let gaps: Vec<_> = e
                    .conservation_gaps()
                    .into_iter()
                    .filter(|g| g.1 != 0)
                    .collect();
                if !gaps.is_empty() {
                    println!("     conservation gaps: {gaps:?}");
                }
            }
            Ok(Err(r)) => println!("{:>4} {name}: rejected: {r}", i + 1),
            Err(_) => {
                println!("{:>4} {name}: panicked", i + 1);
                return;
            }
        }
    }
}

/// Re-checks reproducer journals; true if all are clean.
fn check_files(files: &[PathBuf], trace: bool) -> bool {
    ballast_fuzz::check::quiet_hook();
    let mut clean = true;
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                println!("{}: cannot read: {e}", f.display());
                clean = false;
                continue;
            }
        };
        let found = match ballast_engine::journal::parse(&text) {
            Ok(j) => {
                let envs: Vec<_> = j.into_iter().map(|(_, e)| e).collect();
                if trace {
                    trace_journal(&envs);
                }
                ballast_fuzz::check::check_journal(&envs)
            }
            Err(e) => {
                println!("{}: {e}", f.display());
                clean = false;
                continue;
            }
        };
        match found {
            Some(k) => {
                clean = false;
                println!("{}: {:?}", f.display(), k);
            }
            None => println!("{}: clean", f.display()),
        }
    }
    clean
}

fn main() -> ExitCode {
    let a = Args::parse();
    if !a.check.is_empty() {
        return if check_files(&a.check, a.trace) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let cfg = Config {
        seed: a.seed,
        commands: a.commands.unwrap_or(u64::MAX),
        time: Duration::from_secs_f64(a.seconds.max(0.0)),
        profiles: match a.profile {
            ProfileArg::Bounded => Profiles::Bounded,
            ProfileArg::Extreme => Profiles::Extreme,
            ProfileArg::Mixed => Profiles::Mixed,
        },
        case_len: a.case_len.max(1),
        shrink_time: Duration::from_secs_f64(a.shrink_seconds.max(0.0)),
        findings: a.findings,
        hot: a.hot.clamp(0.0, 1.0),
        auction_health: !a.no_auction_health,
        progress: true,
        ..Config::default()
    };
    let rep = run(&cfg);
    print(&rep);
    if a.outcomes {
        for (name, (ok, rejected)) in &rep.outcomes {
            println!("{name:>22}: {ok} accepted, rejected {rejected:?}");
        }
    }
    if rep.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
