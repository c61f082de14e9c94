//! Keeper-takeover liquidation: the worst-first queue, partial liquidation to the target
//! health, close factor and dust, penalty split and the time-rising liquidator reward, the
//! insurance fee share, a cascade cleared without bad debt, and typed refusals.

mod liqkit;

use ballast_engine::command::Command;
use ballast_engine::demo::{BTC, POOL};
use ballast_engine::event::Event;
use ballast_engine::ids::AccountId;
use ballast_engine::num::{Amount, Ratio, Value, RATIO_SCALE, VALUE_SCALE};
use ballast_engine::params::{LiquidationField, Mechanism, ParamKey};
use ballast_engine::{HealthKind, Reject, Role};
use liqkit::*;

fn maint(e: &ballast_engine::Engine, a: AccountId) -> (Value, Value) {
    let b = e.breakdown(a, HealthKind::Maintenance).unwrap();
    (b.health, b.requirement)
}

#[test]
fn queue_is_worst_first_and_partial_liquidation_restores_target() {
    // traders with 7 000, 6 800, 6 600 USDC, each long 1 BTC
    let mut e = world(params(Mechanism::KeeperTakeover), 3, |i| {
        7_000 - 200 * i as i64
    });
    open_longs(&mut e, 3, 1.0);
    assert!(
        pool_of(&e, POOL).insurance_fund.0 > 0,
        "fee share funds insurance"
    );
    set_price(&mut e, 1000, BTC, 60_900.0);
    let q = e.liquidation_queue();
    let ids: Vec<u32> = q.iter().map(|x| x.account.0).collect();
    assert_eq!(ids, vec![T0 + 2, T0 + 1, T0], "least margin is the worst");
    assert!(q.windows(2).all(|w| w[0].severity <= w[1].severity));

    let a = AccountId(T0);
    let (h0, _) = maint(&e, a);
    let ins0 = pool_of(&e, POOL).insurance_fund;
    let keeper0 = e.state().accounts[KEEPER.idx()].quote.amount;
    let ev = ok(&mut e, 1000, liquidate(KEEPER, a));
    let Some(Event::Liquidated {
        size,
        penalty,
        to_liquidator,
        to_insurance,
        health_after,
        ..
    }) = ev
        .iter()
        .find(|x| matches!(x, Event::Liquidated { .. }))
        .cloned()
    else {
        panic!("no Liquidated event: {ev:?}")
    };
    // partial: less than the whole 1 BTC, and the account is back above target health
    assert!(size.0 > 0 && size.0 < btc_units(1.0), "partial, got {size}");
    let (h1, req1) = maint(&e, a);
    assert_eq!(h1, health_after);
    assert!(h1 > h0);
    let buffer = e.state().pools[0].liquidation.params.target_buffer;
    assert!(
        h1.0 >= req1
            .mul_ratio(buffer, ballast_engine::num::Round::Down)
            .unwrap()
            .0,
        "health {h1:?} below target of {req1:?}"
    );
    // penalty split: half to the keeper, half to insurance at the start
    assert_eq!(penalty.0, to_liquidator.0 + to_insurance.0);
    assert_eq!(to_liquidator.0, penalty.0 / 2);
    assert_eq!(
        pool_of(&e, POOL).insurance_fund.0,
        ins0.0 + to_insurance.0,
        "insurance gets its share"
    );
    assert_eq!(
        e.state().accounts[KEEPER.idx()].quote.amount.0,
        keeper0.0 + to_liquidator.0
    );
    // the keeper now holds the long it took over
    assert_eq!(e.state().accounts[KEEPER.idx()].positions[0].size, size);
    // the account is healthy again: a second liquidation is refused
    let r = refused(&mut e, 1000, liquidate(KEEPER, a));
    assert!(matches!(r, Reject::NotLiquidatable { .. }), "{r}");
}

#[test]
fn deeper_deficit_pays_a_higher_penalty_rate() {
    let mut e = world(params(Mechanism::KeeperTakeover), 2, |i| {
        [7_000, 7_000][i as usize]
    });
    open_longs(&mut e, 2, 1.0);
    set_price(&mut e, 1, BTC, 60_900.0);
    let mild = ok(&mut e, 1, liquidate(KEEPER, AccountId(T0)));
    set_price(&mut e, 2, BTC, 60_000.0);
    let deep = ok(&mut e, 2, liquidate(KEEPER, AccountId(T0 + 1)));
    let rate = |ev: &[Event]| {
        ev.iter()
            .find_map(|x| match x {
                Event::Liquidated {
                    size,
                    price,
                    penalty,
                    ..
                } => Some(penalty.0 as f64 / (size.0 as f64 * price.raw() as f64 / 1e12)),
                _ => None,
            })
            .unwrap()
    };
    let (r1, r2) = (rate(&mild), rate(&deep));
    assert!(
        (0.0199..0.022).contains(&r1),
        "near the boundary ≈ base 2%: {r1}"
    );
    assert!(r2 > r1 + 0.002, "deeper account pays more: {r1} vs {r2}");
}

// The liquidator's share (flat, then linear, then capped) and its engine split are checked
// exactly in liquidation_closed_form.rs.

#[test]
fn close_factor_and_dust() {
    let mut p = params(Mechanism::KeeperTakeover);
    p.close_factor = Ratio(250_000_000);
    p.target_buffer = Ratio(500_000_000); // wants more than the close factor allows
    let mut e = world(p, 1, |_| 7_000);
    open_longs(&mut e, 1, 1.0);
    set_price(&mut e, 1, BTC, 60_900.0);
    let ev = ok(&mut e, 1, liquidate(KEEPER, AccountId(T0)));
    let size = ev
        .iter()
        .find_map(|x| match x {
            Event::Liquidated { size, .. } => Some(size.0),
            _ => None,
        })
        .unwrap();
    assert_eq!(size, btc_units(0.25), "capped by the close factor");

    // a remainder below dust is taken whole, beyond the close factor; a max_size that would
    // leave dust is cut to leave exactly dust (Maker Clipper)
    let mut p = params(Mechanism::KeeperTakeover);
    p.dust = 4_000_000_000; // 4 000 USDC
    for (max, want) in [
        (None, 10_000_000),
        (Some(7_000_000), 10_000_000 - 6_557_378),
    ] {
        let mut e = world(p, 1, |_| 700);
        open_longs(&mut e, 1, 0.1); // 6 500 USDC notional
        set_price(&mut e, 1, BTC, 61_000.0);
        let ev = ok(
            &mut e,
            1,
            Command::Liquidate {
                liquidator: KEEPER,
                account: AccountId(T0),
                market: None,
                max_size: max.map(Amount),
            },
        );
        let size = ev
            .iter()
            .find_map(|x| match x {
                Event::Liquidated { size, .. } => Some(size.0),
                _ => None,
            })
            .unwrap();
        assert_eq!(size, want, "max_size {max:?}");
    }
}

#[test]
fn cascade_is_cleared_without_bad_debt_when_keepers_act() {
    let n = 40;
    let mut e = world(params(Mechanism::KeeperTakeover), n, |i| {
        6_700 + 25 * i as i64
    });
    open_longs(&mut e, n, 1.0);
    let fund_before = pool_of(&e, POOL).insurance_fund.0 as i128;
    let mut to_fund = 0i128;
    let mut t = 1_000;
    let mut price = 65_000.0;
    let mut liquidations = 0;
    while price > 45_000.0 {
        price *= 0.99;
        t += 60_000;
        set_price(&mut e, t, BTC, price);
        loop {
            let q = e.liquidation_queue();
            if q.is_empty() {
                break;
            }
            for entry in q {
                let ev = ok(&mut e, t, liquidate(KEEPER, entry.account));
                assert!(
                    !ev.iter().any(|x| matches!(x, Event::Bankrupt { .. })),
                    "no account went bankrupt with keepers acting"
                );
                to_fund += ev
                    .iter()
                    .map(|x| match x {
                        Event::Liquidated { to_insurance, .. } => to_insurance.0 as i128,
                        Event::InsuranceFunded { amount, .. } => amount.0 as i128,
                        _ => 0,
                    })
                    .sum::<i128>();
                liquidations += 1;
            }
        }
    }
    assert!(liquidations >= n as usize, "{liquidations}");
    assert_eq!(pool_of(&e, POOL).bad_debt, Amount::ZERO);
    assert!(e.liquidation_queue().is_empty());
    assert_conserved(&e);
    // The fund is what it held after the opening fills plus every penalty share and fee share
    // the liquidations reported; the ratio is fund / open interest (both sides, at the oracle
    // price), rounded down, with the open interest recomputed from the accounts' positions.
    let fund = pool_of(&e, POOL).insurance_fund.0 as i128;
    assert_eq!(fund, fund_before + to_fund);
    assert!(to_fund > 0, "the liquidations paid the fund nothing");
    let open: i128 = e
        .state()
        .accounts
        .iter()
        .flat_map(|a| &a.positions)
        .map(|p| p.size.0.unsigned_abs() as i128)
        .sum();
    let px = e.state().assets[BTC.idx()].price.unwrap().raw() as i128;
    let oi = open * px / VALUE_SCALE;
    let want = fund * RATIO_SCALE as i128 / oi;
    assert_eq!(e.insurance_ratio(POOL), Some(Ratio(want as i64)));
}

#[test]
fn refusals_change_nothing() {
    let mut e = world(params(Mechanism::KeeperTakeover), 2, |_| 7_000);
    open_longs(&mut e, 2, 1.0);
    // healthy account
    let r = refused(&mut e, 1, liquidate(KEEPER, AccountId(T0)));
    assert!(matches!(r, Reject::NotLiquidatable { .. }), "{r}");
    set_price(&mut e, 2, BTC, 60_000.0);
    // liquidator cannot be the account itself, nor unknown
    assert!(matches!(
        refused(&mut e, 2, liquidate(AccountId(T0), AccountId(T0))),
        Reject::SelfTrade
    ));
    assert!(matches!(
        refused(&mut e, 2, liquidate(AccountId(999), AccountId(T0))),
        Reject::UnknownAccount(_)
    ));
    // a liquidator without margin for the takeover
    let broke = AccountId(T0 + 1);
    let r = refused(&mut e, 2, liquidate(broke, AccountId(T0)));
    assert!(
        matches!(
            r,
            Reject::InsufficientMargin { .. } | Reject::NotLiquidatable { .. }
        ),
        "{r}"
    );
    // a market where the account holds nothing
    let r = refused(
        &mut e,
        2,
        Command::Liquidate {
            liquidator: KEEPER,
            account: AccountId(T0),
            market: Some(ballast_engine::demo::ETH_PERP),
            max_size: None,
        },
    );
    assert!(matches!(r, Reject::NothingToLiquidate { .. }), "{r}");
    // auctions are not this pool's mechanism
    let r = refused(
        &mut e,
        2,
        Command::StartAuction {
            account: AccountId(T0),
            keeper: KEEPER,
        },
    );
    assert!(matches!(r, Reject::WrongMechanism { .. }), "{r}");
    // configuring after accounts exist goes through governance only
    let r = refused(
        &mut e,
        2,
        Command::ConfigureLiquidation {
            role: Role::Governor,
            pool: POOL,
            params: params(Mechanism::DutchAuction),
        },
    );
    assert!(matches!(r, Reject::AlreadyConfigured(_)), "{r}");
    // a liquidation parameter out of bounds, or breaking a cross-parameter rule
    let r = refused(
        &mut e,
        2,
        Command::Propose {
            role: Role::Governor,
            key: ParamKey::Liquidation {
                pool: POOL,
                field: LiquidationField::Penalty,
            },
            value: 900_000_000,
        },
    );
    assert!(matches!(r, Reject::ParamOutOfBounds { .. }), "{r}");
    let r = refused(
        &mut e,
        2,
        Command::Propose {
            role: Role::Governor,
            key: ParamKey::Liquidation {
                pool: POOL,
                field: LiquidationField::PenaltyMax,
            },
            value: 15_000_000,
        },
    );
    assert!(
        matches!(r, Reject::InvalidParams(_)),
        "penalty_max below penalty: {r}"
    );
}

#[test]
fn governance_switches_the_mechanism() {
    let mut e = world(params(Mechanism::KeeperTakeover), 1, |_| 7_000);
    let key = ParamKey::Liquidation {
        pool: POOL,
        field: LiquidationField::Mechanism,
    };
    ok(
        &mut e,
        0,
        Command::Propose {
            role: Role::Governor,
            key,
            value: 1,
        },
    );
    let day = 24 * 3600 * 1000;
    ok(
        &mut e,
        day,
        Command::Execute {
            role: Role::Governor,
            proposal: ballast_engine::ids::ProposalId(0),
        },
    );
    assert_eq!(
        e.state().pools[0].liquidation.params.mechanism,
        Mechanism::DutchAuction
    );
}
