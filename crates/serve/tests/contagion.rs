//! `GET /v1/contagion` over HTTP: on the solvency crate's three-pool demo journal, the graph is
//! exactly `Graph::from_state` of the replayed state and a shock's losses exactly
//! `apply_shock` on it (the service reuses the computation, it does not redo it); the two
//! pools sharing BTC show the edge; bad queries are refused naming the field.

mod common;

use ballast_engine::ids::AssetId;
use ballast_engine::{journal, Engine};
use ballast_solvency::contagion::{apply_shock, demo, Graph, Shock};
use common::*;

fn replayed() -> Engine {
    let mut e = Engine::new();
    for env in demo::journal() {
        e.apply(&env).expect("the demo journal replays");
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contagion_map_is_the_solvency_crates() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = dir.path().join("genesis.jsonl");
    std::fs::write(&genesis, journal::to_text(&demo::journal())).unwrap();
    let (running, base) = start(config(&dir.path().join("data"), &genesis)).await;
    let engine = replayed();

    let (status, body) = get(&base, "/v1/contagion").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let graph = Graph::from_state(engine.state()).unwrap();
    assert_eq!(v["graph"], serde_json::to_value(&graph).unwrap());
    assert!(v["shock"].is_null());
    let shared = v["graph"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "shared_collateral")
        .count();
    assert!(shared >= 1, "two pools hold BTC: {body}");

    let btc = engine
        .state()
        .assets
        .iter()
        .position(|a| a.symbol == "BTC")
        .expect("BTC listed") as u16;
    let (status, body) = get(&base, &format!("/v1/contagion?asset={btc}&pct=-40")).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let want = apply_shock(
        &engine,
        Shock {
            asset: AssetId(btc),
            pct: -40.0,
        },
    )
    .unwrap();
    assert_eq!(v["shock"], serde_json::to_value(&want).unwrap());
    let losing = want.losses.iter().filter(|l| l.loss > 0).count();
    assert!(
        losing >= 2,
        "the shared asset's shock costs both pools: {want:?}"
    );

    for (path, status, code) in [
        ("/v1/contagion?pct=-30", 400, "missing_field"),
        ("/v1/contagion?asset=999", 422, "unknown_asset"),
        ("/v1/contagion?asset=1&pct=-150", 422, "bad_shock"),
    ] {
        let (s, body) = get(&base, path).await;
        assert_eq!(s, status, "{path}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], code, "{path}: {body}");
    }
    let (s, body) = get(&base, "/v1/contagion?assets=1").await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("assets"), "names the unknown field: {body}");
    running.shutdown().await.expect("clean shutdown");
}
