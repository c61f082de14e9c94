//! The Mango-style pump on every oracle venue (`mango-2022-attack-all-venues-defended`): the
//! median agrees with the attacker, yet under the defended config the attacker extracts nothing
//! on any path. Two defences stop it, each alone: the breaker (a market whose breaker is not
//! Normal counts no positive PnL toward initial health) and the stable price for initial health
//! (Mango v4: gains valued at min(oracle, stable), growth bounded per interval). Knocking both
//! out lets the pump pay on every path, so the test can fail. With the attacker removed (same
//! seed, common random numbers: the same prices and book) the paths end with no bad debt: what
//! remains under attack is the pump's griefing cost, not a crash's.

mod run_support;

use ballast_lab::record::PathResult;
use run_support::load;

const SCENARIO: &str = "mango-2022-attack-all-venues-defended";
const PATHS: u64 = 8;

/// Every path's ledger result, path by path, with overrides.
fn per_path(sets: &[&str]) -> Vec<PathResult> {
    let paths = format!("paths={PATHS}");
    let all: Vec<&str> = std::iter::once(paths.as_str())
        .chain(sets.iter().copied())
        .collect();
    let p = load(SCENARIO, &all);
    (0..PATHS)
        .map(|path| p.run_path_engine(path).expect("runs").0)
        .collect()
}

fn show(label: &str, rs: &[PathResult]) {
    for r in rs {
        let a = &r.attack;
        println!(
            "{label:<28} path {}: attacker pnl {} taken {} protocol loss {} bad debt {} (adl {}, engine {}) lenders lost {}",
            r.path, a.pnl, a.taken, a.protocol_loss, r.bad_debt, r.adl, r.engine_bad_debt, r.lender_loss
        );
    }
}

#[test]
fn pumping_every_venue_pays_nothing_unless_both_breaker_and_stable_price_are_off() {
    let defended = per_path(&[]);
    show("defended", &defended);
    let attacked = defended.iter().filter(|r| r.attack.spot_spent > 0).count();
    println!("paths where the attacker pumped: {attacked} of {PATHS}");
    assert!(attacked >= PATHS as usize / 2, "the attack rarely ran");
    for r in &defended {
        assert!(r.attack.pnl <= 0 && r.attack.taken == 0, "{r:?}");
        // Lenders lose at most the rounding dust of a socialized loss (< 1 USD).
        assert!(
            r.lender_loss < 1_000_000,
            "path {}: {}",
            r.path,
            r.lender_loss
        );
        assert_eq!(r.engine_bad_debt, 0, "path {}", r.path);
    }
    // Each defence alone is enough.
    for off in [&["!breaker"][..], &["oracle.stable_price=false"][..]] {
        let rs = per_path(off);
        show(&format!("{off:?}"), &rs);
        assert!(rs.iter().all(|r| r.attack.pnl <= 0), "{off:?}");
    }
    // Both off: the pump is borrowed against and pays on every path.
    let naive = per_path(&["!breaker", "oracle.stable_price=false"]);
    show("!breaker, no stable price", &naive);
    for r in &naive {
        assert!(r.attack.pnl > 0 && r.attack.taken > 0, "{r:?}");
    }
}

#[test]
fn without_the_attacker_the_same_paths_leave_no_bad_debt() {
    let defended = per_path(&[]);
    let calm = per_path(&["!agents.attackers"]);
    show("no attacker", &calm);
    let mut griefed = 0;
    for (d, c) in defended.iter().zip(&calm) {
        assert_eq!((c.bad_debt, c.attack.attackers), (0, 0), "path {}", c.path);
        griefed += usize::from(d.bad_debt > c.bad_debt);
    }
    let mean = |rs: &[PathResult], f: fn(&PathResult) -> i64| {
        rs.iter().map(|r| f(r) as f64 / 1e6).sum::<f64>() / rs.len() as f64
    };
    println!(
        "bad debt mean per path: {:.2} USD under attack (ADL {:.2}, engine {:.2}; {} of {PATHS} paths above the calm run), {:.2} USD without; protocol loss under attack {:.2} USD",
        mean(&defended, |r| r.bad_debt),
        mean(&defended, |r| r.adl),
        mean(&defended, |r| r.engine_bad_debt),
        griefed,
        mean(&calm, |r| r.bad_debt),
        mean(&defended, |r| r.attack.protocol_loss),
    );
    assert!(griefed > 0, "the pump left no loss: nothing to attribute");
}

#[test]
fn the_all_venues_summary_does_not_depend_on_threads() {
    let p = load(SCENARIO, &["paths=3"]);
    let one = run_support::run(&p, 1);
    assert_eq!(one.attack.as_ref().expect("attack").p_profitable, 0.0);
    assert_eq!(
        run_support::comparable(&one),
        run_support::comparable(&run_support::run(&p, 2))
    );
}
