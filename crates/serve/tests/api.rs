//! The HTTP API against a real server: typed refusals leave the state unchanged, bad input
//! is refused before the journal, metrics and the OpenAPI document respond, the event
//! history pages and the SSE stream delivers committed events.

mod common;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_rejected_command_is_a_typed_4xx_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let (srv, base) = start(config(&dir.path().join("d"), &g)).await;
    let before = state_hash(&base).await;
    let (s, body) = post(&base, None, &withdraw(T, 1, 1_000_000_000)).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["code"], "insufficient_balance", "{body}");
    assert_eq!(body["fields"]["account"], 1);
    assert!(body["message"].as_str().unwrap().contains("cannot take"));
    assert_eq!(state_hash(&base).await, before);
    let (s, body) = post(&base, None, &deposit(T, 99, 1)).await;
    assert_eq!((s, body["code"].as_str()), (404, Some("unknown_account")));
    // Time going backwards.
    post(&base, None, &deposit(T + 10, 1, 1)).await;
    let after_ok = state_hash(&base).await;
    let (s, body) = post(&base, None, &deposit(T, 1, 1)).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (409, Some("time_went_backwards"))
    );
    assert_eq!(state_hash(&base).await, after_ok);
    srv.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_input_is_refused_before_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let (srv, base) = start(config(&dir.path().join("d"), &g)).await;
    let before = state_hash(&base).await;
    let raw = |body: &'static str| {
        let base = base.clone();
        async move {
            let r = client()
                .post(format!("{base}/v1/commands"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (s, b) = raw("{\"time\": 1, \"cmd\": ").await;
    assert_eq!((s, b["code"].as_str()), (400, Some("malformed_json")));
    let (s, b) = raw(r#"{"time":1700000000000100,"cmd":{"type":"deposit","account":1,"asset":0,"amount":5,"memo":"x"}}"#).await;
    assert_eq!((s, b["code"].as_str()), (400, Some("unknown_field")), "{b}");
    let (s, b) =
        raw(r#"{"time":1700000000000100,"cmd":{"type":"set_price","asset":1,"price":NaN}}"#).await;
    assert_eq!((s, b["code"].as_str()), (400, Some("malformed_json")));
    let huge = "x".repeat(9 << 20);
    let r = client()
        .post(format!("{base}/v1/commands"))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(state_hash(&base).await, before);
    srv.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_batch_answers_per_command_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let (srv, base) = start(config(&dir.path().join("d"), &g)).await;
    let (seq0, _) = state_hash(&base).await;
    let batch = json!([
        deposit(T, 1, 1),
        withdraw(T, 2, 1_000_000_000),
        deposit(T + 1, 2, 1)
    ]);
    let (s, body) = post(&base, None, &batch).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["refused"].as_u64()),
        (Some(2), Some(1))
    );
    let r = body["results"].as_array().unwrap();
    assert_eq!(r[0]["seq"].as_u64(), Some(seq0 + 1));
    assert_eq!(r[1]["status"], 422);
    assert_eq!(r[1]["error"]["code"], "insufficient_balance");
    assert_eq!(r[2]["seq"].as_u64(), Some(seq0 + 2));
    // The history has both accepted commands, with their events.
    let (s, page) = get(&base, &format!("/v1/events?after={seq0}&limit=10")).await;
    assert_eq!(s, 200);
    let page: Value = serde_json::from_str(&page).unwrap();
    let ev = page["events"].as_array().unwrap();
    assert_eq!(ev.len(), 2, "{page}");
    assert_eq!(ev[1]["seq"].as_u64(), Some(seq0 + 2));
    assert!(!ev[0]["events"].as_array().unwrap().is_empty());
    assert_eq!(page["next"].as_u64(), Some(seq0 + 2));
    srv.shutdown().await.unwrap();
}

#[tokio::test]
async fn queries_metrics_and_openapi_respond() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let (srv, base) = start(config(&dir.path().join("d"), &g)).await;
    post(&base, None, &withdraw(T, 1, 1_000_000_000)).await;
    let (s, _) = post(&base, None, &json!({"time": T})).await;
    assert_eq!(s, 400);
    let (s, acct) = get(&base, "/v1/accounts/1").await;
    assert_eq!(s, 200, "{acct}");
    let acct: Value = serde_json::from_str(&acct).unwrap();
    assert!(acct["health"]["maintenance"].is_object(), "{acct}");
    assert_eq!(acct["account"]["owner"], 1);
    let (s, pool) = get(&base, "/v1/pools/0").await;
    assert_eq!(s, 200);
    assert!(pool.contains("insurance_fund"), "{pool}");
    assert_eq!(get(&base, "/v1/pools/9").await.0, 404);
    assert_eq!(get(&base, "/v1/liquidation-queue").await.0, 200);
    assert_eq!(get(&base, "/v1/oracles").await.0, 200);
    assert_eq!(get(&base, "/v1/breakers").await.0, 200);
    let (s, sum) = get(&base, "/v1/summary").await;
    assert_eq!(s, 200, "{sum}");
    let sum: Value = serde_json::from_str(&sum).unwrap();
    assert_eq!(sum["accounts"].as_u64(), Some(TRADERS as u64 + 1));
    assert_eq!(sum["pools"][0]["name"], "main");
    let (s, m) = get(&base, "/metrics").await;
    assert_eq!(s, 200);
    assert!(
        m.contains("ballast_commands_total{kind=\"deposit\",outcome=\"accepted\"}"),
        "{m}"
    );
    assert!(
        m.contains("ballast_commands_total{kind=\"withdraw\",outcome=\"rejected\"} 1"),
        "{m}"
    );
    assert!(m.contains("ballast_journal_commit_seconds_bucket"), "{m}");
    assert!(
        m.contains("ballast_requests_refused_total{code=\"malformed_json\"} 1"),
        "{m}"
    );
    assert!(m.contains("ballast_apply_seconds_bucket"), "{m}");
    assert!(
        m.contains("ballast_open_interest{market=\"BTC-PERP\",side=\"long\"}"),
        "{m}"
    );
    assert!(
        m.contains("ballast_breaker_mode{market=\"BTC-PERP\"} 0"),
        "{m}"
    );
    assert!(m.contains("ballast_debt_against_halted_markets 0"), "{m}");
    let (s, doc) = get(&base, "/openapi.json").await;
    assert_eq!(s, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["paths"]["/v1/commands"]["post"].is_object(), "{doc}");
    assert!(doc["paths"]["/v1/governance"]["get"].is_object(), "{doc}");
    let (s, g) = get(&base, "/v1/governance").await;
    assert_eq!(s, 200, "{g}");
    let g: Value = serde_json::from_str(&g).unwrap();
    assert!(
        g["proposals"].is_array() && g["debt_against_halted"].is_array(),
        "{g}"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    let (s, page) = get(&base, "/").await;
    assert_eq!(s, 200);
    assert!(page.contains("Ballast risk"));
    srv.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_stream_delivers_committed_events() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let (srv, base) = start(config(&dir.path().join("d"), &g)).await;
    let mut stream = client()
        .get(format!("{base}/v1/events/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    let (s, body) = post(&base, None, &deposit(T, 2, 3)).await;
    assert_eq!(s, 200, "{body}");
    let seq = body["seq"].as_u64().unwrap();
    let mut got = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !got.contains("\n\n") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("stream open");
        got.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(got.contains("event: command"), "{got}");
    assert!(got.contains(&format!("id: {seq}")), "{got}");
    assert!(got.contains("\"deposited\""), "{got}");
    drop(stream);
    srv.shutdown().await.unwrap();
}

async fn post_keyed(base: &str, key: &str, body: &Value) -> (u16, String) {
    let r = client()
        .post(format!("{base}/v1/commands"))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_retried_keyed_request_applies_once_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let data = dir.path().join("d");
    let (srv, base) = start(config(&data, &g)).await;
    let (seq0, _) = state_hash(&base).await;
    let first = post_keyed(&base, "req-1", &deposit(T, 1, 5)).await;
    assert_eq!(first.0, 200, "{}", first.1);
    let after = state_hash(&base).await;
    assert_eq!(after.0, seq0 + 1);
    assert_eq!(
        post_keyed(&base, "req-1", &deposit(T, 1, 5)).await,
        first,
        "same answer"
    );
    assert_eq!(state_hash(&base).await, after, "applied once");
    let (s, b) = post_keyed(&base, "req-1", &deposit(T, 1, 6)).await;
    assert_eq!(s, 422);
    assert!(b.contains("idempotency_key_reused"), "{b}");
    let refused = post_keyed(&base, "req-2", &withdraw(T, 1, 1_000_000_000)).await;
    assert_eq!(refused.0, 422);
    srv.shutdown().await.unwrap();

    let (srv, base) = start(config(&data, &g)).await;
    assert_eq!(post_keyed(&base, "req-1", &deposit(T, 1, 5)).await, first);
    assert_eq!(
        post_keyed(&base, "req-2", &withdraw(T, 1, 1_000_000_000)).await,
        refused
    );
    assert_eq!(state_hash(&base).await, after);
    srv.shutdown().await.unwrap();
}

#[tokio::test]
async fn over_the_rate_limit_is_429_and_nothing_is_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let mut c = config(&dir.path().join("d"), &g);
    c.rate_limit = 2;
    let (srv, base) = start(c).await;
    let (seq0, _) = state_hash(&base).await;
    let (mut ok, mut limited) = (0, 0);
    for i in 0..20 {
        let (s, b) = post(&base, None, &deposit(T + i, 1, 1)).await;
        match s {
            200 => ok += 1,
            429 => {
                assert_eq!(b["code"], "rate_limited", "{b}");
                limited += 1;
            }
            _ => panic!("unexpected {s}: {b}"),
        }
    }
    assert!(limited > 0 && ok >= 2, "ok {ok}, limited {limited}");
    assert_eq!(
        state_hash(&base).await.0,
        seq0 + ok,
        "only the allowed requests were applied"
    );
    srv.shutdown().await.unwrap();
}
