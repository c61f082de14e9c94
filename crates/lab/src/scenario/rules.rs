//! `[agents.traders]`: the trader population's rules as plain, validated data (the agent that
//! follows them lives in `traders`).

use crate::error::LabError;
use serde::{Deserialize, Serialize};

/// `[agents.traders]`: rules of the trader population (all off by default).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraderRules {
    /// Close when unrealized PnL ≥ this × margin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub take_profit: Option<f64>,
    /// Close when unrealized PnL ≤ −this × margin (in (0, 1)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_loss: Option<f64>,
    /// Add this × the opening size on each adverse move of `dip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_on_dip: Option<f64>,
    /// Adverse move (fraction of the entry price) that triggers an add (default 0.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dip: Option<f64>,
    /// Probability per step that a trader without a position reopens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reopen_prob: Option<f64>,
}

impl TraderRules {
    pub fn dip(&self) -> f64 {
        self.dip.unwrap_or(0.1)
    }

    pub fn validate(&self) -> Result<(), LabError> {
        let f = |a: &str, b: &str| Err(LabError::field(format!("agents.traders.{a}"), b));
        let pos = |x: Option<f64>| x.is_none_or(|x| x.is_finite() && x > 0.0);
        if !pos(self.take_profit) {
            return f("take_profit", "must be > 0");
        }
        if !self
            .stop_loss
            .is_none_or(|x| x.is_finite() && x > 0.0 && x < 1.0)
        {
            return f("stop_loss", "must be in (0, 1)");
        }
        if !pos(self.add_on_dip) {
            return f("add_on_dip", "must be > 0");
        }
        if !self.dip.is_none_or(|x| x.is_finite() && x > 0.0 && x < 1.0) {
            return f("dip", "must be in (0, 1)");
        }
        if !self
            .reopen_prob
            .is_none_or(|x| x.is_finite() && (0.0..=1.0).contains(&x))
        {
            return f("reopen_prob", "must be in [0, 1]");
        }
        Ok(())
    }
}
