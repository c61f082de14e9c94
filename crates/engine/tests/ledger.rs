//! Scenario tests of the ledger mechanics against hand-computed numbers.

mod common;

use ballast_engine::command::Command;
use ballast_engine::demo::{btc, usdc, BTC, BTC_PERP, USDC};
use ballast_engine::event::Event;
use ballast_engine::funding::FUNDING_INDEX_SCALE;
use ballast_engine::ids::{AccountId, ProposalId};
use ballast_engine::margin::Contribution;
use ballast_engine::num::{Amount, Ratio, Value, MS_PER_HOUR, MS_PER_YEAR, VALUE_SCALE};
use ballast_engine::params::{MarketField, ParamKey};
use ballast_engine::{Engine, HealthKind, Role};
use common::*;

fn two_traders() -> Engine {
    let mut e = world(4);
    run(
        &mut e,
        &[
            at(
                1,
                Command::Deposit {
                    account: AccountId(0),
                    asset: USDC,
                    amount: usdc(20_000),
                },
            ),
            at(
                1,
                Command::Deposit {
                    account: AccountId(2),
                    asset: USDC,
                    amount: usdc(200_000),
                },
            ),
        ],
    );
    e
}

#[test]
fn realized_pnl_and_fees_on_round_trip() {
    let mut e = two_traders();
    // Long 1 BTC at 65,000 (taker fee 5 bp = 32.5, maker fee 2 bp = 13).
    run(
        &mut e,
        &[at(
            2,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(2),
                size: btc(1.0),
                price: 65_000.0,
            },
        )],
    );
    run(
        &mut e,
        &[at(
            3,
            Command::SetPrice {
                asset: BTC,
                price: 68_000.0,
            },
        )],
    );
    let events = e
        .apply(&at(
            4,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(2),
                size: btc(-1.0),
                price: 68_000.0,
            },
        ))
        .unwrap();
    let realized: Vec<_> = events
        .iter()
        .filter_map(|ev| {
            if let Event::PnlRealized {
                account, amount, ..
            } = ev
            {
                Some((*account, *amount))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        realized,
        vec![(AccountId(0), usdc(3_000)), (AccountId(2), usdc(-3_000))]
    );
    let st = e.state();
    // 20,000 + 3,000 − 32.5 − 34 (taker fees) and 200,000 − 3,000 − 13 − 13.6 (maker fees).
    assert_eq!(st.accounts[0].quote.amount, Amount(22_933_500_000));
    assert_eq!(st.accounts[2].quote.amount, Amount(196_973_400_000));
    assert_eq!(st.pools[0].fee_account, Amount(93_100_000));
    assert!(st.accounts[0].positions.is_empty() && st.accounts[2].positions.is_empty());
    assert_eq!(
        (st.markets[0].long_oi, st.markets[0].short_oi),
        (Amount(0), Amount(0))
    );
    assert_conserved(&e);
}

#[test]
fn partial_close_and_flip_keep_cost_basis() {
    let mut e = two_traders();
    run(
        &mut e,
        &[at(
            2,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(2),
                size: btc(1.0),
                price: 65_000.0,
            },
        )],
    );
    // Sell 1.5 at 66,000: closes 1 (realizing +1,000) and opens 0.5 short at 66,000.
    let ev = e
        .apply(&at(
            3,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(2),
                size: btc(-1.5),
                price: 66_000.0,
            },
        ))
        .unwrap();
    assert!(ev.contains(&Event::PnlRealized {
        account: AccountId(0),
        market: BTC_PERP,
        amount: usdc(1_000)
    }));
    let p = *e.state().accounts[0].position(BTC_PERP).unwrap();
    assert_eq!(p.size, btc(-0.5));
    assert_eq!(p.quote, usdc(33_000));
    assert_conserved(&e);
}

/// The long's size in base-native units (1.00000007 BTC).
const LONG: i64 = 100_000_007;

#[test]
fn funding_flows_from_longs_to_shorts_through_the_index() {
    let mut e = two_traders();
    run(
        &mut e,
        &[at(
            2,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(2),
                // an odd size, so the payment does not divide evenly and rounding shows
                size: Amount(LONG),
                price: 65_600.0,
            },
        )],
    );
    // Mark trades ~0.9% over index for an hour.
    let t = MS_PER_HOUR + 2;
    let h0_before = e.health(AccountId(0), HealthKind::Maintenance).unwrap();
    run(
        &mut e,
        &[at(t, Command::SettleFunding { market: BTC_PERP })],
    );
    let idx = e.state().markets[0].funding_index;
    assert!(idx > 0, "longs pay when mark > index");
    let h0 = e.health(AccountId(0), HealthKind::Maintenance).unwrap();
    // Settling happens lazily, on the next touch of each account.
    let ev = e
        .apply(&at(
            t + 1,
            Command::Deposit {
                account: AccountId(0),
                asset: USDC,
                amount: usdc(1),
            },
        ))
        .unwrap();
    assert!(
        !ev.iter().any(|x| matches!(x, Event::FundingSettled { .. })),
        "a deposit does not touch positions"
    );
    let ev = e
        .apply(&at(
            t + 2,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(2),
                size: btc(-0.5),
                price: 65_000.0,
            },
        ))
        .unwrap();
    let paid: Vec<_> = ev
        .iter()
        .filter_map(|x| {
            if let Event::FundingSettled {
                account, amount, ..
            } = x
            {
                Some((*account, amount.0))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(paid.len(), 2);
    let (long_paid, short_got) = (paid[0].1, paid[1].1);
    // Through the index: the size (base-native units) × Δindex, in quote-native units (the
    // index is Price raw × FUNDING_INDEX_SCALE, Price raw is quote-native per base-native ×
    // VALUE_SCALE); the long pays rounded up, the short receives rounded down.
    let per = VALUE_SCALE * FUNDING_INDEX_SCALE;
    let owed = LONG as i128 * idx;
    assert_eq!(-long_paid as i128, (owed + per - 1) / per, "{paid:?}");
    assert_eq!(short_got as i128, owed / per, "{paid:?}");
    assert!(short_got > 0, "a 0.9 % premium for an hour pays something");
    // Rounding goes to the clearing account, never against the protocol.
    assert!(e.state().markets[0].funding_clearing.0 >= 0);
    // Health counted the funding as soon as the index moved, before settlement: the long's
    // health fell by exactly the owed value (in Value units, rounded up against it), which
    // settlement then rounds up to whole quote units.
    let owed_value = (owed + FUNDING_INDEX_SCALE - 1) / FUNDING_INDEX_SCALE;
    assert_eq!(h0_before.0 - h0.0, owed_value);
    assert!(owed_value <= -long_paid as i128 * VALUE_SCALE);
    assert_conserved(&e);
}

#[test]
fn interest_accrues_from_borrowers_to_lenders() {
    let mut e = world(4);
    run(
        &mut e,
        &[
            at(
                0,
                Command::Deposit {
                    account: AccountId(0),
                    asset: USDC,
                    amount: usdc(1_000_000),
                },
            ),
            at(
                0,
                Command::Deposit {
                    account: AccountId(2),
                    asset: BTC,
                    amount: btc(20.0),
                },
            ),
            at(
                0,
                Command::Borrow {
                    account: AccountId(2),
                    amount: usdc(450_000),
                },
            ),
        ],
    );
    // U = 45%: borrow rate 4%·45/90 = 2%; supply 2%·45%·90% = 0.81%.
    let year = MS_PER_YEAR;
    run(
        &mut e,
        &[at(
            year,
            Command::Deposit {
                account: AccountId(2),
                asset: USDC,
                amount: usdc(1),
            },
        )],
    );
    let debt = -e.state().accounts[2].quote.amount.0 + usdc(1).0;
    assert!((debt - usdc(459_000).0).abs() <= 2, "debt {debt}");
    run(
        &mut e,
        &[at(
            year,
            Command::Withdraw {
                account: AccountId(0),
                asset: USDC,
                amount: usdc(1),
            },
        )],
    );
    let lent = e.state().accounts[0].quote.amount.0 + usdc(1).0;
    assert!((lent - usdc(1_008_100).0).abs() <= 2, "lender {lent}");
    // The reserve keeps the difference: 9,000 − 8,100 = 900 (10% reserve factor of 9,000).
    assert!((e.state().pools[0].lending.interest_clearing.0 - usdc(900).0).abs() <= 4);
    assert_conserved(&e);
}

#[test]
fn size_premium_raises_margin_and_breakdown_adds_up() {
    let mut e = two_traders();
    run(
        &mut e,
        &[at(
            1,
            Command::Deposit {
                account: AccountId(2),
                asset: USDC,
                amount: usdc(50_000_000),
            },
        )],
    );
    run(
        &mut e,
        &[at(
            1,
            Command::Deposit {
                account: AccountId(1),
                asset: USDC,
                amount: usdc(50_000_000),
            },
        )],
    );
    run(
        &mut e,
        &[at(
            1,
            Command::Deposit {
                account: AccountId(3),
                asset: BTC,
                amount: btc(1.0),
            },
        )],
    );
    run(
        &mut e,
        &[at(
            2,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(2),
                size: btc(0.1),
                price: 65_000.0,
            },
        )],
    );
    run(
        &mut e,
        &[at(
            2,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(1),
                maker: AccountId(2),
                size: btc(1_000.0),
                price: 65_000.0,
            },
        )],
    );
    let rate = |a: u32| {
        let b = e.breakdown(AccountId(a), HealthKind::Initial).unwrap();
        b.lines
            .iter()
            .find_map(|l| {
                if let Contribution::Perp { rate, .. } = l {
                    Some(*rate)
                } else {
                    None
                }
            })
            .unwrap()
    };
    assert_eq!(rate(0), Ratio::from_f64(0.10).unwrap());
    // 0.8·10% + 0.05%·√(10·1000 + 1) = 8% + 5.0% ≈ 13.0%.
    assert!((rate(1).to_f64() - (0.08 + 0.0005 * 10_001f64.sqrt())).abs() < 1e-8);
    for a in 0..4 {
        for kind in [HealthKind::Initial, HealthKind::Maintenance] {
            let b = e.breakdown(AccountId(a), kind).unwrap();
            assert_eq!(
                b.health.0,
                b.collateral.0 + b.unrealized_pnl.0 - b.requirement.0
            );
            assert_eq!(b.health, e.health(AccountId(a), kind).unwrap());
        }
    }
    // BTC collateral counts at its haircut: 65,000 × 0.8 initial.
    let b = e.breakdown(AccountId(3), HealthKind::Initial).unwrap();
    assert_eq!(b.health, Value::from_quote(usdc(52_000)));
}

#[test]
fn governed_change_applies_after_timelock() {
    let mut e = two_traders();
    let key = ParamKey::Market {
        market: BTC_PERP,
        field: MarketField::MaintMargin,
    };
    let value = Ratio::from_f64(0.07).unwrap().0;
    run(
        &mut e,
        &[at(
            10,
            Command::Propose {
                role: Role::Governor,
                key,
                value,
            },
        )],
    );
    assert_eq!(
        e.state().markets[0].params.maint_margin,
        Ratio::from_f64(0.05).unwrap()
    );
    let eta = e.state().proposals[0].eta.0;
    let ev = e
        .apply(&at(
            eta,
            Command::Execute {
                role: Role::Governor,
                proposal: ProposalId(0),
            },
        ))
        .unwrap();
    assert_eq!(
        ev,
        vec![Event::ParamExecuted {
            proposal: ProposalId(0),
            key,
            old: 50_000_000,
            new: value
        }]
    );
    assert_eq!(e.state().markets[0].params.maint_margin.0, value);
    assert!(e
        .apply(&at(
            eta,
            Command::Execute {
                role: Role::Governor,
                proposal: ProposalId(0)
            }
        ))
        .is_err());
}

#[test]
fn liquidation_index_finds_accounts_after_a_drop() {
    let mut e = two_traders();
    run(
        &mut e,
        &[at(
            2,
            Command::Fill {
                market: BTC_PERP,
                taker: AccountId(0),
                maker: AccountId(2),
                size: btc(2.5),
                price: 65_000.0,
            },
        )],
    );
    assert!(e.below_maintenance().is_empty());
    // 19,918.75 after fees on 2.5 BTC long: 19,918.75 + 2.5(P − 65,000) < 5%·2.5·P ⇔ P < 60,034.
    run(
        &mut e,
        &[at(
            3,
            Command::SetPrice {
                asset: BTC,
                price: 60_100.0,
            },
        )],
    );
    assert!(e.below_maintenance().is_empty());
    run(
        &mut e,
        &[at(
            4,
            Command::SetPrice {
                asset: BTC,
                price: 60_000.0,
            },
        )],
    );
    assert_eq!(e.below_maintenance(), vec![AccountId(0)]);
    assert_eq!(e.below_maintenance_scan(), vec![AccountId(0)]);
}
