//! `ballast bench engine`: whole-run figures for the engine, each next to a baseline measured
//! in the same run.

use crate::out::Out;
use anyhow::{bail, Result};
use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo;
use ballast_engine::num::Timestamp;
use ballast_engine::Engine;
use std::time::Instant;

fn build(envs: &[Envelope]) -> Result<Engine> {
    let mut e = Engine::new();
    let mut buf = Vec::new();
    for env in envs {
        buf.clear();
        if let Err(r) = e.apply_into(env, &mut buf) {
            bail!("setup command rejected: {r}");
        }
    }
    Ok(e)
}

pub fn engine(w: &mut Out, accounts: usize, commands: usize) -> Result<()> {
    outln!(w, "== throughput: fills + price updates, one thread ==");
    let traders = 10_000;
    let base = build(&demo::synthetic_book(traders, 7))?;
    let stream = demo::command_stream(traders, commands, 10, 11);
    let fills = stream
        .iter()
        .filter(|e| matches!(e.cmd, Command::Fill { .. }))
        .count();
    let prices = stream.len() - fills;
    let mut e = base.clone();
    let mut buf = Vec::with_capacity(64);
    let (mut ok, mut rej) = (0usize, 0usize);
    let t = Instant::now();
    for env in &stream {
        buf.clear();
        match e.apply_into(env, &mut buf) {
            Ok(()) => ok += 1,
            Err(_) => rej += 1,
        }
    }
    let dt = t.elapsed().as_secs_f64();
    outln!(w,
        "{} commands ({fills} fills, {prices} price updates) over {traders} traders in {:.3} s: {:.2} M commands/s ({} accepted, {} rejected)",
        stream.len(),
        dt,
        stream.len() as f64 / dt / 1e6,
        ok,
        rej
    );
    // Price updates alone.
    let prices_only: Vec<Envelope> = stream
        .iter()
        .filter(|e| matches!(e.cmd, Command::SetPrice { .. }))
        .cloned()
        .collect();
    let mut e2 = base.clone();
    let t = Instant::now();
    for env in &prices_only {
        buf.clear();
        let _ = e2.apply_into(env, &mut buf);
    }
    let dtp = t.elapsed().as_secs_f64();
    outln!(
        w,
        "{} price updates alone: {:.2} M/s",
        prices_only.len(),
        prices_only.len() as f64 / dtp / 1e6
    );
    outln!(
        w,
        "target ≥ 5 M commands/s: {}",
        if stream.len() as f64 / dt >= 5e6 {
            "met"
        } else {
            "NOT met"
        }
    );

    outln!(
        w,
        "\n== below-maintenance query with {accounts} accounts =="
    );
    // The book takes seconds to build: show the first section now, even into a pipe.
    w.flush()?;
    let t = Instant::now();
    let mut big = build(&demo::synthetic_book(accounts, 3))?;
    outln!(w, "built the book in {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let first = big.below_maintenance();
    outln!(
        w,
        "first query (builds the index): {:.1} ms, {} below maintenance",
        t.elapsed().as_secs_f64() * 1e3,
        first.len()
    );
    let time0 = big.state().time.0;
    let mut report = Vec::new();
    for (i, drop) in [0.99f64, 0.95, 0.90].into_iter().enumerate() {
        let env = Envelope {
            time: Timestamp(time0 + 1 + i as i64),
            cmd: Command::SetPrice {
                asset: demo::BTC,
                price: 65_000.0 * drop,
            },
        };
        big.apply(&env).map_err(|r| anyhow::anyhow!("{r}"))?;
        let t = Instant::now();
        let found = big.below_maintenance();
        let indexed = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let scan = big.below_maintenance_scan();
        let full = t.elapsed().as_secs_f64();
        if found != scan {
            bail!(
                "index and full scan disagree: {} vs {}",
                found.len(),
                scan.len()
            );
        }
        report.push((drop, found.len(), indexed, full));
    }
    outln!(
        w,
        "{:>10} {:>14} {:>12} {:>14} {:>8}",
        "BTC move",
        "liquidatable",
        "index (ms)",
        "full scan (ms)",
        "speedup"
    );
    for (drop, n, idx, full) in &report {
        outln!(
            w,
            "{:>9.0}% {:>14} {:>12.3} {:>14.1} {:>7.0}×",
            (drop - 1.0) * 100.0,
            n,
            idx * 1e3,
            full * 1e3,
            full / idx
        );
    }
    outln!(
        w,
        "target < 5 ms after one price update: {}",
        if report[0].2 < 5e-3 {
            "met (−1% move)"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
