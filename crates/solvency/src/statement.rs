//! The published statement: per asset, the tree root, the number of leaves, the total
//! liabilities and the assets (held + receivables), all bound into one hash, the asset's
//! published root. Verifiers need only that hash and their own proof file.

use crate::digest::{self, Digest, StatementFields};
use crate::error::VerifyError;
use ballast_engine::ids::AssetId;
use serde::{Deserialize, Serialize};

/// Version of the statement and proof formats.
pub const FORMAT_VERSION: u32 = 1;

/// What the prover states about one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetStatement {
    pub asset: AssetId,
    pub symbol: String,
    pub decimals: u8,
    /// Ledger sequence number (accepted commands) and time of the proven state.
    pub seq: u64,
    pub time_ms: i64,
    pub tree_root: Digest,
    pub leaves: u64,
    /// Total liabilities, native units (the root's sum).
    #[serde(with = "crate::dec")]
    pub liabilities: i128,
    /// What the ledger holds of the asset, native units.
    #[serde(with = "crate::dec")]
    pub held: i128,
    /// Negative equities owed to the ledger, native units (counted as assets).
    #[serde(with = "crate::dec")]
    pub receivables: i128,
}

impl AssetStatement {
    /// The asset's published root: the hash of every field but the symbol and decimals
    /// (labels for people, not part of the claim).
    pub fn root(&self) -> Digest {
        digest::statement(&StatementFields {
            asset: self.asset.0,
            seq: self.seq,
            time_ms: self.time_ms,
            tree_root: &self.tree_root,
            leaves: self.leaves,
            liabilities: self.liabilities,
            held: self.held,
            receivables: self.receivables,
        })
    }

    /// `held + receivables`, if it fits.
    pub fn assets(&self) -> Option<i128> {
        self.held.checked_add(self.receivables)
    }

    /// Checks the stated numbers: none negative, liabilities ≤ held + receivables.
    pub fn check_solvent(&self) -> Result<(), VerifyError> {
        let asset = self.asset;
        for (what, value) in [
            ("stated liabilities", self.liabilities),
            ("stated holdings", self.held),
            ("stated receivables", self.receivables),
        ] {
            if value < 0 {
                return Err(VerifyError::Negative { asset, what, value });
            }
        }
        let assets = self.assets().ok_or(VerifyError::Overflow { asset })?;
        if self.liabilities > assets {
            return Err(VerifyError::Insolvent {
                asset,
                liabilities: self.liabilities,
                assets,
            });
        }
        Ok(())
    }

    /// Whether the liabilities are covered by what is held alone (no receivables needed).
    pub fn fully_reserved(&self) -> bool {
        self.liabilities <= self.held
    }
}

/// One asset as published: its root and the statement it hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedAsset {
    pub root: Digest,
    pub statement: AssetStatement,
}

/// The whole publication (`roots.json`): every asset's root and statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub version: u32,
    pub assets: Vec<PublishedAsset>,
}

impl Statement {
    /// The published roots, each checked against its own statement (a mismatch is refused).
    pub fn roots(&self) -> Result<Vec<Digest>, VerifyError> {
        if self.version != FORMAT_VERSION {
            return Err(VerifyError::Version {
                got: self.version,
                expected: FORMAT_VERSION,
            });
        }
        self.assets
            .iter()
            .map(|p| {
                let computed = p.statement.root();
                if computed != p.root {
                    return Err(VerifyError::UnknownRoot {
                        asset: p.statement.asset,
                        root: p.root.to_hex(),
                    });
                }
                Ok(p.root)
            })
            .collect()
    }
}
