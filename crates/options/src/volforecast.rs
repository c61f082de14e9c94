//! Volatility forecasts from a price history, and the volatility-adjusted perp margin rate.
//!
//! * EWMA (J.P. Morgan/Reuters, *RiskMetrics — Technical Document*, 4th ed. 1996, §5.2.1):
//!   `σ²_t = λσ²_{t−1} + (1−λ)r²_t`, λ = 0.94 for daily data; its h-step forecast is flat.
//! * GARCH(1,1) (Bollerslev 1986, *Generalized autoregressive conditional heteroskedasticity*,
//!   J. Econometrics 31): `σ²_t = ω + α r²_{t−1} + β σ²_{t−1}`, ω > 0, α, β ≥ 0, α + β < 1;
//!   k-step forecast `σ²_{t+k} = V_L + (α+β)^{k−1}(σ²_{t+1} − V_L)`, `V_L = ω/(1−α−β)`.
//!   Fitted by Gaussian maximum likelihood with a deterministic Nelder–Mead search (Nelder &
//!   Mead 1965) over an unconstrained reparametrisation that keeps every iterate admissible.
//! * Perp margin rate `rate = base + k·σ_forecast·√horizon`, moved toward its target by at most
//!   `max_step` per interval so margin never jumps in one tick (a Ballast design; FORMULAS.md
//!   notes no anchor protocol does this).
//!
//! Returns are log returns `ln(P_t/P_{t−1})`, per sampling period; all variances are per period.

use crate::error::{finite, positive, OptionsError, Result};

/// RiskMetrics decay for daily data.
pub const RISKMETRICS_LAMBDA: f64 = 0.94;

/// Log returns of a price series (each price finite and > 0; at least two prices).
pub fn log_returns(prices: &[f64]) -> Result<Vec<f64>> {
    if prices.len() < 2 {
        return Err(OptionsError::NotEnoughData {
            what: "log returns",
            needed: 2,
            got: prices.len(),
        });
    }
    for &p in prices {
        positive("price", p)?;
    }
    Ok(prices.windows(2).map(|w| libm::log(w[1] / w[0])).collect())
}

fn check_returns(returns: &[f64], needed: usize, what: &'static str) -> Result<()> {
    if returns.len() < needed {
        return Err(OptionsError::NotEnoughData {
            what,
            needed,
            got: returns.len(),
        });
    }
    for &r in returns {
        finite("return", r)?;
    }
    Ok(())
}

/// EWMA variance after the last return, seeded with the first squared return.
/// `lambda` must be in (0, 1).
pub fn ewma_variance(returns: &[f64], lambda: f64) -> Result<f64> {
    if !(lambda > 0.0 && lambda < 1.0) {
        return Err(OptionsError::InvalidInput {
            field: "lambda",
            value: lambda,
            rule: "must be in (0, 1)",
        });
    }
    check_returns(returns, 1, "EWMA variance")?;
    let mut v = returns[0] * returns[0];
    for &r in &returns[1..] {
        v = lambda * v + (1.0 - lambda) * r * r;
    }
    Ok(v)
}

/// EWMA volatility over `horizon` periods: `√(h·σ²)` (the EWMA forecast is flat in h).
pub fn ewma_horizon_vol(returns: &[f64], lambda: f64, horizon: u32) -> Result<f64> {
    if horizon == 0 {
        return Err(OptionsError::InvalidInput {
            field: "horizon",
            value: 0.0,
            rule: "must be >= 1 period",
        });
    }
    Ok((f64::from(horizon) * ewma_variance(returns, lambda)?).sqrt())
}

/// Validated GARCH(1,1) parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Garch11 {
    omega: f64,
    alpha: f64,
    beta: f64,
}

impl Garch11 {
    /// ω > 0, α ≥ 0, β ≥ 0, α + β < 1 (covariance stationarity, Bollerslev 1986 thm. 1).
    pub fn new(omega: f64, alpha: f64, beta: f64) -> Result<Self> {
        positive("omega", omega)?;
        for (f, v) in [("alpha", alpha), ("beta", beta)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(OptionsError::InvalidInput {
                    field: f,
                    value: v,
                    rule: "must be finite and >= 0",
                });
            }
        }
        if alpha + beta >= 1.0 {
            return Err(OptionsError::InvalidInput {
                field: "alpha + beta",
                value: alpha + beta,
                rule: "must be < 1 (stationarity)",
            });
        }
        Ok(Self { omega, alpha, beta })
    }

    /// ω.
    pub fn omega(&self) -> f64 {
        self.omega
    }
    /// α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// β.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Long-run variance `ω/(1 − α − β)`.
    pub fn long_run_variance(&self) -> f64 {
        self.omega / (1.0 - self.alpha - self.beta)
    }

    /// Conditional variances σ²_1..σ²_{n+1}: entry t is the variance of return t given returns
    /// before it (σ²_1 = long-run variance); the last entry is the one-step-ahead forecast.
    pub fn filter(&self, returns: &[f64]) -> Result<Vec<f64>> {
        check_returns(returns, 1, "GARCH filter")?;
        let mut out = Vec::with_capacity(returns.len() + 1);
        let mut v = self.long_run_variance();
        out.push(v);
        for &r in returns {
            v = self.omega + self.alpha * r * r + self.beta * v;
            out.push(v);
        }
        Ok(out)
    }

    /// Variance forecasts for steps 1..=h after the last return.
    pub fn forecast(&self, returns: &[f64], horizon: u32) -> Result<Vec<f64>> {
        if horizon == 0 {
            return Err(OptionsError::InvalidInput {
                field: "horizon",
                value: 0.0,
                rule: "must be >= 1 period",
            });
        }
        let next = *self
            .filter(returns)?
            .last()
            .unwrap_or(&self.long_run_variance());
        let vl = self.long_run_variance();
        let p = self.alpha + self.beta;
        let mut out = Vec::with_capacity(horizon as usize);
        let mut decay = 1.0;
        for _ in 0..horizon {
            out.push(vl + decay * (next - vl));
            decay *= p;
        }
        Ok(out)
    }

    /// Volatility of the sum of the next `horizon` returns: `√Σ_k σ²_{t+k}`.
    pub fn horizon_vol(&self, returns: &[f64], horizon: u32) -> Result<f64> {
        Ok(self.forecast(returns, horizon)?.iter().sum::<f64>().sqrt())
    }

    /// Gaussian negative log-likelihood `½Σ(ln 2π + ln σ²_t + r²_t/σ²_t)`.
    pub fn neg_log_likelihood(&self, returns: &[f64]) -> Result<f64> {
        let v = self.filter(returns)?;
        Ok(returns
            .iter()
            .zip(&v)
            .map(|(r, s2)| {
                0.5 * (libm::log(2.0 * std::f64::consts::PI) + libm::log(*s2) + r * r / s2)
            })
            .sum())
    }
}

/// Result of [`fit_garch`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GarchFit {
    /// Maximum-likelihood parameters.
    pub params: Garch11,
    /// Log-likelihood at the optimum.
    pub log_likelihood: f64,
    /// Nelder–Mead iterations used.
    pub iterations: u32,
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// Unconstrained θ → admissible GARCH: ω = exp(θ0)·var, α+β = 0.999·logistic(θ1),
/// α = (α+β)·logistic(θ2).
fn decode(theta: &[f64; 3], var: f64) -> Garch11 {
    let persistence = 0.999 * logistic(theta[1]);
    let alpha = persistence * logistic(theta[2]);
    Garch11 {
        omega: (libm::exp(theta[0]) * var).max(f64::MIN_POSITIVE),
        alpha,
        beta: persistence - alpha,
    }
}

/// Gaussian MLE of GARCH(1,1) by Nelder–Mead (reflection 1, expansion 2, contraction ½,
/// shrink ½) from a fixed start (α = 0.1, β = 0.85, variance targeting for ω), at most 2000
/// iterations per round, restarted once from the best point. Deterministic. Needs at least 30
/// returns, not all zero.
#[allow(clippy::needless_range_loop)] // simplex coordinates indexed in lockstep
pub fn fit_garch(returns: &[f64]) -> Result<GarchFit> {
    check_returns(returns, 30, "GARCH fit")?;
    let var = returns.iter().map(|r| r * r).sum::<f64>() / returns.len() as f64;
    if var <= 0.0 {
        return Err(OptionsError::InvalidInput {
            field: "returns",
            value: var,
            rule: "sample variance must be > 0",
        });
    }
    let nll = |th: &[f64; 3]| -> f64 {
        decode(th, var)
            .neg_log_likelihood(returns)
            .unwrap_or(f64::INFINITY)
    };
    // Start: α+β = 0.95, α/(α+β) = 0.105, ω = 0.05·var (so V_L = var).
    let logit = |p: f64| libm::log(p / (1.0 - p));
    let start = [libm::log(0.05_f64), logit(0.95 / 0.999), logit(0.1 / 0.95)];
    // Two rounds: the second restarts from the first round's best point with a fresh simplex,
    // the usual guard against Nelder–Mead's premature collapse (Press et al. §10.5).
    let mut best = start;
    let mut iterations = 0;
    let mut simplex: Vec<([f64; 3], f64)> = Vec::new();
    for _round in 0..2 {
        simplex = (0..4)
            .map(|i| {
                let mut p = best;
                if i > 0 {
                    p[i - 1] += 0.5;
                }
                (p, nll(&p))
            })
            .collect();
        for _ in 0..2000 {
            iterations += 1;
            simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
            let (best, worst) = (simplex[0].1, simplex[3].1);
            if (worst - best).abs() <= 1e-10 * (1.0 + best.abs()) {
                break;
            }
            let mut c = [0.0; 3];
            for (p, _) in &simplex[..3] {
                for d in 0..3 {
                    c[d] += p[d] / 3.0;
                }
            }
            let at = |t: f64| -> [f64; 3] {
                let w = simplex[3].0;
                [
                    c[0] + t * (w[0] - c[0]),
                    c[1] + t * (w[1] - c[1]),
                    c[2] + t * (w[2] - c[2]),
                ]
            };
            let xr = at(-1.0);
            let fr = nll(&xr);
            if fr < simplex[0].1 {
                let xe = at(-2.0);
                let fe = nll(&xe);
                simplex[3] = if fe < fr { (xe, fe) } else { (xr, fr) };
            } else if fr < simplex[2].1 {
                simplex[3] = (xr, fr);
            } else {
                let xc = if fr < simplex[3].1 { at(-0.5) } else { at(0.5) };
                let fc = nll(&xc);
                if fc < fr.min(simplex[3].1) {
                    simplex[3] = (xc, fc);
                } else {
                    let b = simplex[0].0;
                    for s in simplex.iter_mut().skip(1) {
                        for d in 0..3 {
                            s.0[d] = b[d] + 0.5 * (s.0[d] - b[d]);
                        }
                        s.1 = nll(&s.0);
                    }
                }
            }
        }
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        best = simplex[0].0;
    }
    let (theta, f) = simplex[0];
    if !f.is_finite() {
        return Err(OptionsError::NoConvergence {
            what: "GARCH maximum likelihood",
            iterations,
        });
    }
    Ok(GarchFit {
        params: decode(&theta, var),
        log_likelihood: -f,
        iterations,
    })
}

/// Parameters of the volatility-adjusted perp margin rate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VolMarginParams {
    /// Base margin rate (fraction of notional), ≥ 0.
    pub base: f64,
    /// Multiplier k on the horizon volatility, ≥ 0.
    pub k: f64,
    /// Horizon in forecast periods (e.g. liquidation horizon), > 0.
    pub horizon: f64,
    /// Largest change of the rate per update interval, > 0.
    pub max_step: f64,
}

impl VolMarginParams {
    fn validate(&self) -> Result<()> {
        for (f, v) in [("base", self.base), ("k", self.k)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(OptionsError::InvalidInput {
                    field: f,
                    value: v,
                    rule: "must be finite and >= 0",
                });
            }
        }
        positive("horizon", self.horizon)?;
        positive("max_step", self.max_step)?;
        Ok(())
    }

    /// Target rate `base + k·σ·√horizon` for a per-period volatility forecast σ ≥ 0.
    pub fn target(&self, sigma: f64) -> Result<f64> {
        self.validate()?;
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(OptionsError::InvalidInput {
                field: "sigma",
                value: sigma,
                rule: "must be finite and >= 0",
            });
        }
        Ok(self.base + self.k * sigma * self.horizon.sqrt())
    }
}

/// A margin rate that follows its volatility target at a bounded speed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VolAdjustedRate {
    params: VolMarginParams,
    current: f64,
}

impl VolAdjustedRate {
    /// Starts at `initial` (finite, ≥ 0).
    pub fn new(params: VolMarginParams, initial: f64) -> Result<Self> {
        params.validate()?;
        if !(initial.is_finite() && initial >= 0.0) {
            return Err(OptionsError::InvalidInput {
                field: "initial",
                value: initial,
                rule: "must be finite and >= 0",
            });
        }
        Ok(Self {
            params,
            current: initial,
        })
    }

    /// Current rate.
    pub fn current(&self) -> f64 {
        self.current
    }

    /// Feeds this interval's volatility forecast: moves the rate toward the new target by at
    /// most `max_step` and returns the new rate.
    pub fn update(&mut self, sigma: f64) -> Result<f64> {
        let target = self.params.target(sigma)?;
        let step = (target - self.current).clamp(-self.params.max_step, self.params.max_step);
        self.current += step;
        Ok(self.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic GARCH path driven by a fixed pseudo-normal sequence.
    fn simulate(g: &Garch11, n: usize) -> Vec<f64> {
        let mut state = 12345_u64;
        let mut unif = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut v = g.long_run_variance();
        let mut out = Vec::new();
        for _ in 0..n {
            // Box–Muller.
            let z =
                (-2.0 * libm::log(unif())).sqrt() * libm::cos(2.0 * std::f64::consts::PI * unif());
            let r = v.sqrt() * z;
            out.push(r);
            v = g.omega() + g.alpha() * r * r + g.beta() * v;
        }
        out
    }

    #[test]
    fn garch_fit_recovers_parameters() {
        let truth = Garch11::new(2e-6, 0.08, 0.9).unwrap();
        let r = simulate(&truth, 4000);
        let fit = fit_garch(&r).unwrap();
        let p = fit.params;
        assert!((p.alpha() - 0.08).abs() < 0.04, "{p:?}");
        assert!((p.beta() - 0.9).abs() < 0.06, "{p:?}");
        assert!(p.alpha() + p.beta() < 1.0);
        assert!(fit.log_likelihood >= -truth.neg_log_likelihood(&r).unwrap() - 1e-6);
        // Deterministic.
        assert_eq!(fit, fit_garch(&r).unwrap());
    }

    #[test]
    fn forecasts_and_errors() {
        let g = Garch11::new(1e-6, 0.1, 0.85).unwrap();
        let r = [0.05, -0.04, 0.03];
        let f = g.forecast(&r, 50).unwrap();
        // Mean-reverts monotonically toward the long-run variance.
        assert!(f[0] > f[49] && f[49] > g.long_run_variance());
        assert!(matches!(
            Garch11::new(1e-6, 0.2, 0.8),
            Err(OptionsError::InvalidInput { .. })
        ));
        assert!(matches!(
            ewma_variance(&r, 1.0),
            Err(OptionsError::InvalidInput { .. })
        ));
        assert!(matches!(
            log_returns(&[1.0, -1.0]),
            Err(OptionsError::InvalidInput { .. })
        ));
        let v = ewma_variance(&[0.01, 0.02], RISKMETRICS_LAMBDA).unwrap();
        assert!((v - (0.94 * 1e-4 + 0.06 * 4e-4)).abs() < 1e-18);
    }

    #[test]
    fn margin_rate_moves_in_bounded_steps() {
        let p = VolMarginParams {
            base: 0.05,
            k: 2.0,
            horizon: 4.0,
            max_step: 0.01,
        };
        let mut m = VolAdjustedRate::new(p, 0.05).unwrap();
        // Target for σ = 0.05 per period: 0.05 + 2·0.05·2 = 0.25.
        let mut prev = m.current();
        for _ in 0..30 {
            let now = m.update(0.05).unwrap();
            assert!((now - prev).abs() <= 0.01 + 1e-15);
            prev = now;
        }
        assert!((m.current() - 0.25).abs() < 1e-12);
        assert!(m.update(f64::NAN).is_err());
        assert!(VolAdjustedRate::new(VolMarginParams { max_step: 0.0, ..p }, 0.05).is_err());
    }
}
