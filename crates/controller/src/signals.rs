//! What the controller reads from an engine: per market the volatility add-on, the oracle
//! sources' spread and the largest owner's share of open interest; overall the share of
//! accounts below maintenance. Read-only.

use ballast_engine::engine::Engine;
use ballast_engine::ids::MarketId;
use ballast_engine::num::RATIO_SCALE;
use serde::Serialize;
use std::collections::BTreeMap;

/// One market's signals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketSignals {
    pub market: MarketId,
    /// Current volatility add-on as a fraction of notional (0 without vol margin).
    pub vol_addon: f64,
    /// (largest − smallest) last source quote over their median, for the market's base asset
    /// (0 with fewer than two quoted sources).
    pub divergence: f64,
    /// Largest single owner's share of the market's long or short open interest.
    pub concentration: f64,
}

/// Everything the policy sees at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signals {
    pub time: i64,
    /// Share of accounts with a requirement that are below maintenance.
    pub below_maintenance: f64,
    pub markets: Vec<MarketSignals>,
}

/// Relative spread of the base asset's last source quotes.
fn divergence(e: &Engine, m: MarketId) -> f64 {
    let st = e.state();
    let Some(feed) = st
        .markets
        .get(m.idx())
        .and_then(|mk| st.assets.get(mk.base.idx()))
        .and_then(|a| a.oracle.as_ref())
    else {
        return 0.0;
    };
    let agg = &feed.aggregator;
    let mut px: Vec<f64> = agg
        .source_ids()
        .filter_map(|id| agg.last_quote(id))
        .map(|q| q.price)
        .collect();
    if px.len() < 2 {
        return 0.0;
    }
    px.sort_by(f64::total_cmp);
    let median = px[px.len() / 2];
    (px[px.len() - 1] - px[0]) / median
}

/// Per market, the largest owner's share of long or short open interest.
fn concentration(e: &Engine) -> BTreeMap<MarketId, f64> {
    let st = e.state();
    let mut by_owner: BTreeMap<(MarketId, u32, bool), i128> = BTreeMap::new();
    for a in &st.accounts {
        for p in &a.positions {
            let long = p.size.0 > 0;
            *by_owner.entry((p.market, a.owner.0, long)).or_default() += i128::from(p.size.0).abs();
        }
    }
    let mut out = BTreeMap::new();
    for ((m, _, long), size) in by_owner {
        let Some(mk) = st.markets.get(m.idx()) else {
            continue;
        };
        let oi = if long { mk.long_oi.0 } else { mk.short_oi.0 };
        if oi > 0 {
            let share = size as f64 / oi as f64;
            let e = out.entry(m).or_insert(0.0f64);
            *e = e.max(share);
        }
    }
    out
}

/// Reads the signals of `e`.
pub fn read(e: &Engine) -> Signals {
    let st = e.state();
    let conc = concentration(e);
    let markets = (0..st.markets.len())
        .map(|i| {
            let m = MarketId(i as u16);
            let vol_addon = st.markets[i]
                .vol_margin
                .as_ref()
                .map_or(0.0, |v| v.addon.0 as f64 / RATIO_SCALE as f64);
            MarketSignals {
                market: m,
                vol_addon,
                divergence: divergence(e, m),
                concentration: conc.get(&m).copied().unwrap_or(0.0),
            }
        })
        .collect();
    let n = st.accounts.len().max(1) as f64;
    Signals {
        time: st.time.0,
        below_maintenance: e.below_maintenance_scan().len() as f64 / n,
        markets,
    }
}
