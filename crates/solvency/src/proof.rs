//! Inclusion proofs: the JSON an account receives, and its verifier.
//!
//! An [`AccountProof`] holds, for each asset, the account's leaf opening (salt, liability),
//! the sibling hashes and sums up to the tree root, and the asset's statement. Verifying it
//! recomputes the root from the leaf (so the account's own liability is included), checks that
//! the recomputed total equals the stated liabilities, that the statement hashes to a
//! published root, and that liabilities ≤ held + receivables.

use crate::digest::{self, Digest};
use crate::error::VerifyError;
use crate::statement::{AssetStatement, FORMAT_VERSION};
use crate::tree::Node;
use ballast_engine::ids::AssetId;
use serde::{Deserialize, Serialize};

/// Longest path accepted (a tree over at most 2^64 leaves).
pub const MAX_PATH: usize = 64;

/// Which side the sibling is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Left,
    Right,
}

/// One sibling on the way up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathStep {
    pub side: Side,
    pub hash: Digest,
    #[serde(with = "crate::dec")]
    pub sum: i128,
}

/// An account's inclusion in one asset's tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetProof {
    pub statement: AssetStatement,
    pub salt: Digest,
    /// The account's liability in this asset, native units.
    #[serde(with = "crate::dec")]
    pub liability: i128,
    pub path: Vec<PathStep>,
}

/// Everything one account needs to check its inclusion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountProof {
    pub version: u32,
    pub account: u32,
    pub proofs: Vec<AssetProof>,
}

/// A proof that checked out, for reporting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub asset: AssetId,
    pub symbol: String,
    pub liability: i128,
    pub liabilities: i128,
    pub held: i128,
    pub receivables: i128,
    pub root: Digest,
}

fn non_negative(asset: AssetId, what: &'static str, value: i128) -> Result<(), VerifyError> {
    if value < 0 {
        return Err(VerifyError::Negative { asset, what, value });
    }
    Ok(())
}

impl AssetProof {
    /// The tree root and total that this opening and path lead to.
    pub fn computed_root(&self, account: u32) -> Result<Node, VerifyError> {
        let asset = self.statement.asset;
        non_negative(asset, "leaf liability", self.liability)?;
        // A tree of n leaves is at most ⌈log2 n⌉ levels deep.
        let leaves = self.statement.leaves;
        let depth = (64 - leaves.saturating_sub(1).leading_zeros()) as usize;
        if self.path.len() > depth.min(MAX_PATH) || leaves == 0 {
            return Err(VerifyError::PathTooLong {
                asset,
                len: self.path.len(),
                max: depth.min(MAX_PATH),
            });
        }
        let mut hash = digest::leaf(asset.0, account, &self.salt, self.liability);
        let mut sum = self.liability;
        for step in &self.path {
            non_negative(asset, "sibling sum", step.sum)?;
            hash = match step.side {
                Side::Left => digest::node(&step.hash, step.sum, &hash, sum),
                Side::Right => digest::node(&hash, sum, &step.hash, step.sum),
            };
            sum = sum
                .checked_add(step.sum)
                .ok_or(VerifyError::Overflow { asset })?;
        }
        Ok(Node { hash, sum })
    }

    /// Checks this proof against its own statement; returns the statement's root.
    pub fn verify(&self, account: u32) -> Result<Digest, VerifyError> {
        let st = &self.statement;
        let got = self.computed_root(account)?;
        if got.hash != st.tree_root {
            return Err(VerifyError::TreeRoot {
                asset: st.asset,
                computed: got.hash.to_hex(),
                stated: st.tree_root.to_hex(),
            });
        }
        if got.sum != st.liabilities {
            return Err(VerifyError::Total {
                asset: st.asset,
                computed: got.sum,
                stated: st.liabilities,
            });
        }
        st.check_solvent()?;
        Ok(st.root())
    }
}

impl AccountProof {
    /// Verifies every asset proof against the published `roots`.
    pub fn verify(&self, roots: &[Digest]) -> Result<Vec<Verified>, VerifyError> {
        if self.version != FORMAT_VERSION {
            return Err(VerifyError::Version {
                got: self.version,
                expected: FORMAT_VERSION,
            });
        }
        if self.proofs.is_empty() {
            return Err(VerifyError::Empty);
        }
        let mut out = Vec::with_capacity(self.proofs.len());
        for p in &self.proofs {
            let root = p.verify(self.account)?;
            if !roots.contains(&root) {
                return Err(VerifyError::UnknownRoot {
                    asset: p.statement.asset,
                    root: root.to_hex(),
                });
            }
            let st = &p.statement;
            out.push(Verified {
                asset: st.asset,
                symbol: st.symbol.clone(),
                liability: p.liability,
                liabilities: st.liabilities,
                held: st.held,
                receivables: st.receivables,
                root,
            });
        }
        Ok(out)
    }
}
