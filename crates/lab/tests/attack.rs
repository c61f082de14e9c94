//! Attackers with money on the line (`[[agents.attackers]]`): the Mango-style oracle pump pays
//! off against a naive protocol and drains its lenders, and loses money against the defended
//! one; the money it takes out is exactly what leaves the ledger, which keeps conserving value;
//! runs are deterministic across thread counts; bad attacker input names the field.

mod run_support;

use ballast_lab::Scenario;
use run_support::{comparable, load, run};

const PATHS: &str = "paths=4";

#[test]
fn the_naive_mango_attack_is_profitable_and_drains_the_lender_pool() {
    let p = load("mango-2022-attack-naive", &[PATHS]);
    let s = run(&p, 2);
    println!("{}", s.table());
    let a = s.attack.as_ref().expect("an attack summary");
    assert_eq!(a.paths, 4);
    // Profitable on every path, net of the spot it overpaid, its margins, fees and gas.
    assert_eq!(a.p_profitable, 1.0, "{a:?}");
    assert!(a.profit_mean_ci95[0] > 1e7, "{a:?}");
    assert!(a.spot_impact_mean > 1e6 && a.gas_mean > 0.0, "{a:?}");
    // What it took came out of the pool: the lenders (50 M deposited) lose most of it.
    let deposits = 10.0 * 5e6;
    assert!(s.lenders.loss_mean > 0.8 * deposits, "{:?}", s.lenders);
    assert!(a.protocol_loss_mean > a.profit_mean, "{a:?}");
    assert!(a.profit_per_loss > 0.0 && a.profit_per_loss < 1.0, "{a:?}");
}

#[test]
fn the_defended_protocol_makes_the_same_attack_lose_money() {
    let naive = run(&load("mango-2022-attack-naive", &[PATHS]), 2);
    let defended = run(&load("mango-2022-attack-defended", &[PATHS]), 2);
    println!("{}", ballast_lab::compare::table(&naive, &defended));
    let a = defended.attack.as_ref().expect("an attack summary");
    assert_eq!(a.p_profitable, 0.0, "{a:?}");
    // Its loss is reported: the spot it bought is worth a fraction of what it paid.
    assert!(a.profit_mean_ci95[1] < -1e6, "{a:?}");
    assert!(a.spot_impact_mean > 1e6, "{a:?}");
    // Nothing borrowed against the pump: the breaker stops counting the pumped PnL.
    assert!(a.taken_mean < 1.0, "{a:?}");
    assert!(defended.lenders.loss_mean < 1.0, "{:?}", defended.lenders);
    let n = naive.attack.as_ref().unwrap();
    assert!(
        a.protocol_loss_mean < n.protocol_loss_mean / 2.0,
        "{a:?} vs {n:?}"
    );
    // The comparison shows the attack rows.
    let t = ballast_lab::compare::table(&naive, &defended);
    assert!(t.contains("P(attack profitable)") && t.contains("attacker profit mean"));
}

#[test]
fn the_ledger_conserves_value_and_pays_out_exactly_what_the_attacker_took() {
    for name in [
        "mango-2022-attack-naive",
        "mango-2022-attack-defended",
        "venus-luna-2022-frozen-feed-attack-naive",
    ] {
        let p = load(name, &["paths=2"]).with_audit();
        for path in 0..2 {
            let (book, _) = ballast_lab::path::path_book(&p.setup(), path).expect("book");
            let quote0 = book.state().assets[0].net_deposits;
            // `with_audit`: conservation through the ledger after every step, or an error.
            let (r, eng) = p.run_path_engine(path).expect("conserves value");
            let t = &r.attack;
            assert_eq!(t.attackers, 1);
            assert!(!t.accounts.is_empty(), "{name}: {t:?}");
            // Quote into the ledger − quote out = what the attacker and the lenders moved.
            let moved = eng.state().assets[0].net_deposits - quote0;
            let expected = i128::from(t.deposited - t.taken - r.lender_withdrawn);
            assert_eq!(moved, expected, "{name} path {path}: {t:?}");
            // The attacker's profit is the protocol's and the other accounts' loss: it can
            // only take out what someone else had in.
            let pnl_engine = t.taken + t.equity_left - t.deposited;
            assert!(
                pnl_engine <= t.protocol_loss + r.adl + 1,
                "{name} path {path}: {t:?}"
            );
            assert_eq!(
                t.pnl,
                pnl_engine + t.spot_value - t.spot_spent - t.gas,
                "{name}: {t:?}"
            );
        }
    }
}

#[test]
fn attack_summaries_do_not_depend_on_threads() {
    let p = load("mango-2022-attack-naive", &["paths=3"]);
    assert_eq!(comparable(&run(&p, 1)), comparable(&run(&p, 2)));
}

#[test]
fn the_minimum_profitable_capital_is_a_bracket_the_probes_confirm() {
    use ballast_lab::capital::{min_capital, CapitalSearch};
    let search = |lo: f64, hi: f64| CapitalSearch {
        attacker: 0,
        lo,
        hi,
        tolerance: 0.05,
        paths: 2,
        threads: 2,
    };
    let (sc, _) = ballast_lab::embedded::load("mango-2022-attack-naive", &[]).unwrap();
    let a = min_capital(&sc, None, &search(0.01, 1.0)).expect("searches");
    let (min, below) = (a.min_capital_usd.unwrap(), a.max_unprofitable_usd.unwrap());
    // A bracket within the tolerance, strictly inside the range, below the scenario's 10 M.
    assert!(below < min && min <= below * 1.05 + 1e-6, "{a:?}");
    assert!(a.searched_usd[0] < below && min < 1e7, "{a:?}");
    // Every probe at or above the answer paid; every probe at or below the bracket's low end lost.
    for p in &a.probes {
        assert_eq!(p.profit_mean > 0.0, p.capital_usd >= min, "{p:?} in {a:?}");
    }
    // Defended: nothing pays up to 4× the scenario's capital, and the probes say so.
    let (sc, _) = ballast_lab::embedded::load("mango-2022-attack-defended", &[]).unwrap();
    let d = min_capital(&sc, None, &search(0.5, 4.0)).expect("searches");
    assert_eq!(d.min_capital_usd, None, "{d:?}");
    assert!(d.probes.iter().all(|p| p.profit_mean < 0.0), "{d:?}");
}

#[test]
fn attack_aggregates_of_shards_merge_into_the_unsharded_run() {
    use ballast_lab::runner::{self, RunConfig};
    let p = load("mango-2022-attack-naive", &["paths=4"]);
    let dir = std::env::temp_dir().join(format!("ballast-attack-shards-{}", std::process::id()));
    let full = runner::run(&p, &RunConfig::default()).unwrap();
    let mut shards = Vec::new();
    // Out of order, with different thread counts.
    for (i, threads) in [(2u64, 1usize), (1, 2)] {
        let out = dir.join(format!("s{i}"));
        let cfg = RunConfig {
            threads,
            shard: Some((i, 2)),
            out_dir: Some(out.clone()),
            ..Default::default()
        };
        runner::run(&p, &cfg).unwrap();
        shards.push(runner::read_shard(&out).unwrap());
    }
    let (merged, agg) = runner::merge_shards(&shards).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(agg.attack, full.aggregate.attack);
    assert_eq!(agg.attack.paths, 4);
    assert_eq!(merged.attack, full.summary.attack);
    // The attacker's timeline merges exactly and the merged run draws the same charts.
    assert_eq!(agg.steps, full.aggregate.steps);
    let charts = ballast_lab::report::figures::all(&full.summary, &full.aggregate);
    assert_eq!(
        ballast_lab::report::figures::all(&full.summary, &agg),
        charts,
        "merged shards draw the same charts"
    );
    let books = charts
        .iter()
        .find(|c| c.id == "attacker_books")
        .expect("an attacker chart on an attacked scenario");
    assert!(books.has_data());
    // Every attacked path deposits, pumps and borrows: each phase is marked on all 4 paths.
    for phase in ballast_lab::stats::steps::PHASES {
        let label = format!("{phase} (4/4 paths)");
        assert!(
            books.markers.iter().any(|m| m.label == label),
            "{label}: {:?}",
            books.markers
        );
    }
    // The naive attack ends in profit on every path, as its summary says.
    let end = full.aggregate.steps.attack.last().expect("bands");
    assert_eq!(full.aggregate.attack.profitable, 4);
    assert!(end.pnl.quantile(0.0) > 0.0, "{:?}", end.pnl);
    assert!(charts
        .iter()
        .any(|c| c.id == "attacker_profit" && c.has_data()));
}

fn bad(attacker: &str) -> String {
    let text = format!(
        r#"
name = "bad"
paths = 1
horizon = 10
step_hours = 1.0
[[assets]]
symbol = "X"
price = 1.0
model = {{ kind = "gbm", sigma = 0.5 }}
[population]
accounts = 2
margin = {{ dist = "fixed", value = 100.0 }}
leverage = {{ dist = "fixed", value = 2.0 }}
[liquidity]
depth_usd = 1e6
[oracle]
sources = 3
quorum = 2
[[agents.attackers]]
{attacker}
"#
    );
    Scenario::from_toml(&text, "t", &[])
        .expect_err("bad attacker input is refused")
        .to_string()
}

#[test]
fn bad_attacker_input_names_the_field() {
    let ok = "strategy = \"oracle_pump\"\nsize_usd = 1e6\nstart_step = 2\npump = 5.0\n";
    let e = bad(&format!("capital_usd = -5.0\n{ok}"));
    assert!(e.contains("agents.attackers[0].capital_usd"), "{e}");
    let e = bad(
        "strategy = \"rug_pull\"\ncapital_usd = 1e6\nsize_usd = 1e6\nstart_step = 2\npump = 5.0\n",
    );
    assert!(e.contains("strategy") && e.contains("rug_pull"), "{e}");
    let e = bad(&format!("capital_usd = 1e7\nvenues = [0, 7]\n{ok}"));
    assert!(e.contains("agents.attackers[0].venues[1]"), "{e}");
    let e = bad(&format!("capital_usd = 1e7\nasset = \"Y\"\n{ok}"));
    assert!(e.contains("agents.attackers[0].asset"), "{e}");
    // Capital that does not cover both margins (2 × 1e6 × 0.10 × 1.05).
    let e = bad(&format!("capital_usd = 1e5\n{ok}"));
    assert!(e.contains("agents.attackers[0].capital_usd"), "{e}");
    let genesis = ok.replace("start_step = 2", "start_step = 0");
    let e = bad(&format!("capital_usd = 1e7\n{genesis}"));
    assert!(e.contains("agents.attackers[0].start_step"), "{e}");
    let e = bad("strategy = \"frozen_feed_borrow\"\ncapital_usd = 1e6\nstart_step = 2\n");
    assert!(e.contains("agents.attackers[0].listing"), "{e}");
    let e = bad("strategy = \"frozen_feed_borrow\"\ncapital_usd = 1e6\nstart_step = 2\nlisting = { init_weight = 0.9, maint_weight = 0.5 }\n");
    assert!(e.contains("agents.attackers[0].listing.init_weight"), "{e}");
    let e = bad(&format!("capital_usd = 1e7\nflavour = 1\n{ok}"));
    assert!(e.contains("flavour"), "{e}");
}

#[test]
fn the_frozen_feed_borrow_extracts_value_with_one_source_and_nothing_with_three() {
    let naive = run(
        &load("venus-luna-2022-frozen-feed-attack-naive", &["paths=2"]),
        2,
    );
    let defended = run(
        &load("venus-luna-2022-frozen-feed-attack-defended", &["paths=2"]),
        2,
    );
    println!("{}", ballast_lab::compare::table(&naive, &defended));
    let (n, d) = (naive.attack.unwrap(), defended.attack.unwrap());
    // One frozen source: 1 M USD of LUNA bought at ~2.4 borrows against a 60 USD valuation.
    assert_eq!(n.p_profitable, 1.0, "{n:?}");
    assert!(n.profit_mean > 5e6 && n.taken_mean > 10.0 * 1e6, "{n:?}");
    // The shortfall it leaves is the protocol's, on its own account.
    assert!(n.own_loss_mean > 0.9 * n.taken_mean - 1e6, "{n:?}");
    // Three sources: the median values the deposit at the market; it borrows less than it paid.
    assert_eq!(d.p_profitable, 0.0, "{d:?}");
    assert!(d.profit_mean < 0.0 && d.taken_mean < 1e6, "{d:?}");
    assert!(d.own_loss_mean < n.own_loss_mean / 20.0, "{d:?} vs {n:?}");
}
