//! Read-only queries, all served from the last published [`crate::writer::View`]: they never
//! wait for the writer, and every answer names the `seq` it is as of.

use crate::http::{principal, App};
use crate::refusal::Refusal;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ballast_engine::engine::BookGreeks;
use ballast_engine::ids::{AccountId, PoolId};
use ballast_engine::margin::Breakdown;
use ballast_engine::num::{Ratio, Value as Value128};
use ballast_engine::state::{Account, Pool};
use ballast_engine::HealthKind;
use serde::Serialize;
use serde_json::{json, Value};

/// `seq` and state hash of the published state.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StateHashBody {
    /// Commands accepted so far.
    pub seq: u64,
    /// Time of the last accepted command (ms).
    pub time: i64,
    /// BLAKE3 of the canonical state (same as `ballast replay` of the exported journal).
    pub state_hash: String,
}

/// Both health breakdowns of an account.
#[derive(Serialize)]
struct Health {
    initial: Breakdown,
    maintenance: Breakdown,
}

#[derive(Serialize)]
struct AdlRank {
    rank: u32,
    of: u32,
}

/// `GET /v1/accounts/{id}` (serialized directly: health values are 128-bit integers).
#[derive(Serialize)]
struct AccountBody<'a> {
    seq: u64,
    id: u32,
    account: &'a Account,
    health: Health,
    liquidatable: bool,
    greeks: Option<Vec<BookGreeks>>,
    adl_rank: Option<AdlRank>,
}

#[derive(Serialize)]
struct QueueItem {
    account: u32,
    health: Value128,
    requirement: Value128,
    severity: i64,
}

#[derive(Serialize)]
struct QueueBody {
    seq: u64,
    queue: Vec<QueueItem>,
}

#[derive(Serialize)]
struct PoolBody<'a> {
    seq: u64,
    id: u16,
    pool: &'a Pool,
    insurance_ratio: Option<Ratio>,
    greeks: Option<Vec<BookGreeks>>,
}

pub(crate) fn authed(app: &App, headers: &HeaderMap) -> Result<(), Refusal> {
    principal(app, headers).map(|_| ())
}

/// The state hash of the published state.
#[utoipa::path(get, path = "/v1/state-hash", responses((status = 200, body = StateHashBody)))]
pub async fn state_hash(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Json<StateHashBody>, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    Ok(Json(StateHashBody {
        seq: v.seq,
        time: v.engine.state().time.0,
        state_hash: v.state_hash.clone(),
    }))
}

/// An account: balances and positions, its initial and maintenance health breakdowns,
/// option Greeks and ADL rank.
#[utoipa::path(get, path = "/v1/accounts/{id}", params(("id" = u32, Path, description = "account id")),
    responses((status = 200, body = Object), (status = 404, body = crate::refusal::ErrorBody)))]
pub async fn account(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<u32>,
) -> Result<Response, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    let e = &v.engine;
    let a = AccountId(id);
    let acct = e
        .state()
        .accounts
        .get(a.idx())
        .ok_or_else(|| Refusal::from_reject(&ballast_engine::Reject::UnknownAccount(a)))?;
    let initial = e
        .breakdown(a, HealthKind::Initial)
        .map_err(|r| Refusal::from_reject(&r))?;
    let maint = e
        .breakdown(a, HealthKind::Maintenance)
        .map_err(|r| Refusal::from_reject(&r))?;
    let body = AccountBody {
        seq: v.seq,
        id,
        account: acct,
        health: Health {
            initial,
            maintenance: maint,
        },
        liquidatable: v.queue.iter().any(|q| q.account == a),
        greeks: e.account_greeks(a).ok(),
        adl_rank: e.adl_rank(a).map(|(rank, of)| AdlRank { rank, of }),
    };
    Ok(Json(body).into_response())
}

/// Accounts below maintenance, worst first (`severity` = health / requirement as a ratio).
#[utoipa::path(get, path = "/v1/liquidation-queue", responses((status = 200, body = Object)))]
pub async fn liquidation_queue(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    let queue = v
        .queue
        .iter()
        .map(|q| QueueItem {
            account: q.account.0,
            health: q.health,
            requirement: q.requirement,
            severity: q.severity,
        })
        .collect();
    Ok(Json(QueueBody { seq: v.seq, queue }).into_response())
}

/// A risk pool: insurance fund, bad debt, lending, parameters, its breaker, the insurance
/// ratio (fund / open interest) and the pool's option Greeks.
#[utoipa::path(get, path = "/v1/pools/{id}", params(("id" = u16, Path, description = "pool id")),
    responses((status = 200, body = Object), (status = 404, body = crate::refusal::ErrorBody)))]
pub async fn pool(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<u16>,
) -> Result<Response, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    let e = &v.engine;
    let p = PoolId(id);
    let pool = e
        .state()
        .pools
        .get(p.idx())
        .ok_or_else(|| Refusal::from_reject(&ballast_engine::Reject::UnknownPool(p)))?;
    let body = PoolBody {
        seq: v.seq,
        id,
        pool,
        insurance_ratio: e.insurance_ratio(p),
        greeks: e.pool_greeks(p).ok(),
    };
    Ok(Json(body).into_response())
}

/// Every asset's price and, where configured, its multi-source oracle status and age.
#[utoipa::path(get, path = "/v1/oracles", responses((status = 200, body = Object)))]
pub async fn oracles(State(app): State<App>, headers: HeaderMap) -> Result<Json<Value>, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    let st = v.engine.state();
    let now = st.time.0;
    let assets: Vec<Value> = st
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let oracle = a.oracle.as_ref().map(|o| {
                let (status, age) = o.status_at(now);
                json!({ "status": status, "age_ms": age, "stable_price": o.stable_price })
            });
            json!({
                "asset": i, "symbol": a.symbol, "price": a.price,
                "price_time": a.price_time, "oracle": oracle,
            })
        })
        .collect();
    Ok(Json(json!({ "seq": v.seq, "assets": assets })))
}

/// Circuit breakers of every pool and market, and the chain signal they read.
#[utoipa::path(get, path = "/v1/breakers", responses((status = 200, body = Object)))]
pub async fn breakers(State(app): State<App>, headers: HeaderMap) -> Result<Json<Value>, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    let st = v.engine.state();
    let pools: Vec<Value> = st
        .pools
        .iter()
        .enumerate()
        .map(|(i, p)| json!({ "pool": i, "name": p.name, "paused": p.paused, "breaker": p.breaker, "auction_breaker": p.liquidation.breaker }))
        .collect();
    let markets: Vec<Value> = st
        .markets
        .iter()
        .enumerate()
        .map(|(i, m)| json!({ "market": i, "symbol": m.symbol, "breaker": m.breaker }))
        .collect();
    Ok(Json(
        json!({ "seq": v.seq, "paused": st.paused, "chain": st.chain, "pools": pools, "markets": markets }),
    ))
}

/// One pool in the summary.
#[derive(Serialize)]
struct PoolSummary<'a> {
    id: usize,
    name: &'a str,
    insurance_fund: i64,
    insurance_ratio: Option<Ratio>,
    bad_debt: i64,
    fee_account: i64,
    paused: bool,
    breaker_mode: Option<ballast_oracle::breaker::Mode>,
}

/// One market in the summary.
#[derive(Serialize)]
struct MarketSummary<'a> {
    id: usize,
    symbol: &'a str,
    long_oi: i64,
    short_oi: i64,
    breaker_mode: Option<ballast_oracle::breaker::Mode>,
}

#[derive(Serialize)]
struct Summary<'a> {
    seq: u64,
    time: i64,
    state_hash: &'a str,
    accounts: usize,
    below_maintenance: usize,
    pools: Vec<PoolSummary<'a>>,
    markets: Vec<MarketSummary<'a>>,
}

/// The state of risk at a glance: pools (insurance fund and ratio, bad debt, breaker mode),
/// markets (open interest, breaker mode), accounts and how many are below maintenance.
#[utoipa::path(get, path = "/v1/summary", responses((status = 200, body = Object)))]
pub async fn summary(State(app): State<App>, headers: HeaderMap) -> Result<Response, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    let e = &v.engine;
    let st = e.state();
    let pools = st
        .pools
        .iter()
        .enumerate()
        .map(|(i, p)| PoolSummary {
            id: i,
            name: &p.name,
            insurance_fund: p.insurance_fund.0,
            insurance_ratio: e.insurance_ratio(PoolId(i as u16)),
            bad_debt: p.bad_debt.0,
            fee_account: p.fee_account.0,
            paused: p.paused,
            breaker_mode: p.breaker.as_ref().map(|b| b.mode()),
        })
        .collect();
    let markets = st
        .markets
        .iter()
        .enumerate()
        .map(|(i, m)| MarketSummary {
            id: i,
            symbol: &m.symbol,
            long_oi: m.long_oi.0,
            short_oi: m.short_oi.0,
            breaker_mode: m.breaker.as_ref().map(|b| b.mode()),
        })
        .collect();
    let body = Summary {
        seq: v.seq,
        time: st.time.0,
        state_hash: &v.state_hash,
        accounts: st.accounts.len(),
        below_maintenance: v.queue.len(),
        pools,
        markets,
    };
    Ok(Json(body).into_response())
}
