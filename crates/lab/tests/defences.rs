//! Oracle sources, faults and breakers in scenarios, and the naive-vs-defended comparison:
//! the same Mango-style manipulation costs a naive protocol (one source, static margin, no
//! breaker, no auction resets) far more than a defended one; runs stay deterministic; oracle
//! outages block liquidations through the engine's typed gate; bad input names the field.

use ballast_lab::runner::{self, Prepared, RunConfig};
use ballast_lab::{embedded, Scenario, Summary};

fn load(name: &str, sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load(name, &sets).expect("scenario loads");
    Prepared::new(sc, base.as_deref()).expect("scenario prepares")
}

fn run_full(p: &Prepared, threads: usize) -> runner::RunOutput {
    runner::run(
        p,
        &RunConfig {
            threads,
            ..Default::default()
        },
    )
    .expect("runs")
}

fn run(p: &Prepared, threads: usize) -> Summary {
    run_full(p, threads).summary
}

fn comparable(s: &Summary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap();
    v.as_object_mut().unwrap().remove("elapsed_s");
    v
}

#[test]
fn defences_cut_bad_debt_and_insolvency_under_the_same_manipulation() {
    let naive_run = run_full(&load("oracle-manipulation-naive", &["paths=40"]), 2);
    let defended_run = run_full(&load("oracle-manipulation-defended", &["paths=40"]), 2);
    let (naive, defended) = (&naive_run.summary, &defended_run.summary);
    println!("{}", ballast_lab::compare::table(naive, defended));
    // The single manipulated source moves the engine's price x25: shorts go bankrupt at a
    // false price and the loss lands beyond the fund (ADL of the longs' paper profits).
    assert!(naive.p_insolvency > 0.9, "{}", naive.p_insolvency);
    assert!(naive.bad_debt.mean > 1e6, "{}", naive.bad_debt.mean);
    // The median of three sources rejects the thin venue (a minority, so no divergence); the
    // breakers still trip on the real crash moves.
    assert!(
        defended.bad_debt.mean < naive.bad_debt.mean / 20.0,
        "{} vs {}",
        defended.bad_debt.mean,
        naive.bad_debt.mean
    );
    assert!(defended.p_insolvency_ci95[1] < naive.p_insolvency_ci95[0]);
    assert!(defended.breaker.configured && defended.breaker.halted > 0.0);
    assert!(defended.breaker.blocked_mean > 0.0);
    assert!(!naive.breaker.configured);
    // The comparison renders, and says what the columns share only when it is true.
    let sides = (
        (naive, &naive_run.aggregate),
        (defended, &defended_run.aggregate),
    );
    let page = ballast_lab::compare::html(sides.0, sides.1);
    assert!(page.contains("P(insolvency)"));
    // The change column: the defended side's mean bad debt is lower, so its delta is negative.
    let rows = ballast_lab::compare::rows(naive, defended);
    let bad = rows
        .iter()
        .find(|r| r.metric == "bad debt mean (USD)")
        .expect("a bad-debt row");
    assert!(bad.delta.starts_with('-'), "{bad:?}");
    // A and B on the same axes, every chart with data for both.
    let charts = ballast_lab::report::figures::compared(sides.0, sides.1);
    assert!(charts.len() >= 3, "{}", charts.len());
    for c in &charts {
        assert!(
            c.series
                .iter()
                .any(|s| s.label.starts_with('B') && s.points() > 0),
            "{}",
            c.id
        );
    }
    assert_eq!(
        page.contains("common random numbers"),
        naive.seed == defended.seed && naive.paths == defended.paths
    );
    let mut other = defended.clone();
    other.seed = naive.seed.wrapping_add(1);
    let page = ballast_lab::compare::html(
        (naive, &naive_run.aggregate),
        (&other, &defended_run.aggregate),
    );
    assert!(page.contains("Independent samples") && !page.contains("common random numbers"));
}

#[test]
fn oracle_scenarios_are_deterministic_across_threads() {
    let p = load("oracle-manipulation-defended", &["paths=12", "horizon=150"]);
    assert_eq!(comparable(&run(&p, 1)), comparable(&run(&p, 2)));
}

const BASE: &str = r#"
name = "feeds"
paths = 8
horizon = 120
step_hours = 0.016666666666666666
[protocol]
insurance_fund = 10000.0
[protocol.liquidation]
mechanism = "engine_takeover"
[[assets]]
symbol = "X"
price = 10.0
model = { kind = "gbm", sigma = 0.5, jump_intensity = 20000.0, jump_size = 0.2 }
[population]
accounts = 50
margin = { dist = "fixed", value = 1000.0 }
leverage = { dist = "uniform", min = 5.0, max = 9.5 }
long_fraction = 0.5
[oracle]
sources = 3
quorum = 2
max_staleness_s = 90.0
"#;

fn scenario(extra: &str) -> Result<Scenario, String> {
    Scenario::from_toml(&format!("{BASE}{extra}"), "test", &[]).map_err(|e| e.to_string())
}

#[test]
fn an_oracle_outage_freezes_the_price_and_the_loss_lands_when_it_returns() {
    let quiet = scenario("").unwrap();
    let dark = scenario(
        r#"
[[faults.oracle]]
kind = "outage"
source = 0
start = 0
end = 120
[[faults.oracle]]
kind = "outage"
source = 1
start = 0
end = 120
"#,
    )
    .unwrap();
    let q = run(&Prepared::new(quiet, None).unwrap(), 2);
    let d = run(&Prepared::new(dark, None).unwrap(), 2);
    assert!(
        q.liquidations.count_mean > 0.0,
        "the jumps should liquidate"
    );
    assert_eq!(q.breaker.blocked_mean, 0.0);
    // One source left of a quorum of two until the last step: the oracle goes Stale then
    // NoQuorum and the engine's price freezes, so nobody is liquidated while the market jumps;
    // when quorum returns at the last step the whole move lands at once, far beyond the fund.
    assert!(d.liquidations.count_mean < q.liquidations.count_mean / 4.0);
    assert!(
        d.bad_debt.mean > 10.0 * q.bad_debt.mean,
        "{} vs {}",
        d.bad_debt.mean,
        q.bad_debt.mean
    );
}

#[test]
fn bad_oracle_input_is_named() {
    let e = scenario(
        "[[faults.oracle]]\nkind = \"manipulation\"\nsource = 5\nfactor = 2.0\nstart = 1\nend = 3\n",
    )
    .unwrap_err();
    assert!(e.contains("faults.oracle[0].source"), "{e}");
    let e = scenario("[breaker]\nhalt_sigma = 1.0\ncautious_sigma = 2.0\n").unwrap_err();
    assert!(e.contains("breaker"), "{e}");
    let no_oracle = BASE.replace(
        "[oracle]\nsources = 3\nquorum = 2\nmax_staleness_s = 90.0\n",
        "[breaker]\n",
    );
    let e = Scenario::from_toml(&no_oracle, "test", &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("`breaker`") && e.contains("[oracle]"), "{e}");
    let e = scenario("").map(|_| ()).and_then(|_| {
        Scenario::from_toml(&BASE.replace("quorum = 2", "quorum = 4"), "t", &[])
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    assert!(e.unwrap_err().contains("oracle.quorum"));
    let e = scenario("[agents.whale]\nnotional_usd = 1e6\nleverage = 2.0\ndump_drawdown = 0.1\n")
        .unwrap_err();
    assert!(e.contains("agents.whale") && e.contains("depth_usd"), "{e}");
}

#[test]
fn a_whale_dumping_into_thin_depth_deepens_the_cascade() {
    let whale = [
        "paths=30",
        "horizon=300",
        "agents.whale.notional_usd=5e6",
        "agents.whale.leverage=3",
    ];
    let never = run(
        &load(
            "jump-tail",
            &[&whale[..], &["agents.whale.dump_drawdown=1.0"]].concat(),
        ),
        2,
    );
    let dumps = run(
        &load(
            "jump-tail",
            &[&whale[..], &["agents.whale.dump_drawdown=0.08"]].concat(),
        ),
        2,
    );
    assert_eq!(never.whale_dump_p, 0.0);
    assert!(dumps.whale_dump_p > 0.0);
    // Same paths; the dump's permanent impact only adds losses.
    assert!(dumps.bad_debt.mean > never.bad_debt.mean);
    assert!(dumps.p_insolvency >= never.p_insolvency);
    // Deterministic with a whale too.
    let p = load(
        "jump-tail",
        &[&whale[..], &["agents.whale.dump_drawdown=0.08"]].concat(),
    );
    assert_eq!(comparable(&run(&p, 1)), comparable(&dumps));
}

#[test]
fn lenders_run_on_the_pool_and_halted_breakers_hold_them() {
    let lenders = [
        "paths=20",
        "agents.lenders.count=10",
        "agents.lenders.deposit_usd=1e5",
        "agents.lenders.withdraw_drawdown=0.05",
    ];
    let naive = run(&load("oracle-manipulation-naive", &lenders), 2);
    // A governance that halts on any dissenting venue (by default the pumped venue is a
    // minority the median drops, and nothing halts).
    let strict = [&lenders[..], &["oracle.max_outlier_weight=0.25"]].concat();
    let defended = run(&load("oracle-manipulation-defended", &strict), 2);
    // Without breakers every lender gets out at once when the stress shows.
    assert!(naive.lenders.withdrawn_mean > 0.0);
    assert_eq!(naive.lenders.refused_mean, 0.0);
    // A halted pool refuses outflows: lenders wait (and retry) while it is halted.
    assert!(defended.lenders.refused_mean > 0.0);
    assert!(defended.lenders.withdrawn_mean > 0.0);
    for s in [&naive, &defended] {
        assert!(s.lenders.loss_mean >= -1e-6, "{:?}", s.lenders);
    }
}
