//! `ballast serve`: the service's own arguments, plus a lab book as genesis.
//!
//! With `--genesis BOOK` (a `.json` or `.csv` position snapshot in the layout the stress lab
//! reads; a `.jsonl` file or any other name is a journal), the scenario `--book-scenario`
//! (default `march-2020`, whose first prices the repo's example book matches) supplies the
//! listings, oracles, breakers and parameters, and the book the accounts (the scenario's own
//! population is left out). The lab builds that t0 book through engine commands, records them,
//! and checks that they replay to the lab's own t0 state hash; the service then starts from
//! exactly the book `ballast stress SCENARIO --book BOOK` stresses.

use anyhow::Result;
use ballast_lab::embedded;
use ballast_lab::runner::Prepared;
use std::path::Path;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeCli {
    #[command(flatten)]
    pub serve: ballast_serve::ServeArgs,
    /// With `--genesis BOOK`: the scenario (embedded name or TOML file) whose listings the
    /// book's accounts are opened into.
    #[arg(long, value_name = "SCENARIO", default_value = "march-2020")]
    pub book_scenario: String,
}

pub fn serve(a: ServeCli) -> Result<()> {
    let book = a.serve.genesis.clone().filter(|p| is_book(p));
    let Some(book) = book else {
        return Ok(ballast_serve::serve_blocking(a.serve)?);
    };
    let envs = book_genesis(&book, &a.book_scenario)?;
    eprintln!(
        "ballast serve: book {} opened into scenario {}: {} genesis commands",
        book.display(),
        a.book_scenario,
        envs.len()
    );
    let mut c = a.serve.config();
    c.genesis_commands = Some(envs);
    Ok(ballast_serve::serve_config_blocking(c)?)
}

/// A book is a `.json` or `.csv` file; a journal is JSON lines (`.jsonl`, or any other name).
fn is_book(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("json" | "csv" | "JSON" | "CSV")
    )
}

/// The genesis journal of `book` opened into `scenario` (no population).
pub fn book_genesis(book: &Path, scenario: &str) -> Result<Vec<ballast_engine::command::Envelope>> {
    if !book.is_file() {
        anyhow::bail!("--genesis {}: no such book file", book.display());
    }
    let abs = std::fs::canonicalize(book)?;
    let sets = vec![
        "population.accounts=0".to_string(),
        "population.resample_per_path=true".to_string(),
        format!(
            "book={}",
            serde_json::to_string(&abs.display().to_string())?
        ),
    ];
    let (sc, base) = embedded::load(scenario, &sets)?;
    let prep = Prepared::new(sc, base.as_deref())?;
    Ok(ballast_lab::genesis_journal::t0_journal(&prep, 0)?)
}
