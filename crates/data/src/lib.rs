//! Historical price bars for Ballast: the `PriceRow` type and a validating CSV reader.
//!
//! The files in `data/` (copied from the project's shared fixtures, see `data/SOURCES.md`) share one
//! layout:
//!
//! ```text
//! ts_utc,unix_ms,venue,symbol,interval,open,high,low,close,volume_base,volume_quote,trades
//! ```
//!
//! `ts_utc`/`unix_ms` are the bar **open** time (UTC); `ts_utc` may be RFC 3339 (`2020-03-12T00:00:00Z`,
//! an offset, fractional seconds) or `2020-03-12 00:00:00` (read as UTC) and must name the same
//! instant as `unix_ms`; volume and trade cells may be empty. The
//! reader refuses anything a replay could silently get wrong — a non-positive or NaN price, an
//! impossible OHLC bar, a time going backwards or a hole inside a `(venue, symbol)` series — with a
//! typed [`DataError`] that names the file and the 1-based line (the header is line 1).
//!
//! File access lives here, not in the oracle or the engine: those crates only see `PriceRow`s.

// `DataError` carries the file, line and offending values so the message is actionable; it is
// returned at most once per file read, so its size does not matter.
#![allow(clippy::result_large_err)]

mod linecap;
mod time;

pub use linecap::MAX_LINE_BYTES;

pub use time::{format_utc_ms, parse_interval_ms, parse_utc_ms};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The exact header every price CSV must carry.
pub const HEADER: [&str; 12] = [
    "ts_utc",
    "unix_ms",
    "venue",
    "symbol",
    "interval",
    "open",
    "high",
    "low",
    "close",
    "volume_base",
    "volume_quote",
    "trades",
];

/// One OHLC bar of one venue. Prices are positive and finite; `low ≤ min(open, close)`,
/// `high ≥ max(open, close)` (unless the reader was told to keep impossible bars, which it never is
/// by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceRow {
    /// Bar open time, milliseconds since the UTC epoch.
    pub ts_ms: i64,
    /// Venue or aggregator, e.g. `binance`, `gemini`, `cryptocompare_cccagg`.
    pub venue: String,
    /// Venue's own symbol, e.g. `BTC/USDT`, `BTC/USD`, `BTC-USD`.
    pub symbol: String,
    /// Bar length in milliseconds (`1m` → 60 000).
    pub interval_ms: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume_base: Option<f64>,
    pub volume_quote: Option<f64>,
    pub trades: Option<u64>,
    /// 1-based line in the file it came from (0 when built in code).
    pub line: usize,
}

impl PriceRow {
    /// The base asset of the venue's symbol: `BTC/USDT`, `BTC/USD`, `BTC-USD` and `btc_usd` all give
    /// `BTC`. Venues quote the same asset against different quote currencies; Ballast treats the
    /// USD stablecoins as USD (a de-peg is a separate risk, not handled by this normalisation).
    pub fn base_asset(&self) -> String {
        base_asset(&self.symbol)
    }

    /// Time at which the bar's close is known (open time + interval).
    pub fn close_ms(&self) -> i64 {
        self.ts_ms + self.interval_ms
    }
}

/// Base asset of a symbol: the part before the first `/`, `-`, `_` or `:`, upper-cased.
/// Concatenated symbols (`BTCUSDT`) are not split: quote them with a separator in the CSV.
pub fn base_asset(symbol: &str) -> String {
    symbol
        .split(['/', '-', '_', ':'])
        .next()
        .unwrap_or(symbol)
        .trim()
        .to_ascii_uppercase()
}

/// Why a file was refused. Every row-level variant names the file and the 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{file}: file not found")]
    Missing { file: String },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: line 1: bad header (expected `{expected}`, found `{found}`)")]
    Header {
        file: String,
        expected: String,
        found: String,
    },
    #[error("{file}: line {line}: malformed row: {reason}")]
    Malformed {
        file: String,
        line: usize,
        reason: String,
    },
    #[error("{file}: line {line}: {field} must be a positive finite price, found `{value}`")]
    BadPrice {
        file: String,
        line: usize,
        field: &'static str,
        value: String,
    },
    #[error(
        "{file}: line {line}: impossible OHLC bar ({reason}): open={open} high={high} low={low} close={close}"
    )]
    ImpossibleBar {
        file: String,
        line: usize,
        reason: &'static str,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
    },
    #[error(
        "{file}: line {line}: ts_utc `{ts_utc}` does not match unix_ms {unix_ms} ({expected}; ts_utc may be RFC 3339 or `YYYY-MM-DD HH:MM:SS` in UTC)"
    )]
    TimestampMismatch {
        file: String,
        line: usize,
        ts_utc: String,
        unix_ms: i64,
        expected: String,
    },
    #[error(
        "{file}: line {line}: unsorted times in {venue} {symbol}: {ts_ms} does not come after {prev_ms}"
    )]
    Unsorted {
        file: String,
        line: usize,
        venue: String,
        symbol: String,
        prev_ms: i64,
        ts_ms: i64,
    },
    #[error(
        "{file}: line {line}: gap in {venue} {symbol}: expected bar at {expected}, found {found} ({missing} bar(s) missing)"
    )]
    Gap {
        file: String,
        line: usize,
        venue: String,
        symbol: String,
        expected: String,
        found: String,
        missing: i64,
    },
    #[error("{file}: line {line}: longer than {max} bytes (the cap)")]
    LineTooLong {
        file: String,
        line: usize,
        max: usize,
    },
    #[error("{file}: line {line}: more than {max} (venue, symbol) series in one file (the cap)")]
    TooManySeries {
        file: String,
        line: usize,
        max: usize,
    },
    #[error(
        "{file}: line {line}: interval of {venue} {symbol} changed from {prev_ms} ms to {interval_ms} ms"
    )]
    IntervalChanged {
        file: String,
        line: usize,
        venue: String,
        symbol: String,
        prev_ms: i64,
        interval_ms: i64,
    },
}

impl DataError {
    /// 1-based line the error refers to, when it refers to one.
    pub fn line(&self) -> Option<usize> {
        match self {
            DataError::Missing { .. } | DataError::Io { .. } => None,
            DataError::Header { .. } => Some(1),
            DataError::Malformed { line, .. }
            | DataError::BadPrice { line, .. }
            | DataError::ImpossibleBar { line, .. }
            | DataError::TimestampMismatch { line, .. }
            | DataError::Unsorted { line, .. }
            | DataError::Gap { line, .. }
            | DataError::TooManySeries { line, .. }
            | DataError::LineTooLong { line, .. }
            | DataError::IntervalChanged { line, .. } => Some(*line),
        }
    }
}

/// What the reader does with a bar whose OHLC is impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadBarPolicy {
    /// Refuse the file (default).
    #[default]
    Reject,
    /// Leave the bar out and report it in [`PriceFile::dropped`]. The shared fixtures contain a few
    /// such bars from aggregate indices (see `data/SOURCES.md`), kept on purpose as dirty input.
    Drop,
}

/// Reader options. The defaults are strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// Accept holes inside a `(venue, symbol)` series (the Coinbase excerpt is non-contiguous by
    /// design). Times must still increase.
    pub allow_gaps: bool,
    pub bad_bars: BadBarPolicy,
}

impl ReadOptions {
    /// Strict: no gaps, no impossible bars.
    pub fn strict() -> Self {
        Self::default()
    }
}

/// The rows of one file plus what was left out under [`BadBarPolicy::Drop`].
#[derive(Debug, Clone, Default)]
pub struct PriceFile {
    pub rows: Vec<PriceRow>,
    /// Errors for the bars that were dropped (each names its line).
    pub dropped: Vec<String>,
}

/// Reads one price CSV with strict validation (see [`ReadOptions::strict`]).
pub fn read_prices(path: impl AsRef<Path>) -> Result<Vec<PriceRow>, DataError> {
    Ok(read_prices_with(path, ReadOptions::strict())?.rows)
}

/// Reads one price CSV with the given options.
pub fn read_prices_with(path: impl AsRef<Path>, opts: ReadOptions) -> Result<PriceFile, DataError> {
    collect(open_prices(path, opts)?)
}

/// Raw CSV record, before validation.
#[derive(Debug, Deserialize)]
struct RawRow {
    ts_utc: String,
    unix_ms: String,
    venue: String,
    symbol: String,
    interval: String,
    open: String,
    high: String,
    low: String,
    close: String,
    volume_base: String,
    volume_quote: String,
    trades: String,
}

/// Most `(venue, symbol)` series one file may hold. The reader keeps one small entry per series
/// (and a streaming replay one cursor per series), so the count is bounded, not the file size.
pub const MAX_SERIES: usize = 512;

/// Parses price CSV text from any reader; `name` is used in error messages in place of a path.
/// Collects every row: use [`PriceReader`] to stream instead.
pub fn parse_prices<R: Read>(
    reader: R,
    name: &str,
    opts: ReadOptions,
) -> Result<PriceFile, DataError> {
    collect(PriceReader::new(reader, name, opts)?)
}

fn collect<R: Read>(mut rdr: PriceReader<R>) -> Result<PriceFile, DataError> {
    let mut out = PriceFile::default();
    while let Some(row) = rdr.next() {
        out.rows.push(row?);
        out.dropped.append(&mut rdr.take_dropped());
    }
    out.dropped.append(&mut rdr.take_dropped());
    Ok(out)
}

/// Opens a price CSV for streaming with the given options (see [`PriceReader`]).
pub fn open_prices(
    path: impl AsRef<Path>,
    opts: ReadOptions,
) -> Result<PriceReader<std::io::BufReader<std::fs::File>>, DataError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing { file: file.clone() }
        } else {
            DataError::Io {
                file: file.clone(),
                source: e,
            }
        }
    })?;
    PriceReader::new(std::io::BufReader::new(f), &file, opts)
}

/// A streaming, validating reader: an iterator of rows that holds one record at a time plus
/// the last `(time, interval)` of each series (at most [`MAX_SERIES`]). Validation is the same
/// as [`parse_prices`]; the iterator ends after the first error. Bars dropped under
/// [`BadBarPolicy::Drop`] are kept for [`PriceReader::take_dropped`] until taken.
pub struct PriceReader<R: Read> {
    rdr: csv::Reader<linecap::LineCap<R>>,
    headers: csv::StringRecord,
    record: csv::StringRecord,
    file: String,
    opts: ReadOptions,
    /// Last (time, interval) per (venue, symbol): BTreeMap so nothing depends on hash order.
    last: BTreeMap<(String, String), (i64, i64)>,
    only: Option<(String, String)>,
    line: usize,
    dropped: Vec<String>,
    done: bool,
}

impl<R: Read> PriceReader<R> {
    /// Checks the header and positions the reader on the first row.
    pub fn new(reader: R, name: &str, opts: ReadOptions) -> Result<Self, DataError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(linecap::LineCap::new(reader));
        let file = name.to_string();
        let headers = rdr.headers().map_err(|e| csv_error(&file, 1, e))?.clone();
        if headers.iter().ne(HEADER.iter().copied()) {
            return Err(DataError::Header {
                file,
                expected: HEADER.join(","),
                found: headers.iter().collect::<Vec<_>>().join(","),
            });
        }
        Ok(Self {
            rdr,
            headers,
            record: csv::StringRecord::new(),
            file,
            opts,
            last: BTreeMap::new(),
            only: None,
            line: 1,
            dropped: Vec::new(),
            done: false,
        })
    }

    /// Yields only the rows of one `(venue, symbol)` series, skipping the others unparsed (and
    /// unvalidated: use it on a file a full pass has already checked).
    pub fn only_series(mut self, venue: &str, symbol: &str) -> Self {
        self.only = Some((venue.to_string(), symbol.to_string()));
        self
    }

    /// Messages of the bars dropped since the last call.
    pub fn take_dropped(&mut self) -> Vec<String> {
        std::mem::take(&mut self.dropped)
    }

    /// The next kept row, `Ok(None)` at the end of the file.
    fn read_row(&mut self) -> Result<Option<PriceRow>, DataError> {
        loop {
            match self.rdr.read_record(&mut self.record) {
                Ok(false) => return Ok(None),
                Ok(true) => {}
                Err(e) => return Err(csv_error(&self.file, self.line + 1, e)),
            }
            // One record per line: the layout has no quoted multi-line cells.
            self.line += 1;
            if let Some((venue, symbol)) = &self.only {
                if self.record.get(2) != Some(venue) || self.record.get(3) != Some(symbol) {
                    continue;
                }
            }
            let raw: RawRow = self
                .record
                .deserialize(Some(&self.headers))
                .map_err(|e| csv_error(&self.file, self.line, e))?;
            let row = parse_row(&self.file, self.line, raw)?;
            self.check_series(&row)?;
            match check_ohlc(&self.file, &row) {
                Ok(()) => return Ok(Some(row)),
                Err(e) if self.opts.bad_bars == BadBarPolicy::Drop => {
                    self.dropped.push(e.to_string())
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Order, interval and gap checks of `row` against the last row of its series. The series
    /// continues through a dropped bar: it is a real bar with a dirty OHLC, not a hole.
    fn check_series(&mut self, row: &PriceRow) -> Result<(), DataError> {
        let (file, line) = (self.file.clone(), self.line);
        let key = (row.venue.clone(), row.symbol.clone());
        let Some(&(prev_ms, prev_interval)) = self.last.get(&key) else {
            if self.last.len() >= MAX_SERIES {
                return Err(DataError::TooManySeries {
                    file,
                    line,
                    max: MAX_SERIES,
                });
            }
            self.last.insert(key, (row.ts_ms, row.interval_ms));
            return Ok(());
        };
        let (venue, symbol) = (row.venue.clone(), row.symbol.clone());
        if row.ts_ms <= prev_ms {
            return Err(DataError::Unsorted {
                file,
                line,
                venue,
                symbol,
                prev_ms,
                ts_ms: row.ts_ms,
            });
        }
        if row.interval_ms != prev_interval {
            return Err(DataError::IntervalChanged {
                file,
                line,
                venue,
                symbol,
                prev_ms: prev_interval,
                interval_ms: row.interval_ms,
            });
        }
        let expected = prev_ms + prev_interval;
        if !self.opts.allow_gaps && row.ts_ms != expected {
            let span = row.ts_ms - expected;
            // Bars that would fit in the hole, rounded up (a misaligned bar counts as one).
            let missing = (span + prev_interval - 1) / prev_interval;
            return Err(DataError::Gap {
                file,
                line,
                venue,
                symbol,
                expected: format_utc_ms(expected),
                found: format_utc_ms(row.ts_ms),
                missing,
            });
        }
        self.last.insert(key, (row.ts_ms, row.interval_ms));
        Ok(())
    }
}

impl<R: Read> Iterator for PriceReader<R> {
    type Item = Result<PriceRow, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.read_row().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}

fn csv_error(file: &str, line: usize, e: csv::Error) -> DataError {
    match e.kind() {
        csv::ErrorKind::Io(io) if linecap::is_line_too_long(io) => DataError::LineTooLong {
            file: file.to_string(),
            line,
            max: MAX_LINE_BYTES,
        },
        csv::ErrorKind::Io(_) => DataError::Io {
            file: file.to_string(),
            source: std::io::Error::other(e.to_string()),
        },
        _ => DataError::Malformed {
            file: file.to_string(),
            line,
            reason: e.to_string(),
        },
    }
}

fn malformed(file: &str, line: usize, reason: String) -> DataError {
    DataError::Malformed {
        file: file.to_string(),
        line,
        reason,
    }
}

fn price(file: &str, line: usize, field: &'static str, s: &str) -> Result<f64, DataError> {
    let bad = || DataError::BadPrice {
        file: file.to_string(),
        line,
        field,
        value: s.to_string(),
    };
    let v: f64 = s.parse().map_err(|_| bad())?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(bad())
    }
}

fn optional_amount(
    file: &str,
    line: usize,
    field: &'static str,
    s: &str,
) -> Result<Option<f64>, DataError> {
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        _ => Err(malformed(
            file,
            line,
            format!("{field} must be empty or a non-negative number, found `{s}`"),
        )),
    }
}

fn parse_row(file: &str, line: usize, raw: RawRow) -> Result<PriceRow, DataError> {
    let ts_ms: i64 = raw.unix_ms.parse().map_err(|_| {
        malformed(
            file,
            line,
            format!("unix_ms must be an integer, found `{}`", raw.unix_ms),
        )
    })?;
    // `ts_utc` may be RFC 3339 or `YYYY-MM-DD HH:MM:SS` (UTC); it must name the same instant.
    if parse_utc_ms(&raw.ts_utc) != Some(ts_ms) {
        let expected = format_utc_ms(ts_ms);
        return Err(DataError::TimestampMismatch {
            file: file.to_string(),
            line,
            ts_utc: raw.ts_utc,
            unix_ms: ts_ms,
            expected,
        });
    }
    if raw.venue.is_empty() || raw.symbol.is_empty() {
        return Err(malformed(
            file,
            line,
            "venue and symbol must not be empty".into(),
        ));
    }
    let interval_ms = parse_interval_ms(&raw.interval).ok_or_else(|| {
        malformed(
            file,
            line,
            format!(
                "unknown interval `{}` (expected e.g. 1m, 1h, 1d)",
                raw.interval
            ),
        )
    })?;
    let open = price(file, line, "open", &raw.open)?;
    let high = price(file, line, "high", &raw.high)?;
    let low = price(file, line, "low", &raw.low)?;
    let close = price(file, line, "close", &raw.close)?;
    let trades = if raw.trades.is_empty() {
        None
    } else {
        Some(raw.trades.parse::<u64>().map_err(|_| {
            malformed(
                file,
                line,
                format!(
                    "trades must be empty or a whole number, found `{}`",
                    raw.trades
                ),
            )
        })?)
    };
    Ok(PriceRow {
        ts_ms,
        venue: raw.venue,
        symbol: raw.symbol,
        interval_ms,
        open,
        high,
        low,
        close,
        volume_base: optional_amount(file, line, "volume_base", &raw.volume_base)?,
        volume_quote: optional_amount(file, line, "volume_quote", &raw.volume_quote)?,
        trades,
        line,
    })
}

/// `low ≤ min(open, close) ≤ max(open, close) ≤ high`.
fn check_ohlc(file: &str, row: &PriceRow) -> Result<(), DataError> {
    let (open, high, low, close) = (row.open, row.high, row.low, row.close);
    let reason = if low > high {
        Some("low > high")
    } else if high < open.max(close) {
        Some("high < max(open, close)")
    } else if low > open.min(close) {
        Some("low > min(open, close)")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(DataError::ImpossibleBar {
            file: file.to_string(),
            line: row.line,
            reason,
            open,
            high,
            low,
            close,
        });
    }
    Ok(())
}
