//! Property tests for the invariants the engine relies on:
//! * the aggregate lies within `[min, max]` of the accepted fresh sources;
//! * a breaker never leaves Halted while a trigger demanding Halted persists (whatever governance
//!   asks);
//! * invalid inputs return errors and leave the aggregator / breaker / smoothers unchanged.

use ballast_oracle::{
    Aggregator, AggregatorConfig, Breaker, BreakerConfig, BreakerInput, ChainSignal, Ema, Mode,
    OracleStatus, Quote, Scope, SourceId, SourceSpec, StablePrice, StablePriceConfig,
};
use proptest::prelude::*;

#[path = "../../engine/tests/tally/mod.rs"]
mod tally;
use tally::Tally;

fn specs(weights: &[f64]) -> Vec<SourceSpec> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| SourceSpec {
            id: SourceId(i as u32 * 3 + 1), // non-contiguous ids
            weight: w,
        })
        .collect()
}

/// (price, weight, age_ms, relative confidence) per source.
fn sources() -> impl Strategy<Value = Vec<(f64, f64, i64, f64)>> {
    prop::collection::vec(
        (
            prop_oneof![1e-6..1e-3f64, 0.5..2.0f64, 1e3..1e6f64],
            prop_oneof![Just(1.0), 0.1..10.0f64], // equal weights exercise the midpoint case
            0i64..120_000,
            0.0..0.02f64,
        ),
        1..12,
    )
}

fn invalid_price() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        -1e9..0.0f64,
    ]
}

#[test]
fn aggregate_lies_within_accepted_sources() {
    let tally = Tally::default();
    proptest!(
        ProptestConfig { cases: 512, source_file: Some(file!()), ..ProptestConfig::default() }, |(srcs in sources(),
        quorum in 1usize..4,
        k in 1.0..5.0f64)| {
        let weights: Vec<f64> = srcs.iter().map(|s| s.1).collect();
        let cfg = AggregatorConfig {
            quorum: quorum.min(srcs.len()),
            outlier_k: k,
            ..AggregatorConfig::default()
        };
        let mut agg = Aggregator::new(cfg, &specs(&weights)).unwrap();
        let now = 1_000_000i64;
        let ids: Vec<SourceId> = agg.source_ids().collect();
        for (i, &(p, _, age, c)) in srcs.iter().enumerate() {
            agg.submit(Quote { source: ids[i], price: p, confidence: c * p, publish_ms: now - age })
                .unwrap();
        }
        let r = agg.aggregate(now).unwrap();
        tally.hit(if r.is_fresh() { "fresh" } else { "below quorum" });
        tally.hit_if(r.rejected() > 0, "outlier rejected");
        if r.is_fresh() {
            let accepted: Vec<f64> = agg
                .ids_in(r.accepted_mask)
                .map(|id| agg.last_quote(id).unwrap().price)
                .collect();
            prop_assert!(!accepted.is_empty(), "the closest source is always kept");
            let lo = accepted.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = accepted.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let p = r.price.unwrap();
            prop_assert!(lo <= p && p <= hi, "{} not in [{}, {}]", p, lo, hi);
            // Accepted and rejected sources are disjoint and all fresh.
            prop_assert_eq!(r.accepted_mask & r.rejected_mask, 0);
            prop_assert!(r.accepted() + r.rejected() == r.fresh);
            prop_assert!(r.fresh as usize >= cfg.quorum);
            prop_assert!(r.confidence.unwrap() >= 0.0);
        } else {
            prop_assert!(r.status >= OracleStatus::Stale);
            prop_assert!((r.fresh as usize) < cfg.quorum);
        }
    });
    tally.check(
        "aggregate_lies_within_accepted_sources",
        &[
            ("fresh", 150),
            ("below quorum", 25),
            ("outlier rejected", 25),
        ],
    );
}

#[test]
fn invalid_quotes_leave_the_aggregator_unchanged() {
    let tally = Tally::default();
    proptest!(
        ProptestConfig { cases: 512, source_file: Some(file!()), ..ProptestConfig::default() }, |(srcs in sources(),
        bad_price in invalid_price(),
        bad_conf in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), -1e3..-1e-9f64],
        which in 0usize..4)| {
        let weights: Vec<f64> = srcs.iter().map(|s| s.1).collect();
        let cfg = AggregatorConfig { quorum: 1, ..AggregatorConfig::default() };
        let mut agg = Aggregator::new(cfg, &specs(&weights)).unwrap();
        let ids: Vec<SourceId> = agg.source_ids().collect();
        let now = 1_000_000i64;
        for (i, &(p, _, age, _)) in srcs.iter().enumerate() {
            agg.submit(Quote { source: ids[i], price: p, confidence: 0.0, publish_ms: now - age })
                .unwrap();
        }
        agg.aggregate(now).unwrap();
        let before = agg.clone();
        let good = Quote { source: ids[0], price: 1.0, confidence: 0.0, publish_ms: now };
        let bad = match which {
            0 => Quote { price: bad_price, ..good },
            1 => Quote { confidence: bad_conf, ..good },
            2 => Quote { source: SourceId(2), ..good }, // ids are 1, 4, 7, …
            _ => Quote { publish_ms: now - srcs[0].2 - 1, ..good }, // older than the last
        };
        tally.hit(["bad price", "bad confidence", "unknown source", "older quote"][which]);
        prop_assert!(agg.submit(bad).is_err());
        prop_assert_eq!(&agg, &before);
        prop_assert!(agg.update(bad, now + 1).is_err());
        prop_assert_eq!(&agg, &before);
        prop_assert!(agg.aggregate(now - 1).is_err());
        prop_assert_eq!(&agg, &before);
    });
    tally.check(
        "invalid_quotes_leave_the_aggregator_unchanged",
        &[
            ("bad price", 60),
            ("bad confidence", 60),
            ("unknown source", 60),
            ("older quote", 60),
        ],
    );
}

#[test]
fn invalid_prices_leave_smoothers_and_breaker_unchanged() {
    let tally = Tally::default();
    proptest!(
        ProptestConfig { cases: 512, source_file: Some(file!()), ..ProptestConfig::default() }, |(prices in prop::collection::vec(0.5..2.0f64, 1..30),
        bad in invalid_price())| {
        let mut ema = Ema::new(60_000).unwrap();
        let mut stable = StablePrice::new(StablePriceConfig::default()).unwrap();
        let mut breaker = Breaker::new(Scope::Pool(3), BreakerConfig::default()).unwrap();
        let mut t = 0;
        for &p in &prices {
            t += 60_000;
            ema.update(t, p).unwrap();
            stable.update(t, p).unwrap();
            breaker.step(BreakerInput {
                now_ms: t, price: Some(p), oracle: OracleStatus::Valid, chain: ChainSignal::default(),
            }).unwrap();
        }
        let (e0, s0, b0) = (ema.clone(), stable.clone(), breaker.clone());
        tally.hit(if bad.is_nan() { "NaN" } else if bad.is_infinite() { "infinite" } else { "not positive" });
        prop_assert!(ema.update(t + 60_000, bad).is_err());
        prop_assert!(stable.update(t + 60_000, bad).is_err());
        let bad_input = BreakerInput {
            now_ms: t + 60_000,
            price: Some(bad),
            oracle: OracleStatus::Valid,
            chain: ChainSignal::default(),
        };
        prop_assert!(breaker.step(bad_input).is_err());
        prop_assert!(breaker.record_outflow(t + 60_000, f64::NAN).is_err());
        prop_assert!(breaker.record_inflow(t + 60_000, -1.0).is_err());
        prop_assert_eq!(ema, e0);
        prop_assert_eq!(stable, s0);
        prop_assert_eq!(breaker, b0);
    });
    tally.check(
        "invalid_prices_leave_smoothers_and_breaker_unchanged",
        &[("NaN", 40), ("infinite", 80), ("not positive", 150)],
    );
}

/// One step of a random breaker scenario.
#[derive(Debug, Clone)]
enum Op {
    Step {
        dt_ms: i64,
        ret: f64,
        oracle: usize,
        chain_halted: bool,
        congestion: f64,
    },
    Govern {
        mode: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1i64..3_600_000, -0.3..0.3f64, 0usize..5, prop::bool::weighted(0.2), 0.0..15.0f64)
            .prop_map(|(dt_ms, ret, oracle, chain_halted, congestion)| Op::Step {
                dt_ms, ret, oracle, chain_halted, congestion,
            }),
        2 => (0usize..4).prop_map(|mode| Op::Govern { mode }),
    ]
}

#[test]
fn breaker_never_leaves_halted_while_its_trigger_persists() {
    let tally = Tally::default();
    proptest!(
        ProptestConfig { cases: 256, source_file: Some(file!()), ..ProptestConfig::default() }, |(ops in prop::collection::vec(op(), 1..120),
        cooldown in 0i64..7_200_000,
        grace in 0i64..7_200_000)| {
        let cfg = BreakerConfig {
            cooldown_ms: cooldown,
            grace_ms: grace,
            min_vol_samples: 3,
            ..BreakerConfig::default()
        };
        let modes = [Mode::Normal, Mode::Cautious, Mode::Halted, Mode::Recovering];
        let mut b = Breaker::new(Scope::Market(9), cfg).unwrap();
        let (mut now, mut price) = (0i64, 100.0f64);
        for op in ops {
            match op {
                Op::Step { dt_ms, ret, oracle, chain_halted, congestion } => {
                    now += dt_ms;
                    price *= libm::exp(ret);
                    let status = OracleStatus::ALL[oracle];
                    b.step(BreakerInput {
                        now_ms: now,
                        price: Some(price),
                        oracle: status,
                        chain: ChainSignal { halted: chain_halted, congestion },
                    }).unwrap();
                    // Triggers that demand Halted, checked from the inputs alone.
                    let must_halt = chain_halted
                        || congestion >= cfg.congestion_halt
                        || cfg.oracle_modes[status.index()] == Mode::Halted;
                    tally.hit_if(must_halt, "halt demanded by the inputs");
                    tally.hit_if(b.mode() == Mode::Recovering, "steps in recovering");
                    if must_halt {
                        prop_assert_eq!(b.mode(), Mode::Halted);
                    }
                    // And from the breaker's own view (includes the move trigger).
                    if b.demand().0 == Mode::Halted {
                        prop_assert_eq!(b.mode(), Mode::Halted);
                    }
                }
                Op::Govern { mode } => {
                    let before = b.clone();
                    let was_halted_by_trigger = b.mode() == Mode::Halted
                        && b.demand().0 == Mode::Halted
                        && !matches!(b.demand().1, Some(ballast_oracle::Trip::Governance { .. }));
                    match b.govern(modes[mode], now) {
                        Ok(_) => {
                            tally.hit("governance accepted");
                            tally.hit_if(was_halted_by_trigger, "governance under a halt trigger");
                            if was_halted_by_trigger {
                                prop_assert_eq!(b.mode(), Mode::Halted);
                            }
                        }
                        Err(_) => {
                            tally.hit("governance refused");
                            prop_assert_eq!(&b, &before)
                        }
                    }
                }
            }
        }
    });
    tally.check(
        "breaker_never_leaves_halted_while_its_trigger_persists",
        &[
            ("halt demanded by the inputs", 500),
            ("steps in recovering", 50),
            ("governance accepted", 100),
            ("governance under a halt trigger", 10),
            ("governance refused", 100),
        ],
    );
}
