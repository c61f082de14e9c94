//! Roles with credentials against a real server: a trader acts only on its own accounts,
//! only the governor governs, each feeder feeds only its assets, and every refusal is a typed
//! 401/403 body that leaves the state unchanged.

mod common;
use ballast_serve::auth::hash_token;
use common::*;
use serde_json::{json, Value};

fn token_file(dir: &std::path::Path) -> std::path::PathBuf {
    let entry = |name: &str, extra: Value| {
        let mut v = json!({ "name": name, "hash": hash_token(&format!("secret-{name}")) });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let file = json!({ "tokens": [
        entry("gov", json!({"role": "governor"})),
        entry("guard", json!({"role": "guardian"})),
        entry("alice", json!({"role": "owner", "owner": 1})),
        entry("bob", json!({"role": "owner", "owner": 2})),
        entry("feed", json!({"role": "oracle", "assets": [1]})),
        entry("keeper", json!({"role": "keeper"})),
        entry("venue", json!({"role": "venue"})),
    ]});
    let p = dir.join("tokens.json");
    std::fs::write(&p, file.to_string()).unwrap();
    p
}

fn tok(name: &str) -> String {
    format!("secret-{name}")
}

#[tokio::test]
async fn each_role_acts_only_within_its_rights() {
    let dir = tempfile::tempdir().unwrap();
    let g = genesis_file(dir.path());
    let mut c = config(&dir.path().join("d"), &g);
    c.tokens = Some(token_file(dir.path()));
    let (srv, base) = start(c).await;
    let alice = tok("alice");
    assert_eq!(
        get(&base, "/v1/state-hash").await.0,
        401,
        "reads need a token too"
    );
    let before = state_hash_as(&base, Some(&tok("gov"))).await;

    // No token, or an unknown one: 401.
    let (s, b) = post(&base, None, &deposit(T, 1, 1)).await;
    assert_eq!((s, b["code"].as_str()), (401, Some("unauthenticated")));
    let (s, _) = post(&base, Some("guess"), &deposit(T, 1, 1)).await;
    assert_eq!(s, 401);
    // Alice on Bob's account: 403, typed, nothing changed.
    let (s, b) = post(&base, Some(&alice), &withdraw(T, 2, 1)).await;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")), "{b}");
    assert_eq!(b["fields"]["principal"], "owner");
    assert_eq!(b["fields"]["command"], "withdraw");
    assert_eq!(state_hash_as(&base, Some(&tok("gov"))).await, before);
    // Alice may not open an account for Bob, nor trade against him, nor set prices.
    let open_bob = json!({"time": T, "cmd": {"type": "open_account", "owner": 2, "pool": 0}});
    assert_eq!(post(&base, Some(&alice), &open_bob).await.0, 403);
    let fill = json!({"time": T, "cmd": {"type": "fill", "market": 0, "taker": 1, "maker": 2, "size": 100, "price": 65000.0}});
    assert_eq!(post(&base, Some(&alice), &fill).await.0, 403);
    let price = |asset: u32| json!({"time": T, "cmd": {"type": "set_price", "asset": asset, "price": 65010.0}});
    assert_eq!(post(&base, Some(&alice), &price(1)).await.0, 403);
    // A non-governor cannot propose: neither by claiming the role nor with its own.
    let propose = |role: &str| json!({"time": T, "cmd": {"type": "propose", "role": role, "key": {"scope": "market", "market": 0, "field": "init_margin"}, "value": 1100}});
    let (s, b) = post(&base, Some(&alice), &propose("governor")).await;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")), "{b}");
    let (s, b) = post(&base, Some(&tok("guard")), &propose("guardian")).await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(state_hash_as(&base, Some(&tok("gov"))).await, before);

    // Each within its rights is accepted.
    assert_eq!(post(&base, Some(&alice), &deposit(T, 1, 1)).await.0, 200);
    let open_alice = json!({"time": T, "cmd": {"type": "open_account", "owner": 1, "pool": 0}});
    assert_eq!(post(&base, Some(&alice), &open_alice).await.0, 200);
    let (s, b) = post(&base, Some(&tok("feed")), &price(1)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        post(&base, Some(&tok("feed")), &price(2)).await.0,
        403,
        "feeds BTC only"
    );
    let (s, b) = post(&base, Some(&tok("venue")), &fill).await;
    assert_eq!(s, 200, "{b}");
    let pause = json!({"time": T, "cmd": {"type": "pause", "role": "guardian", "scope": {"kind": "global"}}});
    assert_eq!(post(&base, Some(&tok("alice")), &pause).await.0, 403);
    let (s, b) = post(&base, Some(&tok("guard")), &pause).await;
    assert_eq!(s, 200, "{b}");
    let unpause = json!({"time": T, "cmd": {"type": "unpause", "role": "governor", "scope": {"kind": "global"}}});
    assert_eq!(post(&base, Some(&tok("guard")), &unpause).await.0, 403);
    assert_eq!(post(&base, Some(&tok("gov")), &unpause).await.0, 200);
    srv.shutdown().await.unwrap();
}
