//! `[bridge]`: one collateral asset held on another chain (a "remote" claim, behind a bridge),
//! per `docs/cross-chain.md` §1–§2.
//!
//! - **Haircut** (§1): its collateral weights (the attackers' `listing`) become
//!   `w_remote = w_local · (1 − p_fail) · (1 − z · σ · √(T_f + T_b + T_l))`,
//!   `p_fail = 1 − exp(−λ · (T_f + T_b))`: a default-probability haircut for the bridge failing
//!   before the claim is seized, and a volatility add-on `z·σ·√T` over the extra time (the
//!   square-root-of-time scaling of the engine's volatility add-on, RiskMetrics 1996).
//!   `haircut = false` values it as local (the ablation).
//! - **Halt** (§2): on steps `[halt[0], halt[1])` the bridge carries nothing: every oracle
//!   source of the asset is out (its feed goes stale, and the engine's validity matrix refuses
//!   withdrawals and borrows of accounts holding it, and liquidation on a long-stale price),
//!   and the lab does not deliver deposits of it (`holds_deposit`).

use crate::error::LabError;
use serde::{Deserialize, Serialize};

const HOURS_PER_YEAR: f64 = 8760.0;

/// `[bridge]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeSpec {
    /// Symbol of the remote asset (one of `assets`).
    pub asset: String,
    /// Finality time of the remote chain `T_f`, minutes.
    pub finality_minutes: f64,
    /// Bridge latency `T_b`, minutes.
    pub latency_minutes: f64,
    /// Bridge failure intensity `λ`, per year.
    pub fail_per_year: f64,
    /// Liquidation horizon `T_l`, hours.
    pub liquidation_hours: f64,
    /// Volatility `σ` of the asset, per √year.
    pub sigma: f64,
    /// Confidence multiplier `z`.
    pub z: f64,
    /// Steps `[from, to)` of the bridge halt (`[0, 0]`: none).
    #[serde(default)]
    pub halt: [u32; 2],
    /// Apply the haircut (false: the remote claim is weighted as local).
    #[serde(default = "yes")]
    pub haircut: bool,
}

fn yes() -> bool {
    true
}

impl BridgeSpec {
    /// `p_fail = 1 − exp(−λ · (T_f + T_b))` (§1).
    pub fn p_fail(&self) -> f64 {
        let years = (self.finality_minutes + self.latency_minutes) / 60.0 / HOURS_PER_YEAR;
        1.0 - libm::exp(-self.fail_per_year * years)
    }

    /// The factor `w_remote / w_local` (1 without the haircut), floored at 0.
    pub fn factor(&self) -> f64 {
        if !self.haircut {
            return 1.0;
        }
        let hours = (self.finality_minutes + self.latency_minutes) / 60.0 + self.liquidation_hours;
        let addon = self.z * self.sigma * libm::sqrt(hours / HOURS_PER_YEAR);
        ((1.0 - self.p_fail()) * (1.0 - addon)).max(0.0)
    }

    /// Is the bridge halted on `step`?
    pub fn halted(&self, step: u32) -> bool {
        self.halt[0] <= step && step < self.halt[1]
    }

    /// Ranges, naming the field; the asset must be one of the scenario's.
    pub fn validate(&self, symbols: &[&str]) -> Result<(), LabError> {
        let f = |name: &str, msg: &str| LabError::field(format!("bridge.{name}"), msg);
        if !symbols.contains(&self.asset.as_str()) {
            return Err(f("asset", "must be the symbol of one of the assets"));
        }
        for (name, x) in [
            ("finality_minutes", self.finality_minutes),
            ("latency_minutes", self.latency_minutes),
            ("fail_per_year", self.fail_per_year),
            ("liquidation_hours", self.liquidation_hours),
            ("sigma", self.sigma),
            ("z", self.z),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(f(name, "must be finite and >= 0"));
            }
        }
        if self.halt[1] < self.halt[0] {
            return Err(f("halt", "must be [from, to) with from <= to"));
        }
        Ok(())
    }
}

/// The bridge of `sc` if `symbol` is its remote asset.
pub fn remote<'a>(sc: &'a crate::scenario::Scenario, symbol: &str) -> Option<&'a BridgeSpec> {
    sc.bridge.as_ref().filter(|b| b.asset == symbol)
}

/// Is every oracle source of `symbol` out on `step` (a halted bridge)?
pub fn feed_out(sc: &crate::scenario::Scenario, symbol: &str, step: u32) -> bool {
    remote(sc, symbol).is_some_and(|b| b.halted(step))
}

/// Does the halted bridge hold back this command (a deposit of the remote asset)?
pub fn holds_deposit(
    sc: &crate::scenario::Scenario,
    step: u32,
    cmd: &ballast_engine::command::Command,
) -> bool {
    let ballast_engine::command::Command::Deposit { asset, .. } = cmd else {
        return false;
    };
    // Asset ids: 0 is the quote asset, scenario asset `i` is id `i + 1`.
    let Some(a) = (asset.0 as usize)
        .checked_sub(1)
        .and_then(|i| sc.assets.get(i))
    else {
        return false;
    };
    feed_out(sc, &a.symbol, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(finality_minutes: f64, liquidation_hours: f64) -> BridgeSpec {
        BridgeSpec {
            asset: "X".into(),
            finality_minutes,
            latency_minutes: 0.0,
            fail_per_year: 0.05,
            liquidation_hours,
            sigma: 0.8,
            z: 3.0,
            halt: [0, 0],
            haircut: true,
        }
    }

    /// The two examples of `docs/cross-chain.md` §1 (w_local = 0.85): 30 min + 1 h → 0.823,
    /// 7 days + 1 h → 0.57.
    #[test]
    fn the_notes_examples() {
        let fast = spec(30.0, 1.0);
        assert!((fast.p_fail() - 2.854e-6).abs() < 1e-8, "{}", fast.p_fail());
        assert!(
            (0.85 * fast.factor() - 0.8233).abs() < 1e-4,
            "{}",
            fast.factor()
        );
        let slow = spec(7.0 * 24.0 * 60.0, 1.0);
        assert!((slow.p_fail() - 9.585e-4).abs() < 1e-6, "{}", slow.p_fail());
        assert!(
            (0.85 * slow.factor() - 0.5657).abs() < 1e-3,
            "{}",
            slow.factor()
        );
        let off = BridgeSpec {
            haircut: false,
            ..slow
        };
        assert_eq!(off.factor(), 1.0);
    }
}
