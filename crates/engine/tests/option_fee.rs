//! The option taker fee in closed form: `fee = min(rate × |size| × spot, cap × premium)`,
//! each side rounded up (against the taker), with the pool's governed `option_fee` and
//! `option_fee_cap` (Deribit's schedule: 0.03 % of the underlying, never more than 12.5 % of
//! the option's price). Exercised on both branches, at the crossover and on a premium whose
//! capped fee has a fraction of a native unit.

mod common;

use ballast_engine::command::Command;
use ballast_engine::demo::{btc, usdc, POOL, USDC};
use ballast_engine::event::Event;
use ballast_engine::ids::{AccountId, SeriesId};
use ballast_engine::num::RATIO_SCALE;
use ballast_engine::Engine;
use ballast_options::pricing::OptionKind;
use common::*;

const DAY: i64 = 86_400_000;
const SPOT: i64 = 65_000;
const TAKER: AccountId = AccountId(0);
const MAKER: AccountId = AccountId(1);

/// BTC at 65,000 (demo genesis), a flat 60 % surface, a 30-day 70,000 call, two funded accounts.
fn book() -> Engine {
    let mut e = world(2);
    list_btc_options(&mut e, 0.6, &[(OptionKind::Call, 70_000.0, 30 * DAY)]);
    for a in [TAKER, MAKER] {
        let amount = usdc(1_000_000);
        run(
            &mut e,
            &[at(
                0,
                Command::Deposit {
                    account: a,
                    asset: USDC,
                    amount,
                },
            )],
        );
    }
    e
}

fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1) / b
}

/// The fee from the schedule alone, in USDC native units (6 decimals): `size_e8` BTC units,
/// `premium_e6` native units per BTC.
fn expected_fee(e: &Engine, size_e8: i128, premium_e6: i128) -> (i128, i128) {
    let p = &e.state().pools[POOL.idx()].params;
    let (rate, cap, one) = (
        p.option_fee.0 as i128,
        p.option_fee_cap.0 as i128,
        RATIO_SCALE as i128,
    );
    // notional in native units × 1e8: size_e8 × SPOT × 1e6
    let notional_e8 = size_e8 * SPOT as i128 * 1_000_000;
    let by_notional = ceil_div(notional_e8 * rate, one * 100_000_000);
    let premium_total = size_e8 * premium_e6 / 100_000_000;
    let by_premium = ceil_div(premium_total * cap, one);
    (by_notional.min(by_premium), premium_total)
}

/// Fills `size` BTC of the call at `premium` and returns (event fee, event premium, taker's
/// cash paid).
fn fill(size: f64, premium: f64) -> (i128, i128, i128) {
    let mut e = book();
    let q0 = e.state().accounts[TAKER.idx()].quote.amount.0 as i128;
    let ev = e
        .apply(&at(
            1,
            Command::OptionFill {
                series: SeriesId(0),
                taker: TAKER,
                maker: MAKER,
                size: btc(size),
                premium,
            },
        ))
        .expect("option fill accepted");
    assert_conserved(&e);
    let (fee, prem) = ev
        .iter()
        .find_map(|x| match x {
            Event::OptionFilled { fee, premium, .. } => Some((fee.0 as i128, premium.0 as i128)),
            _ => None,
        })
        .expect("an OptionFilled event");
    let paid = q0 - e.state().accounts[TAKER.idx()].quote.amount.0 as i128;
    (fee, prem, paid)
}

/// Fills and checks the event, the taker's cash and the fee against the schedule; returns the fee.
fn check(size: f64, premium: f64) -> i128 {
    let e = book();
    let (want, prem_total) =
        expected_fee(&e, (size * 1e8) as i128, (premium * 1e6).round() as i128);
    let (fee, prem, paid) = fill(size, premium);
    assert_eq!(prem, prem_total, "premium {premium} × {size}");
    assert_eq!(fee, want, "fee at premium {premium} × {size}");
    assert_eq!(paid, prem + fee, "the taker pays premium + fee");
    fee
}

#[test]
fn the_demo_schedule_is_deribits() {
    let e = book();
    let p = &e.state().pools[POOL.idx()].params;
    assert_eq!(p.option_fee.0, 300_000, "0.03 %");
    assert_eq!(p.option_fee_cap.0, 125_000_000, "12.5 %");
}

#[test]
fn a_cheap_option_pays_the_premium_cap_rounded_up() {
    // 1 BTC at 1.000001 USDC: 12.5 % of 1,000,001 native = 125,000.125 → 125,001, far below
    // 0.03 % × 65,000 = 19.5 USDC.
    let fee = check(1.0, 1.000_001);
    assert_eq!(fee, 125_001);
    // 10 BTC at 10 USDC: 12.5 % of 100 USDC = 12.5 USDC (notional branch 195 USDC).
    let fee = check(10.0, 10.0);
    assert_eq!(fee, usdc(12).0 as i128 + 500_000);
}

#[test]
fn an_expensive_option_pays_the_notional_rate() {
    // 2 BTC at 2,500: 0.03 % × 130,000 = 39 USDC < 12.5 % × 5,000 = 625 USDC.
    let fee = check(2.0, 2_500.0);
    assert_eq!(fee, usdc(39).0 as i128);
}

#[test]
fn the_two_branches_meet_at_156_per_btc() {
    // 0.03 % × 65,000 = 19.5 = 12.5 % × 156: below 156 the cap binds, above it the rate.
    let below = check(1.0, 155.0);
    let at_cross = check(1.0, 156.0);
    let above = check(1.0, 157.0);
    assert_eq!(below, 19_375_000, "12.5 % × 155");
    assert_eq!(at_cross, 19_500_000);
    assert_eq!(above, 19_500_000, "0.03 % × 65,000");
}
