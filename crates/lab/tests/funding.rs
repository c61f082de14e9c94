//! Funding is settled every step through the engine (`SettleFunding` per market), and what the
//! longs paid is recorded; switched off, the funding index never moves.

use ballast_lab::embedded;
use ballast_lab::runner::Prepared;

fn load(sets: &[&str]) -> Prepared {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let (sc, base) = embedded::load("march-2020", &sets).expect("scenario loads");
    Prepared::new(sc, base.as_deref()).expect("scenario prepares")
}

#[test]
fn funding_settles_every_step_and_is_recorded() {
    let on = load(&["paths=2"]);
    let (r, eng) = on.run_path_engine(0).expect("runs");
    let step_ms = 3_600_000i64;
    let last = ballast_lab::units::T0_MS + i64::from(on.scenario.horizon) * step_ms;
    for &id in &on.house.markets {
        let m = &eng.state().markets[id.idx()];
        assert_eq!(
            m.last_funding.0, last,
            "{}: settled at the last step",
            m.symbol
        );
    }
    // The liquidations' discounted fills move the mark away from the index: funding flows.
    assert!(
        eng.state().markets.iter().any(|m| m.funding_index != 0),
        "the funding index never moved"
    );
    assert_ne!(r.funding_paid, 0);
    let off = load(&["paths=2", "protocol.settle_funding=false"]);
    let (r0, eng0) = off.run_path_engine(0).expect("runs");
    assert_eq!(r0.funding_paid, 0);
    assert!(eng0.state().markets.iter().all(|m| m.funding_index == 0));
}
