//! Property tests over random balances: every leaf's proof verifies, the root is the exact
//! sum, and a random tampering of a random proof is caught.

mod common;

use ballast_engine::ids::{AccountId, AssetId};
use ballast_solvency::{prove, Secret, SumTree};
use common::*;
use proptest::prelude::*;

#[path = "../../engine/tests/tally/mod.rs"]
mod tally;
use tally::Tally;

#[test]
fn random_balances_verify_and_sum() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(64) }, |(balances in prop::collection::vec(0i128..=i64::MAX as i128, 1..300),
        key in prop::array::uniform32(any::<u8>()),
        pick in any::<prop::sample::Index>(),
        delta in 1i128..1_000)| {
        tally.hit_if(balances.len() == 1, "single leaf");
        tally.hit_if(balances.len() > 100, "over 100 leaves");
        tally.hit_if(balances.iter().any(|b| *b > 1i128 << 62), "a balance above 2^62");
        let secret = Secret::new(&key).unwrap();
        let tree = SumTree::build(AssetId(3), &balances, &secret).unwrap();
        prop_assert_eq!(tree.root().sum, balances.iter().sum::<i128>());
        let root = tree.root().hash;
        for (i, b) in balances.iter().enumerate() {
            let p = ballast_solvency::AssetProof {
                statement: dummy(root, tree.root().sum, balances.len()),
                salt: secret.salt(3, i as u32),
                liability: *b,
                path: tree.path(i).unwrap(),
            };
            prop_assert!(p.verify(i as u32).is_ok());
        }
        let i = pick.index(balances.len());
        let mut p = ballast_solvency::AssetProof {
            statement: dummy(root, tree.root().sum, balances.len()),
            salt: secret.salt(3, i as u32),
            liability: balances[i] + delta,
            path: tree.path(i).unwrap(),
        };
        prop_assert!(p.verify(i as u32).is_err());
        p.liability -= delta;
        if let Some(step) = p.path.first_mut() {
            step.sum += delta;
            tally.hit("sum tampering checked");
            prop_assert!(p.verify(i as u32).is_err());
        }
    });
    tally.check(
        "random_balances_verify_and_sum",
        &[
            ("over 100 leaves", 20),
            ("a balance above 2^62", 40),
            ("sum tampering checked", 55),
        ],
    );
}

fn dummy(
    root: ballast_solvency::Digest,
    total: i128,
    leaves: usize,
) -> ballast_solvency::AssetStatement {
    ballast_solvency::AssetStatement {
        asset: AssetId(3),
        symbol: "X".into(),
        decimals: 0,
        seq: 0,
        time_ms: 0,
        tree_root: root,
        leaves: leaves as u64,
        liabilities: total,
        held: total,
        receivables: 0,
    }
}

/// Random deposits through the engine: the USDC root is the exact sum of the deposits.
#[test]
fn engine_deposits_sum_exactly() {
    let tally = Tally::default();
    proptest!(ProptestConfig { source_file: Some(file!()), ..ProptestConfig::with_cases(16) }, |(amounts in prop::collection::vec(1i64..=1i64 << 50, 1..40))| {
        let mut e = ballast_engine::Engine::new();
        run(&mut e, &ballast_engine::demo::genesis(T0));
        for (i, a) in amounts.iter().enumerate() {
            let id = open(&mut e, T0, i as u32);
            deposit(&mut e, T0, id, ballast_engine::demo::USDC, *a);
        }
        let s = prove(&e, &secret()).unwrap();
        let total: i128 = amounts.iter().map(|&a| a as i128).sum();
        tally.hit_if(amounts.len() >= 20, "20 or more accounts");
        tally.hit_if(total > 1i128 << 52, "total above 2^52");
        prop_assert_eq!(s.statements[0].liabilities, total);
        let roots = s.statement().roots().unwrap();
        for i in 0..amounts.len() as u32 {
            prop_assert!(s.account_proof(AccountId(i)).unwrap().verify(&roots).is_ok());
        }
    });
    tally.check(
        "engine_deposits_sum_exactly",
        &[("20 or more accounts", 4), ("total above 2^52", 6)],
    );
}
