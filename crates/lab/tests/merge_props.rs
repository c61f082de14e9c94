//! Property: aggregates merge exactly — any split of any sequence of path results into shards,
//! merged in any order, equals adding them one by one (so thread count and sharding can never
//! change a summary).

use ballast_lab::path::PathResult;
use ballast_lab::Aggregate;
use proptest::prelude::*;

#[path = "../../engine/tests/tally/mod.rs"]
mod tally;
use tally::Tally;

fn result() -> impl Strategy<Value = PathResult> {
    (
        prop_oneof![Just(0i64), 0i64..1_000_000, 0i64..100_000_000_000],
        0i64..10_000_000_000,
        0u64..300,
        0i64..1_000_000_000_000,
        proptest::option::of(1u32..50),
        proptest::collection::vec(0i64..10_000_000_000, 0..50),
        // Engine-mechanism, breaker and agent metrics.
        (
            0i64..1_000_000_000,
            0i64..1_000_000_000,
            0i64..1_000_000,
            0u64..40,
            proptest::array::uniform4(0u64..500),
            proptest::option::of(1u32..50),
        ),
    )
        .prop_map(
            |(
                bad,
                fund_min,
                liqs,
                vol,
                first_bad,
                fund_path,
                (adl, soc, ebd, resets, modes, whale),
            )| {
                let bad_path = fund_path.iter().map(|f| f % 7_919).collect();
                PathResult {
                    bad_debt: bad,
                    fund_min,
                    fund_final: fund_min,
                    liquidations: liqs,
                    liq_volume: vol,
                    first_bad_step: first_bad,
                    fund_path,
                    bad_path,
                    adl,
                    socialized: soc,
                    engine_bad_debt: ebd,
                    auction_resets: resets,
                    breaker_steps: modes,
                    breaker_scope_steps: modes.iter().sum(),
                    whale_dump_step: whale,
                    ..Default::default()
                }
            },
        )
}

#[test]
fn any_split_and_order_merges_to_the_same_aggregate() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::default() }, |(rs in proptest::collection::vec(result(), 1..120),
        cuts in proptest::collection::vec(0usize..120, 0..6),
        rotate in 0usize..8)| {
        // Chain, sell-cap, sample-path and breaker-timeline metrics; path indices are unique
        // (global), as in a run.
        let rs: Vec<PathResult> = rs
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r.path = i as u64;
                if i < 5 {
                    r.price_samples = vec![vec![1.0 + i as f64, 2.5]; 3];
                }
                r.mode_path = r.fund_path.iter().map(|f| (f % 4) as u8).collect();
                r.chain_halted_steps = (r.liquidations % 7) as u32;
                r.deferred_sell = r.liq_volume / 3;
                r.unsettled = r.bad_debt / 5;
                r.trader_closes = r.liquidations % 5;
                r.trader_adds = r.liquidations % 3;
                r.trader_reopens = r.liquidations % 11;
                r.trader_refused = r.liquidations % 2;
                r
            })
            .collect();
        let mut whole = Aggregate::default();
        for r in &rs {
            whole.add(r);
        }
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (rs.len() + 1)).collect();
        cuts.push(0);
        cuts.push(rs.len());
        cuts.sort();
        let mut parts: Vec<Aggregate> = cuts
            .windows(2)
            .map(|w| {
                let mut a = Aggregate::default();
                for r in &rs[w[0]..w[1]] {
                    a.add(r);
                }
                a
            })
            .collect();
        tally.hit_if(parts.len() >= 3, "three or more shards");
        tally.hit_if(parts.iter().any(|p| *p == Aggregate::default()), "an empty shard");
        tally.hit_if(rs.iter().any(|r| r.bad_debt > 0), "paths with bad debt");
        let k = rotate % parts.len();
        tally.hit_if(k > 0, "rotated order");
        parts.rotate_left(k);
        parts.reverse();
        let mut merged = Aggregate::default();
        for p in &parts {
            merged.merge(p);
        }
        prop_assert_eq!(&merged, &whole);
        // And through the shard file format (JSON) too.
        let text = serde_json::to_string(&merged).unwrap();
        let back: Aggregate = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, whole);
    });
    tally.check(
        "any_split_and_order_merges_to_the_same_aggregate",
        &[
            ("three or more shards", 80),
            ("an empty shard", 15),
            ("paths with bad debt", 80),
            ("rotated order", 80),
        ],
    );
}
