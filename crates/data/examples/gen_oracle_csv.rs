//! Writes a synthetic price CSV in the layout of `data/` for memory and speed measurements of
//! `ballast oracle --csv`: `ROWS` one-minute bars of BTC from three venues (`binance`,
//! `coinbase`, `kraken`) on one deterministic random walk with per-venue noise.
//!
//! ```text
//! cargo run --release -p ballast-data --example gen_oracle_csv -- ROWS FILE [--by-series]
//! ```
//!
//! Rows are in time order (the three venues interleaved); `--by-series` writes each venue's
//! series whole, one after the other, as the files in `data/` are laid out.

use ballast_data::{format_utc_ms, HEADER};
use std::io::{BufWriter, Write};

const VENUES: [(&str, &str); 3] = [
    ("binance", "BTC/USDT"),
    ("coinbase", "BTC-USD"),
    ("kraken", "BTC/USD"),
];
const START_MS: i64 = 1_577_836_800_000; // 2020-01-01T00:00:00Z
const MINUTE: i64 = 60_000;

/// xorshift64*: enough for a reproducible walk, no dependency.
struct Rng(u64);

impl Rng {
    /// Uniform in (-1, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (x as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// The walk's close at each minute (same on every pass, so `--by-series` gives the same bars).
fn closes(minutes: usize) -> impl Iterator<Item = f64> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut p = 30_000.0f64;
    (0..minutes).map(move |_| {
        p *= 1.0 + 0.001 * rng.next();
        p
    })
}

fn bar(w: &mut impl Write, minute: usize, venue: usize, close: f64) -> std::io::Result<()> {
    let ts = START_MS + minute as i64 * MINUTE;
    let skew = 1.0 + 0.0002 * (venue as f64 - 1.0);
    let c = close * skew;
    let (o, h, l) = (c * 0.9995, c * 1.001, c * 0.999);
    let (v, s) = VENUES[venue];
    writeln!(
        w,
        "{},{ts},{v},{s},1m,{o:.2},{h:.2},{l:.2},{c:.2},1.5,{:.2},42",
        format_utc_ms(ts),
        1.5 * c
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(rows), Some(path)) = (args.first(), args.get(1)) else {
        return Err("usage: gen_oracle_csv ROWS FILE [--by-series]".into());
    };
    let rows: usize = rows.parse()?;
    let by_series = args.iter().any(|a| a == "--by-series");
    let minutes = rows.div_ceil(VENUES.len());
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(w, "{}", HEADER.join(","))?;
    let mut written = 0;
    if by_series {
        for venue in 0..VENUES.len() {
            for (m, c) in closes(minutes).enumerate() {
                if written < rows {
                    bar(&mut w, m, venue, c)?;
                    written += 1;
                }
            }
        }
    } else {
        'outer: for (m, c) in closes(minutes).enumerate() {
            for venue in 0..VENUES.len() {
                if written == rows {
                    break 'outer;
                }
                bar(&mut w, m, venue, c)?;
                written += 1;
            }
        }
    }
    w.flush()?;
    eprintln!("wrote {written} rows to {path}");
    Ok(())
}
