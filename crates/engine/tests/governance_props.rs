//! Property: whatever sequence of proposals, executions, vetoes, re-installs and time jumps
//! arrives, no governed setting leaves its bounds, and none moves by more than one step per
//! minimum delay (a mechanism or curve switch: per seven).

mod common;
mod tally;

use ballast_engine::command::{Command, Scope};
use ballast_engine::demo::{BTC, BTC_PERP, POOL};
use ballast_engine::ids::ProposalId;
use ballast_engine::option_margin::OptionMarginField;
use ballast_engine::params::{
    LiquidationField, MarketField, ParamKey, PoolField, DISCRETE_DELAY_FACTOR,
};
use ballast_engine::settings::{BreakerField, OracleField, VolMarginField};
use ballast_engine::state::GovernanceConfig;
use ballast_engine::volmargin::{VolMarginConfig, VolModel};
use ballast_engine::{Engine, Role};
use ballast_oracle::aggregate::OracleStatus;
use ballast_oracle::breaker::BreakerConfig;
use ballast_oracle::validity::Action;
use common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use tally::Tally;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn keys() -> Vec<ParamKey> {
    vec![
        ParamKey::Market {
            market: BTC_PERP,
            field: MarketField::MaintMargin,
        },
        ParamKey::Market {
            market: BTC_PERP,
            field: MarketField::InitMargin,
        },
        ParamKey::Pool {
            pool: POOL,
            field: PoolField::BorrowCap,
        },
        ParamKey::Liquidation {
            pool: POOL,
            field: LiquidationField::Mechanism,
        },
        ParamKey::Liquidation {
            pool: POOL,
            field: LiquidationField::AuctionTauMs,
        },
        ParamKey::MarketBreaker {
            market: BTC_PERP,
            field: BreakerField::HaltSigma,
        },
        ParamKey::Oracle {
            asset: BTC,
            field: OracleField::OutlierTolerance,
        },
        ParamKey::VolMargin {
            market: BTC_PERP,
            field: VolMarginField::K,
        },
        ParamKey::AuctionBreaker { pool: POOL },
        ParamKey::OptionMargin {
            pool: POOL,
            field: OptionMarginField::InitAlpha,
        },
        ParamKey::OptionMargin {
            pool: POOL,
            field: OptionMarginField::MaintAlpha,
        },
        ParamKey::Validity {
            action: Action::Liquidate,
            status: OracleStatus::Stale,
        },
        // Bounded to deny: the property checks no sequence ever opens it.
        ParamKey::Validity {
            action: Action::Borrow,
            status: OracleStatus::Divergent,
        },
    ]
}

fn installs() -> Vec<Command> {
    vec![
        Command::ConfigureBreaker {
            role: Role::Governor,
            scope: Scope::Market(BTC_PERP),
            config: BreakerConfig::default(),
        },
        Command::ConfigureVolMargin {
            role: Role::Governor,
            market: BTC_PERP,
            config: VolMarginConfig {
                model: VolModel::Ewma { lambda: 0.94 },
                interval_ms: HOUR,
                k: 3.0,
                horizon: 4.0,
                max_step: 0.01,
            },
        },
        ballast_engine::demo::equal_sources_oracle(BTC, 3),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    /// Key index, value as current + m × step (m may exceed ±1), proposer is governor?
    Propose(usize, f64, bool),
    Execute(usize, bool),
    Cancel(usize, bool),
    Reinstall(usize),
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop_oneof![3 => 0..2usize, 2 => 0..13usize], -3.0..3.0f64, prop::bool::weighted(0.9)).prop_map(|(k, m, g)| Op::Propose(k, m, g)),
        5 => (prop_oneof![3 => 0..3usize, 1 => 0..40usize], prop::bool::weighted(0.9)).prop_map(|(p, g)| Op::Execute(p, g)),
        1 => (0..40usize, any::<bool>()).prop_map(|(p, g)| Op::Cancel(p, g)),
        1 => (0..3usize).prop_map(Op::Reinstall),
        3 => prop_oneof![2 => 0..2 * HOUR, 1 => 2 * HOUR..3 * DAY, 1 => 3 * DAY..30 * DAY].prop_map(Op::Wait),
    ]
}

fn role(governor: bool) -> Role {
    if governor {
        Role::Governor
    } else {
        Role::Guardian
    }
}

fn command(e: &Engine, op: &Op, keys: &[ParamKey]) -> Option<Command> {
    // Counted back from the latest proposal, so a proposal is often executed soon after it is
    // made (ids past the start wrap to unknown ones).
    let n = e.state().proposals.len();
    let recent = |p: usize| ProposalId(n.checked_sub(p + 1).unwrap_or(n + p) as u32);
    Some(match *op {
        Op::Propose(k, m, g) => {
            let key = keys[k];
            let cur = e.param(&key).ok()?;
            let step = key.spec().allowed_step(cur) as f64;
            Command::Propose {
                role: role(g),
                key,
                value: (cur as f64 + m * step.max(1.0)) as i64,
            }
        }
        Op::Execute(p, g) => Command::Execute {
            role: role(g),
            proposal: recent(p),
        },
        Op::Cancel(p, g) => Command::Cancel {
            role: role(g),
            proposal: recent(p),
        },
        Op::Reinstall(i) => installs()[i].clone(),
        Op::Wait(_) => return None,
    })
}

#[test]
fn governed_settings_stay_in_bounds_and_move_one_step_per_delay() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(96) }, |(ops in prop::collection::vec(op(), 1..80),
        timelock in prop_oneof![Just(0i64), Just(HOUR), Just(DAY)])| {
        let gov = GovernanceConfig { timelock_ms: timelock, min_delay_ms: DAY, ..GovernanceConfig::default() };
        let mut e = Engine::with_governance(gov);
        run(&mut e, &ballast_engine::demo::genesis(0));
        let setup: Vec<_> = installs().into_iter().map(|c| at(0, c)).collect();
        run(&mut e, &setup);
        let keys = keys();
        let mut last: Vec<(i64, Option<i64>)> =
            keys.iter().map(|k| (e.param(k).unwrap(), None)).collect();
        let mut t = 0i64;
        for op in &ops {
            if let Op::Wait(dt) = op {
                t += dt;
                continue;
            }
            let Some(cmd) = command(&e, op, &keys) else { continue };
            let before = e.state_hash();
            match e.apply(&at(t, cmd)) {
                Ok(ev) => {
                    tally.hit("accepted");
                    let executed = ev.iter().filter(|x| matches!(x, ballast_engine::Event::ParamExecuted { .. }));
                    tally.add("executed", executed.count() as u64);
                }
                Err(_) => {
                    tally.hit("refused");
                    prop_assert_eq!(before, e.state_hash(), "a rejection changed the state")
                }
            }
            for (i, k) in keys.iter().enumerate() {
                let v = e.param(k).unwrap();
                let spec = k.spec();
                prop_assert!(spec.min <= v && v <= spec.max, "{} = {} outside [{}, {}]", k, v, spec.min, spec.max);
                let (prev, changed_at) = last[i];
                if v != prev {
                    tally.hit("changes checked against the step");
                    tally.hit_if(changed_at.is_some(), "second changes checked against the delay");
                    prop_assert!((v as i128 - prev as i128).abs() <= spec.allowed_step(prev) as i128,
                        "{}: {} -> {} exceeds the step", k, prev, v);
                    if let Some(at0) = changed_at {
                        let factor = if spec.discrete { DISCRETE_DELAY_FACTOR } else { 1 };
                        prop_assert!(t - at0 >= DAY * factor, "{}: two changes {} ms apart", k, t - at0);
                    }
                    last[i] = (v, Some(t));
                }
            }
        }
    });
    tally.check(
        "governed_settings_stay_in_bounds_and_move_one_step_per_delay",
        &[
            ("accepted", 300),
            ("refused", 300),
            ("executed", 30),
            ("changes checked against the step", 30),
            ("second changes checked against the delay", 3),
        ],
    );
}

/// Over many sequences, changes do execute: the property above is not vacuous.
#[test]
fn the_generator_reaches_executions() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strat = prop::collection::vec(op(), 40..80);
    let mut total = 0;
    let mut per_key = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..96 {
        let ops = strat.new_tree(&mut runner).unwrap().current();
        let mut e = Engine::with_governance(GovernanceConfig {
            timelock_ms: HOUR,
            min_delay_ms: DAY,
            ..GovernanceConfig::default()
        });
        run(&mut e, &ballast_engine::demo::genesis(0));
        let setup: Vec<_> = installs().into_iter().map(|c| at(0, c)).collect();
        run(&mut e, &setup);
        let keys = keys();
        let mut t = 0;
        for op in &ops {
            if let Op::Wait(dt) = op {
                t += dt;
                continue;
            }
            if let Some(cmd) = command(&e, op, &keys) {
                if let Ok(ev) = e.apply(&at(t, cmd)) {
                    for x in &ev {
                        if let ballast_engine::Event::ParamExecuted { key, .. } = x {
                            total += 1;
                            *per_key.entry(key.to_string()).or_default() += 1;
                        }
                    }
                }
            }
        }
    }
    println!("executions per key over 96 sequences: {per_key:?}");
    assert!(total >= 10, "only {total} executions over 96 sequences");
    for k in keys().iter().take(12) {
        assert!(
            per_key.contains_key(&k.to_string()),
            "{k} never executed: {per_key:?}"
        );
    }
}
