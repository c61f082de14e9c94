//! Dutch auctions and the loss waterfall: the March 2020 pattern (no keeper bids, auctions
//! falling to zero) creates a deficit that insurance, then ADL, then socialization cover in
//! that order; auction resets (cusp) and a price floor change that outcome; ADL ranks by
//! profit × leverage and never touches the bankrupt's side; pools stay isolated.

mod liqkit;

use ballast_engine::command::Command;
use ballast_engine::demo::{self, BTC, BTC_PERP, POOL, USDC};
use ballast_engine::engine::{auction_price, needs_reset};
use ballast_engine::event::Event;
use ballast_engine::ids::{AccountId, AuctionId, MarketId, OwnerId, PoolId};
use ballast_engine::num::{Amount, Price, Ratio};
use ballast_engine::params::{AuctionCurve, LiquidationParams, Mechanism};
use ballast_engine::{Engine, Reject, Role};
use liqkit::*;

const HOUR: i64 = 3_600_000;

fn auction_params(cusp: f64, floor: f64) -> LiquidationParams {
    let mut p = params(Mechanism::DutchAuction);
    p.auction_curve = AuctionCurve::Linear;
    p.auction_tau_ms = HOUR;
    p.auction_tail_ms = 24 * HOUR;
    p.auction_cusp = Ratio::from_f64(cusp).unwrap();
    p.auction_floor = Ratio::from_f64(floor).unwrap();
    p
}

/// Five traders long 1 BTC at 65 000 with 7 000 USDC each; BTC falls to 60 000; a keeper
/// starts an auction on each.
fn crashed(p: LiquidationParams) -> (Engine, Vec<AuctionId>) {
    let mut e = world(p, 5, |_| 7_000);
    open_longs(&mut e, 5, 1.0);
    set_price(&mut e, 1_000, BTC, 60_000.0);
    let mut ids = Vec::new();
    for i in 0..5 {
        let ev = ok(
            &mut e,
            1_000,
            Command::StartAuction {
                account: AccountId(T0 + i),
                keeper: KEEPER,
            },
        );
        ids.extend(ev.iter().filter_map(|x| match x {
            Event::AuctionStarted { auction, .. } => Some(*auction),
            _ => None,
        }));
    }
    assert_eq!(ids.len(), 5);
    (e, ids)
}

fn index_of(ev: &[Event], f: impl Fn(&Event) -> bool) -> Option<usize> {
    ev.iter().position(f)
}

#[test]
fn march_2020_zero_bids_create_a_deficit_the_waterfall_covers_in_order() {
    let (mut e, ids) = crashed(auction_params(0.0, 0.0));
    let ins0 = pool_of(&e, POOL).insurance_fund.0;
    assert!(ins0 > 0);
    let idx0 = e.state().pools[0].lending.deposit_index;
    // nobody bids for an hour; a bot takes everything at a near-zero price
    let t = 1_000 + HOUR - 1_000;
    let mut all = Vec::new();
    for id in &ids {
        let ev = ok(&mut e, t, take(*id, AccountId(0), i64::MAX, 100.0));
        all.push(ev);
    }
    // the first bankruptcy draws the insurance fund, then ADL against the maker's profit,
    // then socialization
    let first = &all[0];
    let b = index_of(first, |x| matches!(x, Event::Bankrupt { .. })).expect("bankrupt");
    let i = index_of(first, |x| matches!(x, Event::InsuranceDrawn { .. })).expect("insurance");
    let d = index_of(first, |x| matches!(x, Event::Deleveraged { .. })).expect("adl");
    assert!(b < i && i < d, "order: {first:?}");
    assert_eq!(pool_of(&e, POOL).insurance_fund.0, 0, "insurance used up");
    let socialized: i64 = all
        .iter()
        .flatten()
        .filter_map(|x| match x {
            Event::LossSocialized { amount, .. } => Some(amount.0),
            _ => None,
        })
        .sum();
    let adl: i64 = all
        .iter()
        .flatten()
        .filter_map(|x| match x {
            Event::Deleveraged {
                haircut, account, ..
            } => {
                assert_eq!(*account, MAKER, "only the short side is deleveraged");
                Some(haircut.0)
            }
            _ => None,
        })
        .sum();
    assert!(adl > 0, "the profitable short gave up profit");
    assert!(socialized > 0, "the rest was shared by depositors");
    // The waterfall adds up: every unit of every deficit is covered by exactly one step.
    let sum = |f: fn(&Event) -> Option<i64>| -> i64 { all.iter().flatten().filter_map(f).sum() };
    let deficits = sum(|x| match x {
        Event::Bankrupt { deficit, .. } => Some(deficit.0),
        _ => None,
    });
    let drawn = sum(|x| match x {
        Event::InsuranceDrawn { amount, .. } => Some(amount.0),
        _ => None,
    });
    let bad = sum(|x| match x {
        Event::BadDebt { amount, .. } => Some(amount.0),
        _ => None,
    });
    assert_eq!(drawn, ins0, "the whole fund was drawn");
    assert_eq!(
        deficits,
        drawn + adl + socialized + bad,
        "deficits {deficits} vs insurance {drawn} + ADL {adl} + socialized {socialized} + bad debt {bad}"
    );
    assert!(e.state().pools[0].lending.deposit_index < idx0);
    assert_eq!(
        pool_of(&e, POOL).bad_debt,
        Amount::ZERO,
        "deposits covered it"
    );
    for i in 0..5 {
        let a = &e.state().accounts[(T0 + i) as usize];
        assert!(a.positions.is_empty() && a.quote.amount.0 >= 0, "{a:?}");
    }
    assert_conserved(&e);
}

/// Total loss charged to the pool (insurance drawn + ADL haircuts + socialized + bad debt)
/// when the bot bids near zero an hour in, after keepers reset whatever needs a reset.
fn loss_with(p: LiquidationParams) -> i64 {
    let (mut e, ids) = crashed(p);
    let t = 1_000 + HOUR - 1_000;
    let mut loss = 0;
    for id in ids {
        let cmd = take(id, AccountId(0), i64::MAX, 100.0);
        let ev = match e.apply(&at(t, cmd.clone())) {
            Ok(ev) => ev,
            Err(Reject::AuctionNeedsReset(_)) => {
                ok(
                    &mut e,
                    t,
                    Command::RedoAuction {
                        auction: id,
                        keeper: KEEPER,
                    },
                );
                // after the reset the bot's near-zero bid is out of range
                let r = refused(&mut e, t, cmd);
                assert!(matches!(r, Reject::AuctionPriceLimit { .. }), "{r}");
                // a real keeper bids at the restarted price (1.1 × oracle)
                ok(&mut e, t, take(id, KEEPER, i64::MAX, 66_000.0))
            }
            Err(Reject::AuctionPriceLimit { .. }) => {
                ok(&mut e, t, take(id, KEEPER, i64::MAX, 66_000.0))
            }
            Err(r) => panic!("{r}"),
        };
        assert_conserved(&e);
        loss += ev
            .iter()
            .map(|x| match x {
                Event::InsuranceDrawn { amount, .. }
                | Event::LossSocialized { amount, .. }
                | Event::BadDebt { amount, .. } => amount.0,
                Event::Deleveraged { haircut, .. } => haircut.0,
                _ => 0,
            })
            .sum::<i64>();
    }
    loss
}

#[test]
fn resets_and_a_floor_change_the_outcome() {
    let zero = loss_with(auction_params(0.0, 0.0));
    let cusp = loss_with(auction_params(0.5, 0.0));
    let floor = loss_with(auction_params(0.0, 0.8));
    assert!(zero > 50_000_000_000, "zero bids lose > 50k USDC: {zero}");
    assert_eq!(cusp, 0, "cusp resets keep the price near the oracle");
    // the floor refuses the zero bid; the lot still sells at 0.8 × oracle, below the
    // accounts' bankruptcy price, so some loss remains — far less than at zero
    assert!(
        floor > 0 && floor < zero / 5,
        "floor {floor} vs zero {zero}"
    );
}

#[test]
fn auction_price_curves_and_reset_rules() {
    let mut p = auction_params(0.4, 0.0);
    let top = Price::from_raw(1_000_000_000).unwrap();
    let oracle = Price::from_raw(900_000_000).unwrap();
    assert_eq!(auction_price(&p, top, oracle, 0), 1_000_000_000);
    assert_eq!(auction_price(&p, top, oracle, HOUR / 2), 500_000_000);
    assert_eq!(auction_price(&p, top, oracle, 2 * HOUR), 0);
    p.auction_curve = AuctionCurve::Stairstep;
    p.auction_cut = Ratio::from_f64(0.5).unwrap();
    p.auction_step_ms = 60_000;
    assert_eq!(auction_price(&p, top, oracle, 59_999), 1_000_000_000);
    assert_eq!(auction_price(&p, top, oracle, 120_000), 250_000_000);
    p.auction_curve = AuctionCurve::Exponential;
    p.auction_cut = Ratio::from_f64(0.99).unwrap();
    let x = auction_price(&p, top, oracle, 100_000);
    assert!(
        (x as f64 / 1e9 - libm::pow(0.99, 100.0)).abs() < 1e-6,
        "{x}"
    );
    p.auction_floor = Ratio::from_f64(0.5).unwrap();
    assert_eq!(auction_price(&p, top, oracle, 10 * HOUR), 450_000_000);
    // cusp: price/top < 0.4 needs a reset; tail: older than tail needs a reset
    assert!(needs_reset(&p, top, 399_999_999, 0));
    assert!(!needs_reset(&p, top, 400_000_000, 0));
    assert!(needs_reset(&p, top, 900_000_000, p.auction_tail_ms + 1));
}

/// Proposes and executes (no timelock in that test's engine) a lower auction breaker level.
fn lower_auction_breaker(e: &mut Engine, t: i64, level: i64) {
    let proposal = ballast_engine::ids::ProposalId(e.state().proposals.len() as u32);
    let key = ballast_engine::params::ParamKey::AuctionBreaker { pool: POOL };
    ok(
        e,
        t,
        Command::Propose {
            role: Role::Governor,
            key,
            value: level,
        },
    );
    ok(
        e,
        t,
        Command::Execute {
            role: Role::Governor,
            proposal,
        },
    );
    assert_eq!(e.param(&key).unwrap(), level);
}

#[test]
fn keeper_incentive_hole_breaker_and_refusals() {
    let mut p = auction_params(0.4, 0.0);
    p.auction_tip = 5_000_000;
    p.auction_chip = Ratio::from_f64(0.001).unwrap();
    p.close_factor = Ratio::ONE;
    p.full_close_deficit = Ratio::ZERO;
    p.auction_hole = 60_000_000_000; // 60 000 USDC in auction at once
    let e = world(p, 3, |_| 7_000);
    // No timelock here, so the governed lowering of the auction breaker executes at once.
    let mut st = e.state().clone();
    st.governance.timelock_ms = 0;
    st.governance.min_delay_ms = 0;
    let mut e = Engine::from_state(st);
    open_longs(&mut e, 3, 1.0);
    set_price(&mut e, 1, BTC, 60_000.0);
    let ins0 = pool_of(&e, POOL).insurance_fund.0;
    let k0 = e.state().accounts[KEEPER.idx()].quote.amount.0;
    let ev = ok(
        &mut e,
        1,
        Command::StartAuction {
            account: AccountId(T0),
            keeper: KEEPER,
        },
    );
    let Some(Event::AuctionStarted {
        auction,
        size,
        incentive,
        ..
    }) = ev
        .iter()
        .find(|x| matches!(x, Event::AuctionStarted { .. }))
        .cloned()
    else {
        panic!()
    };
    assert!(
        size.0 > 50_000_000 && size.0 < 100_000_000,
        "enough for the target: {size}"
    );
    // tip 5 USDC + chip 0.1% × value (600 quote-native units per satoshi at 60 000)
    assert_eq!(incentive.0, (5_000_000 + size.0 * 600 / 1000).min(ins0));
    assert_eq!(
        e.state().accounts[KEEPER.idx()].quote.amount.0,
        k0 + incentive.0
    );
    // a second auction on the same account is refused
    let r = refused(
        &mut e,
        1,
        Command::StartAuction {
            account: AccountId(T0),
            keeper: KEEPER,
        },
    );
    assert!(matches!(r, Reject::AuctionRunning { .. }), "{r}");
    // the hole leaves less room than the next lot: it is cut to fit
    let ev = ok(
        &mut e,
        1,
        Command::StartAuction {
            account: AccountId(T0 + 1),
            keeper: KEEPER,
        },
    );
    let cut = ev
        .iter()
        .find_map(|x| match x {
            Event::AuctionStarted { size, .. } => Some(size.0),
            _ => None,
        })
        .unwrap();
    assert!(cut < size.0 && cut > 0, "{cut}");
    assert!(pool_of(&e, POOL).liquidation.dirt.0 <= 60_000_000_000);
    let r = refused(
        &mut e,
        1,
        Command::StartAuction {
            account: AccountId(T0 + 2),
            keeper: KEEPER,
        },
    );
    assert!(matches!(r, Reject::AuctionHoleFull { .. }), "{r}");
    // a take above the bidder's limit is refused
    let r = refused(&mut e, 2, take(auction, KEEPER, i64::MAX, 50_000.0));
    assert!(matches!(r, Reject::AuctionPriceLimit { .. }), "{r}");
    // breaker: 3 stops takes; the guardian may raise but not lower it
    ok(
        &mut e,
        2,
        Command::SetAuctionBreaker {
            role: Role::Guardian,
            pool: POOL,
            level: 3,
        },
    );
    let r = refused(&mut e, 2, take(auction, KEEPER, i64::MAX, 70_000.0));
    assert!(matches!(r, Reject::AuctionStopped { level: 3, .. }), "{r}");
    let r = refused(
        &mut e,
        2,
        Command::SetAuctionBreaker {
            role: Role::Guardian,
            pool: POOL,
            level: 0,
        },
    );
    assert!(matches!(r, Reject::Unauthorized { .. }), "{r}");
    // Nor may the governor lower it at once: loosening goes through a proposal.
    let r = refused(
        &mut e,
        2,
        Command::SetAuctionBreaker {
            role: Role::Governor,
            pool: POOL,
            level: 2,
        },
    );
    assert!(matches!(r, Reject::Unauthorized { .. }), "{r}");
    lower_auction_breaker(&mut e, 2, 2);
    // level 2: takes go on, resets do not
    let r = refused(
        &mut e,
        2 + 2 * HOUR,
        Command::RedoAuction {
            auction,
            keeper: KEEPER,
        },
    );
    assert!(matches!(r, Reject::AuctionStopped { level: 2, .. }), "{r}");
    lower_auction_breaker(&mut e, 2, 0);
    // a reset before it is due is refused
    let r = refused(
        &mut e,
        2,
        Command::RedoAuction {
            auction,
            keeper: KEEPER,
        },
    );
    assert!(matches!(r, Reject::AuctionNoReset(_)), "{r}");
    // buy it all; then bidding on the finished auction is refused
    let ev = ok(&mut e, 3, take(auction, KEEPER, i64::MAX, 70_000.0));
    assert!(ev.iter().any(|x| matches!(
        x,
        Event::AuctionEnded {
            completed: true,
            ..
        }
    )));
    let r = refused(&mut e, 4, take(auction, KEEPER, i64::MAX, 70_000.0));
    assert!(matches!(r, Reject::AuctionNotActive(_)), "{r}");
    let r = refused(&mut e, 4, take(AuctionId(99), KEEPER, 1, 70_000.0));
    assert!(matches!(r, Reject::UnknownAuction(_)), "{r}");
    // level 1: no new auctions
    ok(
        &mut e,
        4,
        Command::SetAuctionBreaker {
            role: Role::Guardian,
            pool: POOL,
            level: 1,
        },
    );
    let r = refused(
        &mut e,
        4,
        Command::StartAuction {
            account: AccountId(T0 + 2),
            keeper: KEEPER,
        },
    );
    assert!(matches!(r, Reject::AuctionStopped { level: 1, .. }), "{r}");
}

#[test]
fn adl_ranks_by_profit_times_leverage_and_spares_the_bankrupt_side() {
    // three shorts with different leverage; one long that goes bankrupt
    let p = params(Mechanism::KeeperTakeover);
    let mut e = world(p, 4, |i| [3_000, 20_000, 10_000, 60_000][i as usize]);
    let long = AccountId(T0);
    // the long buys 3 BTC from three shorts (1 BTC each) — all at 65 000
    for k in 1..4 {
        fill(
            &mut e,
            0,
            BTC_PERP,
            long,
            AccountId(T0 + k),
            btc_units(0.1),
            65_000.0,
        );
    }
    // and the maker is long too (same side as the bankrupt account)
    fill(
        &mut e,
        0,
        BTC_PERP,
        MAKER,
        AccountId(T0 + 1),
        btc_units(0.1),
        65_000.0,
    );
    set_price(&mut e, 1, BTC, 20_000.0);
    // shorts: the one with least margin (most leverage) ranks first
    assert_eq!(e.adl_rank(AccountId(T0 + 1)).unwrap().1, 3);
    let ranks: Vec<u32> = (1..4)
        .map(|k| e.adl_rank(AccountId(T0 + k)).unwrap().0)
        .collect();
    // T0+1: profit 9 000 on 29 000 equity, 0.2 BTC; T0+2: 4 500 on 14 500, 0.1 BTC;
    // T0+3: 4 500 on 64 500, 0.1 BTC
    assert_eq!(ranks, vec![1, 2, 3]);
    assert_eq!(e.adl_rank(long), None, "a losing position has no ADL rank");
    let order: Vec<AccountId> = {
        let mut v: Vec<(u32, AccountId)> = (1..4)
            .map(|k| (e.adl_rank(AccountId(T0 + k)).unwrap().0, AccountId(T0 + k)))
            .collect();
        v.sort();
        v.into_iter().map(|(_, a)| a).collect()
    };
    let ev = ok(&mut e, 1, liquidate(KEEPER, long));
    let hit: Vec<AccountId> = ev
        .iter()
        .filter_map(|x| match x {
            Event::Deleveraged {
                account, bankrupt, ..
            } => {
                assert_eq!(*bankrupt, long);
                Some(*account)
            }
            _ => None,
        })
        .collect();
    assert!(!hit.is_empty());
    assert!(!hit.contains(&MAKER), "the same side is never deleveraged");
    assert_eq!(hit[..], order[..hit.len()], "deleveraged in rank order");
    assert!(e.state().accounts[T0 as usize].positions.is_empty());
    assert_conserved(&e);
}

/// A second pool with its own BTC perp, lender, maker and trader.
fn second_pool(e: &mut Engine) -> (PoolId, MarketId, AccountId) {
    let g = Role::Governor;
    ok(
        e,
        0,
        Command::CreatePool {
            role: g,
            name: "iso".into(),
            quote: USDC,
            params: demo::pool_params(),
        },
    );
    let pool = PoolId(1);
    ok(
        e,
        0,
        Command::CreateMarket {
            role: g,
            symbol: "BTC-PERP-ISO".into(),
            pool,
            base: BTC,
            params: demo::market_params(),
        },
    );
    let market = MarketId(e.state().markets.len() as u16 - 1);
    let first = e.state().accounts.len() as u32;
    for i in 0..3 {
        ok(
            e,
            0,
            Command::OpenAccount {
                owner: OwnerId(1000 + i),
                pool,
            },
        );
    }
    for (i, x) in [10_000_000, 5_000_000, 7_000].iter().enumerate() {
        deposit(e, 0, AccountId(first + i as u32), usdc(*x));
    }
    fill(
        e,
        0,
        market,
        AccountId(first + 2),
        AccountId(first + 1),
        btc_units(1.0),
        65_000.0,
    );
    (pool, market, AccountId(first + 2))
}

#[test]
fn a_loss_in_one_pool_never_touches_another() {
    let mut e = world(params(Mechanism::KeeperTakeover), 2, |_| 7_000);
    let (p1, _, _) = second_pool(&mut e);
    open_longs(&mut e, 2, 1.0);
    let pool1 = e.state().pools[p1.idx()].clone();
    let accts1: Vec<_> = e
        .state()
        .accounts
        .iter()
        .filter(|a| a.pool == p1)
        .cloned()
        .collect();
    set_price(&mut e, 1, BTC, 30_000.0);
    for i in 0..2 {
        let ev = ok(&mut e, 1, liquidate(KEEPER, AccountId(T0 + i)));
        assert!(ev.iter().any(|x| matches!(x, Event::Bankrupt { .. })));
    }
    assert_eq!(e.state().pools[p1.idx()], pool1, "pool 1 unchanged");
    let after: Vec<_> = e
        .state()
        .accounts
        .iter()
        .filter(|a| a.pool == p1)
        .cloned()
        .collect();
    assert_eq!(after, accts1, "pool 1 accounts unchanged");
    // a keeper from the other pool cannot liquidate here
    let other = AccountId(e.state().accounts.len() as u32 - 1);
    let r = refused(&mut e, 1, liquidate(other, AccountId(T0)));
    assert!(matches!(r, Reject::WrongPool { .. }), "{r}");
}

#[test]
fn a_deficit_beyond_every_deposit_is_recognised_as_bad_debt() {
    // a thin pool: maker 7 000, bidder 10 000, trader 7 000; no insurance
    let mut p = auction_params(0.0, 0.0);
    p.insurance_fee_share = Ratio::ZERO;
    let mut e = Engine::new();
    for env in demo::genesis(0) {
        e.apply(&env).unwrap();
    }
    ok(
        &mut e,
        0,
        Command::ConfigureLiquidation {
            role: Role::Governor,
            pool: POOL,
            params: p,
        },
    );
    for i in 0..3 {
        ok(
            &mut e,
            0,
            Command::OpenAccount {
                owner: OwnerId(i),
                pool: POOL,
            },
        );
    }
    let (maker, bidder, trader) = (AccountId(0), AccountId(1), AccountId(2));
    for (a, x) in [(maker, 7_000), (bidder, 10_000), (trader, 7_000)] {
        deposit(&mut e, 0, a, usdc(x));
    }
    fill(&mut e, 0, BTC_PERP, trader, maker, btc_units(1.0), 65_000.0);
    set_price(&mut e, 1_000, BTC, 60_000.0);
    let ev = ok(
        &mut e,
        1_000,
        Command::StartAuction {
            account: trader,
            keeper: bidder,
        },
    );
    let id = ev
        .iter()
        .find_map(|x| match x {
            Event::AuctionStarted { auction, .. } => Some(*auction),
            _ => None,
        })
        .unwrap();
    let ev = ok(
        &mut e,
        1_000 + HOUR - 1_000,
        take(id, bidder, i64::MAX, 100.0),
    );
    let s = index_of(&ev, |x| matches!(x, Event::LossSocialized { .. })).expect("socialized");
    let b = index_of(&ev, |x| matches!(x, Event::BadDebt { .. })).expect("bad debt");
    assert!(s < b, "socialize before recognising bad debt");
    let bad = ev
        .iter()
        .find_map(|x| match x {
            Event::BadDebt { amount, .. } => Some(amount.0),
            _ => None,
        })
        .unwrap();
    assert!(bad > 0);
    assert_eq!(pool_of(&e, POOL).bad_debt.0, bad, "recognised exactly once");
    assert_eq!(e.state().accounts[trader.idx()].quote.amount.0, 0);
    assert!(e.state().accounts[trader.idx()].positions.is_empty());
    assert_conserved(&e);
}

#[test]
fn an_auction_cascade_clears_without_bad_debt_when_keepers_bid() {
    let n = 30;
    let mut e = world(auction_params(0.4, 0.0), n, |i| 6_700 + 30 * i as i64);
    open_longs(&mut e, n, 1.0);
    let (mut t, mut price) = (1_000, 65_000.0);
    let mut taken = 0;
    while price > 50_000.0 {
        price *= 0.99;
        t += 60_000;
        set_price(&mut e, t, BTC, price);
        for _ in 0..10 {
            let q = e.liquidation_queue();
            if q.is_empty() {
                break;
            }
            for entry in &q {
                if e.state().pools[0]
                    .liquidation
                    .active
                    .iter()
                    .all(|(a, _)| *a != entry.account)
                {
                    ok(
                        &mut e,
                        t,
                        Command::StartAuction {
                            account: entry.account,
                            keeper: KEEPER,
                        },
                    );
                }
            }
            // keepers bid once the price is below the oracle (~5.5 minutes into a 1 h
            // linear auction starting at 110%)
            t += 6 * 60_000;
            let active: Vec<AuctionId> = e.state().pools[0]
                .liquidation
                .active
                .iter()
                .map(|(_, a)| *a)
                .collect();
            for id in active {
                let ev = ok(&mut e, t, take(id, KEEPER, i64::MAX, price));
                assert!(
                    !ev.iter().any(|x| matches!(x, Event::Bankrupt { .. })),
                    "{ev:?}"
                );
                taken += 1;
            }
        }
    }
    assert!(taken >= n, "{taken}");
    assert!(e.liquidation_queue().is_empty());
    assert_eq!(pool_of(&e, POOL).bad_debt, Amount::ZERO);
    assert!(
        pool_of(&e, POOL).insurance_fund.0 > 0,
        "penalties grew the fund"
    );
    assert_eq!(pool_of(&e, POOL).liquidation.dirt, Amount::ZERO);
    assert_conserved(&e);
}

/// Issue 9: a take re-checks health. After the price recovers, the account is above
/// maintenance: the take is refused (nothing is sold at a discount from a healthy account), and
/// `redo_auction` ends the auction even though no reset is due.
#[test]
fn a_take_on_a_recovered_account_is_refused_and_its_auction_ends() {
    let (mut e, ids) = crashed(auction_params(0.4, 0.0));
    let (id, account) = (ids[0], AccountId(T0));
    set_price(&mut e, 2_000, BTC, 66_000.0);
    assert!(
        e.health(account, ballast_engine::HealthKind::Maintenance)
            .unwrap()
            .0
            >= 0
    );
    let r = refused(&mut e, 20 * 60_000, take(id, KEEPER, i64::MAX, 70_000.0));
    assert!(matches!(r, Reject::AuctionAccountRecovered { .. }), "{r}");
    let ev = ok(
        &mut e,
        20 * 60_000,
        Command::RedoAuction {
            auction: id,
            keeper: KEEPER,
        },
    );
    assert!(!ev.is_empty());
    assert!(pool_of(&e, POOL)
        .liquidation
        .active
        .iter()
        .all(|(a, _)| *a != account));
    // and the account still holds its whole position
    assert_eq!(
        e.state().accounts[account.idx()]
            .position(BTC_PERP)
            .map(|p| p.size.0),
        Some(btc_units(1.0))
    );
}

/// Each take reports the lot's value at the engine price, so a clearing price far below the
/// oracle (the March 2020 zero bids) shows as a ratio, not only as a loss later.
#[test]
fn an_auction_take_reports_its_value_at_the_oracle() {
    let (mut e, ids) = crashed(auction_params(0.0, 0.0));
    let t = 1_000 + HOUR - 1_000;
    let ev = ok(&mut e, t, take(ids[0], AccountId(0), i64::MAX, 100.0));
    let (size, paid, at_mark) = ev
        .iter()
        .find_map(|x| match x {
            Event::AuctionTaken {
                size,
                paid,
                at_mark,
                ..
            } => Some((size.0, paid.0, at_mark.0)),
            _ => None,
        })
        .expect("the take is reported");
    // the slice taken, valued at the 60 000 oracle price (rounded up, like every notional)
    assert!(size > 0 && size <= btc_units(1.0), "size {size}");
    let (num, den) = (
        size as i128 * usdc(60_000).0 as i128,
        btc_units(1.0) as i128,
    );
    let value = (num + den - 1) / den;
    assert_eq!(at_mark as i128, value);
    // the bot paid at most its 100 USDC limit: under 0.2 % of the oracle value
    assert!(paid > 0 && paid <= usdc(100).0, "paid {paid}");
    assert!((paid as f64 / at_mark as f64) < 100.0 / 60_000.0 + 1e-12);
}
