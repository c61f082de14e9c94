//! README: "memory does not grow with paths". Paths are simulated in chunks and folded into
//! one integer [`Aggregate`]; the only state a run keeps across chunks is that aggregate, so
//! the claim holds when the aggregate's size stops growing with the path count. Every
//! histogram keeps at most `TOP_K` exact values and log buckets (bounded by the value range),
//! per-step series are per step, sample paths a fixed few.
//!
//! The test counts the aggregate's serialized entries (array elements and object members, so
//! digits do not matter) at two path counts past `TOP_K`: doubling the paths adds almost no
//! entries, where keeping anything per path would add one per path.

use ballast_lab::stats::TOP_K;

mod support;
use support::load;

/// Array elements and object members, recursively.
fn entries(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => a.len() + a.iter().map(entries).sum::<usize>(),
        serde_json::Value::Object(o) => o.len() + o.values().map(entries).sum::<usize>(),
        _ => 0,
    }
}

/// The aggregate of `paths` paths as JSON, and the length of its `fund_min` exact tail.
fn aggregate(paths: u64) -> (serde_json::Value, usize) {
    let p = load("gbm-baseline", &[&format!("paths={paths}"), "horizon=6"]);
    let out = ballast_lab::runner::run(
        &p,
        &ballast_lab::runner::RunConfig {
            threads: 2,
            ..Default::default()
        },
    )
    .expect("runs");
    assert_eq!(out.aggregate.paths, paths);
    let json = serde_json::to_value(&out.aggregate).expect("aggregate serializes");
    (json, out.aggregate.fund_min.top.len())
}

#[test]
fn the_aggregate_stops_growing_with_paths() {
    let (small, large) = (TOP_K as u64 + 200, 2 * TOP_K as u64 + 400);
    let ((a, top_a), (b, top_b)) = (aggregate(small), aggregate(large));
    let (a, b) = (entries(&a), entries(&b));
    println!("aggregate entries: {a} at {small} paths, {b} at {large} paths");
    assert!(b >= a, "{b} < {a}");
    // new log buckets may appear in the far tail; one entry per 20 extra paths is far below
    // anything kept per path
    assert!(
        b - a < ((large - small) / 20) as usize,
        "{} entries more for {} more paths",
        b - a,
        large - small
    );
    // the exact tails are full at both counts, so the cap is what keeps them from growing
    assert_eq!((top_a, top_b), (TOP_K, TOP_K), "fund_min tails");
}
