//! Volatility-adjusted perpetual margin: an add-on to a market's margin rates that follows a
//! volatility forecast from the index price history, moving at most `max_step` per interval so
//! margin never jumps in one tick.
//!
//! Forecasts: EWMA `σ²_t = λσ²_{t−1} + (1−λ)r²_t` (J.P. Morgan/Reuters, RiskMetrics Technical
//! Document, 1996; λ = 0.94 daily) or GARCH(1,1) `σ²_t = ω + α r²_{t−1} + β σ²_{t−1}` with
//! α + β < 1 (Bollerslev 1986). Add-on `k·σ·√horizon` through
//! [`ballast_options::volforecast::VolAdjustedRate`]. Returns are log returns between the first
//! price seen in consecutive intervals; a gap of several intervals is spread over them.

use crate::num::Ratio;
use ballast_options::volforecast::{VolAdjustedRate, VolMarginParams};
use serde::{Deserialize, Serialize};

/// Which forecast drives the add-on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum VolModel {
    Ewma { lambda: f64 },
    Garch { omega: f64, alpha: f64, beta: f64 },
}

/// Settings of a market's volatility add-on (per-interval units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolMarginConfig {
    pub model: VolModel,
    /// Sampling interval of returns (e.g. one hour).
    pub interval_ms: i64,
    /// Multiplier on the horizon volatility.
    pub k: f64,
    /// Liquidation horizon, in intervals.
    pub horizon: f64,
    /// Largest change of the add-on per interval (fraction of notional).
    pub max_step: f64,
}

/// Why a volatility-margin configuration was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid volatility margin: {0}")]
pub struct VolMarginError(pub String);

/// Live state of a market's volatility add-on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolMargin {
    pub config: VolMarginConfig,
    /// Current per-interval variance forecast.
    pub variance: Option<f64>,
    /// Interval number and the first price seen in it.
    pub last: Option<(i64, f64)>,
    rate: VolAdjustedRate,
    /// Current add-on, rounded up to the ratio scale.
    pub addon: Ratio,
}

impl VolMargin {
    pub fn new(config: VolMarginConfig) -> Result<Self, VolMarginError> {
        let bad = |m: &str| Err(VolMarginError(m.to_string()));
        match config.model {
            VolModel::Ewma { lambda } if !(lambda > 0.0 && lambda < 1.0) => {
                return bad("lambda must be in (0, 1)")
            }
            VolModel::Garch { omega, alpha, beta } => {
                ballast_options::volforecast::Garch11::new(omega, alpha, beta)
                    .map_err(|e| VolMarginError(e.to_string()))?;
            }
            _ => {}
        }
        if config.interval_ms <= 0 {
            return bad("interval_ms must be > 0");
        }
        if !(config.k.is_finite() && config.k <= 100.0) {
            return bad("k must be finite and at most 100");
        }
        let params = VolMarginParams {
            base: 0.0,
            k: config.k,
            horizon: config.horizon,
            max_step: config.max_step,
        };
        let rate = VolAdjustedRate::new(params, 0.0).map_err(|e| VolMarginError(e.to_string()))?;
        Ok(VolMargin {
            config,
            variance: None,
            last: None,
            rate,
            addon: Ratio::ZERO,
        })
    }

    /// Governance changes `k`, the horizon or the step in place: the variance forecast and the
    /// current add-on stay, and the add-on then moves toward its new target by at most
    /// `max_step` per interval, as always. The model and interval cannot change in place.
    pub fn reconfigure(&mut self, config: VolMarginConfig) -> Result<(), VolMarginError> {
        if config.model != self.config.model || config.interval_ms != self.config.interval_ms {
            return Err(VolMarginError(
                "the model and interval cannot change in place".to_string(),
            ));
        }
        let mut fresh = VolMargin::new(config)?;
        let current = self.addon.0 as f64 / crate::num::RATIO_SCALE as f64;
        fresh.rate = VolAdjustedRate::new(
            VolMarginParams {
                base: 0.0,
                k: config.k,
                horizon: config.horizon,
                max_step: config.max_step,
            },
            current,
        )
        .map_err(|e| VolMarginError(e.to_string()))?;
        self.config = config;
        self.rate = fresh.rate;
        Ok(())
    }

    /// Feeds a price at `now_ms`; returns the new add-on when it changed.
    pub fn observe(&mut self, now_ms: i64, price: f64) -> Option<Ratio> {
        let n = now_ms.div_euclid(self.config.interval_ms);
        let Some((m, p0)) = self.last else {
            self.last = Some((n, price));
            return None;
        };
        if n <= m || !(price > 0.0 && p0 > 0.0) {
            return None;
        }
        let r = libm::log(price / p0);
        // A return over several intervals counts as that many intervals of variance.
        let r2 = r * r / (n - m) as f64;
        let var = match (self.config.model, self.variance) {
            (VolModel::Ewma { lambda }, Some(v)) => lambda * v + (1.0 - lambda) * r2,
            (VolModel::Ewma { .. }, None) => r2,
            (VolModel::Garch { omega, alpha, beta }, v) => {
                omega + alpha * r2 + beta * v.unwrap_or(omega / (1.0 - alpha - beta))
            }
        };
        self.variance = Some(var);
        self.last = Some((n, price));
        let addon = self.rate.update(var.sqrt()).ok()?;
        let fixed = Ratio(
            (addon * crate::num::RATIO_SCALE as f64)
                .ceil()
                .clamp(0.0, crate::num::RATIO_SCALE as f64) as i64,
        );
        if fixed != self.addon {
            self.addon = fixed;
            Some(fixed)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(max_step: f64) -> VolMarginConfig {
        VolMarginConfig {
            model: VolModel::Ewma { lambda: 0.94 },
            interval_ms: 1000,
            k: 3.0,
            horizon: 4.0,
            max_step,
        }
    }

    #[test]
    fn addon_follows_volatility_in_bounded_steps() {
        let mut v = VolMargin::new(cfg(0.01)).unwrap();
        assert_eq!(v.observe(0, 100.0), None);
        // A 10% move: target 3·0.1·2 = 0.6, but the add-on moves 0.01 per interval.
        let a = v.observe(1000, 110.0).unwrap();
        assert_eq!(a, Ratio::from_f64(0.01).unwrap());
        let mut prev = a;
        for i in 2..20 {
            if let Some(a) = v.observe(i * 1000, 110.0) {
                assert!((a.0 - prev.0).abs() <= 10_000_001, "{a:?} after {prev:?}");
                prev = a;
            }
        }
        assert!(prev > Ratio::from_f64(0.15).unwrap());
        // Same interval: no new sample.
        assert_eq!(v.observe(19_500, 200.0), None);
    }

    #[test]
    fn bad_configs_are_refused() {
        let mut c = cfg(0.01);
        c.model = VolModel::Ewma { lambda: 1.0 };
        assert!(VolMargin::new(c).is_err());
        c.model = VolModel::Garch {
            omega: 1e-6,
            alpha: 0.5,
            beta: 0.6,
        };
        assert!(VolMargin::new(c).is_err());
        let mut c = cfg(0.0);
        assert!(VolMargin::new(c).is_err());
        c.max_step = 0.01;
        c.interval_ms = 0;
        assert!(VolMargin::new(c).is_err());
    }
}
