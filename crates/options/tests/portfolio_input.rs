//! Portfolio files are strict and bounded: a misspelt field anywhere is a parse error naming
//! it (never silently ignored or defaulted), and each size cap is a typed `OverCap` naming the
//! cap.

use ballast_options::portfolio::{caps, compute_margin, margin_from_json, PortfolioFile};
use ballast_options::OptionsError;

fn example() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/portfolio_example.json"
    ))
    .unwrap()
}

/// The example with the first occurrence of `from` replaced by `to`; the parse error message.
fn misspelt(from: &str, to: &str) -> String {
    let text = example();
    assert!(text.contains(from), "{from} not in the example");
    match margin_from_json(&text.replacen(from, to, 1)) {
        Err(OptionsError::Parse(msg)) => msg,
        other => panic!("{from} -> {to}: expected a parse error, got {other:?}"),
    }
}

#[test]
fn misspelt_fields_are_parse_errors_naming_the_field() {
    assert!(margin_from_json(&example()).is_ok());
    for (from, to, named) in [
        // Issue 15: `vol` → `volatility` used to give a different requirement silently.
        ("\"vol\": 0.55", "\"volatility\": 0.55", "volatility"),
        ("\"strike\": 65000.0", "\"strik\": 65000.0", "strik"),
        ("\"sigma\": 0.15", "\"sigmaa\": 0.15", "sigmaa"),
        ("\"matrix\"", "\"matrx\"", "matrx"),
        ("\"perp_pct\"", "\"perp_pc\"", "perp_pc"),
        ("\"positions\"", "\"position\"", "position"),
        ("\"size\": -3.0", "\"size\": -3.0, \"lev\": 2", "lev"),
    ] {
        let msg = misspelt(from, to);
        assert!(msg.contains(&format!("`{named}`")), "{to}: {msg}");
    }
}

#[test]
fn oracle_confidence_is_required() {
    let msg = misspelt(", \"oracle_confidence\": 0.001", "");
    assert!(msg.contains("oracle_confidence"), "{msg}");
}

fn over_cap<T>(r: Result<T, OptionsError>) -> (&'static str, usize, usize) {
    match r {
        Err(OptionsError::OverCap { what, value, max }) => (what, value, max),
        Err(e) => panic!("expected OverCap, got {e}"),
        Ok(_) => panic!("expected OverCap, got a result"),
    }
}

#[test]
fn each_cap_is_a_typed_error_naming_it() {
    let base: PortfolioFile = serde_json::from_str(&example()).unwrap();

    let padded = format!("{}{}", example(), " ".repeat(caps::FILE_BYTES));
    let (what, value, max) = over_cap(margin_from_json(&padded));
    assert_eq!((what, max), ("portfolio file bytes", caps::FILE_BYTES));
    assert_eq!(value, padded.len());

    let mut f = base.clone();
    let p = f.positions[3].clone();
    f.positions = vec![p; caps::POSITIONS + 1];
    assert_eq!(over_cap(compute_margin(&f)).0, "positions");

    let mut f = base.clone();
    f.params.spot_levels = vec![0.5; caps::SPOT_LEVELS + 1];
    assert_eq!(over_cap(compute_margin(&f)).0, "params.spot_levels");

    let mut f = base.clone();
    f.market = vec![f.market[0].clone(); caps::UNDERLYINGS + 1];
    assert_eq!(over_cap(compute_margin(&f)).0, "market (underlyings)");

    // Within every count cap, but positions × scenarios is not.
    let mut f = base.clone();
    let p = f.positions[0].clone();
    f.positions = vec![p; caps::POSITIONS];
    f.params.spot_levels = (1..=caps::SPOT_LEVELS)
        .map(|i| i as f64 / caps::SPOT_LEVELS as f64)
        .collect();
    let (what, value, max) = over_cap(compute_margin(&f));
    assert_eq!((what, max), ("positions × scenarios", caps::REVALUATIONS));
    assert!(value > max);

    // At the count caps with few scenarios, it still computes.
    let mut f = base;
    let p = f.positions[3].clone();
    f.positions = vec![p; caps::POSITIONS];
    assert!(compute_margin(&f).is_ok());
}
