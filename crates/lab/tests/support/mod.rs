//! Shared by the lab's integration tests: load a scenario (file or embedded name, with
//! overrides) and run it.
#![allow(dead_code)] // each test file uses part of it

use ballast_lab::embedded;
use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_lab::Summary;

/// The scenario `name` with `key=value` overrides, prepared.
pub fn load(name: &str, sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load(name, &sets).expect("scenario loads");
    Prepared::new(sc, base.as_deref()).expect("scenario prepares")
}

/// The summary of a run on `threads` workers (0: one per core).
pub fn run(p: &Prepared, threads: usize) -> Summary {
    runner::run(
        p,
        &RunConfig {
            threads,
            ..Default::default()
        },
    )
    .expect("runs")
    .summary
}
