//! Emergency shutdown (Maker End): freeze, fix prices, cancel auctions, close every position,
//! skim debt against collateral, apply the waterfall, and leave each account exactly its claim.

mod liqkit;

use ballast_engine::command::Command;
use ballast_engine::demo::{BTC, BTC_PERP, POOL, USDC};
use ballast_engine::event::Event;
use ballast_engine::ids::AccountId;
use ballast_engine::num::Amount;
use ballast_engine::params::Mechanism;
use ballast_engine::{Engine, Reject, Role};
use liqkit::*;

/// Σ quote claims + pool buckets − bad debt = USDC held; Σ collateral + basket = BTC held.
fn assert_claims_cover_assets(e: &Engine) {
    let st = e.state();
    let p = &st.pools[0];
    let claims: i128 = st
        .accounts
        .iter()
        .filter(|a| a.pool == POOL)
        .map(|a| {
            assert!(a.positions.is_empty(), "every position closed");
            assert!(a.quote.amount.0 >= 0, "no debt left: {a:?}");
            a.quote.amount.0 as i128
        })
        .sum();
    let buckets = p.insurance_fund.0 as i128
        + p.fee_account.0 as i128
        + p.lending.interest_clearing.0 as i128
        + st.markets
            .iter()
            .filter(|m| m.pool == POOL)
            .map(|m| m.funding_clearing.0 as i128)
            .sum::<i128>()
        - p.bad_debt.0 as i128;
    assert_eq!(claims + buckets, st.assets[USDC.idx()].net_deposits);
    let btc: i128 = st
        .accounts
        .iter()
        .map(|a| a.collateral_amount(BTC).0 as i128)
        .sum::<i128>()
        + p.liquidation
            .basket
            .iter()
            .filter(|(a, _)| *a == BTC)
            .map(|(_, x)| x.0 as i128)
            .sum::<i128>();
    assert_eq!(btc, st.assets[BTC.idx()].net_deposits);
}

fn shutdown() -> Command {
    Command::Shutdown {
        role: Role::Governor,
        pool: POOL,
    }
}

/// Traders long, a borrower against BTC, an auction running; BTC falls to 30 000.
fn stressed() -> Engine {
    let mut p = params(Mechanism::DutchAuction);
    p.auction_tail_ms = 24 * 3_600_000;
    let mut e = world(p, 4, |i| [7_000, 7_000, 20_000, 0][i as usize]);
    open_longs(&mut e, 3, 1.0);
    let borrower = AccountId(T0 + 3);
    ok(
        &mut e,
        0,
        Command::Deposit {
            account: borrower,
            asset: BTC,
            amount: Amount(100_000_000),
        },
    );
    ok(
        &mut e,
        0,
        Command::Borrow {
            account: borrower,
            amount: usdc(40_000),
        },
    );
    set_price(&mut e, 1_000, BTC, 60_000.0);
    ok(
        &mut e,
        1_000,
        Command::StartAuction {
            account: AccountId(T0),
            keeper: KEEPER,
        },
    );
    set_price(&mut e, 2_000, BTC, 30_000.0);
    e
}

#[test]
fn shutdown_closes_everything_and_leaves_exact_claims() {
    let mut e = stressed();
    let ev = ok(&mut e, 3_000, shutdown());
    assert!(matches!(ev[0], Event::ShutdownStarted { .. }));
    assert!(ev
        .iter()
        .any(|x| matches!(x, Event::SettlementPrice { .. })));
    assert!(ev.iter().any(|x| matches!(
        x,
        Event::AuctionEnded {
            completed: false,
            ..
        }
    )));
    assert!(
        ev.iter().any(|x| matches!(x, Event::Skimmed { .. })),
        "borrower skimmed"
    );
    let b = ev
        .iter()
        .position(|x| matches!(x, Event::Bankrupt { .. }))
        .expect("bankrupt traders");
    let i = ev
        .iter()
        .position(|x| matches!(x, Event::InsuranceDrawn { .. }))
        .expect("insurance first");
    let s = ev
        .iter()
        .position(|x| matches!(x, Event::LossSocialized { .. }))
        .expect("then the claimants");
    assert!(b < i && i < s);
    assert!(ev.iter().any(|x| matches!(x, Event::BasketShare { .. })));
    assert!(e.state().pools[0].insurance_fund.0 >= 0);
    assert_eq!(e.state().markets[BTC_PERP.idx()].long_oi, Amount::ZERO);
    assert!(e
        .state()
        .auctions
        .iter()
        .all(|a| a.state != ballast_engine::state::AuctionState::Active));
    assert_conserved(&e);
    assert_claims_cover_assets(&e);

    // each account withdraws exactly its claim, no more
    let n = e.state().accounts.len() as u32;
    for i in 0..n {
        let a = AccountId(i);
        let have = e.state().accounts[i as usize].quote.amount;
        let r = refused(
            &mut e,
            4_000,
            Command::Claim {
                account: a,
                asset: USDC,
                amount: Amount(have.0 + 1),
            },
        );
        assert!(matches!(r, Reject::ClaimExceeded { .. }), "{r}");
        if have.0 > 0 {
            ok(
                &mut e,
                4_000,
                Command::Claim {
                    account: a,
                    asset: USDC,
                    amount: have,
                },
            );
        }
        let btc = e.state().accounts[i as usize].collateral_amount(BTC);
        if btc.0 > 0 {
            ok(
                &mut e,
                4_000,
                Command::Claim {
                    account: a,
                    asset: BTC,
                    amount: btc,
                },
            );
        }
        assert_claims_cover_assets(&e);
    }
}

#[test]
fn after_shutdown_nothing_else_changes() {
    let mut e = stressed();
    ok(&mut e, 3_000, shutdown());
    let t = 4_000;
    let lender = LENDER;
    for cmd in [
        Command::Withdraw {
            account: lender,
            asset: USDC,
            amount: usdc(1),
        },
        Command::Deposit {
            account: lender,
            asset: USDC,
            amount: usdc(1),
        },
        Command::Borrow {
            account: lender,
            amount: usdc(1),
        },
        Command::Fill {
            market: BTC_PERP,
            taker: lender,
            maker: MAKER,
            size: Amount(1000),
            price: 30_000.0,
        },
        Command::SettleFunding { market: BTC_PERP },
        liquidate(KEEPER, AccountId(T0 + 1)),
        Command::StartAuction {
            account: AccountId(T0 + 1),
            keeper: KEEPER,
        },
        Command::RedoAuction {
            auction: ballast_engine::ids::AuctionId(0),
            keeper: KEEPER,
        },
        Command::OpenAccount {
            owner: ballast_engine::ids::OwnerId(77),
            pool: POOL,
        },
        shutdown(),
    ] {
        let r = refused(&mut e, t, cmd.clone());
        assert!(matches!(r, Reject::PoolShutDown(_)), "{cmd:?}: {r}");
    }
    // a claim is a withdrawal of what the account holds: the keeper's debt-free balance
    let have = e.state().accounts[KEEPER.idx()].quote.amount;
    let r = refused(
        &mut e,
        t,
        Command::Claim {
            account: KEEPER,
            asset: USDC,
            amount: Amount(have.0 + 1),
        },
    );
    assert!(matches!(r, Reject::ClaimExceeded { .. }), "{r}");
}

#[test]
fn claims_need_a_shutdown_and_only_the_governor_shuts_down() {
    let mut e = world(params(Mechanism::KeeperTakeover), 1, |_| 1_000);
    let r = refused(
        &mut e,
        1,
        Command::Claim {
            account: LENDER,
            asset: USDC,
            amount: usdc(1),
        },
    );
    assert!(matches!(r, Reject::NotShutDown(_)), "{r}");
    let r = refused(
        &mut e,
        1,
        Command::Shutdown {
            role: Role::Guardian,
            pool: POOL,
        },
    );
    assert!(matches!(r, Reject::Unauthorized { .. }), "{r}");
    // a healthy pool settles with no haircut: every claim is the account's equity
    open_longs(&mut e, 1, 0.01);
    let eq_before: Vec<i64> = (0..e.state().accounts.len())
        .map(|i| {
            let b = e
                .breakdown(AccountId(i as u32), ballast_engine::HealthKind::Maintenance)
                .unwrap();
            ((b.collateral.0 + b.unrealized_pnl.0) / 1_000_000_000_000) as i64
        })
        .collect();
    ok(&mut e, 2, shutdown());
    for (i, eq) in eq_before.iter().enumerate() {
        let q = e.state().accounts[i].quote.amount.0;
        assert!((q - eq).abs() <= 1, "account {i}: claim {q} vs equity {eq}");
    }
    assert_claims_cover_assets(&e);
}
