//! Implied volatility: the σ at which the model price equals a quoted price.
//!
//! Robust by construction: the target is first checked against the model-free no-arbitrage
//! band (Merton 1973: a European call lies in `(max(0, Se^{−qT} − Ke^{−rT}), Se^{−qT})`, a put in
//! `(max(0, Ke^{−rT} − Se^{−qT}), Ke^{−rT})`), then solved by Newton's method on vega inside a
//! shrinking bracket, falling back to bisection whenever a Newton step would leave the bracket or
//! shrink it too slowly (the "rtsafe" safeguard of Press et al., *Numerical Recipes* §9.4).
//! Price is strictly increasing in σ, so the bracket always contains exactly one root.

use crate::error::{finite, positive, OptionsError, Result};
use crate::pricing::{bsm_price_unchecked, bsm_unchecked, validate_t, OptionKind};

/// Smallest volatility the solver searches.
pub const IV_MIN: f64 = 1e-8;
/// Largest volatility the solver searches (10 000% annualised).
pub const IV_MAX: f64 = 100.0;
const MAX_ITER: u32 = 200;

/// Implied volatility under generalised BSM (see [`crate::pricing::bsm`] for conventions).
///
/// Errors: invalid inputs; [`OptionsError::PriceOutsideBounds`] when `price` is at or outside the
/// no-arbitrage band, or outside the prices reachable with σ in `[IV_MIN, IV_MAX]`;
/// [`OptionsError::NoConvergence`] if the iteration budget is exhausted (not observed in tests).
pub fn implied_vol_bsm(
    kind: OptionKind,
    price: f64,
    spot: f64,
    strike: f64,
    t: f64,
    r: f64,
    q: f64,
) -> Result<f64> {
    positive("spot", spot)?;
    positive("strike", strike)?;
    validate_t(t)?;
    finite("r", r)?;
    finite("q", q)?;
    finite("price", price)?;
    let sq = spot * libm::exp(-q * t);
    let kr = strike * libm::exp(-r * t);
    let (lower, upper) = match kind {
        OptionKind::Call => ((sq - kr).max(0.0), sq),
        OptionKind::Put => ((kr - sq).max(0.0), kr),
    };
    if !(price > lower && price < upper) {
        return Err(OptionsError::PriceOutsideBounds {
            price,
            lower,
            upper,
        });
    }
    let f = |v: f64| bsm_price_unchecked(kind, spot, strike, t, r, q, v) - price;
    let (mut lo, mut hi) = (IV_MIN, IV_MAX);
    let (f_lo, f_hi) = (f(lo), f(hi));
    if !(f_lo.is_finite() && f_hi.is_finite()) {
        return Err(OptionsError::NonFiniteResult {
            what: "option price while bracketing the implied volatility",
        });
    }
    if f_lo > 0.0 || f_hi < 0.0 {
        // The band is open, but double precision cannot resolve this price inside [IV_MIN, IV_MAX].
        return Err(OptionsError::PriceOutsideBounds {
            price,
            lower: f_lo + price,
            upper: f_hi + price,
        });
    }
    if f_lo == 0.0 {
        return Ok(lo);
    }
    // Start at the inflection point of price in σ, where vega is largest: σ² = 2|ln(F/K)|/T
    // (Manaster & Koehler 1982), floored so at-the-money starts at a usual level.
    let m = libm::log(sq / kr).abs();
    let mut x = (2.0 * m / t).sqrt().clamp(0.1, 5.0);
    let mut dx_old = hi - lo;
    let mut dx = dx_old;
    let tol_price = 1e-14 * price.max(f64::MIN_POSITIVE);
    for _ in 0..MAX_ITER {
        let g = bsm_unchecked(kind, spot, strike, t, r, q, x);
        let fx = g.price - price;
        if fx.abs() <= tol_price {
            return Ok(x);
        }
        if fx < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - fx / g.vega;
        let use_bisect = !(g.vega > 0.0 && newton > lo && newton < hi)
            || (2.0 * fx).abs() > (dx_old * g.vega).abs();
        dx_old = dx;
        let next = if use_bisect { 0.5 * (lo + hi) } else { newton };
        dx = next - x;
        x = next;
        if dx.abs() <= 4.0 * f64::EPSILON * x || hi - lo <= 4.0 * f64::EPSILON * hi {
            return Ok(x);
        }
    }
    Err(OptionsError::NoConvergence {
        what: "implied volatility",
        iterations: MAX_ITER,
    })
}

/// Implied volatility under Black-76 (option on a forward `forward`, discounted at `r`).
pub fn implied_vol_black76(
    kind: OptionKind,
    price: f64,
    forward: f64,
    strike: f64,
    t: f64,
    r: f64,
) -> Result<f64> {
    positive("forward", forward)?;
    implied_vol_bsm(kind, price, forward, strike, t, r, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::{bsm_price, BsmParams};

    #[test]
    fn round_trip_and_bounds() {
        let p = BsmParams::new(100.0, 120.0, 0.5, 0.03, 0.01, 0.65).unwrap();
        let c = bsm_price(OptionKind::Call, &p).unwrap();
        let iv = implied_vol_bsm(OptionKind::Call, c, 100.0, 120.0, 0.5, 0.03, 0.01).unwrap();
        assert!((iv - 0.65).abs() < 1e-12, "{iv}");
        // Below intrinsic for a deep ITM put.
        let e = implied_vol_bsm(OptionKind::Put, 10.0, 100.0, 120.0, 0.5, 0.0, 0.0);
        assert!(matches!(e, Err(OptionsError::PriceOutsideBounds { .. })));
        // Above the upper bound for a call.
        let e = implied_vol_bsm(OptionKind::Call, 100.5, 100.0, 120.0, 0.5, 0.0, 0.0);
        assert!(matches!(e, Err(OptionsError::PriceOutsideBounds { .. })));
    }
}
