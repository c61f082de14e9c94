//! Property tests over random liquidation sequences (price paths, fills, keeper takeovers,
//! auction starts, takes at random limits, resets, time passing), under random parameters and
//! either mechanism. After every command: value is conserved; a refused command changes
//! nothing; a solvent account is never left below the target health unless a cap stopped the
//! step, and never loses health; ADL never touches the bankrupt account's side; the second
//! pool's fund and accounts never change; replaying the commands gives the same state. Finally, shutdown leaves claims + pool buckets equal
//! to the assets held, and each account can withdraw exactly its claim.

mod liqkit;

use ballast_engine::command::Command;
use ballast_engine::demo::{self, BTC, BTC_PERP, ETH, ETH_PERP, POOL, USDC};
use ballast_engine::event::Event;
use ballast_engine::ids::{AccountId, AuctionId, MarketId, OwnerId, PoolId};
use ballast_engine::num::{Amount, Ratio, Round, Value};
use ballast_engine::params::{AuctionCurve, LiquidationParams, Mechanism};
use ballast_engine::state::{Account, Lot};
use ballast_engine::{Engine, HealthKind, Role};
use liqkit::*;
use proptest::prelude::*;

const TRADERS: u32 = 6;

#[derive(Debug, Clone)]
enum Op {
    Price(bool, f64),
    Fill(bool, u32, i64, f64),
    Liquidate(u32, bool, Option<i64>),
    Worst,
    Start(u32),
    Take(u32, u32, i64, f64),
    Redo(u32),
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (any::<bool>(), prop_oneof![3 => 0.95..1.0f64, 2 => 1.0..1.05f64, 1 => 0.8..1.2f64]).prop_map(|(a, f)| Op::Price(a, f)),
        2 => (any::<bool>(), 0..TRADERS, -40_000_000i64..40_000_000, 0.98..1.02f64)
            .prop_map(|(m, t, s, f)| Op::Fill(m, t, s, f)),
        3 => (0..TRADERS + T0, any::<bool>(), proptest::option::of(1..100_000_000i64))
            .prop_map(|(a, k, m)| Op::Liquidate(a, k, m)),
        5 => Just(Op::Worst),
        4 => (0..TRADERS + T0).prop_map(Op::Start),
        3 => (0..8u32, 0..T0 + TRADERS, 1..200_000_000i64, 0.0001..1.6f64)
            .prop_map(|(a, b, m, f)| Op::Take(a, b, m, f)),
        1 => (0..8u32).prop_map(Op::Redo),
        2 => (0..3_600_000i64).prop_map(Op::Wait),
    ]
}

fn liq_params() -> impl Strategy<Value = LiquidationParams> {
    (
        any::<bool>(),
        0..3u8,
        prop_oneof![Just(1.0), 0.2..1.0f64],
        0.0..0.3f64,
        0.0..0.6f64,
        0.0..0.5f64,
        0.0..1.0f64,
    )
        .prop_map(|(auction, curve, cf, buffer, cusp, floor, fee_share)| {
            let mut p = LiquidationParams {
                mechanism: if auction {
                    Mechanism::DutchAuction
                } else {
                    Mechanism::KeeperTakeover
                },
                ..LiquidationParams::default()
            };
            let r = |x: f64| Ratio::from_f64(x).unwrap();
            p.auction_curve = [
                AuctionCurve::Linear,
                AuctionCurve::Stairstep,
                AuctionCurve::Exponential,
            ][curve as usize];
            p.close_factor = r(cf);
            p.target_buffer = r(buffer);
            p.auction_cusp = r(cusp);
            p.auction_floor = r(floor);
            p.insurance_fee_share = r(fee_share);
            p.dust = 50_000_000;
            p
        })
}

/// `levs` are fractions of the largest position initial margin allows (sign = side).
fn setup(p: LiquidationParams, margins: &[i64], levs: &[f64]) -> Engine {
    let mut e = world(p, TRADERS, |i| margins[i as usize]);
    // a borrower against BTC collateral
    let b = AccountId(T0 + TRADERS - 1);
    ok(
        &mut e,
        0,
        Command::Deposit {
            account: b,
            asset: BTC,
            amount: Amount(50_000_000),
        },
    );
    ok(
        &mut e,
        0,
        Command::Borrow {
            account: b,
            amount: usdc(20_000),
        },
    );
    for (i, lev) in levs.iter().enumerate() {
        let m = if i % 2 == 0 { BTC_PERP } else { ETH_PERP };
        let px = if m == BTC_PERP { 65_000.0 } else { 3_000.0 };
        // quote-native units per base-native unit
        let unit = if m == BTC_PERP { 650.0 } else { 3.0 };
        let s = &((lev * margins[i] as f64 * 1e6 / (0.102 * unit)) as i64);
        ok(
            &mut e,
            0,
            Command::Fill {
                market: m,
                taker: AccountId(T0 + i as u32),
                maker: MAKER,
                size: Amount(*s),
                price: px,
            },
        );
    }
    // a second pool with a trader, a maker and a lender that nothing here may touch
    let g = Role::Governor;
    ok(
        &mut e,
        0,
        Command::CreatePool {
            role: g,
            name: "other".into(),
            quote: USDC,
            params: demo::pool_params(),
        },
    );
    ok(
        &mut e,
        0,
        Command::CreateMarket {
            role: g,
            symbol: "BTC-2".into(),
            pool: PoolId(1),
            base: BTC,
            params: demo::market_params(),
        },
    );
    let first = e.state().accounts.len() as u32;
    for i in 0..3 {
        ok(
            &mut e,
            0,
            Command::OpenAccount {
                owner: OwnerId(900 + i),
                pool: PoolId(1),
            },
        );
        deposit(
            &mut e,
            0,
            AccountId(first + i),
            usdc([1_000_000, 1_000_000, 7_000][i as usize]),
        );
    }
    fill(
        &mut e,
        0,
        MarketId(2),
        AccountId(first + 2),
        AccountId(first + 1),
        100_000_000,
        65_000.0,
    );
    e
}

fn human(e: &Engine, a: ballast_engine::ids::AssetId) -> f64 {
    let st = e.state();
    st.assets[a.idx()]
        .price
        .unwrap()
        .to_human(st.assets[a.idx()].decimals, 6)
}

fn command(e: &Engine, op: &Op) -> Command {
    // mostly running auctions, sometimes any id (finished or unknown)
    let active = &e.state().pools[0].liquidation.active;
    let n_auctions = e.state().auctions.len() as u32;
    let auction = |k: u32| {
        if !active.is_empty() && k < 7 {
            active[k as usize % active.len()].1
        } else {
            AuctionId(k.min(n_auctions))
        }
    };
    match *op {
        Op::Price(btc, f) => {
            let a = if btc { BTC } else { ETH };
            Command::SetPrice {
                asset: a,
                price: human(e, a) * f,
            }
        }
        Op::Fill(btc, t, s, f) => {
            let (m, a) = if btc {
                (BTC_PERP, BTC)
            } else {
                (ETH_PERP, ETH)
            };
            Command::Fill {
                market: m,
                taker: AccountId(T0 + t),
                maker: MAKER,
                size: Amount(s),
                price: human(e, a) * f,
            }
        }
        Op::Liquidate(a, keeper, max) => Command::Liquidate {
            liquidator: if keeper { KEEPER } else { MAKER },
            account: AccountId(a),
            market: None,
            max_size: max.map(Amount),
        },
        Op::Worst => unreachable!(),
        Op::Start(a) => Command::StartAuction {
            account: AccountId(a),
            keeper: KEEPER,
        },
        Op::Take(k, b, m, f) => {
            let id = auction(k);
            let asset = e
                .state()
                .auctions
                .get(id.idx())
                .map(|x| match x.lot {
                    Lot::Perp(m) => e.state().markets[m.idx()].base,
                    Lot::Collateral(a) => a,
                    Lot::Option(s) => e.state().series[s.idx()].underlying,
                })
                .unwrap_or(BTC);
            Command::TakeAuction {
                auction: id,
                bidder: AccountId(b),
                max_amount: Amount(m),
                price_limit: human(e, asset) * f,
            }
        }
        Op::Redo(k) => Command::RedoAuction {
            auction: auction(k),
            keeper: KEEPER,
        },
        Op::Wait(_) => unreachable!(),
    }
}

fn equity(e: &Engine, a: AccountId) -> Value {
    let b = e.breakdown(a, HealthKind::Maintenance).unwrap();
    // weighted equity: collateral (haircut) + PnL
    b.collateral.checked_add(b.unrealized_pnl).unwrap()
}

fn pool1(e: &Engine) -> (ballast_engine::state::Pool, Vec<Account>) {
    let st = e.state();
    (
        st.pools[1].clone(),
        st.accounts
            .iter()
            .filter(|a| a.pool == PoolId(1))
            .cloned()
            .collect(),
    )
}

/// Applies one op; checks every per-command property; records the command in `log`.
/// Returns whether it was accepted.
fn step(
    e: &mut Engine,
    t: &mut i64,
    op: &Op,
    p: &LiquidationParams,
    log: &mut Vec<ballast_engine::command::Envelope>,
) -> bool {
    let cmd = match op {
        Op::Wait(dt) => {
            *t += dt;
            return false;
        }
        Op::Worst => {
            let q = e.liquidation_queue();
            match q
                .iter()
                .find(|w| e.state().accounts[w.account.idx()].pool == POOL)
            {
                Some(w) if p.mechanism == Mechanism::DutchAuction => Command::StartAuction {
                    account: w.account,
                    keeper: KEEPER,
                },
                Some(w) => liquidate(KEEPER, w.account),
                None => return false,
            }
        }
        _ => command(e, op),
    };
    let q = e.liquidation_queue();
    assert!(q
        .windows(2)
        .all(|w| (w[0].severity, w[0].account) <= (w[1].severity, w[1].account)));
    let before = e.clone();
    let hash = e.state_hash();
    let other = pool1(e);
    match e.apply(&at(*t, cmd.clone())) {
        Err(_) => {
            assert_eq!(hash, e.state_hash(), "refused {cmd:?} changed the state");
            false
        }
        Ok(ev) => {
            log.push(at(*t, cmd.clone()));
            assert_conserved(e);
            assert_eq!(pool1(e), other, "{cmd:?} touched the other pool");
            assert_waterfall_adds_up(&ev);
            for x in &ev {
                match x {
                    Event::Liquidated {
                        account,
                        lot,
                        health_before,
                        health_after,
                        ..
                    } => {
                        let solvent = equity(&before, *account).0 > 0;
                        if solvent {
                            assert!(
                                health_after.0 >= health_before.0,
                                "a solvent account lost health: {x:?}"
                            );
                            let uncapped = p.close_factor == Ratio::ONE
                                && matches!(cmd, Command::Liquidate { max_size: None, .. });
                            let still_holds = match lot {
                                Lot::Perp(m) => {
                                    e.state().accounts[account.idx()].position(*m).is_some()
                                }
                                Lot::Collateral(a) => {
                                    e.state().accounts[account.idx()].collateral_amount(*a).0 > 0
                                }
                                Lot::Option(s) => e.state().accounts[account.idx()]
                                    .options
                                    .iter()
                                    .any(|o| o.series == *s),
                            };
                            if uncapped && still_holds {
                                let b = e.breakdown(*account, HealthKind::Maintenance).unwrap();
                                let target = b
                                    .requirement
                                    .mul_ratio(p.target_buffer, Round::Down)
                                    .unwrap();
                                assert!(
                                    b.health >= target,
                                    "left below target: {:?} < {:?} after {x:?}",
                                    b.health,
                                    target
                                );
                            }
                        }
                    }
                    Event::Deleveraged {
                        account,
                        bankrupt,
                        market,
                        ..
                    } => {
                        let side = |a: &AccountId| {
                            before.state().accounts[a.idx()]
                                .position(*market)
                                .map(|p| p.size.0.signum())
                                .unwrap_or(0)
                        };
                        assert_eq!(
                            side(account),
                            -side(bankrupt),
                            "ADL on the same side: {x:?}"
                        );
                    }
                    _ => {}
                }
            }
            true
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn liquidations_conserve_value_and_keep_their_promises(
        p in liq_params(),
        margins in proptest::collection::vec(1_000i64..20_000, TRADERS as usize),
        levs in proptest::collection::vec(prop_oneof![-0.98..-0.7f64, 0.7..0.98f64], TRADERS as usize),
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        let mut e = setup(p, &margins, &levs);
        let mut t = 1;
        let mut log = Vec::new();
        for op in &ops {
            step(&mut e, &mut t, op, &p, &mut log);
        }
        // replay equals live
        let mut r = setup(p, &margins, &levs);
        for env in &log {
            // only accepted commands are logged: each must be accepted again
            prop_assert!(r.apply(env).is_ok(), "replay refused {:?}", env);
        }
        prop_assert_eq!(r.state_hash(), e.state_hash());
        // the canonical form round-trips (auctions, liquidation state included)
        let json = serde_json::to_string(e.state()).unwrap();
        let back: ballast_engine::state::State = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.hash(), e.state_hash());
        // emergency shutdown: claims + buckets = assets held, claims exact
        let mut out = Vec::new();
        e.apply_into(&at(t, Command::Shutdown { role: Role::Governor, pool: POOL }), &mut out).unwrap();
        assert_conserved(&e);
        let st = e.state();
        let pl = &st.pools[0];
        let claims: i128 = st.accounts.iter().filter(|a| a.pool == POOL).map(|a| {
            assert!(a.positions.is_empty() && a.quote.amount.0 >= 0);
            a.quote.amount.0 as i128
        }).sum();
        let other: i128 = st.accounts.iter().filter(|a| a.pool != POOL).map(|a| a.quote.amount.0 as i128
            + a.positions.iter().map(|p| p.quote.0 as i128).sum::<i128>()).sum::<i128>()
            + st.pools.iter().skip(1).map(|p| p.insurance_fund.0 as i128 + p.fee_account.0 as i128
                + p.lending.interest_clearing.0 as i128 - p.bad_debt.0 as i128).sum::<i128>()
            + st.markets.iter().filter(|m| m.pool != POOL).map(|m| m.funding_clearing.0 as i128).sum::<i128>();
        let buckets = pl.insurance_fund.0 as i128 + pl.fee_account.0 as i128
            + pl.lending.interest_clearing.0 as i128 - pl.bad_debt.0 as i128
            + st.markets.iter().filter(|m| m.pool == POOL).map(|m| m.funding_clearing.0 as i128).sum::<i128>();
        prop_assert_eq!(claims + buckets + other, st.assets[USDC.idx()].net_deposits);
        // frozen: every command on the pool but a claim is refused and changes nothing
        for op in ops.iter().take(12) {
            if matches!(op, Op::Wait(_) | Op::Worst | Op::Price(..)) {
                continue;
            }
            let cmd = command(&e, op);
            let h = e.state_hash();
            let r = e.apply(&at(t, cmd.clone()));
            prop_assert!(
                matches!(r, Err(ballast_engine::Reject::PoolShutDown(_))),
                "{:?} after shutdown: {:?}", cmd, r
            );
            prop_assert_eq!(h, e.state_hash());
        }
        let st = e.state();
        let n = st.accounts.len();
        for i in 0..n {
            let a = AccountId(i as u32);
            if e.state().accounts[i].pool != POOL {
                continue;
            }
            let have = e.state().accounts[i].quote.amount;
            let too_much = Command::Claim { account: a, asset: USDC, amount: Amount(have.0 + 1) };
            let h = e.state_hash();
            prop_assert!(e.apply(&at(t, too_much)).is_err());
            prop_assert_eq!(h, e.state_hash());
            if have.0 > 0 {
                e.apply(&at(t, Command::Claim { account: a, asset: USDC, amount: have })).unwrap();
            }
        }
        assert_conserved(&e);
    }
}

/// Every deficit a command reports is covered by insurance, ADL haircuts, socialization and
/// recognised bad debt: exactly, up to the rounding of the ADL trades' settlement (at most one
/// native unit per trade, either way; value stays conserved, which `assert_conserved` checks).
fn assert_waterfall_adds_up(ev: &[Event]) {
    let (mut deficit, mut covered, mut trades) = (0i128, 0i128, 0i128);
    for x in ev {
        match x {
            Event::Bankrupt { deficit: d, .. } => deficit += d.0 as i128,
            Event::InsuranceDrawn { amount, .. }
            | Event::LossSocialized { amount, .. }
            | Event::BadDebt { amount, .. } => covered += amount.0 as i128,
            Event::Deleveraged { haircut, .. } => {
                covered += haircut.0 as i128;
                trades += 1;
            }
            _ => {}
        }
    }
    let extra = covered - deficit;
    assert!(
        extra.abs() <= trades,
        "the waterfall does not add up (covered − deficit = {extra}, {trades} ADL trades): {ev:?}"
    );
}
