//! Why the server could not start or had to stop. Refusals of single requests are not here:
//! they are HTTP bodies (see [`crate::refusal`]).

use std::path::PathBuf;

/// A failure of the service itself (start-up, journal, listener).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("journal database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("journal row {seq} is corrupt and is followed by valid rows: {reason} (refusing to start; the tail is not torn, the journal is damaged)")]
    CorruptJournal { seq: i64, reason: String },
    #[error("journal row {seq} was accepted when journaled but the replay refused it: {reason}")]
    ReplayRejected { seq: i64, reason: String },
    #[error("state hash after replaying to row {seq} is {rebuilt}, the journal recorded {stored}")]
    HashMismatch {
        seq: i64,
        stored: String,
        rebuilt: String,
    },
    #[error("genesis journal {path}: {message}")]
    Genesis { path: PathBuf, message: String },
    #[error("token file {path}: {message}")]
    Tokens { path: PathBuf, message: String },
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the journal writer stopped: {0}")]
    WriterStopped(String),
    #[error("metrics recorder: {0}")]
    Metrics(String),
}

/// Wraps an I/O error with what was being done and where.
pub(crate) fn io(
    what: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> ServeError {
    let path = path.to_path_buf();
    move |source| ServeError::Io { what, path, source }
}
