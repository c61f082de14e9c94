//! Engine-level ablations: small journals built for the failure one defence prevents, run
//! with that defence on and off (and nothing else changed). Each asserts the loss it saves, by
//! a stated margin derived from the journal, and that with it on the loss is what the rest of
//! the design leaves. docs/ablations.md lists which defences are ablated here, in the lab, or
//! shown to have no effect an engine journal can show.
//!
//! "Loss" is what a bankruptcy leaves to others after the account's own equity: the part the
//! insurance fund does not cover, taken from opposite traders (ADL haircuts), from depositors
//! (socialized) or recognised as bad debt — the waterfall of Mango v4 / Drift v2.

mod liqkit;

use ballast_engine::command::Command;
use ballast_engine::demo::{BTC, BTC_PERP, POOL};
use ballast_engine::event::Event;
use ballast_engine::ids::{AccountId, ProposalId};
use ballast_engine::num::{Ratio, RATIO_SCALE};
use ballast_engine::params::{LiquidationParams, MarketField, Mechanism, ParamKey};
use ballast_engine::{Engine, Reject, Role};
use liqkit::*;

/// A bankruptcy's waterfall, quote-native units.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Waterfall {
    deficit: i128,
    insurance: i128,
    /// ADL haircuts + socialized + bad debt.
    beyond_insurance: i128,
}

fn waterfall(ev: &[Event]) -> Waterfall {
    let mut w = Waterfall::default();
    for x in ev {
        match x {
            Event::Bankrupt { deficit, .. } => w.deficit += deficit.0 as i128,
            Event::InsuranceDrawn { amount, .. } => w.insurance += amount.0 as i128,
            Event::Deleveraged { haircut, .. } => w.beyond_insurance += haircut.0 as i128,
            Event::LossSocialized { amount, .. } | Event::BadDebt { amount, .. } => {
                w.beyond_insurance += amount.0 as i128
            }
            _ => {}
        }
    }
    assert_eq!(
        w.insurance + w.beyond_insurance,
        w.deficit,
        "the waterfall covers the deficit: {w:?}"
    );
    w
}

fn insurance(e: &Engine) -> i128 {
    pool_of(e, POOL).insurance_fund.0 as i128
}

// ----- insurance fee share -------------------------------------------------------------------

/// Four traders churn 1 BTC round trips against the maker (fees, no risk left), then one more
/// goes long 1 BTC on 7,000 USDC and BTC falls to 55,000: a deficit of about 3,000 USDC.
fn churn_then_crash(share: Ratio) -> (Engine, Waterfall) {
    let p = LiquidationParams {
        insurance_fee_share: share,
        ..params(Mechanism::KeeperTakeover)
    };
    let mut e = world(p, 5, |_| 7_000);
    for i in 0..4 {
        let a = AccountId(T0 + i);
        fill(&mut e, 0, BTC_PERP, a, MAKER, btc_units(1.0), 65_000.0);
        fill(&mut e, 0, BTC_PERP, a, MAKER, -btc_units(1.0), 65_000.0);
    }
    fill(
        &mut e,
        0,
        BTC_PERP,
        AccountId(T0 + 4),
        MAKER,
        btc_units(1.0),
        65_000.0,
    );
    set_price(&mut e, 1, BTC, 55_000.0);
    let ev = ok(&mut e, 1, liquidate(KEEPER, AccountId(T0 + 4)));
    (e.clone(), waterfall(&ev))
}

#[test]
fn insurance_fee_share_takes_a_deficit_off_the_other_traders() {
    let (e_on, on) = churn_then_crash(Ratio(RATIO_SCALE));
    let (e_off, off) = churn_then_crash(Ratio(0));
    println!("fee share on: {on:?}; off: {off:?}");
    assert_eq!(on.deficit, off.deficit, "the same bankruptcy");
    assert!(on.deficit > 0);
    assert_eq!(off.insurance, 0, "without the share the fund is empty");
    // the fund held exactly the fees routed to it, and drew all of it (deficit > fees)
    let routed = on.insurance + insurance(&e_on);
    assert!(routed > 0 && insurance(&e_off) == 0);
    assert!(
        on.deficit > routed,
        "deficit {} > fees {routed}",
        on.deficit
    );
    assert_eq!(on.insurance, routed);
    // 9 fills of 1 BTC at 65,000, each paying the taker and the maker fee, all routed
    let m = &e_on.state().markets[BTC_PERP.idx()].params;
    let per_fill =
        65_000 * 1_000_000 * (m.taker_fee.0 + m.maker_fee.0) as i128 / RATIO_SCALE as i128;
    assert_eq!(routed, 9 * per_fill, "{routed} vs 9 × {per_fill}");
    // turning the share off moves exactly those fees' worth of loss onto the others
    assert_eq!(off.beyond_insurance - on.beyond_insurance, routed);
}

// ----- open-interest caps --------------------------------------------------------------------

/// Sets BTC-PERP fields through governance (proposed at 0, executed after the timelock);
/// returns the time they took effect.
fn govern(e: &mut Engine, fields: &[(MarketField, i64)]) -> i64 {
    let tl = e.state().governance.timelock_ms;
    for &(field, value) in fields {
        let key = ParamKey::Market {
            market: BTC_PERP,
            field,
        };
        ok(
            e,
            0,
            Command::Propose {
                role: Role::Governor,
                key,
                value,
            },
        );
    }
    for p in 0..fields.len() as u32 {
        ok(
            e,
            tl,
            Command::Execute {
                role: Role::Governor,
                proposal: ProposalId(p),
            },
        );
    }
    tl
}

/// A whale with 40,000 USDC buys BTC-PERP in 0.5 BTC clips at 65,000 until refused, then BTC
/// falls to 40,000 and a keeper liquidates it (Hyperliquid and GMX cap open interest per
/// market). `cap`: the market's OI cap in BTC (None: off).
/// Returns the whale's size, the refusal that stopped it, and the waterfall.
/// `share`: the largest share of the cap one account may hold (None: the 100 % default).
fn whale(cap: Option<f64>, share: Option<f64>) -> (i64, Reject, Waterfall) {
    let mut e = world(params(Mechanism::KeeperTakeover), 1, |_| 40_000);
    let mut fields = Vec::new();
    if let Some(c) = cap {
        fields.push((MarketField::MaxOpenInterest, btc_units(c)));
    }
    if let Some(s) = share {
        fields.push((
            MarketField::MaxAccountOiShare,
            (s * RATIO_SCALE as f64) as i64,
        ));
    }
    let t = govern(&mut e, &fields);
    let w = AccountId(T0);
    let clip = btc_units(0.5);
    let refusal = loop {
        let cmd = Command::Fill {
            market: BTC_PERP,
            taker: w,
            maker: MAKER,
            size: ballast_engine::num::Amount(clip),
            price: 65_000.0,
        };
        match e.apply(&at(t, cmd)) {
            Ok(_) => assert_conserved(&e),
            Err(r) => break r,
        }
    };
    let size = e.state().accounts[w.idx()]
        .positions
        .iter()
        .map(|p| p.size.0)
        .sum::<i64>();
    set_price(&mut e, t + 1, BTC, 40_000.0);
    let ev = ok(&mut e, t + 1, liquidate(KEEPER, w));
    (size, refusal, waterfall(&ev))
}

#[test]
fn open_interest_cap_bounds_a_whales_bad_debt() {
    let (size_off, why_off, off) = whale(None, None);
    let (size_on, why_on, on) = whale(Some(2.0), None);
    println!("OI cap off: {size_off} ({why_off}) {off:?}; on: {size_on} ({why_on}) {on:?}");
    assert!(
        matches!(why_off, Reject::InsufficientMargin { .. }),
        "{why_off:?}"
    );
    assert!(
        matches!(why_on, Reject::OpenInterestCap { .. }),
        "{why_on:?}"
    );
    assert_eq!(size_on, btc_units(2.0), "stopped at the cap");
    assert!(size_off >= btc_units(4.0), "margin alone allows {size_off}");
    // each BTC beyond the cap loses 25,000 USDC past the whale's equity: the deficit grows by
    // at least that (more: the extra clips' fees)
    let extra_btc = (size_off - size_on) as i128 / 100_000_000;
    assert!(on.deficit > 0, "{on:?}");
    assert!(
        off.deficit - on.deficit >= extra_btc * 25_000 * 1_000_000,
        "{} vs {extra_btc} × 25,000",
        off.deficit - on.deficit
    );
}

#[test]
fn account_share_of_the_cap_bounds_one_account() {
    // a 5 BTC market cap; one account may hold 90 % of it (one governed step below the
    // default), or (off) all of it
    let (size_off, why_off, off) = whale(Some(5.0), None);
    let (size_on, why_on, on) = whale(Some(5.0), Some(0.9));
    println!("account share off: {size_off} {off:?}; on: {size_on} {on:?}");
    assert!(
        matches!(why_off, Reject::OpenInterestCap { .. }),
        "{why_off:?}"
    );
    assert!(
        matches!(why_on, Reject::AccountOpenInterestCap { .. }),
        "{why_on:?}"
    );
    // 0.5 BTC clips: 5 BTC at the market cap, 4.5 BTC within 90 % of it
    assert_eq!((size_off, size_on), (btc_units(5.0), btc_units(4.5)));
    assert!(on.deficit > 0, "{on:?}");
    assert!(
        off.deficit - on.deficit >= 25_000 * 1_000_000 / 2,
        "{} for 0.5 BTC more",
        off.deficit - on.deficit
    );
}

// ----- close factor --------------------------------------------------------------------------

/// A trader long 1 BTC on 7,000 USDC just below maintenance at 60,900; a keeper liquidates
/// until refused. A target buffer of 50 % asks for more than a 25 % close factor allows. The
/// loss here is the trader's: the penalty paid and the position taken from it (Aave's close
/// factor limits what one liquidation may take from a borrower).
fn keeper_until_refused(close_factor: Ratio) -> (i128, i64) {
    let p = LiquidationParams {
        close_factor,
        target_buffer: Ratio(500_000_000),
        ..params(Mechanism::KeeperTakeover)
    };
    let mut e = world(p, 1, |_| 7_000);
    open_longs(&mut e, 1, 1.0);
    set_price(&mut e, 1, BTC, 60_900.0);
    let a = AccountId(T0);
    let (mut penalty, mut taken) = (0i128, 0i64);
    for step in 0..20 {
        match e.apply(&at(1 + step, liquidate(KEEPER, a))) {
            Ok(ev) => {
                assert_conserved(&e);
                for x in &ev {
                    if let Event::Liquidated {
                        size, penalty: p, ..
                    } = x
                    {
                        penalty += p.0 as i128;
                        taken += size.0.abs();
                    }
                }
            }
            Err(r) => {
                assert!(matches!(r, Reject::NotLiquidatable { .. }), "{r:?}");
                assert!(step > 0, "liquidated at least once");
                return (penalty, taken);
            }
        }
    }
    panic!("still liquidatable after 20 steps");
}

#[test]
fn close_factor_limits_what_a_keeper_takes_from_a_trader() {
    let (pen_on, taken_on) = keeper_until_refused(Ratio(250_000_000));
    let (pen_off, taken_off) = keeper_until_refused(Ratio(RATIO_SCALE));
    println!("close factor on: penalty {pen_on}, taken {taken_on}; off: {pen_off}, {taken_off}");
    // one 25 % step restores maintenance; without the factor the target takes far more
    assert_eq!(taken_on, btc_units(0.25));
    assert!(taken_off >= 2 * taken_on, "{taken_off}");
    // the penalty is 2 % of what is taken near the boundary: the extra size's penalty at least
    let extra_value = (taken_off - taken_on) as i128 * 60_900 / 100;
    assert!(
        pen_off - pen_on >= extra_value * 2 / 100,
        "{pen_off} − {pen_on} vs 2 % of {extra_value}"
    );
}

// ----- pool outflow limiter ------------------------------------------------------------------

/// The attacker's USDC taken out and the waterfall: it deposits 1 BTC, the (single) price is
/// pushed to 650,000, it borrows (and so takes out) 250,000 USDC at a time, halving the amount
/// whenever margin or the pool refuses, down to 1,000; the price returns to 65,000 and a keeper
/// liquidates
/// (Aave/Euler-style pool outflow limits: a manipulated price can only drain the buffer).
fn drain(limiter: bool) -> (i128, Waterfall) {
    use ballast_engine::command::Scope;
    use ballast_oracle::breaker::{BreakerConfig, FlowLimiterConfig};
    let mut e = world(params(Mechanism::KeeperTakeover), 1, |_| 0);
    let a = AccountId(T0);
    if limiter {
        let outflow = FlowLimiterConfig {
            main_capacity: 100_000.0,
            main_refill_ms: 24 * 3_600_000,
            elastic_decay_ms: 3_600_000,
            resume_fraction: 0.5,
        };
        let config = BreakerConfig {
            outflow: Some(outflow),
            ..BreakerConfig::default()
        };
        let scope = Scope::Pool(POOL);
        ok(
            &mut e,
            0,
            Command::ConfigureBreaker {
                role: Role::Governor,
                scope,
                config,
            },
        );
    }
    ok(
        &mut e,
        0,
        Command::Deposit {
            account: a,
            asset: BTC,
            amount: ballast_engine::demo::btc(1.0),
        },
    );
    set_price(&mut e, 1, BTC, 650_000.0);
    let (mut want, mut out) = (usdc(250_000).0, 0i128);
    while want >= usdc(1_000).0 {
        let cmd = Command::Borrow {
            account: a,
            amount: ballast_engine::num::Amount(want),
        };
        match e.apply(&at(1, cmd)) {
            Ok(_) => {
                out += want as i128;
                assert_conserved(&e);
            }
            Err(Reject::OutflowLimited { .. } | Reject::InsufficientMargin { .. }) => want /= 2,
            Err(r) => panic!("borrow refused otherwise: {r:?}"),
        }
    }
    set_price(&mut e, 2, BTC, 65_000.0);
    let ev = ok(&mut e, 2, liquidate(KEEPER, a));
    (out, waterfall(&ev))
}

#[test]
fn outflow_limiter_caps_what_a_manipulated_price_drains() {
    let (out_off, off) = drain(false);
    let (out_on, on) = drain(true);
    println!("limiter off: took out {out_off}, {off:?}; on: took out {out_on}, {on:?}");
    // the buffer: 100,000 of main capacity plus the elastic credit of the 1 BTC deposited at
    // 65,000 (ERC-7265: inflows extend the buffer)
    assert!(
        out_on <= usdc(165_000).0 as i128,
        "within the buffer: {out_on}"
    );
    assert!(out_off >= 3 * out_on, "margin alone allows {out_off}");
    // each USDC the limiter kept in the pool is one the bankrupt account does not owe
    assert_eq!(off.deficit - on.deficit, out_off - out_on);
}
