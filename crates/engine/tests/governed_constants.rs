//! Issue 11's last hard-coded settings, governed: the standard option-margin α/β of a pool and
//! every cell of the oracle validity matrix. A proposal moves them within bounds and steps;
//! maintenance never asks more than initial; no proposal can allow new risk on a divergent or
//! quorum-less price. Every refusal is typed, names the key, and leaves the state hash unchanged.

mod common;

use ballast_engine::command::Command;
use ballast_engine::demo::{btc, usdc, BTC, POOL, USDC};
use ballast_engine::ids::{AccountId, ProposalId, SeriesId};
use ballast_engine::num::{Timestamp, RATIO_SCALE};
use ballast_engine::option_margin::{MaintenanceAboveInitial, OptionMarginField};
use ballast_engine::params::{ParamKey, DISCRETE_DELAY_FACTOR};
use ballast_engine::{Engine, Event, HealthKind, Reject, Role};
use ballast_options::pricing::OptionKind;
use ballast_oracle::aggregate::OracleStatus;
use ballast_oracle::validity::{Action, Rule};
use common::*;

const DAY: i64 = 86_400_000;
const SPOT: f64 = 65_000.0;
const STRIKE: f64 = 60_000.0;

fn propose(key: ParamKey, value: i64) -> Command {
    Command::Propose {
        role: Role::Governor,
        key,
        value,
    }
}

fn execute(p: u32) -> Command {
    Command::Execute {
        role: Role::Governor,
        proposal: ProposalId(p),
    }
}

fn om(field: OptionMarginField) -> ParamKey {
    ParamKey::OptionMargin { pool: POOL, field }
}

/// Account 1 short one 30-day 60,000 put (5,000 out of the money at 65,000), account 0 long.
fn short_put() -> Engine {
    let mut e = world(2);
    let series = Command::CreateOptionSeries {
        role: Role::Governor,
        pool: POOL,
        underlying: BTC,
        kind: OptionKind::Put,
        strike: STRIKE,
        expiry: Timestamp(30 * DAY),
    };
    let vol = Command::SetVolSurface {
        asset: BTC,
        surface: flat(0.6),
    };
    let fund = |a| Command::Deposit {
        account: AccountId(a),
        asset: USDC,
        amount: usdc(100_000),
    };
    let fill = Command::OptionFill {
        series: SeriesId(0),
        taker: AccountId(1),
        maker: AccountId(0),
        size: btc(-1.0),
        premium: 1_000.0,
    };
    run(
        &mut e,
        &[
            at(0, vol),
            at(0, series),
            at(0, fund(0)),
            at(0, fund(1)),
            at(1, fill),
        ],
    );
    e
}

/// The short put's add-on, from the governed constants read back from the engine:
/// `max(α − OTM/S, β)·S` (Deribit "Margin for options").
fn expected_add_on(e: &Engine, kind: HealthKind) -> f64 {
    let (a, b) = match kind {
        HealthKind::Initial => (OptionMarginField::InitAlpha, OptionMarginField::InitBeta),
        HealthKind::Maintenance => (OptionMarginField::MaintAlpha, OptionMarginField::MaintBeta),
    };
    let get = |f| e.param(&om(f)).expect("key") as f64 / RATIO_SCALE as f64;
    let otm = SPOT - STRIKE;
    (get(a) - otm / SPOT).max(get(b)) * SPOT
}

fn requirement(e: &Engine, kind: HealthKind) -> f64 {
    e.breakdown(AccountId(1), kind)
        .unwrap()
        .requirement
        .to_human(6)
}

fn assert_requirement(e: &Engine, kind: HealthKind, closed_form: f64) {
    let got = requirement(e, kind);
    assert!(
        (got - closed_form).abs() < 0.01,
        "{kind:?}: {got} vs {closed_form}"
    );
}

#[test]
fn a_proposal_moves_the_option_margin_exactly_as_the_rule_says() {
    let mut e = short_put();
    // Defaults: max(0.15 − 5,000/65,000, 0.10) × 65,000 = 6,500; maintenance 0.075 × 65,000.
    assert_requirement(&e, HealthKind::Initial, 6_500.0);
    assert_requirement(&e, HealthKind::Maintenance, 4_875.0);
    assert_requirement(
        &e,
        HealthKind::Initial,
        expected_add_on(&e, HealthKind::Initial),
    );
    let json = serde_json::to_string(e.state()).unwrap();
    assert!(
        !json.contains("option_margin"),
        "defaults must stay out of the state JSON"
    );
    // α 0.15 → 0.18 (step: a fifth of 0.15 = 0.03) and β 0.10 → 0.08 (step 0.02): α binds.
    let tl = e.state().governance.timelock_ms;
    let p18 = 180_000_000;
    let p08 = 80_000_000;
    run(
        &mut e,
        &[
            at(2, propose(om(OptionMarginField::InitAlpha), p18)),
            at(2, propose(om(OptionMarginField::InitBeta), p08)),
            at(2 + tl, execute(0)),
            at(2 + tl, execute(1)),
        ],
    );
    // max(0.18 − 5,000/65,000, 0.08) × 65,000 = 11,700 − 5,000 = 6,700.
    assert_requirement(
        &e,
        HealthKind::Initial,
        expected_add_on(&e, HealthKind::Initial),
    );
    assert_requirement(&e, HealthKind::Initial, 6_700.0);
    assert_requirement(&e, HealthKind::Maintenance, 4_875.0);
    assert!(serde_json::to_string(e.state())
        .unwrap()
        .contains("option_margin"));
}

#[test]
fn option_margin_changes_out_of_bounds_too_fast_or_inverted_are_refused() {
    let mut e = short_put();
    let alpha = om(OptionMarginField::InitAlpha);
    let r = rejects(&mut e, 2, propose(alpha, 0));
    assert_eq!(
        r,
        Reject::ParamOutOfBounds {
            key: alpha,
            value: 0,
            min: 10_000_000,
            max: 1_000_000_000
        }
    );
    // One change moves α by at most a fifth of 0.15: 0.15 → 0.19 is refused.
    let r = rejects(&mut e, 2, propose(alpha, 190_000_000));
    assert_eq!(
        r,
        Reject::ParamStepTooLarge {
            key: alpha,
            current: 150_000_000,
            value: 190_000_000,
            max_step: 30_000_000
        }
    );
    // Maintenance β 0.075 → 0.085 once initial β is 0.08: maintenance would ask more.
    let tl = e.state().governance.timelock_ms;
    let init_beta = om(OptionMarginField::InitBeta);
    let maint_beta = om(OptionMarginField::MaintBeta);
    run(
        &mut e,
        &[
            at(2, propose(init_beta, 80_000_000)),
            at(2 + tl, execute(0)),
        ],
    );
    let r = rejects(&mut e, 3 + tl, propose(maint_beta, 85_000_000));
    let rule = MaintenanceAboveInitial {
        maintenance: OptionMarginField::MaintBeta,
        initial: OptionMarginField::InitBeta,
    };
    assert_eq!(
        r,
        Reject::OptionMarginInverted {
            key: maint_beta,
            rule
        }
    );
    // Queued before the initial β fell, it is refused again at execution.
    let mut e = short_put();
    run(
        &mut e,
        &[
            at(2, propose(maint_beta, 85_000_000)),
            at(2, propose(init_beta, 80_000_000)),
        ],
    );
    run(&mut e, &[at(2 + tl, execute(1))]);
    let r = rejects(&mut e, 2 + tl, execute(0));
    assert_eq!(
        r,
        Reject::OptionMarginInverted {
            key: maint_beta,
            rule
        }
    );
    assert_requirement(&e, HealthKind::Maintenance, 4_875.0);
}

/// Proposing `value` for a cell pinned to `bound` is refused, naming the key and the bound.
fn assert_pinned(e: &mut Engine, key: ParamKey, value: i64, bound: i64) {
    let r = rejects(e, 1, propose(key, value));
    let (min, max) = (bound, bound);
    assert_eq!(
        r,
        Reject::ParamOutOfBounds {
            key,
            value,
            min,
            max
        }
    );
}

const RISK: [Action; 3] = [Action::Trade, Action::Withdraw, Action::Borrow];

#[test]
fn no_proposal_allows_new_risk_on_a_divergent_or_quorumless_price() {
    let mut e = world(1);
    let mut refused = 0;
    for action in RISK {
        for status in [OracleStatus::Divergent, OracleStatus::NoQuorum] {
            let key = ParamKey::Validity { action, status };
            for value in [Rule::ALLOW_RAW, 0, 60_000] {
                assert_pinned(&mut e, key, value, Rule::DENY_RAW);
                refused += 1;
            }
        }
    }
    // Deposits and repayments may never be restricted.
    for action in [Action::Deposit, Action::Repay] {
        let key = ParamKey::Validity {
            action,
            status: OracleStatus::NoQuorum,
        };
        assert_pinned(&mut e, key, Rule::DENY_RAW, Rule::ALLOW_RAW);
        refused += 1;
    }
    assert_eq!(refused, 3 * 2 * 3 + 2);
    // A cell outside those may switch from deny to allow in one proposal.
    let key = ParamKey::Validity {
        action: Action::Borrow,
        status: OracleStatus::LowConfidence,
    };
    let events = e
        .apply(&at(1, propose(key, Rule::ALLOW_RAW)))
        .expect("proposed");
    assert!(
        matches!(events[..], [Event::ParamProposed { .. }]),
        "{events:?}"
    );
}

#[test]
fn a_validity_cell_changes_only_through_the_timelock_and_waits_seven_delays() {
    let mut e = world(1);
    let key = ParamKey::Validity {
        action: Action::Liquidate,
        status: OracleStatus::Stale,
    };
    let cell = |e: &Engine| {
        e.state()
            .validity
            .rule(Action::Liquidate, OracleStatus::Stale)
    };
    assert_eq!(
        cell(&e),
        Rule::AllowIfAgeWithin {
            max_age_ms: 300_000
        }
    );
    let g = e.state().governance;
    let t1 = 1 + g.timelock_ms;
    run(&mut e, &[at(1, propose(key, 600_000))]);
    let r = rejects(&mut e, t1 - 1, execute(0));
    assert!(matches!(r, Reject::TimelockNotElapsed { .. }), "{r:?}");
    let events = e.apply(&at(t1, execute(0))).expect("executes");
    let executed = Event::ParamExecuted {
        proposal: ProposalId(0),
        key,
        old: 300_000,
        new: 600_000,
    };
    assert!(events.contains(&executed), "{events:?}");
    assert_eq!(
        cell(&e),
        Rule::AllowIfAgeWithin {
            max_age_ms: 600_000
        }
    );
    // A second switch, even back, waits seven min-delays after the first.
    let earliest = Timestamp(t1 + DISCRETE_DELAY_FACTOR * g.min_delay_ms);
    run(&mut e, &[at(t1 + 1, propose(key, Rule::DENY_RAW))]);
    let r = rejects(&mut e, earliest.0 - 1, execute(1));
    assert!(
        matches!(
            r,
            Reject::ProposalExpired { .. } | Reject::ParamChangeTooSoon { .. }
        ),
        "{r:?}"
    );
    let t2 = earliest.0 - 2 * g.timelock_ms;
    run(&mut e, &[at(t2, propose(key, Rule::DENY_RAW))]);
    let r = rejects(&mut e, earliest.0 - 1, execute(2));
    assert_eq!(r, Reject::ParamChangeTooSoon { key, earliest });
    run(&mut e, &[at(earliest.0, execute(2))]);
    assert_eq!(cell(&e), Rule::Deny);
}
