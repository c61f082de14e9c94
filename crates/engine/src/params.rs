//! Governed risk parameters: typed values with hard bounds, a maximum change per step and
//! cross-parameter invariants. Every parameter a pool or market uses is listed in
//! [`ParamKey`], so governance can reach each one and nothing else. The protective settings
//! (breakers, oracles, volatility margin) have their fields in [`crate::settings`].

use crate::ids::{AssetId, MarketId, PoolId};
use crate::num::{Amount, Ratio, RATIO_SCALE};
use crate::rates::RateCurve;
use crate::settings::{BreakerField, OracleField, VolMarginField};
use serde::{Deserialize, Serialize};

/// Risk parameters of one perpetual market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Largest long open interest (= short open interest), base-native units: a fill that
    /// raises it beyond is refused (Hyperliquid and GMX cap open interest per market).
    /// Documented default when absent: `i64::MAX` (no cap beyond the ledger's types).
    #[serde(default = "unbounded")]
    pub max_open_interest: Amount,
    /// Largest position of one account, as a share of `max_open_interest`, so no single
    /// account takes the whole cap. Documented default when absent: 100 %.
    #[serde(default = "whole")]
    pub max_account_oi_share: Ratio,
    /// Length of a liquidation-capacity window, ms (Synthetix v3 perps: 30 s windows).
    /// Documented default when absent: one minute.
    #[serde(default = "minute")]
    pub liquidation_window_ms: i64,
    /// Largest base amount keepers may take over in one window on this market, so a cascade
    /// is paced (Synthetix v3 `maxLiquidationLimitAccumulationMultiplier`); a bankrupt account
    /// is never held back. Documented default when absent: `i64::MAX` (no limit).
    #[serde(default = "unbounded")]
    pub max_liquidation_per_window: Amount,
}

fn minute() -> i64 {
    60_000
}

fn whole() -> Ratio {
    Ratio(RATIO_SCALE)
}

/// Risk parameters of a pool's quote-asset lending market.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolParams {
    pub curve: RateCurve,
    /// Maximum total quote deposits.
    pub supply_cap: Amount,
    /// Maximum total quote borrows.
    pub borrow_cap: Amount,
    /// Largest notional of one perp position (quote-native units, at the fill price): a fill
    /// that would leave either side above it is refused. Documented default when absent:
    /// `i64::MAX`, i.e. only the checked arithmetic of the ledger limits it.
    #[serde(default = "unbounded")]
    pub max_position_notional: Amount,
    /// Largest value an account may hold (quote balance plus collateral at oracle value, in
    /// quote-native units): a deposit or transfer in beyond it is refused. Same documented
    /// default as `max_position_notional`.
    #[serde(default = "unbounded")]
    pub max_account_value: Amount,
    /// Option taker fee as a share of the underlying's notional (Deribit: 0.03 %). Documented
    /// default when absent: 0.03 %.
    #[serde(default = "default_option_fee")]
    pub option_fee: Ratio,
    /// Cap of the option taker fee as a share of the premium (Deribit: 12.5 %). Documented
    /// default when absent: 12.5 %.
    #[serde(default = "default_option_fee_cap")]
    pub option_fee_cap: Ratio,
}

fn default_option_fee() -> Ratio {
    Ratio(bps(3))
}

fn default_option_fee_cap() -> Ratio {
    Ratio(RATIO_SCALE / 8)
}

/// Default of the pool's domain limits: the type's own limit.
fn unbounded() -> Amount {
    Amount(i64::MAX)
}

/// Haircuts of one collateral asset in one pool: value counted = value × weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    MaxOpenInterest,
    MaxAccountOiShare,
    LiquidationWindowMs,
    MaxLiquidationPerWindow,
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
    MaxPositionNotional,
    MaxAccountValue,
    OptionFee,
    OptionFeeCap,
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
    /// A pool's liquidation, auction, insurance or ADL parameter.
    Liquidation {
        pool: PoolId,
        field: LiquidationField,
    },
    /// A threshold of a market's circuit breaker.
    MarketBreaker {
        market: MarketId,
        field: BreakerField,
    },
    /// A threshold of a pool's circuit breaker.
    PoolBreaker {
        pool: PoolId,
        field: BreakerField,
    },
    /// An aggregation rule of an asset's multi-source oracle.
    Oracle {
        asset: AssetId,
        field: OracleField,
    },
    /// A setting of a market's volatility-margin add-on.
    VolMargin {
        market: MarketId,
        field: VolMarginField,
    },
    /// A pool's auction breaker level 0–3 (Maker Clipper `stopped`). `SetAuctionBreaker` may
    /// only raise it at once (the emergency stop, Maker's ClipperMom); lowering it goes
    /// through the timelock like any change (Maker: `file("stopped")` behind the GSM delay).
    AuctionBreaker {
        pool: PoolId,
    },
    /// A pool's portfolio-margin input (shock ranges, factor, contingencies, a correlation).
    Portfolio {
        pool: PoolId,
        field: crate::portfolio::PortfolioField,
    },
    /// A pool's standard option-margin constant (α or β, initial or maintenance).
    OptionMargin {
        pool: PoolId,
        field: crate::option_margin::OptionMarginField,
    },
    /// One cell of the oracle validity matrix: which prices an action may use under a status.
    /// A switch of rule, so it waits [`DISCRETE_DELAY_FACTOR`] min-delays; new risk on a
    /// divergent or quorum-less price is out of its bounds (see [`validity_spec`]).
    Validity {
        action: ballast_oracle::validity::Action,
        status: ballast_oracle::aggregate::OracleStatus,
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
            ParamKey::Liquidation { pool, field } => write!(f, "{pool}.{}", name(field)),
            ParamKey::MarketBreaker { market, field } => {
                write!(f, "{market}.breaker.{}", name(field))
            }
            ParamKey::PoolBreaker { pool, field } => write!(f, "{pool}.breaker.{}", name(field)),
            ParamKey::Oracle { asset, field } => write!(f, "{asset}.oracle.{}", name(field)),
            ParamKey::VolMargin { market, field } => {
                write!(f, "{market}.vol_margin.{}", name(field))
            }
            ParamKey::AuctionBreaker { pool } => write!(f, "{pool}.auction_breaker"),
            ParamKey::Portfolio { pool, field } => match field {
                crate::portfolio::PortfolioField::Correlation { a, b } => {
                    write!(f, "{pool}.portfolio.correlation.{a}.{b}")
                }
                other => write!(f, "{pool}.portfolio.{}", name(other)),
            },
            ParamKey::OptionMargin { pool, field } => {
                write!(f, "{pool}.option_margin.{}", name(field))
            }
            ParamKey::Validity { action, status } => {
                write!(f, "validity.{}.{}", name(action), name(status))
            }
        }
    }
}

impl ParamKey {
    /// A raw value of this parameter for people: ratios as fractions, caps as raw amounts.
    pub fn format_value(&self, v: i64) -> String {
        match self {
            ParamKey::Pool {
                field:
                    PoolField::SupplyCap
                    | PoolField::BorrowCap
                    | PoolField::MaxPositionNotional
                    | PoolField::MaxAccountValue,
                ..
            } => v.to_string(),
            ParamKey::Liquidation { field, .. } if !field.is_ratio() => v.to_string(),
            ParamKey::Market {
                field:
                    MarketField::MaxOpenInterest
                    | MarketField::LiquidationWindowMs
                    | MarketField::MaxLiquidationPerWindow,
                ..
            } => v.to_string(),
            ParamKey::MarketBreaker { field, .. } | ParamKey::PoolBreaker { field, .. }
                if !field.is_ratio() =>
            {
                v.to_string()
            }
            ParamKey::Oracle { field, .. } if !field.is_ratio() => v.to_string(),
            ParamKey::AuctionBreaker { .. } => v.to_string(),
            ParamKey::Validity { .. } => match ballast_oracle::validity::Rule::from_raw(v) {
                ballast_oracle::validity::Rule::Allow => "allow".to_string(),
                ballast_oracle::validity::Rule::Deny => "deny".to_string(),
                ballast_oracle::validity::Rule::AllowIfAgeWithin { max_age_ms } => {
                    format!("allow if age <= {max_age_ms} ms")
                }
            },
            _ => Ratio(v).to_string(),
        }
    }
}

/// Hard bounds and the largest change one executed proposal may make, in the raw unit of the
/// value. The step is `max(max_step, |current| · step_rel)`: an absolute step for rates, a
/// relative one for caps and limits whose scale depends on the asset (Aave Risk Stewards:
/// `maxPercentChange`). Two changes of the same key are at least the governance `min_delay_ms`
/// apart, or `DISCRETE_DELAY_FACTOR` times that for a switch between mechanisms or curves, whose
/// one step is the whole range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    pub min: i64,
    pub max: i64,
    pub max_step: i64,
    /// Relative step as a [`Ratio`] of the current value (0: none).
    pub step_rel: Ratio,
    /// An enum index (mechanism, curve): the longer delay applies.
    pub discrete: bool,
}

/// A switch of mechanism or curve waits this many min-delays after the previous one.
pub const DISCRETE_DELAY_FACTOR: i64 = 7;

impl ParamSpec {
    pub const fn absolute(min: i64, max: i64, max_step: i64) -> Self {
        ParamSpec {
            min,
            max,
            max_step,
            step_rel: Ratio(0),
            discrete: false,
        }
    }
    /// A cap or limit: moved by at most `rel` of its current value per change, or by
    /// `floor` when that is larger (so a cap at 0 can be opened).
    pub const fn relative(min: i64, max: i64, floor: i64, rel: i64) -> Self {
        ParamSpec {
            min,
            max,
            max_step: floor,
            step_rel: Ratio(rel),
            discrete: false,
        }
    }
    const fn discrete(min: i64, max: i64) -> Self {
        ParamSpec {
            min,
            max,
            max_step: 1,
            step_rel: Ratio(0),
            discrete: true,
        }
    }
    /// The largest change allowed from `current`.
    pub fn allowed_step(&self, current: i64) -> i64 {
        let rel = (current.unsigned_abs() as i128 * self.step_rel.0 as i128 / RATIO_SCALE as i128)
            .min(i64::MAX as i128) as i64;
        self.max_step.max(rel)
    }
}

/// Smallest step of a cap (supply, borrow, position, account, auction hole), native units:
/// 1 M of a 6-decimal quote asset.
pub const CAP_STEP_FLOOR: i64 = 1_000_000_000_000;

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
            InitMargin => ParamSpec::absolute(pct(1), pct(100), pct(5)),
            MaintMargin => ParamSpec::absolute(bps(50), pct(50), pct(3)),
            Imf => ParamSpec::absolute(0, pct(1), bps(10)),
            TakerFee => ParamSpec::absolute(0, pct(1), bps(5)),
            MakerFee => ParamSpec::absolute(-bps(5), pct(1), bps(5)),
            PriceBand => ParamSpec::absolute(bps(10), pct(50), pct(5)),
            FundingCap => ParamSpec::absolute(bps(1), pct(10), pct(1)),
            MaxOpenInterest => ParamSpec::relative(1, i64::MAX, CAP_STEP_FLOOR, pct(100)),
            MaxAccountOiShare => ParamSpec::absolute(pct(1), pct(100), pct(10)),
            LiquidationWindowMs => ParamSpec::absolute(1000, 3_600_000, 600_000),
            MaxLiquidationPerWindow => ParamSpec::relative(1, i64::MAX, CAP_STEP_FLOOR, pct(100)),
        }
    }
}

impl PoolField {
    pub fn spec(self) -> ParamSpec {
        use PoolField::*;
        match self {
            BaseRate => ParamSpec::absolute(0, pct(20), pct(2)),
            Slope1 => ParamSpec::absolute(0, pct(50), pct(5)),
            Slope2 => ParamSpec::absolute(0, pct(500), pct(50)),
            OptimalUtilization => ParamSpec::absolute(pct(10), pct(99), pct(10)),
            ReserveFactor => ParamSpec::absolute(0, pct(50), pct(5)),
            // At most doubled (or cut to zero) per change, or moved by 10^12 native units.
            SupplyCap | BorrowCap => ParamSpec::relative(0, i64::MAX, CAP_STEP_FLOOR, pct(100)),
            MaxPositionNotional | MaxAccountValue => {
                ParamSpec::relative(1, i64::MAX, CAP_STEP_FLOOR, pct(100))
            }
            OptionFee => ParamSpec::absolute(0, bps(50), bps(5)),
            OptionFeeCap => ParamSpec::absolute(0, pct(50), pct(5)),
        }
    }
}

impl CollateralField {
    pub fn spec(self) -> ParamSpec {
        ParamSpec::absolute(0, pct(100), pct(10))
    }
}

impl ParamKey {
    pub fn spec(&self) -> ParamSpec {
        match self {
            ParamKey::Market { field, .. } => field.spec(),
            ParamKey::Pool { field, .. } => field.spec(),
            ParamKey::Collateral { field, .. } => field.spec(),
            ParamKey::Liquidation { field, .. } => field.spec(),
            ParamKey::MarketBreaker { field, .. } | ParamKey::PoolBreaker { field, .. } => {
                let (min, max, step) = field.bounds();
                ParamSpec::absolute(min, max, step)
            }
            ParamKey::Oracle { field, .. } => {
                let (min, max, step) = field.bounds();
                ParamSpec::absolute(min, max, step)
            }
            ParamKey::VolMargin { field, .. } => {
                let (min, max, step) = field.bounds();
                ParamSpec::absolute(min, max, step)
            }
            ParamKey::AuctionBreaker { .. } => ParamSpec {
                max_step: 3,
                ..ParamSpec::discrete(0, 3)
            },
            ParamKey::Portfolio { field, .. } => field.spec(),
            ParamKey::OptionMargin { field, .. } => field.spec(),
            ParamKey::Validity { action, status } => validity_spec(*action, *status),
        }
    }
}

/// Bounds of one validity cell, raw as [`ballast_oracle::validity::Rule::raw`] (the oldest
/// price the action may use: deny < any age limit < allow). Deposits and repayments are
/// always allowed; new risk (trade, withdraw, borrow) is never allowed on a divergent or
/// quorum-less price, the prices behind the Mango 2022 loss (Drift v2 oracle validity: no
/// new risk on an invalid oracle; Aave v3 PriceOracleSentinel). One step is the whole range.
pub fn validity_spec(
    action: ballast_oracle::validity::Action,
    status: ballast_oracle::aggregate::OracleStatus,
) -> ParamSpec {
    use ballast_oracle::validity::Rule;
    let (min, max) = if action.always_allowed() {
        (Rule::ALLOW_RAW, Rule::ALLOW_RAW)
    } else if ballast_oracle::validity::never_allowed(action, status) {
        (Rule::DENY_RAW, Rule::DENY_RAW)
    } else {
        (Rule::DENY_RAW, Rule::ALLOW_RAW)
    };
    ParamSpec {
        min,
        max,
        max_step: i64::MAX,
        step_rel: Ratio(0),
        discrete: true,
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
            MaxOpenInterest => self.max_open_interest.0,
            MaxAccountOiShare => self.max_account_oi_share.0,
            LiquidationWindowMs => self.liquidation_window_ms,
            MaxLiquidationPerWindow => self.max_liquidation_per_window.0,
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
            MaxOpenInterest => self.max_open_interest = Amount(v),
            MaxAccountOiShare => self.max_account_oi_share = r,
            LiquidationWindowMs => self.liquidation_window_ms = v,
            MaxLiquidationPerWindow => self.max_liquidation_per_window = Amount(v),
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
            MaxOpenInterest,
            MaxAccountOiShare,
            LiquidationWindowMs,
            MaxLiquidationPerWindow,
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
            MaxPositionNotional => self.max_position_notional.0,
            MaxAccountValue => self.max_account_value.0,
            OptionFee => self.option_fee.0,
            OptionFeeCap => self.option_fee_cap.0,
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
            MaxPositionNotional => self.max_position_notional = Amount(v),
            MaxAccountValue => self.max_account_value = Amount(v),
            OptionFee => self.option_fee = Ratio(v),
            OptionFeeCap => self.option_fee_cap = Ratio(v),
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
            MaxPositionNotional,
            MaxAccountValue,
            OptionFee,
            OptionFeeCap,
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

/// How a pool closes accounts below maintenance. Chosen per pool and swappable by governance
/// ([`LiquidationField::Mechanism`]); both run through the same sizing, penalty and waterfall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// A keeper takes the lot over at the oracle price and is paid its share of the penalty
    /// (oracle minus a discount, as Drift v2 / Mango v4 liquidators do).
    KeeperTakeover,
    /// The lot is sold in a descending-price auction (Maker Liquidations 2.0 `Clipper`).
    DutchAuction,
}

/// Price decrease of a Dutch auction (Maker `abaci.sol`: `LinearDecrease`, `StairstepExponentialDecrease`,
/// `ExponentialDecrease`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuctionCurve {
    /// `top · max(0, 1 − t/τ)`.
    Linear,
    /// `top · cut^⌊t/step⌋`.
    Stairstep,
    /// `top · cut^t`, `t` in whole seconds.
    Exponential,
}

/// Liquidation, auction, insurance and loss parameters of one pool. Amounts are quote-native
/// units, times milliseconds, the rest [`Ratio`]s. A journal may give only some fields; the
/// rest take their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiquidationParams {
    pub mechanism: Mechanism,
    /// Penalty rate on the liquidated value at the maintenance boundary.
    pub penalty: Ratio,
    /// Penalty rate when the account's weighted equity reaches zero; in between the rate grows
    /// with the square of the deficit (see `engine::liquidation::penalty_rate`).
    pub penalty_max: Ratio,
    /// Liquidator's share of the penalty (the rest goes to the pool's insurance fund).
    pub liquidator_share: Ratio,
    /// Cap of the liquidator's share as it rises with time under stress.
    pub liquidator_share_max: Ratio,
    /// The liquidator share starts rising this long after an account's liquidation began and
    /// reaches its cap after twice as long (Drift v2: the fee rises after ~10 minutes).
    pub reward_ramp_ms: i64,
    /// Largest fraction of a lot one liquidation may take (Aave close factor).
    pub close_factor: Ratio,
    /// From this deficit (−health/requirement) on, the close factor is 100% (Aave v3: HF < 0.95).
    pub full_close_deficit: Ratio,
    /// A partial liquidation restores `health ≥ target_buffer × requirement` (Derive's buffer margin).
    pub target_buffer: Ratio,
    /// Smallest lot value; a remainder below it is taken whole (Maker `dust`).
    pub dust: i64,
    /// Share of trading fees routed from the fee account to the insurance fund.
    pub insurance_fee_share: Ratio,
    /// Auction start price `top = buf × oracle` (Maker `buf`).
    pub auction_buf: Ratio,
    pub auction_curve: AuctionCurve,
    /// Linear curve: time to reach zero (Maker `tau`).
    pub auction_tau_ms: i64,
    /// Stairstep / exponential: multiplier per step / per second (Maker `cut`).
    pub auction_cut: Ratio,
    /// Stairstep: length of one step (Maker `step`).
    pub auction_step_ms: i64,
    /// An auction older than this needs a reset (Maker `tail`).
    pub auction_tail_ms: i64,
    /// An auction whose price fell below `cusp × top` needs a reset (Maker `cusp`).
    pub auction_cusp: Ratio,
    /// The price never falls below `floor × oracle at start` (0 = no floor).
    pub auction_floor: Ratio,
    /// Flat keeper incentive for starting or resetting an auction (Maker `tip`).
    pub auction_tip: i64,
    /// Keeper incentive proportional to the lot value (Maker `chip`).
    pub auction_chip: Ratio,
    /// Cap on the value in auction at once in this pool (Maker Dog `hole`).
    pub auction_hole: i64,
}

impl Default for LiquidationParams {
    fn default() -> Self {
        LiquidationParams {
            mechanism: Mechanism::KeeperTakeover,
            penalty: Ratio(pct(2)),
            penalty_max: Ratio(pct(5)),
            liquidator_share: Ratio(pct(50)),
            liquidator_share_max: Ratio(pct(80)),
            reward_ramp_ms: 10 * 60 * 1000,
            close_factor: Ratio(pct(50)),
            full_close_deficit: Ratio(pct(50)),
            target_buffer: Ratio(pct(2)),
            dust: 10_000_000,
            insurance_fee_share: Ratio(0),
            auction_buf: Ratio(pct(110)),
            auction_curve: AuctionCurve::Linear,
            auction_tau_ms: 3600 * 1000,
            auction_cut: Ratio(pct(99)),
            auction_step_ms: 60 * 1000,
            auction_tail_ms: 30 * 60 * 1000,
            auction_cusp: Ratio(pct(40)),
            auction_floor: Ratio(0),
            auction_tip: 1_000_000,
            auction_chip: Ratio(bps(10)),
            auction_hole: 1_000_000_000_000_000,
        }
    }
}

/// A liquidation parameter's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiquidationField {
    Mechanism,
    Penalty,
    PenaltyMax,
    LiquidatorShare,
    LiquidatorShareMax,
    RewardRampMs,
    CloseFactor,
    FullCloseDeficit,
    TargetBuffer,
    Dust,
    InsuranceFeeShare,
    AuctionBuf,
    AuctionCurve,
    AuctionTauMs,
    AuctionCut,
    AuctionStepMs,
    AuctionTailMs,
    AuctionCusp,
    AuctionFloor,
    AuctionTip,
    AuctionChip,
    AuctionHole,
}

impl LiquidationField {
    pub const ALL: [LiquidationField; 22] = {
        use LiquidationField::*;
        [
            Mechanism,
            Penalty,
            PenaltyMax,
            LiquidatorShare,
            LiquidatorShareMax,
            RewardRampMs,
            CloseFactor,
            FullCloseDeficit,
            TargetBuffer,
            Dust,
            InsuranceFeeShare,
            AuctionBuf,
            AuctionCurve,
            AuctionTauMs,
            AuctionCut,
            AuctionStepMs,
            AuctionTailMs,
            AuctionCusp,
            AuctionFloor,
            AuctionTip,
            AuctionChip,
            AuctionHole,
        ]
    };

    /// Whether the raw value is a [`Ratio`] (else an amount, a time or an enum index).
    pub fn is_ratio(self) -> bool {
        use LiquidationField::*;
        !matches!(
            self,
            Mechanism
                | RewardRampMs
                | Dust
                | AuctionCurve
                | AuctionTauMs
                | AuctionStepMs
                | AuctionTailMs
                | AuctionTip
                | AuctionHole
        )
    }

    pub fn spec(self) -> ParamSpec {
        use LiquidationField::*;
        const MIN: i64 = 60 * 1000;
        const DAY: i64 = 24 * 60 * MIN;
        const HOUR: i64 = 60 * MIN;
        let (min, max, max_step) = match self {
            Mechanism => return ParamSpec::discrete(0, 1),
            AuctionCurve => return ParamSpec::discrete(0, 2),
            AuctionHole => return ParamSpec::relative(0, i64::MAX, CAP_STEP_FLOOR, pct(100)),
            Penalty => (0, pct(20), pct(2)),
            PenaltyMax => (0, pct(30), pct(5)),
            LiquidatorShare | LiquidatorShareMax => (0, pct(100), pct(20)),
            RewardRampMs => (0, DAY, HOUR),
            CloseFactor => (pct(10), pct(100), pct(25)),
            FullCloseDeficit => (0, pct(100), pct(25)),
            TargetBuffer => (0, pct(50), pct(5)),
            Dust => (0, 1_000_000_000_000, 10_000_000_000),
            InsuranceFeeShare => (0, pct(100), pct(10)),
            AuctionBuf => (pct(50), pct(200), pct(10)),
            AuctionTauMs => (1000, DAY, HOUR),
            AuctionCut => (pct(50), pct(100), pct(5)),
            AuctionStepMs => (1000, 60 * MIN, 10 * MIN),
            AuctionTailMs => (MIN, DAY, HOUR),
            AuctionCusp => (0, pct(100), pct(20)),
            AuctionFloor => (0, pct(100), pct(10)),
            AuctionTip => (0, 1_000_000_000_000, 1_000_000_000),
            AuctionChip => (0, pct(1), bps(10)),
        };
        ParamSpec::absolute(min, max, max_step)
    }
}

impl LiquidationParams {
    pub fn get(&self, f: LiquidationField) -> i64 {
        use LiquidationField::*;
        match f {
            Mechanism => self.mechanism as i64,
            Penalty => self.penalty.0,
            PenaltyMax => self.penalty_max.0,
            LiquidatorShare => self.liquidator_share.0,
            LiquidatorShareMax => self.liquidator_share_max.0,
            RewardRampMs => self.reward_ramp_ms,
            CloseFactor => self.close_factor.0,
            FullCloseDeficit => self.full_close_deficit.0,
            TargetBuffer => self.target_buffer.0,
            Dust => self.dust,
            InsuranceFeeShare => self.insurance_fee_share.0,
            AuctionBuf => self.auction_buf.0,
            AuctionCurve => self.auction_curve as i64,
            AuctionTauMs => self.auction_tau_ms,
            AuctionCut => self.auction_cut.0,
            AuctionStepMs => self.auction_step_ms,
            AuctionTailMs => self.auction_tail_ms,
            AuctionCusp => self.auction_cusp.0,
            AuctionFloor => self.auction_floor.0,
            AuctionTip => self.auction_tip,
            AuctionChip => self.auction_chip.0,
            AuctionHole => self.auction_hole,
        }
    }
    /// Sets a field from its raw value (bounds are checked by [`Self::validate`]; an enum
    /// index out of range maps to its last variant and is refused there by the bounds).
    pub fn set(&mut self, f: LiquidationField, v: i64) {
        use LiquidationField::*;
        let r = Ratio(v);
        match f {
            Mechanism => {
                self.mechanism = if v == 0 {
                    self::Mechanism::KeeperTakeover
                } else {
                    self::Mechanism::DutchAuction
                }
            }
            Penalty => self.penalty = r,
            PenaltyMax => self.penalty_max = r,
            LiquidatorShare => self.liquidator_share = r,
            LiquidatorShareMax => self.liquidator_share_max = r,
            RewardRampMs => self.reward_ramp_ms = v,
            CloseFactor => self.close_factor = r,
            FullCloseDeficit => self.full_close_deficit = r,
            TargetBuffer => self.target_buffer = r,
            Dust => self.dust = v,
            InsuranceFeeShare => self.insurance_fee_share = r,
            AuctionBuf => self.auction_buf = r,
            AuctionCurve => {
                self.auction_curve = match v {
                    0 => self::AuctionCurve::Linear,
                    1 => self::AuctionCurve::Stairstep,
                    _ => self::AuctionCurve::Exponential,
                }
            }
            AuctionTauMs => self.auction_tau_ms = v,
            AuctionCut => self.auction_cut = r,
            AuctionStepMs => self.auction_step_ms = v,
            AuctionTailMs => self.auction_tail_ms = v,
            AuctionCusp => self.auction_cusp = r,
            AuctionFloor => self.auction_floor = r,
            AuctionTip => self.auction_tip = v,
            AuctionChip => self.auction_chip = r,
            AuctionHole => self.auction_hole = v,
        }
    }
    /// Every field within bounds; the base penalty no larger than its maximum; the base
    /// liquidator share no larger than its cap; the auction floor below its start.
    pub fn validate(&self) -> Result<(), InvariantError> {
        for f in LiquidationField::ALL {
            check(f, self.get(f), f.spec())?;
        }
        if self.penalty > self.penalty_max {
            return Err(InvariantError::Rule("penalty must not exceed penalty_max"));
        }
        if self.liquidator_share > self.liquidator_share_max {
            return Err(InvariantError::Rule(
                "liquidator_share must not exceed liquidator_share_max",
            ));
        }
        if self.auction_floor >= self.auction_buf {
            return Err(InvariantError::Rule(
                "auction_floor must be below auction_buf",
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
            max_open_interest: Amount(i64::MAX),
            max_account_oi_share: Ratio(RATIO_SCALE),
            liquidation_window_ms: 60_000,
            max_liquidation_per_window: Amount(i64::MAX),
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
