//! The dashboard in a real browser: `ballast serve` on loopback, headless Chromium loads `/`,
//! runs its script for a few seconds of virtual time, and the DOM it leaves must show live data
//! in every panel and no error.
//!
//! Needs Debian's Chromium (`/usr/bin/chromium`, or `BALLAST_CHROMIUM`). `.ci/run` installs it
//! and sets `BALLAST_REQUIRE_BROWSER=1`, so in CI a missing browser fails the test; elsewhere
//! the test says it was skipped. `BALLAST_SCREENSHOT=PATH` also writes a PNG of the page after
//! the auction test's crash.

#[path = "../../cli/tests/support/browser.rs"]
mod browser;
mod common;

use browser::{assert_clean_console, chromium, headless};
use common::*;
use std::path::PathBuf;

/// Number of data rows (after the header row) in the table with this id.
fn rows(dom: &str, id: &str) -> usize {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let end = dom[start..]
        .find("</table>")
        .map_or(dom.len(), |e| start + e);
    dom[start..end].matches("<tr>").count().saturating_sub(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_renders_live_data_without_errors() {
    let Some(bin) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let genesis = genesis_file(dir.path());
    let (running, base) = start(config(&dir.path().join("data"), &genesis)).await;
    // A queued parameter change, so the governance panel shows a countdown.
    let (status, body) = post(
        &base,
        None,
        &serde_json::json!({"time": 1_700_000_000_001i64, "cmd": {"type": "propose", "role": "governor",
            "key": {"scope": "market", "market": 0, "field": "maint_margin"}, "value": 60_000_000}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let url = format!("{base}/");
    let b = bin.clone();
    let (dom, log) = tokio::task::spawn_blocking(move || headless(&b, &url, &["--dump-dom"]))
        .await
        .unwrap();
    // The script ran and every panel holds data from the live engine.
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|s| s.split("</title>").next())
        .unwrap_or("");
    assert_eq!(
        title, "Ballast risk",
        "the page reported an error in its title"
    );
    let seq = dom
        .split("id=\"seq\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("");
    assert!(seq.parse::<u64>().is_ok(), "seq not filled: {seq:?}");
    assert!(rows(&dom, "pools") >= 1, "no pool rows");
    assert!(rows(&dom, "markets") >= 1, "no market rows");
    assert!(rows(&dom, "oracles") >= 1, "no oracle rows");
    // The contagion panels: the solvency crate's graph and a shock's losses per node.
    assert!(rows(&dom, "contagion") >= 1, "no contagion edges");
    assert!(rows(&dom, "shock") >= 1, "no shock losses");
    assert!(
        dom.contains("<th>account</th><th>health</th><th>requirement</th>"),
        "queue table not drawn"
    );
    assert!(
        dom.contains("<th>proposal</th><th>setting</th>"),
        "governance panel not drawn"
    );
    assert!(
        dom.contains("maint_margin</td><td>0.06") && dom.contains("pending</td><td>24.00 h"),
        "the queued change and its countdown are not shown"
    );
    assert!(
        dom.contains("<th>account</th><th>market</th><th>debt</th>"),
        "halted-exposure panel not drawn"
    );
    // The charts were drawn (uPlot canvases) and hold data: the fund history and the
    // headroom distribution.
    for id in ["fund", "health"] {
        let at = dom
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no chart {id}"));
        let tag = &dom[at..at + dom[at..].find('>').unwrap_or(0)];
        let points: usize = tag
            .split("data-points=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!(points > 0, "chart {id} has no data: {tag}");
        assert!(dom[at..].contains("<canvas"), "chart {id} not drawn");
    }
    for head in [
        "<th>rank</th><th>account</th><th>of</th>",
        "<th>time (UTC)</th><th>what</th><th>account</th>",
        "<th>time (UTC)</th><th>scope</th><th>from</th><th>to</th><th>cause</th>",
    ] {
        assert!(dom.contains(head), "panel not drawn: {head}");
    }
    // The near-liquidation count on the page is the API's.
    let (status, risk) = get(&base, "/v1/risk").await;
    assert_eq!(status, 200, "{risk}");
    let risk: serde_json::Value = serde_json::from_str(&risk).expect("risk JSON");
    let near = dom
        .split("id=\"near\"")
        .nth(1)
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .unwrap_or("");
    assert_eq!(
        near,
        risk["health"]["near_liquidation"].to_string(),
        "near liquidation"
    );
    // No JavaScript error reached the console.
    assert_clean_console(&log);
    running.shutdown().await.expect("clean shutdown");
}

/// Dutch-auction takes on a crashed book appear on the dashboard as clearing price ÷ engine
/// price, and each value is the API's `paid / at_mark` for that take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auction_takes_show_their_clearing_price_against_the_oracle() {
    use ballast_engine::command::{Command, Envelope};
    use ballast_engine::demo;
    use ballast_engine::params::{LiquidationParams, Mechanism};
    let Some(bin) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The synthetic book, with the pool switched to Dutch auctions before any account opens.
    let t0 = 1_700_000_000_000i64;
    let book = demo::synthetic_book(8, 7);
    let cut = demo::genesis(t0).len();
    let mut journal: Vec<Envelope> = book[..cut].to_vec();
    journal.push(Envelope {
        by: None,
        time: ballast_engine::num::Timestamp(t0),
        cmd: Command::ConfigureLiquidation {
            role: ballast_engine::Role::Governor,
            pool: demo::POOL,
            params: LiquidationParams {
                mechanism: Mechanism::DutchAuction,
                ..LiquidationParams::default()
            },
        },
    });
    journal.extend_from_slice(&book[cut..]);
    let genesis = dir.path().join("genesis.jsonl");
    std::fs::write(&genesis, ballast_engine::journal::to_text(&journal)).unwrap();
    let (running, base) = start(config(&dir.path().join("data"), &genesis)).await;
    // BTC falls 12 %: the leveraged traders go below maintenance.
    let crash = serde_json::json!({"time": t0 + 10_000, "cmd": {"type": "set_price", "asset": demo::BTC.0, "price": 57_200.0}});
    let (status, body) = post(&base, None, &crash).await;
    assert_eq!(status, 200, "{body}");
    let (status, q) = get(&base, "/v1/liquidation-queue").await;
    assert_eq!(status, 200, "{q}");
    let q: serde_json::Value = serde_json::from_str(&q).unwrap();
    let under: Vec<u64> = q["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["account"].as_u64().unwrap())
        .collect();
    assert!(
        under.len() >= 2,
        "the crash leaves accounts to auction: {q}"
    );
    for (i, account) in under.iter().take(2).enumerate() {
        let t = t0 + 20_000 + 1_000 * i as i64;
        let start_cmd = serde_json::json!({"time": t, "cmd": {"type": "start_auction", "account": account, "keeper": 0}});
        let (status, body) = post(&base, None, &start_cmd).await;
        assert_eq!(status, 200, "{body}");
    }
    // A keeper bids five minutes later, at whatever the curve asks (no limit).
    let mut taken = 0;
    for i in 0..2 {
        let t = t0 + 320_000 + 1_000 * i as i64;
        let take_cmd = serde_json::json!({"time": t, "cmd": {"type": "take_auction", "auction": i,
            "bidder": 0, "max_amount": i64::MAX, "price_limit": 1e6}});
        let (status, body) = post(&base, None, &take_cmd).await;
        assert_eq!(status, 200, "{body}");
        taken += 1;
    }
    // What the API says each take cleared at, relative to the engine price.
    let (status, ev) = get(&base, "/v1/events?after=0&limit=1000").await;
    assert_eq!(status, 200);
    let ev: serde_json::Value = serde_json::from_str(&ev).unwrap();
    let mut want = Vec::new();
    for row in ev["events"].as_array().unwrap() {
        for e in row["events"].as_array().unwrap() {
            if e["event"] == "auction_taken" {
                let (paid, mark) = (e["paid"].as_f64().unwrap(), e["at_mark"].as_f64().unwrap());
                assert!(mark > 0.0, "{e}");
                let r = paid / mark;
                let pct = 100.0
                    * if e["size"].as_f64().unwrap() >= 0.0 {
                        r
                    } else {
                        2.0 - r
                    };
                want.push(format!("{pct:.2} %"));
            }
        }
    }
    assert_eq!(want.len(), taken, "one auction_taken per take");
    let url = format!("{base}/");
    let b = bin.clone();
    let (dom, log) = tokio::task::spawn_blocking(move || headless(&b, &url, &["--dump-dom"]))
        .await
        .unwrap();
    let at = dom.find("id=\"clearing\"").expect("clearing chart");
    let tag = &dom[at..at + dom[at..].find('>').unwrap_or(0)];
    assert!(
        tag.contains(&format!("data-points=\"{taken}\"")),
        "one point per take: {tag}"
    );
    assert!(dom[at..].contains("<canvas"), "clearing chart not drawn");
    for pct in &want {
        assert!(
            dom.contains(&format!("<td>{pct}</td>")),
            "{pct} not in the table"
        );
    }
    assert_clean_console(&log);
    if let Some(png) = std::env::var_os("BALLAST_SCREENSHOT") {
        let url = format!("{base}/");
        let shot = format!("--screenshot={}", PathBuf::from(png).display());
        tokio::task::spawn_blocking(move || headless(&bin, &url, &[&shot]))
            .await
            .unwrap();
    }
    running.shutdown().await.expect("clean shutdown");
}
