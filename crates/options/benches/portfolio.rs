//! Portfolio margin of a 50-option, 2-underlying account over the full correlated scenario grid.
//!
//! Run: `cargo bench -p ballast-options --bench portfolio`.

use ballast_options::portfolio::{
    compute_margin, Correlation, MarginParams, PortfolioFile, Position, UnderlyingMarket,
};
use ballast_options::OptionKind;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn account() -> PortfolioFile {
    let mk = |name: &str, spot: f64, vol: f64| UnderlyingMarket {
        name: name.into(),
        spot,
        vol,
        rate: 0.03,
        carry_yield: 0.0,
        spot_range: 0.2,
        oracle_confidence: 0.001,
        surface: None,
    };
    let mut positions = Vec::new();
    for i in 0..50 {
        let (u, spot) = if i % 2 == 0 {
            ("BTC", 60_000.0)
        } else {
            ("ETH", 3_000.0)
        };
        positions.push(Position::Option {
            underlying: u.into(),
            kind: if i % 3 == 0 {
                OptionKind::Put
            } else {
                OptionKind::Call
            },
            strike: spot * (0.7 + 0.012 * i as f64),
            expiry_years: (1 + i % 7) as f64 * 14.0 / 365.0,
            quantity: if i % 4 == 0 { -1.5 } else { 1.0 },
            vol: None,
        });
    }
    positions.push(Position::Perp {
        underlying: "BTC".into(),
        size: -2.0,
    });
    PortfolioFile {
        market: vec![mk("BTC", 60_000.0, 0.55), mk("ETH", 3_000.0, 0.7)],
        correlation: Some(Correlation {
            underlyings: vec!["BTC".into(), "ETH".into()],
            matrix: vec![vec![1.0, 0.8], vec![0.8, 1.0]],
        }),
        positions,
        params: MarginParams::default(),
    }
}

fn bench(c: &mut Criterion) {
    let f = account();
    let r = compute_margin(&f).unwrap();
    eprintln!(
        "50-option account: {} scenarios, requirement {:.2}",
        r.scenarios_evaluated, r.requirement
    );
    c.bench_function("portfolio_margin_50_options", |b| {
        b.iter(|| compute_margin(black_box(&f)).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
