//! Errors of the lab. Each names what is wrong and where: the scenario field (dotted path), the
//! TOML line, the missing file, or the path and step at which the engine refused a command.

use std::path::PathBuf;

/// Why a scenario could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The TOML text does not parse or does not fit the schema (toml's message names the line,
    /// column and the offending key or value).
    #[error("scenario {origin}: {message}")]
    Toml { origin: String, message: String },
    /// A field parsed but its value is not acceptable.
    #[error("scenario field `{field}`: {message}")]
    Field { field: String, message: String },
    /// A `--set key=value` override could not be applied.
    #[error("--set {spec}: {message}")]
    Override { spec: String, message: String },
    /// Neither a file nor an embedded scenario.
    #[error("unknown scenario `{0}`: not a file and not one of the embedded scenarios ({1})")]
    UnknownScenario(String, String),
    /// A price CSV could not be found or read.
    #[error("scenario field `{field}`: {message}")]
    Data { field: String, message: String },
    /// The engine refused a command the lab needed (genesis, population or a price update).
    #[error("path {path}, step {step}: engine refused {what}: {reason}")]
    Engine {
        path: u64,
        step: u32,
        what: String,
        reason: String,
    },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Shard files that cannot be merged.
    #[error("merge: {0}")]
    Merge(String),
    #[error("{0}")]
    Invalid(String),
}

impl LabError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        LabError::Field {
            field: field.into(),
            message: message.into(),
        }
    }
}
