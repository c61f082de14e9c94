//! Per-step metrics of a run, from its mergeable [`Aggregate`] (so a merged set of shards gives
//! the same series as the unsharded run, bit for bit).
//!
//! Metrics (each a "wide" table: `step`, `hours`, then one `Float64` column per statistic):
//! - `fund`: insurance fund in USD at the end of the step: `p05`, `p50`, `p95` (from the
//!   lab's per-step log-bucket histograms, [`ballast_lab::stats::BandHist`], relative error
//!   ≤ 2.5 %, every `band_stride`-th step) and `mean` (exact).
//! - `bad_debt`: cumulative bad debt in USD at the end of the step: `p50`, `p95`, `p99`
//!   (same steps and histograms).
//! - `insolvency`: `p_insolvent`, the share of paths with bad debt by the end of the step
//!   (every step).
//! - `breaker`: share of paths whose most severe breaker scope ends the step in each mode:
//!   `normal`, `cautious`, `halted`, `recovering` (every step; no rows without breakers).
//!
//! [`long`] stacks all four as `metric`, `stat`, `step`, `hours`, `value` rows: the layout of
//! `series.parquet`, one schema for every metric.

use crate::error::TableError;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use ballast_lab::stats::{Aggregate, BandHist};
use std::sync::Arc;

/// The metric names [`wide`] accepts.
pub const METRICS: [&str; 4] = ["fund", "bad_debt", "insolvency", "breaker"];

/// Quote-native units per USD (the lab's quote asset has 6 decimals).
const USD: f64 = 1e6;

/// One metric's columns before they become Arrow arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    /// 1-based step numbers.
    pub steps: Vec<i64>,
    /// `(statistic, value per step)`.
    pub stats: Vec<(&'static str, Vec<f64>)>,
}

/// Columns of `metric` for an aggregate of a run with `step_hours`-hour steps.
pub fn columns(agg: &Aggregate, metric: &str) -> Result<Columns, TableError> {
    let paths = agg.paths.max(1) as f64;
    match metric {
        "fund" => {
            let mut c = bands(
                agg,
                &agg.fund_bands,
                &[("p05", 0.05), ("p50", 0.5), ("p95", 0.95)],
            );
            let mean = c
                .steps
                .iter()
                .map(|s| {
                    agg.fund_by_step
                        .get(*s as usize - 1)
                        .map_or(0.0, |f| *f as f64)
                        / paths
                        / USD
                })
                .collect();
            c.stats.push(("mean", mean));
            Ok(c)
        }
        "bad_debt" => Ok(bands(
            agg,
            &agg.bad_bands,
            &[("p50", 0.5), ("p95", 0.95), ("p99", 0.99)],
        )),
        "insolvency" => {
            let steps = agg.fund_by_step.len().max(agg.first_bad_by_step.len());
            let mut cum = 0u64;
            let p = (0..steps)
                .map(|i| {
                    cum += agg.first_bad_by_step.get(i).copied().unwrap_or(0);
                    cum as f64 / paths
                })
                .collect();
            Ok(Columns {
                steps: (1..=steps as i64).collect(),
                stats: vec![("p_insolvent", p)],
            })
        }
        "breaker" => {
            // Mode indices of `ballast_lab::feeds::mode_index`: Normal, Cautious, Halted, Recovering.
            let names = ["normal", "cautious", "halted", "recovering"];
            let stats = names
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let share = agg
                        .breaker_by_step
                        .iter()
                        .map(|c| c[k] as f64 / c.iter().sum::<u64>().max(1) as f64)
                        .collect();
                    (*name, share)
                })
                .collect();
            Ok(Columns {
                steps: (1..=agg.breaker_by_step.len() as i64).collect(),
                stats,
            })
        }
        other => Err(TableError::UnknownMetric(other.to_string())),
    }
}

/// Quantiles of per-step band histograms, in USD, at the band steps.
fn bands(agg: &Aggregate, hists: &[BandHist], qs: &[(&'static str, f64)]) -> Columns {
    let stride = agg.band_stride.max(1) as i64;
    Columns {
        steps: (1..=hists.len() as i64).map(|j| j * stride).collect(),
        stats: qs
            .iter()
            .map(|(name, q)| (*name, hists.iter().map(|h| h.quantile(*q) / USD).collect()))
            .collect(),
    }
}

/// The wide table of one metric (see the module doc).
pub fn wide(agg: &Aggregate, metric: &str, step_hours: f64) -> Result<RecordBatch, TableError> {
    let c = columns(agg, metric)?;
    let hours: Vec<f64> = c.steps.iter().map(|s| *s as f64 * step_hours).collect();
    let mut fields = vec![
        Field::new("step", DataType::Int64, false),
        Field::new("hours", DataType::Float64, false),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(c.steps)),
        Arc::new(Float64Array::from(hours)),
    ];
    for (name, v) in c.stats {
        fields.push(Field::new(name, DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from(v)));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// Every metric stacked as `metric`, `stat`, `step`, `hours`, `value` (`series.parquet`).
pub fn long(agg: &Aggregate, step_hours: f64) -> Result<RecordBatch, TableError> {
    let (mut metric, mut stat, mut step, mut hours, mut value) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for m in METRICS {
        let c = columns(agg, m)?;
        for (name, v) in &c.stats {
            for (s, x) in c.steps.iter().zip(v) {
                metric.push(m);
                stat.push(*name);
                step.push(*s);
                hours.push(*s as f64 * step_hours);
                value.push(*x);
            }
        }
    }
    let schema = Schema::new(vec![
        Field::new("metric", DataType::Utf8, false),
        Field::new("stat", DataType::Utf8, false),
        Field::new("step", DataType::Int64, false),
        Field::new("hours", DataType::Float64, false),
        Field::new("value", DataType::Float64, false),
    ]);
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(metric)),
        Arc::new(StringArray::from(stat)),
        Arc::new(Int64Array::from(step)),
        Arc::new(Float64Array::from(hours)),
        Arc::new(Float64Array::from(value)),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), arrays)?)
}
