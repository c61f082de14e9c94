//! Ballast oracle: multi-source price aggregation, smoothing, action validity and circuit breakers.
//!
//! "Never believe one number." A pure library — no I/O, no clock, no randomness: time comes in as
//! `i64` milliseconds since the UTC epoch, prices as `f64` checked at every public entry point
//! (NaN, infinite or ≤ 0 → [`Error`], never a panic or a silent clamp), and every rejected call
//! leaves its receiver unchanged. Output never depends on hash-map order.
//!
//! * [`aggregate`] — per-asset weighted median with MAD outlier rejection, quorum, staleness,
//!   confidence and an ordered [`OracleStatus`].
//! * [`smooth`] — EMA, TWAP, Mango v4 stable price, Maker OSM delayed price, strict
//!   asset/liability pricing.
//! * [`validity`] — which [`Action`]s each oracle status allows; typed [`Blocked`] reasons.
//! * [`breaker`] — per-market/per-pool circuit breaker state machine with hysteresis.
//! * `timeline` (feature `timeline`, on by default) — replays historical bars of several venues
//!   through all of the above; what `ballast oracle --csv FILE` prints.

pub mod aggregate;
pub mod breaker;
mod error;
pub mod smooth;
#[cfg(feature = "timeline")]
pub mod timeline;
pub mod validity;

pub use aggregate::{
    Aggregator, AggregatorConfig, OracleStatus, Quote, Reading, SourceId, SourceSpec, MAX_SOURCES,
};
pub use breaker::{
    Breaker, BreakerConfig, BreakerInput, Cause, ChainSignal, FlowCheck, FlowLimiter,
    FlowLimiterConfig, Mode, Scope, Transition, Trip,
};
pub use error::Error;
pub use smooth::{
    asset_price, liability_price, DelayedPrice, Ema, StablePrice, StablePriceConfig, Twap,
};
pub use validity::{gate, Action, Blocked, Gate, Rule, ValidityMatrix};
