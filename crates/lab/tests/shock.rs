//! The shock ladder: deeper shocks cost more on the example book, and each rung agrees with a
//! stress run whose price path is that same instantaneous shock (a replayed CSV that jumps at
//! step 1 and stays flat), so the ladder is the stress lab's own machinery, not a model of it.

use ballast_lab::embedded;
use ballast_lab::runner::Prepared;
use ballast_lab::scenario::ModelSpec;
use ballast_lab::shock::{ladder, Rung, ShockSpec};
use std::path::{Path, PathBuf};

const SETTLE: u32 = 24;

fn sets(extra: &[&str]) -> Vec<String> {
    // The noise-free gas model on both sides (the ladder has no gas noise by design).
    let mut v = vec!["faults.gas.sigma=0".to_string()];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn spec(rungs: &[f64]) -> ShockSpec {
    ShockSpec {
        rungs: rungs.to_vec(),
        assets: vec![],
        vol_shock: 0.0,
        settle_steps: SETTLE,
    }
}

/// A price CSV in the data/ layout: every asset at `p0`, then `p0 · (1 + shock)` for `SETTLE`
/// hourly bars.
fn jump_csv(dir: &Path, symbols: &[String], p0: &[f64], shock: f64) -> PathBuf {
    let mut text = String::from(
        "ts_utc,unix_ms,venue,symbol,interval,open,high,low,close,volume_base,volume_quote,trades\n",
    );
    for (sym, p) in symbols.iter().zip(p0) {
        let p1 = p * libm::exp(libm::log1p(shock));
        for k in 0..=SETTLE as i64 {
            let px = if k == 0 { *p } else { p1 };
            let ms = 1_704_067_200_000 + k * 3_600_000;
            let ts = format!("2024-01-{:02}T{:02}:00:00Z", 1 + k / 24, k % 24);
            text.push_str(&format!(
                "{ts},{ms},lab,{sym}/USD,1h,{px},{px},{px},{px},1,{px},\n"
            ));
        }
    }
    let p = dir.join(format!("jump{}.csv", (shock * 1000.0) as i64));
    std::fs::write(&p, text).expect("write CSV");
    p
}

fn stress_of_jump(extra: &[&str], shock: f64, dir: &Path) -> ballast_lab::path::PathResult {
    let (mut sc, _) = embedded::load("gbm-baseline", &sets(extra)).expect("scenario");
    let symbols: Vec<String> = sc.assets.iter().map(|a| a.symbol.clone()).collect();
    let p0: Vec<f64> = sc.assets.iter().map(|a| a.price.expect("priced")).collect();
    let csv = jump_csv(dir, &symbols, &p0, shock);
    for a in &mut sc.assets {
        a.model = ModelSpec::Replay {
            csv: csv.display().to_string(),
            venue: None,
            symbol: format!("{}/USD", a.symbol),
            drop_bad_bars: false,
        };
    }
    sc.correlation = None;
    sc.horizon = SETTLE;
    sc.paths = 1;
    Prepared::new(sc, None)
        .expect("prepares")
        .run_path(0)
        .expect("runs")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-6
}

fn loss(r: &Rung) -> f64 {
    r.bad_debt_usd + r.insurance_draw_usd + r.adl_usd + r.socialized_usd
}

#[test]
fn ladder_on_the_example_book_is_monotone() {
    let (sc, _) = embedded::load("gbm-baseline", &sets(&[])).expect("scenario");
    let prep = Prepared::new(sc, None).expect("prepares");
    let l = ladder(&prep, &spec(&[-0.05, -0.10, -0.20, -0.30, -0.50])).expect("ladder");
    assert_eq!(l.rungs.len(), 5);
    for w in l.rungs.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(
            b.accounts_liquidatable >= a.accounts_liquidatable,
            "{a:?} {b:?}"
        );
        // LaR is valued at the shocked prices, so a deeper fall can shrink it while more
        // accounts join: not asserted monotone.
        assert!(
            b.collateral_at_risk_usd >= a.collateral_at_risk_usd,
            "{a:?} {b:?}"
        );
        assert!(loss(b) >= loss(a), "{a:?} {b:?}");
    }
    let deep = &l.rungs[4];
    assert!(deep.accounts_liquidatable > l.rungs[0].accounts_liquidatable);
    assert!(loss(deep) > 0.0, "a 50% crash costs nothing: {deep:?}");
}

#[test]
fn each_rung_agrees_with_a_stress_run_of_the_same_jump() {
    let dir = std::env::temp_dir().join(format!("ballast-shock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for mech in [&["protocol.liquidation.mechanism=keeper_fill"][..], &[][..]] {
        let (sc, _) = embedded::load("gbm-baseline", &sets(mech)).expect("scenario");
        let prep = Prepared::new(sc, None).expect("prepares");
        let rungs = [-0.10, -0.30, -0.50];
        let l = ladder(&prep, &spec(&rungs)).expect("ladder");
        for (r, &shock) in l.rungs.iter().zip(&rungs) {
            let p = stress_of_jump(mech, shock, &dir);
            let usd = |x: i64| x as f64 / 1e6;
            assert_eq!(r.liquidations, p.liquidations, "{mech:?} {shock}");
            assert!(
                close(r.bad_debt_usd, usd(p.bad_debt)),
                "{mech:?} {shock}: {r:?} {p:?}"
            );
            assert!(
                close(r.insurance_draw_usd, usd(p.covered)),
                "{mech:?} {shock}"
            );
            assert!(close(r.adl_usd, usd(p.adl)), "{mech:?} {shock}");
            assert!(
                close(r.liquidated_volume_usd, usd(p.liq_volume)),
                "{mech:?} {shock}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attribution_shares_sum_to_the_total() {
    for mech in [
        &[][..],
        &["protocol.liquidation.mechanism=engine_auction"][..],
    ] {
        let (sc, _) = embedded::load("gbm-baseline", &sets(mech)).expect("scenario");
        let prep = Prepared::new(sc, None).expect("prepares");
        let l = ladder(&prep, &spec(&[-0.3, -0.5])).expect("ladder");
        for r in &l.rungs {
            let a = &r.attribution;
            let total = r.insurance_draw_usd + r.bad_debt_usd;
            assert!(total > 0.0, "{mech:?}: no loss to attribute at {}", r.shock);
            assert!(
                close(a.total_usd, total),
                "{mech:?}: {} vs {total}",
                a.total_usd
            );
            for v in [&a.accounts, &a.markets, &a.collateral] {
                let usd: f64 = v.iter().map(|s| s.usd).sum();
                let share: f64 = v.iter().map(|s| s.share).sum();
                assert!(close(usd, total), "{mech:?}: {usd} vs {total} in {v:?}");
                assert!((share - 1.0).abs() < 1e-9, "{mech:?}: shares {share}");
            }
        }
    }
}

#[test]
fn stress_attribution_by_market_sums_to_the_mean_and_cvar99() {
    let sets: Vec<String> = ["paths=120", "horizon=240"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (sc, _) = embedded::load("jump-tail", &sets).expect("scenario");
    let prep = Prepared::new(sc, None).expect("prepares");
    let cfg = ballast_lab::RunConfig {
        threads: 2,
        ..Default::default()
    };
    let s = ballast_lab::run(&prep, &cfg).expect("runs").summary;
    let a = &s.bad_debt_by_market;
    assert!(
        s.bad_debt.mean > 0.0,
        "no bad debt to attribute: {}",
        s.table()
    );
    let mean: f64 = a.mean.iter().map(|x| x.usd).sum();
    let cvar: f64 = a.cvar99.iter().map(|x| x.usd).sum();
    assert!(
        close(mean, s.bad_debt.mean),
        "{mean} vs {}",
        s.bad_debt.mean
    );
    assert!(
        close(cvar, s.bad_debt.cvar99),
        "{cvar} vs {}",
        s.bad_debt.cvar99
    );
    assert!(a.cvar99_exact);
    for v in [&a.mean, &a.cvar99] {
        let share: f64 = v.iter().map(|x| x.share).sum();
        assert!((share - 1.0).abs() < 1e-9, "{v:?}");
    }
}
