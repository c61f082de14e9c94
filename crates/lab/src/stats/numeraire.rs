//! USD values of a de-pegging numeraire over paths (`[numeraire]`): the insurance fund and the
//! USDC-margined accounts' equity at t0 and at the trough, the fund's USD low and the bad debt
//! at each step's USD price. Exact integer sums (merge in any order); see `crate::numeraire`.

use crate::numeraire::{DepegTally, PPM};
use serde::{Deserialize, Serialize};

/// Number of summed quantities, in the order of [`parts`].
const N: usize = 8;

fn parts(t: &DepegTally) -> [i64; N] {
    [
        t.fund_usd_t0,
        t.fund_usd_trough,
        t.fund_usd_min,
        t.equity_usd_t0,
        t.equity_usd_trough,
        t.bad_debt_usd,
        t.equity_usdc_trough,
        t.fund_usdc_trough,
    ]
}

/// Mergeable sums over the paths with a numeraire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepegAgg {
    pub paths: u64,
    /// Lowest USD price of USDC seen on any path, ppm (0 before the first path).
    pub low_ppm: i64,
    /// Σ over paths of [`parts`], quote-native.
    #[serde(with = "super::vec_i128_str")]
    pub sums: Vec<i128>,
}

impl DepegAgg {
    pub fn add(&mut self, t: &DepegTally) {
        if !t.on {
            return;
        }
        self.sums.resize(N, 0);
        for (s, x) in self.sums.iter_mut().zip(parts(t)) {
            *s += i128::from(x);
        }
        self.low_ppm = if self.paths == 0 {
            t.low_ppm
        } else {
            self.low_ppm.min(t.low_ppm)
        };
        self.paths += 1;
    }

    pub fn merge(&mut self, o: &DepegAgg) {
        if o.paths == 0 {
            return;
        }
        self.sums.resize(N, 0);
        for (s, x) in self.sums.iter_mut().zip(&o.sums) {
            *s += x;
        }
        self.low_ppm = if self.paths == 0 {
            o.low_ppm
        } else {
            self.low_ppm.min(o.low_ppm)
        };
        self.paths += o.paths;
    }

    /// The summary block (absent without a numeraire).
    pub fn summary(&self) -> Option<DepegSummary> {
        if self.paths == 0 {
            return None;
        }
        let n = self.paths as f64;
        let mean = |k: usize| self.sums[k] as f64 / PPM as f64 / n;
        let fall = |a: usize, b: usize| {
            if self.sums[a] != 0 {
                1.0 - self.sums[b] as f64 / self.sums[a] as f64
            } else {
                0.0
            }
        };
        Some(DepegSummary {
            usdc_low: self.low_ppm as f64 / PPM as f64,
            fund_usd_t0_mean: mean(0),
            fund_usd_trough_mean: mean(1),
            fund_usd_fall: fall(0, 1),
            fund_usd_min_mean: mean(2),
            equity_usd_t0_mean: mean(3),
            equity_usd_trough_mean: mean(4),
            equity_usd_fall: fall(3, 4),
            equity_usdc_trough_mean: mean(6),
            fund_usdc_trough_mean: mean(7),
            bad_debt_usd_mean: mean(5),
        })
    }
}

/// USD view of a de-peg run (means per path, USD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepegSummary {
    /// Lowest USD price of USDC.
    pub usdc_low: f64,
    pub fund_usd_t0_mean: f64,
    pub fund_usd_trough_mean: f64,
    /// 1 − Σ fund USD at the trough / Σ at t0.
    pub fund_usd_fall: f64,
    /// The fund at the trough, in USDC.
    pub fund_usdc_trough_mean: f64,
    /// Lowest USD value of the fund at any step.
    pub fund_usd_min_mean: f64,
    /// Σ equity of the USDC-margined (non-house) accounts.
    pub equity_usd_t0_mean: f64,
    pub equity_usd_trough_mean: f64,
    pub equity_usd_fall: f64,
    /// The same equity at the trough, in USDC.
    pub equity_usdc_trough_mean: f64,
    /// Bad debt at each step's USD price of USDC.
    pub bad_debt_usd_mean: f64,
}

impl DepegSummary {
    /// The terminal table's rows.
    pub fn rows(&self, row: &mut dyn FnMut(&str, String)) {
        let money = super::group_thousands;
        // Signed change; `+ 0.0` turns −0 into 0.
        let pct = |x: f64| format!("{:+.2}%", x * 100.0 + 0.0);
        row("USDC low", format!("{:.4} USD", self.usdc_low));
        row(
            "fund in USD",
            format!(
                "t0 {}  trough {} ({}; {} USDC, de-peg cost {})  min {} USD",
                money(self.fund_usd_t0_mean),
                money(self.fund_usd_trough_mean),
                pct(-self.fund_usd_fall),
                money(self.fund_usdc_trough_mean),
                money(self.fund_usdc_trough_mean - self.fund_usd_trough_mean),
                money(self.fund_usd_min_mean)
            ),
        );
        row(
            "accounts' equity USD",
            format!(
                "t0 {}  trough {} ({}; {} USDC, de-peg cost {})",
                money(self.equity_usd_t0_mean),
                money(self.equity_usd_trough_mean),
                pct(-self.equity_usd_fall),
                money(self.equity_usdc_trough_mean),
                money(self.equity_usdc_trough_mean - self.equity_usd_trough_mean)
            ),
        );
        row(
            "bad debt in USD",
            format!(
                "{} USD / path (at each step's USDC price)",
                money(self.bad_debt_usd_mean)
            ),
        );
    }
}
