//! Capital efficiency over the path (`efficiency`): the cost of a defence is visible after t0.
//! Static margin (`oracle-manipulation-naive`, imf 0) requires exactly 10% of the notional at
//! every sampled step; EWMA vol-adjusted margin (`-defended`) starts at the same 10% at t0 (no
//! history yet) and requires more once the crash vol is in the estimate.

use ballast_lab::efficiency::{EfficiencyAgg, SAMPLES};
use ballast_lab::embedded;
use ballast_lab::runner::Prepared;

fn over_path(name: &str, paths: u64) -> (EfficiencyAgg, f64, i64) {
    let (sc, base) = embedded::load(name, &[format!("paths={paths}")]).expect("scenario loads");
    let p = Prepared::new(sc, base.as_deref()).expect("scenario prepares");
    let mut agg = EfficiencyAgg::default();
    let (mut im0, mut oi0, mut penalties) = (0i64, 0i64, 0i64);
    for i in 0..paths {
        let r = p.run_path(i).expect("runs");
        // Every ⌈240 / 8⌉ = 30 steps: 8 samples.
        assert_eq!(r.efficiency.samples, SAMPLES, "path {i}");
        agg.add(&r.efficiency);
        (im0, oi0) = (im0 + r.init_margin, oi0 + r.open_interest);
        penalties += r.penalties;
    }
    (agg, im0 as f64 / oi0 as f64, penalties)
}

#[test]
fn vol_margin_costs_show_over_the_path_not_at_t0() {
    let (naive, naive_t0, _) = over_path("oracle-manipulation-naive", 3);
    let (defended, defended_t0, penalties) = over_path("oracle-manipulation-defended", 3);
    let (n_oi, n_eq) = naive.ratios();
    let (d_oi, d_eq) = defended.ratios();
    println!("IM/OI t0 {naive_t0:.4} / {defended_t0:.4}, over the path {n_oi:.4} / {d_oi:.4}; IM/equity {n_eq:.4} / {d_eq:.4}; defended penalties {penalties}");
    // Static 10% margin, imf 0: the requirement is 10% of the notional at every step.
    assert!((n_oi - 0.10).abs() < 1e-6, "{n_oi}");
    assert!((naive_t0 - 0.10).abs() < 1e-6 && (defended_t0 - 0.10).abs() < 1e-6);
    // The vol add-on: more margin per unit of open interest and of equity over the path.
    assert!(d_oi > 0.11, "{d_oi}");
    assert!(d_eq > n_eq, "{d_eq} vs {n_eq}");
    assert!(penalties > 0);
}
