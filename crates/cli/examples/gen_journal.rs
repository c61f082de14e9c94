//! Writes a synthetic journal for memory measurements of `ballast replay`: the engine's
//! `synthetic_book` (1,000 traders and a market maker) followed by its `command_stream` of fills
//! and price updates, one JSON line per command.
//!
//! ```text
//! cargo run --release -p ballast --example gen_journal -- LINES FILE
//! ```

use ballast_engine::{demo, journal};
use std::io::{BufWriter, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(lines), Some(path)) = (args.first(), args.get(1)) else {
        return Err("usage: gen_journal LINES FILE".into());
    };
    let lines: usize = lines.parse()?;
    let traders = 1_000;
    let book = demo::synthetic_book(traders, 7);
    let stream = demo::command_stream(traders, lines.saturating_sub(book.len()), 10, 11);
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    for env in book.iter().chain(&stream) {
        writeln!(w, "{}", journal::to_line(env))?;
    }
    w.flush()?;
    eprintln!("wrote {} lines to {path}", book.len() + stream.len());
    Ok(())
}
