//! Per-underlying implied-volatility surfaces, validated against static arbitrage.
//!
//! Coordinates: expiry `t` in years and log-moneyness `k = ln(K/F)`. Both surfaces work in
//! total implied variance `w(k, t) = σ²(k, t)·t`, the quantity that must be non-decreasing in
//! `t` at fixed k for the absence of calendar arbitrage (Gatheral 2006, *The Volatility
//! Surface*, ch. 3; Gatheral & Jacquier 2014, *Arbitrage-free SVI volatility surfaces*, §2).
//!
//! * [`GridSurface`]: vols on an expiry × log-moneyness grid. Across strikes, `w` is linear in
//!   k between nodes and flat beyond the outer nodes; across expiries, `w` is linear in t
//!   between expiries, `w ∝ t` (flat vol) before the first and after the last expiry.
//! * [`SviSurface`]: one raw-SVI slice per expiry (Gatheral 2004, *A parsimonious
//!   arbitrage-free implied volatility parametrization*):
//!   `w(k) = a + b(ρ(k − m) + √((k − m)² + σ²))`; between and beyond expiries as for the grid.
//!
//! Construction rejects: non-positive or non-finite vols; unsorted expiries/strikes; calendar
//! arbitrage (w decreasing in t on a k grid); butterfly arbitrage (grid: undiscounted call
//! prices not convex or not decreasing in strike; SVI: parameter conditions b ≥ 0, |ρ| < 1,
//! σ > 0, a + bσ√(1−ρ²) ≥ 0 and Durrleman's condition g(k) ≥ 0 on a grid, Gatheral & Jacquier
//! 2014 eq. 2.1).

use crate::error::{positive, OptionsError, Result};
use crate::pricing::norm_cdf;

/// Log-moneyness grid on which SVI density and calendar checks run: [−3, 3] step 0.01.
fn check_grid() -> impl Iterator<Item = f64> {
    (-300..=300).map(|i| f64::from(i) * 0.01)
}

/// Interpolates total variance across expiries (see module doc).
fn interp_in_t(ts: &[f64], t: f64, w_at: impl Fn(usize) -> f64) -> f64 {
    let n = ts.len();
    if t <= ts[0] {
        return w_at(0) * t / ts[0];
    }
    if t >= ts[n - 1] {
        return w_at(n - 1) * t / ts[n - 1];
    }
    let i = ts.partition_point(|&x| x <= t) - 1;
    let (t0, t1) = (ts[i], ts[i + 1]);
    let (w0, w1) = (w_at(i), w_at(i + 1));
    w0 + (w1 - w0) * (t - t0) / (t1 - t0)
}

fn check_query(t: f64, k: f64) -> Result<()> {
    crate::pricing::validate_t(t)?;
    crate::error::finite("k", k)?;
    Ok(())
}

fn strictly_increasing(field: &'static str, xs: &[f64]) -> Result<()> {
    if xs.is_empty() {
        return Err(OptionsError::NotEnoughData {
            what: field,
            needed: 1,
            got: 0,
        });
    }
    for &x in xs {
        crate::error::finite(field, x)?;
    }
    for w in xs.windows(2) {
        if w[1] <= w[0] {
            return Err(OptionsError::InvalidInput {
                field,
                value: w[1],
                rule: "must be strictly increasing",
            });
        }
    }
    Ok(())
}

/// Undiscounted Black call on F = 1 with strike e^k and total variance w.
fn call_fwd(k: f64, w: f64) -> f64 {
    let sw = w.sqrt();
    let d1 = -k / sw + 0.5 * sw;
    norm_cdf(d1) - libm::exp(k) * norm_cdf(d1 - sw)
}

/// Volatility on an expiry × log-moneyness grid.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GridSurface {
    expiries: Vec<f64>,
    log_moneyness: Vec<f64>,
    /// `vols[i][j]` at `expiries[i]`, `log_moneyness[j]`.
    vols: Vec<Vec<f64>>,
}

impl GridSurface {
    /// Builds and validates a grid surface (see module doc for the checks).
    pub fn new(expiries: Vec<f64>, log_moneyness: Vec<f64>, vols: Vec<Vec<f64>>) -> Result<Self> {
        strictly_increasing("expiries", &expiries)?;
        strictly_increasing("log_moneyness", &log_moneyness)?;
        positive("expiries[0]", expiries[0])?;
        if vols.len() != expiries.len() {
            return Err(OptionsError::LengthMismatch {
                what: "vols (rows)",
                got: vols.len(),
                expected: expiries.len(),
            });
        }
        for row in &vols {
            if row.len() != log_moneyness.len() {
                return Err(OptionsError::LengthMismatch {
                    what: "vols (columns)",
                    got: row.len(),
                    expected: log_moneyness.len(),
                });
            }
            for &v in row {
                positive("vol", v)?;
            }
        }
        let s = Self {
            expiries,
            log_moneyness,
            vols,
        };
        // Calendar: w non-decreasing in t at every node.
        for i in 1..s.expiries.len() {
            for (j, &k) in s.log_moneyness.iter().enumerate() {
                let w0 = s.vols[i - 1][j] * s.vols[i - 1][j] * s.expiries[i - 1];
                let w1 = s.vols[i][j] * s.vols[i][j] * s.expiries[i];
                if w1 < w0 {
                    return Err(OptionsError::CalendarArbitrage {
                        k,
                        t_earlier: s.expiries[i - 1],
                        t_later: s.expiries[i],
                        w_earlier: w0,
                        w_later: w1,
                    });
                }
            }
        }
        // Butterfly: call prices in strike K = e^k must be decreasing and convex.
        for (i, &t) in s.expiries.iter().enumerate() {
            let ks = &s.log_moneyness;
            let c: Vec<f64> = ks
                .iter()
                .zip(&s.vols[i])
                .map(|(&k, &v)| call_fwd(k, v * v * t))
                .collect();
            let strikes: Vec<f64> = ks.iter().map(|k| libm::exp(*k)).collect();
            let tol = 1e-12;
            for j in 1..c.len() {
                let slope = (c[j] - c[j - 1]) / (strikes[j] - strikes[j - 1]);
                if slope > tol {
                    return Err(OptionsError::ButterflyArbitrage {
                        t,
                        k: ks[j],
                        detail: format!("call price increases with strike (slope {slope:.3e})"),
                    });
                }
                if j >= 2 {
                    let prev = (c[j - 1] - c[j - 2]) / (strikes[j - 1] - strikes[j - 2]);
                    if slope < prev - tol {
                        return Err(OptionsError::ButterflyArbitrage {
                            t,
                            k: ks[j - 1],
                            detail: format!(
                                "call price not convex in strike (slopes {prev:.6e} then {slope:.6e})"
                            ),
                        });
                    }
                }
            }
        }
        Ok(s)
    }

    fn w_slice(&self, i: usize, k: f64) -> f64 {
        let ks = &self.log_moneyness;
        let t = self.expiries[i];
        let w = |j: usize| self.vols[i][j] * self.vols[i][j] * t;
        let n = ks.len();
        if k <= ks[0] {
            return w(0);
        }
        if k >= ks[n - 1] {
            return w(n - 1);
        }
        let j = ks.partition_point(|&x| x <= k) - 1;
        w(j) + (w(j + 1) - w(j)) * (k - ks[j]) / (ks[j + 1] - ks[j])
    }

    /// Total variance at (t, k).
    pub fn total_variance(&self, t: f64, k: f64) -> Result<f64> {
        check_query(t, k)?;
        Ok(interp_in_t(&self.expiries, t, |i| self.w_slice(i, k)))
    }

    /// Implied vol at (t, k) = √(w/t).
    pub fn implied_vol(&self, t: f64, k: f64) -> Result<f64> {
        Ok((self.total_variance(t, k)? / t).sqrt())
    }
}

/// Raw SVI parameters of one expiry (Gatheral 2004).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SviParams {
    /// Level a.
    pub a: f64,
    /// Wing slope b ≥ 0.
    pub b: f64,
    /// Skew ρ, |ρ| < 1.
    pub rho: f64,
    /// Shift m.
    pub m: f64,
    /// Curvature σ > 0.
    pub sigma: f64,
}

impl SviParams {
    /// `w(k) = a + b(ρ(k − m) + √((k − m)² + σ²))`.
    pub fn total_variance(&self, k: f64) -> f64 {
        let x = k - self.m;
        self.a + self.b * (self.rho * x + (x * x + self.sigma * self.sigma).sqrt())
    }

    /// Durrleman's g(k) = (1 − k w'/(2w))² − (w'²/4)(1/w + 1/4) + w''/2; the risk-neutral
    /// density is non-negative iff g ≥ 0 (Gatheral & Jacquier 2014, eq. 2.1).
    pub fn durrleman_g(&self, k: f64) -> f64 {
        let x = k - self.m;
        let r = (x * x + self.sigma * self.sigma).sqrt();
        let w = self.total_variance(k);
        let w1 = self.b * (self.rho + x / r);
        let w2 = self.b * self.sigma * self.sigma / (r * r * r);
        let a = 1.0 - k * w1 / (2.0 * w);
        a * a - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2
    }

    /// Parameter conditions and Durrleman's condition on [−3, 3].
    pub fn validate(&self, t: f64) -> Result<()> {
        let bad = |rule| Err(OptionsError::InvalidSvi { t, rule });
        if ![self.a, self.b, self.rho, self.m, self.sigma]
            .iter()
            .all(|x| x.is_finite())
        {
            return bad("all parameters must be finite");
        }
        if self.b < 0.0 {
            return bad("b must be >= 0");
        }
        if self.rho.abs() >= 1.0 {
            return bad("|rho| must be < 1");
        }
        if self.sigma <= 0.0 {
            return bad("sigma must be > 0");
        }
        // Minimum of w is a + bσ√(1−ρ²): must be ≥ 0 (Gatheral 2004).
        if self.a + self.b * self.sigma * (1.0 - self.rho * self.rho).sqrt() < 0.0 {
            return bad("a + b·sigma·sqrt(1 - rho²) must be >= 0 (negative variance)");
        }
        for k in check_grid() {
            if self.total_variance(k) <= 0.0 {
                return Err(OptionsError::ButterflyArbitrage {
                    t,
                    k,
                    detail: "total variance not positive".into(),
                });
            }
            let g = self.durrleman_g(k);
            if g < 0.0 {
                return Err(OptionsError::ButterflyArbitrage {
                    t,
                    k,
                    detail: format!("Durrleman g(k) = {g:.3e} < 0 (negative density)"),
                });
            }
        }
        Ok(())
    }
}

/// SVI slices per expiry.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SviSurface {
    expiries: Vec<f64>,
    slices: Vec<SviParams>,
}

impl SviSurface {
    /// Builds and validates: each slice as in [`SviParams::validate`], and no calendar arbitrage
    /// between consecutive slices on the k grid [−3, 3].
    pub fn new(slices: Vec<(f64, SviParams)>) -> Result<Self> {
        let expiries: Vec<f64> = slices.iter().map(|s| s.0).collect();
        strictly_increasing("expiries", &expiries)?;
        positive("expiries[0]", expiries[0])?;
        for (t, p) in &slices {
            p.validate(*t)?;
        }
        for w in slices.windows(2) {
            let ((t0, p0), (t1, p1)) = (w[0], w[1]);
            for k in check_grid() {
                let (w0, w1) = (p0.total_variance(k), p1.total_variance(k));
                if w1 < w0 {
                    return Err(OptionsError::CalendarArbitrage {
                        k,
                        t_earlier: t0,
                        t_later: t1,
                        w_earlier: w0,
                        w_later: w1,
                    });
                }
            }
        }
        Ok(Self {
            expiries,
            slices: slices.into_iter().map(|s| s.1).collect(),
        })
    }

    /// Total variance at (t, k).
    pub fn total_variance(&self, t: f64, k: f64) -> Result<f64> {
        check_query(t, k)?;
        Ok(interp_in_t(&self.expiries, t, |i| {
            self.slices[i].total_variance(k)
        }))
    }

    /// Implied vol at (t, k).
    pub fn implied_vol(&self, t: f64, k: f64) -> Result<f64> {
        Ok((self.total_variance(t, k)? / t).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svi(a: f64) -> SviParams {
        SviParams {
            a,
            b: 0.1,
            rho: -0.4,
            m: 0.0,
            sigma: 0.2,
        }
    }

    #[test]
    fn svi_surface_accepts_good_and_rejects_bad() {
        let s = SviSurface::new(vec![(0.25, svi(0.01)), (1.0, svi(0.04))]).unwrap();
        let v = s.implied_vol(0.5, 0.0).unwrap();
        assert!(v > 0.0 && v.is_finite());
        // Calendar arbitrage: later slice lower everywhere.
        assert!(matches!(
            SviSurface::new(vec![(0.25, svi(0.04)), (1.0, svi(0.01))]),
            Err(OptionsError::CalendarArbitrage { .. })
        ));
        // Parameter violation.
        assert!(matches!(
            SviSurface::new(vec![(
                0.25,
                SviParams {
                    rho: 1.2,
                    ..svi(0.01)
                }
            )]),
            Err(OptionsError::InvalidSvi { .. })
        ));
        // Durrleman violation: very steep wings with tiny curvature (Gatheral & Jacquier 2014
        // §2.2 show such slices have negative density).
        let steep = SviParams {
            a: 0.0001,
            b: 2.0,
            rho: -0.9,
            m: 0.0,
            sigma: 0.01,
        };
        assert!(matches!(
            SviSurface::new(vec![(0.1, steep)]),
            Err(OptionsError::ButterflyArbitrage { .. })
        ));
    }

    #[test]
    fn grid_surface_interpolates_and_validates() {
        let ks = vec![-0.2, 0.0, 0.2];
        let g = GridSurface::new(
            vec![0.1, 0.5],
            ks.clone(),
            vec![vec![0.7, 0.6, 0.65], vec![0.68, 0.6, 0.63]],
        )
        .unwrap();
        // At a node.
        assert!((g.implied_vol(0.1, 0.0).unwrap() - 0.6).abs() < 1e-15);
        // Flat in k beyond the grid, flat vol beyond the last expiry.
        assert!((g.implied_vol(0.5, 1.0).unwrap() - 0.63).abs() < 1e-15);
        assert!((g.implied_vol(2.0, 0.0).unwrap() - 0.6).abs() < 1e-15);
        // Calendar arbitrage.
        assert!(matches!(
            GridSurface::new(
                vec![0.1, 0.5],
                ks.clone(),
                vec![vec![0.7, 0.6, 0.65], vec![0.2, 0.2, 0.2]]
            ),
            Err(OptionsError::CalendarArbitrage { .. })
        ));
        // Non-positive vol.
        assert!(matches!(
            GridSurface::new(vec![0.1], ks.clone(), vec![vec![0.7, 0.0, 0.65]]),
            Err(OptionsError::InvalidInput { field: "vol", .. })
        ));
        // Butterfly: a spike in the middle makes the call price non-convex.
        assert!(matches!(
            GridSurface::new(vec![0.1], ks, vec![vec![0.3, 1.5, 0.3]]),
            Err(OptionsError::ButterflyArbitrage { .. })
        ));
    }
}
