//! The command line bounds what it cannot trust or would misread: `--threads` over the cores,
//! a misspelt portfolio field (issue 15's `vol` → `volatility`), and it streams a price CSV in
//! either layout (series after series, or time-interleaved) to the same rows.

use std::process::Command;

fn root() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../..")
}

fn ballast(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ballast"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ballast-cli-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn threads_over_the_core_count_are_capped_and_change_nothing() {
    let strip = |s: &str| {
        let mut v: serde_json::Value = serde_json::from_str(s).expect("JSON");
        v.as_object_mut().expect("object").remove("elapsed_s");
        v
    };
    let (ok, many, err) = ballast(&["stress", "--paths", "8", "--threads", "100000", "--json"]);
    assert!(ok, "{err}");
    assert!(
        err.contains("warning: --threads 100000 is more than the"),
        "{err}"
    );
    let (ok, one, err) = ballast(&["stress", "--paths", "8", "--threads", "1", "--json"]);
    assert!(ok, "{err}");
    assert_eq!(strip(&many), strip(&one));
}

#[test]
fn misspelt_portfolio_field_is_refused_with_its_name() {
    let example = std::fs::read_to_string(format!(
        "{}/crates/options/tests/data/portfolio_example.json",
        root()
    ))
    .unwrap();
    let path = temp("volatility.json");
    std::fs::write(&path, example.replacen("\"vol\":", "\"volatility\":", 1)).unwrap();
    let (ok, out, err) = ballast(&["margin", "--portfolio", path.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(err.contains("unknown field `volatility`"), "{err}");
}

#[test]
fn both_csv_layouts_stream_to_the_same_rows() {
    let src = "data/2020-03_black_thursday_btc_eth_1h.csv";
    let text = std::fs::read_to_string(format!("{}/{src}", root())).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    // Series after series in the fixture; interleave them by time (stable: venue order kept).
    let unix_ms = |l: &str| l.split(',').nth(1).unwrap().parse::<i64>().unwrap();
    assert!(lines.windows(2).any(|w| unix_ms(w[1]) < unix_ms(w[0])));
    lines.sort_by_key(|l| unix_ms(l));
    let path = temp("interleaved.csv");
    std::fs::write(&path, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    let (ok_a, a, err_a) = ballast(&["oracle", "--csv", src, "--json"]);
    let (ok_b, b, err_b) = ballast(&["oracle", "--csv", path.to_str().unwrap(), "--json"]);
    assert!(ok_a && ok_b, "{err_a}{err_b}");
    assert!(a.lines().count() > 100);
    assert_eq!(a, b);
}
