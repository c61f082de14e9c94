//! Why a proof could not be built or did not verify. Typed, so a caller (the CLI, a test)
//! can tell a tampered proof from an insolvent statement from a malformed input.

use ballast_engine::ids::{AccountId, AssetId};
use ballast_engine::Reject;

/// Building the trees failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProveError {
    #[error("the secret is {got} bytes; at least {min} are required")]
    SecretTooShort { got: usize, min: usize },
    #[error("the engine cannot value {account}: {reject}")]
    Valuation { account: AccountId, reject: Reject },
    #[error("{what} of {asset} does not fit 128 bits")]
    Overflow { asset: AssetId, what: &'static str },
    #[error("{asset}: the ledger reports negative holdings {held}")]
    NegativeHoldings { asset: AssetId, held: i128 },
    #[error("the ledger has no accounts: there is nothing to prove")]
    NoAccounts,
    #[error("{account} is not in the ledger")]
    UnknownAccount { account: AccountId },
}

/// An inclusion proof or statement was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("proof format version {got} is not supported (expected {expected})")]
    Version { got: u32, expected: u32 },
    #[error("the proof file holds no asset proofs")]
    Empty,
    #[error("{asset}: negative amount {value} in the {what}")]
    Negative {
        asset: AssetId,
        what: &'static str,
        value: i128,
    },
    #[error(
        "{asset}: the path has {len} steps, more than the {max} a tree of the stated size has"
    )]
    PathTooLong {
        asset: AssetId,
        len: usize,
        max: usize,
    },
    #[error("{asset}: a sum along the path does not fit 128 bits")]
    Overflow { asset: AssetId },
    #[error("{asset}: the path leads to tree root {computed}, not the stated {stated}")]
    TreeRoot {
        asset: AssetId,
        computed: String,
        stated: String,
    },
    #[error("{asset}: the path sums to liabilities {computed}, not the stated {stated}")]
    Total {
        asset: AssetId,
        computed: i128,
        stated: i128,
    },
    #[error("{asset}: statement {root} is not among the published roots")]
    UnknownRoot { asset: AssetId, root: String },
    #[error("{asset}: liabilities {liabilities} exceed assets {assets} (held + receivables)")]
    Insolvent {
        asset: AssetId,
        liabilities: i128,
        assets: i128,
    },
}
