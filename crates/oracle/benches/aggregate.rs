//! Hot path: one aggregate update per asset with 5 sources (target < 1 µs).
//!
//! `cargo bench -p ballast-oracle --bench aggregate`

use ballast_oracle::{Aggregator, AggregatorConfig, Quote, SourceId, SourceSpec};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn five_sources() -> Aggregator {
    let specs: Vec<SourceSpec> = (0..5)
        .map(|i| SourceSpec {
            id: SourceId(i),
            weight: 1.0 + f64::from(i) * 0.25,
        })
        .collect();
    let cfg = AggregatorConfig {
        quorum: 3,
        ..AggregatorConfig::default()
    };
    let mut agg = Aggregator::new(cfg, &specs).unwrap();
    for i in 0..5u32 {
        agg.submit(Quote {
            source: SourceId(i),
            price: 100.0 + f64::from(i) * 0.03,
            confidence: 0.02,
            publish_ms: 0,
        })
        .unwrap();
    }
    agg
}

fn bench(c: &mut Criterion) {
    // One quote arrives (round-robin over the 5 sources), then the aggregate is recomputed.
    c.bench_function("aggregate/update_1_quote_5_sources", |b| {
        let mut agg = five_sources();
        let mut t = 0i64;
        b.iter(|| {
            t += 100;
            let src = (t / 100 % 5) as u32;
            let q = Quote {
                source: SourceId(src),
                price: 100.0 + ((t % 997) as f64) * 1e-3,
                confidence: 0.02,
                publish_ms: t,
            };
            black_box(agg.update(black_box(q), t).unwrap())
        });
    });
    // All five sources quote, then one aggregate.
    c.bench_function("aggregate/submit_5_then_aggregate", |b| {
        let mut agg = five_sources();
        let mut t = 0i64;
        b.iter(|| {
            t += 100;
            for i in 0..5u32 {
                agg.submit(Quote {
                    source: SourceId(i),
                    price: 100.0 + f64::from(i) * 0.03 + ((t % 997) as f64) * 1e-3,
                    confidence: 0.02,
                    publish_ms: t,
                })
                .unwrap();
            }
            black_box(agg.aggregate(t).unwrap())
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
