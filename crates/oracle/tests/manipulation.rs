//! Mango-style manipulation (Oct 2022: one thin venue moved MNGO ~×25 in ~10 minutes, FORMULAS.md):
//! with three sources the aggregate stays at the honest median, and (by default) the thin venue is
//! dropped without declaring divergence — otherwise pumping one thin venue would hand an attacker
//! a switch that halts the market and its liquidations. A governance that prefers to halt on any
//! rejected venue lowers `max_outlier_weight`. With one source the spike passes straight through —
//! the failure the defences exist for.

use ballast_data::PriceRow;
use ballast_oracle::timeline::{run_timeline, TimelineConfig};
use ballast_oracle::{
    gate, Action, Aggregator, AggregatorConfig, Breaker, BreakerConfig, BreakerInput, ChainSignal,
    Gate, Mode, OracleStatus, Quote, Scope, SourceId, SourceSpec, ValidityMatrix,
};

const MIN: i64 = 60_000;
const T0: i64 = 1_665_446_400_000; // 2022-10-11T00:00Z
const SPIKE_START: i64 = 300; // minute
const SPIKE_LEN: i64 = 10;

/// Honest MNGO-like price ≈ 0.03 with a small deterministic wiggle.
fn honest(i: i64, venue_bias: f64) -> f64 {
    0.03 * (1.0 + 0.002 * libm::sin((i as f64) * 0.7) + venue_bias)
}

/// The manipulated venue: honest until minute 300, then a geometric ramp to ×25 over ten minutes,
/// held there.
fn manipulated(i: i64) -> f64 {
    let base = honest(i, 0.0);
    if i < SPIKE_START {
        base
    } else {
        let k = ((i - SPIKE_START + 1).min(SPIKE_LEN)) as f64 / SPIKE_LEN as f64;
        base * libm::pow(25f64, k)
    }
}

fn bar(venue: &str, i: i64, p: f64) -> PriceRow {
    PriceRow {
        ts_ms: T0 + i * MIN,
        venue: venue.into(),
        symbol: "MNGO/USD".into(),
        interval_ms: MIN,
        open: p,
        high: p * 1.0005,
        low: p * 0.9995,
        close: p,
        volume_base: None,
        volume_quote: None,
        trades: None,
        line: 0,
    }
}

fn rows(venues: &[&str]) -> Vec<PriceRow> {
    let mut v = Vec::new();
    for i in 0..360 {
        for &venue in venues {
            let p = match venue {
                "thin_dex" => manipulated(i),
                "cex_a" => honest(i, 0.001),
                _ => honest(i, -0.001),
            };
            v.push(bar(venue, i, p));
        }
    }
    v
}

#[test]
fn three_sources_hold_the_honest_median_without_a_halt_switch() {
    let tl = run_timeline(
        &rows(&["cex_a", "cex_b", "thin_dex"]),
        &TimelineConfig::default(),
    )
    .unwrap();
    assert_eq!(tl.len(), 360);
    let mut spiked = 0;
    for r in &tl {
        let honest_mid = 0.5 * (r.quotes["cex_a"] + r.quotes["cex_b"]);
        let p = r.price.unwrap();
        assert!(
            (p / honest_mid - 1.0).abs() < 0.01,
            "{}: aggregate {p} vs honest {honest_mid}",
            r.ts
        );
        if r.quotes["thin_dex"] > 1.5 * honest_mid {
            spiked += 1;
            assert_eq!(r.status, OracleStatus::Valid, "{}", r.ts);
            assert_eq!(r.sources_rejected, vec!["thin_dex".to_string()]);
            // The ×25 venue cannot halt the market (no liquidation freeze on demand).
            assert_ne!(r.mode, Mode::Halted, "{}", r.ts);
            assert!(!r.blocked.contains(&Action::Liquidate), "{}", r.ts);
            // Collateral is never valued at the manipulated price.
            assert!(r.asset_price.unwrap() < 1.01 * honest_mid);
        }
    }
    assert!(spiked >= 50, "{spiked}");
    // Before the spike, all is normal.
    assert!(tl[..SPIKE_START as usize]
        .iter()
        .skip(60)
        .all(|r| r.status == OracleStatus::Valid && r.mode == Mode::Normal));
}

/// Same attack at the API level: the aggregator + validity matrix + breaker, one call each.
#[test]
fn gate_blocks_borrow_and_withdraw_on_the_spike() {
    let specs: Vec<SourceSpec> = (0..3)
        .map(|i| SourceSpec {
            id: SourceId(i),
            weight: 1.0,
        })
        .collect();
    // A governance that treats any rejected venue as divergence (a quarter of the weight).
    let strict = AggregatorConfig {
        max_outlier_weight: 0.25,
        ..AggregatorConfig::default()
    };
    let mut agg = Aggregator::new(strict, &specs).unwrap();
    let mut breaker = Breaker::new(Scope::Market(0), BreakerConfig::default()).unwrap();
    let matrix = ValidityMatrix::default();
    let now = T0;
    for (i, p) in [0.0300, 0.0301, 0.75].into_iter().enumerate() {
        agg.submit(Quote {
            source: SourceId(i as u32),
            price: p,
            confidence: 0.0,
            publish_ms: now,
        })
        .unwrap();
    }
    let r = agg.aggregate(now).unwrap();
    assert_eq!(r.status, OracleStatus::Divergent);
    assert_eq!(r.price, Some(0.03005));
    breaker
        .step(BreakerInput {
            now_ms: now,
            price: r.price,
            oracle: r.status,
            chain: ChainSignal::default(),
        })
        .unwrap();
    for a in [Action::Borrow, Action::Withdraw] {
        let b = gate(a, &matrix, &r, |a| breaker.allows(a)).unwrap_err();
        assert_eq!(b.action, a);
        // The breaker (halted by the divergence) refuses first.
        assert_eq!(b.status, Gate::Breaker { mode: Mode::Halted });
        // And the oracle matrix alone would refuse too.
        assert!(matrix.check(a, &r).is_err());
    }
    assert!(gate(Action::Repay, &matrix, &r, |a| breaker.allows(a)).is_ok());
}

/// The naive case: one source, quorum 1. The aggregator has nothing to compare against, so the
/// ×25 spike comes out as a **Valid** price — exactly what let the Mango exploiter borrow against
/// inflated collateral. What is left to defend: the breaker's move trigger (halts on the jump) and
/// the stable price (collateral for new risk is valued at `min(spot, stable)`, which moves at most
/// 0.0003/s, i.e. ≈ 1.8 % per minute).
#[test]
fn single_source_lets_the_spike_through() {
    let tl = run_timeline(&rows(&["thin_dex"]), &TimelineConfig::default()).unwrap();
    let top = tl.last().unwrap();
    assert_eq!(top.sources_used, vec!["thin_dex".to_string()]);
    // The failure: the manipulated price is reported as Valid.
    assert_eq!(top.status, OracleStatus::Valid);
    let p = top.price.unwrap();
    assert!(p > 20.0 * 0.03, "{p}");
    // Defences that still work with one source:
    let first_spike = &tl[SPIKE_START as usize];
    assert_eq!(first_spike.mode, Mode::Halted, "move trigger");
    assert!(first_spike.blocked.contains(&Action::Borrow));
    let stable_after_10_min = tl[(SPIKE_START + SPIKE_LEN) as usize].stable_price.unwrap();
    assert!(stable_after_10_min < 0.03 * 1.25, "{stable_after_10_min}");
    assert!(tl[(SPIKE_START + SPIKE_LEN) as usize].asset_price.unwrap() < 0.03 * 1.25);
}
