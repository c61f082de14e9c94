//! One decision: read the signals, ask the rules for moves, dry-run each move as a governance
//! proposal on a copy of the engine, and keep only what governance accepts. The decision
//! records its inputs, the moves, the proposals to submit and the moves governance refused
//! (with the engine's typed reason), so every action can be audited.

use ballast_engine::command::{Command, Envelope};
use ballast_engine::engine::Engine;
use ballast_engine::num::Timestamp;
use ballast_engine::params::ParamKey;
use ballast_engine::state::ProposalState;
use ballast_engine::{Reject, Role};
use serde::Serialize;

use crate::flags::{flags, Flag, FlagRules};
use crate::policy::{moves, Move, Policy};
use crate::signals::{read, Signals};

/// What the controller saw and wants.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub signals: Signals,
    /// Proposals to submit (as the governor role, at the decision's time).
    pub proposals: Vec<Envelope>,
    /// The moves behind them, in the same order.
    pub moves: Vec<Move>,
    /// Moves governance refused in the dry run, with why.
    #[serde(skip)]
    pub refused: Vec<(Move, Reject)>,
    pub flags: Vec<Flag>,
}

fn pending(e: &Engine, key: &ParamKey) -> bool {
    e.state()
        .proposals
        .iter()
        .any(|p| p.change.key() == Some(key) && p.state == ProposalState::Pending)
}

/// Records each market's maintenance margin the first time it is seen (the calm level).
fn remember_baseline(policy: &mut Policy, e: &Engine) {
    for (i, _) in e.state().markets.iter().enumerate() {
        let m = ballast_engine::ids::MarketId(i as u16);
        let key = ParamKey::Market {
            market: m,
            field: ballast_engine::params::MarketField::MaintMargin,
        };
        if let Ok(v) = e.param(&key) {
            policy.baseline.entry(m).or_insert(v);
        }
    }
}

/// Decides at `now` (unix ms, ≥ the engine's time).
pub fn decide(e: &Engine, policy: &mut Policy, rules: &FlagRules, now: i64) -> Decision {
    remember_baseline(policy, e);
    let signals = read(e);
    let wanted: Vec<Move> = moves(policy, e, &signals)
        .into_iter()
        .filter(|m| !pending(e, &m.key))
        .collect();
    let mut dry = wanted
        .is_empty()
        .then(Engine::new)
        .unwrap_or_else(|| e.clone());
    let (mut proposals, mut kept, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    for m in wanted {
        let env = Envelope {
            by: None,
            time: Timestamp(now),
            cmd: Command::Propose {
                role: Role::Governor,
                key: m.key,
                value: m.to,
            },
        };
        match dry.apply(&env) {
            Ok(_) => {
                proposals.push(env);
                kept.push(m);
            }
            Err(r) => refused.push((m, r)),
        }
    }
    let flags = flags(e, &signals, rules);
    Decision {
        signals,
        proposals,
        moves: kept,
        refused,
        flags,
    }
}
