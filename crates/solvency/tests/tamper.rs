//! Every tampering of a proof is caught, each with its own typed error.

mod common;

use ballast_engine::ids::{AccountId, AssetId};
use ballast_solvency::statement::AssetStatement;
use ballast_solvency::{prove, AccountProof, Digest, SumTree, VerifyError};
use common::*;

fn setup() -> (AccountProof, Vec<Digest>) {
    let (engine, _) = deposit_world(37, 5);
    let s = prove(&engine, &secret()).unwrap();
    let roots = s.statement().roots().unwrap();
    let proof = s.account_proof(AccountId(12)).unwrap();
    proof.verify(&roots).unwrap();
    (proof, roots)
}

fn is_tree_root(e: VerifyError) -> bool {
    matches!(e, VerifyError::TreeRoot { .. })
}

#[test]
fn a_tampered_leaf_fails() {
    let (mut p, roots) = setup();
    p.proofs[0].liability += 1;
    assert!(is_tree_root(p.verify(&roots).unwrap_err()));
    let (mut p, roots) = setup();
    p.proofs[0].salt.0[0] ^= 1;
    assert!(is_tree_root(p.verify(&roots).unwrap_err()));
    let (mut p, roots) = setup();
    p.account = 13;
    assert!(is_tree_root(p.verify(&roots).unwrap_err()));
}

#[test]
fn a_tampered_sum_fails() {
    for step in 0..setup().0.proofs[0].path.len() {
        let (mut p, roots) = setup();
        p.proofs[0].path[step].sum -= 1;
        assert!(is_tree_root(p.verify(&roots).unwrap_err()), "step {step}");
    }
    // Moving value between a leaf and a sibling keeps the total but not the hashes (the node
    // commits to each child's sum, the Hu–Zhang–Guo fix).
    let (mut p, roots) = setup();
    p.proofs[0].liability += 5;
    p.proofs[0].path[0].sum -= 5;
    assert!(is_tree_root(p.verify(&roots).unwrap_err()));
    let (mut p, roots) = setup();
    p.proofs[0].path[0].sum = -1;
    assert!(matches!(
        p.verify(&roots).unwrap_err(),
        VerifyError::Negative { .. }
    ));
}

#[test]
fn a_tampered_sibling_fails() {
    for step in 0..setup().0.proofs[1].path.len() {
        let (mut p, roots) = setup();
        p.proofs[1].path[step].hash.0[31] ^= 0x80;
        assert!(is_tree_root(p.verify(&roots).unwrap_err()), "step {step}");
    }
    let (mut p, roots) = setup();
    p.proofs[1].path.swap(0, 1);
    assert!(is_tree_root(p.verify(&roots).unwrap_err()));
}

#[test]
fn a_tampered_statement_fails() {
    let (mut p, roots) = setup();
    p.proofs[0].statement.liabilities -= 1;
    assert!(matches!(
        p.verify(&roots).unwrap_err(),
        VerifyError::Total { .. }
    ));
    let (mut p, roots) = setup();
    p.proofs[0].statement.held += 1;
    assert!(matches!(
        p.verify(&roots).unwrap_err(),
        VerifyError::UnknownRoot { .. }
    ));
    let (p, _) = setup();
    assert!(matches!(
        p.verify(&[]).unwrap_err(),
        VerifyError::UnknownRoot { .. }
    ));
}

#[test]
fn an_insolvent_statement_fails_even_when_published() {
    let liabilities = [5i128, 7, 11];
    let tree = SumTree::build(AssetId(0), &liabilities, &secret()).unwrap();
    let st = AssetStatement {
        asset: AssetId(0),
        symbol: "USDC".into(),
        decimals: 6,
        seq: 1,
        time_ms: 0,
        tree_root: tree.root().hash,
        leaves: 3,
        liabilities: tree.root().sum,
        held: 21,
        receivables: 2,
    };
    let proof = ballast_solvency::AssetProof {
        statement: st.clone(),
        salt: secret().salt(0, 1),
        liability: 7,
        path: tree.path(1).unwrap(),
    };
    let p = AccountProof {
        version: 1,
        account: 1,
        proofs: vec![proof],
    };
    let roots = [st.root()];
    assert_eq!(p.verify(&roots).unwrap()[0].liabilities, 23);
    let mut short = p.clone();
    short.proofs[0].statement.receivables = 0;
    let roots = [short.proofs[0].statement.root()];
    assert_eq!(
        short.verify(&roots).unwrap_err(),
        VerifyError::Insolvent {
            asset: AssetId(0),
            liabilities: 23,
            assets: 21
        }
    );
}

#[test]
fn unknown_fields_are_refused() {
    let (p, _) = setup();
    let mut v = serde_json::to_value(&p).unwrap();
    v["proofs"][0]["path"][0]["extra"] = serde_json::json!(1);
    assert!(serde_json::from_value::<AccountProof>(v).is_err());
    let mut v = serde_json::to_value(&p).unwrap();
    v["note"] = serde_json::json!("x");
    assert!(serde_json::from_value::<AccountProof>(v).is_err());
}

/// The attack of Hu, Zhang & Guo (2019) on Maxwell's original tree, whose node hash commits
/// only to the children's total: a prover claims `max(a, b)` instead of `a + b` by showing each
/// of two sibling users a different (understated) sibling sum. With each child's sum committed
/// separately, no single root accepts both users' proofs.
#[test]
fn the_max_sum_attack_is_caught() {
    use ballast_solvency::digest;
    let s = secret();
    let (a, b) = (5i128, 7i128);
    let claimed = a.max(b);
    let ha = digest::leaf(0, 0, &s.salt(0, 0), a);
    let hb = digest::leaf(0, 1, &s.salt(0, 1), b);
    let step = |side, hash, sum| ballast_solvency::PathStep { side, hash, sum };
    use ballast_solvency::Side::{Left, Right};
    // The root the dishonest prover publishes: consistent with what user A is shown.
    let root = digest::node(&ha, a, &hb, claimed - a);
    let st = AssetStatement {
        asset: AssetId(0),
        symbol: "USDC".into(),
        decimals: 6,
        seq: 1,
        time_ms: 0,
        tree_root: root,
        leaves: 2,
        liabilities: claimed,
        held: claimed,
        receivables: 0,
    };
    let proof = |account: u32, liability, path| AccountProof {
        version: 1,
        account,
        proofs: vec![ballast_solvency::AssetProof {
            statement: st.clone(),
            salt: s.salt(0, account),
            liability,
            path: vec![path],
        }],
    };
    let roots = [st.root()];
    proof(0, a, step(Right, hb, claimed - a))
        .verify(&roots)
        .unwrap();
    let for_b = proof(1, b, step(Left, ha, claimed - b));
    assert!(is_tree_root(for_b.verify(&roots).unwrap_err()));
}
