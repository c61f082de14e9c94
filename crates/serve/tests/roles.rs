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

/// Every command kind under every principal, against a book where owner i owns account i:
/// accepted by `authorize` exactly where the role table of the README allows. (Commands are
/// taken from the example journals where their configuration is long; the four kinds that no
/// example holds — `configure_breaker`, `configure_vol_margin`, `create_option_series`,
/// `set_vol_surface` — go through the same claimed-role rule as `configure_oracle`.)
#[test]
fn role_matrix_over_every_command() {
    use ballast_serve::auth::{authorize, Principal};
    use ballast_serve::kind::kind;
    let mut e = ballast_engine::Engine::new();
    for env in ballast_engine::demo::synthetic_book(3, 1) {
        e.apply(&env).unwrap();
    }
    let examples: Vec<ballast_engine::Envelope> = [
        include_str!("../../../examples/demo.jsonl"),
        include_str!("../../../examples/liquidation.jsonl"),
    ]
    .iter()
    .flat_map(|t| ballast_engine::journal::parse(t).unwrap())
    .map(|(_, env)| env)
    .collect();
    let from_examples = |k: &str| -> ballast_engine::Command {
        let mut c = examples
            .iter()
            .find(|e| kind(&e.cmd) == k)
            .unwrap()
            .cmd
            .clone();
        if let ballast_engine::Command::ConfigureOracle { asset, .. } = &mut c {
            *asset = ballast_engine::ids::AssetId(1);
        }
        c
    };
    let parse = |v: Value| -> ballast_engine::Command { serde_json::from_value(v).unwrap() };
    let g = "governor";
    let mut cmds: Vec<(ballast_engine::Command, &[&str])> = vec![];
    const GOV: &[&str] = &["operator", "governor"];
    const GUARD: &[&str] = &["operator", "guardian"];
    const FEED: &[&str] = &["operator", "oracle"];
    const KEEP: &[&str] = &["operator", "keeper"];
    const OWN: &[&str] = &["operator", "owner1"];
    const TRADE: &[&str] = &["operator", "venue", "owner1"];
    for k in [
        "create_asset",
        "create_pool",
        "add_collateral",
        "create_market",
        "configure_liquidation",
        "shutdown",
    ] {
        cmds.push((from_examples(k), GOV));
    }
    cmds.push((from_examples("configure_oracle"), GOV));
    cmds.push((from_examples("oracle_update"), FEED));
    for v in [
        json!({"type": "propose", "role": g, "key": {"scope": "market", "market": 0, "field": "init_margin"}, "value": 1}),
        json!({"type": "execute", "role": g, "proposal": 0}),
        json!({"type": "cancel", "role": g, "proposal": 0}),
        json!({"type": "unpause", "role": g, "scope": {"kind": "global"}}),
        json!({"type": "govern_breaker", "role": g, "scope": {"kind": "market", "id": 0}, "mode": "Normal"}),
    ] {
        cmds.push((parse(v), GOV));
    }
    cmds.push((
        parse(json!({"type": "pause", "role": "guardian", "scope": {"kind": "global"}})),
        GUARD,
    ));
    cmds.push((
        parse(json!({"type": "set_auction_breaker", "role": "guardian", "pool": 0, "level": 1})),
        GUARD,
    ));
    cmds.push((
        parse(json!({"type": "set_price", "asset": 1, "price": 1.0})),
        FEED,
    ));
    cmds.push((
        parse(json!({"type": "chain_status", "halted": false, "congestion": 0.0})),
        FEED,
    ));
    cmds.push((parse(json!({"type": "settle_funding", "market": 0})), KEEP));
    cmds.push((parse(json!({"type": "expire_series", "series": 0})), KEEP));
    cmds.push((
        parse(json!({"type": "open_account", "owner": 1, "pool": 0})),
        OWN,
    ));
    for v in [
        json!({"type": "deposit", "account": 1, "asset": 0, "amount": 1}),
        json!({"type": "withdraw", "account": 1, "asset": 0, "amount": 1}),
        json!({"type": "borrow", "account": 1, "amount": 1}),
        json!({"type": "transfer", "from": 1, "to": 2, "asset": 0, "amount": 1}),
        json!({"type": "set_margin_mode", "account": 1, "mode": "portfolio"}),
        json!({"type": "settle_options", "account": 1}),
        json!({"type": "claim", "account": 1, "asset": 0, "amount": 1}),
        json!({"type": "take_auction", "auction": 0, "bidder": 1, "max_amount": 1, "price_limit": 1.0}),
    ] {
        cmds.push((parse(v), OWN));
    }
    cmds.push((
        parse(
            json!({"type": "fill", "market": 0, "taker": 1, "maker": 1, "size": 1, "price": 1.0}),
        ),
        TRADE,
    ));
    cmds.push((parse(json!({"type": "option_fill", "series": 0, "taker": 1, "maker": 1, "size": 1, "premium": 1.0})), TRADE));
    for v in [
        json!({"type": "liquidate", "liquidator": 0, "account": 1, "market": null, "max_size": null}),
        json!({"type": "start_auction", "account": 1, "keeper": 0}),
        json!({"type": "redo_auction", "auction": 0, "keeper": 0}),
    ] {
        cmds.push((parse(v), KEEP));
    }
    let principals = [
        ("operator", Principal::Operator),
        ("governor", Principal::Governor),
        ("guardian", Principal::Guardian),
        ("oracle", Principal::Oracle { assets: None }),
        ("keeper", Principal::Keeper { owner: None }),
        ("venue", Principal::Venue),
        (
            "owner1",
            Principal::Owner {
                owner: ballast_engine::ids::OwnerId(1),
            },
        ),
        (
            "owner2",
            Principal::Owner {
                owner: ballast_engine::ids::OwnerId(2),
            },
        ),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for (cmd, allowed) in &cmds {
        kinds.insert(kind(cmd));
        for (name, p) in &principals {
            let got = authorize(p, cmd, e.state()).is_ok();
            assert_eq!(got, allowed.contains(name), "{} as {name}", kind(cmd));
        }
    }
    assert_eq!(
        kinds.len(),
        37 - 4,
        "every command kind but the four named above: {kinds:?}"
    );
}
