//! The contagion map: which pools, markets and collateral assets share exposure, and what a
//! price shock to one asset costs every pool and market.
//!
//! - [`graph`]: the shared-exposure graph read from the ledger state.
//! - [`shock`]: a shock applied through a clone of the engine itself (a `SetPrice` or
//!   `OracleUpdate` command at the shocked price), with losses read back from the engine's
//!   own account valuation; no separate loss formula.
//! - [`dot`]: Graphviz export.
//! - [`demo`]: a three-pool journal to try it on.

pub mod demo;
pub mod dot;
pub mod graph;
pub mod shock;

pub use graph::{Edge, EdgeKind, Graph, NodeRef};
pub use shock::{apply_shock, NodeLoss, Shock, ShockReport};

/// Why a contagion map or shock could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContagionError {
    #[error("{0} is not in the ledger")]
    UnknownAsset(ballast_engine::ids::AssetId),
    #[error("{0} has no price to shock")]
    NoPrice(ballast_engine::ids::AssetId),
    #[error("a shock of {pct}% is not a price change (must be finite and above -100%)")]
    BadShock { pct: f64 },
    #[error("the engine refused the shocked price of {asset}: {reject}")]
    Refused {
        asset: ballast_engine::ids::AssetId,
        reject: ballast_engine::Reject,
    },
    #[error("the engine accepted the shock to {0} but its price did not move (oracle not fresh?)")]
    NotApplied(ballast_engine::ids::AssetId),
    #[error("the engine cannot value {account}: {reject}")]
    Valuation {
        account: ballast_engine::ids::AccountId,
        reject: ballast_engine::Reject,
    },
    #[error("a {0} does not fit 128 bits")]
    Overflow(&'static str),
}
