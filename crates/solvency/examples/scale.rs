//! Scale benchmark of the proof of solvency (a command, not a timed test):
//!
//! ```text
//! cargo run --release -p ballast-solvency --example scale -- --accounts 1000000 [--engine]
//! ```
//!
//! Prints, for one tree of N random liabilities: the time to merely hash the N leaves (the
//! same-run baseline), the time to build the whole tree (leaves included) and its ratio to the
//! baseline, the mean time to verify one inclusion proof, and one proof's size in bytes. With
//! `--engine` it also builds an N-account ledger through engine commands (demo genesis, then
//! `OpenAccount` + `Deposit`) and times `prove` over it (claims + one tree per asset).

use ballast_engine::command::{Command, Envelope};
use ballast_engine::demo::{self, SplitMix};
use ballast_engine::ids::{AccountId, AssetId, OwnerId};
use ballast_engine::num::{Amount, Timestamp};
use ballast_engine::Engine;
use ballast_solvency::statement::AssetStatement;
use ballast_solvency::{prove, tree, AccountProof, AssetProof, Secret, SumTree};
use std::time::Instant;

fn arg_value(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn statement(tree: &SumTree) -> AssetStatement {
    let root = tree.root();
    AssetStatement {
        asset: tree.asset,
        symbol: "USDC".into(),
        decimals: 6,
        seq: 0,
        time_ms: 0,
        tree_root: root.hash,
        leaves: tree.leaf_count() as u64,
        liabilities: root.sum,
        held: root.sum,
        receivables: 0,
    }
}

fn tree_bench(n: usize, secret: &Secret) -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = SplitMix(42);
    let liabilities: Vec<i128> = (0..n)
        .map(|_| (rng.next_u64() % 100_000_000_000) as i128)
        .collect();
    let asset = AssetId(0);
    let t = Instant::now();
    let leaves = tree::leaves(asset, &liabilities, secret);
    let hash_only = secs(t);
    drop(leaves);
    let t = Instant::now();
    let tree = SumTree::build(asset, &liabilities, secret)?;
    let build = secs(t);
    let st = statement(&tree);
    let roots = [st.root()];
    let samples = 10_000.min(n);
    let proofs: Vec<AccountProof> = (0..samples)
        .map(|_| {
            let i = (rng.next_u64() % n as u64) as usize;
            let path = tree.path(i).unwrap_or_default();
            let proof = AssetProof {
                statement: st.clone(),
                salt: secret.salt(0, i as u32),
                liability: liabilities[i],
                path,
            };
            AccountProof {
                version: 1,
                account: i as u32,
                proofs: vec![proof],
            }
        })
        .collect();
    let t = Instant::now();
    for p in &proofs {
        p.verify(&roots)?;
    }
    let verify = secs(t) / samples as f64;
    let size = serde_json::to_vec(&proofs[0])?.len();
    println!("accounts                 {n}");
    println!("hash leaves only         {hash_only:.3} s (baseline)");
    println!(
        "build tree               {build:.3} s ({:.2}x the leaf hashing)",
        build / hash_only
    );
    println!(
        "verify one proof         {:.2} us (mean of {samples})",
        verify * 1e6
    );
    println!(
        "proof size               {size} bytes JSON, {} path steps",
        proofs[0].proofs[0].path.len()
    );
    Ok(())
}

fn engine_bench(n: usize, secret: &Secret) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let mut e = Engine::new();
    for env in demo::genesis(0) {
        e.apply(&env)?;
    }
    let mut rng = SplitMix(7);
    for i in 0..n as u32 {
        let at = |cmd| Envelope {
            by: None,
            time: Timestamp(0),
            cmd,
        };
        e.apply(&at(Command::OpenAccount {
            owner: OwnerId(i),
            pool: demo::POOL,
        }))?;
        let amount = Amount(1 + (rng.next_u64() % 1_000_000_000_000) as i64);
        e.apply(&at(Command::Deposit {
            account: AccountId(i),
            asset: demo::USDC,
            amount,
        }))?;
    }
    let setup = secs(t);
    let t = Instant::now();
    let s = prove(&e, secret)?;
    let proving = secs(t);
    println!(
        "engine ledger setup      {setup:.3} s ({n} accounts, {} commands)",
        2 * n + 10
    );
    println!(
        "prove from the engine    {proving:.3} s ({} trees of {n} leaves)",
        s.trees.len()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = arg_value("--accounts").map_or(Ok(1_000_000), |v| v.parse())?;
    let secret = Secret::new(b"scale benchmark secret, 32 bytes or more")?;
    tree_bench(n, &secret)?;
    if std::env::args().any(|a| a == "--engine") {
        engine_bench(n, &secret)?;
    }
    Ok(())
}
