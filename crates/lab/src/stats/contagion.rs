//! The contagion section's data as the summary and shard files carry it (rows in USD); built
//! by `report::contagion` from `ballast-solvency`'s graph, kept here so the summary does not
//! depend on the report.

use serde::{Deserialize, Serialize};

/// One edge, by node names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeRow {
    pub kind: String,
    pub a: String,
    pub b: String,
    pub via: Option<String>,
    pub weight_usd: f64,
}

/// One node's loss under the shock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossRow {
    pub node: String,
    pub accounts: usize,
    pub below_maintenance_after: usize,
    pub bad_debt_before_usd: f64,
    pub bad_debt_after_usd: f64,
    pub loss_usd: f64,
}

/// The section's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContagionView {
    pub shocked: String,
    pub pct: f64,
    pub edges: Vec<EdgeRow>,
    pub losses: Vec<LossRow>,
}
