//! Liquidations per second through the whole path: the worst-first queue, keeper takeovers
//! (partial, with penalty split and the time-rising reward), bankruptcies resolved by the
//! insurance fund, and — in the second group — deficits beyond the fund that go through ADL and
//! socialization. Each iteration clones a crashed book (setup, not timed) and clears it.
//!
//! `cargo bench -p ballast-engine --bench liquidation`

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo::{self, BTC, BTC_PERP, POOL, USDC};
use ballast_engine::ids::{AccountId, OwnerId};
use ballast_engine::num::{Amount, Ratio, Timestamp};
use ballast_engine::params::{LiquidationParams, Mechanism};
use ballast_engine::{Engine, Role};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const KEEPER: AccountId = AccountId(1);

fn at(t: i64, cmd: Command) -> Envelope {
    Envelope {
        by: None,
        time: Timestamp(t),
        cmd,
    }
}

/// `n` traders long 1 BTC at 65 000 with margins spread over [6 540, 8 000) USDC against one
/// maker; 100% of fees to insurance; BTC then falls to `crash`.
fn crashed_book(n: u32, crash: f64, insurance_share: f64) -> Engine {
    crashed_book_with(n, crash, insurance_share, Mechanism::KeeperTakeover)
}

fn crashed_book_with(n: u32, crash: f64, insurance_share: f64, mechanism: Mechanism) -> Engine {
    let mut e = Engine::new();
    let ok = |e: &mut Engine, t: i64, cmd: Command| {
        e.apply(&at(t, cmd)).expect("setup");
    };
    for env in demo::genesis(0) {
        e.apply(&env).expect("genesis");
    }
    ok(
        &mut e,
        0,
        Command::ConfigureLiquidation {
            role: Role::Governor,
            pool: POOL,
            params: LiquidationParams {
                mechanism,
                insurance_fee_share: Ratio::from_f64(insurance_share).unwrap(),
                ..LiquidationParams::default()
            },
        },
    );
    for i in 0..n + 3 {
        ok(
            &mut e,
            0,
            Command::OpenAccount {
                owner: OwnerId(i),
                pool: POOL,
            },
        );
    }
    // 0: maker, 1: keeper, 2: lender
    for (a, x) in [
        (0, 1_000_000_000_000_000i64),
        (1, 1_000_000_000_000_000),
        (2, 1_000_000_000_000),
    ] {
        ok(
            &mut e,
            0,
            Command::Deposit {
                account: AccountId(a),
                asset: USDC,
                amount: Amount(x),
            },
        );
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let margin = 6_540_000_000 + (x % 1_460_000_000) as i64;
        let id = AccountId(3 + i);
        ok(
            &mut e,
            0,
            Command::Deposit {
                account: id,
                asset: USDC,
                amount: Amount(margin),
            },
        );
        ok(
            &mut e,
            0,
            Command::Fill {
                market: BTC_PERP,
                taker: id,
                maker: AccountId(0),
                size: Amount(100_000_000),
                price: 65_000.0,
            },
        );
    }
    ok(
        &mut e,
        1,
        Command::SetPrice {
            asset: BTC,
            price: crash,
        },
    );
    e
}

/// Clears the book: serve the queue worst-first until it is empty. Returns the number of
/// liquidation commands applied.
fn clear(e: &mut Engine) -> u64 {
    clear_counting(e, &mut [0; 3])
}

/// As [`clear`], counting bankruptcies, ADL closes and socialized losses in `seen`.
fn clear_counting(e: &mut Engine, seen: &mut [u64; 3]) -> u64 {
    use ballast_engine::event::Event;
    let mut buf = Vec::with_capacity(32);
    let mut n = 0;
    loop {
        let q = e.liquidation_queue();
        if q.is_empty() {
            return n;
        }
        for entry in q {
            buf.clear();
            let cmd = at(
                2,
                Command::Liquidate {
                    liquidator: KEEPER,
                    account: entry.account,
                    market: None,
                    max_size: None,
                },
            );
            if e.apply_into(&cmd, &mut buf).is_ok() {
                n += 1;
            }
            for ev in &buf {
                match ev {
                    Event::Bankrupt { .. } => seen[0] += 1,
                    Event::Deleveraged { .. } => seen[1] += 1,
                    Event::LossSocialized { .. } => seen[2] += 1,
                    _ => {}
                }
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("liquidation");
    g.sample_size(10);
    for (name, n, crash, share) in [
        // ~13% bankrupt, all covered by insurance
        ("queue_to_waterfall_10k", 10_000u32, 58_300.0, 1.0),
        // no insurance: every bankruptcy goes through ADL against the (profitable) maker
        ("with_adl_2k", 2_000, 58_300.0, 0.0),
    ] {
        let book = crashed_book(n, crash, share);
        let mut seen = [0; 3];
        let count = clear_counting(&mut book.clone(), &mut seen);
        eprintln!(
            "{name}: {count} liquidation commands per iteration ({} bankrupt, {} ADL closes, {} socialized)",
            seen[0], seen[1], seen[2]
        );
        g.throughput(Throughput::Elements(count));
        g.bench_function(name, |b| {
            b.iter_batched(
                || book.clone(),
                |mut e| black_box(clear(&mut e)),
                BatchSize::LargeInput,
            )
        });
    }
    // Dutch auctions: start one per queued account, a keeper takes it at the start price
    let book = crashed_book_with(2_000, 58_300.0, 1.0, Mechanism::DutchAuction);
    let auctions = |e: &mut Engine| -> u64 {
        use ballast_engine::event::Event;
        let mut buf = Vec::with_capacity(32);
        let mut n = 0;
        for _round in 0..100 {
            let q = e.liquidation_queue();
            if q.is_empty() {
                break;
            }
            for entry in q {
                buf.clear();
                let start = at(
                    3,
                    Command::StartAuction {
                        account: entry.account,
                        keeper: KEEPER,
                    },
                );
                if e.apply_into(&start, &mut buf).is_err() {
                    // bankrupt: the waterfall resolves it
                    let _ = e.apply_into(
                        &at(
                            3,
                            Command::Liquidate {
                                liquidator: KEEPER,
                                account: entry.account,
                                market: None,
                                max_size: None,
                            },
                        ),
                        &mut buf,
                    );
                    n += 1;
                    continue;
                }
                let id = buf.iter().find_map(|x| match x {
                    Event::AuctionStarted { auction, .. } => Some(*auction),
                    _ => None,
                });
                if let Some(id) = id {
                    let take = at(
                        3,
                        Command::TakeAuction {
                            auction: id,
                            bidder: KEEPER,
                            max_amount: Amount(i64::MAX),
                            price_limit: 1e6,
                        },
                    );
                    if e.apply_into(&take, &mut buf).is_ok() {
                        n += 1;
                    }
                }
            }
        }
        n
    };
    let mut probe = book.clone();
    let count = auctions(&mut probe);
    assert!(
        probe.liquidation_queue().is_empty(),
        "auctions cleared the book"
    );
    eprintln!(
        "dutch_auction_2k: {count} liquidations (auction start + take, or waterfall) per iteration"
    );
    g.throughput(Throughput::Elements(count));
    g.bench_function("dutch_auction_2k", |b| {
        b.iter_batched(
            || book.clone(),
            |mut e| black_box(auctions(&mut e)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
