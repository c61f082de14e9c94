//! The one error type of the oracle crate. Every rejected input comes back as one of these, never as
//! a panic or a silently clamped value; a rejected call leaves the receiver unchanged.

use crate::aggregate::SourceId;
use crate::breaker::Mode;

/// Why an oracle, smoothing or breaker call was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A price that is NaN, infinite, zero or negative.
    #[error("{what} must be a positive finite price, got {value}")]
    InvalidPrice { what: &'static str, value: f64 },
    /// A confidence, amount or level that is NaN, infinite or negative.
    #[error("{what} must be finite and non-negative, got {value}")]
    InvalidAmount { what: &'static str, value: f64 },
    /// A quote from a source the aggregator was not configured with.
    #[error("unknown source {0}")]
    UnknownSource(SourceId),
    /// A source's update is older than the one it already holds.
    #[error(
        "source {source_id}: update published at {got_ms} is older than the last one ({last_ms})"
    )]
    OutOfOrder {
        source_id: SourceId,
        last_ms: i64,
        got_ms: i64,
    },
    /// `now` earlier than a `now` already seen by the same object.
    #[error("time went backwards: {got_ms} < {last_ms}")]
    TimeWentBackwards { last_ms: i64, got_ms: i64 },
    /// A configuration value out of its allowed range.
    #[error("invalid config `{field}`: {reason}")]
    Config { field: &'static str, reason: String },
    /// A governance request the breaker refuses (see `Breaker::govern`).
    #[error("governance request for {requested:?} refused while {mode:?}: {reason}")]
    OverrideRefused {
        requested: Mode,
        mode: Mode,
        reason: String,
    },
    /// `run_timeline` was asked for an asset that is not in the rows.
    #[error("no rows for asset `{symbol}` (assets present: {available})")]
    UnknownSymbol { symbol: String, available: String },
}

pub(crate) fn check_price(what: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidPrice { what, value })
    }
}

pub(crate) fn check_amount(what: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidAmount { what, value })
    }
}

pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Error {
    Error::Config {
        field,
        reason: reason.into(),
    }
}
