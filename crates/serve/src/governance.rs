//! `GET /v1/governance`: every proposal with its key, value, timelock and the time left before
//! it may execute (the dashboard's countdowns), the last change of each governed key, and the
//! accounts whose debt rests on a halted market's gains (the engine's
//! `debt_against_halted`).

use crate::http::App;
use crate::queries::authed;
use crate::refusal::Refusal;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use ballast_engine::state::Change;
use serde_json::{json, Value};

/// Proposals, recent changes and halted-market exposure, at the published state.
#[utoipa::path(get, path = "/v1/governance", responses((status = 200, body = Object)))]
pub async fn governance(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refusal> {
    authed(&app, &headers)?;
    let v = app.shared.view.load();
    let e = &v.engine;
    let st = e.state();
    let now = st.time.0;
    let proposals: Vec<Value> = st
        .proposals
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (key, value) = match &p.change {
                Change::Param { key, value } => (key.to_string(), json!(key.format_value(*value))),
                Change::Command { command } => (command.kind().to_string(), json!(command)),
            };
            json!({
                "proposal": i,
                "key": key,
                "value": value,
                "proposed_at": p.proposed_at,
                "eta": p.eta,
                "state": p.state,
                "executable_in_ms": (p.eta.0 - now).max(0),
            })
        })
        .collect();
    let changes: Vec<Value> = st
        .param_changes
        .iter()
        .map(|c| json!({ "key": c.key.to_string(), "at": c.at }))
        .collect();
    let exposed: Vec<Value> = e
        .debt_against_halted()
        .iter()
        .map(|x| json!({ "account": x.account, "market": x.market, "debt": x.debt, "gains": x.gains }))
        .collect();
    Ok(Json(json!({
        "seq": v.seq,
        "time": now,
        "timelock_ms": st.governance.timelock_ms,
        "min_delay_ms": st.governance.min_delay_ms,
        "proposals": proposals,
        "changes": changes,
        "debt_against_halted": exposed,
    })))
}
