//! Sweeps: a monotone case (maintenance margin × initial margin on one seed) gives a sensible
//! frontier — P(insolvency) falls as maintenance rises, capital efficiency is the initial
//! margin, the frontier trades one for the other, and the recommendation is the cheapest point
//! within the tolerance; refused combinations are reported, not fatal; sweeps are repeatable.

use ballast_lab::sweep::{self, Axis, SweepConfig};

const SCENARIO: &str = r#"
name = "sweep-test"
seed = 7
paths = 60
horizon = 200
step_hours = 1.0
[protocol]
# The lab keeper: the frontier's monotonicity in maintenance margin is checked on its model.
liquidation = { mechanism = "keeper_fill" }
insurance_fund = 5000.0
[protocol.market]
price_band = 0.05
[[assets]]
symbol = "ETH"
decimals = 9
price = 2000.0
model = { kind = "gbm", sigma = 1.0, jump_intensity = 30.0, jump_size = 0.15 }
[population]
accounts = 60
margin = { dist = "uniform", min = 200.0, max = 2000.0 }
leverage = { dist = "uniform", min = 2.0, max = 9.0 }
"#;

#[test]
fn a_margin_grid_gives_a_monotone_frontier_and_a_recommendation() {
    let dir = std::env::temp_dir().join(format!("ballast-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sweep.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    let axes = [
        Axis::parse("protocol.market.init_margin=0.06,0.10").unwrap(),
        Axis::parse("protocol.market.maint_margin=0.02,0.04,0.07").unwrap(),
    ];
    let cfg = SweepConfig {
        threads: 2,
        progress: false,
        max_p_insolvency: 0.5,
    };
    let s = sweep::run(file.to_str().unwrap(), &[], &axes, &cfg).unwrap();
    println!("{}", s.table());
    assert_eq!(s.points.len(), 6);
    // (0.06, 0.07): maintenance above initial is refused by the scenario rules, kept as invalid.
    let bad = &s.points[2];
    assert!(bad.invalid.as_deref().unwrap().contains("maint_margin"));
    assert!(!bad.frontier && !bad.recommended);
    // Capital efficiency is the initial margin; P(insolvency) falls as maintenance rises.
    for (i, init) in [(0usize, 0.06), (3, 0.10)] {
        let row = &s.points[i..i + 3];
        for p in row.iter().filter(|p| p.invalid.is_none()) {
            assert!((p.capital_efficiency.unwrap() - init).abs() < 1e-9);
        }
        let ps: Vec<f64> = row.iter().filter_map(|p| p.p_insolvency).collect();
        assert!(ps.windows(2).all(|w| w[1] <= w[0]), "{ps:?}");
    }
    // The frontier, sorted by capital efficiency, strictly improves P(insolvency).
    let mut f: Vec<(f64, f64)> = s
        .points
        .iter()
        .filter(|p| p.frontier)
        .map(|p| (p.capital_efficiency.unwrap(), p.p_insolvency.unwrap()))
        .collect();
    f.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(f.len() >= 2, "{f:?}");
    assert!(
        f.windows(2).all(|w| w[0].0 < w[1].0 && w[1].1 < w[0].1),
        "{f:?}"
    );
    // The recommendation: within tolerance, and nothing cheaper is.
    let r = &s.points[s.recommended.expect("a point within 50%")];
    assert!(r.recommended && r.frontier);
    assert!(r.p_insolvency_ci95.unwrap()[1] <= 0.5);
    for p in s.points.iter().filter(|p| p.invalid.is_none()) {
        if p.capital_efficiency.unwrap() < r.capital_efficiency.unwrap() {
            assert!(p.p_insolvency_ci95.unwrap()[1] > 0.5);
        }
    }
    // Same grid, same seed: the same sweep.
    let mut again = sweep::run(file.to_str().unwrap(), &[], &axes, &cfg).unwrap();
    again.elapsed_s = s.elapsed_s;
    assert_eq!(again, s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_grids_are_named() {
    let cfg = SweepConfig::default();
    let e = sweep::run("peer-radcad", &[], &[], &cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--grid"), "{e}");
    let axes = [Axis::parse("protocol.market.no_such=1,2").unwrap()];
    let e = sweep::run("peer-radcad", &["paths=2".into()], &axes, &cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no_such"), "{e}");
}
