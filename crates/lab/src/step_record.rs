//! What one path records step by step for the report's time charts (liquidations, liquidated
//! volume, sampled health counts and headroom bins, the attacker's books, path 0's oracle
//! quotes). The recorder fills it; the mergeable
//! sums over paths live in `stats::steps`. It sits below both, so neither imports the other.

/// The attacker's books at the end of one step (quote-native, cumulative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttackMark {
    /// Capital paid into its engine accounts.
    pub deposited: i64,
    /// Quote paid for spot on the venues it moved.
    pub spot_spent: i64,
    /// Gas of every transaction so far.
    pub gas: i64,
    /// Quote borrowed or withdrawn so far.
    pub taken: i64,
    /// Gross notional of its perps plus the value of its non-quote collateral, now.
    pub notional: i64,
    /// Profit if it walked away now (`AttackTally::marked_pnl`).
    pub pnl: i64,
}

impl AttackMark {
    /// Everything it has paid out so far: deposits, spot bought, gas.
    pub fn spent(&self) -> i64 {
        self.deposited
            .saturating_add(self.spot_spent)
            .saturating_add(self.gas)
    }
}

/// Accounts at one sampled step: with something at risk, below initial, below maintenance.
pub type HealthCount = [u32; 3];

/// Upper edges of the maintenance-headroom bins (maintenance health / maintenance
/// requirement); the last bin is open. The same bins as the dashboard's health distribution
/// (`crates/serve/src/risk.rs`, `EDGES`), so a stress report and a live book read alike.
pub const HEADROOM_EDGES: [f64; 6] = [0.0, 0.10, 0.25, 0.50, 1.00, 2.00];
/// Labels of the headroom bins, one more than [`HEADROOM_EDGES`].
pub const HEADROOM_LABELS: [&str; 7] = [
    "< 0 (liquidatable)",
    "0–10 %",
    "10–25 %",
    "25–50 %",
    "50–100 %",
    "100–200 %",
    "≥ 200 %",
];
/// Accounts with a maintenance requirement in each headroom bin at one sampled step.
pub type HeadroomCount = [u32; 7];

/// The headroom bin of a ratio: the first bin whose upper edge is above it.
pub fn headroom_bin(headroom: f64) -> usize {
    HEADROOM_EDGES
        .iter()
        .position(|edge| headroom < *edge)
        .unwrap_or(HEADROOM_EDGES.len())
}

/// At most this many assets get an oracle-sources chart.
pub const ORACLE_ASSETS: usize = 2;

/// One asset's oracle at a sampled step of path 0: what each source sent, what the engine
/// aggregated, and the model's fair price.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OracleMark {
    pub step: u32,
    /// The model (fair) price, USD.
    pub fair: f64,
    /// The engine's aggregate price after the update (`feeds::engine_price`), if it has one.
    pub aggregate: Option<f64>,
    /// `(source, price)` of every quote the feed sent this step (a source in an outage sends
    /// none).
    pub quotes: Vec<(u32, f64)>,
}

// Prices are finite (the models and the feed refuse anything else): equality is reflexive.
impl Eq for OracleMark {}

/// What one path records step by step (not serialized: the aggregate keeps the sums).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepRecord {
    /// Liquidations in each step.
    pub liquidations: Vec<u32>,
    /// Liquidated notional in each step (quote-native).
    pub liq_volume: Vec<i64>,
    /// Health counts at steps `stride, 2·stride, …` ([`health_stride`]).
    pub health: Vec<HealthCount>,
    /// Headroom bins at steps `0, stride, 2·stride, …` (one more than `health`).
    pub headroom: Vec<HeadroomCount>,
    /// Path 0 only, with an `[oracle]`: per asset (the first [`ORACLE_ASSETS`]), the oracle at
    /// the sample-price steps.
    pub oracle: Vec<Vec<OracleMark>>,
    /// The attacker's books at the end of each step (empty without attackers).
    pub attack: Vec<AttackMark>,
}

/// At most this many steps of a path sample the accounts' health (each sample values every
/// account twice, so it costs about one full-book margin pass per point: 25 keeps it to a few
/// per cent of a run while the chart still has a point every 4 % of the horizon).
pub const HEALTH_POINTS: u32 = 25;

/// Steps between health samples for a horizon of `horizon` steps.
pub fn health_stride(horizon: u32) -> u32 {
    horizon.div_ceil(HEALTH_POINTS).max(1)
}

/// The phases of an attack the timeline marks.
pub const PHASES: [&str; 4] = ["capital in", "pump start", "first borrow", "last take"];

impl StepRecord {
    /// Steps (1-based) at which each of [`PHASES`] happened on this path, if it did: the first
    /// deposit, the first spot purchase, the first quote taken, the last step quote was taken.
    pub fn phases(&self) -> [Option<u32>; 4] {
        let first =
            |f: &dyn Fn(&AttackMark) -> bool| self.attack.iter().position(f).map(|i| i as u32 + 1);
        let last_take = (1..self.attack.len())
            .rev()
            .find(|&i| self.attack[i].taken > self.attack[i - 1].taken)
            .map(|i| i as u32 + 1)
            .or_else(|| first(&|m| m.taken > 0));
        [
            first(&|m| m.deposited > 0),
            first(&|m| m.spot_spent > 0),
            first(&|m| m.taken > 0),
            last_take,
        ]
    }
}
