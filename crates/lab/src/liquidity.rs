//! The liquidity model the keepers unwind into: linear slippage in the notional relative to a
//! depth that thins as volatility rises (`[liquidity]`).

use crate::scenario::Scenario;

/// Slippage model: linear impact, `s = 1% · notional / depth_eff`, with
/// `depth_eff = depth / (1 + vol_sensitivity · |r| / 1%)`, capped at `max_slippage`.
#[derive(Debug, Clone, Copy)]
pub struct Slippage {
    pub depth_usd: Option<f64>,
    pub vol_sensitivity: f64,
    pub max_slippage: f64,
}

impl Slippage {
    pub fn new(sc: &Scenario) -> Slippage {
        Slippage {
            depth_usd: sc.liquidity.depth_usd,
            vol_sensitivity: sc.liquidity.vol_sensitivity,
            max_slippage: sc.liquidity.max_slippage,
        }
    }

    pub fn fraction(&self, notional_usd: f64, step_return: f64) -> f64 {
        match self.depth_usd {
            None => 0.0,
            Some(d) => {
                let eff = d / (1.0 + self.vol_sensitivity * step_return.abs() / 0.01);
                (0.01 * notional_usd / eff).min(self.max_slippage)
            }
        }
    }
}
