//! Governed risk parameters: typed values with hard bounds, a maximum change per step and
//! cross-parameter invariants. Every parameter a pool or market uses is listed in
//! [`ParamKey`], so governance can reach each one and nothing else.

use crate::ids::{AssetId, MarketId, PoolId};
use crate::num::{Amount, Ratio, RATIO_SCALE};
use crate::rates::RateCurve;
use serde::{Deserialize, Serialize};

/// Risk parameters of one perpetual market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MarketParams {
    /// Initial margin rate at small size.
    pub init_margin: Ratio,
    /// Maintenance margin rate at small size (≤ init).
    pub maint_margin: Ratio,
    /// Size-premium factor (Drift v2 IMF); 0 disables the premium.
    pub imf: Ratio,
    /// Fee charged to the taker on notional.
    pub taker_fee: Ratio,
    /// Fee charged to the maker on notional.
    pub maker_fee: Ratio,
    /// Fills further than this from the index price are rejected.
    pub price_band: Ratio,
    /// Clamp on the hourly funding rate.
    pub funding_cap: Ratio,
}

/// Risk parameters of a pool's quote-asset lending market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PoolParams {
    pub curve: RateCurve,
    /// Maximum total quote deposits.
    pub supply_cap: Amount,
    /// Maximum total quote borrows.
    pub borrow_cap: Amount,
}

/// Haircuts of one collateral asset in one pool: value counted = value × weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CollateralParams {
    pub asset: AssetId,
    /// Weight for initial health (≤ maint weight).
    pub init_weight: Ratio,
    /// Weight for maintenance health.
    pub maint_weight: Ratio,
}

/// A market parameter's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketField {
    InitMargin,
    MaintMargin,
    Imf,
    TakerFee,
    MakerFee,
    PriceBand,
    FundingCap,
}

/// A pool parameter's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolField {
    BaseRate,
    Slope1,
    Slope2,
    OptimalUtilization,
    ReserveFactor,
    SupplyCap,
    BorrowCap,
}

/// A collateral parameter's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollateralField {
    InitWeight,
    MaintWeight,
}

/// Names one governed parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum ParamKey {
    Market {
        market: MarketId,
        field: MarketField,
    },
    Pool {
        pool: PoolId,
        field: PoolField,
    },
    Collateral {
        pool: PoolId,
        asset: AssetId,
        field: CollateralField,
    },
}

impl std::fmt::Display for ParamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = |x: &dyn std::fmt::Debug| {
            let s = format!("{x:?}");
            let mut out = String::new();
            for (i, ch) in s.chars().enumerate() {
                if ch.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(ch.to_ascii_lowercase());
            }
            out
        };
        match self {
            ParamKey::Market { market, field } => write!(f, "{market}.{}", name(field)),
            ParamKey::Pool { pool, field } => write!(f, "{pool}.{}", name(field)),
            ParamKey::Collateral { pool, asset, field } => {
                write!(f, "{pool}.{asset}.{}", name(field))
            }
        }
    }
}

impl ParamKey {
    /// A raw value of this parameter for people: ratios as fractions, caps as raw amounts.
    pub fn format_value(&self, v: i64) -> String {
        match self {
            ParamKey::Pool {
                field: PoolField::SupplyCap | PoolField::BorrowCap,
                ..
            } => v.to_string(),
            _ => Ratio(v).to_string(),
        }
    }
}

/// Hard bounds and the largest change one proposal may make, in the raw unit of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    pub min: i64,
    pub max: i64,
    pub max_step: i64,
}

const fn pct(x: i64) -> i64 {
    x * (RATIO_SCALE / 100)
}
const fn bps(x: i64) -> i64 {
    x * (RATIO_SCALE / 10_000)
}

impl MarketField {
    pub fn spec(self) -> ParamSpec {
        use MarketField::*;
        match self {
            InitMargin => ParamSpec {
                min: pct(1),
                max: pct(100),
                max_step: pct(5),
            },
            MaintMargin => ParamSpec {
                min: bps(50),
                max: pct(50),
                max_step: pct(3),
            },
            Imf => ParamSpec {
                min: 0,
                max: pct(1),
                max_step: bps(10),
            },
            TakerFee => ParamSpec {
                min: 0,
                max: pct(1),
                max_step: bps(5),
            },
            MakerFee => ParamSpec {
                min: -bps(5),
                max: pct(1),
                max_step: bps(5),
            },
            PriceBand => ParamSpec {
                min: bps(10),
                max: pct(50),
                max_step: pct(5),
            },
            FundingCap => ParamSpec {
                min: bps(1),
                max: pct(10),
                max_step: pct(1),
            },
        }
    }
}

impl PoolField {
    pub fn spec(self) -> ParamSpec {
        use PoolField::*;
        match self {
            BaseRate => ParamSpec {
                min: 0,
                max: pct(20),
                max_step: pct(2),
            },
            Slope1 => ParamSpec {
                min: 0,
                max: pct(50),
                max_step: pct(5),
            },
            Slope2 => ParamSpec {
                min: 0,
                max: pct(500),
                max_step: pct(50),
            },
            OptimalUtilization => ParamSpec {
                min: pct(10),
                max: pct(99),
                max_step: pct(10),
            },
            ReserveFactor => ParamSpec {
                min: 0,
                max: pct(50),
                max_step: pct(5),
            },
            SupplyCap | BorrowCap => ParamSpec {
                min: 0,
                max: i64::MAX,
                max_step: i64::MAX,
            },
        }
    }
}

impl CollateralField {
    pub fn spec(self) -> ParamSpec {
        ParamSpec {
            min: 0,
            max: pct(100),
            max_step: pct(10),
        }
    }
}

impl ParamKey {
    pub fn spec(&self) -> ParamSpec {
        match self {
            ParamKey::Market { field, .. } => field.spec(),
            ParamKey::Pool { field, .. } => field.spec(),
            ParamKey::Collateral { field, .. } => field.spec(),
        }
    }
}

/// A rule that ties parameters together was broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantError {
    #[error("{field:?} = {value} is outside its bounds [{min}, {max}]")]
    OutOfBounds {
        field: String,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("{0}")]
    Rule(&'static str),
}

fn check(field: impl std::fmt::Debug, value: i64, spec: ParamSpec) -> Result<(), InvariantError> {
    if value < spec.min || value > spec.max {
        return Err(InvariantError::OutOfBounds {
            field: format!("{field:?}"),
            value,
            min: spec.min,
            max: spec.max,
        });
    }
    Ok(())
}

impl MarketParams {
    pub fn get(&self, f: MarketField) -> i64 {
        use MarketField::*;
        match f {
            InitMargin => self.init_margin.0,
            MaintMargin => self.maint_margin.0,
            Imf => self.imf.0,
            TakerFee => self.taker_fee.0,
            MakerFee => self.maker_fee.0,
            PriceBand => self.price_band.0,
            FundingCap => self.funding_cap.0,
        }
    }
    pub fn set(&mut self, f: MarketField, v: i64) {
        use MarketField::*;
        let r = Ratio(v);
        match f {
            InitMargin => self.init_margin = r,
            MaintMargin => self.maint_margin = r,
            Imf => self.imf = r,
            TakerFee => self.taker_fee = r,
            MakerFee => self.maker_fee = r,
            PriceBand => self.price_band = r,
            FundingCap => self.funding_cap = r,
        }
    }
    /// Every field within bounds; maintenance below initial; maker rebate no larger than the
    /// taker fee (so a fill never pays out more fees than it takes in).
    pub fn validate(&self) -> Result<(), InvariantError> {
        use MarketField::*;
        for f in [
            InitMargin,
            MaintMargin,
            Imf,
            TakerFee,
            MakerFee,
            PriceBand,
            FundingCap,
        ] {
            check(f, self.get(f), f.spec())?;
        }
        if self.maint_margin >= self.init_margin {
            return Err(InvariantError::Rule(
                "maint_margin must be below init_margin",
            ));
        }
        if self.taker_fee.0 + self.maker_fee.0 < 0 {
            return Err(InvariantError::Rule("maker rebate exceeds taker fee"));
        }
        Ok(())
    }
}

impl PoolParams {
    pub fn get(&self, f: PoolField) -> i64 {
        use PoolField::*;
        match f {
            BaseRate => self.curve.base.0,
            Slope1 => self.curve.slope1.0,
            Slope2 => self.curve.slope2.0,
            OptimalUtilization => self.curve.optimal_utilization.0,
            ReserveFactor => self.curve.reserve_factor.0,
            SupplyCap => self.supply_cap.0,
            BorrowCap => self.borrow_cap.0,
        }
    }
    pub fn set(&mut self, f: PoolField, v: i64) {
        use PoolField::*;
        match f {
            BaseRate => self.curve.base = Ratio(v),
            Slope1 => self.curve.slope1 = Ratio(v),
            Slope2 => self.curve.slope2 = Ratio(v),
            OptimalUtilization => self.curve.optimal_utilization = Ratio(v),
            ReserveFactor => self.curve.reserve_factor = Ratio(v),
            SupplyCap => self.supply_cap = Amount(v),
            BorrowCap => self.borrow_cap = Amount(v),
        }
    }
    pub fn validate(&self) -> Result<(), InvariantError> {
        use PoolField::*;
        for f in [
            BaseRate,
            Slope1,
            Slope2,
            OptimalUtilization,
            ReserveFactor,
            SupplyCap,
            BorrowCap,
        ] {
            check(f, self.get(f), f.spec())?;
        }
        if self.borrow_cap > self.supply_cap {
            return Err(InvariantError::Rule(
                "borrow_cap must not exceed supply_cap",
            ));
        }
        Ok(())
    }
}

impl CollateralParams {
    pub fn get(&self, f: CollateralField) -> i64 {
        match f {
            CollateralField::InitWeight => self.init_weight.0,
            CollateralField::MaintWeight => self.maint_weight.0,
        }
    }
    pub fn set(&mut self, f: CollateralField, v: i64) {
        match f {
            CollateralField::InitWeight => self.init_weight = Ratio(v),
            CollateralField::MaintWeight => self.maint_weight = Ratio(v),
        }
    }
    pub fn validate(&self) -> Result<(), InvariantError> {
        use CollateralField::*;
        for f in [InitWeight, MaintWeight] {
            check(f, self.get(f), f.spec())?;
        }
        if self.init_weight > self.maint_weight {
            return Err(InvariantError::Rule(
                "init_weight must not exceed maint_weight",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market() -> MarketParams {
        MarketParams {
            init_margin: Ratio(pct(10)),
            maint_margin: Ratio(pct(5)),
            imf: Ratio(0),
            taker_fee: Ratio(bps(5)),
            maker_fee: Ratio(bps(2)),
            price_band: Ratio(pct(5)),
            funding_cap: Ratio(pct(1)),
        }
    }

    #[test]
    fn market_invariants() {
        assert!(market().validate().is_ok());
        let mut m = market();
        m.maint_margin = m.init_margin;
        assert!(matches!(m.validate(), Err(InvariantError::Rule(_))));
        let mut m = market();
        m.init_margin = Ratio(pct(200));
        assert!(matches!(
            m.validate(),
            Err(InvariantError::OutOfBounds { .. })
        ));
    }

    #[test]
    fn get_set_round_trip() {
        let mut m = market();
        for f in [
            MarketField::Imf,
            MarketField::TakerFee,
            MarketField::PriceBand,
        ] {
            m.set(f, 123);
            assert_eq!(m.get(f), 123);
        }
    }
}
