//! The tables against the lab's own outputs: `paths.parquet` reads back equal to `paths.csv`,
//! `series.parquet` holds every metric of the run, and a merge of shards gives the same series
//! as the unsharded run (the series come from the mergeable aggregate).

use arrow_array::{Array, Float64Array, StringArray};
use ballast_lab::embedded;
use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_tables::{parquet_out, paths, series};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

/// A short run of a scenario with breakers (so every metric has rows).
fn prepared() -> Prepared {
    let sets = ["paths=24".to_string(), "horizon=60".to_string()];
    let (sc, base) = embedded::load("oracle-manipulation-defended", &sets).expect("loads");
    Prepared::new(sc, base.as_deref()).expect("prepares")
}

fn read(p: &Path) -> arrow_array::RecordBatch {
    let f = std::fs::File::open(p).expect("parquet file");
    let mut r = ParquetRecordBatchReaderBuilder::try_new(f)
        .expect("parquet")
        .build()
        .expect("reader");
    let b = r.next().expect("one batch").expect("valid batch");
    assert!(r.next().is_none(), "one row group");
    b
}

#[test]
fn parquet_files_read_back_as_the_run() {
    let prep = prepared();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("run");
    let cfg = RunConfig {
        threads: 2,
        out_dir: Some(dir.clone()),
        ..Default::default()
    };
    let out = runner::run(&prep, &cfg).expect("runs");
    let [pp, sp] = parquet_out::write_run(&dir, &out.aggregate, out.summary.step_hours)
        .expect("writes parquet");
    let csv = std::fs::read_to_string(dir.join("paths.csv")).expect("csv");
    let want = paths::from_csv(&csv).expect("csv table");
    let got = read(&pp);
    assert_eq!(got, want);
    assert_eq!(got.num_rows(), 24);
    let bad = got
        .column_by_name("bad_debt_usd")
        .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
        .expect("bad_debt_usd is Float64");
    let mean = bad.values().iter().sum::<f64>() / 24.0;
    assert!((mean - out.summary.bad_debt.mean).abs() <= 1e-9 * mean.abs().max(1.0));

    let long = read(&sp);
    let metric = long
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("metric is Utf8");
    for m in series::METRICS {
        let c = series::columns(&out.aggregate, m).expect("metric");
        assert!(!c.steps.is_empty(), "{m} has rows");
        let rows = (0..metric.len()).filter(|&i| metric.value(i) == m).count();
        assert_eq!(rows, c.steps.len() * c.stats.len(), "{m}");
    }
    let ins = series::columns(&out.aggregate, "insolvency").expect("insolvency");
    let last = ins.stats[0].1.last().copied().expect("a step");
    assert_eq!(last, out.summary.p_insolvency);
    let breaker = series::columns(&out.aggregate, "breaker").expect("breaker");
    for i in 0..breaker.steps.len() {
        let total: f64 = breaker.stats.iter().map(|(_, v)| v[i]).sum();
        assert!(
            (total - 1.0).abs() < 1e-12,
            "mode shares of step {i} sum to {total}"
        );
    }
    assert!(series::wide(&out.aggregate, "nope", 1.0).is_err());
}

#[test]
fn merged_shards_give_the_unsharded_series() {
    let prep = prepared();
    let whole = runner::run(&prep, &RunConfig::default()).expect("runs");
    let shards: Vec<_> = (1..=3)
        .map(|i| {
            let cfg = RunConfig {
                shard: Some((i, 3)),
                ..Default::default()
            };
            runner::run(&prep, &cfg)
                .expect("shard")
                .shard
                .expect("shard file")
        })
        .collect();
    let (_, merged) = runner::merge_shards(&shards).expect("merges");
    let h = whole.summary.step_hours;
    assert_eq!(
        series::long(&merged, h).expect("merged"),
        series::long(&whole.aggregate, h).expect("whole")
    );
}
