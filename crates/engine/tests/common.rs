//! Shared helpers for the engine's integration tests.
#![allow(dead_code)]

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo;
use ballast_engine::num::Timestamp;
use ballast_engine::Engine;

/// Applies commands that must all succeed.
pub fn run(e: &mut Engine, envs: &[Envelope]) {
    for env in envs {
        if let Err(r) = e.apply(env) {
            panic!("setup command {:?} rejected: {r}", env.cmd);
        }
    }
}

/// Genesis plus `n` accounts (owner = id / 2, so accounts 2k and 2k+1 share an owner).
pub fn world(n: u32) -> Engine {
    let mut e = Engine::new();
    run(&mut e, &demo::genesis(0));
    for i in 0..n {
        run(
            &mut e,
            &[Envelope {
                by: None,
                time: Timestamp(0),
                cmd: Command::OpenAccount {
                    owner: ballast_engine::ids::OwnerId(i / 2),
                    pool: demo::POOL,
                },
            }],
        );
    }
    e
}

pub fn at(t: i64, cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    }
}

pub fn assert_conserved(e: &Engine) {
    for (asset, gap) in e.conservation_gaps() {
        assert_eq!(gap, 0, "value not conserved for {asset}");
    }
}

/// A flat volatility surface at `vol` (a grid of two expiries and two strikes).
pub fn flat(vol: f64) -> ballast_options::portfolio::SurfaceSpec {
    ballast_options::portfolio::SurfaceSpec::Grid {
        expiries: vec![0.001, 2.0],
        log_moneyness: vec![-2.0, 2.0],
        vols: vec![vec![vol, vol], vec![vol, vol]],
    }
}

/// Applies a command that must be refused, asserts the state hash is unchanged, and returns
/// the typed reason.
pub fn rejects(e: &mut Engine, t: i64, cmd: Command) -> ballast_engine::Reject {
    let before = e.state_hash();
    let r = e.apply(&at(t, cmd)).expect_err("should be rejected");
    assert_eq!(
        before,
        e.state_hash(),
        "a rejected command changed the state"
    );
    r
}
