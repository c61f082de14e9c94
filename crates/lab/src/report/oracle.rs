//! Oracle sources against the aggregate, one chart per asset (the first two) of sample path 0
//! (global index 0, so merged shards draw the same chart): each source's quote as a thin line,
//! the engine's aggregate price bold, the model's fair price dashed, with the run's breaker
//! and fault markers. A manipulated venue stands out from the others; whether the aggregate
//! follows it is the oracle defence at work (median with outlier rejection, `crates/oracle`).
//! Pure: aggregate in, chart specs out.

use super::chart::{Chart, Marker, Series, Unit, PALETTE};
use super::figures::{time_chart, Timeline};
use crate::stats::steps::OracleMark;
use crate::stats::Aggregate;

/// The charts of path 0's recorded oracle; none without an `[oracle]`.
pub fn charts(a: &Aggregate, t: &Timeline, marks: &[Marker]) -> Vec<Chart> {
    let Some(sp) = a.sample_paths.iter().find(|p| p.path == 0) else {
        return Vec::new();
    };
    sp.oracle
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(ai, m)| {
            let sym = a
                .asset_symbols
                .get(ai)
                .cloned()
                .unwrap_or_else(|| format!("asset {ai}"));
            let mut c = asset_chart(ai, &sym, m, t);
            c.markers = marks.to_vec();
            c
        })
        .collect()
}

/// One asset's chart: a thin line per source, the aggregate bold, the fair price dashed.
fn asset_chart(ai: usize, sym: &str, m: &[OracleMark], t: &Timeline) -> Chart {
    let x = t.xs(m.iter().map(|k| k.step as usize));
    let title = format!("{sym}: oracle sources vs the engine's aggregate, path 0 (USD)");
    let mut c = time_chart(&format!("oracle_{ai}"), &title, t, x, ("USD", Unit::Price));
    let sources = m
        .iter()
        .flat_map(|k| k.quotes.iter().map(|q| q.0 + 1))
        .max()
        .unwrap_or(0);
    for j in 0..sources {
        let v = m
            .iter()
            .map(|k| k.quotes.iter().find(|q| q.0 == j).map(|q| q.1))
            .collect();
        let colour = PALETTE[(j as usize + 1) % PALETTE.len()];
        c.series
            .push(Series::line(format!("source {j}"), colour, v).width(1.0));
    }
    let aggregate = m.iter().map(|k| k.aggregate).collect();
    c.series
        .push(Series::line("engine aggregate", "#111111", aggregate).width(2.8));
    let fair = m.iter().map(|k| Some(k.fair)).collect();
    c.series
        .push(Series::line("model (fair) price", PALETTE[0], fair).dashed());
    // Log scale: a venue moved ×25 and the aggregate that ignores it both stay readable.
    c.y_log = c
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .all(|v| *v > 0.0);
    c.note = "Log scale. Sample path 0 at the sample-price steps: what each source sent that step (a gap: it sent nothing, e.g. in an outage), the price the engine aggregated from them, and the model's fair price.".into();
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::SamplePath;

    fn mark(step: u32, fair: f64, aggregate: Option<f64>, quotes: &[(u32, f64)]) -> OracleMark {
        OracleMark {
            step,
            fair,
            aggregate,
            quotes: quotes.to_vec(),
        }
    }

    #[test]
    fn sources_aggregate_and_fair_price_are_drawn_per_asset() {
        let eth = vec![
            mark(2, 100.0, Some(100.5), &[(0, 100.0), (1, 101.0), (2, 100.5)]),
            mark(4, 110.0, Some(110.0), &[(0, 2_750.0), (2, 110.0)]),
        ];
        let a = Aggregate {
            asset_symbols: vec!["ETH".into(), "BTC".into()],
            sample_paths: vec![SamplePath {
                path: 0,
                stride: 2,
                prices: Vec::new(),
                oracle: vec![eth, Vec::new()],
            }],
            ..Default::default()
        };
        let t = Timeline::new(4, 1.0, None);
        let marks = [Marker::span(2.0, 3.0, "manipulation ×25", "#ff7f0e")];
        let c = charts(&a, &t, &marks);
        assert_eq!(c.len(), 1, "BTC recorded nothing: no chart");
        let c = &c[0];
        assert_eq!(c.id, "oracle_0");
        assert_eq!(c.x, [2.0, 4.0]);
        let labels: Vec<&str> = c.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "source 0",
                "source 1",
                "source 2",
                "engine aggregate",
                "model (fair) price"
            ]
        );
        assert_eq!(c.series[0].values, [Some(100.0), Some(2_750.0)]);
        assert_eq!(
            c.series[1].values,
            [Some(101.0), None],
            "source 1 went quiet"
        );
        assert_eq!(c.series[3].values, [Some(100.5), Some(110.0)]);
        assert_eq!(c.series[3].width, Some(2.8));
        assert!(c.series[4].dashed);
        assert_eq!(c.series[4].values, [Some(100.0), Some(110.0)]);
        assert_eq!(c.markers, marks);
        assert!(c.y_log, "every price is positive: a log axis");
    }

    #[test]
    fn only_path_zero_is_drawn() {
        let a = Aggregate {
            sample_paths: vec![SamplePath {
                path: 1,
                stride: 1,
                prices: Vec::new(),
                oracle: vec![vec![mark(1, 1.0, Some(1.0), &[(0, 1.0)])]],
            }],
            ..Default::default()
        };
        assert!(charts(&a, &Timeline::new(1, 1.0, None), &[]).is_empty());
    }
}
