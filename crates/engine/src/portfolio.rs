//! A pool's portfolio-margin inputs, governed like every other risk parameter: the spot shock
//! range, the initial-to-maintenance factor, the vol-shock ranges, the contingencies, and the
//! correlation between each pair of underlyings (0 unless set). The scenario engine itself is
//! `ballast_options::portfolio`; this module only holds and checks its pool-level inputs.
//!
//! The defaults are the constants the engine used before these became parameters, so a pool
//! that never changes them margins exactly as before; they are left out of the state's JSON
//! while untouched, so its state hash is unchanged too.
//!
//! Portfolio margin as a correlated spot × vol scenario grid follows CME SPAN 2 / Eurex
//! Prisma; a governed, positive semi-definite correlation matrix per pool follows Prisma's
//! market-risk component (correlated risk-factor scenarios).

use crate::ids::AssetId;
use crate::num::{Ratio, RATIO_SCALE};
use crate::params::ParamSpec;
use serde::{Deserialize, Serialize};

/// One governed portfolio-margin input of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortfolioField {
    /// ± relative spot move of the scenario grid.
    SpotRange,
    /// Initial requirement = maintenance × this factor.
    InitialFactor,
    /// Largest relative vol-up shock at 30 days.
    VolRangeUp,
    /// Largest relative vol-down shock at 30 days.
    VolRangeDown,
    /// Contingency per short option contract, fraction of spot.
    ShortOptionPct,
    /// Contingency per unit of perp size, fraction of spot.
    PerpPct,
    /// Correlation of the spot moves of two underlyings (`a < b`), in [−1, 1].
    Correlation { a: AssetId, b: AssetId },
}

/// A pair's correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairCorrelation {
    pub a: AssetId,
    pub b: AssetId,
    pub rho: Ratio,
}

/// A pool's portfolio-margin inputs (raw ratios, 1e9 = 1.0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioParams {
    pub spot_range: Ratio,
    pub initial_factor: Ratio,
    pub vol_range_up: Ratio,
    pub vol_range_down: Ratio,
    pub short_option_pct: Ratio,
    pub perp_pct: Ratio,
    /// Set pairs, sorted by `(a, b)` with `a < b`; every other pair is 0.
    pub correlations: Vec<PairCorrelation>,
}

const fn milli(x: i64) -> Ratio {
    Ratio(x * (RATIO_SCALE / 1000))
}

impl Default for PortfolioParams {
    fn default() -> Self {
        PortfolioParams {
            spot_range: milli(200),
            initial_factor: milli(1250),
            vol_range_up: milli(500),
            vol_range_down: milli(250),
            short_option_pct: Ratio(5 * (RATIO_SCALE / 1000)),
            perp_pct: Ratio(0),
            correlations: Vec::new(),
        }
    }
}

impl PortfolioField {
    /// Hard bounds and max step per change.
    pub fn spec(self) -> ParamSpec {
        use PortfolioField::*;
        let (min, max, step) = match self {
            SpotRange => (milli(50), milli(500), milli(50)),
            InitialFactor => (milli(1000), milli(3000), milli(250)),
            VolRangeUp => (Ratio(0), milli(2000), milli(250)),
            VolRangeDown => (Ratio(0), milli(900), milli(100)),
            ShortOptionPct | PerpPct => (Ratio(0), milli(100), milli(10)),
            Correlation { .. } => (milli(-1000), milli(1000), milli(250)),
        };
        ParamSpec::absolute(min.0, max.0, step.0)
    }
}

/// Why a portfolio-margin change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PortfolioError {
    #[error("a correlation pair must name two assets in order (a < b)")]
    PairOrder,
    #[error("the correlation matrix would not be positive semi-definite")]
    NotPositiveSemiDefinite,
}

impl PortfolioParams {
    pub fn is_default(&self) -> bool {
        *self == PortfolioParams::default()
    }

    /// The correlation of two underlyings (1 on the diagonal, 0 unless set).
    pub fn rho(&self, a: AssetId, b: AssetId) -> f64 {
        if a == b {
            return 1.0;
        }
        let (a, b) = if a < b { (a, b) } else { (b, a) };
        self.correlations
            .iter()
            .find(|c| c.a == a && c.b == b)
            .map_or(0.0, |c| c.rho.0 as f64 / RATIO_SCALE as f64)
    }

    pub fn get(&self, f: PortfolioField) -> i64 {
        use PortfolioField::*;
        match f {
            SpotRange => self.spot_range.0,
            InitialFactor => self.initial_factor.0,
            VolRangeUp => self.vol_range_up.0,
            VolRangeDown => self.vol_range_down.0,
            ShortOptionPct => self.short_option_pct.0,
            PerpPct => self.perp_pct.0,
            Correlation { a, b } => (self.rho(a, b) * RATIO_SCALE as f64) as i64,
        }
    }

    pub fn set(&mut self, f: PortfolioField, v: i64) {
        use PortfolioField::*;
        match f {
            SpotRange => self.spot_range = Ratio(v),
            InitialFactor => self.initial_factor = Ratio(v),
            VolRangeUp => self.vol_range_up = Ratio(v),
            VolRangeDown => self.vol_range_down = Ratio(v),
            ShortOptionPct => self.short_option_pct = Ratio(v),
            PerpPct => self.perp_pct = Ratio(v),
            Correlation { a, b } => {
                self.correlations.retain(|c| (c.a, c.b) != (a, b));
                if v != 0 {
                    let at = self.correlations.partition_point(|c| (c.a, c.b) < (a, b));
                    let rho = Ratio(v);
                    self.correlations.insert(at, PairCorrelation { a, b, rho });
                }
            }
        }
    }

    /// Pairs in order, and a correlation matrix over every asset they name that is positive
    /// semi-definite (checked by the options crate's own validation, which margin uses).
    pub fn validate(&self) -> Result<(), PortfolioError> {
        if self.correlations.iter().any(|c| c.a >= c.b) {
            return Err(PortfolioError::PairOrder);
        }
        let mut assets: Vec<AssetId> = self.correlations.iter().flat_map(|c| [c.a, c.b]).collect();
        assets.sort();
        assets.dedup();
        let m: Vec<Vec<f64>> = assets
            .iter()
            .map(|&i| assets.iter().map(|&j| self.rho(i, j)).collect())
            .collect();
        if assets.len() > 1 && ballast_options::portfolio::validate_correlation(&m).is_err() {
            return Err(PortfolioError::NotPositiveSemiDefinite);
        }
        Ok(())
    }
}
