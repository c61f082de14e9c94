//! Volatility forecasts and the vol-adjusted perp margin rate on a real crash: Binance BTC/USDT
//! hourly closes around Black Thursday, 2020-03-10 .. 2020-03-15 (fixture copied from
//! `shared/data/2020-03_black_thursday_btc_eth_1h.csv`; provenance in `shared/data/SOURCES.md`).

use ballast_options::volforecast::{
    ewma_variance, fit_garch, log_returns, Garch11, VolAdjustedRate, VolMarginParams,
    RISKMETRICS_LAMBDA,
};

/// (timestamp, close) of Binance BTC/USDT.
fn btc_closes() -> Vec<(String, f64)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/2020-03_black_thursday_btc_eth_1h.csv"
    );
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (ts, venue, sym, close) = (col("ts_utc"), col("venue"), col("symbol"), col("close"));
    rdr.records()
        .map(|r| r.unwrap())
        .filter(|r| r[venue].starts_with("binance") && r[sym].starts_with("BTC"))
        .map(|r| (r[ts].to_string(), r[close].parse().unwrap()))
        .collect()
}

#[test]
fn forecasts_react_to_the_crash_and_margin_moves_in_bounded_steps() {
    let data = btc_closes();
    assert_eq!(data.len(), 144, "six days of hourly bars");
    let prices: Vec<f64> = data.iter().map(|d| d.1).collect();
    let r = log_returns(&prices).unwrap();
    // Index of the return ending at 2020-03-12 00:00 (before the crash) and at 03-13 03:00.
    let at = |ts: &str| data.iter().position(|d| d.0.starts_with(ts)).unwrap();
    let before = at("2020-03-12T00") - 1;
    let after = at("2020-03-13T03") - 1;
    // λ = 0.94 applied per hourly observation (RiskMetrics' daily value; a choice, documented).
    let v_before = ewma_variance(&r[..=before], RISKMETRICS_LAMBDA).unwrap();
    let v_after = ewma_variance(&r[..=after], RISKMETRICS_LAMBDA).unwrap();
    assert!(
        v_after > 5.0 * v_before,
        "EWMA hourly vol {:.4} -> {:.4}",
        v_before.sqrt(),
        v_after.sqrt()
    );

    // GARCH(1,1) MLE: stationary, and at least as likely as a constant variance.
    let fit = fit_garch(&r).unwrap();
    let p = fit.params;
    println!(
        "GARCH(1,1) hourly: omega {:.3e} alpha {:.3} beta {:.3} (LL {:.1}, {} iterations)",
        p.omega(),
        p.alpha(),
        p.beta(),
        fit.log_likelihood,
        fit.iterations
    );
    assert!(p.alpha() + p.beta() < 1.0 && p.omega() > 0.0);
    let var = r.iter().map(|x| x * x).sum::<f64>() / r.len() as f64;
    let constant = Garch11::new(var, 0.0, 0.0).unwrap();
    assert!(fit.log_likelihood >= -constant.neg_log_likelihood(&r).unwrap());
    // Its 24-hour forecast right after the crash exceeds the one just before it.
    let h_before = p.horizon_vol(&r[..=before], 24).unwrap();
    let h_after = p.horizon_vol(&r[..=after], 24).unwrap();
    assert!(h_after > h_before, "{h_before} -> {h_after}");

    // Vol-adjusted perp margin: 5% base + 1.5·σ_24h, at most 1 point per hour.
    let params = VolMarginParams {
        base: 0.05,
        k: 1.5,
        horizon: 24.0,
        max_step: 0.01,
    };
    let mut rate = VolAdjustedRate::new(params, 0.05).unwrap();
    let (mut prev, mut peak) = (rate.current(), 0.0_f64);
    for i in 0..r.len() {
        let sigma = ewma_variance(&r[..=i], RISKMETRICS_LAMBDA).unwrap().sqrt();
        let now = rate.update(sigma).unwrap();
        assert!((now - prev).abs() <= params.max_step + 1e-15, "jump at {i}");
        assert!(now >= params.base);
        peak = peak.max(now);
        prev = now;
    }
    let calm_target = params.target(v_before.sqrt()).unwrap();
    println!(
        "EWMA hourly vol {:.4} -> {:.4}; margin rate calm target {calm_target:.4}, peak {peak:.4}",
        v_before.sqrt(),
        v_after.sqrt()
    );
    assert!(
        peak > calm_target + 0.05,
        "peak {peak}, calm target {calm_target}"
    );
}
