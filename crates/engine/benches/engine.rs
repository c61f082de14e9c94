//! Criterion micro-benchmarks of the engine's hot paths: a fill, a price update, and the
//! below-maintenance query against a full scan of the same book.

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo;
use ballast_engine::num::Timestamp;
use ballast_engine::Engine;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn book(n: usize) -> Engine {
    let mut e = Engine::new();
    let mut buf = Vec::new();
    for env in demo::synthetic_book(n, 5) {
        buf.clear();
        e.apply_into(&env, &mut buf).expect("setup");
    }
    e
}

fn commands(c: &mut Criterion) {
    let base = book(10_000);
    let stream = demo::command_stream(10_000, 100_000, 10, 9);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(stream.len() as u64));
    g.bench_function("fills_and_prices_100k", |b| {
        b.iter_batched(
            || base.clone(),
            |mut e| {
                let mut buf = Vec::with_capacity(16);
                for env in &stream {
                    buf.clear();
                    let _ = black_box(e.apply_into(env, &mut buf));
                }
                e
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn below_maintenance(c: &mut Criterion) {
    let n = 200_000;
    let mut e = book(n);
    e.below_maintenance();
    let t = e.state().time.0;
    let mut g = c.benchmark_group("below_maintenance");
    g.sample_size(20);
    let mut k = 0i64;
    g.bench_function("index_after_price_update_200k", |b| {
        b.iter(|| {
            k += 1;
            let price = if k % 2 == 0 { 64_000.0 } else { 64_100.0 };
            e.apply(&Envelope {
                by: None,
                time: Timestamp(t + k),
                cmd: Command::SetPrice {
                    asset: demo::BTC,
                    price,
                },
            })
            .unwrap();
            black_box(e.below_maintenance())
        })
    });
    g.bench_function("full_scan_200k", |b| {
        b.iter(|| black_box(e.below_maintenance_scan()))
    });
    g.finish();
}

criterion_group!(benches, commands, below_maintenance);
criterion_main!(benches);
