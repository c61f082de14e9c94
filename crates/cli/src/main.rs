//! `ballast`: the command line over the engine. This crate does the I/O (files, clock,
//! terminal); the engine stays pure.

#[macro_use]
mod out;
mod ablate;
mod attack;
mod bench;
mod feed;
mod guard;
mod json;
mod options;
mod oracle;
mod report;
mod serve;
mod shock;
mod solvency;
mod stress;

use anyhow::{Context, Result};
use ballast_engine::{journal, Engine};
use clap::{Parser, Subcommand};
use out::Out;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "ballast",
    version,
    about = "Ballast: a deterministic margin and clearing engine with its defences built in"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Apply the embedded demo journal and print the accounts, rejections and events.
    Demo {
        /// Print every event.
        #[arg(long)]
        events: bool,
        /// Write the demo journal (JSON lines) to this file instead of running it.
        #[arg(long, value_name = "FILE")]
        write: Option<PathBuf>,
    },
    /// Re-apply a journal (JSON lines, or a `ballast serve` data directory or journal.db) and
    /// print the final state hash and account table.
    Replay {
        file: PathBuf,
        /// Print every event, line by line.
        #[arg(long)]
        events: bool,
        /// Print one JSON object instead of tables, streamed: events, counts, refusals, accounts,
        /// state hash (i128 ledger values as decimal strings).
        #[arg(long)]
        json: bool,
    },
    /// Replay a price CSV (each `venue` a source) through the multi-source oracle and circuit
    /// breakers; print the status and mode changes (or every row with --all / --json).
    Oracle {
        /// Price CSV in the layout of data/ (`ts_utc,unix_ms,venue,symbol,interval,open,...`).
        #[arg(long, value_name = "FILE", required = true)]
        csv: Vec<PathBuf>,
        /// Keep only this base asset (BTC, ETH, LUNA...); default: every asset in the file.
        #[arg(long)]
        symbol: Option<String>,
        /// One JSON object per line per timestamp.
        #[arg(long)]
        json: bool,
        /// Print every timestamp, not only changes of status or mode.
        #[arg(long)]
        all: bool,
        /// Refuse files with gaps or impossible bars instead of skipping those bars.
        #[arg(long)]
        strict: bool,
    },
    /// Price and Greeks of one European option (vega and rho per 1.00, theta per year).
    #[command(allow_negative_numbers = true)]
    Greeks {
        /// bsm (Black-Scholes-Merton with dividend yield) or black76 (on a forward).
        #[arg(long, value_enum, default_value = "bsm")]
        model: options::Model,
        #[arg(long = "type", value_enum)]
        kind: options::Kind,
        /// Spot price (for black76: the forward).
        #[arg(long)]
        spot: f64,
        #[arg(long)]
        strike: f64,
        /// Time to expiry in years.
        #[arg(long = "t")]
        t: f64,
        /// Continuously compounded risk-free rate.
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
        /// Continuous dividend yield / carry (bsm only).
        #[arg(long, default_value_t = 0.0)]
        div: f64,
        /// Volatility (annualised, e.g. 0.6).
        #[arg(long)]
        vol: f64,
        #[arg(long)]
        json: bool,
    },
    /// Portfolio margin of an account described in a JSON file: requirement, breakdown and the
    /// worst scenario (format: crates/options/tests/data/portfolio_example.json).
    Margin {
        #[arg(long, value_name = "FILE")]
        portfolio: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Monte Carlo / historical stress run of a scenario through the engine (see
    /// crates/lab/SCENARIOS.md): prints a summary table, or JSON with --json.
    Stress(stress::StressArgs),
    /// Instantaneous shock ladder on a scenario's t0 book, through the engine: per rung the
    /// accounts liquidatable, collateral at risk, liquidations at risk, bad debt, insurance
    /// draw and ADL (`ballast shock --ladder=-5,-10,-20 --assets ETH`).
    Shock(shock::ShockArgs),
    /// Ablations: each defence of a plan switched off alone, on the same paths as the defended
    /// run, with the paired effect on loss and P(insolvency) and its 95% interval.
    Ablate(ablate::AblateArgs),
    /// Minimum profitable attack capital of a scenario's attacker: bisection over its capital
    /// and size, each probe a deterministic stress run
    /// (`ballast attack-capital mango-2022-attack-defended --paths 8`).
    AttackCapital(attack::AttackCapitalArgs),
    /// List the embedded stress scenarios.
    Scenarios,
    /// Merge shard results of `ballast stress --shard i/N --out DIR` into the full summary.
    Merge(stress::MergeArgs),
    /// Grid of scenario overrides on one seed: capital efficiency vs P(insolvency), the Pareto
    /// frontier and the recommended point under a risk tolerance.
    Sweep(stress::SweepArgs),
    /// Serve the engine over HTTP with a durable journal (see crates/serve/README.md).
    Serve(serve::ServeCli),
    /// Replay price CSVs into a running `ballast serve` as oracle updates (one per close time
    /// and asset; each venue one source).
    Feed(feed::FeedArgs),
    /// Write the commands of a `ballast serve` journal database as JSON lines.
    Export {
        /// Data directory of the server.
        #[arg(long, default_value = "ballast-data")]
        data: PathBuf,
        /// Output file (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Proof of solvency: per-asset Merkle-sum roots, totals and inclusion proofs of a journal.
    Prove(solvency::ProveArgs),
    /// Check an account's inclusion proof against published roots, and liabilities ≤ assets.
    Verify(solvency::VerifyArgs),
    /// Shared-exposure graph of pools, markets and assets, and the losses of a price shock.
    Contagion(solvency::ContagionArgs),
    /// Whole-run benchmarks (micro-benchmarks: `cargo bench`).
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Engine throughput (fills + price updates, one core) and the below-maintenance query.
    Engine {
        /// Accounts in the book for the below-maintenance query.
        #[arg(long, default_value_t = 1_000_000)]
        accounts: usize,
        /// Commands in the throughput run.
        #[arg(long, default_value_t = 2_000_000)]
        commands: usize,
    },
}

fn main() {
    let mut w = out::stdout();
    let result = run(&mut *w).and_then(|()| Ok(w.flush()?));
    match result {
        Ok(()) => {}
        // The reader went away (`| head`): nothing more to say, and nothing went wrong.
        Err(e) if out::is_broken_pipe(&e) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

/// Opens a journal for streaming (one line in memory at a time).
fn open_journal(file: &Path) -> Result<BufReader<File>> {
    let f = File::open(file).with_context(|| format!("reading journal {}", file.display()))?;
    Ok(BufReader::new(f))
}

fn run(w: &mut Out) -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Demo { events, write } => {
            let envs = ballast_engine::demo::journal();
            if let Some(path) = write {
                std::fs::write(&path, journal::to_text(&envs))
                    .with_context(|| format!("writing {}", path.display()))?;
                outln!(w, "wrote {} commands to {}", envs.len(), path.display());
                return Ok(());
            }
            outln!(w, "Ballast demo: {} commands from the embedded journal (`ballast demo --write FILE` saves it)\n", envs.len());
            let lines = envs.into_iter().enumerate().map(|(i, e)| Ok((i + 1, e)));
            report::print_replay(w, &mut Engine::new(), lines, events)?;
        }
        Cmd::Replay { file, events, json } => {
            // A serve data directory (or its journal.db) is read through the journal's export.
            let reader: Box<dyn std::io::BufRead> = if ballast_serve::export::is_database(&file) {
                let text = ballast_serve::export::journal_text(&file)?;
                Box::new(std::io::Cursor::new(text.into_bytes()))
            } else {
                Box::new(open_journal(&file)?)
            };
            let lines =
                journal::lines(reader).map(|l| l.with_context(|| format!("in {}", file.display())));
            let mut engine = Engine::new();
            if json {
                report::replay_json(w, &mut engine, lines)?;
            } else {
                outln!(w, "journal {}\n", file.display());
                report::print_replay(w, &mut engine, lines, events)?;
            }
        }
        Cmd::Greeks {
            model,
            kind,
            spot,
            strike,
            t,
            rate,
            div,
            vol,
            json,
        } => options::greeks(w, model, kind, spot, strike, t, rate, div, vol, json)?,
        Cmd::Margin { portfolio, json } => options::margin(w, &portfolio, json)?,
        Cmd::Oracle {
            csv,
            symbol,
            json,
            all,
            strict,
        } => oracle::run(w, &csv, symbol, json, all, strict)?,
        Cmd::Bench {
            what: BenchWhat::Engine { accounts, commands },
        } => bench::engine(w, accounts, commands)?,
        Cmd::Serve(a) => serve::serve(a)?,
        Cmd::Feed(a) => feed::feed(w, a)?,
        Cmd::Export { data, out } => export(&data, out.as_deref())?,
        Cmd::Stress(a) => stress::stress(w, a)?,
        Cmd::Shock(a) => shock::shock(w, a)?,
        Cmd::Ablate(a) => ablate::ablate(w, a)?,
        Cmd::AttackCapital(a) => attack::attack_capital(w, a)?,
        Cmd::Scenarios => stress::scenarios(w)?,
        Cmd::Merge(a) => stress::merge(w, a)?,
        Cmd::Sweep(a) => stress::sweep(w, a)?,
        Cmd::Prove(a) => solvency::prove_cmd(w, a)?,
        Cmd::Verify(a) => solvency::verify_cmd(w, a)?,
        Cmd::Contagion(a) => solvency::contagion_cmd(w, a)?,
    }
    Ok(())
}

fn export(data: &std::path::Path, out: Option<&std::path::Path>) -> Result<()> {
    let mut w: Box<dyn std::io::Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let done = ballast_serve::export::export(data, &mut w)?;
    eprintln!(
        "exported {} commands ({} torn rows skipped)",
        done.lines, done.torn
    );
    Ok(())
}
