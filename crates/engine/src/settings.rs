//! Governed protective settings: the thresholds of circuit breakers, the aggregation rules of
//! multi-source oracles and the volatility-margin add-on, each a governed key with hard bounds
//! and a max step (like the risk parameters in [`crate::params`]).
//!
//! Once installed, these settings change only through `Propose`/`Execute`, in place: a
//! breaker keeps its mode and history, an oracle its quotes and last trusted price, an add-on
//! its level. Re-installing one is refused, because it would reset that protective state at
//! once (the bypass Aave's Risk Stewards close with per-parameter `maxPercentChange` and
//! `minDelay`, and Maker with its GSM delay).
//!
//! Raw units: dimensionless values are [`Ratio`]s (1e9 = 1.0), times are milliseconds, counts
//! are counts. The configs hold `f64`; conversion rounds to the nearest raw unit.

use crate::num::RATIO_SCALE;
use ballast_oracle::aggregate::AggregatorConfig;
use ballast_oracle::breaker::BreakerConfig;
use serde::{Deserialize, Serialize};

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// `x` (a real number) in raw ratio units.
const fn r(x_milli: i64) -> i64 {
    x_milli * (RATIO_SCALE / 1000)
}

fn to_raw(x: f64) -> i64 {
    // Configs are validated finite; bounds are far inside i64 at this scale.
    libm::round(x * RATIO_SCALE as f64) as i64
}

fn from_raw(v: i64) -> f64 {
    v as f64 / RATIO_SCALE as f64
}

/// A circuit breaker's governed threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerField {
    CautiousSigma,
    HaltSigma,
    CongestionCautious,
    CongestionHalt,
    CooldownMs,
    GraceMs,
    GraceLiquidationHealth,
    CautiousMarginMultiplier,
    RecoveringMarginMultiplier,
    HaltedMarginMultiplier,
}

impl BreakerField {
    /// Hard bounds and max step `(min, max, max_step)` in raw units (see
    /// [`crate::params::ParamSpec`]).
    pub fn bounds(self) -> (i64, i64, i64) {
        use BreakerField::*;
        let (min, max, max_step) = match self {
            CautiousSigma => (r(1000), r(20_000), r(1000)),
            HaltSigma => (r(1000), r(50_000), r(2000)),
            CongestionCautious => (r(100), r(100_000), r(1000)),
            CongestionHalt => (r(100), r(1_000_000), r(5000)),
            CooldownMs => (MINUTE, DAY, HOUR),
            GraceMs => (0, DAY, HOUR),
            GraceLiquidationHealth => (r(500), r(1000), r(50)),
            CautiousMarginMultiplier | RecoveringMarginMultiplier | HaltedMarginMultiplier => {
                (r(1000), r(5000), r(250))
            }
        };
        (min, max, max_step)
    }
    pub fn get(self, c: &BreakerConfig) -> i64 {
        use BreakerField::*;
        match self {
            CautiousSigma => to_raw(c.cautious_sigma),
            HaltSigma => to_raw(c.halt_sigma),
            CongestionCautious => to_raw(c.congestion_cautious),
            CongestionHalt => to_raw(c.congestion_halt),
            CooldownMs => c.cooldown_ms,
            GraceMs => c.grace_ms,
            GraceLiquidationHealth => to_raw(c.grace_liquidation_health),
            CautiousMarginMultiplier => to_raw(c.cautious_margin_multiplier),
            RecoveringMarginMultiplier => to_raw(c.recovering_margin_multiplier),
            HaltedMarginMultiplier => to_raw(c.halted_margin_multiplier),
        }
    }
    pub fn set(self, c: &mut BreakerConfig, v: i64) {
        use BreakerField::*;
        match self {
            CautiousSigma => c.cautious_sigma = from_raw(v),
            HaltSigma => c.halt_sigma = from_raw(v),
            CongestionCautious => c.congestion_cautious = from_raw(v),
            CongestionHalt => c.congestion_halt = from_raw(v),
            CooldownMs => c.cooldown_ms = v,
            GraceMs => c.grace_ms = v,
            GraceLiquidationHealth => c.grace_liquidation_health = from_raw(v),
            CautiousMarginMultiplier => c.cautious_margin_multiplier = from_raw(v),
            RecoveringMarginMultiplier => c.recovering_margin_multiplier = from_raw(v),
            HaltedMarginMultiplier => c.halted_margin_multiplier = from_raw(v),
        }
    }
    /// Whether the raw value is a [`crate::num::Ratio`] (else milliseconds).
    pub fn is_ratio(self) -> bool {
        !matches!(self, BreakerField::CooldownMs | BreakerField::GraceMs)
    }
}

/// A multi-source oracle's governed aggregation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OracleField {
    Quorum,
    MaxStalenessMs,
    OutlierK,
    OutlierFloor,
    OutlierTolerance,
    MaxOutlierWeight,
    MaxSpread,
    MaxConfidence,
    MaxSourceConfidence,
    MaxHoldMs,
}

impl OracleField {
    /// Hard bounds and max step `(min, max, max_step)` in raw units (see
    /// [`crate::params::ParamSpec`]).
    pub fn bounds(self) -> (i64, i64, i64) {
        use OracleField::*;
        let (min, max, max_step) = match self {
            Quorum => (1, ballast_oracle::aggregate::MAX_SOURCES as i64, 1),
            MaxStalenessMs => (SECOND, HOUR, 5 * MINUTE),
            OutlierK => (r(1000), r(20_000), r(1000)),
            OutlierFloor => (0, r(100), r(5)),
            OutlierTolerance => (0, r(50), r(2) + r(1) / 2),
            MaxOutlierWeight => (0, r(900), r(100)),
            MaxSpread => (r(1), r(500), r(10)),
            MaxConfidence => (r(1) / 2, r(200), r(5)),
            MaxSourceConfidence => (r(1), r(500), r(10)),
            MaxHoldMs => (0, DAY, 10 * MINUTE),
        };
        (min, max, max_step)
    }
    pub fn get(self, c: &AggregatorConfig) -> i64 {
        use OracleField::*;
        match self {
            Quorum => c.quorum as i64,
            MaxStalenessMs => c.max_staleness_ms,
            OutlierK => to_raw(c.outlier_k),
            OutlierFloor => to_raw(c.outlier_floor),
            OutlierTolerance => to_raw(c.outlier_tolerance),
            MaxOutlierWeight => to_raw(c.max_outlier_weight),
            MaxSpread => to_raw(c.max_spread),
            MaxConfidence => to_raw(c.max_confidence),
            MaxSourceConfidence => to_raw(c.max_source_confidence),
            MaxHoldMs => c.max_hold_ms,
        }
    }
    pub fn set(self, c: &mut AggregatorConfig, v: i64) {
        use OracleField::*;
        match self {
            // Bounds (1..=32) are checked before a value is set.
            Quorum => c.quorum = v.clamp(1, ballast_oracle::aggregate::MAX_SOURCES as i64) as usize,
            MaxStalenessMs => c.max_staleness_ms = v,
            OutlierK => c.outlier_k = from_raw(v),
            OutlierFloor => c.outlier_floor = from_raw(v),
            OutlierTolerance => c.outlier_tolerance = from_raw(v),
            MaxOutlierWeight => c.max_outlier_weight = from_raw(v),
            MaxSpread => c.max_spread = from_raw(v),
            MaxConfidence => c.max_confidence = from_raw(v),
            MaxSourceConfidence => c.max_source_confidence = from_raw(v),
            MaxHoldMs => c.max_hold_ms = v,
        }
    }
    /// Whether the raw value is a [`crate::num::Ratio`] (else a count or milliseconds).
    pub fn is_ratio(self) -> bool {
        use OracleField::*;
        !matches!(self, Quorum | MaxStalenessMs | MaxHoldMs)
    }
}

/// A volatility-margin add-on's governed setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolMarginField {
    /// Multiplier on the horizon volatility.
    K,
    /// Liquidation horizon, in sampling intervals.
    Horizon,
    /// Largest change of the add-on per interval.
    MaxStep,
}

impl VolMarginField {
    /// Hard bounds and max step `(min, max, max_step)` in raw units (see
    /// [`crate::params::ParamSpec`]).
    pub fn bounds(self) -> (i64, i64, i64) {
        let (min, max, max_step) = match self {
            VolMarginField::K => (0, r(100_000), r(500)),
            VolMarginField::Horizon => (r(1) / 10, r(1_000_000), r(4000)),
            VolMarginField::MaxStep => (r(1) / 1000, r(100), r(10)),
        };
        (min, max, max_step)
    }
    pub fn get(self, c: &crate::volmargin::VolMarginConfig) -> i64 {
        match self {
            VolMarginField::K => to_raw(c.k),
            VolMarginField::Horizon => to_raw(c.horizon),
            VolMarginField::MaxStep => to_raw(c.max_step),
        }
    }
    pub fn set(self, c: &mut crate::volmargin::VolMarginConfig, v: i64) {
        match self {
            VolMarginField::K => c.k = from_raw(v),
            VolMarginField::Horizon => c.horizon = from_raw(v),
            VolMarginField::MaxStep => c.max_step = from_raw(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_inside_their_bounds_and_round_trip() {
        let b = BreakerConfig::default();
        for f in [
            BreakerField::CautiousSigma,
            BreakerField::HaltSigma,
            BreakerField::CooldownMs,
            BreakerField::HaltedMarginMultiplier,
        ] {
            let (v, (min, max, _)) = (f.get(&b), f.bounds());
            assert!(min <= v && v <= max, "{f:?} = {v}");
            let mut c = b;
            f.set(&mut c, v);
            assert_eq!(f.get(&c), v);
        }
        let a = AggregatorConfig::default();
        for f in [
            OracleField::Quorum,
            OracleField::OutlierTolerance,
            OracleField::MaxSpread,
            OracleField::MaxHoldMs,
        ] {
            let (v, (min, max, _)) = (f.get(&a), f.bounds());
            assert!(min <= v && v <= max, "{f:?} = {v}");
        }
        // Every step is smaller than its range: the step limit means something.
        for (min, max, step) in [
            BreakerField::CooldownMs.bounds(),
            OracleField::MaxHoldMs.bounds(),
            VolMarginField::K.bounds(),
        ] {
            assert!(step < max - min);
        }
    }
}
