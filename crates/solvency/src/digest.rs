//! 32-byte BLAKE3 digests and the three hashes of the construction, each under its own
//! domain-separation context (BLAKE3 `derive_key` mode) so that a leaf can never be read as a
//! node or a statement.
//!
//! Design: Maxwell's Merkle-sum tree for proof of reserves (G. Maxwell, bitcointalk 2013;
//! Z. Wilcox, "Proving your bitcoin reserves", 2014), with the fix of Hu, Zhang & Guo,
//! "Broken proofs of solvency in Blockchain custodial wallets and exchanges" (2019): a node
//! commits to each child's sum separately, `H(left hash, left sum, right hash, right sum)`,
//! not only to their total, and every sum is checked to be non-negative.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const LEAF_CONTEXT: &str = "ballast-solvency 2026-12 merkle-sum leaf v1";
const NODE_CONTEXT: &str = "ballast-solvency 2026-12 merkle-sum node v1";
const STATEMENT_CONTEXT: &str = "ballast-solvency 2026-12 asset statement v1";

/// A BLAKE3 output; written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
    /// Parses 64 hex digits (either case); `None` for anything else.
    pub fn from_hex(s: &str) -> Option<Digest> {
        blake3::Hash::from_hex(s.trim())
            .ok()
            .map(|h| Digest(*h.as_bytes()))
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not a 64-hex-digit digest: {s:?}")))
    }
}

fn finish(h: blake3::Hasher) -> Digest {
    Digest(*h.finalize().as_bytes())
}

/// Leaf of account `account` in the tree of `asset`: commits to the account, its salt and its
/// liability (the asset id too, so a leaf cannot be replayed in another asset's tree).
pub fn leaf(asset: u16, account: u32, salt: &Digest, liability: i128) -> Digest {
    let mut h = blake3::Hasher::new_derive_key(LEAF_CONTEXT);
    h.update(&asset.to_le_bytes());
    h.update(&account.to_le_bytes());
    h.update(&salt.0);
    h.update(&liability.to_le_bytes());
    finish(h)
}

/// Inner node: both children's hashes and both children's sums (Hu, Zhang & Guo 2019 fix).
pub fn node(left: &Digest, left_sum: i128, right: &Digest, right_sum: i128) -> Digest {
    let mut h = blake3::Hasher::new_derive_key(NODE_CONTEXT);
    h.update(&left.0);
    h.update(&left_sum.to_le_bytes());
    h.update(&right.0);
    h.update(&right_sum.to_le_bytes());
    finish(h)
}

/// The fields of a published statement, in the order they are hashed.
pub struct StatementFields<'a> {
    pub asset: u16,
    pub seq: u64,
    pub time_ms: i64,
    pub tree_root: &'a Digest,
    pub leaves: u64,
    pub liabilities: i128,
    pub held: i128,
    pub receivables: i128,
}

/// The published root of one asset: binds the tree root to the stated totals and the ledger
/// position (sequence number, time), so a verifier needs only this one hash.
pub fn statement(f: &StatementFields<'_>) -> Digest {
    let mut h = blake3::Hasher::new_derive_key(STATEMENT_CONTEXT);
    h.update(&f.asset.to_le_bytes());
    h.update(&f.seq.to_le_bytes());
    h.update(&f.time_ms.to_le_bytes());
    h.update(&f.tree_root.0);
    h.update(&f.leaves.to_le_bytes());
    h.update(&f.liabilities.to_le_bytes());
    h.update(&f.held.to_le_bytes());
    h.update(&f.receivables.to_le_bytes());
    finish(h)
}
