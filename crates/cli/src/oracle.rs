//! `ballast oracle`: replays price CSVs through the oracle aggregator and breakers.

use crate::out::Out;
use anyhow::{Context, Result};
use ballast_data::{read_prices_with, BadBarPolicy, ReadOptions};
use ballast_oracle::timeline::{run_timeline, TimelineConfig, TimelineRow};
use std::path::PathBuf;

pub fn run(
    w: &mut Out,
    files: &[PathBuf],
    symbol: Option<String>,
    json: bool,
    all: bool,
    strict: bool,
) -> Result<()> {
    let opts = if strict {
        ReadOptions {
            allow_gaps: false,
            bad_bars: BadBarPolicy::Reject,
        }
    } else {
        ReadOptions {
            allow_gaps: true,
            bad_bars: BadBarPolicy::Drop,
        }
    };
    let mut rows = Vec::new();
    for f in files {
        let file = read_prices_with(f, opts).with_context(|| format!("reading {}", f.display()))?;
        for d in &file.dropped {
            eprintln!("skipped bar: {d}");
        }
        rows.extend(file.rows);
    }
    let cfg = TimelineConfig {
        symbol,
        ..TimelineConfig::default()
    };
    let timeline = run_timeline(&rows, &cfg).context("replaying the oracle timeline")?;
    if json {
        for r in &timeline {
            outln!(w, "{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    outln!(
        w,
        "{:<22} {:<6} {:>14} {:<15} {:<11} {:>7} {:>7}  sources / events",
        "time (bar close)",
        "asset",
        "price",
        "status",
        "mode",
        "spread%",
        "σ-move"
    );
    let mut last: std::collections::BTreeMap<String, (String, String)> = Default::default();
    let mut shown = 0usize;
    for r in &timeline {
        let key = (format!("{:?}", r.status), format!("{:?}", r.mode));
        let changed = last.get(&r.symbol) != Some(&key) || !r.events.is_empty();
        if all || changed {
            print_row(w, r)?;
            shown += 1;
        }
        last.insert(r.symbol.clone(), key);
    }
    outln!(
        w,
        "\n{} timestamps, {} shown ({}); `--json` prints every row with all fields",
        timeline.len(),
        shown,
        if all {
            "all"
        } else {
            "changes of status or mode"
        }
    );
    Ok(())
}

fn print_row(w: &mut Out, r: &TimelineRow) -> Result<()> {
    let events: Vec<String> = r.events.iter().map(|e| e.message.clone()).collect();
    let rejected = if r.sources_rejected.is_empty() {
        String::new()
    } else {
        format!(" rejected: {}", r.sources_rejected.join(","))
    };
    outln!(
        w,
        "{:<22} {:<6} {:>14} {:<15} {:<11} {:>7.2} {:>7}  {}{}{}",
        r.ts,
        r.symbol,
        r.price
            .map(|p| format!("{p:.6}"))
            .unwrap_or_else(|| "-".into()),
        format!("{:?}", r.status),
        format!("{:?}", r.mode),
        r.spread_pct,
        r.move_sigma
            .map(|s| format!("{s:.1}"))
            .unwrap_or_else(|| "-".into()),
        r.sources_used.join(","),
        rejected,
        if events.is_empty() {
            String::new()
        } else {
            format!("  | {}", events.join("; "))
        }
    );
    Ok(())
}
