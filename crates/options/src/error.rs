//! Typed errors for every fallible operation in this crate.
//!
//! Nothing here panics on bad input and nothing silently clamps: an input outside its domain is
//! reported with the offending field, its value and the rule it broke.

use thiserror::Error;

/// Every way a computation in `ballast-options` can refuse its input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OptionsError {
    /// A numeric input is outside its domain (non-finite, non-positive where positivity is
    /// required, outside a documented range).
    #[error("invalid {field} = {value}: {rule}")]
    InvalidInput {
        /// Name of the offending input.
        field: &'static str,
        /// The value that was given.
        value: f64,
        /// The rule it violates.
        rule: &'static str,
    },
    /// Inputs are each valid but so extreme that the result overflows double precision.
    #[error(
        "{what} is not finite for these inputs (overflow; e.g. vol²·T or spot/strike out of range)"
    )]
    NonFiniteResult {
        /// What was being computed.
        what: &'static str,
    },
    /// Time to expiry is zero or negative: the option has already expired.
    #[error("expiry is not in the future: time to expiry T = {t} years (must be > 0)")]
    ExpiryNotInFuture {
        /// The time to expiry that was given, in years.
        t: f64,
    },
    /// An option price is outside the no-arbitrage band, so no implied volatility exists.
    #[error("price {price} is outside the no-arbitrage bounds ({lower}, {upper}): no implied volatility exists")]
    PriceOutsideBounds {
        /// The price whose implied volatility was asked for.
        price: f64,
        /// Lower bound (discounted intrinsic value); the price must be strictly above it.
        lower: f64,
        /// Upper bound (discounted spot for a call, discounted strike for a put); the price must be strictly below it.
        upper: f64,
    },
    /// An iterative solver did not reach its tolerance.
    #[error("{what} did not converge after {iterations} iterations")]
    NoConvergence {
        /// What was being solved.
        what: &'static str,
        /// Iterations spent.
        iterations: u32,
    },
    /// Input slices of a batch or a series have inconsistent lengths.
    #[error("length mismatch: {what} has length {got}, expected {expected}")]
    LengthMismatch {
        /// Which slice.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The required length.
        expected: usize,
    },
    /// Batch element `index` failed validation.
    #[error("batch element {index}: {source}")]
    BatchElement {
        /// Index of the offending element.
        index: usize,
        /// The validation failure of that element.
        source: Box<OptionsError>,
    },
    /// An input is larger than one of the hard caps (see `portfolio::caps`).
    #[error("{what}: {value} is over the cap of {max}")]
    OverCap {
        /// Which cap.
        what: &'static str,
        /// The size that was given.
        value: usize,
        /// The cap.
        max: usize,
    },
    /// Portfolio position `index` cannot be valued.
    #[error("position {index}: {source}")]
    Position {
        /// Index of the position in the input.
        index: usize,
        /// Why it cannot be valued.
        source: Box<OptionsError>,
    },
    /// Not enough data for the requested statistic.
    #[error("not enough data: {what} needs at least {needed}, got {got}")]
    NotEnoughData {
        /// What was being computed.
        what: &'static str,
        /// Minimum count.
        needed: usize,
        /// Count given.
        got: usize,
    },
    /// A volatility surface admits calendar arbitrage: total variance falls with expiry.
    #[error("calendar arbitrage: total variance at k = {k} falls from {w_earlier} (T = {t_earlier}) to {w_later} (T = {t_later})")]
    CalendarArbitrage {
        /// Log-moneyness ln(K/F) where the violation was found.
        k: f64,
        /// Earlier expiry (years).
        t_earlier: f64,
        /// Later expiry (years).
        t_later: f64,
        /// Total variance at the earlier expiry.
        w_earlier: f64,
        /// Total variance at the later expiry.
        w_later: f64,
    },
    /// A volatility smile admits butterfly arbitrage (negative risk-neutral density).
    #[error("butterfly arbitrage at T = {t}, k = {k}: {detail}")]
    ButterflyArbitrage {
        /// Expiry (years).
        t: f64,
        /// Log-moneyness where the violation was found.
        k: f64,
        /// What failed (e.g. Durrleman g(k) < 0, or a non-convex call price).
        detail: String,
    },
    /// SVI raw parameters outside their admissible set (Gatheral 2004).
    #[error("invalid SVI parameters at T = {t}: {rule}")]
    InvalidSvi {
        /// Expiry (years).
        t: f64,
        /// The rule broken.
        rule: &'static str,
    },
    /// A correlation matrix is not symmetric, has a diagonal other than one, an entry outside
    /// [-1, 1], or is not positive semi-definite.
    #[error("invalid correlation matrix: {detail}")]
    InvalidCorrelation {
        /// What is wrong with it.
        detail: String,
    },
    /// A position or a scenario refers to an underlying the market data does not describe.
    #[error("unknown underlying {0:?}")]
    UnknownUnderlying(String),
    /// A portfolio file could not be parsed.
    #[error("portfolio file: {0}")]
    Parse(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, OptionsError>;

/// Checks that `value` is finite and strictly positive.
pub(crate) fn positive(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(OptionsError::InvalidInput {
            field,
            value,
            rule: "must be finite and > 0",
        })
    }
}

/// Checks that `value` is finite.
pub(crate) fn finite(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(OptionsError::InvalidInput {
            field,
            value,
            rule: "must be finite",
        })
    }
}
