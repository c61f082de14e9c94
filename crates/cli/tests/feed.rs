//! `ballast feed` against a real `ballast serve` on loopback: every bar of the Black Thursday
//! file reaches the engine as an oracle update at its own close time, and the server's BTC price
//! ends at the median of the venues' last closes. While the feed runs, headless Chromium watches
//! the dashboard: its oracle chart must fill with live updates.

#[path = "support/browser.rs"]
mod browser;

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo::{self, BTC, ETH};
use ballast_engine::num::Timestamp;
use ballast_engine::{journal, Role};
use ballast_oracle::aggregate::{AggregatorConfig, SourceId, SourceSpec};
use ballast_oracle::smooth::StablePriceConfig;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command as Proc};
use std::time::{Duration, Instant};

const CSV: &str = "data/2020-03_black_thursday_btc_eth_1h.csv";

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn oracle(asset: ballast_engine::ids::AssetId, quorum: usize) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(0),
        cmd: Command::ConfigureOracle {
            role: Role::Governor,
            asset,
            sources: (0..2)
                .map(|i| SourceSpec {
                    id: SourceId(i),
                    weight: 1.0,
                })
                .collect(),
            config: AggregatorConfig {
                quorum,
                max_staleness_ms: 60_000,
                ..AggregatorConfig::default()
            },
            stable: StablePriceConfig::default(),
        },
    }
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split("\r\n\r\n").nth(1).map(str::to_string)
}

/// The number in `data-points="N"` of the element with this id.
fn points(dom: &str, id: &str) -> usize {
    dom.split(&format!("id=\"{id}\""))
        .nth(1)
        .and_then(|s| s.split("data-points=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Loads the dashboard while the feed runs: the oracle chart draws several engine times.
fn watch_dashboard(bin: &std::path::PathBuf, port: u16) {
    let (dom, log) = browser::headless(bin, &format!("http://127.0.0.1:{port}/"), &["--dump-dom"]);
    browser::assert_clean_console(&log);
    assert!(
        dom.contains("<title>Ballast risk</title>"),
        "the page reported an error"
    );
    let n = points(&dom, "oracle");
    assert!(n >= 2, "the oracle chart saw {n} engine times");
    assert!(dom.contains("BTC source #1"), "the gemini source is drawn");
}

#[test]
fn feed_replays_a_price_file_into_a_live_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut genesis = demo::genesis(0);
    genesis.push(oracle(BTC, 2)); // binance and gemini
    genesis.push(oracle(ETH, 1)); // binance only in this file
    let g = dir.path().join("genesis.jsonl");
    std::fs::write(&g, journal::to_text(&genesis)).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let _server = Server(
        Proc::new(env!("CARGO_BIN_EXE_ballast"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--genesis",
            ])
            .arg(&g)
            .arg("--data")
            .arg(dir.path().join("data"))
            .spawn()
            .expect("server starts"),
    );
    let t0 = Instant::now();
    while get(port, "/v1/summary").is_none() {
        assert!(t0.elapsed() < Duration::from_secs(20), "server not up");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Paced, so the page sees the prices move: 4 commands a request, 25 ms apart (≈ 2 s).
    let feeder = Proc::new(env!("CARGO_BIN_EXE_ballast"))
        .args(["feed", "--csv", CSV, "--sources", "binance,gemini"])
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["--batch", "4", "--pace-ms", "25"])
        .current_dir(root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bin) = browser::chromium() {
        watch_dashboard(&bin, port);
    }
    let out = feeder.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 144 hourly closes of BTC (two venues, one update each) and 144 of ETH.
    assert!(
        stdout.contains("fed 288 oracle updates: 288 accepted, 0 refused"),
        "{stdout}"
    );
    // The engine's BTC price is the median (midpoint) of the two venues' last closes.
    let text = std::fs::read_to_string(format!("{root}/{CSV}")).unwrap();
    let last = |venue: &str| -> f64 {
        let line = text
            .lines()
            .rfind(|l| l.contains(&format!(",{venue},BTC/")))
            .unwrap();
        line.split(',').nth(8).unwrap().parse().unwrap()
    };
    let want = (last("binance") + last("gemini")) / 2.0;
    let body = get(port, "/v1/oracles").unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let btc = &v["assets"][1];
    assert_eq!(btc["symbol"], "BTC");
    // A fresh aggregate (half the hourly range is a wide confidence: Valid or LowConfidence).
    assert_eq!(btc["oracle"]["age_ms"], 0, "{btc}");
    assert!(
        matches!(
            btc["oracle"]["status"].as_str(),
            Some("Valid" | "LowConfidence")
        ),
        "{btc}"
    );
    let raw: f64 = btc["price"]
        .as_str()
        .map_or_else(|| btc["price"].as_f64().unwrap(), |s| s.parse().unwrap());
    // Fixed point: 1e-12 quote-native units per base-native unit (USDC 6, BTC 8 decimals).
    let human = raw * 1e-12 * 1e8 / 1e6;
    assert!((human / want - 1.0).abs() < 1e-9, "{human} vs {want}");
}
