//! A pool's standard option-margin constants, governed like every other risk parameter.
//!
//! A short option needs its mark plus `max(α − OTM/S, β)·S` per unit (Deribit "Margin for
//! options"; the Cboe/OCC short-option rule `max(α·S − OTM, β·S)` has the same shape), with
//! one (α, β) pair for initial and one for maintenance health. The defaults are the constants
//! the engine used before these became parameters (initial 0.15/0.10, maintenance
//! 0.075/0.075), so a pool that never changes them margins exactly as before; they are left
//! out of the state's JSON while untouched, so its state hash is unchanged too.
//!
//! Invariant: maintenance never asks more than initial. `max(αm − x, βm) ≤ max(αi − x, βi)`
//! for every moneyness `x` exactly when `αm ≤ αi` and `βm ≤ βi`, so both pairs are ordered.

use crate::num::{Ratio, RATIO_SCALE};
use crate::params::ParamSpec;
use serde::{Deserialize, Serialize};

/// One governed option-margin constant of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionMarginField {
    /// α for initial health: the add-on at the money, fraction of spot.
    InitAlpha,
    /// β for initial health: the add-on's floor far out of the money.
    InitBeta,
    /// α for maintenance health.
    MaintAlpha,
    /// β for maintenance health.
    MaintBeta,
}

impl OptionMarginField {
    pub const ALL: [OptionMarginField; 4] = [
        OptionMarginField::InitAlpha,
        OptionMarginField::InitBeta,
        OptionMarginField::MaintAlpha,
        OptionMarginField::MaintBeta,
    ];

    /// Hard bounds [1 %, 100 %] of spot; a change moves a constant by at most a fifth of its
    /// value, or half a percent of spot when that is larger (Aave Risk Stewards'
    /// `maxPercentChange`).
    pub fn spec(self) -> ParamSpec {
        ParamSpec::relative(permille(10), permille(1000), permille(5), permille(200))
    }
}

const fn permille(x: i64) -> i64 {
    x * (RATIO_SCALE / 1000)
}

/// The (α, β) pairs of a pool (raw ratios, 1e9 = 1.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionMarginParams {
    pub init_alpha: Ratio,
    pub init_beta: Ratio,
    pub maint_alpha: Ratio,
    pub maint_beta: Ratio,
}

impl Default for OptionMarginParams {
    fn default() -> Self {
        OptionMarginParams {
            init_alpha: Ratio(permille(150)),
            init_beta: Ratio(permille(100)),
            maint_alpha: Ratio(permille(75)),
            maint_beta: Ratio(permille(75)),
        }
    }
}

/// A change that would let maintenance ask more than initial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{maintenance:?} must not exceed {initial:?}")]
pub struct MaintenanceAboveInitial {
    pub maintenance: OptionMarginField,
    pub initial: OptionMarginField,
}

impl OptionMarginParams {
    pub fn is_default(&self) -> bool {
        *self == OptionMarginParams::default()
    }

    pub fn get(&self, f: OptionMarginField) -> i64 {
        use OptionMarginField::*;
        match f {
            InitAlpha => self.init_alpha.0,
            InitBeta => self.init_beta.0,
            MaintAlpha => self.maint_alpha.0,
            MaintBeta => self.maint_beta.0,
        }
    }

    pub fn set(&mut self, f: OptionMarginField, v: i64) {
        use OptionMarginField::*;
        let slot = match f {
            InitAlpha => &mut self.init_alpha,
            InitBeta => &mut self.init_beta,
            MaintAlpha => &mut self.maint_alpha,
            MaintBeta => &mut self.maint_beta,
        };
        *slot = Ratio(v);
    }

    /// Maintenance α ≤ initial α and maintenance β ≤ initial β (bounds are the registry's).
    pub fn validate(&self) -> Result<(), MaintenanceAboveInitial> {
        use OptionMarginField::*;
        for (maintenance, initial) in [(MaintAlpha, InitAlpha), (MaintBeta, InitBeta)] {
            if self.get(maintenance) > self.get(initial) {
                return Err(MaintenanceAboveInitial {
                    maintenance,
                    initial,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_former_constants_and_ordered() {
        let p = OptionMarginParams::default();
        let f = |r: Ratio| r.0 as f64 / RATIO_SCALE as f64;
        assert_eq!(
            [
                f(p.init_alpha),
                f(p.init_beta),
                f(p.maint_alpha),
                f(p.maint_beta)
            ],
            [0.15, 0.10, 0.075, 0.075]
        );
        assert_eq!(p.validate(), Ok(()));
        let mut q = p;
        q.set(OptionMarginField::MaintBeta, p.init_beta.0 + 1);
        assert_eq!(
            q.validate(),
            Err(MaintenanceAboveInitial {
                maintenance: OptionMarginField::MaintBeta,
                initial: OptionMarginField::InitBeta
            })
        );
    }
}
