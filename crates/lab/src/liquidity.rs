//! The liquidity model the keepers unwind into: an impact in the notional relative to a depth
//! that thins as volatility rises (`[liquidity]`). One impact function, [`Slippage::impact`],
//! serves the keepers' slippage, the whale's dump and the reflexive impact of liquidation flow
//! (the `reflexive` module).

use crate::scenario::{Impact, Scenario};

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

    /// The keepers' slippage: linear impact capped at `max_slippage`.
    pub fn fraction(&self, notional_usd: f64, step_return: f64) -> f64 {
        self.impact(Impact::Linear, notional_usd, step_return, self.max_slippage)
    }

    /// The price move of trading `notional_usd` into the depth this step, capped at `cap`
    /// (0 with infinite depth). `Linear`: `1% · q` with `q = notional / depth_eff` (the
    /// permanent linear impact of Almgren & Chriss 2000, "Optimal execution of portfolio
    /// transactions"); `Sqrt`: `1% · √q` (the square-root law of Tóth et al. 2011, "Anomalous
    /// price impact and the critical nature of liquidity in financial markets"), equal to the
    /// linear one at `notional = depth_eff` and larger below it.
    pub fn impact(&self, shape: Impact, notional_usd: f64, step_return: f64, cap: f64) -> f64 {
        let Some(d) = self.depth_usd else {
            return 0.0;
        };
        let eff = d / (1.0 + self.vol_sensitivity * step_return.abs() / 0.01);
        let q = notional_usd / eff;
        let s = match shape {
            Impact::Off => 0.0,
            Impact::Linear => 0.01 * q,
            Impact::Sqrt => 0.01 * libm::sqrt(q),
        };
        s.min(cap)
    }
}
