//! `ballast oracle`: replays price CSVs through the oracle aggregator and breakers, streaming.
//!
//! Nothing holds a whole file. A first pass reads every file once through the validating
//! reader and keeps only its series (venue, symbol, interval) and whether its bars are already
//! in close-time order. The second pass opens one cursor per file (ordered files) or one per
//! series of the file (files laid out series after series, like those in `data/`), merges the
//! cursors by close time with a heap, and pushes each bar into a
//! [`ballast_oracle::timeline::Timeline`]; each finished row is printed at once.

use crate::out::Out;
use anyhow::{Context, Result};
use ballast_data::{open_prices, BadBarPolicy, PriceReader, PriceRow, ReadOptions};
use ballast_oracle::timeline::{Series, Timeline, TimelineConfig, TimelineRow};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

type Cursor = PriceReader<BufReader<File>>;

/// What the first pass learnt about one file.
pub(crate) struct Scan {
    series: BTreeSet<Series>,
    /// Bar close times never decrease down the file: one cursor reads it in order.
    in_close_order: bool,
}

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
    let scans = files
        .iter()
        .map(|f| scan(f, opts).with_context(|| format!("reading {}", f.display())))
        .collect::<Result<Vec<_>>>()?;
    let cfg = TimelineConfig {
        symbol,
        ..TimelineConfig::default()
    };
    let all_series = scans.iter().flat_map(|s| s.series.iter().cloned());
    let mut timeline = Timeline::new(all_series, &cfg).context("replaying the oracle timeline")?;
    let mut printer = Printer::new(json, all);
    printer.header(w)?;
    let mut merged = Merge::open(files, &scans, opts)?;
    let mut rows = Vec::new();
    while let Some(bar) = merged.next_bar()? {
        timeline
            .push(&bar, &mut rows)
            .context("replaying the oracle timeline")?;
        for r in rows.drain(..) {
            printer.row(w, &r)?;
        }
    }
    timeline.finish(&mut rows)?;
    for r in rows.drain(..) {
        printer.row(w, &r)?;
    }
    printer.footer(w)
}

/// The validating first pass: series, order, and the dropped bars reported on stderr.
pub(crate) fn scan(path: &Path, opts: ReadOptions) -> Result<Scan> {
    let mut rdr = open_prices(path, opts)?;
    let mut s = Scan {
        series: BTreeSet::new(),
        in_close_order: true,
    };
    let mut last_close = i64::MIN;
    while let Some(row) = rdr.next() {
        let row = row?;
        for d in rdr.take_dropped() {
            eprintln!("skipped bar: {d}");
        }
        s.in_close_order &= row.close_ms() >= last_close;
        last_close = last_close.max(row.close_ms());
        if !s
            .series
            .iter()
            .any(|x| x.venue == row.venue && x.symbol == row.symbol)
        {
            s.series.insert(Series::of(&row));
        }
    }
    for d in rdr.take_dropped() {
        eprintln!("skipped bar: {d}");
    }
    Ok(s)
}

/// A k-way merge of cursors by bar close time (ties: cursor order, then file order).
pub(crate) struct Merge {
    cursors: Vec<Cursor>,
    heads: Vec<Option<PriceRow>>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
}

impl Merge {
    pub(crate) fn open(files: &[PathBuf], scans: &[Scan], opts: ReadOptions) -> Result<Self> {
        let mut cursors = Vec::new();
        for (f, s) in files.iter().zip(scans) {
            if s.in_close_order {
                cursors.push(open_prices(f, opts)?);
            } else {
                for x in &s.series {
                    cursors.push(open_prices(f, opts)?.only_series(&x.venue, &x.symbol));
                }
            }
        }
        let mut m = Self {
            heads: vec![None; cursors.len()],
            cursors,
            heap: BinaryHeap::new(),
        };
        for i in 0..m.cursors.len() {
            m.advance(i)?;
        }
        Ok(m)
    }

    /// Reads cursor `i`'s next bar into its head slot and the heap.
    fn advance(&mut self, i: usize) -> Result<()> {
        self.heads[i] = self.cursors[i].next().transpose()?;
        // Dropped bars were reported by the first pass.
        self.cursors[i].take_dropped();
        if let Some(r) = &self.heads[i] {
            self.heap.push(Reverse((r.close_ms(), i)));
        }
        Ok(())
    }

    pub(crate) fn next_bar(&mut self) -> Result<Option<PriceRow>> {
        let Some(Reverse((_, i))) = self.heap.pop() else {
            return Ok(None);
        };
        let bar = self.heads[i].take();
        self.advance(i)?;
        Ok(bar)
    }
}

/// Prints rows as they come: JSON lines, or the table of changes (or of every row).
struct Printer {
    json: bool,
    all: bool,
    /// Last (status, mode) per asset, to print only changes.
    last: BTreeMap<String, (String, String)>,
    seen: usize,
    shown: usize,
}

impl Printer {
    fn new(json: bool, all: bool) -> Self {
        Self {
            json,
            all,
            last: BTreeMap::new(),
            seen: 0,
            shown: 0,
        }
    }

    fn header(&self, w: &mut Out) -> Result<()> {
        if !self.json {
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
        }
        Ok(())
    }

    fn row(&mut self, w: &mut Out, r: &TimelineRow) -> Result<()> {
        self.seen += 1;
        if self.json {
            serde_json::to_writer(&mut *w, r)?;
            outln!(w);
            return Ok(());
        }
        let key = (format!("{:?}", r.status), format!("{:?}", r.mode));
        let changed = self.last.get(&r.symbol) != Some(&key) || !r.events.is_empty();
        if self.all || changed {
            print_row(w, r)?;
            self.shown += 1;
        }
        self.last.insert(r.symbol.clone(), key);
        Ok(())
    }

    fn footer(&self, w: &mut Out) -> Result<()> {
        if !self.json {
            outln!(
                w,
                "\n{} timestamps, {} shown ({}); `--json` prints every row with all fields",
                self.seen,
                self.shown,
                if self.all {
                    "all"
                } else {
                    "changes of status or mode"
                }
            );
        }
        Ok(())
    }
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
