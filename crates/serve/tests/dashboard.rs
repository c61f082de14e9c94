//! The dashboard in a real browser: `ballast serve` on loopback, headless Chromium loads `/`,
//! runs its script for a few seconds of virtual time, and the DOM it leaves must show live data
//! in every panel and no error.
//!
//! Needs Debian's Chromium (`/usr/bin/chromium`, or `BALLAST_CHROMIUM`). `.ci/run` installs it
//! and sets `BALLAST_REQUIRE_BROWSER=1`, so in CI a missing browser fails the test; elsewhere
//! the test says it was skipped. `BALLAST_SCREENSHOT=PATH` also writes a PNG of the page.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let p = std::env::var_os("BALLAST_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    p.exists().then_some(p)
}

/// Runs headless Chromium on `url` with `extra` flags; returns stdout and stderr.
fn headless(bin: &PathBuf, url: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=4000",
            "--window-size=1200,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {:?}", out.status);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
        assert!(
            std::env::var_os("BALLAST_REQUIRE_BROWSER").is_none(),
            "BALLAST_REQUIRE_BROWSER is set but no Chromium at /usr/bin/chromium or BALLAST_CHROMIUM"
        );
        eprintln!("skipped: no Chromium (install Debian's chromium, or set BALLAST_CHROMIUM)");
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
    // The insurance chart has a polyline once two samples exist.
    assert!(
        dom.contains("<polyline"),
        "the insurance fund chart has no data"
    );
    // No JavaScript error reached the console.
    for line in log.lines().filter(|l| l.contains("CONSOLE")) {
        assert!(
            !line.contains("Uncaught") && !line.to_lowercase().contains("error"),
            "console: {line}"
        );
    }
    if let Some(png) = std::env::var_os("BALLAST_SCREENSHOT") {
        let url = format!("{base}/");
        let shot = format!("--screenshot={}", PathBuf::from(png).display());
        tokio::task::spawn_blocking(move || headless(&bin, &url, &[&shot]))
            .await
            .unwrap();
    }
    running.shutdown().await.expect("clean shutdown");
}
