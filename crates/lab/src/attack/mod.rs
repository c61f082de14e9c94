//! Attackers (`[[agents.attackers]]`): agents who try to take money out of the protocol and
//! pay for trying. Each acts on the engine only through commands (opening accounts, deposits,
//! trades, borrows), like every other agent; what it does off the engine — buying spot on the
//! venues the oracle reads — moves those venues' quotes through the path's feed and is paid for
//! at the impact price. What an attack cost and earned is booked by the recorder into
//! [`tally::AttackTally`].
//!
//! One file per strategy: [`oracle_pump`] (Mango Markets, Oct 2022).

pub mod oracle_pump;
pub mod tally;

use crate::agent::Agent;
use crate::error::LabError;
use crate::feeds::Feed;
use crate::scenario::attack::Strategy;
use crate::scenario::Scenario;
use ballast_engine::Engine;
use oracle_pump::OraclePump;

/// What the venue phase of a step reads.
pub struct Spot<'a> {
    pub scenario: &'a Scenario,
    pub step: u32,
    /// The fair (model) price of each asset this step.
    pub fair: &'a [f64],
    /// Gas of one transaction before the step's gas is known (`faults.gas.base_usd`), USD.
    pub gas_usd: f64,
}

/// The attackers of one path, in scenario order.
pub struct Attackers {
    list: Vec<OraclePump>,
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
                Strategy::OraclePump => OraclePump::new(sc, a, k),
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
        &mut self.list[k]
    }
}

/// Closes a path's tally at the horizon (`booked_loss`: the path's insurance drawn, bad debt
/// and unsettled loss, quote-native).
pub fn close(
    tally: &mut tally::AttackTally,
    booked_loss: i64,
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
    });
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
