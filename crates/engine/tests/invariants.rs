//! Property tests over random command sequences: value is conserved after every command, a
//! rejected command leaves the state hash unchanged, a replayed journal reproduces the live
//! state hash, and the liquidation index agrees with a full scan.

mod common;
mod tally;

use ballast_engine::command::{Command, Envelope, Scope};
use ballast_engine::demo::{BTC, BTC_PERP, ETH, ETH_PERP, POOL, USDC};
use ballast_engine::event::Event;
use ballast_engine::ids::{AccountId, AssetId, MarketId, ProposalId, SeriesId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::params::{CollateralField, MarketField, ParamKey, PoolField};
use ballast_engine::{journal, Engine, Role};
use ballast_options::pricing::OptionKind;
use common::*;
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use tally::Tally;

const ACCOUNTS: u32 = 6;
const HOUR: i64 = 3_600_000;

/// A command template; prices are relative to the current index so fills mostly land in band.
#[derive(Debug, Clone)]
enum Op {
    Deposit(u32, u8, i64),
    Withdraw(u32, u8, i64),
    Borrow(u32, i64),
    Transfer(u32, u8, i64),
    Price(u8, f64),
    BadPrice(u8, u8),
    Fill(u8, u32, u32, i64, f64),
    Funding(u8),
    Propose(u8, i64),
    Execute(u32),
    Pause(bool),
    /// List a series on BTC (`true`) or ETH at `strike_factor` × spot, expiring in `hours`.
    ListSeries(bool, bool, f64, i64),
    Surface(u8, f64),
    /// Series pick, taker, maker, signed size, premium factor.
    OptionFill(u32, u32, u32, i64, f64),
    Expire(u32),
    Settle(u32),
    Liquidate(u32, u32),
    /// Shutdown of pool `k` (only 0 exists): rare, since it freezes the rest of the sequence.
    Shutdown(u8),
    /// Claim a fraction of what the account holds in an asset (above 1: more than its claim).
    Claim(u32, u8, f64),
}

fn asset(i: u8) -> AssetId {
    [USDC, BTC, ETH][i as usize % 3]
}

/// A positive i64 drawn log-uniformly up to `i64::MAX`: every power of two is as likely as any
/// other, so values near the type limit (where products overflow) are reached as often as small
/// ones.
fn log_uniform() -> impl Strategy<Value = i64> {
    (0..63u32, any::<u64>()).prop_map(|(bits, m)| {
        let lo = 1i64 << bits;
        let span = if bits == 62 { i64::MAX - lo } else { lo };
        lo + (m % span.max(1) as u64) as i64
    })
}

/// An amount: mostly realistic, a quarter of the time log-uniform up to the type limit.
fn amount(realistic: i64) -> impl Strategy<Value = i64> {
    prop_oneof![3 => 1..realistic, 1 => log_uniform()]
}

/// A signed perp size: mostly realistic, sometimes log-uniform up to the type limit.
fn size() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -300_000_000i64..300_000_000,
        4 => -3_000_000i64..3_000_000,
        2 => (log_uniform(), any::<bool>()).prop_map(|(x, neg)| if neg { -x } else { x }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let acct = 0..ACCOUNTS + 1; // one past the end: an unknown account
    prop_oneof![
        4 => (acct.clone(), 0..3u8, prop_oneof![1 => amount(2_000_000_000_000), 1 => amount(20_000_000_000)]).prop_map(|(a, s, x)| Op::Deposit(a, s, x)),
        2 => (acct.clone(), 0..3u8, amount(500_000_000_000)).prop_map(|(a, s, x)| Op::Withdraw(a, s, x)),
        1 => (acct.clone(), amount(200_000_000_000)).prop_map(|(a, x)| Op::Borrow(a, x)),
        1 => (acct.clone(), 0..3u8, amount(100_000_000_000)).prop_map(|(a, s, x)| Op::Transfer(a, s, x)),
        6 => (1..3u8, prop_oneof![8 => 0.85..1.15f64, 1 => 1e-6..1e6f64]).prop_map(|(s, f)| Op::Price(s, f)),
        1 => (0..4u8, 0..4u8).prop_map(|(s, k)| Op::BadPrice(s, k)),
        6 => (0..7u8, acct.clone(), acct.clone(), size(), 0.97..1.03f64)
            .prop_map(|(m, t, k, s, f)| Op::Fill(m, t, k, s, f)),
        1 => (0..2u8).prop_map(Op::Funding),
        1 => (0..4u8, -60_000_000i64..60_000_000).prop_map(|(f, d)| Op::Propose(f, d)),
        1 => (0..4u32).prop_map(Op::Execute),
        1 => any::<bool>().prop_map(Op::Pause),
        3 => (any::<bool>(), any::<bool>(), 0.7..1.3f64, prop_oneof![2 => 1..48i64, 2 => 48..2_000i64, 1 => -2..1i64])
            .prop_map(|(b, c, k, h)| Op::ListSeries(b, c, k, h)),
        1 => (1..3u8, prop_oneof![4 => 0.3..1.5f64, 1 => 1.5..4.0f64]).prop_map(|(a, v)| Op::Surface(a, v)),
        8 => (0..8u32, acct.clone(), acct.clone(), option_size(), prop_oneof![6 => 0.5..1.5f64, 1 => 0.0..0.1f64, 1 => Just(-1.0)])
            .prop_map(|(k, t, m, s, f)| Op::OptionFill(k, t, m, s, f)),
        2 => (0..8u32).prop_map(Op::Expire),
        2 => acct.clone().prop_map(Op::Settle),
        // the account: one past the end is the head of the liquidation queue
        4 => (acct.clone(), 0..ACCOUNTS + 2).prop_map(|(l, a)| Op::Liquidate(l, a)),
        1 => (0..12u8).prop_map(Op::Shutdown),
        4 => (acct, 0..3u8, prop_oneof![3 => 0.0..1.0f64, 1 => Just(1.0), 1 => 1.0..1.5f64])
            .prop_map(|(a, s, f)| Op::Claim(a, s, f)),
    ]
}

/// A signed option size in base-native units: mostly up to ±3 whole units, sometimes near the
/// type limit.
fn option_size() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => -300_000_000i64..300_000_000,
        3 => -30_000_000i64..30_000_000,
        1 => (log_uniform(), any::<bool>()).prop_map(|(x, neg)| if neg { -x } else { x }),
    ]
}

/// The human price of an asset (1.0 when it has none yet).
fn human_price(e: &Engine, a: AssetId) -> f64 {
    let st = e.state();
    st.assets[a.idx()]
        .price
        .map(|p| p.to_human(st.assets[a.idx()].decimals, 6))
        .unwrap_or(1.0)
}

/// The option, liquidation and settlement ops; `None` for the others.
fn lifecycle_command(e: &mut Engine, now: i64, op: &Op) -> Option<Command> {
    let head = match op {
        Op::Liquidate(..) => e.liquidation_queue().first().map(|w| w.account),
        _ => None,
    };
    let e: &Engine = e;
    let st = e.state();
    // mostly a series still trading at `now`, else counted from the latest, sometimes one
    // past the end (unknown)
    let live: Vec<u32> = (0..st.series.len() as u32)
        .filter(|i| st.series[*i as usize].expiry.0 > now)
        .collect();
    let series = |k: u32| {
        let n = st.series.len() as u32;
        let back = k % (n + 1);
        match live.len() {
            l if l > 0 && k < 6 => SeriesId(live[k as usize % l]),
            _ if back == n => SeriesId(n),
            _ => SeriesId(n - 1 - back),
        }
    };
    Some(match *op {
        Op::ListSeries(on_btc, call, k, hours) => {
            let underlying = if on_btc { BTC } else { ETH };
            Command::CreateOptionSeries {
                role: Role::Governor,
                pool: POOL,
                underlying,
                kind: if call {
                    OptionKind::Call
                } else {
                    OptionKind::Put
                },
                strike: human_price(e, underlying) * k,
                expiry: Timestamp(now.saturating_add(hours * HOUR)),
            }
        }
        Op::Surface(a, vol) => Command::SetVolSurface {
            asset: asset(a),
            surface: flat(vol),
        },
        Op::OptionFill(k, taker, maker, size, f) => {
            let id = series(k);
            // near the option's value: intrinsic plus 2 % of spot, scaled by `f`
            let premium = st.series.get(id.idx()).map_or(100.0, |s| {
                let spot = human_price(e, s.underlying);
                let strike = s.strike.to_human(st.assets[s.underlying.idx()].decimals, 6);
                let intrinsic = match s.kind {
                    OptionKind::Call => (spot - strike).max(0.0),
                    OptionKind::Put => (strike - spot).max(0.0),
                };
                (intrinsic + 0.02 * spot) * f
            });
            Command::OptionFill {
                series: id,
                taker: AccountId(taker),
                maker: AccountId(maker),
                size: Amount(size),
                premium,
            }
        }
        Op::Expire(k) => Command::ExpireSeries { series: series(k) },
        Op::Settle(a) => Command::SettleOptions {
            account: AccountId(a),
        },
        Op::Liquidate(l, a) => Command::Liquidate {
            liquidator: AccountId(l),
            account: if a == ACCOUNTS + 1 {
                head.unwrap_or(AccountId(a))
            } else {
                AccountId(a)
            },
            market: None,
            max_size: None,
        },
        Op::Shutdown(k) => Command::Shutdown {
            role: Role::Governor,
            pool: ballast_engine::ids::PoolId(k.into()),
        },
        Op::Claim(a, s, f) => {
            let have = st.accounts.get(a as usize).map_or(1, |acct| {
                if asset(s) == USDC {
                    acct.quote.amount.0
                } else {
                    acct.collateral_amount(asset(s)).0
                }
            });
            Command::Claim {
                account: AccountId(a),
                asset: asset(s),
                amount: Amount((have as f64 * f) as i64),
            }
        }
        _ => return None,
    })
}

/// The command `op` stands for, applied at `now`.
fn to_command(e: &mut Engine, now: i64, op: &Op) -> Command {
    if let Some(cmd) = lifecycle_command(e, now, op) {
        return cmd;
    }
    let e: &Engine = e;
    let st = e.state();
    let price_of = |a: AssetId| human_price(e, a);
    match *op {
        Op::Deposit(a, s, x) => Command::Deposit {
            account: AccountId(a),
            asset: asset(s),
            amount: Amount(x),
        },
        Op::Withdraw(a, s, x) => Command::Withdraw {
            account: AccountId(a),
            asset: asset(s),
            amount: Amount(x),
        },
        Op::Borrow(a, x) => Command::Borrow {
            account: AccountId(a),
            amount: Amount(x),
        },
        Op::Transfer(a, s, x) => Command::Transfer {
            from: AccountId(a),
            to: AccountId(a ^ 1),
            asset: asset(s),
            amount: Amount(x),
        },
        Op::Price(s, f) => Command::SetPrice {
            asset: asset(s),
            price: price_of(asset(s)) * f,
        },
        Op::BadPrice(s, k) => Command::SetPrice {
            asset: asset(s),
            price: [f64::NAN, -1.0, 0.0, f64::INFINITY][k as usize],
        },
        Op::Fill(m, t, k, s, f) => {
            let market = [
                BTC_PERP,
                BTC_PERP,
                BTC_PERP,
                ETH_PERP,
                ETH_PERP,
                ETH_PERP,
                MarketId(9),
            ][m as usize];
            let base = if market == ETH_PERP { ETH } else { BTC };
            Command::Fill {
                market,
                taker: AccountId(t),
                maker: AccountId(k),
                size: Amount(s),
                price: price_of(base) * f,
            }
        }
        Op::Funding(m) => Command::SettleFunding {
            market: [BTC_PERP, ETH_PERP][m as usize],
        },
        Op::Propose(f, d) => {
            let (key, cur) = match f {
                0 => (
                    ParamKey::Market {
                        market: BTC_PERP,
                        field: MarketField::MaintMargin,
                    },
                    st.markets[0].params.maint_margin.0,
                ),
                1 => (
                    ParamKey::Market {
                        market: ETH_PERP,
                        field: MarketField::InitMargin,
                    },
                    st.markets[1].params.init_margin.0,
                ),
                2 => (
                    ParamKey::Pool {
                        pool: POOL,
                        field: PoolField::Slope1,
                    },
                    st.pools[0].params.curve.slope1.0,
                ),
                _ => (
                    ParamKey::Market {
                        market: BTC_PERP,
                        field: MarketField::Imf,
                    },
                    st.markets[0].params.imf.0,
                ),
            };
            Command::Propose {
                role: Role::Governor,
                key,
                value: cur + d,
            }
        }
        Op::Execute(p) => Command::Execute {
            role: Role::Governor,
            proposal: ProposalId(p),
        },
        Op::ListSeries(..)
        | Op::Surface(..)
        | Op::OptionFill(..)
        | Op::Expire(_)
        | Op::Settle(_)
        | Op::Liquidate(..)
        | Op::Shutdown(_)
        | Op::Claim(..) => unreachable!("handled by lifecycle_command"),
        Op::Pause(on) => {
            if on {
                Command::Pause {
                    role: Role::Guardian,
                    scope: Scope::Market(ETH_PERP),
                }
            } else {
                Command::Unpause {
                    role: Role::Governor,
                    scope: Scope::Market(ETH_PERP),
                }
            }
        }
    }
}

fn steps() -> impl Strategy<Value = Vec<(i64, Op)>> {
    // Mostly forward time steps up to ~1 h, sometimes a day (past short expiries), sometimes a step backwards, sometimes a gap drawn
    // log-uniformly up to the type limit (most beyond year 9999 are refused as implausible).
    let dt = prop_oneof![
        24 => 0..4_000_000i64,
        3 => 80_000_000..110_000_000i64,
        2 => -5_000i64..0,
        1 => log_uniform(),
    ];
    prop::collection::vec((dt, op()), 1..120)
}

/// What the generator reached, summed over a run: accepted commands by kind and the option,
/// liquidation and shutdown events the properties must be checked across.
#[derive(Default, Debug)]
struct Coverage {
    accepted: BTreeMap<&'static str, u32>,
    /// Refusals by command kind and the refusal's variant.
    rejected: BTreeMap<String, u32>,
    /// Liquidations, option lots, writers liquidated, bankruptcies, ADL, socialization.
    losses: LossCounts,
    /// Shutdowns accepted while some account in the pool held an unsettled option.
    shutdowns_with_open_options: u32,
    /// Claims accepted after such a shutdown.
    claims_after_option_shutdown: u32,
    /// Whether the current sequence shut down with options open.
    option_shutdown_seen: bool,
    /// Prefix replays checked against the live hash.
    replays: u32,
}

impl Coverage {
    fn accepted(&self, kind: &str) -> u32 {
        self.accepted.get(kind).copied().unwrap_or(0)
    }

    fn record(&mut self, before: &Engine, cmd: &Command, events: &[Event]) {
        *self.accepted.entry(cmd.kind()).or_default() += 1;
        self.losses.record(before, events);
        match cmd {
            Command::Shutdown { .. } if open_options(before) => {
                self.shutdowns_with_open_options += 1;
                self.option_shutdown_seen = true;
            }
            Command::Claim { .. } if self.option_shutdown_seen => {
                self.claims_after_option_shutdown += 1
            }
            _ => {}
        }
    }
}

/// Whether an account in the pool holds a position in a series not yet settled.
fn open_options(e: &Engine) -> bool {
    let st = e.state();
    st.accounts.iter().filter(|a| a.pool == POOL).any(|a| {
        a.options
            .iter()
            .any(|o| st.series[o.series.idx()].settlement.is_none())
    })
}

/// A genesis world with `ACCOUNTS` accounts, a 60 % BTC surface and two BTC series (6 h and
/// 30 h), USDC deposits from 2 M down to 1,000, and the journal that builds it.
fn option_world() -> (Engine, Vec<Envelope>) {
    let mut journal_lines: Vec<Envelope> = ballast_engine::demo::genesis(0);
    for i in 0..ACCOUNTS {
        journal_lines.push(at(
            0,
            Command::OpenAccount {
                owner: ballast_engine::ids::OwnerId(i / 2),
                pool: POOL,
            },
        ));
    }
    // two deep market makers and four traders from comfortable to thin
    for (i, x) in [2_000_000, 2_000_000, 30_000, 10_000, 3_000, 1_000]
        .iter()
        .enumerate()
    {
        journal_lines.push(at(
            0,
            Command::Deposit {
                account: AccountId(i as u32),
                asset: USDC,
                amount: Amount(x * 1_000_000),
            },
        ));
    }
    journal_lines.push(at(
        0,
        Command::SetVolSurface {
            asset: BTC,
            surface: flat(0.6),
        },
    ));
    for (kind, strike, hours) in [
        (OptionKind::Call, 66_000.0, 6),
        (OptionKind::Put, 64_000.0, 30),
    ] {
        journal_lines.push(at(
            0,
            Command::CreateOptionSeries {
                role: Role::Governor,
                pool: POOL,
                underlying: BTC,
                kind,
                strike,
                expiry: Timestamp(hours * HOUR),
            },
        ));
    }
    // the thin traders write near-the-money options, so moves make them liquidatable
    for (series, writer, size, premium) in [(0, 4, 30_000_000, 300.0), (1, 5, 10_000_000, 1_000.0)]
    {
        journal_lines.push(at(
            0,
            Command::OptionFill {
                series: SeriesId(series),
                taker: AccountId(writer),
                maker: AccountId(0),
                size: Amount(-size),
                premium,
            },
        ));
    }
    let mut e = Engine::new();
    run(&mut e, &journal_lines);
    (e, journal_lines)
}

/// Replaying `lines` from their text form reproduces `live`'s state hash.
fn assert_replays(lines: &[Envelope], live: &Engine) -> Result<(), TestCaseError> {
    let parsed = journal::parse(&journal::to_text(lines)).unwrap();
    let mut replayed = Engine::new();
    journal::replay(&mut replayed, &parsed, false);
    prop_assert_eq!(
        replayed.state_hash(),
        live.state_hash(),
        "replay of {} lines",
        lines.len()
    );
    Ok(())
}

/// The per-command properties: conservation, no negative collateral, index = scan, and after a
/// shutdown nothing left open in the pool.
fn assert_step(e: &mut Engine, cmd: &Command) -> Result<(), TestCaseError> {
    for (asset, gap) in e.conservation_gaps() {
        prop_assert_eq!(gap, 0, "asset {} not conserved after {:?}", asset, cmd);
    }
    for a in &e.state().accounts {
        for (_, amt) in &a.collateral {
            prop_assert!(amt.0 > 0);
        }
        if e.state().pools[a.pool.idx()].liquidation.shutdown.is_some() {
            prop_assert!(
                a.positions.is_empty() && a.options.is_empty(),
                "open after shutdown: {:?}",
                a
            );
        }
    }
    prop_assert_eq!(
        e.below_maintenance(),
        e.below_maintenance_scan(),
        "index ≠ scan after {:?}",
        cmd
    );
    Ok(())
}

/// The index finds what a full scan finds; tallies the check and the accounts found.
fn index_matches_scan(e: &mut Engine, tally: &Tally) -> Result<(), TestCaseError> {
    let found = e.below_maintenance();
    tally.hit("checks");
    tally.add("accounts found below maintenance", found.len() as u64);
    prop_assert_eq!(found, e.below_maintenance_scan());
    Ok(())
}

/// Prefix replays run every this many journal lines (and once at the end).
const REPLAY_EVERY: usize = 30;

fn conservation_case(steps: Vec<(i64, Op)>, cov: &RefCell<Coverage>) -> Result<(), TestCaseError> {
    let (mut e, mut journal_lines) = option_world();
    cov.borrow_mut().option_shutdown_seen = false;
    let mut t = 0i64;
    for (dt, op) in &steps {
        t = t.saturating_add(*dt);
        let env = Envelope {
            by: None,
            time: Timestamp(t),
            cmd: to_command(&mut e, t, op),
        };
        let before = e.clone();
        match e.apply(&env) {
            Ok(ev) => cov.borrow_mut().record(&before, &env.cmd, &ev),
            Err(r) => {
                let variant = format!("{r:?}");
                let variant = variant.split(['(', ' ', '{']).next().unwrap_or("");
                *cov.borrow_mut()
                    .rejected
                    .entry(format!("{} {variant}", env.cmd.kind()))
                    .or_default() += 1;
                prop_assert_eq!(
                    &before.state_hash(),
                    &e.state_hash(),
                    "rejected {:?} changed state",
                    env.cmd
                )
            }
        }
        assert_step(&mut e, &env.cmd)?;
        // NaN and infinities have no JSON form: they cannot reach a journal at all.
        let representable =
            !matches!(env.cmd, Command::SetPrice { price, .. } if !price.is_finite());
        if representable {
            journal_lines.push(env);
            if journal_lines.len().is_multiple_of(REPLAY_EVERY) {
                assert_replays(&journal_lines, &e)?;
                cov.borrow_mut().replays += 1;
            }
        }
        if t < e.state().time.0 || t > ballast_engine::MAX_TIMESTAMP_MS {
            t = e.state().time.0;
        }
    }
    assert_replays(&journal_lines, &e)?;
    cov.borrow_mut().replays += 1;
    Ok(())
}

/// Conservation, rejection-changes-nothing, replay (of prefixes and the whole) and index = scan
/// over random sequences that list, trade, expire, settle and liquidate options and shut the
/// pool down with options open. The coverage is printed and asserted, so a generator that
/// drifts into rejecting everything, or stops reaching options, fails.
#[test]
fn conservation_rejection_and_replay() {
    const CASES: u32 = 400;
    let cov = RefCell::new(Coverage::default());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&steps(), |steps| conservation_case(steps, &cov))
        .unwrap();
    let c = cov.into_inner();
    eprintln!("coverage over {CASES} sequences: {c:#?}");
    // minimums at about a third of what a run reaches (the counts above), so a drift fails
    for (kind, min) in [
        ("deposit", 400),
        ("withdraw", 40),
        ("borrow", 60),
        ("transfer", 20),
        ("fill", 250),
        ("set_price", 900),
        ("settle_funding", 140),
        ("propose", 70),
        ("execute", 6),
        ("create_option_series", 300),
        ("set_vol_surface", 150),
        ("option_fill", 170),
        ("expire_series", 80),
        ("settle_options", 20),
        ("liquidate", 15),
        ("shutdown", 12),
        ("claim", 10),
    ] {
        let n = c.accepted(kind);
        assert!(n >= min, "{kind} accepted only {n} times (< {min})");
    }
    for (what, n, min) in [
        ("option lots liquidated", c.losses.option_lots, 15),
        (
            "liquidations of short-option writers",
            c.losses.writers_liquidated,
            15,
        ),
        ("bankruptcies", c.losses.bankruptcies, 10),
        ("ADL trades", c.losses.deleveraged, 5),
        ("socialized losses", c.losses.socialized, 6),
        (
            "shutdowns with options open",
            c.shutdowns_with_open_options,
            12,
        ),
        ("claims after them", c.claims_after_option_shutdown, 6),
    ] {
        assert!(n >= min, "{what}: {n} (< {min})");
    }
    assert!(c.replays >= CASES, "replays: {}", c.replays);
}

/// Over a book of leveraged traders and random price paths, the liquidation-price index
/// finds exactly the accounts a full scan finds, after every price update and after
/// funding and interest move.
#[test]
fn index_equals_full_scan() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig { cases: 64, ..ProptestConfig::default() } }, |(moves in prop::collection::vec((0.90..1.10f64, any::<bool>(), 0..3_600_000i64), 1..25), seed in any::<u64>())| {
        let mut e = Engine::new();
        run(&mut e, &ballast_engine::demo::synthetic_book(60, seed));
        // A few borrowers so interest matters too.
        let mut t = e.state().time.0;
        let mut borrowers = 0;
        for i in 1..10u32 {
            e.apply(&at(t, Command::Deposit { account: AccountId(i), asset: BTC, amount: Amount(10_000_000) })).unwrap();
            borrowers += usize::from(e.apply(&at(t, Command::Borrow { account: AccountId(i), amount: Amount(2_000_000_000) })).is_ok());
        }
        prop_assert!(borrowers > 0, "no borrower: interest would not be exercised");
        let mut price = 65_000.0;
        for (f, funding, dt) in moves {
            t += dt;
            price *= f;
            e.apply(&at(t, Command::SetPrice { asset: BTC, price })).unwrap();
            if funding {
                e.apply(&at(t, Command::SettleFunding { market: BTC_PERP })).unwrap();
            }
            index_matches_scan(&mut e, &tally)?;
        }
    });
    tally.check(
        "index_equals_full_scan",
        &[("checks", 200), ("accounts found below maintenance", 200)],
    );
}

/// Issue 9: the index must never miss an account made insolvent by interest. Gaps of
/// minutes to two years between price updates, heavy borrowing (utilization near 100 %),
/// funding, and margin-parameter changes through governance: the index equals a full scan
/// after every step.
#[test]
fn index_equals_full_scan_over_long_gaps() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig { cases: 48, ..ProptestConfig::default() } }, |(moves in prop::collection::vec(
            (0.95..1.05f64, any::<bool>(), prop_oneof![1 => 60_000..3_600_000i64, 1 => 86_400_000..63_072_000_000i64], any::<bool>()),
            1..16,
        ),
        seed in any::<u64>())| {
        let mut e = Engine::with_governance(ballast_engine::state::GovernanceConfig { timelock_ms: 0, grace_ms: i64::MAX / 4, min_delay_ms: 0, ..Default::default() });
        run(&mut e, &ballast_engine::demo::synthetic_book(40, seed));
        let mut t = e.state().time.0;
        let mut borrowed = 0;
        for i in 1..12u32 {
            if e.apply(&at(t, Command::Deposit { account: AccountId(i), asset: BTC, amount: Amount(100_000_000) })).is_ok()
                && e.apply(&at(t, Command::Borrow { account: AccountId(i), amount: Amount(40_000_000_000) })).is_ok()
            {
                borrowed += 1;
            }
        }
        prop_assert!(borrowed > 0, "no borrower: the test would not exercise interest");
        let mut price = 65_000.0;
        let mut proposal = 0u32;
        for (f, funding, dt, govern) in moves {
            t += dt;
            price *= f;
            if e.apply(&at(t, Command::SetPrice { asset: BTC, price })).is_err() {
                // interest beyond the types is refused (and then every later step is too)
                break;
            }
            if funding {
                let before = e.state_hash();
                if e.apply(&at(t, Command::SettleFunding { market: BTC_PERP })).is_err() {
                    prop_assert_eq!(e.state_hash(), before, "refused funding changed the state");
                }
            }
            if govern {
                // Alternately raise the maintenance margin and lower BTC's maintenance weight
                // (which ramps in over a day, moving health between commands).
                let (key, value) = if proposal.is_multiple_of(2) {
                    let cur = e.state().markets[0].params.maint_margin.0;
                    (ParamKey::Market { market: BTC_PERP, field: MarketField::MaintMargin }, cur + 5_000_000)
                } else {
                    let key = ParamKey::Collateral { pool: POOL, asset: BTC, field: CollateralField::MaintWeight };
                    let cur = e.param(&key).unwrap();
                    (key, cur - 20_000_000)
                };
                if e.apply(&at(t, Command::Propose { role: Role::Governor, key, value })).is_ok() {
                    e.apply(&at(t, Command::Execute { role: Role::Governor, proposal: ProposalId(proposal) })).unwrap();
                    proposal += 1;
                    tally.hit("governed changes");
                }
            }
            index_matches_scan(&mut e, &tally)?;
        }
    });
    tally.check(
        "index_equals_full_scan_over_long_gaps",
        &[
            ("checks", 150),
            ("accounts found below maintenance", 150),
            ("governed changes", 40),
        ],
    );
}
