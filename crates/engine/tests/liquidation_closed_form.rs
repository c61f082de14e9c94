//! The liquidation penalty ramp and the liquidator's share in closed form, at exact points and
//! through the engine.
//!
//! - Penalty rate: `penalty + (penalty_max − penalty)·d²` with `d = clamp(−health/req, 0, 1)`,
//!   rounded up (against the liquidated account); our curve in the spirit of dYdX v4's fillable
//!   price (see `engine::liquidation::penalty_rate`).
//! - Liquidator share: the base share until `reward_ramp_ms` after the account's liquidation
//!   began, then linear to the cap at twice that, rounded down (the remainder goes to the
//!   insurance fund) — Drift v2's liquidator fee that rises after ~10 minutes.
//! - The penalty itself: `ceil(ceil(size × price) × rate)`, split `floor(penalty × share)` to
//!   the liquidator and the rest to insurance.

mod liqkit;

use ballast_engine::command::Command;
use ballast_engine::demo::BTC;
use ballast_engine::engine::{liquidator_share, penalty_rate};
use ballast_engine::event::Event;
use ballast_engine::ids::AccountId;
use ballast_engine::num::{Amount, Ratio, Value, RATIO_SCALE, VALUE_SCALE};
use ballast_engine::params::{LiquidationParams, Mechanism};
use ballast_engine::HealthKind;
use liqkit::*;

const ONE: i64 = RATIO_SCALE;

/// `penalty + span × (n/m)²` in ratio units, exact when `n·ONE/m` is an integer.
fn ramp_at(p: &LiquidationParams, n: i64, m: i64) -> Ratio {
    let span = p.penalty_max.0 - p.penalty.0;
    let d = n * ONE / m;
    assert_eq!(d * m, n * ONE, "exact point");
    let sq = span as i128 * d as i128 * d as i128;
    let one2 = ONE as i128 * ONE as i128;
    Ratio(p.penalty.0 + ((sq + one2 - 1) / one2) as i64)
}

#[test]
fn penalty_rate_follows_the_square_of_the_deficit() {
    let p = LiquidationParams::default();
    assert_eq!(
        (p.penalty.0, p.penalty_max.0),
        (20_000_000, 50_000_000),
        "2 % → 5 %"
    );
    let req = Value(4_000 * VALUE_SCALE);
    let at = |h: i128| penalty_rate(&p, Value(h * VALUE_SCALE), req);
    // at or above the maintenance boundary: the base rate
    assert_eq!(at(0), p.penalty);
    assert_eq!(at(1_000), p.penalty);
    // d = 1/4, 1/2, 3/4: 2 % + 3 % × d²
    assert_eq!(at(-1_000), ramp_at(&p, 1, 4));
    assert_eq!(at(-1_000), Ratio(21_875_000));
    assert_eq!(at(-2_000), Ratio(27_500_000));
    assert_eq!(at(-3_000), Ratio(36_875_000));
    // weighted equity at zero and beyond: the cap
    assert_eq!(at(-4_000), p.penalty_max);
    assert_eq!(at(-40_000), p.penalty_max);
    assert_eq!(penalty_rate(&p, Value(-1), Value(0)), p.penalty_max);
    // d = 1/3 is rounded up twice (d, then the rate): 2 % + 3 % × 0.333333334² = 2.3333334 %
    assert_eq!(penalty_rate(&p, Value(-1), Value(3)), Ratio(23_333_334));
}

#[test]
fn liquidator_share_is_flat_then_linear_then_capped() {
    let p = LiquidationParams::default();
    let ramp = p.reward_ramp_ms;
    assert_eq!(ramp, 600_000, "ten minutes");
    let (base, max) = (p.liquidator_share.0, p.liquidator_share_max.0);
    assert_eq!((base, max), (500_000_000, 800_000_000), "50 % → 80 %");
    let linear = |t: i64| Ratio(base + (max - base) * (t - ramp) / ramp);
    for t in [0, ramp / 2, ramp] {
        assert_eq!(liquidator_share(&p, t), p.liquidator_share, "t = {t}");
    }
    assert_eq!(liquidator_share(&p, ramp + ramp / 4), Ratio(575_000_000));
    assert_eq!(liquidator_share(&p, ramp + ramp / 2), Ratio(650_000_000));
    assert_eq!(
        liquidator_share(&p, ramp + ramp / 2),
        linear(ramp + ramp / 2)
    );
    // 1 ms past the ramp: 300 000 000 / 600 000 = 500 per ms, exactly
    assert_eq!(liquidator_share(&p, ramp + 1), Ratio(base + 500));
    // 7 ms past: 3 500, and 1/7 of a unit past 600 000 ms rounds down
    let q = LiquidationParams {
        reward_ramp_ms: 7,
        ..p
    };
    assert_eq!(liquidator_share(&q, 8), Ratio(base + 300_000_000 / 7));
    for t in [2 * ramp, 10 * ramp] {
        assert_eq!(liquidator_share(&p, t), p.liquidator_share_max, "t = {t}");
    }
    let instant = LiquidationParams {
        reward_ramp_ms: 0,
        ..p
    };
    assert_eq!(liquidator_share(&instant, 0), p.liquidator_share);
    assert_eq!(liquidator_share(&instant, 1), p.liquidator_share_max);
}

/// (size, price raw, penalty, to_liquidator, to_insurance) of the one `Liquidated` event.
fn liquidated(ev: &[Event]) -> (i128, i128, i128, i128, i128) {
    let found: Vec<_> = ev
        .iter()
        .filter_map(|x| match x {
            Event::Liquidated {
                size,
                price,
                penalty,
                to_liquidator,
                to_insurance,
                ..
            } => Some((
                size.0.abs() as i128,
                price.raw() as i128,
                penalty.0 as i128,
                to_liquidator.0 as i128,
                to_insurance.0 as i128,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 1, "one liquidation step: {ev:?}");
    found[0]
}

fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1).div_euclid(b)
}

/// Rate from the account's maintenance health and requirement, computed here.
fn rate_for(p: &LiquidationParams, health: i128, req: i128) -> i128 {
    let one = ONE as i128;
    let d = if health >= 0 {
        0
    } else {
        ceil_div(-health * one, req).min(one)
    };
    let span = (p.penalty_max.0 - p.penalty.0) as i128;
    p.penalty.0 as i128 + ceil_div(span * d * d, one * one)
}

#[test]
fn engine_penalty_and_split_match_the_closed_form_at_three_depths() {
    let p = params(Mechanism::KeeperTakeover);
    // long 1 BTC at 65,000 with 7,000 / 6,800 / 6,600 USDC; BTC falls to 60,000
    let mut e = world(p, 3, |i| 7_000 - 200 * i as i64);
    open_longs(&mut e, 3, 1.0);
    set_price(&mut e, 1, BTC, 60_000.0);
    let mut depths = Vec::new();
    for i in 0..3 {
        let a = AccountId(T0 + i);
        let b = e.breakdown(a, HealthKind::Maintenance).expect("breakdown");
        let (h, req) = (b.health.0, b.requirement.0);
        assert!(h < 0 && req > 0, "account {i} liquidatable: {h} / {req}");
        // an odd slice (0.1 BTC + 7 units) so value and penalty have fractions to round
        let slice = btc_units(0.1) + 7 + i as i64;
        let cmd = Command::Liquidate {
            liquidator: KEEPER,
            account: a,
            market: None,
            max_size: Some(Amount(slice)),
        };
        let (size, px, penalty, to_liq, to_ins) = liquidated(&ok(&mut e, 1, cmd));
        assert_eq!(size, slice as i128, "the keeper's slice");
        let rate = rate_for(&p, h, req);
        let value = ceil_div(size * px, VALUE_SCALE);
        assert_eq!(penalty, ceil_div(value * rate, ONE as i128), "account {i}");
        // liquidated the moment it became liquidatable: the base share
        assert_eq!(to_liq, penalty * p.liquidator_share.0 as i128 / ONE as i128);
        assert_eq!(to_ins, penalty - to_liq);
        println!("account {i}: health {h} / req {req} → rate {rate}, penalty {penalty} on {value}");
        depths.push(rate);
    }
    // three distinct points on the ramp, each deeper one dearer
    assert!(depths[0] > p.penalty.0 as i128 && depths[0] < depths[1] && depths[1] < depths[2]);
    assert!(depths[2] < p.penalty_max.0 as i128, "{depths:?}");
}

#[test]
fn engine_pays_the_ramped_share_fifteen_minutes_in() {
    let mut p = params(Mechanism::KeeperTakeover);
    p.close_factor = Ratio(100_000_000); // 10 % per step so several steps are needed
    p.target_buffer = Ratio(200_000_000);
    let mut e = world(p, 1, |_| 7_000);
    open_longs(&mut e, 1, 1.0);
    set_price(&mut e, 1, BTC, 60_500.0);
    let a = AccountId(T0);
    let (_, _, pen1, liq1, _) = liquidated(&ok(&mut e, 1, liquidate(KEEPER, a)));
    assert_eq!(liq1, pen1 * 500_000_000 / ONE as i128, "base 50 %");
    let t = 1 + 15 * 60_000;
    let (_, _, pen2, liq2, ins2) = liquidated(&ok(&mut e, t, liquidate(KEEPER, a)));
    // 15 min after the first step: 50 % + 30 % × 5/10 = 65 %
    assert_eq!(liquidator_share(&p, t - 1), Ratio(650_000_000));
    assert_eq!(liq2, pen2 * 650_000_000 / ONE as i128);
    assert_eq!(ins2, pen2 - liq2);
}
