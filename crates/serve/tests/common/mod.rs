//! Shared helpers: a genesis book, a real server on an ephemeral loopback port, an HTTP client.
#![allow(dead_code)]

use ballast_engine::demo;
use ballast_engine::{journal, Engine, Envelope};
use ballast_serve::{Running, ServeConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Traders in the test book: owner i owns account i (account 0 is the market maker).
pub const TRADERS: usize = 4;

/// Writes the genesis journal (a synthetic book) into `dir` and returns its path.
pub fn genesis_file(dir: &Path) -> PathBuf {
    let p = dir.join("genesis.jsonl");
    std::fs::write(&p, journal::to_text(&demo::synthetic_book(TRADERS, 7))).unwrap();
    p
}

/// The state hash of the genesis followed by `extra`, computed in-process. Every genesis
/// command must be accepted; `extra` may hold commands the engine refuses (a random stream,
/// answered with its rejection by the server too; a refusal changes nothing, which
/// `engine/tests/invariants.rs` checks), but not only those, or the replay would prove nothing.
pub fn replay_hash(extra: &[Envelope]) -> String {
    let mut e = Engine::new();
    for env in demo::synthetic_book(TRADERS, 7) {
        if let Err(r) = e.apply(&env) {
            panic!("genesis command {:?} refused: {r}", env.cmd);
        }
    }
    let refused = extra.iter().filter(|env| e.apply(env).is_err()).count();
    assert!(
        extra.is_empty() || refused < extra.len(),
        "all {refused} replayed commands were refused"
    );
    e.state_hash()
}

pub fn config(data: &Path, genesis: &Path) -> ServeConfig {
    let mut c = ServeConfig::new(data);
    c.listen = "127.0.0.1:0".into();
    c.genesis = Some(genesis.to_path_buf());
    c
}

pub async fn start(c: ServeConfig) -> (Running, String) {
    let r = ballast_serve::start(c).await.expect("server starts");
    let base = format!("http://{}", r.addr);
    (r, base)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs a JSON body to /v1/commands; returns status and body.
pub async fn post(base: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut rq = client().post(format!("{base}/v1/commands")).json(body);
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    let resp = rq.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}

pub async fn get(base: &str, path: &str) -> (u16, String) {
    get_as(base, path, None).await
}

pub async fn get_as(base: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut rq = client().get(format!("{base}{path}"));
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    let resp = rq.send().await.expect("request");
    (resp.status().as_u16(), resp.text().await.unwrap())
}

pub async fn state_hash(base: &str) -> (u64, String) {
    state_hash_as(base, None).await
}

pub async fn state_hash_as(base: &str, token: Option<&str>) -> (u64, String) {
    let (s, body) = get_as(base, "/v1/state-hash", token).await;
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    (
        v["seq"].as_u64().unwrap(),
        v["state_hash"].as_str().unwrap().to_string(),
    )
}

/// A deposit of `usdc` whole USDC into `account` at `time` (after the genesis times).
pub fn deposit(time: i64, account: u32, usdc: i64) -> Value {
    serde_json::json!({"time": time, "cmd": {"type": "deposit", "account": account, "asset": 0, "amount": usdc * 1_000_000}})
}

pub fn withdraw(time: i64, account: u32, usdc: i64) -> Value {
    serde_json::json!({"time": time, "cmd": {"type": "withdraw", "account": account, "asset": 0, "amount": usdc * 1_000_000}})
}

/// Base time of test commands (the synthetic book uses t0 and t0 + 1).
pub const T: i64 = 1_700_000_000_000 + 100;

pub fn env_of(v: &Value) -> Envelope {
    serde_json::from_value(v.clone()).unwrap()
}
