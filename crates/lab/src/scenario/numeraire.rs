//! `[numeraire]`: the USD price of the quote/collateral stablecoin (USDC).
//!
//! The engine is USDC-margined: every price it hears is in USDC. The lab's price models are in
//! USD; with a numeraire path the engine hears `price_usd / usdc_usd` for every USD-quoted asset
//! and the lab values the insurance fund and the accounts' equity in USD as
//! `value_usdc × usdc_usd`. Without `[numeraire]` USDC is fixed at 1 USD (the engine's prices
//! are the models').
//!
//! `kind = "depeg"` is piecewise linear in hours: 1 until `start_hours`, down to `low` at
//! `trough_hours`, back to 1 at `end_hours`, 1 afterwards. The March 2023 USDC de-peg: Circle
//! disclosed on 2023-03-10/11 that 3.3 bn USD of its ~40 bn reserves sat at the failed Silicon
//! Valley Bank; USDC traded as low as 0.8774 USD on 2023-03-11 (CoinMarketCap all-time low) and
//! was back at ~1 by 2023-03-13 after the Treasury/Fed/FDIC joint statement of 2023-03-12 (The
//! Block, "USDC remains at about $0.90 following Circle's disclosure of funds at SVB",
//! 2023-03-11).

use crate::error::LabError;
use serde::{Deserialize, Serialize};

/// `[numeraire]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumeraireSpec {
    /// USD price of one USDC over the run.
    pub usd_price: UsdPath,
}

/// A USD price path of the stablecoin. It starts at the peg: t0 prices are USD and USDC at
/// once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum UsdPath {
    /// Piecewise linear: 1 → `low` → 1 (see the module doc).
    Depeg {
        low: f64,
        start_hours: f64,
        trough_hours: f64,
        end_hours: f64,
    },
}

impl UsdPath {
    /// USD per USDC `hours` after t0.
    pub fn at(&self, hours: f64) -> f64 {
        match *self {
            UsdPath::Depeg {
                low,
                start_hours: s,
                trough_hours: m,
                end_hours: e,
            } => {
                if hours <= s || hours >= e {
                    1.0
                } else if hours <= m {
                    1.0 - (1.0 - low) * frac(hours - s, m - s)
                } else {
                    low + (1.0 - low) * frac(hours - m, e - m)
                }
            }
        }
    }
}

/// `x / span`, 1 when the span is empty.
fn frac(x: f64, span: f64) -> f64 {
    if span > 0.0 {
        x / span
    } else {
        1.0
    }
}

impl NumeraireSpec {
    /// Bounds: `low` in (0, 10] USD, hours ordered from t0.
    pub fn validate(&self) -> Result<(), LabError> {
        let field = |f: &str, m: String| LabError::field(format!("numeraire.usd_price.{f}"), m);
        let price = |f: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 10.0 {
                Ok(())
            } else {
                Err(field(f, format!("must be in (0, 10] USD (got {v})")))
            }
        };
        let UsdPath::Depeg {
            low,
            start_hours,
            trough_hours,
            end_hours,
        } = self.usd_price;
        {
            price("low", low)?;
            if !(start_hours.is_finite() && start_hours >= 0.0) {
                return Err(field(
                    "start_hours",
                    format!("must be >= 0 (got {start_hours})"),
                ));
            }
            if !(trough_hours >= start_hours && trough_hours.is_finite()) {
                return Err(field(
                    "trough_hours",
                    format!("must be >= start_hours (got {trough_hours})"),
                ));
            }
            if !(end_hours >= trough_hours && end_hours.is_finite()) {
                return Err(field(
                    "end_hours",
                    format!("must be >= trough_hours (got {end_hours})"),
                ));
            }
            Ok(())
        }
    }

    /// The first step whose USD price is the lowest of the run's `horizon` steps.
    pub fn trough_step(&self, horizon: u32, step_hours: f64) -> u32 {
        let mut best = (0u32, self.usd_price.at(0.0));
        for s in 1..=horizon {
            let u = self.usd_price.at(f64::from(s) * step_hours);
            if u < best.1 {
                best = (s, u);
            }
        }
        best.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depeg() -> UsdPath {
        UsdPath::Depeg {
            low: 0.87,
            start_hours: 12.0,
            trough_hours: 24.0,
            end_hours: 60.0,
        }
    }

    #[test]
    fn depeg_path_is_piecewise_linear() {
        let p = depeg();
        assert_eq!(p.at(0.0), 1.0);
        assert_eq!(p.at(12.0), 1.0);
        assert!((p.at(18.0) - 0.935).abs() < 1e-12);
        assert_eq!(p.at(24.0), 0.87);
        assert!((p.at(42.0) - 0.935).abs() < 1e-12);
        assert_eq!(p.at(60.0), 1.0);
        assert_eq!(p.at(72.0), 1.0);
        let n = NumeraireSpec { usd_price: p };
        assert_eq!(n.trough_step(72, 1.0), 24);
    }

    #[test]
    fn bad_depeg_names_the_field() {
        let mut n = NumeraireSpec { usd_price: depeg() };
        let UsdPath::Depeg { end_hours, .. } = &mut n.usd_price;
        *end_hours = 5.0;
        let e = n.validate().unwrap_err().to_string();
        assert!(e.contains("numeraire.usd_price.end_hours"), "{e}");
        let mut n = NumeraireSpec { usd_price: depeg() };
        let UsdPath::Depeg { low, .. } = &mut n.usd_price;
        *low = 0.0;
        let e = n.validate().unwrap_err().to_string();
        assert!(e.contains("numeraire.usd_price.low"), "{e}");
    }
}
