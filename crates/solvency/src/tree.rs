//! The Merkle-sum tree over one asset's liabilities (construction in [`crate::digest`]).
//!
//! Leaf `i` is account `i`. Levels are built pairwise; an odd node at the end of a level is
//! carried up unchanged (no padding leaves, so no hash is spent on empty slots). Every sum is
//! an exact `i128`, added with overflow checks; a leaf is never negative.

use crate::digest::{self, Digest};
use crate::error::ProveError;
use crate::proof::{PathStep, Side};
use crate::salt::Secret;
use ballast_engine::ids::AssetId;

/// A node: its hash and the sum of the liabilities below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub hash: Digest,
    pub sum: i128,
}

/// A built tree: `levels[0]` are the leaves, the last level is the root.
#[derive(Debug, Clone)]
pub struct SumTree {
    pub asset: AssetId,
    levels: Vec<Vec<Node>>,
}

/// The leaves of `asset`'s tree: one per account, salted from `secret`.
pub fn leaves(asset: AssetId, liabilities: &[i128], secret: &Secret) -> Vec<Node> {
    liabilities
        .iter()
        .enumerate()
        .map(|(i, &sum)| {
            let salt = secret.salt(asset.0, i as u32);
            Node {
                hash: digest::leaf(asset.0, i as u32, &salt, sum),
                sum,
            }
        })
        .collect()
}

fn parent(l: &Node, r: &Node, asset: AssetId) -> Result<Node, ProveError> {
    let sum = l.sum.checked_add(r.sum).ok_or(ProveError::Overflow {
        asset,
        what: "total liabilities",
    })?;
    Ok(Node {
        hash: digest::node(&l.hash, l.sum, &r.hash, r.sum),
        sum,
    })
}

impl SumTree {
    /// Builds the tree of `asset` over one liability per account (all must be ≥ 0).
    pub fn build(
        asset: AssetId,
        liabilities: &[i128],
        secret: &Secret,
    ) -> Result<SumTree, ProveError> {
        if let Some(&neg) = liabilities.iter().find(|&&v| v < 0) {
            return Err(ProveError::NegativeHoldings { asset, held: neg });
        }
        SumTree::from_leaves(asset, leaves(asset, liabilities, secret))
    }

    /// Builds the levels above given leaves.
    pub fn from_leaves(asset: AssetId, leaves: Vec<Node>) -> Result<SumTree, ProveError> {
        if leaves.is_empty() {
            return Err(ProveError::NoAccounts);
        }
        let mut levels = vec![leaves];
        while let Some(last) = levels.last().filter(|l| l.len() > 1) {
            let mut next = Vec::with_capacity(last.len().div_ceil(2));
            for pair in last.chunks(2) {
                next.push(match pair {
                    [l, r] => parent(l, r, asset)?,
                    // The odd node at the end of a level is carried up.
                    [only, ..] => *only,
                    [] => continue,
                });
            }
            levels.push(next);
        }
        Ok(SumTree { asset, levels })
    }

    /// The root node (hash and total liabilities).
    pub fn root(&self) -> Node {
        // `from_leaves` refuses an empty tree, so the last level holds exactly one node.
        self.levels[self.levels.len() - 1][0]
    }

    pub fn leaf_count(&self) -> usize {
        self.levels[0].len()
    }

    /// The leaf of account `index`, if there is one.
    pub fn leaf(&self, index: usize) -> Option<Node> {
        self.levels[0].get(index).copied()
    }

    /// Siblings from leaf `index` up to the root (carried-up levels contribute no step).
    pub fn path(&self, index: usize) -> Option<Vec<PathStep>> {
        self.leaf(index)?;
        let mut steps = Vec::with_capacity(self.levels.len());
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            let sib = i ^ 1;
            if let Some(n) = level.get(sib) {
                let side = if sib < i { Side::Left } else { Side::Right };
                steps.push(PathStep {
                    side,
                    hash: n.hash,
                    sum: n.sum,
                });
            }
            i /= 2;
        }
        Some(steps)
    }
}
