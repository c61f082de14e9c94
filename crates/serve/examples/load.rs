//! Load figure for `ballast serve`: acknowledged (durable) commands per second over HTTP on
//! loopback, against the in-process engine's apply rate on the same commands, in one run.
//!
//! ```sh
//! cargo run --release -p ballast-serve --example load -- [COMMANDS] [BATCH] [CLIENTS]
//! ```
//!
//! The book is `demo::synthetic_book(200)`, the commands `demo::command_stream` (fills and
//! BTC price updates) with one time, so concurrent clients do not trip the time check. Each
//! client posts batches of BATCH envelopes; a batch is answered after its group commit.

use ballast_engine::num::Timestamp;
use ballast_engine::{demo, journal, Engine, Envelope};
use std::time::{Duration, Instant};

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Commands per second of the engine alone, applying `stream` after the book.
fn engine_rate(book: &[Envelope], stream: &[Envelope]) -> f64 {
    let mut e = Engine::new();
    for env in book {
        e.apply(env).unwrap();
    }
    let mut buf = Vec::new();
    let t = Instant::now();
    for env in stream {
        buf.clear();
        let _ = e.apply_into(env, &mut buf);
    }
    stream.len() as f64 / t.elapsed().as_secs_f64()
}

async fn run_server(
    fsync: bool,
    book_file: &std::path::Path,
    stream: &[Envelope],
    batch: usize,
    clients: usize,
) -> (f64, Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ballast_serve::ServeConfig::new(dir.path().join("data"));
    c.listen = "127.0.0.1:0".into();
    c.genesis = Some(book_file.to_path_buf());
    c.fsync = fsync;
    let srv = ballast_serve::start(c).await.unwrap();
    let url = format!("http://{}/v1/commands", srv.addr);
    let bodies: Vec<String> = stream
        .chunks(batch)
        .map(|b| serde_json::to_string(b).unwrap())
        .collect();
    let per_client = bodies.len().div_ceil(clients);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for part in bodies.chunks(per_client) {
        let part = part.to_vec();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut lat = Vec::with_capacity(part.len());
            let mut acked = 0u64;
            for body in part {
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                // The answer starts `{"accepted":N,` (a batch) or `{"seq":` (one command):
                // read the count without parsing every event, to keep the client light.
                let text = r.text().await.unwrap();
                acked += match text.strip_prefix("{\"accepted\":") {
                    Some(rest) => rest.split(',').next().unwrap().parse::<u64>().unwrap(),
                    None => u64::from(text.starts_with("{\"seq\":")),
                };
                lat.push(t.elapsed());
            }
            (acked, lat)
        }));
    }
    let mut acked = 0;
    let mut lat = Vec::new();
    for t in tasks {
        let (a, l) = t.await.unwrap();
        acked += a;
        lat.extend(l);
    }
    let wall = t.elapsed().as_secs_f64();
    let rate = acked as f64 / wall;
    lat.sort();
    let metrics = reqwest::get(format!("http://{}/metrics", srv.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sum = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}_sum ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    println!(
        "  writer: engine apply {:.2} s, journal commits {:.2} s of {wall:.2} s wall",
        sum("ballast_apply_seconds"),
        sum("ballast_journal_commit_seconds")
    );
    srv.shutdown().await.unwrap();
    (rate, percentile(&lat, 0.5), percentile(&lat, 0.99))
}

#[tokio::main]
async fn main() {
    let n = arg(1, 200_000);
    let batch = arg(2, 500);
    let clients = arg(3, 4);
    let book = demo::synthetic_book(200, 1);
    let t0 = Timestamp(1_700_000_000_010);
    let stream: Vec<Envelope> = demo::command_stream(200, n, 10, 2)
        .into_iter()
        .map(|e| Envelope { time: t0, ..e })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let book_file = dir.path().join("book.jsonl");
    std::fs::write(&book_file, journal::to_text(&book)).unwrap();
    let engine = engine_rate(&book, &stream);
    println!("{n} commands, batches of {batch}, {clients} clients, loopback HTTP");
    for fsync in [true, false] {
        let (rate, p50, p99) = run_server(fsync, &book_file, &stream, batch, clients).await;
        println!(
            "durability {:<3}  {:>9.0} acknowledged commands/s  (batch latency p50 {:.2} ms, p99 {:.2} ms)  = {:.3} of the engine's in-process rate",
            if fsync { "on" } else { "off" },
            rate,
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            rate / engine
        );
    }
    println!("in-process engine {engine:>9.0} commands/s (same commands, one core)");
}
