//! Exception types of the package, and the conversion of each Rust error into one.
//!
//! - `BallastError`: the base class of every error the package raises.
//! - `ScenarioError`: a scenario that does not load; `.field` is the dotted field (or `--set`
//!   key) the lab names, `None` when only the message names it (a TOML parse error).
//! - `JournalError`: a malformed journal line; `.line` is its 1-based number.
//! - `BallastReject`: a command the engine refused; `.kind`, `.fields` (see [`crate::reject`]).

use ballast_lab::LabError;
use ballast_tables::TableError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

create_exception!(
    ballast,
    BallastError,
    PyException,
    "Base class of Ballast's errors."
);
create_exception!(
    ballast,
    ScenarioError,
    BallastError,
    "A scenario that does not load or run; `.field` names the field when the lab knows it."
);
create_exception!(
    ballast,
    JournalError,
    BallastError,
    "A journal line that cannot be read; `.line` is its 1-based number."
);
create_exception!(
    ballast,
    BallastReject,
    BallastError,
    "A command the engine refused; `.kind` is the reason, `.fields` its fields."
);

/// Builds an exception of type `T` with `message` and the given attributes.
pub fn with_attrs<T: pyo3::PyTypeInfo>(
    py: Python<'_>,
    message: String,
    attrs: &[(&str, Py<PyAny>)],
) -> PyErr {
    let err = PyErr::from_type(py.get_type::<T>(), message);
    for (k, v) in attrs {
        // Setting an attribute on a fresh exception instance cannot fail.
        let _ = err.value(py).setattr(*k, v);
    }
    err
}

/// A lab error as `ScenarioError` (with `.field`) or `BallastError`.
pub fn lab(py: Python<'_>, e: LabError) -> PyErr {
    let field: Option<String> = match &e {
        LabError::Field { field, .. } | LabError::Data { field, .. } => Some(field.clone()),
        LabError::Override { spec, .. } => Some(
            spec.split_once('=')
                .map_or(spec.as_str(), |(k, _)| k)
                .to_string(),
        ),
        LabError::Toml { message, .. } => unknown_field(message),
        LabError::UnknownScenario(..) => None,
        _ => return PyErr::from_type(py.get_type::<BallastError>(), e.to_string()),
    };
    match field.into_py_any(py) {
        Ok(f) => with_attrs::<ScenarioError>(py, e.to_string(), &[("field", f)]),
        Err(err) => err,
    }
}

/// The field serde names in an `unknown field `x`` message (a TOML error carries no path).
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.split_once("unknown field `")?.1;
    rest.split_once('`').map(|(f, _)| f.to_string())
}

/// A table conversion error (a bug or an unreadable file) as `BallastError`.
pub fn table(py: Python<'_>, e: TableError) -> PyErr {
    PyErr::from_type(py.get_type::<BallastError>(), e.to_string())
}

/// Any other error as `BallastError` with its message.
pub fn other(py: Python<'_>, message: impl std::fmt::Display) -> PyErr {
    PyErr::from_type(py.get_type::<BallastError>(), message.to_string())
}
