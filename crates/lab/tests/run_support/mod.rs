//! What the attack tests share: load an embedded scenario with overrides, run it on a number
//! of threads, and its summary as JSON without the one field allowed to differ.

use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_lab::{embedded, Summary};

pub fn load(name: &str, sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load(name, &sets).expect("scenario loads");
    Prepared::new(sc, base.as_deref()).expect("scenario prepares")
}

pub fn run(p: &Prepared, threads: usize) -> Summary {
    let cfg = RunConfig {
        threads,
        ..Default::default()
    };
    runner::run(p, &cfg).expect("runs").summary
}

/// The summary as JSON without `elapsed_s`.
pub fn comparable(s: &Summary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap();
    v.as_object_mut().unwrap().remove("elapsed_s");
    v
}
