//! `GET /v1/contagion`: the contagion map of the published state — the shared-exposure graph
//! between pools, markets and collateral assets and, with `?asset=ID&pct=P`, what a price move
//! of `P` % in that asset costs each node. Both come from `ballast-solvency`'s contagion module
//! (the same computation as `ballast contagion`): the shock runs through a clone of the engine.

use crate::http::App;
use crate::queries::authed;
use crate::refusal::Refusal;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use ballast_engine::ids::AssetId;
use ballast_solvency::contagion::{apply_shock, ContagionError, Graph, Shock, ShockReport};
use serde::{Deserialize, Serialize};

/// `asset`: the shocked asset's id; `pct`: its price move in percent (default −30).
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ShockQuery {
    pub asset: Option<u16>,
    pub pct: Option<f64>,
}

/// The answer.
#[derive(Serialize)]
pub struct ContagionBody {
    pub seq: u64,
    pub graph: Graph,
    /// Present when `asset` was given.
    pub shock: Option<ShockReport>,
}

/// The default shock, percent.
pub const DEFAULT_PCT: f64 = -30.0;

fn refusal(e: &ContagionError) -> Refusal {
    let code = match e {
        ContagionError::UnknownAsset(_) => "unknown_asset",
        ContagionError::NoPrice(_) | ContagionError::NotApplied(_) => "no_price",
        ContagionError::BadShock { .. } => "bad_shock",
        ContagionError::Refused { .. } => "shock_refused",
        ContagionError::Valuation { .. } | ContagionError::Overflow(_) => "valuation",
    };
    Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
}

/// The contagion map and, optionally, a shock's losses per node.
#[utoipa::path(get, path = "/v1/contagion", params(ShockQuery), responses((status = 200, body = Object)))]
pub async fn contagion(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<ShockQuery>,
) -> Result<Json<ContagionBody>, Refusal> {
    authed(&app, &headers)?;
    if q.pct.is_some() && q.asset.is_none() {
        return Err(
            Refusal::new(StatusCode::BAD_REQUEST, "missing_field", "pct needs asset")
                .with_fields(serde_json::json!({"field": "asset"})),
        );
    }
    let v = app.shared.view.load();
    let graph = Graph::from_state(v.engine.state()).map_err(|e| refusal(&e))?;
    let shock = match q.asset {
        Some(a) => {
            let shock = Shock {
                asset: AssetId(a),
                pct: q.pct.unwrap_or(DEFAULT_PCT),
            };
            Some(apply_shock(&v.engine, shock).map_err(|e| refusal(&e))?)
        }
        None => None,
    };
    Ok(Json(ContagionBody {
        seq: v.seq,
        graph,
        shock,
    }))
}
