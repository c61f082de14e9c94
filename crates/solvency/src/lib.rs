//! Proof of solvency without exposing balances, and the contagion map of shared exposure.
//!
//! Where things live:
//! - [`dec`]: exact decimals: `i128` JSON fields as strings, native units as whole tokens.
//! - [`digest`]: the 32-byte hashes and their domain-separated constructions.
//! - [`salt`]: the prover's secret and the per-account salts derived from it.
//! - [`claims`]: what the clearinghouse owes each account, per asset, read from the engine.
//! - [`tree`]: the Merkle-sum tree and the inclusion proofs it hands out.
//! - [`statement`]: the published per-asset statement (root, liabilities, assets).
//! - [`proof`]: the inclusion-proof JSON and its verifier.
//! - [`prove`]: one call from an [`ballast_engine::Engine`] to statements and proofs.
//! - [`contagion`]: the shared-exposure graph and shocks applied through the engine.
//!
//! What is proven, and what is not, is written down in `crates/solvency/README.md`.

pub mod claims;
pub mod contagion;
pub mod dec;
pub mod digest;
pub mod error;
pub mod proof;
pub mod prove;
pub mod salt;
pub mod statement;
pub mod tree;

pub use claims::{AssetClaims, Claims};
pub use digest::Digest;
pub use error::{ProveError, VerifyError};
pub use proof::{AccountProof, AssetProof, PathStep, Side};
pub use prove::{prove, Solvency};
pub use salt::Secret;
pub use statement::{AssetStatement, PublishedAsset, Statement};
pub use tree::SumTree;
