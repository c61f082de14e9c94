//! Attribution of a shock's losses: which accounts, markets and collateral assets the insurance
//! draws, ADL, socialized loss and bad debt came from.
//!
//! Accounts: every loss the liquidation mechanism books names the bankrupt account that caused
//! it ([`crate::record::Loss`]), so an account's contribution is the exact sum of its bookings and
//! the accounts add up to the total. Markets and collateral: each account's contribution is
//! split pro rata over its exposure right after the shock (before anyone liquidates): over its
//! perp markets by unrealized loss (by notional when nothing is under water), and over its
//! collateral by value; so every breakdown sums to the same total. This is the allocation by
//! the bankrupt account's own exposure (a "cause-based" split, as Gauntlet's per-market risk
//! dashboards attribute insolvencies to the markets that produced them), not a marginal
//! (Euler) allocation.

use crate::record::Loss;
use ballast_engine::ids::AccountId;
use ballast_engine::margin::Contribution;
use ballast_engine::{Engine, HealthKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many accounts are listed by name; the rest are summed into one `others` row.
pub const TOP_ACCOUNTS: usize = 10;

/// One contributor and its part of the total (USD and fraction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub name: String,
    pub usd: f64,
    pub share: f64,
}

/// Contributions to `total_usd` (insurance draws + ADL + socialized loss + bad debt).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub total_usd: f64,
    pub accounts: Vec<Share>,
    pub markets: Vec<Share>,
    pub collateral: Vec<Share>,
}

/// An account's exposure right after the shock: weights over market and collateral names.
#[derive(Debug, Clone, Default)]
pub struct Exposure {
    pub markets: Vec<(String, f64)>,
    pub collateral: Vec<(String, f64)>,
}

/// The exposure of `id` in `eng` (maintenance breakdown at the engine's current prices).
pub fn exposure(eng: &Engine, id: AccountId) -> Exposure {
    let Ok(b) = eng.breakdown(id, HealthKind::Maintenance) else {
        return Exposure::default();
    };
    let st = eng.state();
    let (mut loss, mut size, mut collateral) = (Vec::new(), Vec::new(), Vec::new());
    for l in &b.lines {
        match l {
            Contribution::Perp {
                market,
                notional,
                unrealized_pnl,
                ..
            } => {
                let name = st
                    .markets
                    .get(market.idx())
                    .map_or_else(|| format!("market#{}", market.0), |m| m.symbol.clone());
                loss.push((name.clone(), (-unrealized_pnl.0).max(0) as f64));
                size.push((name, notional.0.unsigned_abs() as f64));
            }
            Contribution::Quote { value, .. } => {
                let quote = st.assets.first().map_or("quote", |a| a.symbol.as_str());
                collateral.push((quote.to_string(), value.0.max(0) as f64));
            }
            Contribution::Collateral { asset, value, .. } => {
                let name = st
                    .assets
                    .get(asset.idx())
                    .map_or_else(|| format!("asset#{}", asset.0), |a| a.symbol.clone());
                collateral.push((name, value.0.max(0) as f64));
            }
            _ => {}
        }
    }
    let any_loss = loss.iter().any(|(_, w)| *w > 0.0);
    Exposure {
        markets: if any_loss { loss } else { size },
        collateral,
    }
}

/// Adds `usd` to `into`, split over `weights` (or all to `fallback` when they are all zero).
fn split(into: &mut BTreeMap<String, f64>, weights: &[(String, f64)], usd: f64, fallback: &str) {
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        *into.entry(fallback.to_string()).or_default() += usd;
        return;
    }
    for (name, w) in weights {
        *into.entry(name.clone()).or_default() += usd * w / total;
    }
}

fn shares(m: BTreeMap<String, f64>, total: f64) -> Vec<Share> {
    let mut v: Vec<Share> = m
        .into_iter()
        .map(|(name, usd)| Share {
            name,
            usd,
            share: if total > 0.0 { usd / total } else { 0.0 },
        })
        .collect();
    // Largest first; the catch-all rows (`(others)`, `(no collateral)`, …) last.
    v.sort_by(|a, b| {
        let rest = |s: &Share| s.name.starts_with('(');
        rest(a)
            .cmp(&rest(b))
            .then(b.usd.total_cmp(&a.usd))
            .then_with(|| a.name.cmp(&b.name))
    });
    v
}

/// Attributes `losses` (quote-native) using each account's exposure from `exposure_of`.
pub fn attribute(losses: &[Loss], exposure_of: &dyn Fn(AccountId) -> Exposure) -> Attribution {
    let mut by_account: BTreeMap<AccountId, i64> = BTreeMap::new();
    for l in losses {
        // Every kind is a loss someone bears: the fund, deleveraged traders, depositors, or
        // nobody (bad debt); all of them count.
        *by_account.entry(l.account).or_default() += l.amount;
    }
    let usd = |x: i64| crate::units::to_usd(i128::from(x));
    let total_native: i64 = by_account.values().sum();
    let total = usd(total_native);
    let (mut markets, mut collateral) = (BTreeMap::new(), BTreeMap::new());
    let mut accounts: Vec<(AccountId, f64)> = Vec::new();
    for (&id, &amount) in &by_account {
        let x = usd(amount);
        let e = exposure_of(id);
        split(&mut markets, &e.markets, x, "(no open position)");
        split(&mut collateral, &e.collateral, x, "(no collateral)");
        accounts.push((id, x));
    }
    accounts.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut named: BTreeMap<String, f64> = BTreeMap::new();
    for (k, (id, x)) in accounts.iter().enumerate() {
        let name = if k < TOP_ACCOUNTS {
            format!("acct#{}", id.0)
        } else {
            "(others)".to_string()
        };
        *named.entry(name).or_default() += x;
    }
    Attribution {
        total_usd: total,
        accounts: shares(named, total),
        markets: shares(markets, total),
        collateral: shares(collateral, total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::LossKind;

    #[test]
    fn every_breakdown_sums_to_the_total() {
        let losses: Vec<Loss> = (0..25u32)
            .map(|i| Loss {
                account: AccountId(i % 13),
                kind: if i % 2 == 0 {
                    LossKind::Insurance
                } else {
                    LossKind::BadDebt
                },
                amount: 1_000_000 + 7_919 * i64::from(i),
            })
            .collect();
        let exposure_of = |id: AccountId| Exposure {
            markets: vec![
                ("BTC-PERP".into(), f64::from(id.0)),
                ("ETH-PERP".into(), 3.0),
            ],
            collateral: if id.0.is_multiple_of(3) {
                vec![]
            } else {
                vec![("USDC".into(), 1.0), ("ETH".into(), f64::from(id.0))]
            },
        };
        let a = attribute(&losses, &exposure_of);
        let exact: f64 = losses.iter().map(|l| l.amount as f64 / 1e6).sum();
        assert!((a.total_usd - exact).abs() < 1e-6);
        for (what, v) in [
            ("accounts", &a.accounts),
            ("markets", &a.markets),
            ("collateral", &a.collateral),
        ] {
            let usd: f64 = v.iter().map(|s| s.usd).sum();
            let share: f64 = v.iter().map(|s| s.share).sum();
            assert!(
                (usd - exact).abs() < 1e-6 * exact,
                "{what}: {usd} vs {exact}"
            );
            assert!((share - 1.0).abs() < 1e-9, "{what}: shares sum to {share}");
        }
        // 13 accounts: the top ten by name plus one `others` row.
        assert_eq!(a.accounts.len(), TOP_ACCOUNTS + 1);
        assert!(a.collateral.iter().any(|s| s.name == "(no collateral)"));
    }
}
