//! Every report page in a real browser: `ballast stress NAME --out DIR` for each embedded
//! scenario, `--compare A B --out` and `ballast sweep --out`, each page opened in headless
//! Chromium. The renderer must finish with no JavaScript error, and every chart it drew must
//! hold data. `BALLAST_SCREENSHOT_DIR=DIR` also writes PNGs of the pages (docs/report.png comes
//! from this).

#[path = "support/browser.rs"]
mod browser;

use ballast_lab::embedded::EMBEDDED;
use browser::{assert_clean_console, chromium, headless};
use std::path::{Path, PathBuf};
use std::process::Command;

fn ballast(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "ballast {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The number after `key=` in the status line the renderer writes.
fn status_field(status: &str, key: &str) -> Option<usize> {
    status
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}

/// Opens `page` and checks the renderer's status, each chart's data and canvas, the console;
/// returns the page's DOM after rendering.
fn check_page(bin: &PathBuf, page: &Path, min_charts: usize) -> String {
    let url = format!("file://{}", page.display());
    let (dom, log) = headless(bin, &url, &["--dump-dom"]);
    assert_clean_console(&log);
    let status = dom
        .split("id=\"report-status\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("");
    let charts = status_field(status, "charts")
        .unwrap_or_else(|| panic!("{}: renderer did not finish: {status:?}", page.display()));
    assert!(charts >= min_charts, "{}: {status}", page.display());
    assert_eq!(
        status_field(status, "empty"),
        Some(0),
        "{}: {status}",
        page.display()
    );
    assert_eq!(
        status_field(status, "errors"),
        Some(0),
        "{}: {status}",
        page.display()
    );
    // Each figure says how many points it holds and contains the canvas uPlot drew.
    let figures: Vec<&str> = dom.split("<figure class=\"chart\"").skip(1).collect();
    assert_eq!(figures.len(), charts, "{}", page.display());
    for f in figures {
        let points: usize = f
            .split("data-points=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!(points > 0, "{}: a chart with no points", page.display());
        assert!(
            f.contains("<canvas"),
            "{}: a chart was not drawn",
            page.display()
        );
    }
    if let Some(dir) = std::env::var_os("BALLAST_SCREENSHOT_DIR") {
        let stem = page
            .parent()
            .and_then(|p| p.file_name())
            .unwrap_or_default();
        let png = PathBuf::from(dir).join(format!("{}.png", stem.to_string_lossy()));
        let shot = format!("--screenshot={}", png.display());
        headless(bin, &url, &[&shot, "--window-size=1280,2400"]);
    }
    dom
}

/// The charts a stress page must draw: the health chart and the headroom distribution always,
/// liquidations where the run liquidates, the attacker's timeline where the scenario has
/// attackers, the oracle sources of the first asset where it has an `[oracle]`.
fn required_charts(name: &str) -> Vec<&'static str> {
    let (sc, _) = ballast_lab::embedded::load(name, &[]).expect("scenario loads");
    let mut ids = vec!["health", "headroom"];
    if sc.oracle.is_some() {
        ids.push("oracle_0");
    }
    if ["march-2020", "jump-tail", "mango-2022-attack-naive"].contains(&name) {
        ids.extend(["liquidations", "liq_volume"]);
    }
    if !sc.agents.attackers.is_empty() {
        ids.extend(["attacker_books", "attacker_profit"]);
    }
    ids
}

#[test]
fn every_report_page_renders_its_charts_with_data_and_no_errors() {
    let Some(bin) = chromium() else {
        return;
    };
    let root = tempfile::tempdir().expect("temp dir");
    for (name, _) in EMBEDDED {
        let dir = root.path().join(name);
        let d = dir.display().to_string();
        ballast(&["stress", name, "--paths", "6", "--seed", "3", "--out", &d]);
        // Fund, insolvency, a price per asset, two distributions, health at the least.
        let dom = check_page(&bin, &dir.join("report.html"), 6);
        for id in required_charts(name) {
            assert!(
                dom.contains(&format!("id=\"chart-{id}\"")),
                "{name}: no {id} chart"
            );
        }
        // The oracle manipulation window is shaded on the time charts.
        if name.starts_with("oracle-manipulation") {
            assert!(
                dom.contains("manipulation ×"),
                "{name}: no fault window label"
            );
        }
    }
    let dir = root.path().join("compare");
    let d = dir.display().to_string();
    ballast(&[
        "stress",
        "--compare",
        "oracle-manipulation-naive",
        "oracle-manipulation-defended",
        "--paths",
        "6",
        "--out",
        &d,
    ]);
    check_page(&bin, &dir.join("compare.html"), 3);
    let dir = root.path().join("sweep");
    let d = dir.display().to_string();
    ballast(&[
        "sweep",
        "jump-tail",
        "--set",
        "population.leverage.max=6",
        "--grid",
        "protocol.market.init_margin=0.08,0.12",
        "--grid",
        "protocol.market.maint_margin=0.03,0.07",
        "--set",
        "horizon=100",
        "--paths",
        "6",
        "--out",
        &d,
    ]);
    check_page(&bin, &dir.join("sweep.html"), 1);
}
