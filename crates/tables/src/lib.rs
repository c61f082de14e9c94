//! Ballast results as Apache Arrow record batches, and Parquet files of them.
//!
//! One conversion per result, shared by the CLI (`ballast stress --out DIR` writes
//! `paths.parquet` and `series.parquet`) and the Python package (`ballast.stress(...).paths`,
//! `.series(metric)`, `ballast.sweep`, `ballast.replay`), so a column means the same thing
//! wherever it is read:
//! - [`paths`]: one row per path, the columns of the lab's `paths.csv` (read back from the
//!   lab's own writer, so the two cannot drift apart).
//! - [`series`]: per-step metrics of a run from its mergeable aggregate (quantile bands of the
//!   insurance fund and of cumulative bad debt, P(insolvency so far), breaker-mode shares).
//! - [`frontier`]: a sweep's grid points with the frontier and recommended flags.
//! - [`events`]: a journal replay's events, one row per event.
//! - [`reject`]: an engine rejection as a kind and named fields (for `BallastReject`).
//! - [`parquet_out`] (feature `parquet`): Parquet files of any of the above.
//!
//! The schemas are documented in `crates/lab/SCENARIOS.md` ("Arrow and Parquet output").

pub mod error;
pub mod events;
pub mod frontier;
#[cfg(feature = "parquet")]
pub mod parquet_out;
pub mod paths;
pub mod reject;
pub mod series;

pub use error::TableError;
