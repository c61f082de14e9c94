//! A live engine and journal replay from Python, through the engine's own `apply` and
//! `journal::replay` (the same calls `ballast replay` makes), so a replayed state hash equals
//! the CLI's.

use crate::errors;
use ballast_engine::command::Envelope;
use ballast_engine::error::Reject;
use ballast_engine::journal;
use ballast_tables::reject::{self, FieldValue};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::IntoPyObjectExt;

/// A clearing engine driven one command at a time.
#[pyclass(module = "ballast._native")]
pub struct Engine {
    engine: ballast_engine::Engine,
}

#[pymethods]
impl Engine {
    #[new]
    fn new() -> Engine {
        Engine {
            engine: ballast_engine::Engine::new(),
        }
    }

    /// Applies one journal line (an envelope `{"time": …, "cmd": {…}}` as JSON) and returns
    /// its events as a JSON array; a refusal raises `BallastReject` and changes nothing.
    fn apply_json(&mut self, py: Python<'_>, envelope: &str) -> PyResult<String> {
        let env: Envelope = serde_json::from_str(envelope).map_err(|e| {
            errors::with_attrs::<errors::JournalError>(py, format!("command: {e}"), &[])
        })?;
        match self.engine.apply(&env) {
            Ok(events) => serde_json::to_string(&events).map_err(|e| errors::other(py, e)),
            Err(r) => Err(rejected(py, &r, None)),
        }
    }

    /// The state hash (hex), as `ballast replay` prints it.
    fn state_hash(&self) -> String {
        self.engine.state_hash()
    }
}

/// A rejection as `BallastReject` with `.kind`, `.fields`, `.message` and `.line`.
pub fn rejected(py: Python<'_>, r: &Reject, line: Option<usize>) -> PyErr {
    let reason = reject::reason(r);
    let build = || -> PyResult<PyErr> {
        let fields = PyDict::new(py);
        for (k, v) in &reason.fields {
            match v {
                FieldValue::Int(i) => fields.set_item(k, i)?,
                FieldValue::Text(t) => fields.set_item(k, t)?,
            }
        }
        Ok(errors::with_attrs::<errors::BallastReject>(
            py,
            r.to_string(),
            &[
                ("kind", reason.kind.as_str().into_py_any(py)?),
                ("fields", fields.into_py_any(py)?),
                ("message", r.to_string().into_py_any(py)?),
                ("line", line.into_py_any(py)?),
            ],
        ))
    };
    build().unwrap_or_else(|e| e)
}

/// State hash, commands applied, refusals `(line, kind, message)`, events.
type Replayed<'py> = (
    String,
    usize,
    Vec<(usize, String, String)>,
    Bound<'py, PyAny>,
);

/// Replays a journal file (`path`) or text (`text`) into a fresh engine. Returns the state
/// hash, the number of commands applied, the refusals as `(line, kind, message)` and the
/// events as a `pyarrow.RecordBatch` (`line`, `event`, `json`).
#[pyfunction]
#[pyo3(signature = (path=None, text=None))]
pub fn replay<'py>(
    py: Python<'py>,
    path: Option<std::path::PathBuf>,
    text: Option<&str>,
) -> PyResult<Replayed<'py>> {
    use arrow_pyarrow::ToPyArrow;
    let parsed = match (&path, text) {
        (Some(p), None) => {
            let f = std::fs::File::open(p)
                .map_err(|e| errors::other(py, format!("reading {}: {e}", p.display())))?;
            journal::lines(std::io::BufReader::new(f)).collect::<Result<Vec<_>, _>>()
        }
        (None, Some(t)) => journal::parse(t),
        _ => return Err(errors::other(py, "give exactly one of path or text")),
    };
    let parsed = parsed.map_err(|e| {
        let line = e.line.into_py_any(py);
        match line {
            Ok(l) => errors::with_attrs::<errors::JournalError>(py, e.to_string(), &[("line", l)]),
            Err(err) => err,
        }
    })?;
    let (hash, r) = py.detach(|| {
        let mut engine = ballast_engine::Engine::new();
        let r = journal::replay(&mut engine, &parsed, true);
        (engine.state_hash(), r)
    });
    let refusals = r
        .rejected
        .iter()
        .map(|(l, e)| (*l, reject::reason(e).kind, e.to_string()))
        .collect();
    let events =
        ballast_tables::events::from_events(&r.events).map_err(|e| errors::table(py, e))?;
    Ok((hash, r.applied, refusals, events.to_pyarrow(py)?))
}
