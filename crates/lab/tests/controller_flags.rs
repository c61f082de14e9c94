//! The controller's flags against the lab's attacker agents (issue 18, "isolate malicious
//! flow"): with `[controller]` on in the defended attack scenarios, the attacker's account is
//! flagged before its exit — the first borrow or withdrawal it sends — on the paths where it
//! gets that far, and the false-positive rate on everyone else is measured and bounded.
//!
//! "Before" is `flag step ≤ exit step`: in a step the controller's turn runs before the agents'
//! (`path.rs`), so a flag at the exit's step was raised on the state before the exit.
//!
//! Which rule can match which attacker (`ballast_controller::flags`):
//! - `mango-2022-attack-defended` (oracle_pump): one owner on both sides of the thin market
//!   (`BothSides`) from the step its two legs exist; it borrows in the hold after the pump.
//! - `crv-2022-squeeze-defended`, `liquidation-hunt-defended` (squeeze): the defended book
//!   refuses its opening long, so there is no position to flag and no exit; the rule
//!   (`DominantSide`: its long is half of the long side) is shown on the naive books, where
//!   the squeeze runs to its withdrawal.
//! - `venus-luna-2022-frozen-feed-attack-defended` (frozen_feed_borrow): it opens, deposits
//!   and borrows in one step, so no rule evaluated between steps can see it before the first
//!   borrow; `DivergentCollateral` flags it on the next step, before its last borrow.

mod run_support;

use ballast_lab::controller::ControllerTally;
use ballast_lab::stats::controller::false_positive_rate;
use run_support::{comparable, load, run};

const PATHS: u64 = 8;

/// The controller with the default one-day timelock: inside a twelve-hour squeeze no move
/// executes (the fast lane raises margins before the squeeze opens and the engine then refuses
/// it), so this shows the flag rule alone.
const WATCH: &str = "controller={every_steps=1}";

/// One path: the step of the first flag on an attacker's account, its exits (first, last),
/// and the path's tally.
struct PathFlags {
    flag: Option<u32>,
    exits: Option<(u32, u32)>,
    tally: ControllerTally,
}

/// Every path of `name` with `sets`, and the merged tally, printed.
fn paths(name: &str, sets: &[&str]) -> (Vec<PathFlags>, ControllerTally) {
    let mut all = vec![format!("paths={PATHS}")];
    all.extend(sets.iter().map(|s| s.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let p = load(name, &all);
    let mut out = Vec::new();
    let mut merged = ControllerTally::default();
    for path in 0..PATHS {
        let (r, _) = p.run_path_engine(path).expect("runs");
        let t = r.controller.clone();
        assert_eq!(t.on, 1, "{name}: controlled");
        ballast_lab::stats::controller::merge(&mut merged, &t);
        out.push(PathFlags {
            flag: (t.attacker_flag_paths == 1).then_some(t.attacker_flag_step_sum as u32),
            exits: r.attack.exits,
            tally: t,
        });
    }
    let steps: Vec<String> = out
        .iter()
        .map(|f| format!("{:?}/{:?}", f.flag, f.exits.map(|e| e.0)))
        .collect();
    println!(
        "{name} {sets:?}: first attacker flag / first exit per path {}; false positives {}/{} = {:.4}",
        steps.join(" "),
        merged.flagged - merged.flagged_attackers,
        merged.ordinary_accounts,
        false_positive_rate(&merged)
    );
    assert!(merged.ordinary_accounts > 0, "{name}: an ordinary book");
    assert!(false_positive_rate(&merged) <= 0.02, "{name}: {merged:?}");
    (out, merged)
}

/// Mango (oracle_pump, defended): the defended book leaves it nothing to borrow, but it could
/// from `start_step + 1`; the controller flags it by then on at least 3 paths in 4 (6 of 8:
/// on the other two the population's open interest is large enough that each of its legs is
/// under `min_share` of its side).
#[test]
fn the_mango_attacker_is_flagged_by_its_first_borrow_step() {
    let name = "mango-2022-attack-defended-controlled";
    let start = load(name, &[]).scenario.agents.attackers[0].start_step;
    let (paths, _) = paths(name, &[]);
    let early = paths
        .iter()
        .filter(|f| f.flag.is_some_and(|s| s <= start + 1))
        .count();
    assert!(4 * early >= 3 * paths.len(), "{early} of {}", paths.len());
    for f in &paths {
        if let (Some(flag), Some((exit, _))) = (f.flag, f.exits) {
            assert!(flag <= exit, "flagged at {flag}, borrowed at {exit}");
        }
    }
}

/// The squeeze (CRV) and the liquidation hunt: flagged before the withdrawal on every path that
/// gets there (naive books); on the defended books the opening is refused, nothing to flag.
#[test]
fn the_squeezers_are_flagged_before_they_withdraw() {
    for name in ["crv-2022-squeeze-naive", "liquidation-hunt"] {
        let (paths, t) = paths(name, &[WATCH]);
        assert!(
            t.exit_paths > 0,
            "{name}: the squeeze reaches its withdrawal"
        );
        assert_eq!(t.flagged_before_exit, t.exit_paths, "{name}: {t:?}");
        for f in paths.iter().filter(|f| f.exits.is_some()) {
            assert!(f.flag.is_some(), "{name}: {:?}", f.tally);
        }
    }
    for name in [
        "crv-2022-squeeze-defended-controlled",
        "liquidation-hunt-defended-controlled",
    ] {
        let (_, t) = paths(name, &[]);
        assert_eq!((t.exit_paths, t.flagged_attackers), (0, 0), "{name}: {t:?}");
    }
}

/// Venus (frozen_feed_borrow, defended): it opens, deposits and borrows in one step, so the
/// flag comes the step after its (only) borrow, on every path — a limit of any rule run
/// between steps, stated in the README.
#[test]
fn the_frozen_feed_attacker_is_flagged_the_step_after_it_borrows() {
    let name = "venus-luna-2022-frozen-feed-attack-defended-controlled";
    let (paths, t) = paths(name, &[]);
    assert_eq!(t.exit_paths, PATHS, "{t:?}");
    for f in &paths {
        let (exit, _) = f.exits.expect("it borrows");
        assert_eq!(f.flag, Some(exit + 1), "{:?}", f.tally);
    }
}

/// The flag and exit steps merge to the same summary on any thread count.
#[test]
fn the_flag_tally_is_the_same_on_any_thread_count() {
    let p = load("crv-2022-squeeze-naive", &["paths=3", WATCH]);
    let (one, two) = (run(&p, 1), run(&p, 2));
    let t = one.controller.as_ref().expect("a controller block");
    assert_eq!(t.exit_paths, 3, "{t:?}");
    assert_eq!(comparable(&one), comparable(&two));
}
