//! Prints the oracle timeline of one or more price CSVs as JSON lines — a preview of
//! `ballast oracle --csv FILE [--symbol S] --json`.
//!
//! ```text
//! cargo run -p ballast-oracle --example timeline -- data/2020-03_black_thursday_btc_eth_1h.csv BTC
//! ```
//! Arguments: one or more CSV paths, optionally followed by a base asset (an argument that is not
//! an existing file). Files are read leniently (gaps allowed, impossible bars dropped).

use ballast_data::{read_prices_with, BadBarPolicy, ReadOptions};
use ballast_oracle::timeline::{run_timeline, TimelineConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opts = ReadOptions {
        allow_gaps: true,
        bad_bars: BadBarPolicy::Drop,
    };
    let mut rows = Vec::new();
    let mut cfg = TimelineConfig::default();
    for arg in std::env::args().skip(1) {
        if std::path::Path::new(&arg).is_file() {
            let file = read_prices_with(&arg, opts)?;
            for d in &file.dropped {
                eprintln!("dropped: {d}");
            }
            rows.extend(file.rows);
        } else {
            cfg.symbol = Some(arg);
        }
    }
    for row in run_timeline(&rows, &cfg)? {
        println!("{}", serde_json::to_string(&row)?);
    }
    Ok(())
}
