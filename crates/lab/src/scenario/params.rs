//! Scenario tables → engine parameters (`MarketParams`, `PoolParams`, `LiquidationParams`),
//! validated by the engine's own rules; errors name the scenario field.

use super::{CurveSpec, LiquidationSpec, MarketSpec, MechanismSpec, Scenario};
use crate::error::LabError;
use crate::units::usd;
use ballast_engine::num::Ratio;
use ballast_engine::params::{
    AuctionCurve, LiquidationParams, MarketParams, Mechanism, PoolParams,
};

fn ratio(field: &str, x: f64) -> Result<Ratio, String> {
    Ratio::from_f64(x).ok_or_else(|| format!("{field} is not a finite ratio ({x})"))
}

/// Engine market parameters from a scenario market spec, validated by the engine's own rules.
pub fn market_params(m: &MarketSpec) -> Result<MarketParams, String> {
    // Start from the engine's defaults and set what the scenario controls, so parameters the
    // engine adds later keep their defaults instead of breaking the lab.
    let mut p = ballast_engine::demo::market_params();
    p.init_margin = ratio("init_margin", m.init_margin)?;
    p.maint_margin = ratio("maint_margin", m.maint_margin)?;
    p.imf = ratio("imf", m.imf)?;
    p.taker_fee = ratio("taker_fee", m.taker_fee)?;
    p.maker_fee = ratio("maker_fee", m.maker_fee)?;
    p.price_band = ratio("price_band", m.price_band)?;
    p.funding_cap = ratio("funding_cap", m.funding_cap)?;
    p.validate().map_err(|e| e.to_string())?;
    Ok(p)
}

pub fn pool_params(sc: &Scenario) -> Result<PoolParams, LabError> {
    let p = &sc.protocol.pool;
    let r =
        |f: &str, x: f64| ratio(f, x).map_err(|e| LabError::field(format!("protocol.pool.{f}"), e));
    let mut params = ballast_engine::demo::pool_params();
    params.curve.base = r("base_rate", p.base_rate)?;
    params.curve.slope1 = r("slope1", p.slope1)?;
    params.curve.slope2 = r("slope2", p.slope2)?;
    params.curve.optimal_utilization = r("optimal_utilization", p.optimal_utilization)?;
    params.curve.reserve_factor = r("reserve_factor", p.reserve_factor)?;
    params.supply_cap = usd(p.supply_cap);
    params.borrow_cap = usd(p.borrow_cap);
    params
        .validate()
        .map_err(|e| LabError::field("protocol.pool", e.to_string()))?;
    Ok(params)
}

/// The engine's `LiquidationParams` from the scenario (engine defaults for unset fields);
/// errors name the field.
pub fn liquidation_params(spec: &LiquidationSpec) -> Result<LiquidationParams, LabError> {
    let mut p = LiquidationParams {
        mechanism: match spec.mechanism {
            MechanismSpec::EngineAuction => Mechanism::DutchAuction,
            _ => Mechanism::KeeperTakeover,
        },
        // The lab seeds the initial fund through fees (world::genesis): all fees go to it.
        insurance_fee_share: Ratio::from_f64(1.0).expect("finite"),
        ..LiquidationParams::default()
    };
    let field = |name: &str| format!("protocol.liquidation.{name}");
    let r = |name: &str, x: f64| {
        Ratio::from_f64(x)
            .filter(|_| x.is_finite() && x >= 0.0)
            .ok_or_else(|| LabError::field(field(name), format!("must be a ratio >= 0 (got {x})")))
    };
    let ms = |name: &str, x: f64| {
        if x.is_finite() && x > 0.0 {
            Ok((x * 60_000.0).round() as i64)
        } else {
            Err(LabError::field(
                field(name),
                format!("must be a positive number of minutes (got {x})"),
            ))
        }
    };
    p.penalty = r("penalty", spec.penalty)?;
    macro_rules! set_ratio {
        ($($f:ident),*) => {$(
            if let Some(x) = spec.$f { p.$f = r(stringify!($f), x)?; }
        )*};
    }
    set_ratio!(
        penalty_max,
        liquidator_share,
        liquidator_share_max,
        close_factor,
        full_close_deficit,
        target_buffer,
        insurance_fee_share,
        auction_buf,
        auction_cut,
        auction_cusp,
        auction_floor,
        auction_chip
    );
    if let Some(x) = spec.dust_usd {
        p.dust = usd(r("dust_usd", x)?.to_f64()).0;
    }
    if let Some(x) = spec.auction_tip_usd {
        p.auction_tip = usd(r("auction_tip_usd", x)?.to_f64()).0;
    }
    if let Some(c) = spec.auction_curve {
        p.auction_curve = match c {
            CurveSpec::Linear => AuctionCurve::Linear,
            CurveSpec::Stairstep => AuctionCurve::Stairstep,
            CurveSpec::Exponential => AuctionCurve::Exponential,
        };
    }
    if let Some(x) = spec.auction_tau_min {
        p.auction_tau_ms = ms("auction_tau_min", x)?;
    }
    if let Some(x) = spec.auction_step_min {
        p.auction_step_ms = ms("auction_step_min", x)?;
    }
    if let Some(x) = spec.auction_tail_min {
        p.auction_tail_ms = ms("auction_tail_min", x)?;
    }
    p.validate()
        .map_err(|e| LabError::field("protocol.liquidation", e.to_string()))?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast_engine::params::Mechanism;

    #[test]
    fn params_from_scenario_name_the_field() {
        let mut spec = LiquidationSpec {
            mechanism: MechanismSpec::EngineAuction,
            auction_tail_min: Some(45.0),
            auction_cusp: Some(0.6),
            ..LiquidationSpec::default()
        };
        let p = liquidation_params(&spec).unwrap();
        assert_eq!(p.mechanism, Mechanism::DutchAuction);
        assert_eq!(p.auction_tail_ms, 45 * 60_000);
        assert_eq!(p.auction_cusp, Ratio::from_f64(0.6).unwrap());
        spec.close_factor = Some(-0.5);
        let e = liquidation_params(&spec).unwrap_err().to_string();
        assert!(e.contains("protocol.liquidation.close_factor"), "{e}");
        spec.close_factor = Some(0.01); // below the engine's 10% bound
        let e = liquidation_params(&spec).unwrap_err().to_string();
        assert!(e.contains("protocol.liquidation"), "{e}");
    }
}
