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

/// What the liquidation and loss side of accepted commands reached, for property tests'
/// coverage: liquidations (of an option lot, of an account writing options), auction takes,
/// bankruptcies, ADL trades and socialized losses.
#[derive(Default, Debug)]
pub struct LossCounts {
    pub liquidations: u32,
    pub option_lots: u32,
    /// Liquidations of an account that held a short option.
    pub writers_liquidated: u32,
    pub auction_takes: u32,
    pub bankruptcies: u32,
    pub deleveraged: u32,
    pub socialized: u32,
}

impl LossCounts {
    /// Counts the events of one accepted command; `before` is the state it was applied to.
    pub fn record(&mut self, before: &Engine, events: &[ballast_engine::event::Event]) {
        use ballast_engine::event::Event;
        for x in events {
            match x {
                Event::Liquidated { account, lot, .. } => {
                    self.liquidations += 1;
                    let option = matches!(lot, ballast_engine::state::Lot::Option(_));
                    self.option_lots += u32::from(option);
                    let writer = before.state().accounts[account.idx()]
                        .options
                        .iter()
                        .any(|o| o.size.0 < 0);
                    self.writers_liquidated += u32::from(writer);
                }
                Event::AuctionTaken { .. } => self.auction_takes += 1,
                Event::Bankrupt { .. } => self.bankruptcies += 1,
                Event::Deleveraged { .. } => self.deleveraged += 1,
                Event::LossSocialized { .. } => self.socialized += 1,
                _ => {}
            }
        }
    }
}

/// At t = 0, a flat `vol` BTC surface and BTC options `(kind, strike, expiry ms)` listed in the
/// demo pool by the governor.
pub fn list_btc_options(
    e: &mut Engine,
    vol: f64,
    series: &[(ballast_options::pricing::OptionKind, f64, i64)],
) {
    use ballast_engine::command::Command;
    let mut envs = vec![at(
        0,
        Command::SetVolSurface {
            asset: demo::BTC,
            surface: flat(vol),
        },
    )];
    for &(kind, strike, expiry) in series {
        envs.push(at(
            0,
            Command::CreateOptionSeries {
                role: ballast_engine::Role::Governor,
                pool: demo::POOL,
                underlying: demo::BTC,
                kind,
                strike,
                expiry: Timestamp(expiry),
            },
        ));
    }
    run(e, &envs);
}
