//! Closed-form European option pricing: generalised Black-Scholes-Merton (continuous dividend
//! yield / cost of carry) and Black-76 on a forward, with price, delta, gamma, vega, theta, rho.
//!
//! Conventions (those of QuantLib's `BlackCalculator` and of `tests/data/bs_reference.csv`):
//! * `t` is the time to expiry in years; `r` the continuously compounded risk-free rate; `q` the
//!   continuous dividend yield, so the cost of carry is `b = r − q` (Haug 2007, *The Complete
//!   Guide to Option Pricing Formulas*, §1.1.6: q = r gives Black-76, q = r_foreign gives
//!   Garman-Kohlhagen).
//! * vega is per 1.00 of volatility and rho per 1.00 of rate (not per 1%); BSM rho holds `q`
//!   fixed, Black-76 rho holds the forward fixed.
//! * theta is per year and equals `−∂V/∂T` (calendar decay), negative for a long vanilla option
//!   in the usual case.
//!
//! Every entry point validates its inputs (spot/forward, strike, T, vol finite and > 0; rates
//! finite) and returns [`OptionsError`] rather than panicking or clamping.

use serde::{Deserialize, Serialize};

use crate::error::{finite, positive, OptionsError, Result};

/// 1/√(2π).
pub(crate) const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionKind {
    /// Right to buy at the strike.
    Call,
    /// Right to sell at the strike.
    Put,
}

impl OptionKind {
    /// `+1` for a call, `−1` for a put (the ω of the unified BSM formula).
    pub fn sign(self) -> f64 {
        match self {
            OptionKind::Call => 1.0,
            OptionKind::Put => -1.0,
        }
    }
}

/// Inputs of the generalised Black-Scholes-Merton model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BsmParams {
    /// Spot price of the underlying, > 0.
    pub spot: f64,
    /// Strike, > 0.
    pub strike: f64,
    /// Time to expiry in years, > 0.
    pub t: f64,
    /// Continuously compounded risk-free rate.
    pub r: f64,
    /// Continuous dividend yield (or foreign rate / borrow rate); cost of carry b = r − q.
    pub q: f64,
    /// Black-Scholes volatility (annualised), > 0.
    pub vol: f64,
}

impl BsmParams {
    /// Builds validated parameters.
    pub fn new(spot: f64, strike: f64, t: f64, r: f64, q: f64, vol: f64) -> Result<Self> {
        let p = Self {
            spot,
            strike,
            t,
            r,
            q,
            vol,
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks every field against its domain.
    pub fn validate(&self) -> Result<()> {
        positive("spot", self.spot)?;
        positive("strike", self.strike)?;
        validate_t(self.t)?;
        finite("r", self.r)?;
        finite("q", self.q)?;
        positive("vol", self.vol)?;
        Ok(())
    }
}

/// Inputs of Black-76 (an option on a forward or future, discounted at `r`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Black76Params {
    /// Forward price, > 0.
    pub forward: f64,
    /// Strike, > 0.
    pub strike: f64,
    /// Time to expiry in years, > 0.
    pub t: f64,
    /// Discount rate.
    pub r: f64,
    /// Volatility of the forward, > 0.
    pub vol: f64,
}

impl Black76Params {
    /// Checks every field against its domain.
    pub fn validate(&self) -> Result<()> {
        positive("forward", self.forward)?;
        positive("strike", self.strike)?;
        validate_t(self.t)?;
        finite("r", self.r)?;
        positive("vol", self.vol)?;
        Ok(())
    }
}

/// Price and first-order sensitivities (plus gamma) of one option.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Greeks {
    /// Present value.
    pub price: f64,
    /// ∂V/∂S (BSM) or ∂V/∂F (Black-76).
    pub delta: f64,
    /// ∂²V/∂S².
    pub gamma: f64,
    /// ∂V/∂σ per 1.00 of volatility.
    pub vega: f64,
    /// −∂V/∂T per year.
    pub theta: f64,
    /// ∂V/∂r per 1.00 of rate.
    pub rho: f64,
}

pub(crate) fn validate_t(t: f64) -> Result<f64> {
    if t.is_nan() || t.is_infinite() {
        return Err(OptionsError::InvalidInput {
            field: "t",
            value: t,
            rule: "must be finite",
        });
    }
    if t <= 0.0 {
        return Err(OptionsError::ExpiryNotInFuture { t });
    }
    Ok(t)
}

/// Standard normal cumulative distribution Φ(x) = ½·erfc(−x/√2), accurate to double precision
/// in both tails (erfc from `libm`, a port of FreeBSD/Sun fdlibm `s_erf.c`).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Standard normal density φ(x).
pub fn norm_pdf(x: f64) -> f64 {
    INV_SQRT_2PI * libm::exp(-0.5 * x * x)
}

/// `(d1, d2)` of the generalised BSM formula (Haug 2007, eq. 1.4):
/// `d1 = (ln(S/K) + (b + σ²/2)T)/(σ√T)`, `d2 = d1 − σ√T`, with `b = r − q`.
pub fn d1_d2(p: &BsmParams) -> Result<(f64, f64)> {
    p.validate()?;
    let vs = p.vol * p.t.sqrt();
    let d1 = (libm::log(p.spot / p.strike) + (p.r - p.q + 0.5 * p.vol * p.vol) * p.t) / vs;
    Ok((d1, d1 - vs))
}

/// Price and Greeks under generalised BSM (Merton 1973; Haug 2007 §1.1.6 and §2.1 for the
/// Greeks). See the module doc for units.
pub fn bsm(kind: OptionKind, p: &BsmParams) -> Result<Greeks> {
    p.validate()?;
    finite_greeks(bsm_unchecked(kind, p.spot, p.strike, p.t, p.r, p.q, p.vol))
}

/// Rejects a result that overflowed (each input valid, their combination too extreme).
fn finite_greeks(g: Greeks) -> Result<Greeks> {
    if [g.price, g.delta, g.gamma, g.vega, g.theta, g.rho]
        .iter()
        .all(|x| x.is_finite())
    {
        Ok(g)
    } else {
        Err(OptionsError::NonFiniteResult {
            what: "option price or Greeks",
        })
    }
}

fn finite_price(x: f64) -> Result<f64> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(OptionsError::NonFiniteResult {
            what: "option price",
        })
    }
}

/// Price only, under generalised BSM.
pub fn bsm_price(kind: OptionKind, p: &BsmParams) -> Result<f64> {
    p.validate()?;
    finite_price(bsm_price_unchecked(
        kind, p.spot, p.strike, p.t, p.r, p.q, p.vol,
    ))
}

/// ∂V/∂q per 1.00 of dividend yield (Haug 2007 §2.6): call `−T·S·e^{−qT}·Φ(d1)`,
/// put `T·S·e^{−qT}·Φ(−d1)`.
pub fn bsm_dividend_rho(kind: OptionKind, p: &BsmParams) -> Result<f64> {
    let (d1, _) = d1_d2(p)?;
    let w = kind.sign();
    Ok(-w * p.t * p.spot * libm::exp(-p.q * p.t) * norm_cdf(w * d1))
}

/// Black-76 price and Greeks on a forward (Black 1976, *The pricing of commodity contracts*):
/// `V = e^{−rT}·ω·(F·Φ(ωd1) − K·Φ(ωd2))`. Delta and gamma are with respect to the forward,
/// rho holds the forward fixed (`−T·V`), theta is `−∂V/∂T` with the forward fixed.
pub fn black76(kind: OptionKind, p: &Black76Params) -> Result<Greeks> {
    p.validate()?;
    // Black-76 is generalised BSM with b = 0 (q = r) on S = F (Haug 2007 §1.1.6), except rho.
    let mut g = bsm_unchecked(kind, p.forward, p.strike, p.t, p.r, p.r, p.vol);
    g.rho = -p.t * g.price;
    finite_greeks(g)
}

/// Black-76 price only.
pub fn black76_price(kind: OptionKind, p: &Black76Params) -> Result<f64> {
    p.validate()?;
    finite_price(bsm_price_unchecked(
        kind, p.forward, p.strike, p.t, p.r, p.r, p.vol,
    ))
}

/// Generalised BSM price for inputs the caller has already validated.
#[inline]
pub(crate) fn bsm_price_unchecked(
    kind: OptionKind,
    s: f64,
    k: f64,
    t: f64,
    r: f64,
    q: f64,
    vol: f64,
) -> f64 {
    let w = kind.sign();
    let vs = vol * t.sqrt();
    let d1 = (libm::log(s / k) + (r - q + 0.5 * vol * vol) * t) / vs;
    let d2 = d1 - vs;
    w * (s * libm::exp(-q * t) * norm_cdf(w * d1) - k * libm::exp(-r * t) * norm_cdf(w * d2))
}

/// Generalised BSM price and Greeks for inputs the caller has already validated.
/// Unified call/put form with ω = ±1 (Haug 2007 §1.1.6, §2.1):
/// delta `ωe^{−qT}Φ(ωd1)`, gamma `e^{−qT}φ(d1)/(Sσ√T)`, vega `Se^{−qT}φ(d1)√T`,
/// theta `−Se^{−qT}φ(d1)σ/(2√T) + ω(qSe^{−qT}Φ(ωd1) − rKe^{−rT}Φ(ωd2))`, rho `ωKTe^{−rT}Φ(ωd2)`.
#[inline]
pub(crate) fn bsm_unchecked(
    kind: OptionKind,
    s: f64,
    k: f64,
    t: f64,
    r: f64,
    q: f64,
    vol: f64,
) -> Greeks {
    let w = kind.sign();
    let sqt = t.sqrt();
    let vs = vol * sqt;
    let d1 = (libm::log(s / k) + (r - q + 0.5 * vol * vol) * t) / vs;
    let d2 = d1 - vs;
    let dfq = libm::exp(-q * t);
    let dfr = libm::exp(-r * t);
    let n1 = norm_pdf(d1);
    let nd1 = norm_cdf(w * d1);
    let nd2 = norm_cdf(w * d2);
    let sq = s * dfq;
    let kr = k * dfr;
    Greeks {
        price: w * (sq * nd1 - kr * nd2),
        delta: w * dfq * nd1,
        gamma: dfq * n1 / (s * vs),
        vega: sq * n1 * sqt,
        theta: -sq * n1 * vol / (2.0 * sqt) + w * (q * sq * nd1 - r * kr * nd2),
        rho: w * k * t * dfr * nd2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_tails_and_centre() {
        assert_eq!(norm_cdf(0.0), 0.5);
        // Φ(−10) = 7.619853024160527e-24 (Abramowitz & Stegun 26.2; high-precision value).
        assert!((norm_cdf(-10.0) / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-13);
        assert!((norm_cdf(1.96) - 0.975_002_104_851_780).abs() < 1e-15);
    }

    #[test]
    fn rejects_bad_inputs() {
        let ok = BsmParams::new(100.0, 100.0, 1.0, 0.0, 0.0, 0.2).unwrap();
        assert!(matches!(
            bsm(OptionKind::Call, &BsmParams { t: -0.1, ..ok }),
            Err(OptionsError::ExpiryNotInFuture { .. })
        ));
        assert!(matches!(
            bsm(OptionKind::Call, &BsmParams { vol: 0.0, ..ok }),
            Err(OptionsError::InvalidInput { field: "vol", .. })
        ));
        assert!(matches!(
            bsm(
                OptionKind::Call,
                &BsmParams {
                    strike: f64::NAN,
                    ..ok
                }
            ),
            Err(OptionsError::InvalidInput {
                field: "strike",
                ..
            })
        ));
    }
}
