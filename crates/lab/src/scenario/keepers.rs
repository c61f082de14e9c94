//! Competing keepers (`[[keepers]]`): the bidders of the engine mechanisms when more than the
//! one default keeper is wanted. Each entry is one engine account with its own capital, gas
//! budget, latency, profit threshold and online schedule (the `keepers` module runs them).
//!
//! Why several: on Black Thursday (2020-03-12) the Maker auctions cleared at the best bid of
//! the few keepers still online: gas spiked, keeper scripts did not raise their gas price, and
//! 36 % of the liquidations were won with zero bids, 8.32 M USD of ETH for 0 DAI and 5.67 M
//! DAI of protocol debt (Whiterabbit, "Black Thursday for MakerDAO: $8.32 million was
//! liquidated for 0 DAI", 2020-03-14; MakerDAO forum, "Black Thursday Response Thread").

use crate::error::LabError;
use serde::{Deserialize, Serialize};

/// One keeper: an engine account that starts, resets and bids on liquidations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeeperSpec {
    /// Quote capital of its account, USD: it must pass initial margin on every slice it takes
    /// (the engine checks), so a lot larger than `capital / init_margin` is taken in slices.
    pub capital_usd: f64,
    /// Most it spends on gas in one step, USD (every start, reset, take or unwind costs the
    /// step's gas); absent: no budget. A gas spike both raises each action's cost and cuts the
    /// number of actions the budget pays for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gas_budget_usd: Option<f64>,
    /// Milliseconds into each step before it can act (block position, infrastructure).
    #[serde(default)]
    pub latency_ms: u32,
    /// It acts only when an action (with the auction incentive it earned, less gas and
    /// slippage) pays at least this, USD.
    #[serde(default)]
    pub min_profit_usd: f64,
    /// Probability of being online in a step, drawn on the keeper's own ChaCha stream.
    #[serde(default = "d_online")]
    pub online_probability: f64,
    /// `[start, end)` step ranges during which this keeper is offline (on top of
    /// `faults.keeper_outage`, which takes every keeper down).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offline_windows: Vec<[u32; 2]>,
}

fn d_online() -> f64 {
    1.0
}

/// Most keepers a scenario may list.
pub const MAX_KEEPERS: usize = 64;

/// Checks every `[[keepers]]` entry; the error names the field (`keepers[2].capital_usd`).
pub fn validate(keepers: &[KeeperSpec], step_ms: i64) -> Result<(), LabError> {
    if keepers.len() > MAX_KEEPERS {
        return Err(LabError::field(
            "keepers",
            format!("at most {MAX_KEEPERS} keepers (got {})", keepers.len()),
        ));
    }
    for (i, k) in keepers.iter().enumerate() {
        let at = |f: &str| format!("keepers[{i}].{f}");
        if !(k.capital_usd.is_finite() && k.capital_usd >= 0.0) {
            return Err(LabError::field(
                at("capital_usd"),
                format!("must be >= 0 (got {})", k.capital_usd),
            ));
        }
        if let Some(g) = k.gas_budget_usd {
            if !(g.is_finite() && g >= 0.0) {
                return Err(LabError::field(
                    at("gas_budget_usd"),
                    format!("must be >= 0 (got {g})"),
                ));
            }
        }
        if i64::from(k.latency_ms) >= step_ms {
            return Err(LabError::field(
                at("latency_ms"),
                format!(
                    "{} ms is not inside a step of {step_ms} ms: the keeper could never act",
                    k.latency_ms
                ),
            ));
        }
        if !k.min_profit_usd.is_finite() {
            return Err(LabError::field(at("min_profit_usd"), "must be finite"));
        }
        if !(0.0..=1.0).contains(&k.online_probability) {
            return Err(LabError::field(
                at("online_probability"),
                format!("must be within [0, 1] (got {})", k.online_probability),
            ));
        }
        if let Some(w) = k.offline_windows.iter().find(|w| w[0] >= w[1]) {
            return Err(LabError::field(
                at("offline_windows"),
                format!("window [{}, {}) is empty", w[0], w[1]),
            ));
        }
    }
    Ok(())
}
