//! Errors of the table conversions: each names the file, row or column at fault.

/// Why a table could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A `paths.csv` row that does not fit its header.
    #[error("paths.csv line {line}: {message}")]
    Csv { line: usize, message: String },
    /// A per-step metric name that is not one of [`crate::series::METRICS`].
    #[error("series metric `{0}`: expected one of fund, bad_debt, insolvency, breaker")]
    UnknownMetric(String),
    /// Arrow refused the columns (a bug in this crate: lengths are built equal).
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[cfg(feature = "parquet")]
    #[error("parquet {path}: {source}")]
    Parquet {
        path: String,
        #[source]
        source: parquet::errors::ParquetError,
    },
}
