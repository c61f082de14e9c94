//! Inclusion proofs of whole ledgers built through the engine: every account verifies, and
//! the root totals are the engine's claims, summed independently here.

mod common;

use ballast_engine::ids::AccountId;
use ballast_engine::margin::Contribution;
use ballast_engine::num::VALUE_SCALE;
use ballast_engine::HealthKind;
use ballast_solvency::{prove, AccountProof};
use common::*;

#[test]
fn every_account_of_a_10k_ledger_verifies() {
    let (engine, sums) = deposit_world(10_000, 7);
    let s = prove(&engine, &secret()).unwrap();
    let roots: Vec<_> = s.statement().roots().unwrap();
    assert_eq!(s.accounts(), 10_000);
    for i in 0..10_000u32 {
        let proof = s.account_proof(AccountId(i)).unwrap();
        // Through JSON, as an account would receive it.
        let text = serde_json::to_string(&proof).unwrap();
        let back: AccountProof = serde_json::from_str(&text).unwrap();
        let ok = back.verify(&roots).unwrap();
        assert_eq!(ok.len(), engine.state().assets.len());
        let acct = &engine.state().accounts[i as usize];
        let usdc = ok
            .iter()
            .find(|v| v.asset == ballast_engine::demo::USDC)
            .unwrap();
        assert_eq!(usdc.liability, acct.quote.amount.0 as i128);
    }
    // Deposits only: each root's total is what was deposited, and what the ledger holds.
    for st in &s.statements {
        assert_eq!(st.liabilities, sums[st.asset.idx()], "{}", st.symbol);
        assert_eq!(st.held, engine.state().assets[st.asset.idx()].net_deposits);
        assert_eq!(st.receivables, 0);
        assert!(st.fully_reserved());
    }
}

/// The quote claim of one account, recomputed from the engine's breakdown: quote balance with
/// accrued interest plus perpetual PnL, rounded up when owed to the account.
fn engine_quote_claim(engine: &ballast_engine::Engine, id: AccountId) -> (i128, i128) {
    let b = engine.breakdown(id, HealthKind::Maintenance).unwrap();
    let mut v = 0i128;
    for l in &b.lines {
        match l {
            Contribution::Quote { amount, .. } => v += amount.0 as i128 * VALUE_SCALE,
            Contribution::Perp { unrealized_pnl, .. } => v += unrealized_pnl.0,
            Contribution::Collateral { .. } => {}
            other => panic!("no options in this ledger: {other:?}"),
        }
    }
    if v >= 0 {
        ((v + VALUE_SCALE - 1) / VALUE_SCALE, 0)
    } else {
        (0, (-v) / VALUE_SCALE)
    }
}

#[test]
fn root_totals_equal_the_engines_claims_exactly() {
    let engine = mixed_world(400, 11);
    let st = engine.state();
    let s = prove(&engine, &secret()).unwrap();
    let (mut liab, mut recv) = (vec![0i128; st.assets.len()], 0i128);
    for (i, a) in st.accounts.iter().enumerate() {
        let (l, r) = engine_quote_claim(&engine, AccountId(i as u32));
        liab[st.pools[a.pool.idx()].quote.idx()] += l;
        recv += r;
        for (asset, amt) in &a.collateral {
            liab[asset.idx()] += amt.0 as i128;
        }
    }
    let usdc = &s.statements[ballast_engine::demo::USDC.idx()];
    assert!(recv > 0, "the world should hold negative equities");
    assert_eq!(usdc.receivables, recv);
    for stmt in &s.statements {
        assert_eq!(stmt.liabilities, liab[stmt.asset.idx()], "{}", stmt.symbol);
        assert_eq!(s.trees[stmt.asset.idx()].root().sum, stmt.liabilities);
        stmt.check_solvent().unwrap();
    }
    // Non-quote assets: nobody withdrew, so the claims are exactly what is held.
    let btc = &s.statements[ballast_engine::demo::BTC.idx()];
    assert_eq!(btc.liabilities, btc.held);
    let roots = s.statement().roots().unwrap();
    for i in 0..st.accounts.len() as u32 {
        s.account_proof(AccountId(i))
            .unwrap()
            .verify(&roots)
            .unwrap();
    }
}

#[test]
fn the_same_state_and_secret_give_the_same_roots() {
    let (engine, _) = deposit_world(50, 3);
    let a = prove(&engine, &secret()).unwrap().statement();
    let b = prove(&engine, &secret()).unwrap().statement();
    assert_eq!(a, b);
    let other = ballast_solvency::Secret::new(&[9u8; 32]).unwrap();
    let c = prove(&engine, &other).unwrap().statement();
    assert_ne!(
        a.assets[0].root, c.assets[0].root,
        "salts depend on the secret"
    );
    assert_eq!(
        a.assets[0].statement.liabilities,
        c.assets[0].statement.liabilities
    );
}
