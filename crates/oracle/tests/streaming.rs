//! The streaming [`Timeline`]: bars must come in close-time order, bars of undeclared series
//! are ignored, and the config types refuse unknown fields.

use ballast_data::PriceRow;
use ballast_oracle::breaker::BreakerConfig;
use ballast_oracle::timeline::{run_timeline, Series, Timeline, TimelineConfig};
use ballast_oracle::Error;

fn bar(venue: &str, minute: i64, close: f64) -> PriceRow {
    PriceRow {
        ts_ms: 1_700_000_000_000 + minute * 60_000,
        venue: venue.into(),
        symbol: "BTC/USD".into(),
        interval_ms: 60_000,
        open: close,
        high: close * 1.001,
        low: close * 0.999,
        close,
        volume_base: None,
        volume_quote: None,
        trades: None,
        line: 0,
    }
}

#[test]
fn pushed_bars_equal_the_batch_replay_and_order_is_enforced() {
    let rows: Vec<PriceRow> = (0..50)
        .flat_map(|m| [bar("a", m, 100.0 + m as f64), bar("b", m, 100.5 + m as f64)])
        .collect();
    let cfg = TimelineConfig::default();
    let batch = run_timeline(&rows, &cfg).unwrap();
    let mut tl = Timeline::new(rows.iter().map(Series::of), &cfg).unwrap();
    let mut streamed = Vec::new();
    for r in &rows {
        tl.push(r, &mut streamed).unwrap();
    }
    // A bar of a series not declared up front is ignored, not a new source.
    tl.push(&bar("c", 49, 1e6), &mut streamed).unwrap();
    tl.finish(&mut streamed).unwrap();
    assert_eq!(streamed, batch);
    assert_eq!(streamed.len(), 50);

    let mut tl = Timeline::new(rows.iter().map(Series::of), &cfg).unwrap();
    let mut out = Vec::new();
    tl.push(&rows[10], &mut out).unwrap();
    let e = tl.push(&rows[0], &mut out).unwrap_err();
    assert!(matches!(e, Error::TimeWentBackwards { .. }), "{e}");
}

#[test]
fn configs_refuse_unknown_fields() {
    let mut v = serde_json::to_value(BreakerConfig::default()).unwrap();
    v["move_sigmaa"] = serde_json::json!(3.0);
    let e = serde_json::from_value::<BreakerConfig>(v).unwrap_err();
    assert!(e.to_string().contains("unknown field `move_sigmaa`"), "{e}");
    let mut v = serde_json::to_value(TimelineConfig::default()).unwrap();
    v["quorom"] = serde_json::json!(2);
    let e = serde_json::from_value::<TimelineConfig>(v).unwrap_err();
    assert!(e.to_string().contains("unknown field `quorom`"), "{e}");
}
