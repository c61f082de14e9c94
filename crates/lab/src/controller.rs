//! The controller's turn in a path (`[controller]`): a [`Steward`] runs
//! `ballast_controller::decide` on the path's engine every `every_steps` steps and submits its
//! proposals as the governor; each step it executes the proposals whose timelock has passed.
//! Nothing bypasses governance: a proposal the engine refuses, or an execution refused (too
//! soon after the last change of that key, or no longer one step from the current value), is
//! counted and left to governance. [`ControllerTally`] records what it did, in integers.
//!
//! Every executed change is checked again here, independently of the engine: inside the
//! governed range, at most one allowed step from the value before, and at least
//! `min_delay_ms` after the previous change of that key (`out_of_bounds` counts violations; the
//! tests require zero).

use crate::attack::tally::AttackTally;
use crate::error::LabError;
use crate::scenario::Scenario;
use ballast_controller::flags::FlagRules;
use ballast_controller::{decide, Policy};
use ballast_engine::command::{Command, Envelope};
use ballast_engine::ids::{AccountId, ProposalId};
use ballast_engine::num::Timestamp;
use ballast_engine::params::{MarketField, ParamKey};
use ballast_engine::{Engine, Event, Role};
use serde::{Deserialize, Serialize};

/// What the controller did on one path (all zero without `[controller]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerTally {
    /// 1 on a controlled path.
    pub on: u64,
    pub decisions: u64,
    /// Proposals submitted (each accepted by the engine as a proposal).
    pub proposed: u64,
    /// Moves the dry run refused (governance would not accept them).
    pub refused: u64,
    /// Proposals executed after the timelock, by what they changed.
    pub executed: u64,
    pub maint_margin: u64,
    pub init_margin: u64,
    pub oi_cap: u64,
    pub collateral_weight: u64,
    pub other: u64,
    /// Executions refused by the engine (too soon after the last change, no longer one step).
    pub execute_refused: u64,
    /// Distinct accounts flagged for the guardian.
    pub flagged: u64,
    /// Of those, accounts of the path's attackers (`[[agents.attackers]]`).
    pub flagged_attackers: u64,
    /// Paths on which an attacker account was flagged, and the sum over them of the step of
    /// the first such flag (mean = sum / paths: compare with the attack's `start_step`).
    pub attacker_flag_paths: u64,
    pub attacker_flag_step_sum: u64,
    /// Executed changes outside range, step or delay, re-checked here (must stay 0).
    pub out_of_bounds: u64,
    /// Paths on which an attacker sent a borrow or withdrawal (its exit), and the sum over
    /// them of the step of its first one.
    #[serde(default)]
    pub exit_paths: u64,
    #[serde(default)]
    pub exit_step_sum: u64,
    /// Of those, paths on which an attacker was flagged before its first exit: at a step ≤ the
    /// exit's (the controller's turn comes before the agents' in a step, so a flag at the
    /// exit's step was raised on the state before the exit), and before its last one.
    #[serde(default)]
    pub flagged_before_exit: u64,
    #[serde(default)]
    pub flagged_before_last_exit: u64,
    /// Accounts at the horizon that are not an attacker's (the false-positive rate's
    /// denominator: `(flagged − flagged_attackers) / ordinary_accounts`).
    #[serde(default)]
    pub ordinary_accounts: u64,
}

impl ControllerTally {
    /// Without `[controller]`.
    pub fn is_off(&self) -> bool {
        self.on == 0
    }
}

/// The controller of one path.
pub struct Steward {
    policy: Policy,
    rules: FlagRules,
    every: u32,
    pending: Vec<ProposalId>,
    last_change: Vec<(ParamKey, i64)>,
    /// Each flagged account with the step of its first flag.
    flagged: Vec<(AccountId, u32)>,
}

fn at(t: i64, cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    }
}

fn engine_error(path: u64, step: u32, what: &str, r: ballast_engine::Reject) -> LabError {
    LabError::Engine {
        path,
        step,
        what: what.into(),
        reason: r.to_string(),
    }
}

impl Steward {
    /// The steward of a controlled scenario.
    pub fn new(sc: &Scenario) -> Option<Steward> {
        sc.controller.as_ref().map(|c| Steward {
            policy: c.policy(),
            rules: FlagRules::default(),
            every: c.every_steps,
            pending: Vec::new(),
            last_change: Vec::new(),
            flagged: Vec::new(),
        })
    }

    /// One step at time `t`: execute what is due, then decide when the interval says so.
    pub fn step(
        &mut self,
        eng: &mut Engine,
        (t, path, step): (i64, u64, u32),
        tally: &mut ControllerTally,
    ) -> Result<(), LabError> {
        tally.on = 1;
        self.execute_due(eng, t, tally);
        if step % self.every != 0 {
            return Ok(());
        }
        tally.decisions += 1;
        let d = decide(eng, &mut self.policy, &self.rules, t);
        tally.refused += d.refused.len() as u64;
        for env in &d.proposals {
            let events = eng
                .apply(env)
                .map_err(|r| engine_error(path, step, "controller proposal", r))?;
            for ev in events {
                if let Event::ParamProposed { proposal, .. } = ev {
                    self.pending.push(proposal);
                    tally.proposed += 1;
                }
            }
        }
        for f in d.flags {
            if !self.flagged.iter().any(|(a, _)| *a == f.account) {
                self.flagged.push((f.account, step));
                tally.flagged += 1;
            }
        }
        Ok(())
    }

    /// Executes every pending proposal whose timelock has passed; drops the ones governance
    /// will never take (expired or no longer pending).
    fn execute_due(&mut self, eng: &mut Engine, t: i64, tally: &mut ControllerTally) {
        let due: Vec<ProposalId> = self
            .pending
            .iter()
            .copied()
            .filter(|id| eng.state().proposal(*id).is_some_and(|p| p.eta.0 <= t))
            .collect();
        for id in due {
            let cmd = Command::Execute {
                role: Role::Governor,
                proposal: id,
            };
            match eng.apply(&at(t, cmd)) {
                Ok(events) => {
                    self.pending.retain(|p| *p != id);
                    for ev in events {
                        if let Event::ParamExecuted { key, old, new, .. } = ev {
                            self.count(eng, (key, old, new), t, tally);
                        }
                    }
                }
                Err(_) => {
                    let grace = eng.state().governance.grace_ms;
                    let gone = eng
                        .state()
                        .proposal(id)
                        .is_none_or(|p| t > p.eta.0.saturating_add(grace));
                    if gone {
                        self.pending.retain(|p| *p != id);
                        tally.execute_refused += 1;
                    }
                }
            }
        }
    }

    /// Counts one executed change and re-checks it against the governed bounds.
    fn count(
        &mut self,
        eng: &Engine,
        (key, old, new): (ParamKey, i64, i64),
        t: i64,
        tally: &mut ControllerTally,
    ) {
        tally.executed += 1;
        let slot = match key {
            ParamKey::Market {
                field: MarketField::MaintMargin,
                ..
            } => &mut tally.maint_margin,
            ParamKey::Market {
                field: MarketField::InitMargin,
                ..
            } => &mut tally.init_margin,
            ParamKey::Market {
                field: MarketField::MaxOpenInterest,
                ..
            } => &mut tally.oi_cap,
            ParamKey::Collateral { .. } => &mut tally.collateral_weight,
            _ => &mut tally.other,
        };
        *slot += 1;
        let spec = key.spec();
        let delay = eng.state().governance.min_delay_ms;
        let too_soon = self
            .last_change
            .iter()
            .any(|(k, at)| *k == key && t - *at < delay);
        let outside = new < spec.min || new > spec.max;
        let too_far =
            (i128::from(new) - i128::from(old)).abs() > i128::from(spec.allowed_step(old));
        tally.out_of_bounds += u64::from(too_soon || outside || too_far);
        self.last_change.retain(|(k, _)| *k != key);
        self.last_change.push((key, t));
    }

    /// At the horizon: how many flagged accounts were attackers, and whether the first such
    /// flag came before the attack's exits (`accounts`: every account of the path's engine).
    pub fn close(&self, tally: &mut ControllerTally, attack: &AttackTally, accounts: usize) {
        let attackers = &attack.accounts;
        let caught: Vec<u32> = self
            .flagged
            .iter()
            .filter(|(a, _)| attackers.contains(a))
            .map(|(_, step)| *step)
            .collect();
        tally.flagged_attackers = caught.len() as u64;
        tally.ordinary_accounts = accounts.saturating_sub(attackers.len()) as u64;
        let first = caught.iter().min().copied();
        if let Some(first) = first {
            tally.attacker_flag_paths = 1;
            tally.attacker_flag_step_sum = u64::from(first);
        }
        if let Some((exit, last)) = attack.exits {
            tally.exit_paths = 1;
            tally.exit_step_sum = u64::from(exit);
            tally.flagged_before_exit = u64::from(first.is_some_and(|f| f <= exit));
            tally.flagged_before_last_exit = u64::from(first.is_some_and(|f| f <= last));
        }
    }
}
