//! `ballast-options`: option pricing, implied volatility, volatility surfaces and forecasts,
//! batch (vectorised) Greeks and portfolio margin for the Ballast clearing engine.
//!
//! A pure library: no I/O, no clock, no randomness. Every function is deterministic and returns
//! a typed [`OptionsError`] on bad input instead of panicking or clamping.
//!
//! | module | what lives there |
//! |---|---|
//! | [`pricing`] | generalised Black-Scholes-Merton and Black-76 price and Greeks |
//! | [`iv`] | safeguarded Newton implied-volatility solver |
//! | [`surface`] | grid and SVI volatility surfaces with arbitrage validation |
//! | [`volforecast`] | EWMA and GARCH(1,1) forecasts, GARCH MLE, volatility-adjusted perp margin rate |
//! | [`batch`] | structure-of-arrays price + Greeks with vectorised math kernels |
//! | [`portfolio`] | correlated scenario-grid portfolio margin and Greeks aggregation |

#![warn(missing_docs)]

pub mod batch;
pub mod error;
pub mod iv;
pub mod portfolio;
pub mod pricing;
pub mod surface;
pub mod volforecast;

pub use error::{OptionsError, Result};
pub use pricing::{Greeks, OptionKind};
