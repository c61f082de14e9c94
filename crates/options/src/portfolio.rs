//! Portfolio margin as pure math: revalue a whole multi-underlying account (European options and
//! linear perps) under a grid of correlated spot × volatility shocks; the requirement is the
//! worst scenario loss plus contingencies. Also Greeks aggregation per account and underlying.
//!
//! Method (after Derive v2 PMRM, `derivexyz/v2-core` `PMRMLib`: reprice every position under each
//! spot × vol scenario, margin = worst scenario loss + contingencies; vol shocks scaled
//! `(30d / max(τ, floor))^power` so short expiries get bigger shocks). Ballast adds what PMRM
//! lacks — several underlyings in one account with correlated shocks:
//!
//! * Each underlying `i` has a stress range `spot_range_i` (e.g. 0.2 = ±20%). A joint spot
//!   scenario is `shock_i = m · x_i · spot_range_i` for a level `m` in `params.spot_levels` and a
//!   direction `x` on the boundary of the correlation ellipsoid `{x : xᵀC⁻¹x ≤ 1}` (in units of
//!   each range).
//! * Directions used: (a) every column of `C` — "underlying `i` moves its full range, the others
//!   move by their correlation with it" (the conditional expectation of a joint Gaussian move),
//!   which guarantees every underlying alone is stressed to its full range; (b) every principal
//!   axis `±√λ_k·v_k` of `C` (eigen-decomposition by cyclic Jacobi), which captures the
//!   spread directions (long one asset, short a correlated one). Both families lie on the
//!   ellipsoid, so no scenario is less plausible than "one asset moves its full range".
//! * `C` must be symmetric with unit diagonal and entries in [−1, 1] and positive semi-definite
//!   (smallest eigenvalue ≥ −1e-10), otherwise [`OptionsError::InvalidCorrelation`].
//! * Vol scenarios: none, up `σ·(1 + range_up·f(τ))`, down `σ·(1 − range_down·f(τ))`, with
//!   `f(τ) = (30 d / max(τ_days, floor_days))^p`, `p = short_term_power` below 30 days,
//!   `long_term_power` above (Derive v2 `VolShockParameters`).
//! * Requirement = `max(0, −min_s PnL_s)` + short-option contingency
//!   (`short_option_pct · spot` per short contract, Derive `optionPercent`) + perp contingency
//!   (`perp_pct · spot · |size|`, Derive `perpPercent`) + oracle-confidence contingency
//!   (`oracle_conf_multiplier · confidence · spot · gross contracts`, after Derive's
//!   `oracleConfMargin`).
//!
//! Portfolio files are JSON (see `tests/data/portfolio_example.json`); [`margin_from_json`] is
//! the one call a CLI needs, and [`MarginResult`] serialises to a self-explanatory report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::batch::{prices_only, BatchInput};
use crate::error::{finite, positive, OptionsError, Result};
use crate::pricing::{bsm_unchecked, validate_t, Greeks, OptionKind};
use crate::surface::{GridSurface, SviParams, SviSurface};

/// Market data of one underlying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnderlyingMarket {
    /// Identifier, e.g. `"BTC"`.
    pub name: String,
    /// Spot (index) price, > 0.
    pub spot: f64,
    /// Default implied volatility for its options (positions may override), > 0.
    pub vol: f64,
    /// Risk-free rate.
    #[serde(default)]
    pub rate: f64,
    /// Continuous carry yield q (BSM with b = r − q).
    #[serde(default)]
    pub carry_yield: f64,
    /// Stress range of the spot as a fraction, in (0, 1): a level-1 scenario moves it this much.
    pub spot_range: f64,
    /// Oracle confidence as a fraction of price (0 = perfectly known). Required: it sizes a
    /// contingency, so a missing value is not silently 0.
    pub oracle_confidence: f64,
    /// Optional implied-volatility surface; when present, an option without its own `vol`
    /// reads its vol at `k = ln(K/F)`, `F = S·e^{(r−q)τ}` (validated against arbitrage).
    #[serde(default)]
    pub surface: Option<SurfaceSpec>,
}

/// A volatility surface inside a portfolio file (see [`crate::surface`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SurfaceSpec {
    /// Raw-SVI slices, one per expiry.
    Svi {
        /// Slices in increasing expiry.
        slices: Vec<SviSlice>,
    },
    /// Vols on an expiry × log-moneyness grid.
    Grid {
        /// Expiries in years, increasing.
        expiries: Vec<f64>,
        /// Log-moneyness nodes ln(K/F), increasing.
        log_moneyness: Vec<f64>,
        /// `vols[i][j]` at `expiries[i]`, `log_moneyness[j]`.
        vols: Vec<Vec<f64>>,
    },
}

/// One SVI slice of a [`SurfaceSpec::Svi`]: `{"t", "a", "b", "rho", "m", "sigma"}` in a file
/// (through [`SviSliceFields`], since serde cannot refuse unknown fields next to a `flatten`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "SviSliceFields", into = "SviSliceFields")]
pub struct SviSlice {
    /// Expiry in years.
    pub t: f64,
    /// Raw SVI parameters.
    pub params: SviParams,
}

/// The flat file form of an [`SviSlice`]; any other field is an error naming it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SviSliceFields {
    /// Expiry in years.
    pub t: f64,
    /// Level a.
    pub a: f64,
    /// Slope b.
    pub b: f64,
    /// Skew ρ.
    pub rho: f64,
    /// Shift m.
    pub m: f64,
    /// Curvature σ.
    pub sigma: f64,
}

impl From<SviSliceFields> for SviSlice {
    fn from(f: SviSliceFields) -> Self {
        let SviSliceFields {
            t,
            a,
            b,
            rho,
            m,
            sigma,
        } = f;
        SviSlice {
            t,
            params: SviParams {
                a,
                b,
                rho,
                m,
                sigma,
            },
        }
    }
}

impl From<SviSlice> for SviSliceFields {
    fn from(s: SviSlice) -> Self {
        let SviParams {
            a,
            b,
            rho,
            m,
            sigma,
        } = s.params;
        SviSliceFields {
            t: s.t,
            a,
            b,
            rho,
            m,
            sigma,
        }
    }
}

/// A validated surface, ready to read vols from (what a [`SurfaceSpec`] builds into). Stored by
/// the engine so each read skips the arbitrage checks already passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BuiltSurface {
    /// Raw-SVI slices.
    Svi(SviSurface),
    /// Expiry × log-moneyness grid.
    Grid(GridSurface),
}

impl BuiltSurface {
    /// Builds and validates (calendar and butterfly arbitrage, positive vols).
    pub fn build(spec: &SurfaceSpec) -> Result<Self> {
        Ok(match spec {
            SurfaceSpec::Svi { slices } => BuiltSurface::Svi(SviSurface::new(
                slices.iter().map(|s| (s.t, s.params)).collect(),
            )?),
            SurfaceSpec::Grid {
                expiries,
                log_moneyness,
                vols,
            } => BuiltSurface::Grid(GridSurface::new(
                expiries.clone(),
                log_moneyness.clone(),
                vols.clone(),
            )?),
        })
    }

    /// Implied vol at expiry `t` (years) and log-moneyness `k = ln(K/F)`.
    pub fn implied_vol(&self, t: f64, k: f64) -> Result<f64> {
        match self {
            BuiltSurface::Svi(s) => s.implied_vol(t, k),
            BuiltSurface::Grid(g) => g.implied_vol(t, k),
        }
    }
}

/// One position of the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Position {
    /// European option, cash-settled.
    Option {
        /// Underlying name.
        underlying: String,
        /// Call or put.
        kind: OptionKind,
        /// Strike, > 0.
        strike: f64,
        /// Time to expiry τ in years, > 0.
        expiry_years: f64,
        /// Signed number of contracts (negative = short).
        quantity: f64,
        /// Implied vol of this strike/expiry (e.g. from a [`crate::surface`]); defaults to the
        /// underlying's vol.
        #[serde(default)]
        vol: Option<f64>,
    },
    /// Linear perpetual future.
    Perp {
        /// Underlying name.
        underlying: String,
        /// Signed size in units of the underlying (negative = short).
        size: f64,
    },
}

impl Position {
    fn underlying(&self) -> &str {
        match self {
            Position::Option { underlying, .. } | Position::Perp { underlying, .. } => underlying,
        }
    }
}

/// Correlation matrix across underlyings, rows/columns in the order of `underlyings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correlation {
    /// Names of the rows/columns.
    pub underlyings: Vec<String>,
    /// Row-major matrix.
    pub matrix: Vec<Vec<f64>>,
}

/// Scenario-grid and contingency parameters (defaults are illustrative, not calibrated; they
/// are listed in the crate README, and a field left out of a file takes its default there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarginParams {
    /// Levels `m` multiplying each direction; each in [−1, 1], 0 excluded (always included).
    pub spot_levels: Vec<f64>,
    /// Maximum relative vol-up shock at 30 days.
    pub vol_range_up: f64,
    /// Maximum relative vol-down shock at 30 days.
    pub vol_range_down: f64,
    /// Power p of `(30d/τ)^p` for τ < 30 days.
    pub short_term_power: f64,
    /// Power p of `(30d/τ)^p` for τ ≥ 30 days.
    pub long_term_power: f64,
    /// Floor on τ in days in the vol-shock scaling.
    pub dte_floor_days: f64,
    /// Contingency per short option contract, as a fraction of spot.
    pub short_option_pct: f64,
    /// Contingency per unit of perp size, as a fraction of spot.
    pub perp_pct: f64,
    /// Multiplier on the oracle confidence contingency.
    pub oracle_conf_multiplier: f64,
}

impl Default for MarginParams {
    fn default() -> Self {
        Self {
            spot_levels: vec![-1.0, -0.5, 0.5, 1.0],
            vol_range_up: 0.5,
            vol_range_down: 0.25,
            short_term_power: 0.3,
            long_term_power: 0.2,
            dte_floor_days: 1.0,
            short_option_pct: 0.005,
            perp_pct: 0.0,
            oracle_conf_multiplier: 1.0,
        }
    }
}

/// A whole portfolio file: market data, correlation, positions and parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioFile {
    /// Market data per underlying.
    pub market: Vec<UnderlyingMarket>,
    /// Correlation across the underlyings; may be omitted with one underlying.
    #[serde(default)]
    pub correlation: Option<Correlation>,
    /// The account's positions.
    pub positions: Vec<Position>,
    /// Scenario and contingency parameters.
    #[serde(default)]
    pub params: MarginParams,
}

/// Vol leg of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VolShock {
    /// Vols unchanged.
    None,
    /// Vols shocked up.
    Up,
    /// Vols shocked down.
    Down,
}

/// How a scenario's spot direction was built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// No spot move.
    Flat,
    /// Underlying `driver` moves its full range, the others by their correlation with it.
    Driver {
        /// The driving underlying.
        driver: String,
    },
    /// Principal axis `k` of the correlation matrix (eigenvalue `eigenvalue`).
    Principal {
        /// Index of the axis (largest eigenvalue first).
        k: usize,
        /// Its eigenvalue.
        eigenvalue: f64,
    },
}

/// One underlying's leg of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnderlyingShock {
    /// Underlying name.
    pub underlying: String,
    /// Relative spot shock (−0.2 = −20%).
    pub spot_shock: f64,
    /// Spot after the shock.
    pub shocked_spot: f64,
    /// Vol multiplier this scenario applies to a 30-day option of this underlying; an option
    /// expiring in τ gets the shock scaled by `(30 d / max(τ, floor))^p`.
    pub vol_multiplier_30d: f64,
}

/// A scenario and the account's PnL in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Index in the scenario list.
    pub index: usize,
    /// Spot direction family.
    pub direction: Direction,
    /// Level m applied to the direction.
    pub level: f64,
    /// Vol leg.
    pub vol_shock: VolShock,
    /// Spot legs per underlying.
    pub shocks: Vec<UnderlyingShock>,
    /// Account PnL in this scenario (negative = loss).
    pub pnl: f64,
}

/// Per-position line of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionReport {
    /// Index in the input.
    pub index: usize,
    /// The position as given in the input.
    pub position: Position,
    /// Current mark-to-market value (0 for a perp: PnL only).
    pub value: f64,
    /// PnL in the worst scenario of the account.
    pub pnl_in_worst: f64,
    /// Requirement of this position held alone (worst loss over the same scenarios plus its
    /// own contingencies).
    pub standalone_requirement: f64,
    /// Position Greeks (quantity-weighted).
    pub greeks: Greeks,
}

/// Kind of contingency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContingencyKind {
    /// Per short option contract × spot.
    ShortOption,
    /// Per perp unit × spot.
    Perp,
    /// Oracle confidence × spot × gross contracts.
    OracleConfidence,
}

/// One contingency add-on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contingency {
    /// Which contingency.
    pub kind: ContingencyKind,
    /// On which underlying.
    pub underlying: String,
    /// Amount added to the requirement.
    pub amount: f64,
}

/// Summed Greeks (delta in underlying units and in quote currency).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GreeksSum {
    /// Σ quantity·∂V/∂S (+ perp size).
    pub delta: f64,
    /// Σ quantity·∂V/∂S·S: delta in quote currency (summable across underlyings).
    pub delta_notional: f64,
    /// Σ quantity·∂²V/∂S².
    pub gamma: f64,
    /// Σ quantity·vega (per 1.00 vol).
    pub vega: f64,
    /// Σ quantity·theta (per year).
    pub theta: f64,
}

/// Greeks per underlying and for the whole account.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AccountGreeks {
    /// Per underlying, by name.
    pub per_underlying: BTreeMap<String, GreeksSum>,
    /// Account totals (delta and gamma summed across underlyings mix units; use
    /// `delta_notional` for a currency figure).
    pub total: GreeksSum,
}

/// Result of a portfolio margin computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarginResult {
    /// Total requirement = `scenario_loss + Σ contingencies`.
    pub requirement: f64,
    /// `max(0, −worst PnL)`.
    pub scenario_loss: f64,
    /// Sum of contingencies.
    pub contingency_total: f64,
    /// Scenario with the lowest PnL (first one on ties).
    pub worst_scenario: ScenarioReport,
    /// Number of scenarios evaluated.
    pub scenarios_evaluated: usize,
    /// Per-position breakdown.
    pub positions: Vec<PositionReport>,
    /// Contingencies, each with its underlying.
    pub contingencies: Vec<Contingency>,
    /// Σ standalone requirements, for comparison with `requirement`.
    pub sum_of_standalone: f64,
    /// Aggregated Greeks.
    pub greeks: AccountGreeks,
}

/// Parses a JSON portfolio file and computes its margin.
pub fn margin_from_json(text: &str) -> Result<MarginResult> {
    cap("portfolio file bytes", text.len(), caps::FILE_BYTES)?;
    let file: PortfolioFile =
        serde_json::from_str(text).map_err(|e| OptionsError::Parse(e.to_string()))?;
    compute_margin(&file)
}

/// Hard limits on a portfolio, so that a file's size cannot turn into unbounded memory or time.
/// Each is reported as [`OptionsError::OverCap`] naming it.
pub mod caps {
    /// Largest portfolio JSON text, bytes.
    pub const FILE_BYTES: usize = 8 << 20;
    /// Most positions in one account.
    pub const POSITIONS: usize = 10_000;
    /// Most underlyings in one account.
    pub const UNDERLYINGS: usize = 64;
    /// Most entries of `params.spot_levels`.
    pub const SPOT_LEVELS: usize = 32;
    /// Most nodes of one surface (SVI slices, or grid expiries × log-moneyness).
    pub const SURFACE_NODES: usize = 10_000;
    /// Most position revaluations (positions × scenarios) in one margin computation.
    pub const REVALUATIONS: usize = 2_000_000;
}

fn cap(what: &'static str, value: usize, max: usize) -> Result<()> {
    if value > max {
        return Err(OptionsError::OverCap { what, value, max });
    }
    Ok(())
}

/// The size caps that can be checked before any work.
fn check_caps(file: &PortfolioFile) -> Result<()> {
    cap("positions", file.positions.len(), caps::POSITIONS)?;
    cap("market (underlyings)", file.market.len(), caps::UNDERLYINGS)?;
    cap(
        "params.spot_levels",
        file.params.spot_levels.len(),
        caps::SPOT_LEVELS,
    )?;
    for m in &file.market {
        let nodes = match &m.surface {
            None => 0,
            Some(SurfaceSpec::Svi { slices }) => slices.len(),
            Some(SurfaceSpec::Grid { vols, .. }) => vols.iter().map(Vec::len).sum(),
        };
        cap("surface nodes", nodes, caps::SURFACE_NODES)?;
    }
    Ok(())
}

struct Prepared {
    names: Vec<String>,
    idx: BTreeMap<String, usize>,
    /// Vol of each position (position override, else surface, else flat); 0 for perps.
    vols: Vec<f64>,
}

fn prepare(file: &PortfolioFile) -> Result<Prepared> {
    let mut idx = BTreeMap::new();
    let mut names = Vec::new();
    for (i, m) in file.market.iter().enumerate() {
        positive("spot", m.spot)?;
        positive("vol", m.vol)?;
        finite("rate", m.rate)?;
        finite("carry_yield", m.carry_yield)?;
        if !(m.spot_range > 0.0 && m.spot_range < 1.0) {
            return Err(OptionsError::InvalidInput {
                field: "spot_range",
                value: m.spot_range,
                rule: "must be in (0, 1)",
            });
        }
        if !(m.oracle_confidence >= 0.0 && m.oracle_confidence.is_finite()) {
            return Err(OptionsError::InvalidInput {
                field: "oracle_confidence",
                value: m.oracle_confidence,
                rule: "must be finite and >= 0",
            });
        }
        if idx.insert(m.name.clone(), i).is_some() {
            return Err(OptionsError::Parse(format!(
                "underlying {:?} listed twice",
                m.name
            )));
        }
        names.push(m.name.clone());
    }
    let p = &file.params;
    for &l in &p.spot_levels {
        if !(l.is_finite() && l != 0.0 && (-1.0..=1.0).contains(&l)) {
            return Err(OptionsError::InvalidInput {
                field: "spot_levels",
                value: l,
                rule: "each level must be in [-1, 1] and non-zero",
            });
        }
    }
    positive("dte_floor_days", p.dte_floor_days)?;
    for (f, v) in [
        ("vol_range_up", p.vol_range_up),
        ("vol_range_down", p.vol_range_down),
        ("short_term_power", p.short_term_power),
        ("long_term_power", p.long_term_power),
        ("short_option_pct", p.short_option_pct),
        ("perp_pct", p.perp_pct),
        ("oracle_conf_multiplier", p.oracle_conf_multiplier),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(OptionsError::InvalidInput {
                field: f,
                value: v,
                rule: "must be finite and >= 0",
            });
        }
    }
    // The largest down-shock (at the floor) must leave a positive vol.
    let max_scale = libm::pow((30.0 / p.dte_floor_days).max(1.0), p.short_term_power);
    if p.vol_range_down * max_scale >= 1.0 {
        return Err(OptionsError::InvalidInput {
            field: "vol_range_down",
            value: p.vol_range_down,
            rule: "vol_range_down·(30/dte_floor_days)^short_term_power must be < 1 (vol stays > 0)",
        });
    }
    for pos in &file.positions {
        if !idx.contains_key(pos.underlying()) {
            return Err(OptionsError::UnknownUnderlying(
                pos.underlying().to_string(),
            ));
        }
        match pos {
            Position::Option {
                strike,
                expiry_years,
                quantity,
                vol,
                ..
            } => {
                positive("strike", *strike)?;
                validate_t(*expiry_years)?;
                finite("quantity", *quantity)?;
                if let Some(v) = vol {
                    positive("vol", *v)?;
                }
            }
            Position::Perp { size, .. } => {
                finite("size", *size)?;
            }
        }
    }
    // Resolve every option's vol once, reading surfaces where given.
    let mut surfaces = Vec::with_capacity(file.market.len());
    for m in &file.market {
        surfaces.push(match &m.surface {
            Some(spec) => Some(BuiltSurface::build(spec)?),
            None => None,
        });
    }
    let mut vols = Vec::with_capacity(file.positions.len());
    for pos in &file.positions {
        let ui = idx[pos.underlying()];
        let m = &file.market[ui];
        vols.push(match pos {
            Position::Perp { .. } => 0.0,
            Position::Option { vol: Some(v), .. } => *v,
            Position::Option {
                strike,
                expiry_years,
                ..
            } => match &surfaces[ui] {
                Some(sf) => {
                    let fwd = m.spot * libm::exp((m.rate - m.carry_yield) * expiry_years);
                    positive(
                        "surface vol",
                        sf.implied_vol(*expiry_years, libm::log(strike / fwd))?,
                    )?
                }
                None => m.vol,
            },
        });
    }
    Ok(Prepared { names, idx, vols })
}

/// Validates a correlation matrix and returns it reordered to `names`.
fn correlation_matrix(file: &PortfolioFile, prep: &Prepared) -> Result<Vec<Vec<f64>>> {
    let n = prep.names.len();
    let Some(c) = &file.correlation else {
        if n <= 1 {
            return Ok(vec![vec![1.0; n]; n]);
        }
        return Err(OptionsError::InvalidCorrelation {
            detail: format!("{n} underlyings but no correlation matrix"),
        });
    };
    if c.underlyings.len() != n || c.matrix.len() != n || c.matrix.iter().any(|r| r.len() != n) {
        return Err(OptionsError::InvalidCorrelation {
            detail: format!("matrix must be {n}×{n} and name every underlying once"),
        });
    }
    // pos[i] = row of the file's matrix holding market underlying i.
    let mut pos = vec![usize::MAX; n];
    for (row, name) in c.underlyings.iter().enumerate() {
        let i = *prep
            .idx
            .get(name)
            .ok_or_else(|| OptionsError::UnknownUnderlying(name.clone()))?;
        if pos[i] != usize::MAX {
            return Err(OptionsError::InvalidCorrelation {
                detail: format!("{name:?} listed twice"),
            });
        }
        pos[i] = row;
    }
    let m: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| c.matrix[pos[i]][pos[j]]).collect())
        .collect();
    validate_correlation(&m)?;
    Ok(m)
}

/// Checks symmetry, unit diagonal, entries in [−1, 1] and positive semi-definiteness
/// (eigenvalues by cyclic Jacobi, smallest ≥ −1e-10). Returns eigenvalues (descending) and
/// eigenvectors (as columns, sign fixed so the largest component is positive).
#[allow(clippy::needless_range_loop)] // matrix indices read clearer than zipped iterators
pub fn validate_correlation(m: &[Vec<f64>]) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
    let n = m.len();
    for i in 0..n {
        if m[i].len() != n {
            return Err(OptionsError::InvalidCorrelation {
                detail: "matrix is not square".into(),
            });
        }
        if (m[i][i] - 1.0).abs() > 1e-12 {
            return Err(OptionsError::InvalidCorrelation {
                detail: format!("diagonal entry {i} is {} (must be 1)", m[i][i]),
            });
        }
        for j in 0..n {
            let v = m[i][j];
            if !(v.is_finite() && (-1.0..=1.0).contains(&v)) {
                return Err(OptionsError::InvalidCorrelation {
                    detail: format!("entry ({i},{j}) = {v} outside [-1, 1]"),
                });
            }
            if (v - m[j][i]).abs() > 1e-12 {
                return Err(OptionsError::InvalidCorrelation {
                    detail: format!("not symmetric at ({i},{j})"),
                });
            }
        }
    }
    let (vals, vecs) = jacobi_eigen(m);
    if let Some(&min) = vals.last() {
        if min < -1e-10 {
            return Err(OptionsError::InvalidCorrelation {
                detail: format!("not positive semi-definite: smallest eigenvalue {min:.6}"),
            });
        }
    }
    Ok((vals, vecs))
}

/// Cyclic Jacobi eigen-decomposition of a small symmetric matrix (Golub & Van Loan,
/// *Matrix Computations* §8.5). Deterministic: fixed sweep order, fixed iteration cap.
#[allow(clippy::needless_range_loop)] // Jacobi rotations index rows and columns
fn jacobi_eigen(m: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m.to_vec();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]).then(i.cmp(&j)));
    let vals = order.iter().map(|&i| a[i][i]).collect();
    let vecs = order
        .iter()
        .map(|&k| {
            let mut col: Vec<f64> = (0..n).map(|i| v[i][k]).collect();
            let big = col
                .iter()
                .copied()
                .fold(0.0_f64, |b, x| if x.abs() > b.abs() { x } else { b });
            if big < 0.0 {
                col.iter_mut().for_each(|x| *x = -*x);
            }
            col
        })
        .collect();
    (vals, vecs)
}

struct Scenario {
    direction: Direction,
    level: f64,
    vol_shock: VolShock,
    /// Relative spot shock per underlying (market order).
    shocks: Vec<f64>,
}

fn build_scenarios(
    file: &PortfolioFile,
    prep: &Prepared,
    corr: &[Vec<f64>],
) -> Result<Vec<Scenario>> {
    let n = prep.names.len();
    let (vals, vecs) = validate_correlation(corr)?;
    let mut dirs: Vec<(Direction, Vec<f64>)> = Vec::new();
    for (i, name) in prep.names.iter().enumerate() {
        dirs.push((
            Direction::Driver {
                driver: name.clone(),
            },
            (0..n).map(|j| corr[j][i]).collect(),
        ));
    }
    for (k, (&lam, vec)) in vals.iter().zip(&vecs).enumerate() {
        if lam <= 1e-12 {
            continue;
        }
        let x: Vec<f64> = vec.iter().map(|v| v * lam.sqrt()).collect();
        let dup = dirs.iter().any(|(_, d)| {
            d.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-12)
                || d.iter().zip(&x).all(|(a, b)| (a + b).abs() < 1e-12)
        });
        if !dup {
            dirs.push((Direction::Principal { k, eigenvalue: lam }, x));
        }
    }
    let mut out = Vec::new();
    for vs in [VolShock::None, VolShock::Up, VolShock::Down] {
        out.push(Scenario {
            direction: Direction::Flat,
            level: 0.0,
            vol_shock: vs,
            shocks: vec![0.0; n],
        });
        for (d, x) in &dirs {
            for &m in &file.params.spot_levels {
                out.push(Scenario {
                    direction: d.clone(),
                    level: m,
                    vol_shock: vs,
                    shocks: x
                        .iter()
                        .zip(&file.market)
                        .map(|(xi, mk)| m * xi * mk.spot_range)
                        .collect(),
                });
            }
        }
    }
    Ok(out)
}

/// Vol-shock scale `(30 d / max(τ_days, floor))^p` (Derive v2 PMRM `VolShockParameters`).
fn vol_scale(p: &MarginParams, tau_years: f64) -> f64 {
    let days = (tau_years * 365.0).max(p.dte_floor_days);
    let power = if days < 30.0 {
        p.short_term_power
    } else {
        p.long_term_power
    };
    libm::pow(30.0 / days, power)
}

/// Aggregated Greeks of the account (per underlying and total).
pub fn aggregate_greeks(file: &PortfolioFile) -> Result<AccountGreeks> {
    let prep = prepare(file)?;
    let per_pos = position_greeks(file, &prep)?;
    Ok(sum_greeks(file, &prep, &per_pos))
}

/// Quantity-weighted Greeks of every position (scalar pricer, validated inputs; an overflowing
/// combination is reported against its position).
fn position_greeks(file: &PortfolioFile, prep: &Prepared) -> Result<Vec<Greeks>> {
    let mut out = Vec::with_capacity(file.positions.len());
    for (pi, pos) in file.positions.iter().enumerate() {
        let m = &file.market[prep.idx[pos.underlying()]];
        out.push(match pos {
            Position::Option {
                kind,
                strike,
                expiry_years,
                quantity,
                ..
            } => {
                let g = bsm_unchecked(
                    *kind,
                    m.spot,
                    *strike,
                    *expiry_years,
                    m.rate,
                    m.carry_yield,
                    prep.vols[pi],
                );
                let g = Greeks {
                    price: quantity * g.price,
                    delta: quantity * g.delta,
                    gamma: quantity * g.gamma,
                    vega: quantity * g.vega,
                    theta: quantity * g.theta,
                    rho: quantity * g.rho,
                };
                if ![g.price, g.delta, g.gamma, g.vega, g.theta, g.rho]
                    .iter()
                    .all(|x| x.is_finite())
                {
                    return Err(OptionsError::Position {
                        index: pi,
                        source: Box::new(OptionsError::NonFiniteResult {
                            what: "option value or Greeks",
                        }),
                    });
                }
                g
            }
            Position::Perp { size, .. } => Greeks {
                delta: *size,
                ..Greeks::default()
            },
        });
    }
    Ok(out)
}

fn sum_greeks(file: &PortfolioFile, prep: &Prepared, per_pos: &[Greeks]) -> AccountGreeks {
    let mut acc = AccountGreeks::default();
    for (pos, g) in file.positions.iter().zip(per_pos) {
        let m = &file.market[prep.idx[pos.underlying()]];
        let add = GreeksSum {
            delta: g.delta,
            delta_notional: g.delta * m.spot,
            gamma: g.gamma,
            vega: g.vega,
            theta: g.theta,
        };
        for s in [
            acc.per_underlying.entry(m.name.clone()).or_default(),
            &mut acc.total,
        ] {
            s.delta += add.delta;
            s.delta_notional += add.delta_notional;
            s.gamma += add.gamma;
            s.vega += add.vega;
            s.theta += add.theta;
        }
    }
    acc
}

/// Computes the portfolio margin of `file` (see the module doc for the method).
pub fn compute_margin(file: &PortfolioFile) -> Result<MarginResult> {
    check_caps(file)?;
    let prep = prepare(file)?;
    let corr = correlation_matrix(file, &prep)?;
    let scenarios = build_scenarios(file, &prep, &corr)?;
    let ns = scenarios.len();
    let np = file.positions.len();
    // Memory and time are proportional to positions × scenarios (about 64 bytes each).
    cap(
        "positions × scenarios",
        np.saturating_mul(ns),
        caps::REVALUATIONS,
    )?;
    let params = &file.params;

    // Shocked spot of every underlying in every scenario, scenario-major per underlying.
    let nu = file.market.len();
    let mut shocked_spot = vec![0.0; nu * ns];
    for (ui, m) in file.market.iter().enumerate() {
        for (s, sc) in scenarios.iter().enumerate() {
            shocked_spot[ui * ns + s] = m.spot * (1.0 + sc.shocks[ui]);
        }
    }

    // Revalue every option in every scenario with one batch call (structure of arrays,
    // option-major: the block of option j is `j*ns .. (j+1)*ns`).
    let n_opt = file
        .positions
        .iter()
        .filter(|p| matches!(p, Position::Option { .. }))
        .count();
    let len = n_opt * ns;
    let mut cols: [Vec<f64>; 6] = std::array::from_fn(|_| Vec::with_capacity(len));
    let mut is_call = Vec::with_capacity(len);
    let mut pos_under = Vec::with_capacity(np);
    for (pi, pos) in file.positions.iter().enumerate() {
        let ui = prep.idx[pos.underlying()];
        pos_under.push(ui);
        let Position::Option {
            kind,
            strike,
            expiry_years,
            ..
        } = pos
        else {
            continue;
        };
        let m = &file.market[ui];
        let base_vol = prep.vols[pi];
        let scale = vol_scale(params, *expiry_years);
        let up = base_vol * (1.0 + params.vol_range_up * scale);
        let down = base_vol * (1.0 - params.vol_range_down * scale);
        let rep = |c: &mut Vec<f64>, x: f64| c.extend(std::iter::repeat_n(x, ns));
        cols[0].extend_from_slice(&shocked_spot[ui * ns..(ui + 1) * ns]);
        rep(&mut cols[1], *strike);
        rep(&mut cols[2], *expiry_years);
        rep(&mut cols[3], m.rate);
        rep(&mut cols[4], m.carry_yield);
        cols[5].extend(scenarios.iter().map(|sc| match sc.vol_shock {
            VolShock::None => base_vol,
            VolShock::Up => up,
            VolShock::Down => down,
        }));
        is_call.extend(std::iter::repeat_n(*kind == OptionKind::Call, ns));
    }
    let mut shocked = vec![0.0; len];
    prices_only(
        &BatchInput {
            spot: &cols[0],
            strike: &cols[1],
            t: &cols[2],
            r: &cols[3],
            q: &cols[4],
            vol: &cols[5],
            is_call: &is_call,
        },
        &mut shocked,
    )
    .map_err(|e| match e {
        // Name the position, not the flat (option, scenario) slot.
        OptionsError::BatchElement { index, source } => {
            let slot = index / ns.max(1);
            let index = file
                .positions
                .iter()
                .enumerate()
                .filter(|(_, p)| matches!(p, Position::Option { .. }))
                .nth(slot)
                .map_or(slot, |(i, _)| i);
            OptionsError::Position { index, source }
        }
        other => other,
    })?;

    let per_pos = position_greeks(file, &prep)?;
    // pnl[p*ns + s]: PnL of position p in scenario s.
    let mut pnl = vec![0.0; np * ns];
    let mut totals = vec![0.0; ns];
    let mut opt_slot = 0;
    for (pi, pos) in file.positions.iter().enumerate() {
        let ui = pos_under[pi];
        let row = &mut pnl[pi * ns..(pi + 1) * ns];
        match pos {
            Position::Option { quantity, .. } => {
                let prices = &shocked[opt_slot * ns..(opt_slot + 1) * ns];
                // Scenario 0 is flat spot, unchanged vol: the base value on the same kernel,
                // so an unshocked scenario has exactly zero PnL.
                let base = prices[0];
                for (x, &v) in row.iter_mut().zip(prices) {
                    *x = quantity * (v - base);
                }
                opt_slot += 1;
            }
            Position::Perp { size, .. } => {
                let spot = file.market[ui].spot;
                for (x, &sp) in row.iter_mut().zip(&shocked_spot[ui * ns..(ui + 1) * ns]) {
                    *x = size * (sp - spot);
                }
            }
        }
        for (t, &x) in totals.iter_mut().zip(row.iter()) {
            *t += x;
        }
    }
    let mut worst = 0;
    for s in 1..ns {
        if totals[s] < totals[worst] {
            worst = s;
        }
    }
    let scenario_loss = (-totals[worst]).max(0.0);

    // Contingencies, per underlying and per position (for standalone figures).
    let mut pos_cont = vec![0.0; np];
    let mut by_kind: BTreeMap<(usize, u8), f64> = BTreeMap::new();
    for (pi, pos) in file.positions.iter().enumerate() {
        let ui = prep.idx[pos.underlying()];
        let m = &file.market[ui];
        let (gross, short_opt, perp) = match pos {
            Position::Option { quantity, .. } => (
                quantity.abs(),
                params.short_option_pct * m.spot * (-quantity).max(0.0),
                0.0,
            ),
            Position::Perp { size, .. } => (size.abs(), 0.0, params.perp_pct * m.spot * size.abs()),
        };
        let oracle = params.oracle_conf_multiplier * m.oracle_confidence * m.spot * gross;
        pos_cont[pi] = short_opt + perp + oracle;
        *by_kind.entry((ui, 0)).or_default() += short_opt;
        *by_kind.entry((ui, 1)).or_default() += perp;
        *by_kind.entry((ui, 2)).or_default() += oracle;
    }
    let contingencies: Vec<Contingency> = by_kind
        .into_iter()
        .filter(|(_, a)| *a > 0.0)
        .map(|((ui, k), amount)| Contingency {
            kind: match k {
                0 => ContingencyKind::ShortOption,
                1 => ContingencyKind::Perp,
                _ => ContingencyKind::OracleConfidence,
            },
            underlying: prep.names[ui].clone(),
            amount,
        })
        .collect();
    let contingency_total: f64 = contingencies.iter().map(|c| c.amount).sum();

    let positions: Vec<PositionReport> = file
        .positions
        .iter()
        .enumerate()
        .map(|(pi, pos)| {
            let row = &pnl[pi * ns..(pi + 1) * ns];
            let min = row.iter().copied().fold(0.0_f64, f64::min);
            PositionReport {
                index: pi,
                position: pos.clone(),
                value: per_pos[pi].price,
                pnl_in_worst: row[worst],
                standalone_requirement: -min + pos_cont[pi],
                greeks: per_pos[pi],
            }
        })
        .collect();
    let sum_of_standalone = positions.iter().map(|p| p.standalone_requirement).sum();
    let sc = &scenarios[worst];
    let worst_scenario = ScenarioReport {
        index: worst,
        direction: sc.direction.clone(),
        level: sc.level,
        vol_shock: sc.vol_shock,
        shocks: file
            .market
            .iter()
            .zip(&sc.shocks)
            .map(|(m, &x)| UnderlyingShock {
                underlying: m.name.clone(),
                spot_shock: x,
                shocked_spot: m.spot * (1.0 + x),
                vol_multiplier_30d: match sc.vol_shock {
                    VolShock::None => 1.0,
                    VolShock::Up => 1.0 + params.vol_range_up,
                    VolShock::Down => 1.0 - params.vol_range_down,
                },
            })
            .collect(),
        pnl: totals[worst],
    };
    Ok(MarginResult {
        requirement: scenario_loss + contingency_total,
        scenario_loss,
        contingency_total,
        worst_scenario,
        scenarios_evaluated: ns,
        positions,
        contingencies,
        sum_of_standalone,
        greeks: sum_greeks(file, &prep, &per_pos),
    })
}
