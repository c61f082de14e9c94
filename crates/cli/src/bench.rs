//! `ballast bench engine`: whole-run figures for the engine, each next to a baseline measured
//! in the same run.

use crate::out::Out;
use anyhow::{bail, Result};
use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo;
use ballast_engine::num::Timestamp;
use ballast_engine::Engine;
use std::hint::black_box;
use std::time::Instant;

/// One command of the throughput stream as plain numbers, for the baseline loop.
#[derive(Clone, Copy)]
enum Plain {
    Fill {
        taker: usize,
        maker: usize,
        size: i64,
        price: f64,
    },
    Price(f64),
}

fn plain(stream: &[Envelope]) -> Vec<Plain> {
    stream
        .iter()
        .filter_map(|e| match e.cmd {
            Command::Fill {
                taker,
                maker,
                size,
                price,
                ..
            } => Some(Plain::Fill {
                taker: taker.0 as usize,
                maker: maker.0 as usize,
                size: size.0,
                price,
            }),
            Command::SetPrice { price, .. } => Some(Plain::Price(price)),
            _ => None,
        })
        .collect()
}

/// The floor under any engine: the same fills as a minimal hand-written loop over plain
/// integer arrays — the price to fixed point, the rounded-up notional, both fees, each side's
/// size, cost basis and quote balance, the fee account — with no checks, no events, no
/// interest, funding or margin. Returns the seconds taken and a checksum (printed, so the
/// optimizer cannot drop the work).
fn plain_loop(ops: &[Plain], accounts: usize) -> (f64, i64) {
    // `a / b` rounded up, for a ≥ 0 and b > 0.
    let up = |a: i128, b: i128| (a + b - 1) / b;
    // BTC (8 decimals) priced in USDC (6): raw steps of 1e-12 quote-native per sat.
    let scale = ballast_engine::num::pow10(6 - 8 + 12);
    let (taker_fee, maker_fee) = (500_000i128, 200_000i128); // 0.05%, 0.02% of 1e9
    let mut size = vec![0i64; accounts];
    let mut basis = vec![0i64; accounts];
    let mut quote = vec![0i64; accounts];
    let mut fees = 0i64;
    let mut index = 0i64;
    let t = Instant::now();
    for op in black_box(ops) {
        match *op {
            Plain::Fill {
                taker,
                maker,
                size: q,
                price,
            } => {
                let px = (price * scale).round() as i64;
                let notional = up((q as i128).abs() * px as i128, 1_000_000_000_000) as i64;
                let cash = if q > 0 { -notional } else { notional };
                let (ft, fm) = (
                    up(notional as i128 * taker_fee, 1_000_000_000) as i64,
                    up(notional as i128 * maker_fee, 1_000_000_000) as i64,
                );
                size[taker] += q;
                basis[taker] += cash;
                quote[taker] -= ft;
                size[maker] -= q;
                basis[maker] -= cash;
                quote[maker] -= fm;
                fees += ft + fm;
            }
            Plain::Price(p) => index = (p * scale).round() as i64,
        }
    }
    let dt = t.elapsed().as_secs_f64();
    let sum = black_box(&size).iter().sum::<i64>()
        ^ black_box(&basis)
            .iter()
            .fold(0i64, |a, b| a.wrapping_add(*b))
        ^ black_box(&quote)
            .iter()
            .fold(0i64, |a, b| a.wrapping_add(*b));
    (dt, sum ^ fees ^ index)
}

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
    // The same stream through the plain-array loop (best of three: it takes milliseconds).
    let ops = plain(&stream);
    let n_accounts = e.state().accounts.len();
    let (mut best, mut check) = (f64::INFINITY, 0);
    for _ in 0..3 {
        let (d, c) = plain_loop(&ops, n_accounts);
        (best, check) = (best.min(d), c);
    }
    let (engine_rate, plain_rate) = (stream.len() as f64 / dt, ops.len() as f64 / best);
    outln!(
        w,
        "same commands as a plain-array loop (no checks, no events): {:.1} M commands/s (checksum {check:x})",
        plain_rate / 1e6
    );
    outln!(
        w,
        "engine / plain loop: {:.3} (the plain loop is {:.0}× faster)",
        engine_rate / plain_rate,
        plain_rate / engine_rate
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
            by: None,
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
