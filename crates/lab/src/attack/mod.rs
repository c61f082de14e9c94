//! Attackers (`[[agents.attackers]]`): agents who try to take money out of the protocol and
//! pay for trying. Each acts on the engine only through commands (opening accounts, deposits,
//! trades, borrows), like every other agent; what it does off the engine — buying spot on the
//! venues the oracle reads — moves those venues' quotes through the path's feed and is paid for
//! at the impact price. What an attack cost and earned is booked by the recorder into
//! [`tally::AttackTally`].
//!
//! One file per strategy: [`oracle_pump`] (Mango Markets, Oct 2022), [`frozen_feed`]
//! (Venus Protocol, May 2022), [`squeeze`] (CRV, Nov 2022; with [`hunt`] it aims at the
//! shorts' liquidation prices: `liquidation_hunt`).

pub mod frozen_feed;
pub mod hunt;
pub mod oracle_pump;
pub mod squeeze;
pub mod tally;

use crate::agent::Agent;
use crate::error::LabError;
use crate::feeds::Feed;
use crate::scenario::attack::Strategy;
use crate::scenario::Scenario;
use ballast_engine::Engine;
use frozen_feed::FrozenFeedBorrow;
use oracle_pump::OraclePump;
use squeeze::Squeeze;

/// What the venue phase of a step reads.
pub struct Spot<'a> {
    pub scenario: &'a Scenario,
    pub step: u32,
    /// The fair (model) price of each asset this step.
    pub fair: &'a [f64],
    /// Gas of one transaction before the step's gas is known (`faults.gas.base_usd`), USD.
    pub gas_usd: f64,
}

/// One attacker, by strategy.
enum Attacker {
    Pump(OraclePump),
    Frozen(FrozenFeedBorrow),
    Squeeze(Squeeze),
}

/// The attackers of one path, in scenario order.
pub struct Attackers {
    list: Vec<Attacker>,
    /// Multiple pushed on each asset's price when the engine hears it by `SetPrice` (no
    /// `[oracle]`: the one feed is the venue the attacker moves).
    single: Vec<f64>,
}

impl Attackers {
    /// The scenario's attackers, if it has any.
    pub fn new(sc: &Scenario) -> Option<Attackers> {
        if sc.agents.attackers.is_empty() {
            return None;
        }
        let list = sc
            .agents
            .attackers
            .iter()
            .enumerate()
            .map(|(k, a)| match a.strategy {
                Strategy::OraclePump => Attacker::Pump(OraclePump::new(sc, a, k)),
                Strategy::FrozenFeedBorrow => Attacker::Frozen(FrozenFeedBorrow::new(sc, a, k)),
                Strategy::Squeeze | Strategy::LiquidationHunt => {
                    Attacker::Squeeze(Squeeze::new(sc, a, k))
                }
            })
            .collect();
        Some(Attackers {
            list,
            single: vec![1.0; sc.assets.len()],
        })
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The venue phase (before the oracle hears the step): each attacker's spot buying, and the
    /// multiple it leaves on the quotes of the venues it moves.
    pub fn venue_phase(&mut self, spot: &Spot<'_>, feed: Option<&mut Feed>) {
        let mut feed = feed;
        for a in &mut self.list {
            let a = match a {
                Attacker::Pump(a) => a,
                Attacker::Squeeze(s) => s.venues(),
                Attacker::Frozen(_) => continue,
            };
            let Some((asset, venues, factor)) = a.pump(spot) else {
                continue;
            };
            match feed.as_deref_mut() {
                Some(f) => venues.iter().for_each(|v| f.push(asset, *v, factor)),
                None => self.single[asset] = factor,
            }
        }
    }

    /// The prices the engine hears by `SetPrice` (no `[oracle]`): the fair prices with the
    /// attackers' pushes.
    pub fn heard(&self, fair: &[f64]) -> Vec<f64> {
        fair.iter().zip(&self.single).map(|(p, k)| p * k).collect()
    }

    /// Attacker `k` as an agent.
    pub fn agent(&mut self, k: usize) -> &mut dyn Agent {
        match &mut self.list[k] {
            Attacker::Pump(a) => a,
            Attacker::Frozen(a) => a,
            Attacker::Squeeze(a) => a,
        }
    }
}

/// Closes a path's tally at the horizon (`booked`: the path's insurance drawn, bad debt and
/// unsettled loss, and the part of it booked against the attacker's accounts; quote-native).
pub fn close(
    tally: &mut tally::AttackTally,
    (booked_loss, booked_own): (i64, i64),
    eng: &Engine,
    sc: &Scenario,
    fair: &[f64],
) {
    let decimals: Vec<u8> = sc.assets.iter().map(|a| a.decimals).collect();
    tally.close(&tally::Horizon {
        engine: eng,
        prices: fair,
        decimals: &decimals,
        booked_loss,
        booked_own,
    });
}

/// The next borrow after a refused one: what the pool has left on `InsufficientLiquidity`;
/// nothing more this step after any other refusal (health, a gate, the outflow limiter).
pub fn retry_borrow(r: &ballast_engine::Reject) -> Option<i64> {
    match r {
        ballast_engine::Reject::InsufficientLiquidity { available, .. } if available.0 > 0 => {
            Some(available.0)
        }
        _ => None,
    }
}

/// The most the engine lets `account` borrow now: its initial health in quote, rounded down.
pub fn borrowable(eng: &Engine, account: ballast_engine::ids::AccountId) -> i64 {
    eng.health(account, ballast_engine::HealthKind::Initial)
        .ok()
        .and_then(|h| h.to_quote(ballast_engine::num::Round::Down).ok())
        .map_or(0, |a| a.0)
}

/// The id the engine gives the next account, and the command that opens it for `owner`.
pub fn next_account(
    cx: &crate::agent::StepContext<'_>,
    owner: ballast_engine::ids::OwnerId,
) -> (
    ballast_engine::ids::AccountId,
    ballast_engine::command::Command,
) {
    let id = ballast_engine::ids::AccountId(cx.engine.state().accounts.len() as u32);
    let open = ballast_engine::command::Command::OpenAccount {
        owner,
        pool: crate::units::POOL,
    };
    (id, open)
}

/// The turn of every attacker, through `turn` (the path's `take_turn`).
pub fn each_turn(
    attackers: &mut Attackers,
    mut turn: impl FnMut(&mut dyn Agent) -> Result<(), LabError>,
) -> Result<(), LabError> {
    for k in 0..attackers.len() {
        turn(attackers.agent(k))?;
    }
    Ok(())
}
