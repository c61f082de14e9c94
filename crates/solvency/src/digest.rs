//! 32-byte BLAKE3 digests and the three hashes of the construction, each keyed by its own
//! domain key (derived from a context string in BLAKE3's `derive_key` mode) so that a leaf can
//! never be read as a node or a statement.
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

/// One BLAKE3 key per domain, derived once from its context string (`derive_key` mode); each
/// hash is then a single keyed BLAKE3 call over a fixed-layout buffer.
struct Keys {
    leaf: [u8; 32],
    node: [u8; 32],
    statement: [u8; 32],
}

fn keys() -> &'static Keys {
    static KEYS: std::sync::OnceLock<Keys> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| Keys {
        leaf: blake3::derive_key(LEAF_CONTEXT, b""),
        node: blake3::derive_key(NODE_CONTEXT, b""),
        statement: blake3::derive_key(STATEMENT_CONTEXT, b""),
    })
}

fn keyed(key: &[u8; 32], bytes: &[u8]) -> Digest {
    Digest(*blake3::keyed_hash(key, bytes).as_bytes())
}

/// Leaf of account `account` in the tree of `asset`: commits to the account, its salt and its
/// liability (the asset id too, so a leaf cannot be replayed in another asset's tree).
pub fn leaf(asset: u16, account: u32, salt: &Digest, liability: i128) -> Digest {
    let mut b = [0u8; 54];
    b[..2].copy_from_slice(&asset.to_le_bytes());
    b[2..6].copy_from_slice(&account.to_le_bytes());
    b[6..38].copy_from_slice(&salt.0);
    b[38..].copy_from_slice(&liability.to_le_bytes());
    keyed(&keys().leaf, &b)
}

/// Inner node: both children's hashes and both children's sums (Hu, Zhang & Guo 2019 fix).
pub fn node(left: &Digest, left_sum: i128, right: &Digest, right_sum: i128) -> Digest {
    let mut b = [0u8; 96];
    b[..32].copy_from_slice(&left.0);
    b[32..48].copy_from_slice(&left_sum.to_le_bytes());
    b[48..80].copy_from_slice(&right.0);
    b[80..].copy_from_slice(&right_sum.to_le_bytes());
    keyed(&keys().node, &b)
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
    let mut h = blake3::Hasher::new_keyed(&keys().statement);
    h.update(&f.asset.to_le_bytes());
    h.update(&f.seq.to_le_bytes());
    h.update(&f.time_ms.to_le_bytes());
    h.update(&f.tree_root.0);
    h.update(&f.leaves.to_le_bytes());
    h.update(&f.liabilities.to_le_bytes());
    h.update(&f.held.to_le_bytes());
    h.update(&f.receivables.to_le_bytes());
    Digest(*h.finalize().as_bytes())
}
