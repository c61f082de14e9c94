//! The analyst-facing outputs on the command line: `ballast shock` (table and JSON), and the
//! stress summary's tail intervals with their methods named.

#[path = "support/run.rs"]
mod run;
use run::ballast;

#[test]
fn shock_json_has_every_rung_and_its_attribution() {
    let (ok, out, err) = ballast(&[
        "shock",
        "--ladder=-10,-30%,-50",
        "--assets",
        "btc,ETH",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let rungs = v["rungs"].as_array().expect("rungs");
    assert_eq!(rungs.len(), 3);
    assert_eq!(rungs[1]["shock"], -0.3);
    for key in [
        "accounts_liquidatable",
        "collateral_at_risk_usd",
        "liquidations_at_risk_usd",
        "bad_debt_usd",
        "insurance_draw_usd",
        "adl_usd",
        "socialized_usd",
    ] {
        assert!(
            rungs.iter().all(|r| r[key].is_number()),
            "{key} missing: {out}"
        );
    }
    let liq: Vec<u64> = rungs
        .iter()
        .map(|r| r["accounts_liquidatable"].as_u64().expect("count"))
        .collect();
    assert!(
        liq.windows(2).all(|w| w[0] <= w[1]) && liq[2] > liq[0],
        "{liq:?}"
    );
    assert!(
        rungs[2]["attribution"]["markets"][0]["share"].is_number(),
        "{out}"
    );
}

#[test]
fn shock_refuses_what_it_cannot_do_and_names_it() {
    let (ok, _, err) = ballast(&["shock", "--assets", "DOGE"]);
    assert!(
        !ok && err.contains("DOGE") && err.contains("BTC, ETH"),
        "{err}"
    );
    let (ok, _, err) = ballast(&["shock", "--ladder=-100"]);
    assert!(!ok && err.contains("-100"), "{err}");
    let (ok, _, err) = ballast(&["shock", "--ladder=-ten"]);
    assert!(!ok && err.contains("-ten"), "{err}");
}

#[test]
fn stress_json_names_its_interval_methods() {
    let (ok, out, err) = ballast(&["stress", "jump-tail", "--paths", "200", "--json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    for key in [
        "/ci_methods/var",
        "/ci_methods/cvar",
        "/ci_methods/mean",
        "/ci_methods/probability",
    ] {
        assert!(
            v.pointer(key).is_some_and(|m| m.is_string()),
            "{key}: {out}"
        );
    }
    let b = &v["bad_debt"];
    let lo = b["mean_ci95"][0].as_f64().expect("lower bound");
    assert!(lo >= 0.0, "negative lower bound {lo}");
    assert!(b["var95_ci95"]["lo"].as_f64().expect("lo") <= b["var95"].as_f64().expect("var95"));
    // 200 paths cannot bound the 99th percentile from above: said, not invented.
    assert!(b["var99_ci95"]["hi"].is_null(), "{}", b["var99_ci95"]);
}
