//! `liquidation_hunt`: where to push. The hunter reads every trader account's maintenance
//! health from the engine and, for an account whose only exposure is a short perp of the target
//! asset, its liquidation price. At fixed funding an account's maintenance health is linear in
//! the price (the engine's risk index keys accounts by the same price): `h(P) = h₀ + k·(P − P₀)`
//! with `k = size·(1 + maint rate)` for a short, so it is liquidatable above `P₀ − h₀/k`.
//!
//! The push it aims for is the multiple `m ≤ pump` of the price that liquidates the most short
//! notional per unit of spot cost: on a constant-product venue lifting the price ×m costs
//! `Y(√m − 1)` (see `oracle_pump`), so it picks the cluster edge maximizing
//! `Σ{notional : mᵢ ≤ m} / (√m − 1)`, plus 1 % to clear it.

use crate::agent::StepContext;
use ballast_engine::ids::AccountId;
use ballast_engine::num::Round;
use ballast_engine::HealthKind;

/// Headroom past the cluster edge so that rounding and the oracle's noise do not leave it short.
const CLEAR: f64 = 1.01;

/// Each short's liquidation multiple of today's price and its notional (USD), for accounts
/// exposed to the target asset alone.
pub fn short_liquidation_multiples(cx: &StepContext<'_>, asset: usize) -> Vec<(f64, f64)> {
    let eng = cx.engine;
    let market = cx.house.markets[asset];
    let px = crate::feeds::engine_price(eng, asset).unwrap_or(cx.now.model_prices[asset]);
    let rate = cx.scenario.assets[asset]
        .market
        .apply(&cx.scenario.protocol.market)
        .maint_margin;
    let scale = crate::units::pow10(i32::from(cx.scenario.assets[asset].decimals));
    let accounts = &eng.state().accounts;
    (cx.house.first_trader..accounts.len() as u32)
        .filter_map(|i| {
            let a = &accounts[i as usize];
            let mut open = a.positions.iter().filter(|p| p.size.0 != 0);
            let p = open.next()?;
            if open.next().is_some() || p.market != market || p.size.0 >= 0 {
                return None;
            }
            let h = eng.health(AccountId(i), HealthKind::Maintenance).ok()?;
            let h = crate::units::to_usd(i128::from(h.to_quote(Round::Down).ok()?.0));
            let size = p.size.0 as f64 / scale;
            let k = size * (1.0 + rate);
            (h > 0.0).then(|| ((px - h / k) / px, -size * px))
        })
        .collect()
}

/// The multiple of today's price to push to (`None`: no short liquidates within `max`).
pub fn target(cluster: &[(f64, f64)], max: f64) -> Option<f64> {
    let mut c: Vec<(f64, f64)> = cluster
        .iter()
        .copied()
        .filter(|(m, _)| *m * CLEAR <= max)
        .collect();
    c.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Option<(f64, f64)> = None;
    let mut notional = 0.0;
    for (m, n) in c {
        notional += n;
        let edge = m * CLEAR;
        let score = notional / (libm::sqrt(edge) - 1.0);
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, edge));
        }
    }
    best.map(|(_, edge)| edge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_clears_the_densest_cluster_within_the_cap() {
        // A thin short at +5 %, a dense cluster at +20–22 %, a huge one past the cap.
        let c = [(1.05, 1e5), (1.20, 5e6), (1.22, 5e6), (2.0, 1e9)];
        let m = target(&c, 1.5).expect("a target");
        assert!((m - 1.22 * CLEAR).abs() < 1e-12, "{m}");
        assert_eq!(target(&[(1.6, 1e6)], 1.5), None);
    }
}
