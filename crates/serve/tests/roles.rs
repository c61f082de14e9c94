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
/// accepted by `authorize` (the engine's permission matrix over each token's grants) exactly
/// where the role table of the README allows. Commands are taken from the example journals
/// where their configuration is long, or built from their types.
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
    use ballast_engine::Command as C;
    use ballast_engine::Role::Governor;
    cmds.push((
        C::ConfigureBreaker {
            role: Governor,
            scope: ballast_engine::Scope::Market(ballast_engine::ids::MarketId(0)),
            config: ballast_oracle::breaker::BreakerConfig::default(),
        },
        GOV,
    ));
    cmds.push((
        C::ConfigureVolMargin {
            role: Governor,
            market: ballast_engine::ids::MarketId(0),
            config: ballast_engine::volmargin::VolMarginConfig {
                model: ballast_engine::volmargin::VolModel::Ewma { lambda: 0.94 },
                interval_ms: 60_000,
                k: 3.0,
                horizon: 4.0,
                max_step: 0.02,
            },
        },
        GOV,
    ));
    cmds.push((
        parse(json!({"type": "create_option_series", "role": g, "pool": 0, "underlying": 1, "kind": "call", "strike": 70000.0, "expiry": 1_800_000_000_000i64})),
        GOV,
    ));
    cmds.push((
        parse(json!({"type": "set_vol_surface", "asset": 1, "surface": {"type": "grid", "expiries": [0.1, 1.0], "log_moneyness": [-1.0, 1.0], "vols": [[0.6, 0.6], [0.6, 0.6]]}})),
        FEED,
    ));
    // Roles: sealing is the governor's (the engine is open here); a grant or revoke runs
    // only from an executed proposal, so no token may send one; queuing one is the governor's.
    cmds.push((
        parse(json!({"type": "seal_roles", "holders": [{"principal": 1, "grants": [{"role": "governor"}]}]})),
        GOV,
    ));
    const NOBODY: &[&str] = &["operator"];
    cmds.push((
        parse(json!({"type": "grant_role", "principal": 7, "grant": {"role": "venue"}})),
        NOBODY,
    ));
    cmds.push((
        parse(json!({"type": "revoke_role", "principal": 1, "grant": {"role": "governor"}})),
        NOBODY,
    ));
    cmds.push((
        parse(json!({"type": "propose_command", "role": g, "command": {"type": "create_asset", "role": g, "symbol": "SOL", "decimals": 9}})),
        GOV,
    ));
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
    assert_eq!(kinds.len(), 41, "every command kind: {kinds:?}");
}

/// An engine whose role registry is sealed at genesis: each token signs as its engine
/// principal, the engine checks the signature against its registry, a token cannot sign as
/// another principal, an unsigned command is refused by the engine itself, a listing must go
/// through the timelock, and the signed journal recovers to the same hash after a restart.
#[tokio::test]
async fn a_sealed_engine_checks_each_tokens_signature() {
    use ballast_engine::ids::{OwnerId, PrincipalId};
    use ballast_engine::roles::{Grant, Holder};
    let dir = tempfile::tempdir().unwrap();
    let mut genesis = ballast_engine::demo::synthetic_book(TRADERS, 7);
    let holder = |p: u32, grant: Grant| Holder {
        principal: PrincipalId(p),
        grants: vec![grant],
    };
    genesis.push(ballast_engine::Envelope {
        time: ballast_engine::num::Timestamp(T - 50),
        by: None,
        cmd: ballast_engine::Command::SealRoles {
            holders: vec![
                holder(1, Grant::Governor),
                holder(10, Grant::Owner { owner: OwnerId(1) }),
                holder(11, Grant::Owner { owner: OwnerId(2) }),
            ],
        },
    });
    let g = dir.path().join("sealed.jsonl");
    std::fs::write(&g, ballast_engine::journal::to_text(&genesis)).unwrap();
    let entry = |name: &str, extra: Value| {
        let mut v = json!({ "name": name, "hash": hash_token(&format!("secret-{name}")) });
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let tokens = dir.path().join("tokens.json");
    let file = json!({ "tokens": [
        entry("gov", json!({"role": "governor", "principal": 1})),
        entry("alice", json!({"role": "owner", "owner": 1, "principal": 10})),
        entry("mallory", json!({"role": "owner", "owner": 2})),
    ]});
    std::fs::write(&tokens, file.to_string()).unwrap();
    let mut c = config(&dir.path().join("d"), &g);
    c.tokens = Some(tokens.clone());
    let (srv, base) = start(c).await;
    let gov = tok("gov");
    let before = state_hash_as(&base, Some(&gov)).await;

    // The token's principal signs: accepted (the sealed engine refuses anything unsigned).
    let (s, b) = post(&base, Some(&tok("alice")), &deposit(T, 1, 1)).await;
    assert_eq!(s, 200, "{b}");
    let after_alice = state_hash_as(&base, Some(&gov)).await;
    assert_ne!(after_alice, before);
    // A token with no engine principal: the service lets the owner through, the engine
    // refuses the unsigned command, typed, and nothing changes.
    let (s, b) = post(&base, Some(&tok("mallory")), &deposit(T, 2, 1)).await;
    assert_eq!((s, b["code"].as_str()), (403, Some("unauthorized")), "{b}");
    assert_eq!(b["fields"]["principal"], Value::Null);
    assert_eq!(b["fields"]["command"], "deposit");
    // Alice may not sign as Bob's principal.
    let mut as_bob = deposit(T, 1, 1);
    as_bob["by"] = json!(11);
    let (s, b) = post(&base, Some(&tok("alice")), &as_bob).await;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")), "{b}");
    assert_eq!(b["fields"]["signs_as"], 11);
    // The governor lists only through the timelock (the service's check, the engine's matrix).
    let direct = json!({"time": T, "cmd": {"type": "create_asset", "role": "governor", "symbol": "SOL", "decimals": 9}});
    let (s, b) = post(&base, Some(&gov), &direct).await;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")), "{b}");
    assert_eq!(b["fields"]["needs"]["needs"], "proposal", "{b}");
    assert_eq!(state_hash_as(&base, Some(&gov)).await, after_alice);
    let queued = json!({"time": T, "cmd": {"type": "propose_command", "role": "governor", "command": direct["cmd"]}});
    let (s, b) = post(&base, Some(&gov), &queued).await;
    assert_eq!(s, 200, "{b}");
    let live = state_hash_as(&base, Some(&gov)).await;
    srv.shutdown().await.unwrap();

    // The signed journal recovers to the same state.
    let mut c = config(&dir.path().join("d"), &g);
    c.tokens = Some(tokens);
    let (srv, base) = start(c).await;
    assert_eq!(state_hash_as(&base, Some(&gov)).await, live);
    srv.shutdown().await.unwrap();
}
