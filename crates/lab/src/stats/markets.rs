//! Bad debt by market over a stress run, mergeable: the sum per market over all paths (for the
//! mean's split) and the market split of the [`super::TOP_K`] worst paths (for CVaR99's).
//!
//! CVaR99's split is the Euler allocation of expected shortfall (Tasche, "Risk contributions
//! and performance measurement", 1999; "Expected shortfall and beyond", 2002): market `i`
//! contributes `E[L_i | L in the worst (1 − q) tail]`, the mean of its part over the tail paths,
//! and the contributions add up to CVaR. Each path's split comes from
//! `path::split_bad_debt` (each bankrupt account's t0 notional per market).

use crate::attribution::Share;
use serde::{Deserialize, Serialize};

/// One of the worst paths and its bad debt per market (quote-native).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailPath {
    pub bad_debt: i64,
    pub path: u64,
    pub by_market: Vec<i64>,
}

/// The mergeable part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketLoss {
    /// Σ over paths of bad debt per market (last slot: accounts without a t0 position).
    #[serde(with = "super::vec_i128_str")]
    pub total: Vec<i128>,
    /// The worst paths, by bad debt descending then path ascending, at most `TOP_K`.
    pub tail: Vec<TailPath>,
}

impl MarketLoss {
    pub fn add(&mut self, path: u64, bad_debt: i64, by_market: &[i64]) {
        if self.total.len() < by_market.len() {
            self.total.resize(by_market.len(), 0);
        }
        for (t, x) in self.total.iter_mut().zip(by_market) {
            *t += i128::from(*x);
        }
        // Sorted insertion (bad debt descending, then path ascending), as the histogram's top.
        let worse = |t: &TailPath| {
            (t.bad_debt, std::cmp::Reverse(t.path)) >= (bad_debt, std::cmp::Reverse(path))
        };
        let full = self.tail.len() >= super::TOP_K;
        if bad_debt > 0 && !(full && self.tail.last().is_some_and(worse)) {
            let at = self.tail.partition_point(worse);
            self.tail.insert(
                at,
                TailPath {
                    bad_debt,
                    path,
                    by_market: by_market.to_vec(),
                },
            );
            self.tail.truncate(super::TOP_K);
        }
    }
    pub fn merge(&mut self, o: &MarketLoss) {
        if self.total.len() < o.total.len() {
            self.total.resize(o.total.len(), 0);
        }
        for (t, x) in self.total.iter_mut().zip(&o.total) {
            *t += *x;
        }
        self.tail.extend(o.tail.iter().cloned());
        self.trim();
    }
    /// Keeps the `TOP_K` worst under a total order, so any merge order gives the same list.
    fn trim(&mut self) {
        self.tail
            .sort_by(|a, b| b.bad_debt.cmp(&a.bad_debt).then(a.path.cmp(&b.path)));
        self.tail.truncate(super::TOP_K);
    }
}

/// Bad debt attributed to markets, as printed in the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MarketAttribution {
    pub method: String,
    /// Mean bad debt per path, by market (USD; shares of the mean).
    pub mean: Vec<Share>,
    /// CVaR99 of bad debt, by market (Euler allocation; shares of CVaR99).
    pub cvar99: Vec<Share>,
    /// False when CVaR99's tail has more loss-making paths than the kept worst ones.
    pub cvar99_exact: bool,
}

pub const METHOD: &str = "bankrupt account's t0 notional per market; CVaR99 by Euler allocation (Tasche 2002) over the tail paths";

fn shares(names: &[String], usd: &[f64]) -> Vec<Share> {
    let total: f64 = usd.iter().sum();
    let mut v: Vec<Share> = names
        .iter()
        .zip(usd)
        .filter(|(_, x)| **x != 0.0)
        .map(|(n, x)| Share {
            name: n.clone(),
            usd: *x,
            share: if total > 0.0 { x / total } else { 0.0 },
        })
        .collect();
    v.sort_by(|a, b| b.usd.total_cmp(&a.usd).then_with(|| a.name.cmp(&b.name)));
    v
}

impl MarketLoss {
    /// The summary block for `n` paths; `symbols` name the markets (`BTC` → `BTC-PERP`).
    pub fn attribution(&self, n: u64, symbols: &[String], q: f64) -> MarketAttribution {
        let mut names: Vec<String> = symbols.iter().map(|s| format!("{s}-PERP")).collect();
        names.push("(no t0 position)".into());
        names.truncate(self.total.len().max(1));
        let usd = |x: f64| x / 1e6;
        let nf = n.max(1) as f64;
        let mean: Vec<f64> = self.total.iter().map(|t| usd(*t as f64) / nf).collect();
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n.max(1));
        let tail = (n.max(1) - rank + 1) as usize;
        let mut sum = vec![0.0; self.total.len()];
        for p in self.tail.iter().take(tail) {
            for (s, x) in sum.iter_mut().zip(&p.by_market) {
                *s += *x as f64;
            }
        }
        let cvar: Vec<f64> = sum.iter().map(|s| usd(*s) / tail as f64).collect();
        MarketAttribution {
            method: METHOD.into(),
            mean: shares(&names, &mean),
            cvar99: shares(&names, &cvar),
            cvar99_exact: self.tail.len() < super::TOP_K || tail <= self.tail.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_order_does_not_matter_and_the_split_sums_to_cvar() {
        let paths: Vec<(u64, i64, Vec<i64>)> = (0..300u64)
            .map(|p| {
                let b = ((p * 7919) % 101) as i64 * 1_000_000;
                let btc = b * (p as i64 % 3) / 3;
                (p, b, vec![btc, b - btc, 0])
            })
            .collect();
        let mut whole = MarketLoss::default();
        let (mut x, mut y) = (MarketLoss::default(), MarketLoss::default());
        for (p, b, m) in &paths {
            whole.add(*p, *b, m);
            if p % 2 == 0 { &mut x } else { &mut y }.add(*p, *b, m);
        }
        y.merge(&x);
        assert_eq!(whole, y);
        let syms = vec!["BTC".to_string(), "ETH".to_string()];
        let a = whole.attribution(300, &syms, 0.99);
        let mut losses: Vec<i64> = paths.iter().map(|p| p.1).collect();
        losses.sort_unstable_by(|a, b| b.cmp(a));
        // The tail of `LogHistogram::tail_mean`: ranks ⌈q·n⌉ … n (0.99·300 rounds below 297).
        let t = 300 - (0.99f64 * 300.0).ceil() as usize + 1;
        let cvar = losses[..t].iter().sum::<i64>() as f64 / t as f64 / 1e6;
        let got: f64 = a.cvar99.iter().map(|s| s.usd).sum();
        assert!((got - cvar).abs() < 1e-9 * cvar.max(1.0), "{got} vs {cvar}");
        let mean = losses.iter().sum::<i64>() as f64 / 300.0 / 1e6;
        let got: f64 = a.mean.iter().map(|s| s.usd).sum();
        assert!((got - mean).abs() < 1e-9 * mean, "{got} vs {mean}");
        assert!(a.cvar99_exact);
    }
}
