//! The one health accumulator against an independent slow reference: for random books (quote
//! deposits and debts, collateral, perpetual positions opened by random fills) and random price
//! moves, `Engine::health` and the sum of `Engine::breakdown`'s lines equal a health recomputed
//! here from the raw ledger state, every position from scratch with its own rounding.

mod common;
mod tally;

use ballast_engine::command::Command;
use ballast_engine::demo::{self, BTC, ETH};
use ballast_engine::ids::{AccountId, AssetId, MarketId};
use ballast_engine::margin::{size_adjusted_rate, Contribution};
use ballast_engine::num::{Amount, RATIO_SCALE, VALUE_SCALE};
use ballast_engine::{Engine, HealthKind};
use common::{at, world};
use proptest::prelude::*;
use tally::Tally;

const N: u32 = 5;

/// Floor and ceiling of `a / b` for b > 0.
fn floor_div(a: i128, b: i128) -> i128 {
    a.div_euclid(b)
}
fn ceil_div(a: i128, b: i128) -> i128 {
    -(-a).div_euclid(b)
}

/// Health recomputed from the raw state: `quote + Σ collateral × weight (floor) + Σ (basis +
/// size × price) − Σ |size × price| × rate (ceil)`, in Value raw steps. Valid for the books
/// this test builds: standard margin, no time elapsed (no interest or funding), no breaker,
/// oracle or volatility add-on (every price is the spot price).
fn reference_health(e: &Engine, id: AccountId, kind: HealthKind) -> i128 {
    let st = e.state();
    let a = &st.accounts[id.0 as usize];
    let pool = &st.pools[a.pool.0 as usize];
    let price = |asset: AssetId| st.assets[asset.0 as usize].price.map(|p| p.raw() as i128);
    let mut h = a.quote.amount.0 as i128 * VALUE_SCALE;
    for (asset, amt) in &a.collateral {
        let cp = pool.collateral.iter().find(|c| c.asset == *asset).unwrap();
        let w = match kind {
            HealthKind::Initial => cp.init_weight.0,
            HealthKind::Maintenance => cp.maint_weight.0,
        } as i128;
        h += floor_div(
            amt.0 as i128 * price(*asset).unwrap() * w,
            RATIO_SCALE as i128,
        );
    }
    for p in &a.positions {
        let m = &st.markets[p.market.0 as usize];
        let px = price(m.base).unwrap();
        let notional = p.size.0 as i128 * px;
        h += p.quote.0 as i128 * VALUE_SCALE + notional;
        let base_rate = match kind {
            HealthKind::Initial => m.params.init_margin,
            HealthKind::Maintenance => m.params.maint_margin,
        };
        let dec = st.assets[m.base.0 as usize].decimals;
        let rate = size_adjusted_rate(base_rate, m.params.imf, p.size, dec).0 as i128;
        h -= ceil_div(notional.abs() * rate, RATIO_SCALE as i128);
    }
    h
}

#[derive(Debug, Clone)]
enum Step {
    Fill {
        market: u8,
        taker: u32,
        maker: u32,
        size: f64,
        off: f64,
    },
    Borrow {
        account: u32,
        amount: i64,
    },
    Price {
        asset: u8,
        factor: f64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..2, 0..N, 0..N, -3.0f64..3.0, -0.04f64..0.04).prop_map(
            |(market, taker, maker, size, off)| Step::Fill { market, taker, maker, size, off }
        ),
        1 => (0..N, 1i64..50_000).prop_map(|(account, amount)| Step::Borrow { account, amount }),
        2 => (0u8..2, 0.7f64..1.3).prop_map(|(asset, factor)| Step::Price { asset, factor }),
    ]
}

fn apply(e: &mut Engine, s: &Step) {
    let cmd = match *s {
        Step::Fill {
            market,
            taker,
            maker,
            size,
            off,
        } => {
            let (m, base, unit) = if market == 0 {
                (demo::BTC_PERP, BTC, 1e8)
            } else {
                (demo::ETH_PERP, ETH, 1e9)
            };
            let px = e.state().assets[base.0 as usize].price.unwrap();
            let human = px.to_human(e.state().assets[base.0 as usize].decimals, 6);
            Command::Fill {
                market: MarketId(m.0),
                taker: AccountId(taker),
                maker: AccountId(maker),
                size: Amount((size * unit / if market == 0 { 1.0 } else { 0.05 }) as i64),
                price: human * (1.0 + off),
            }
        }
        Step::Borrow { account, amount } => Command::Borrow {
            account: AccountId(account),
            amount: demo::usdc(amount),
        },
        Step::Price { asset, factor } => {
            let a = if asset == 0 { BTC } else { ETH };
            let px = e.state().assets[a.0 as usize].price.unwrap();
            let human = px.to_human(e.state().assets[a.0 as usize].decimals, 6);
            Command::SetPrice {
                asset: a,
                price: human * factor,
            }
        }
    };
    // Refusals (margin, self-trade, band) are part of the random walk; they change nothing.
    let before = e.state_hash();
    if let Err(r) = e.apply(&at(0, cmd.clone())) {
        assert_eq!(
            e.state_hash(),
            before,
            "refused {cmd:?} ({r:?}) changed the state"
        );
    }
}

fn book(deposits: &[(i64, f64, f64)]) -> Engine {
    let mut e = world(N);
    for (i, &(usdc, btc, eth)) in deposits.iter().enumerate() {
        let id = AccountId(i as u32);
        let mut dep = |asset, amount: Amount| {
            if amount.0 > 0 {
                let cmd = Command::Deposit {
                    account: id,
                    asset,
                    amount,
                };
                e.apply(&at(0, cmd)).expect("deposit");
            }
        };
        dep(demo::USDC, demo::usdc(usdc));
        dep(BTC, demo::btc(btc));
        dep(ETH, Amount((eth * 1e9) as i64));
    }
    e
}

#[test]
fn accumulator_equals_slow_reference() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(48) }, |(deposits in proptest::collection::vec((prop_oneof![0i64..2_000_000, 0i64..30_000], 0.0f64..3.0, 0.0f64..40.0), N as usize),
        steps in proptest::collection::vec(step(), 1..40))| {
        let mut e = book(&deposits);
        for s in &steps {
            apply(&mut e, s);
        }
        for i in 0..N {
            let id = AccountId(i);
            for kind in [HealthKind::Initial, HealthKind::Maintenance] {
                let reference = reference_health(&e, id, kind);
                tally.hit("checks");
                tally.hit_if(!e.state().accounts[i as usize].positions.is_empty(), "with positions");
                tally.hit_if(reference < 0, "below zero");
                prop_assert_eq!(e.health(id, kind).unwrap().0, reference, "{} {:?}", id, kind);
                let b = e.breakdown(id, kind).unwrap();
                prop_assert_eq!(b.health.0, reference);
                // The lines explain the figure: their terms add up to it.
                let mut sum = 0i128;
                for l in &b.lines {
                    sum += match l {
                        Contribution::Quote { value, .. } => value.0,
                        Contribution::Collateral { weighted, .. } => weighted.0,
                        Contribution::Perp { unrealized_pnl, requirement, .. } => {
                            unrealized_pnl.0 - requirement.0
                        }
                        other => panic!("unexpected line {other:?}"),
                    };
                }
                prop_assert_eq!(sum, reference);
            }
        }
    });
    tally.check(
        "accumulator_equals_slow_reference",
        &[("checks", 480), ("with positions", 100), ("below zero", 5)],
    );
}

/// The generator is not vacuous: a fixed walk opens positions, and the reference moves with
/// prices (so an accumulator that ignored positions would fail above).
#[test]
fn the_walk_opens_positions_and_prices_move_health() {
    let mut e = book(&[
        (1_000_000, 1.0, 0.0),
        (1_000_000, 0.0, 10.0),
        (0, 0.0, 0.0),
        (0, 0.0, 0.0),
        (0, 0.0, 0.0),
    ]);
    apply(
        &mut e,
        &Step::Fill {
            market: 0,
            taker: 0,
            maker: 1,
            size: 2.0,
            off: 0.0,
        },
    );
    assert_eq!(e.state().accounts[0].positions.len(), 1);
    let before = reference_health(&e, AccountId(0), HealthKind::Maintenance);
    apply(
        &mut e,
        &Step::Price {
            asset: 0,
            factor: 0.8,
        },
    );
    let after = reference_health(&e, AccountId(0), HealthKind::Maintenance);
    assert!(
        after < before,
        "a long loses when BTC falls: {before} -> {after}"
    );
    assert_eq!(
        e.health(AccountId(0), HealthKind::Maintenance).unwrap().0,
        after
    );
}
