//! `GET /v1/risk`: the risk picture the dashboard draws, from the published view — the
//! distribution of maintenance headroom over accounts (and how many are near liquidation),
//! the ADL ranking, each pool's option Greeks, and per asset the last quote of every oracle
//! source next to the engine's aggregate price. Human units (USD, base units) throughout.

use crate::http::App;
use crate::queries::authed;
use crate::refusal::Refusal;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use ballast_engine::engine::{BookGreeks, Engine};
use ballast_engine::ids::{AccountId, PoolId};
use ballast_engine::HealthKind;
use serde::Serialize;

/// Accounts scanned for the health distribution per request; beyond it the answer says how
/// many were left out (`scanned` < `accounts`) rather than stall the reader.
pub const MAX_SCAN: usize = 100_000;
/// Headroom below this share of the requirement counts as near liquidation.
pub const NEAR: f64 = 0.10;
/// Rows of the ADL ranking.
pub const ADL_ROWS: usize = 10;

/// Upper edges of the headroom bins (maintenance health / maintenance requirement); the last
/// bin is open.
const EDGES: [(f64, &str); 6] = [
    (0.0, "< 0 (liquidatable)"),
    (0.10, "0–10 %"),
    (0.25, "10–25 %"),
    (0.50, "25–50 %"),
    (1.00, "50–100 %"),
    (2.00, "100–200 %"),
];

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Bin {
    pub label: &'static str,
    pub count: u64,
}

/// How far accounts are from liquidation.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct HealthDistribution {
    pub accounts: usize,
    pub scanned: usize,
    /// Scanned accounts with a maintenance requirement (a position or a debt).
    pub at_risk: u64,
    /// Headroom in `[0, NEAR)`.
    pub near_liquidation: u64,
    pub liquidatable: u64,
    pub bins: Vec<Bin>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AdlRow {
    pub account: u32,
    pub rank: u32,
    pub of: u32,
}

#[derive(Serialize, Debug, Clone)]
pub struct PoolGreeks {
    pub pool: usize,
    pub greeks: Vec<BookGreeks>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct SourceQuote {
    pub source: u32,
    pub price: f64,
    pub publish_ms: i64,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct OracleView {
    pub asset: usize,
    pub symbol: String,
    /// The engine's price in USD per base unit (None before the first).
    pub aggregate: Option<f64>,
    pub sources: Vec<SourceQuote>,
}

#[derive(Serialize, Debug, Clone)]
pub struct RiskBody {
    pub seq: u64,
    pub time: i64,
    pub health: HealthDistribution,
    pub adl: Vec<AdlRow>,
    pub pools: Vec<PoolGreeks>,
    pub oracles: Vec<OracleView>,
}

/// The bin index of a headroom ratio.
pub fn bin_of(headroom: f64) -> usize {
    EDGES
        .iter()
        .position(|(edge, _)| headroom < *edge)
        .unwrap_or(EDGES.len())
}

/// Maintenance headroom of every account with a requirement (first `MAX_SCAN` accounts).
pub fn health_distribution(e: &Engine) -> HealthDistribution {
    let accounts = e.state().accounts.len();
    let scanned = accounts.min(MAX_SCAN);
    let mut counts = vec![0u64; EDGES.len() + 1];
    let (mut at_risk, mut near) = (0u64, 0u64);
    for i in 0..scanned {
        let Ok(b) = e.breakdown(AccountId(i as u32), HealthKind::Maintenance) else {
            continue;
        };
        if b.requirement.0 <= 0 {
            continue;
        }
        at_risk += 1;
        let h = b.health.0 as f64 / b.requirement.0 as f64;
        if (0.0..NEAR).contains(&h) {
            near += 1;
        }
        counts[bin_of(h)] += 1;
    }
    let label = |k: usize| EDGES.get(k).map_or("≥ 200 %", |e| e.1);
    HealthDistribution {
        accounts,
        scanned,
        at_risk,
        near_liquidation: near,
        liquidatable: counts[0],
        bins: counts
            .iter()
            .enumerate()
            .map(|(k, c)| Bin {
                label: label(k),
                count: *c,
            })
            .collect(),
    }
}

/// The first `ADL_ROWS` accounts in ADL order (rank 1 is deleveraged first).
pub fn adl_ranking(e: &Engine) -> Vec<AdlRow> {
    let n = e.state().accounts.len().min(MAX_SCAN);
    let mut rows: Vec<AdlRow> = (0..n as u32)
        .filter_map(|a| {
            e.adl_rank(AccountId(a)).map(|(rank, of)| AdlRow {
                account: a,
                rank,
                of,
            })
        })
        .collect();
    rows.sort_by_key(|r| (r.rank, r.account));
    rows.truncate(ADL_ROWS);
    rows
}

/// Every asset with an oracle: its sources' last quotes and the engine's price.
pub fn oracles(e: &Engine) -> Vec<OracleView> {
    let st = e.state();
    let quote_dec = st
        .numeraire
        .and_then(|n| st.assets.get(n.idx()))
        .map_or(6, |a| a.decimals);
    st.assets
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let feed = a.oracle.as_ref()?;
            let agg = &feed.aggregator;
            let sources = agg
                .source_ids()
                .filter_map(|id| agg.last_quote(id))
                .map(|q| SourceQuote {
                    source: q.source.0,
                    price: q.price,
                    publish_ms: q.publish_ms,
                })
                .collect();
            Some(OracleView {
                asset: i,
                symbol: a.symbol.clone(),
                aggregate: a.price.map(|p| p.to_human(a.decimals, quote_dec)),
                sources,
            })
        })
        .collect()
}

/// The risk picture of the published state.
#[utoipa::path(get, path = "/v1/risk", responses((status = 200, body = Object)))]
pub async fn risk(State(app): State<App>, headers: HeaderMap) -> Result<Json<RiskBody>, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    let e = &v.engine;
    let pools = (0..e.state().pools.len())
        .filter_map(|p| {
            let greeks = e.pool_greeks(PoolId(p as u16)).ok()?;
            Some(PoolGreeks { pool: p, greeks })
        })
        .collect();
    Ok(Json(RiskBody {
        seq: v.seq,
        time: e.state().time.0,
        health: health_distribution(e),
        adl: adl_ranking(e),
        pools,
        oracles: oracles(e),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headroom_bins_split_at_their_edges() {
        assert_eq!(bin_of(-0.01), 0);
        assert_eq!(bin_of(0.0), 1);
        assert_eq!(bin_of(0.099), 1);
        assert_eq!(bin_of(0.10), 2);
        assert_eq!(bin_of(1.5), 5);
        assert_eq!(bin_of(2.0), 6);
        assert_eq!(bin_of(50.0), 6);
    }
}
