//! The de-pegging numeraire in the path: what the engine hears and what the lab values in USD.
//!
//! With `[numeraire]` (see `scenario::numeraire`) the price models stay in USD; the engine,
//! USDC-margined, hears `price_usd / usdc_usd` ([`Numeraire::engine_prices`]). The ledger keeps
//! counting USDC (conservation is unchanged); the lab revalues in USD what is held in USDC: the
//! insurance fund and every non-house account's equity (collateral + unrealized PnL, quote
//! units), at t0 and at the trough, and the bad debt booked each step at that step's USD price.
//! USD values are `value_usdc × usdc_usd` with the USD price rounded to 1e-6 (an integer ppm),
//! rounded down: exact integers that merge in any order.

use crate::scenario::numeraire::NumeraireSpec;
use crate::scenario::Scenario;
use crate::world::House;
use ballast_engine::ids::AccountId;
use ballast_engine::num::{Round, Value};
use ballast_engine::{Engine, HealthKind};
use serde::{Deserialize, Serialize};

/// Parts per million of a USD price.
pub const PPM: i64 = 1_000_000;

/// What one path's USDC was worth in USD (quote-native units, 1e-6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepegTally {
    /// The scenario has a `[numeraire]`.
    pub on: bool,
    /// Lowest USD price of USDC over the path, ppm, and the first step it was seen.
    pub low_ppm: i64,
    pub trough_step: u32,
    /// Insurance fund in USDC and in USD at t0 and at the end of the trough step.
    pub fund_usdc_t0: i64,
    pub fund_usd_t0: i64,
    pub fund_usdc_trough: i64,
    pub fund_usd_trough: i64,
    /// Lowest USD value of the fund at the end of any step.
    pub fund_usd_min: i64,
    /// Σ equity of the non-house accounts (USDC-margined), in USDC and USD, at t0 and trough.
    pub equity_usdc_t0: i64,
    pub equity_usd_t0: i64,
    pub equity_usdc_trough: i64,
    pub equity_usd_trough: i64,
    /// Bad debt valued at the USD price of the step it was booked in.
    pub bad_debt_usd: i64,
}

impl DepegTally {
    pub fn is_off(&self) -> bool {
        !self.on
    }
}

/// `x` USDC (quote-native) in USD at `ppm`, rounded down.
pub fn usd_value(x: i64, ppm: i64) -> i64 {
    let v = (i128::from(x) * i128::from(ppm)).div_euclid(i128::from(PPM));
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Σ equity (maintenance health + requirement, i.e. collateral + unrealized PnL) of the
/// non-house accounts, quote-native, rounded down.
pub fn account_equity(eng: &Engine, house: &House) -> i64 {
    let mut eq = 0i128;
    for i in house.first_trader..eng.state().accounts.len() as u32 {
        if let Ok(b) = eng.breakdown(AccountId(i), HealthKind::Maintenance) {
            eq += b.health.0 + b.requirement.0;
        }
    }
    Value(eq).to_quote(Round::Down).map_or(i64::MIN, |a| a.0)
}

/// The numeraire of one path.
pub struct Numeraire<'a> {
    spec: &'a NumeraireSpec,
    step_hours: f64,
    trough: u32,
    last_bad: i64,
}

impl<'a> Numeraire<'a> {
    /// The path's numeraire (none without `[numeraire]`) and its tally with the t0 values of
    /// the insurance fund `fund` (quote-native) and the accounts.
    pub fn start(
        sc: &'a Scenario,
        eng: &Engine,
        house: &House,
        fund: i64,
    ) -> Option<(Self, DepegTally)> {
        let spec = sc.numeraire.as_ref()?;
        let n = Numeraire {
            spec,
            step_hours: sc.step_hours,
            trough: spec.trough_step(sc.horizon, sc.step_hours),
            last_bad: 0,
        };
        let ppm = n.ppm(0);
        let equity = account_equity(eng, house);
        let (fund_usd, equity_usd) = (usd_value(fund, ppm), usd_value(equity, ppm));
        // Never below its t0 price: the trough is t0 itself until a lower step is seen.
        let t = DepegTally {
            on: true,
            low_ppm: ppm,
            fund_usdc_t0: fund,
            fund_usd_t0: fund_usd,
            fund_usdc_trough: fund,
            fund_usd_trough: fund_usd,
            fund_usd_min: fund_usd,
            equity_usdc_t0: equity,
            equity_usd_t0: equity_usd,
            equity_usdc_trough: equity,
            equity_usd_trough: equity_usd,
            ..DepegTally::default()
        };
        Some((n, t))
    }

    /// USD per USDC at `step`, ppm.
    pub fn ppm(&self, step: u32) -> i64 {
        (self.spec.usd_price.at(f64::from(step) * self.step_hours) * PPM as f64).round() as i64
    }

    /// What the USDC-margined engine hears for USD prices `usd` at `step`.
    pub fn engine_prices(&self, usd: &[f64], step: u32) -> Vec<f64> {
        let u = self.ppm(step) as f64 / PPM as f64;
        usd.iter().map(|p| p / u).collect()
    }

    /// Closes a step (after the recorder's): the step's bad debt (`bad_debt`: the path's total
    /// so far, USDC) in USD, the fund's USD low, and at the trough the fund's and the accounts'
    /// USD values.
    pub fn end_step(&mut self, now: StepEnd<'_>, d: &mut DepegTally) {
        let (step, fund) = (now.step, now.fund);
        let ppm = self.ppm(step);
        d.bad_debt_usd += usd_value(now.bad_debt - self.last_bad, ppm);
        self.last_bad = now.bad_debt;
        d.fund_usd_min = d.fund_usd_min.min(usd_value(fund, ppm));
        if step == self.trough {
            let eq = account_equity(now.engine, now.house);
            d.low_ppm = ppm;
            d.trough_step = step;
            d.fund_usdc_trough = fund;
            d.fund_usd_trough = usd_value(fund, ppm);
            d.equity_usdc_trough = eq;
            d.equity_usd_trough = usd_value(eq, ppm);
        }
    }
}

/// The end of a step, as the numeraire sees it.
pub struct StepEnd<'a> {
    pub engine: &'a Engine,
    pub house: &'a House,
    pub step: u32,
    /// Insurance fund and the path's bad debt so far (quote-native).
    pub fund: i64,
    pub bad_debt: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_value_rounds_down_exactly() {
        assert_eq!(usd_value(50_000_000_000, 870_000), 43_500_000_000);
        assert_eq!(usd_value(3, 870_000), 2);
        assert_eq!(usd_value(-3, 870_000), -3);
    }
}
