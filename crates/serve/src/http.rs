//! The HTTP surface: routes, credentials, and `POST /v1/commands`. Queries live in
//! [`crate::queries`], the event history and stream in [`crate::stream`].

use crate::answer::render;
use crate::auth::{Principal, Tokens};
use crate::refusal::{ErrorBody, Refusal};
use crate::writer::{Reply, Shared, Submission};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ballast_engine::Envelope;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Everything a handler needs.
#[derive(Clone)]
pub struct App {
    pub shared: Arc<Shared>,
    pub tx: mpsc::Sender<Submission>,
    pub tokens: Arc<Tokens>,
    pub data: Arc<PathBuf>,
    pub metrics: PrometheusHandle,
    pub limiter: Option<Arc<crate::limit::Limiter>>,
    /// The recorder behind `metrics` (handlers run on runtime threads without a default one).
    pub recorder: Arc<metrics_exporter_prometheus::PrometheusRecorder>,
}

impl App {
    /// Counts a request refused before it reached the writer.
    fn count_refused(&self, code: &str) {
        let code = code.to_string();
        metrics::with_local_recorder(&*self.recorder, || {
            metrics::counter!("ballast_requests_refused_total", "code" => code).increment(1);
        });
    }
}

/// The router over every endpoint.
pub fn router(app: App, max_body: usize) -> Router {
    Router::new()
        .route("/v1/commands", post(post_commands))
        .route("/v1/events", get(crate::stream::history))
        .route("/v1/events/stream", get(crate::stream::live))
        .route("/v1/accounts/{id}", get(crate::queries::account))
        .route(
            "/v1/liquidation-queue",
            get(crate::queries::liquidation_queue),
        )
        .route("/v1/pools/{id}", get(crate::queries::pool))
        .route("/v1/state-hash", get(crate::queries::state_hash))
        .route("/v1/oracles", get(crate::queries::oracles))
        .route("/v1/breakers", get(crate::queries::breakers))
        .route("/v1/governance", get(crate::governance::governance))
        .route("/v1/risk", get(crate::risk::risk))
        .route("/v1/contagion", get(crate::contagion::contagion))
        .route("/v1/summary", get(crate::queries::summary))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(crate::openapi::document))
        .route("/", get(crate::dashboard::page))
        .route("/assets/uplot.js", get(crate::dashboard::uplot_js))
        .route("/assets/uplot.css", get(crate::dashboard::uplot_css))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app)
}

/// The caller's principal from `Authorization: Bearer TOKEN`.
pub fn principal(app: &App, headers: &HeaderMap) -> Result<Principal, Refusal> {
    app.tokens.principal(bearer(headers)).ok_or_else(|| {
        Refusal::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid bearer token is required",
        )
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn malformed(message: String) -> Refusal {
    Refusal::new(StatusCode::BAD_REQUEST, "malformed_json", message)
}

/// Every key of `input` that the parsed value does not carry: an unknown field, refused
/// rather than silently ignored. (A key the serializer omits because its value is empty or
/// null is not counted.)
fn unknown_fields(input: &Value, parsed: &Value, path: &str, out: &mut Vec<String>) {
    match (input, parsed) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let here = format!("{path}.{k}");
                match b.get(k) {
                    Some(pv) => unknown_fields(v, pv, &here, out),
                    None if is_empty(v) => {}
                    None => out.push(here),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                unknown_fields(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Whether [`unknown_fields`] would find any (without building paths: the common case).
fn has_unknown(input: &Value, parsed: &Value) -> bool {
    match (input, parsed) {
        (Value::Object(a), Value::Object(b)) => a.iter().any(|(k, v)| match b.get(k) {
            Some(pv) => has_unknown(v, pv),
            None => !is_empty(v),
        }),
        (Value::Array(a), Value::Array(b)) => a.iter().zip(b).any(|(x, y)| has_unknown(x, y)),
        _ => false,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(_) | Value::Bool(true) => false,
    }
}

fn parse_one(v: Value, at: &str) -> Result<Envelope, Refusal> {
    use serde::Deserialize;
    // The journal types refuse unknown fields themselves; their error names the field.
    let env = Envelope::deserialize(&v).map_err(|e| {
        let msg = format!("{at}{e}");
        if msg.contains("unknown field") {
            Refusal::new(StatusCode::BAD_REQUEST, "unknown_field", msg)
        } else {
            malformed(msg)
        }
    })?;
    let back = serde_json::to_value(&env).expect("envelopes serialize");
    if has_unknown(&v, &back) {
        let mut unknown = Vec::new();
        unknown_fields(&v, &back, "", &mut unknown);
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "unknown_field",
            format!("{at}unknown field(s): {}", unknown.join(", ")),
        )
        .with_fields(serde_json::json!({ "fields": unknown })));
    }
    Ok(env)
}

/// One envelope or an array of them; `true` when it was a single object.
fn parse_body(body: &[u8]) -> Result<(Vec<Envelope>, bool), Refusal> {
    let v: Value = serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))?;
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(malformed("an empty batch".into()));
            }
            let envs = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| parse_one(v, &format!("item {i}: ")))
                .collect::<Result<_, _>>()?;
            Ok((envs, false))
        }
        v => Ok((vec![parse_one(v, "")?], true)),
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Accepted command: its seq and events (durable when this is returned).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AcceptedBody {
    pub seq: u64,
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
}

/// A batch: one result per command, in order (each an accepted body or `{status, error}`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct BatchBody {
    pub accepted: usize,
    pub refused: usize,
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Value>,
}

/// Submit one command envelope (`{"time": ms, "cmd": {"type": ...}}`) or an array of them.
/// The answer comes after the accepted commands are committed to the journal.
#[utoipa::path(post, path = "/v1/commands", request_body(content = Object, description = "an envelope or an array of envelopes, as journal lines"),
    responses(
        (status = 200, description = "accepted and durable (single) or per-command results (batch)", body = AcceptedBody),
        (status = 400, description = "malformed JSON or an unknown field; nothing journaled", body = ErrorBody),
        (status = 401, description = "no valid token", body = ErrorBody),
        (status = 403, description = "outside the caller's role", body = ErrorBody),
        (status = 404, description = "unknown id", body = ErrorBody),
        (status = 422, description = "refused by the engine", body = ErrorBody),
        (status = 429, description = "over the caller's request rate", body = ErrorBody),
        (status = 503, description = "the journal is unavailable; nothing acknowledged", body = ErrorBody),
    ))]
pub async fn post_commands(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    match submit(&app, &headers, &body).await {
        Ok(r) => r,
        Err(refusal) => {
            app.count_refused(&refusal.body.code);
            refusal.into_response()
        }
    }
}

/// Longest accepted idempotency key.
pub const MAX_KEY: usize = 128;

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= MAX_KEY => Ok(Some(k.to_string())),
        _ => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
            format!("Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters"),
        )),
    }
}

async fn submit(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<Response, Refusal> {
    let principal = principal(app, headers)?;
    if let Some(l) = &app.limiter {
        if !l.allow(&principal) {
            return Err(Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("more than {} requests per second", l.per_second()),
            )
            .with_fields(serde_json::json!({ "per_second": l.per_second() })));
        }
    }
    let key = idempotency_key(headers)?;
    let (mut envs, single) = parse_body(body)?;
    let signer = app.tokens.signer(bearer(headers));
    for env in &mut envs {
        crate::auth::stamp(&principal, signer, env).map_err(|f| Refusal::forbidden(&f))?;
    }
    let (reply, rx) = oneshot::channel();
    let sub = Submission {
        principal,
        envs,
        single,
        key,
        reply,
    };
    let down = || Refusal::unavailable("the journal writer has stopped");
    app.tx.send(sub).await.map_err(|_| down())?;
    let answer = match rx.await.map_err(|_| down())? {
        Reply::Fresh(outs) => render(&outs, single),
        Reply::Keyed(a) => a,
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    Ok(json_response(status, answer.body))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(app): State<App>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_found() {
        let body = br#"{"time":1,"cmd":{"type":"set_price","asset":0,"price":2.0,"colour":"red"}}"#;
        let e = parse_body(body).unwrap_err();
        assert_eq!(e.body.code, "unknown_field");
        assert!(e.body.message.contains("colour"), "{}", e.body.message);
        let ok = br#"{"time":1,"cmd":{"type":"set_price","asset":0,"price":2.0}}"#;
        assert!(parse_body(ok).unwrap().1);
    }
}
