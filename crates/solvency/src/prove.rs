//! From an engine to statements and proofs: claims → one tree per asset → statements.

use crate::claims::Claims;
use crate::error::ProveError;
use crate::proof::AccountProof;
use crate::salt::Secret;
use crate::statement::{AssetStatement, PublishedAsset, Statement, FORMAT_VERSION};
use crate::tree::SumTree;
use crate::AssetProof;
use ballast_engine::ids::AccountId;
use ballast_engine::Engine;

/// Built trees and statements of one ledger state, with the secret that salts them.
#[derive(Debug)]
pub struct Solvency {
    pub claims: Claims,
    pub trees: Vec<SumTree>,
    pub statements: Vec<AssetStatement>,
    secret: Secret,
}

/// Builds one Merkle-sum tree per asset over every account's claim in `engine`'s state.
pub fn prove(engine: &Engine, secret: &Secret) -> Result<Solvency, ProveError> {
    let claims = Claims::from_engine(engine)?;
    let st = engine.state();
    let mut trees = Vec::with_capacity(claims.assets.len());
    let mut statements = Vec::with_capacity(claims.assets.len());
    for a in &claims.assets {
        let tree = SumTree::build(a.asset, &a.liabilities, secret)?;
        let root = tree.root();
        statements.push(AssetStatement {
            asset: a.asset,
            symbol: a.symbol.clone(),
            decimals: a.decimals,
            seq: st.seq,
            time_ms: st.time.0,
            tree_root: root.hash,
            leaves: tree.leaf_count() as u64,
            liabilities: root.sum,
            held: a.held,
            receivables: a.receivables,
        });
        trees.push(tree);
    }
    Ok(Solvency {
        claims,
        trees,
        statements,
        secret: secret.clone(),
    })
}

impl Solvency {
    /// The publication: each asset's root and statement.
    pub fn statement(&self) -> Statement {
        Statement {
            version: FORMAT_VERSION,
            assets: self
                .statements
                .iter()
                .map(|s| PublishedAsset {
                    root: s.root(),
                    statement: s.clone(),
                })
                .collect(),
        }
    }

    /// Number of accounts (leaves per tree).
    pub fn accounts(&self) -> usize {
        self.trees.first().map_or(0, SumTree::leaf_count)
    }

    /// The inclusion proof of `account` in every asset's tree.
    pub fn account_proof(&self, account: AccountId) -> Result<AccountProof, ProveError> {
        let i = account.idx();
        let mut proofs = Vec::with_capacity(self.trees.len());
        for (tree, st) in self.trees.iter().zip(&self.statements) {
            let leaf = tree.leaf(i).ok_or(ProveError::UnknownAccount { account })?;
            let path = tree.path(i).ok_or(ProveError::UnknownAccount { account })?;
            proofs.push(AssetProof {
                statement: st.clone(),
                salt: self.secret.salt(tree.asset.0, account.0),
                liability: leaf.sum,
                path,
            });
        }
        Ok(AccountProof {
            version: FORMAT_VERSION,
            account: account.0,
            proofs,
        })
    }
}
