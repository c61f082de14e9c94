//! The Python extension module `ballast._native`: thin bindings over the Rust crates. The
//! pure-Python package around it (`crates/py/python/ballast/`) turns its JSON strings into
//! dicts and its Arrow record batches into `pyarrow.Table`s.
//!
//! - [`run`]: `stress`, `merge`, `sweep`, `scenario` (the lab's runner, shard merge and sweep,
//!   unchanged: the summary is the same `Summary` the CLI prints with `--json`).
//! - [`live`]: a live `Engine` and journal `replay` (the engine's own `apply` and replay).
//! - [`greeks`]: `greeks` and `implied_vol` over NumPy arrays (the options crate's batch
//!   kernel, without the GIL).
//! - [`errors`]: the exception types and how Rust errors become them.
//!
//! Arrow crosses into Python through the Arrow C stream interface (`arrow-pyarrow`): pyarrow
//! takes ownership of the Rust buffers, nothing is copied or serialized.

pub mod errors;
pub mod greeks;
pub mod live;
pub mod run;

use pyo3::prelude::*;

/// The module `ballast._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("BallastError", py.get_type::<errors::BallastError>())?;
    m.add("ScenarioError", py.get_type::<errors::ScenarioError>())?;
    m.add("JournalError", py.get_type::<errors::JournalError>())?;
    m.add("BallastReject", py.get_type::<errors::BallastReject>())?;
    m.add_class::<run::RunResult>()?;
    m.add_class::<live::Engine>()?;
    m.add_function(wrap_pyfunction!(run::stress, m)?)?;
    m.add_function(wrap_pyfunction!(run::merge, m)?)?;
    m.add_function(wrap_pyfunction!(run::sweep, m)?)?;
    m.add_function(wrap_pyfunction!(run::scenario, m)?)?;
    m.add_function(wrap_pyfunction!(run::scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(live::replay, m)?)?;
    m.add_function(wrap_pyfunction!(greeks::greeks, m)?)?;
    m.add_function(wrap_pyfunction!(greeks::implied_vol, m)?)?;
    Ok(())
}
