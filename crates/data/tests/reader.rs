//! The reader on the real fixtures in `data/` and on deliberately broken files: each defect must
//! come back as the right typed error naming the file and the line.

use ballast_data::{
    base_asset, parse_prices, read_prices, read_prices_with, BadBarPolicy, DataError, ReadOptions,
};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

const HEADER: &str =
    "ts_utc,unix_ms,venue,symbol,interval,open,high,low,close,volume_base,volume_quote,trades\n";

/// Writes `body` under the header to a unique file in the temp dir and returns its path.
fn temp_csv(tag: &str, body: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "ballast-data-test-{}-{tag}.csv",
        std::process::id()
    ));
    std::fs::write(&path, format!("{HEADER}{body}")).unwrap();
    path
}

const ROW1: &str = "2020-03-10T00:00:00Z,1583798400000,binance,BTC/USDT,1h,7929.87,7950.21,7894.72,7937.3,2105.49,16694678.36,\n";
const ROW2: &str = "2020-03-10T01:00:00Z,1583802000000,binance,BTC/USDT,1h,7937.3,7969.87,7892.18,7905.52,2149.55,17052610.59,\n";
const ROW4: &str =
    "2020-03-10T03:00:00Z,1583809200000,binance,BTC/USDT,1h,7900,7910,7890,7905,,,\n";

#[test]
fn reads_every_real_file_with_the_documented_exceptions() {
    let strict = [
        ("2020-03_black_thursday_btc_eth_1h.csv", 432),
        ("2021-05_btc_eth_binance_1h.csv", 384),
        ("2022-05_luna_binance_1m.csv", 11_560),
        ("2022-05_btc_eth_yahoo_1d.csv", 40),
        ("2022-10_mango_window_btc_eth_cccagg_1h.csv", 240),
        ("2022-11_ftx_ftt_btc_eth_yahoo_1d.csv", 111),
        ("2024-08_btc_eth_cccagg_1h.csv", 432),
    ];
    for (name, n) in strict {
        let rows = read_prices(data(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), n, "{name}");
    }
    // Coinbase excerpt is non-contiguous by design: strict reading reports the first hole.
    let err = read_prices(data("2022_btc_coinbase_1d_excerpt.csv")).unwrap_err();
    assert!(matches!(err, DataError::Gap { .. }), "{err}");
    let cb = read_prices_with(
        data("2022_btc_coinbase_1d_excerpt.csv"),
        ReadOptions {
            allow_gaps: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(cb.rows.len(), 23);

    // CCCAGG 2022-05 has one ETH bar with low > open (SOURCES.md): strict refuses, Drop keeps 431.
    let err = read_prices(data("2022-05_btc_eth_cccagg_1h.csv")).unwrap_err();
    match &err {
        DataError::ImpossibleBar { reason, .. } => assert_eq!(*reason, "low > min(open, close)"),
        other => panic!("unexpected {other}"),
    }
    let drop = ReadOptions {
        bad_bars: BadBarPolicy::Drop,
        ..ReadOptions::default()
    };
    let f = read_prices_with(data("2022-05_btc_eth_cccagg_1h.csv"), drop).unwrap();
    assert_eq!((f.rows.len(), f.dropped.len()), (431, 1));
    assert!(f.dropped[0].contains("2022-05_btc_eth_cccagg_1h.csv"));
    // FTT after FTX went dark: 48 dirty bars.
    let f = read_prices_with(data("2022-11_ftx_btc_eth_ftt_cccagg_1h.csv"), drop).unwrap();
    assert_eq!((f.rows.len(), f.dropped.len()), (1752, 48));
}

#[test]
fn parsed_row_carries_types_and_line() {
    let rows = read_prices(data("2022-05_btc_eth_yahoo_1d.csv")).unwrap();
    let r = &rows[0];
    assert_eq!(r.line, 2);
    assert_eq!(r.symbol, "BTC-USD");
    assert_eq!(r.base_asset(), "BTC");
    assert_eq!(r.interval_ms, 86_400_000);
    assert_eq!(r.close_ms(), r.ts_ms + 86_400_000);
    assert_eq!(r.volume_base, None);
    assert_eq!(r.volume_quote, Some(27_002_760_110.0));
    assert_eq!(r.trades, None);
    assert_eq!(base_asset("BTC/USDT"), "BTC");
    assert_eq!(base_asset("luna-usd"), "LUNA");
}

#[test]
fn missing_file_is_typed() {
    let err = read_prices("/definitely/not/here.csv").unwrap_err();
    assert!(matches!(err, DataError::Missing { ref file } if file.contains("not/here.csv")));
    assert!(err.to_string().contains("file not found"));
}

#[test]
fn malformed_row_names_line() {
    // Line 3 has too few fields.
    let p = temp_csv(
        "short",
        &format!("{ROW1}2020-03-10T01:00:00Z,1583802000000,binance\n"),
    );
    let err = read_prices(&p).unwrap_err();
    assert!(matches!(err, DataError::Malformed { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("line 3"));
    assert!(err.to_string().contains(&p.display().to_string()));

    // Unknown interval and a non-numeric unix_ms.
    let p = temp_csv("interval", &ROW1.replace(",1h,", ",1y,"));
    let err = read_prices(&p).unwrap_err();
    assert!(
        matches!(err, DataError::Malformed { line: 2, ref reason, .. } if reason.contains("interval"))
    );
    let p = temp_csv("unix", &ROW1.replace("1583798400000", "1.58E+12"));
    assert!(matches!(
        read_prices(&p).unwrap_err(),
        DataError::Malformed { line: 2, .. }
    ));
    // ts_utc disagreeing with unix_ms (e.g. a spreadsheet round trip).
    let p = temp_csv("tsmismatch", &ROW1.replace("T00:00:00Z", "T01:00:00Z"));
    assert!(matches!(
        read_prices(&p).unwrap_err(),
        DataError::TimestampMismatch { line: 2, .. }
    ));
    // Bad header.
    let err = parse_prices(
        "a,b,c\n1,2,3\n".as_bytes(),
        "inline",
        ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, DataError::Header { .. }));
}

#[test]
fn bad_prices_are_refused() {
    for (bad, field) in [
        ("NaN", "close"),
        ("0", "close"),
        ("-5", "close"),
        ("inf", "close"),
        ("", "close"),
    ] {
        let row = ROW1.replace(",7937.3,", &format!(",{bad},"));
        let p = temp_csv("badprice", &row);
        let err = read_prices(&p).unwrap_err();
        match err {
            DataError::BadPrice {
                line,
                field: f,
                value,
                ..
            } => {
                assert_eq!((line, f, value.as_str()), (2, field, bad));
            }
            other => panic!("{bad}: unexpected {other}"),
        }
    }
}

#[test]
fn impossible_ohlc_is_refused_or_dropped() {
    // high below close
    let row = ROW2.replace("7969.87", "7900");
    let p = temp_csv("ohlc-high", &format!("{ROW1}{row}"));
    let err = read_prices(&p).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::ImpossibleBar {
                line: 3,
                reason: "high < max(open, close)",
                ..
            }
        ),
        "{err}"
    );
    // low above high
    let row = ROW2.replace("7892.18", "8000");
    let p = temp_csv("ohlc-low", &format!("{ROW1}{row}"));
    assert!(matches!(
        read_prices(&p).unwrap_err(),
        DataError::ImpossibleBar {
            line: 3,
            reason: "low > high",
            ..
        }
    ));
    // Drop policy keeps the series contiguous through the dropped bar.
    let third = "2020-03-10T02:00:00Z,1583805600000,binance,BTC/USDT,1h,7905,7910,7890,7900,,,\n";
    let p = temp_csv("ohlc-drop", &format!("{ROW1}{row}{third}"));
    let f = read_prices_with(
        &p,
        ReadOptions {
            bad_bars: BadBarPolicy::Drop,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(f.rows.len(), 2);
    assert_eq!(f.dropped.len(), 1);
    assert!(f.dropped[0].contains("line 3"));
}

#[test]
fn gaps_and_unsorted_times_are_refused() {
    // 01:00 → 03:00 skips one hourly bar.
    let p = temp_csv("gap", &format!("{ROW1}{ROW2}{ROW4}"));
    let err = read_prices(&p).unwrap_err();
    match &err {
        DataError::Gap {
            line,
            expected,
            found,
            missing,
            venue,
            ..
        } => {
            assert_eq!(*line, 4);
            assert_eq!(expected, "2020-03-10T02:00:00Z");
            assert_eq!(found, "2020-03-10T03:00:00Z");
            assert_eq!(*missing, 1);
            assert_eq!(venue, "binance");
        }
        other => panic!("unexpected {other}"),
    }
    // allow_gaps accepts it
    let ok = read_prices_with(
        &p,
        ReadOptions {
            allow_gaps: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(ok.rows.len(), 3);

    // Time going backwards (or repeating) inside a series.
    let p = temp_csv("unsorted", &format!("{ROW2}{ROW1}"));
    assert!(matches!(
        read_prices(&p).unwrap_err(),
        DataError::Unsorted { line: 3, .. }
    ));
    let p = temp_csv("dup", &format!("{ROW1}{ROW1}"));
    assert!(matches!(
        read_prices(&p).unwrap_err(),
        DataError::Unsorted { line: 3, .. }
    ));
    // Different series interleaved are fine.
    let other = ROW1
        .replace("binance", "gemini")
        .replace("BTC/USDT", "BTC/USD");
    let p = temp_csv("interleaved", &format!("{ROW1}{other}{ROW2}"));
    assert_eq!(read_prices(&p).unwrap().len(), 3);
}

#[test]
fn spreadsheet_timestamps_read_as_utc_and_still_must_match_unix_ms() {
    // `YYYY-MM-DD HH:MM:SS` (what a spreadsheet writes) and RFC 3339 with an offset read the same
    // bars as the canonical `…Z` form.
    let canonical = read_prices(temp_csv("ts-canon", &format!("{ROW1}{ROW2}"))).unwrap();
    let spaced = format!(
        "{}{}",
        ROW1.replace("2020-03-10T00:00:00Z", "2020-03-10 00:00:00"),
        ROW2.replace("2020-03-10T01:00:00Z", "2020-03-10T02:00:00+01:00")
    );
    let rows = read_prices(temp_csv("ts-space", &spaced)).unwrap();
    assert_eq!(rows, canonical);
    // A spreadsheet time one hour off is still refused, naming the line and both readings.
    let off = ROW2.replace("2020-03-10T01:00:00Z", "2020-03-10 02:00:00");
    let err = read_prices(temp_csv("ts-off", &format!("{ROW1}{off}"))).unwrap_err();
    assert!(
        matches!(err, DataError::TimestampMismatch { line: 3, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("2020-03-10 02:00:00") && msg.contains("2020-03-10T01:00:00Z"),
        "{msg}"
    );
    // Not a timestamp at all.
    let junk = ROW1.replace("2020-03-10T00:00:00Z", "10/03/2020 00:00");
    assert!(matches!(
        read_prices(temp_csv("ts-junk", &junk)).unwrap_err(),
        DataError::TimestampMismatch { line: 2, .. }
    ));
}
