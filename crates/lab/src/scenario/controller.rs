//! The bounded self-healing controller (`[controller]`, opt-in): every `every_steps` steps the
//! path runs `ballast-controller` on its own engine — read-only signals, pure rules, a dry run
//! on a copy — and submits what survives as ordinary governance proposals (`Propose` as the
//! governor, `Execute` once the timelock has passed). Absent: no controller, numbers unchanged.
//!
//! `timelock_hours` / `min_delay_hours` set the genesis governance of a controlled scenario
//! (the engine's `GovernanceConfig`; default one day each, as for every lab engine). They are a
//! governance choice, not the controller's: a one-day timelock cannot act inside a one-hour
//! attack. Aave's Risk Stewards run with a minimum delay of days between updates of one key
//! (Aave governance, "Risk Stewards" AIP-2024); a fast lane is a deliberate trade.

use crate::error::LabError;
use serde::{Deserialize, Serialize};

/// `[controller]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerSpec {
    /// Steps between two decisions (≥ 1).
    #[serde(default = "d_every")]
    pub every_steps: u32,
    /// Delay between a proposal and its earliest execution, hours.
    #[serde(default = "d_day")]
    pub timelock_hours: f64,
    /// Least time between two executed changes of one key, hours.
    #[serde(default = "d_day")]
    pub min_delay_hours: f64,
    /// Volatility add-on (fraction of notional) that counts as stress 1.
    #[serde(default = "d_vol_ref")]
    pub vol_ref: f64,
    /// Oracle source spread (fraction of the median) that counts as stress 1.
    #[serde(default = "d_divergence_ref")]
    pub divergence_ref: f64,
    /// Share of accounts below maintenance that counts as stress 1.
    #[serde(default = "d_queue_ref")]
    pub queue_ref: f64,
    /// Largest owner's share of one side above which the OI cap comes down.
    #[serde(default = "d_concentration")]
    pub max_concentration: f64,
}

fn d_every() -> u32 {
    1
}
fn d_day() -> f64 {
    24.0
}
fn d_vol_ref() -> f64 {
    ballast_controller::Policy::default().vol_ref
}
fn d_divergence_ref() -> f64 {
    ballast_controller::Policy::default().divergence_ref
}
fn d_queue_ref() -> f64 {
    ballast_controller::Policy::default().queue_ref
}
fn d_concentration() -> f64 {
    ballast_controller::Policy::default().max_concentration
}

impl ControllerSpec {
    /// The controller's policy for this table.
    pub fn policy(&self) -> ballast_controller::Policy {
        ballast_controller::Policy {
            vol_ref: self.vol_ref,
            divergence_ref: self.divergence_ref,
            queue_ref: self.queue_ref,
            max_concentration: self.max_concentration,
            ..ballast_controller::Policy::default()
        }
    }

    /// The genesis governance of a controlled scenario.
    pub fn governance(&self) -> ballast_engine::state::GovernanceConfig {
        let ms = |h: f64| (h * 3_600_000.0).round() as i64;
        ballast_engine::state::GovernanceConfig {
            timelock_ms: ms(self.timelock_hours),
            min_delay_ms: ms(self.min_delay_hours),
            ..ballast_engine::state::GovernanceConfig::default()
        }
    }

    /// Ranges, naming the field.
    pub fn validate(&self) -> Result<(), LabError> {
        let f = |name: &str, msg: &str| LabError::field(format!("controller.{name}"), msg);
        if self.every_steps == 0 {
            return Err(f("every_steps", "must be >= 1"));
        }
        for (name, h) in [
            ("timelock_hours", self.timelock_hours),
            ("min_delay_hours", self.min_delay_hours),
        ] {
            if !(h.is_finite() && (0.0..=24.0 * 365.0).contains(&h)) {
                return Err(f(name, "must be in [0, 8760] hours"));
            }
        }
        for (name, x) in [
            ("vol_ref", self.vol_ref),
            ("divergence_ref", self.divergence_ref),
            ("queue_ref", self.queue_ref),
            ("max_concentration", self.max_concentration),
        ] {
            if !(x.is_finite() && x > 0.0) {
                return Err(f(name, "must be > 0"));
            }
        }
        Ok(())
    }
}

/// The embedded `<base>-controlled` variants: the base scenario plus this `[controller]`
/// table (a `--set` inline table, so the base file is not copied). Hourly replays keep the
/// one-day timelock and delay; the one-hour attack and the twelve-hour squeezes (15-minute steps) get a fast lane (5-minute
/// timelock, 10-minute delay), without which no move could execute inside the attack.
pub const CONTROLLED: &[(&str, &str)] = &[
    ("march-2020", "controller={every_steps=1}"),
    ("luna-2022-frozen-feed-defended", "controller={every_steps=1}"),
    (
        "oracle-manipulation-defended",
        "controller={every_steps=1,timelock_hours=0.0833333333333333,min_delay_hours=0.1666666666666667}",
    ),
    (
        "mango-2022-attack-defended",
        "controller={every_steps=1,timelock_hours=0.0833333333333333,min_delay_hours=0.1666666666666667}",
    ),
    (
        "venus-luna-2022-frozen-feed-attack-defended",
        "controller={every_steps=1}",
    ),
    (
        "crv-2022-squeeze-defended",
        "controller={every_steps=1,timelock_hours=0.0833333333333333,min_delay_hours=0.1666666666666667}",
    ),
    (
        "liquidation-hunt-defended",
        "controller={every_steps=1,timelock_hours=0.0833333333333333,min_delay_hours=0.1666666666666667}",
    ),
];

/// The base scenario and overrides of an embedded `<base>-controlled` name (then `sets`).
pub fn controlled(arg: &str, sets: &[String]) -> Option<(&'static str, Vec<String>)> {
    let base = arg.strip_suffix("-controlled")?;
    let (name, table) = CONTROLLED.iter().find(|(n, _)| *n == base)?;
    let mut all = vec![(*table).to_string(), format!("name=\"{arg}\"")];
    all.extend(sets.iter().cloned());
    Some((name, all))
}
