//! `ballast`: the command line over the engine. This crate does the I/O (files, clock,
//! terminal); the engine stays pure.

mod bench;
mod options;
mod oracle;
mod report;
mod stress;

use anyhow::{Context, Result};
use ballast_engine::{journal, Engine};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
        /// Print one JSON object (hash, counts, rejections, accounts) instead of tables.
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
    /// List the embedded stress scenarios.
    Scenarios,
    /// Merge shard results of `ballast stress --shard i/N --out DIR` into the full summary.
    Merge(stress::MergeArgs),
    /// Grid of scenario overrides on one seed: capital efficiency vs P(insolvency), the Pareto
    /// frontier and the recommended point under a risk tolerance.
    Sweep(stress::SweepArgs),
    /// Serve the engine over HTTP with a durable journal (see crates/serve/README.md).
    Serve(ballast_serve::ServeArgs),
    /// Write the commands of a `ballast serve` journal database as JSON lines.
    Export {
        /// Data directory of the server.
        #[arg(long, default_value = "ballast-data")]
        data: PathBuf,
        /// Output file (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
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
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Demo { events, write } => {
            let envs = ballast_engine::demo::journal();
            if let Some(path) = write {
                std::fs::write(&path, journal::to_text(&envs))
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {} commands to {}", envs.len(), path.display());
                return Ok(());
            }
            let parsed: Vec<_> = envs
                .into_iter()
                .enumerate()
                .map(|(i, e)| (i + 1, e))
                .collect();
            println!("Ballast demo: {} commands from the embedded journal (`ballast demo --write FILE` saves it)\n", parsed.len());
            let mut engine = Engine::new();
            let r = journal::replay(&mut engine, &parsed, true);
            report::print_replay(&engine, &r, events);
        }
        Cmd::Replay { file, events, json } => {
            let text = if ballast_serve::export::is_database(&file) {
                ballast_serve::export::journal_text(&file)?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("reading journal {}", file.display()))?
            };
            let parsed = journal::parse(&text).with_context(|| format!("in {}", file.display()))?;
            let mut engine = Engine::new();
            let r = journal::replay(&mut engine, &parsed, events || json);
            if json {
                println!("{}", report::replay_json(&engine, &r));
            } else {
                println!("journal {}: {} commands\n", file.display(), parsed.len());
                report::print_replay(&engine, &r, events);
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
        } => options::greeks(model, kind, spot, strike, t, rate, div, vol, json)?,
        Cmd::Margin { portfolio, json } => options::margin(&portfolio, json)?,
        Cmd::Oracle {
            csv,
            symbol,
            json,
            all,
            strict,
        } => oracle::run(&csv, symbol, json, all, strict)?,
        Cmd::Bench {
            what: BenchWhat::Engine { accounts, commands },
        } => bench::engine(accounts, commands)?,
        Cmd::Serve(a) => ballast_serve::serve_blocking(a)?,
        Cmd::Export { data, out } => export(&data, out.as_deref())?,
        Cmd::Stress(a) => stress::stress(a)?,
        Cmd::Scenarios => stress::scenarios()?,
        Cmd::Merge(a) => stress::merge(a)?,
        Cmd::Sweep(a) => stress::sweep(a)?,
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
