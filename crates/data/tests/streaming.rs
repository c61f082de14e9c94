//! The streaming reader gives exactly what the collecting reader gives, `only_series` gives one
//! series, and a file with more series than [`MAX_SERIES`] is refused with the cap named.

use ballast_data::{
    open_prices, parse_prices, read_prices_with, BadBarPolicy, DataError, PriceRow, ReadOptions,
    MAX_SERIES,
};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

const LENIENT: ReadOptions = ReadOptions {
    allow_gaps: true,
    bad_bars: BadBarPolicy::Drop,
};

#[test]
fn streamed_rows_equal_collected_rows() {
    // The FTX file has impossible bars: the dropped ones must match too.
    for f in [
        "2022-11_ftx_btc_eth_ftt_cccagg_1h.csv",
        "2020-03_black_thursday_btc_eth_1h.csv",
    ] {
        let whole = read_prices_with(data(f), LENIENT).unwrap();
        let mut rdr = open_prices(data(f), LENIENT).unwrap();
        let (mut rows, mut dropped) = (Vec::new(), Vec::new());
        while let Some(r) = rdr.next() {
            rows.push(r.unwrap());
            dropped.append(&mut rdr.take_dropped());
        }
        dropped.append(&mut rdr.take_dropped());
        assert_eq!(rows, whole.rows, "{f}");
        assert_eq!(dropped, whole.dropped, "{f}");
        assert!(!rows.is_empty());
    }
}

#[test]
fn only_series_yields_that_series_alone() {
    let f = data("2020-03_black_thursday_btc_eth_1h.csv");
    let all: Vec<PriceRow> = open_prices(&f, LENIENT)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (venue, symbol) = (all[0].venue.clone(), all[0].symbol.clone());
    let one: Vec<PriceRow> = open_prices(&f, LENIENT)
        .unwrap()
        .only_series(&venue, &symbol)
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<PriceRow> = all
        .into_iter()
        .filter(|r| r.venue == venue && r.symbol == symbol)
        .collect();
    assert_eq!(one, expected);
    assert!(one.len() > 100);
}

#[test]
fn more_series_than_the_cap_is_refused() {
    let header =
        "ts_utc,unix_ms,venue,symbol,interval,open,high,low,close,volume_base,volume_quote,trades\n";
    let row =
        |v: usize| format!("2020-03-10T00:00:00Z,1583798400000,v{v},BTC/USD,1h,1,2,0.5,1.5,,,\n");
    let body: String = (0..=MAX_SERIES).map(row).collect();
    let e = parse_prices(format!("{header}{body}").as_bytes(), "many.csv", LENIENT).unwrap_err();
    match e {
        DataError::TooManySeries { line, max, .. } => {
            assert_eq!((line, max), (MAX_SERIES + 2, MAX_SERIES));
        }
        other => panic!("expected TooManySeries, got {other}"),
    }
    let body: String = (0..MAX_SERIES).map(row).collect();
    let ok = parse_prices(format!("{header}{body}").as_bytes(), "cap.csv", LENIENT).unwrap();
    assert_eq!(ok.rows.len(), MAX_SERIES);
}

#[test]
fn an_overlong_line_is_refused_with_its_line() {
    let header =
        "ts_utc,unix_ms,venue,symbol,interval,open,high,low,close,volume_base,volume_quote,trades\n";
    let good = "2020-03-10T00:00:00Z,1583798400000,v,BTC/USD,1h,1,2,0.5,1.5,,,\n";
    let huge = format!(
        "2020-03-10T01:00:00Z,1583802000000,{},BTC/USD,1h,1,2,0.5,1.5,,,\n",
        "v".repeat(ballast_data::MAX_LINE_BYTES)
    );
    let text = format!("{header}{good}{huge}{good}");
    match parse_prices(text.as_bytes(), "long.csv", LENIENT).unwrap_err() {
        DataError::LineTooLong { line, max, .. } => {
            assert_eq!((line, max), (3, ballast_data::MAX_LINE_BYTES));
        }
        other => panic!("expected LineTooLong, got {other}"),
    }
    // A long but allowed line passes the cap (and is then an ordinary row).
    let long_ok = format!(
        "2020-03-10T01:00:00Z,1583802000000,{},BTC/USD,1h,1,2,0.5,1.5,,,\n",
        "v".repeat(ballast_data::MAX_LINE_BYTES - 100)
    );
    let ok = parse_prices(
        format!("{header}{good}{long_ok}").as_bytes(),
        "ok.csv",
        LENIENT,
    );
    assert_eq!(ok.unwrap().rows.len(), 2);
}
