//! Stress runs, shard merges and sweeps from Python, through the lab's own entry points
//! (`embedded::load`, `Prepared::new`, `runner::run`, `runner::merge_shards`, `sweep::run`):
//! the same computation as `ballast stress`, `ballast merge` and `ballast sweep`.
//!
//! A scenario comes in as a name or file (`source`), or as the JSON text of a scenario table
//! (`table_json`, a Python dict), which is turned into TOML and read by the lab's own parser,
//! so a bad field is refused with the lab's message. The GIL is released while paths run.

use crate::errors;
use ballast_lab::runner::{self, Prepared, RunConfig, ShardFile};
use ballast_lab::{embedded, Aggregate, Scenario, Summary};
use pyo3::prelude::*;
use std::path::PathBuf;

/// A finished run (or a merge of shards): summary, aggregate and, for a run, its paths.
#[pyclass(module = "ballast._native", frozen)]
pub struct RunResult {
    summary: Summary,
    aggregate: Aggregate,
    paths: Option<arrow_array::RecordBatch>,
    shard: Option<ShardFile>,
}

#[pymethods]
impl RunResult {
    /// The summary as JSON: the same object `ballast stress --json` prints.
    fn summary_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(&self.summary).map_err(|e| errors::other(py, e))
    }

    /// One row per path (the columns of `paths.csv`), as a `pyarrow.RecordBatch`; `None` for
    /// a merge of shard files (they carry aggregates, not rows).
    fn paths<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        use arrow_pyarrow::ToPyArrow;
        self.paths.as_ref().map(|b| b.to_pyarrow(py)).transpose()
    }

    /// Per-step metric (`fund`, `bad_debt`, `insolvency`, `breaker`) as a `pyarrow.RecordBatch`.
    fn series<'py>(&self, py: Python<'py>, metric: &str) -> PyResult<Bound<'py, PyAny>> {
        use arrow_pyarrow::ToPyArrow;
        let b = ballast_tables::series::wide(&self.aggregate, metric, self.summary.step_hours)
            .map_err(|e| errors::table(py, e))?;
        b.to_pyarrow(py)
    }

    /// The shard file (`shard.json`) of a shard run as JSON, `None` for a whole run.
    fn shard_json(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.shard
            .as_ref()
            .map(|s| serde_json::to_string(s).map_err(|e| errors::other(py, e)))
            .transpose()
    }
}

/// Loads a scenario from a name/file or from a table's JSON, with `sets` applied.
fn load(
    py: Python<'_>,
    source: Option<&str>,
    table_json: Option<&str>,
    sets: &[String],
) -> PyResult<(Scenario, Option<PathBuf>)> {
    match (source, table_json) {
        (Some(s), None) => embedded::load(s, sets).map_err(|e| errors::lab(py, e)),
        (None, Some(j)) => {
            let text = toml_text(py, j)?;
            Scenario::from_toml(&text, "dict", sets)
                .map(|sc| (sc, None))
                .map_err(|e| errors::lab(py, e))
        }
        _ => Err(errors::other(
            py,
            "give exactly one of source or table_json",
        )),
    }
}

/// TOML text of a scenario table given as JSON.
fn toml_text(py: Python<'_>, json: &str) -> PyResult<String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| errors::other(py, e))?;
    let t = toml::Value::try_from(v).map_err(|e| {
        PyErr::from_type(
            py.get_type::<errors::ScenarioError>(),
            format!("scenario dict: {e}"),
        )
    })?;
    toml::to_string(&t).map_err(|e| errors::other(py, e))
}

/// Runs a scenario (or shard `i/N` of it). The paths table is the lab's `paths.csv`, written
/// into a temporary folder (or `out`, kept) and read back.
#[pyfunction]
#[pyo3(signature = (source=None, table_json=None, sets=Vec::new(), threads=0, shard=None, out=None))]
pub fn stress(
    py: Python<'_>,
    source: Option<&str>,
    table_json: Option<&str>,
    sets: Vec<String>,
    threads: usize,
    shard: Option<(u64, u64)>,
    out: Option<PathBuf>,
) -> PyResult<RunResult> {
    let (sc, base) = load(py, source, table_json, &sets)?;
    let prep = Prepared::new(sc, base.as_deref()).map_err(|e| errors::lab(py, e))?;
    let tmp = match &out {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(|e| errors::other(py, e))?),
    };
    let dir = match (&out, &tmp) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.path().join("run"),
        (None, None) => unreachable!("a temporary folder exists when no out folder is given"),
    };
    let cfg = RunConfig {
        threads,
        shard,
        progress: false,
        out_dir: Some(dir.clone()),
    };
    let ran = py.detach(|| runner::run(&prep, &cfg));
    let ran = ran.map_err(|e| errors::lab(py, e))?;
    let csv = dir.join("paths.csv");
    let text = std::fs::read_to_string(&csv)
        .map_err(|e| errors::other(py, format!("reading {}: {e}", csv.display())))?;
    let paths = ballast_tables::paths::from_csv(&text).map_err(|e| errors::table(py, e))?;
    Ok(RunResult {
        summary: ran.summary,
        aggregate: ran.aggregate,
        paths: Some(paths),
        shard: ran.shard,
    })
}

/// Merges shard files given as JSON texts (`shard.json`, or `RunResult.shard_json()`): the
/// same checks and merge as `ballast merge`.
#[pyfunction]
pub fn merge(py: Python<'_>, shards: Vec<String>) -> PyResult<RunResult> {
    let files = shards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            serde_json::from_str::<ShardFile>(s)
                .map_err(|e| errors::other(py, format!("shard {i}: not a shard file: {e}")))
        })
        .collect::<PyResult<Vec<_>>>()?;
    for (i, f) in files.iter().enumerate() {
        if f.format != runner::SHARD_FORMAT {
            return Err(errors::other(
                py,
                format!(
                    "shard {i}: format `{}`, expected `{}`",
                    f.format,
                    runner::SHARD_FORMAT
                ),
            ));
        }
    }
    let (summary, aggregate) = runner::merge_shards(&files).map_err(|e| errors::lab(py, e))?;
    Ok(RunResult {
        summary,
        aggregate,
        paths: None,
        shard: None,
    })
}

/// A sweep over `grids` (`key=v1,v2,…`): returns the sweep's JSON and its points as a
/// `pyarrow.RecordBatch`.
#[pyfunction]
#[pyo3(signature = (source=None, table_json=None, sets=Vec::new(), grids=Vec::new(), max_p_insolvency=0.05, threads=0))]
pub fn sweep<'py>(
    py: Python<'py>,
    source: Option<&str>,
    table_json: Option<&str>,
    sets: Vec<String>,
    grids: Vec<String>,
    max_p_insolvency: f64,
    threads: usize,
) -> PyResult<(String, Bound<'py, PyAny>)> {
    use arrow_pyarrow::ToPyArrow;
    use ballast_lab::sweep::{self, Axis, SweepConfig};
    if !(max_p_insolvency.is_finite() && (0.0..=1.0).contains(&max_p_insolvency)) {
        return Err(errors::with_attrs::<errors::ScenarioError>(
            py,
            format!("max_p_insolvency must be within [0, 1] (got {max_p_insolvency})"),
            &[(
                "field",
                pyo3::IntoPyObjectExt::into_py_any("max_p_insolvency", py)?,
            )],
        ));
    }
    let axes = grids
        .iter()
        .map(|g| Axis::parse(g))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| errors::lab(py, e))?;
    // The lab's sweep reads a name or a file: a dict is written to a temporary TOML file.
    let tmp = tempfile::tempdir().map_err(|e| errors::other(py, e))?;
    let arg = match (source, table_json) {
        (Some(s), None) => s.to_string(),
        (None, Some(j)) => {
            let p = tmp.path().join("scenario.toml");
            std::fs::write(&p, toml_text(py, j)?).map_err(|e| errors::other(py, e))?;
            p.display().to_string()
        }
        _ => {
            return Err(errors::other(
                py,
                "give exactly one of source or table_json",
            ))
        }
    };
    let cfg = SweepConfig {
        threads,
        progress: false,
        max_p_insolvency,
    };
    let s = py
        .detach(|| sweep::run(&arg, &sets, &axes, &cfg))
        .map_err(|e| errors::lab(py, e))?;
    let json = serde_json::to_string(&s).map_err(|e| errors::other(py, e))?;
    let batch = ballast_tables::frontier::from_sweep(&s).map_err(|e| errors::table(py, e))?;
    Ok((json, batch.to_pyarrow(py)?))
}

/// An embedded scenario's table as JSON (edit it as a dict and pass it to `stress`).
#[pyfunction]
pub fn scenario(py: Python<'_>, name: &str) -> PyResult<String> {
    let text = embedded::get(name).ok_or_else(|| {
        let names: Vec<&str> = embedded::EMBEDDED.iter().map(|(n, _)| *n).collect();
        errors::lab(
            py,
            ballast_lab::LabError::UnknownScenario(name.to_string(), names.join(", ")),
        )
    })?;
    let t: toml::Table = text.parse().map_err(|e| errors::other(py, e))?;
    serde_json::to_string(&t).map_err(|e| errors::other(py, e))
}

/// Names of the embedded scenarios.
#[pyfunction]
pub fn scenarios() -> Vec<&'static str> {
    embedded::EMBEDDED.iter().map(|(n, _)| *n).collect()
}
