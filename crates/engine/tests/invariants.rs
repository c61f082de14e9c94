//! Property tests over random command sequences: value is conserved after every command, a
//! rejected command leaves the state hash unchanged, a replayed journal reproduces the live
//! state hash, and the liquidation index agrees with a full scan.

mod common;

use ballast_engine::command::{Command, Envelope, Scope};
use ballast_engine::demo::{BTC, BTC_PERP, ETH, ETH_PERP, POOL, USDC};
use ballast_engine::ids::{AccountId, AssetId, MarketId, ProposalId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::params::{CollateralField, MarketField, ParamKey, PoolField};
use ballast_engine::{journal, Engine, Role};
use common::*;
use proptest::prelude::*;

const ACCOUNTS: u32 = 6;

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
        4 => (acct.clone(), 0..3u8, amount(2_000_000_000_000)).prop_map(|(a, s, x)| Op::Deposit(a, s, x)),
        2 => (acct.clone(), 0..3u8, amount(500_000_000_000)).prop_map(|(a, s, x)| Op::Withdraw(a, s, x)),
        1 => (acct.clone(), amount(200_000_000_000)).prop_map(|(a, x)| Op::Borrow(a, x)),
        1 => (acct.clone(), 0..3u8, amount(100_000_000_000)).prop_map(|(a, s, x)| Op::Transfer(a, s, x)),
        3 => (1..3u8, prop_oneof![8 => 0.85..1.15f64, 1 => 1e-6..1e6f64]).prop_map(|(s, f)| Op::Price(s, f)),
        1 => (0..4u8, 0..4u8).prop_map(|(s, k)| Op::BadPrice(s, k)),
        6 => (0..7u8, acct.clone(), acct, size(), 0.97..1.03f64)
            .prop_map(|(m, t, k, s, f)| Op::Fill(m, t, k, s, f)),
        1 => (0..2u8).prop_map(Op::Funding),
        1 => (0..4u8, -60_000_000i64..60_000_000).prop_map(|(f, d)| Op::Propose(f, d)),
        1 => (0..4u32).prop_map(Op::Execute),
        1 => any::<bool>().prop_map(Op::Pause),
    ]
}

fn to_command(e: &Engine, op: &Op) -> Command {
    let st = e.state();
    let price_of = |a: AssetId| {
        st.assets[a.idx()]
            .price
            .map(|p| p.to_human(st.assets[a.idx()].decimals, 6))
            .unwrap_or(1.0)
    };
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
    // Mostly forward time steps up to ~30 h, sometimes a step backwards, sometimes a gap drawn
    // log-uniformly up to the type limit (most beyond year 9999 are refused as implausible).
    let dt = prop_oneof![
        8 => 0..4_000_000i64,
        1 => 80_000_000..110_000_000i64,
        1 => -5_000i64..0,
        1 => log_uniform(),
    ];
    prop::collection::vec((dt, op()), 1..120)
}

fn conservation_case(
    steps: Vec<(i64, Op)>,
    accepted_total: &std::cell::Cell<usize>,
) -> Result<(), TestCaseError> {
    let mut e = world(ACCOUNTS);
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
    let mut t = 0i64;
    let mut accepted = 0;
    for (dt, op) in &steps {
        t = t.saturating_add(*dt);
        let env = Envelope {
            by: None,
            time: Timestamp(t),
            cmd: to_command(&e, op),
        };
        let before = e.state_hash();
        match e.apply(&env) {
            Ok(_) => accepted += 1,
            Err(_) => prop_assert_eq!(
                &before,
                &e.state_hash(),
                "rejected {:?} changed state",
                env.cmd
            ),
        }
        for (asset, gap) in e.conservation_gaps() {
            prop_assert_eq!(gap, 0, "asset {} not conserved after {:?}", asset, env.cmd);
        }
        // Settled quote balances never go below what the ledger allows: collateral ≥ 0.
        for a in &e.state().accounts {
            for (_, amt) in &a.collateral {
                prop_assert!(amt.0 > 0);
            }
        }
        // NaN and infinities have no JSON form: they cannot reach a journal at all.
        let representable =
            !matches!(env.cmd, Command::SetPrice { price, .. } if !price.is_finite());
        if representable {
            journal_lines.push(env);
        }
        if t < e.state().time.0 || t > ballast_engine::MAX_TIMESTAMP_MS {
            t = e.state().time.0;
        }
    }
    // Replay from text reproduces the live hash.
    let text = journal::to_text(&journal_lines);
    let parsed = journal::parse(&text).unwrap();
    let mut replayed = Engine::new();
    journal::replay(&mut replayed, &parsed, false);
    prop_assert_eq!(replayed.state_hash(), e.state_hash());
    // Index query equals a full scan.
    prop_assert_eq!(e.below_maintenance(), e.below_maintenance_scan());
    accepted_total.set(accepted_total.get() + accepted);
    Ok(())
}

/// Conservation, rejection-changes-nothing, replay and index = scan over 200 random sequences;
/// the sequences must mostly be accepted commands, or the property would be vacuous.
#[test]
fn conservation_rejection_and_replay() {
    let accepted = std::cell::Cell::new(0usize);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&steps(), |steps| conservation_case(steps, &accepted))
        .unwrap();
    eprintln!(
        "coverage: {} commands accepted over 200 sequences",
        accepted.get()
    );
    assert!(accepted.get() >= 2_000, "only {} accepted", accepted.get());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Over a book of leveraged traders and random price paths, the liquidation-price index
    /// finds exactly the accounts a full scan finds, after every price update and after
    /// funding and interest move.
    #[test]
    fn index_equals_full_scan(moves in prop::collection::vec((0.90..1.10f64, any::<bool>(), 0..3_600_000i64), 1..25), seed in any::<u64>()) {
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
            prop_assert_eq!(e.below_maintenance(), e.below_maintenance_scan());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Issue 9: the index must never miss an account made insolvent by interest. Gaps of
    /// minutes to two years between price updates, heavy borrowing (utilization near 100 %),
    /// funding, and margin-parameter changes through governance: the index equals a full scan
    /// after every step.
    #[test]
    fn index_equals_full_scan_over_long_gaps(
        moves in prop::collection::vec(
            (0.95..1.05f64, any::<bool>(), prop_oneof![1 => 60_000..3_600_000i64, 1 => 86_400_000..63_072_000_000i64], any::<bool>()),
            1..16,
        ),
        seed in any::<u64>(),
    ) {
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
                }
            }
            prop_assert_eq!(e.below_maintenance(), e.below_maintenance_scan());
        }
    }
}

/// The generator must exercise the engine, not just produce rejections: over a fixed-seed run
/// every kind of money-moving command is accepted many times.
#[test]
fn generator_reaches_accepted_commands() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mut counts = std::collections::BTreeMap::<String, (u32, u32)>::new();
    for _ in 0..40 {
        let steps = steps().new_tree(&mut runner).unwrap().current();
        let mut e = world(ACCOUNTS);
        let mut t: i64 = 0;
        for (dt, op) in &steps {
            t = t.saturating_add(*dt).max(e.state().time.0 - 1);
            if t > ballast_engine::MAX_TIMESTAMP_MS {
                t = e.state().time.0;
            }
            let env = Envelope {
                by: None,
                time: Timestamp(t),
                cmd: to_command(&e, op),
            };
            let kind = format!("{:?}", env.cmd)
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
            let c = counts.entry(kind).or_default();
            match e.apply(&env) {
                Ok(_) => c.0 += 1,
                Err(_) => c.1 += 1,
            }
        }
    }
    eprintln!("accepted/rejected by command: {counts:?}");
    for kind in [
        "Deposit",
        "Withdraw",
        "Borrow",
        "Transfer",
        "Fill",
        "SetPrice",
        "SettleFunding",
        "Propose",
        "Execute",
    ] {
        let (ok, _) = counts.get(kind).copied().unwrap_or_default();
        let min = if kind == "Execute" { 5 } else { 10 };
        assert!(ok >= min, "{kind} accepted only {ok} times");
    }
}
