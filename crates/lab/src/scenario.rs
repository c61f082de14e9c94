//! Scenario files (TOML; the format is documented in `crates/lab/SCENARIOS.md`).
//!
//! Loading is three steps, each with errors that say where the problem is:
//! 1. parse the TOML (toml's error names line and column);
//! 2. apply `--set dotted.path=value` overrides to the parsed table (an array element can be
//!    addressed by index, `assets.0`, or by its `symbol`, `assets.BTC`);
//! 3. deserialize into typed structs with unknown fields refused, then [`Scenario::validate`]
//!    checks ranges and cross-field rules and names the offending field.
//!
//! Amounts in the file are human units (USD, whole tokens); rates and volatilities are
//! annualized fractions unless a field says otherwise.

use crate::error::Cap;
use crate::error::LabError;
use serde::{Deserialize, Serialize};

pub mod attack;
pub mod bridge;
pub mod controller;
pub mod keepers;
pub mod numeraire;
pub mod oracle;
pub mod params;
pub mod rules;

/// A whole stress scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Master seed: path `i` draws from streams derived from `(seed, i)` only.
    #[serde(default = "d_seed")]
    pub seed: u64,
    /// Number of Monte Carlo paths.
    pub paths: u64,
    /// Number of steps per path.
    pub horizon: u32,
    /// Length of one step in hours (`dt = step_hours / 8760` years).
    pub step_hours: f64,
    #[serde(default)]
    pub protocol: Protocol,
    pub assets: Vec<AssetSpec>,
    /// Correlation matrix of the normal shocks across `assets` (Cholesky-factored).
    #[serde(default)]
    pub correlation: Option<Vec<Vec<f64>>>,
    pub population: Population,
    #[serde(default)]
    pub liquidity: Liquidity,
    #[serde(default)]
    pub keeper: Keeper,
    /// Competing keepers of the engine mechanisms (`[[keepers]]`); empty: the one `[keeper]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keepers: Vec<keepers::KeeperSpec>,
    #[serde(default)]
    pub faults: Faults,
    /// Multi-source oracle for every asset (absent: prices enter by `SetPrice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oracle: Option<oracle::OracleSpec>,
    /// Circuit breakers on the markets and/or the pool (needs `[oracle]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<oracle::BreakerSpec>,
    /// Volatility-adjusted margin add-on on every market (`ConfigureVolMargin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vol_margin: Option<oracle::VolMarginSpec>,
    /// Extra agents (a whale that dumps into thin depth).
    #[serde(default, skip_serializing_if = "Agents::is_empty")]
    pub agents: Agents,
    /// The bounded self-healing controller (`[controller]`, see `scenario::controller`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<controller::ControllerSpec>,
    /// A remote collateral asset behind a bridge (`[bridge]`, see `scenario::bridge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<bridge::BridgeSpec>,
    /// A position snapshot opened after the population (JSON or CSV, see `book`), relative to
    /// the scenario file's folder (`ballast stress --book FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book: Option<String>,
    /// The USD price of the quote stablecoin (`[numeraire]`, see `scenario::numeraire`);
    /// absent: USDC is 1 USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numeraire: Option<numeraire::NumeraireSpec>,
}

/// Agents beyond the trader population.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Agents {
    pub whale: Option<Whale>,
    pub lenders: Option<Lenders>,
    /// Trader rules: take profit, stop loss, add on dips, reopen (`[agents.traders]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traders: Option<rules::TraderRules>,
    /// Attackers (`[[agents.attackers]]`, see `scenario::attack`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attackers: Vec<attack::AttackerSpec>,
}

impl Agents {
    fn is_empty(&self) -> bool {
        self.whale.is_none()
            && self.lenders.is_none()
            && self.traders.is_none()
            && self.attackers.is_empty()
    }
}

/// Lenders: `count` accounts that deposit `deposit_usd` of quote each at t0 and try to take it
/// all out (`Withdraw`) once any asset trades `withdraw_drawdown` below its running peak — a
/// run on the pool. The engine may refuse (breakers, outflow limits): they retry every step.
/// Those still in when a loss is socialized bear their share of the deposit-index cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lenders {
    pub count: u32,
    pub deposit_usd: f64,
    pub withdraw_drawdown: f64,
}

/// A whale: one large long opened at t0 that is dumped at once, into the liquidity model's
/// depth, the first time its asset trades `dump_drawdown` below its running peak. The dump
/// moves the price permanently by the linear impact `s = 1% · notional / depth_eff` (capped at
/// `max_impact`): every later model price of the asset is `× (1 − s)` — the traders see the
/// deeper fall, the cascade the whale started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Whale {
    /// Symbol of the asset (default: the first).
    #[serde(default)]
    pub asset: Option<String>,
    /// Notional of the long at t0, USD.
    pub notional_usd: f64,
    /// Notional / margin posted.
    pub leverage: f64,
    /// Dumps when the price is this fraction below its running peak.
    pub dump_drawdown: f64,
    /// Cap on the price impact of the dump.
    #[serde(default = "d_max_impact")]
    pub max_impact: f64,
}

fn d_max_impact() -> f64 {
    0.2
}

fn d_seed() -> u64 {
    1
}

/// Protocol configuration: pool, default market parameters, insurance fund, liquidation terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Protocol {
    /// Initial insurance fund, USD.
    pub insurance_fund: f64,
    pub pool: PoolSpec,
    /// Market parameters used by every asset's perpetual unless the asset overrides them.
    pub market: MarketSpec,
    pub liquidation: LiquidationSpec,
    /// Settle every market's funding (`SettleFunding`) at every step (default true).
    pub settle_funding: bool,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            insurance_fund: 100_000.0,
            pool: PoolSpec::default(),
            market: MarketSpec::default(),
            liquidation: LiquidationSpec::default(),
            settle_funding: true,
        }
    }
}

/// The quote-asset lending curve (Aave v3 kinked rate) and caps of the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolSpec {
    pub base_rate: f64,
    pub slope1: f64,
    pub slope2: f64,
    pub optimal_utilization: f64,
    pub reserve_factor: f64,
    /// USD.
    pub supply_cap: f64,
    /// USD.
    pub borrow_cap: f64,
}

impl Default for PoolSpec {
    fn default() -> Self {
        // Zero rates by default: a stress run measures liquidation risk, not carry.
        PoolSpec {
            base_rate: 0.0,
            slope1: 0.0,
            slope2: 0.0,
            optimal_utilization: 0.9,
            reserve_factor: 0.1,
            supply_cap: 1e12,
            borrow_cap: 5e11,
        }
    }
}

/// Perpetual market parameters (fractions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketSpec {
    pub init_margin: f64,
    pub maint_margin: f64,
    /// Drift v2 size-premium factor; 0 disables it.
    pub imf: f64,
    pub taker_fee: f64,
    pub maker_fee: f64,
    /// Fills further than this from the index are refused (liquidation fills included).
    pub price_band: f64,
    pub funding_cap: f64,
}

impl Default for MarketSpec {
    fn default() -> Self {
        MarketSpec {
            init_margin: 0.10,
            maint_margin: 0.05,
            imf: 0.0,
            taker_fee: 0.0,
            maker_fee: 0.0,
            price_band: 0.10,
            funding_cap: 0.0075,
        }
    }
}

/// Per-asset overrides of [`MarketSpec`]; unset fields inherit `protocol.market`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketOverride {
    pub init_margin: Option<f64>,
    pub maint_margin: Option<f64>,
    pub imf: Option<f64>,
    pub taker_fee: Option<f64>,
    pub maker_fee: Option<f64>,
    pub price_band: Option<f64>,
    pub funding_cap: Option<f64>,
}

impl MarketOverride {
    pub fn apply(&self, m: &MarketSpec) -> MarketSpec {
        MarketSpec {
            init_margin: self.init_margin.unwrap_or(m.init_margin),
            maint_margin: self.maint_margin.unwrap_or(m.maint_margin),
            imf: self.imf.unwrap_or(m.imf),
            taker_fee: self.taker_fee.unwrap_or(m.taker_fee),
            maker_fee: self.maker_fee.unwrap_or(m.maker_fee),
            price_band: self.price_band.unwrap_or(m.price_band),
            funding_cap: self.funding_cap.unwrap_or(m.funding_cap),
        }
    }
}

/// Which liquidation mechanism closes underwater accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MechanismSpec {
    /// The lab's keeper takes the other side with a `Fill` at `oracle × (1 ∓ penalty)` and the
    /// lab runs the insurance waterfall: the peer-radCAD model, kept for that comparison only.
    KeeperFill,
    /// The engine's own `Liquidate` (keeper takeover at oracle, penalty split, partial closes,
    /// engine insurance fund, ADL, socialized loss): the default, so a scenario's figures are
    /// the ledger's.
    #[default]
    EngineTakeover,
    /// The engine's Dutch auctions (`StartAuction` / `TakeAuction` / `RedoAuction`, Maker
    /// Liquidations 2.0) with the same waterfall.
    EngineAuction,
}

impl MechanismSpec {
    /// The name used in files and summaries.
    pub fn name(self) -> &'static str {
        match self {
            MechanismSpec::KeeperFill => "keeper_fill",
            MechanismSpec::EngineTakeover => "engine_takeover",
            MechanismSpec::EngineAuction => "engine_auction",
        }
    }
    pub fn is_engine(self) -> bool {
        self != MechanismSpec::KeeperFill
    }
}

/// Price curve of a Dutch auction (Maker `abaci.sol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveSpec {
    Linear,
    Stairstep,
    Exponential,
}

fn is_keeper_fill(m: &MechanismSpec) -> bool {
    *m == MechanismSpec::KeeperFill
}
fn is_true(b: &bool) -> bool {
    *b
}

/// Terms of a liquidation. `penalty` and `fee_to_fund` drive `keeper_fill`; the optional
/// fields set the engine's `LiquidationParams` for the engine mechanisms (unset = the engine's
/// default; see `crates/engine/src/params.rs` for bounds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiquidationSpec {
    #[serde(skip_serializing_if = "is_keeper_fill")]
    pub mechanism: MechanismSpec,
    /// keeper_fill: the liquidator buys a long at `oracle × (1 − penalty)` (a short at
    /// `× (1 + penalty)`); engine: the penalty rate at the maintenance boundary.
    pub penalty: f64,
    /// keeper_fill: share of the equity left after a close that goes to the insurance fund.
    pub fee_to_fund: f64,
    /// Engine: penalty rate when the weighted equity reaches zero (quadratic in between).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub penalty_max: Option<f64>,
    /// Engine: liquidator's share of the penalty (rest to the insurance fund), and its cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liquidator_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liquidator_share_max: Option<f64>,
    /// Engine: largest fraction of a lot one liquidation takes (Aave close factor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_factor: Option<f64>,
    /// Engine: from this deficit (−health/requirement) on, the close factor is 100%.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_close_deficit: Option<f64>,
    /// Engine: a partial liquidation restores `health ≥ target_buffer × requirement`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_buffer: Option<f64>,
    /// Engine: smallest lot value, USD (Maker `dust`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dust_usd: Option<f64>,
    /// Engine: share of trading fees routed to the insurance fund (default 1 in the lab: the
    /// initial fund is seeded through fees, see `world::genesis`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insurance_fee_share: Option<f64>,
    /// Auction start price `top = buf × oracle` (Maker `buf`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_buf: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_curve: Option<CurveSpec>,
    /// Linear curve: minutes to reach zero (Maker `tau`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_tau_min: Option<f64>,
    /// Stairstep/exponential multiplier per step/second (Maker `cut`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_cut: Option<f64>,
    /// Stairstep step length, minutes (Maker `step`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_step_min: Option<f64>,
    /// Reset after this many minutes (Maker `tail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_tail_min: Option<f64>,
    /// Reset when `price / top < cusp` (Maker `cusp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_cusp: Option<f64>,
    /// Price never below `floor × oracle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_floor: Option<f64>,
    /// Keeper incentive per start/reset: flat USD (Maker `tip`) and share of the lot (`chip`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_tip_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction_chip: Option<f64>,
    /// Whether keepers reset stale auctions (`RedoAuction`); `false` models a protocol without
    /// resets (the auction stays stuck once it needs one).
    #[serde(skip_serializing_if = "is_true")]
    pub auction_resets: bool,
}

impl Default for LiquidationSpec {
    fn default() -> Self {
        LiquidationSpec {
            mechanism: MechanismSpec::default(),
            penalty: 0.02,
            fee_to_fund: 0.5,
            penalty_max: None,
            liquidator_share: None,
            liquidator_share_max: None,
            close_factor: None,
            full_close_deficit: None,
            target_buffer: None,
            dust_usd: None,
            insurance_fee_share: None,
            auction_buf: None,
            auction_curve: None,
            auction_tau_min: None,
            auction_cut: None,
            auction_step_min: None,
            auction_tail_min: None,
            auction_cusp: None,
            auction_floor: None,
            auction_tip_usd: None,
            auction_chip: None,
            auction_resets: true,
        }
    }
}

/// One asset: its perpetual and its price model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetSpec {
    pub symbol: String,
    /// Native decimals of the base asset (≤ 12).
    #[serde(default = "d_decimals")]
    pub decimals: u8,
    /// Initial price in USD. Optional for `replay` (the first close is used).
    #[serde(default)]
    pub price: Option<f64>,
    pub model: ModelSpec,
    #[serde(default)]
    pub market: MarketOverride,
}

fn d_decimals() -> u8 {
    8
}

/// A price model. Annualized `mu`, `sigma`; `dt = step_hours / 8760`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelSpec {
    /// Geometric Brownian motion, optionally with fixed-size crash jumps arriving as a
    /// Bernoulli(λ·dt) per step (the peer-radCAD model; no drift compensation).
    Gbm {
        #[serde(default)]
        mu: f64,
        sigma: f64,
        /// Crash jumps per year.
        #[serde(default)]
        jump_intensity: f64,
        /// Fractional drop per crash jump (0.15 = −15%).
        #[serde(default)]
        jump_size: f64,
    },
    /// Merton (1976) jump-diffusion: Poisson(λ·dt) jumps with normal log sizes
    /// N(jump_mean, jump_std²), drift compensated so that `E[S_t] = S_0·e^{μt}`.
    Merton {
        #[serde(default)]
        mu: f64,
        sigma: f64,
        jump_intensity: f64,
        jump_mean: f64,
        jump_std: f64,
    },
    /// GARCH(1,1) (Bollerslev 1986) per-step variance
    /// `h_t = ω + α·ε²_{t−1} + β·h_{t−1}`, `ω = σ_LR²·dt·(1 − α − β)`.
    Garch {
        #[serde(default)]
        mu: f64,
        /// Long-run annualized volatility.
        long_run_vol: f64,
        alpha: f64,
        beta: f64,
        /// Annualized volatility of the first step (default: long-run).
        #[serde(default)]
        initial_vol: Option<f64>,
    },
    /// Markov regime switching (Hamilton 1989): each regime is a GBM; `transition[i][j]` is the
    /// per-step probability of moving from regime i to j.
    Regime {
        regimes: Vec<RegimeSpec>,
        transition: Vec<Vec<f64>>,
        #[serde(default)]
        start: usize,
    },
    /// Replays the closes of one (venue, symbol) series of a CSV in the data/ layout, one bar
    /// per step. Same on every path.
    Replay {
        csv: String,
        /// Venue filter (needed when several venues carry the symbol).
        #[serde(default)]
        venue: Option<String>,
        /// Venue symbol (`BTC/USDT`) or base asset (`BTC`).
        symbol: String,
        /// Skip impossible OHLC bars inside the series instead of refusing the file.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        drop_bad_bars: bool,
    },
    /// Moving-block bootstrap (Künsch 1989) of the series' log returns: blocks of `block`
    /// consecutive returns starting at uniform positions, concatenated.
    Bootstrap {
        csv: String,
        #[serde(default)]
        venue: Option<String>,
        symbol: String,
        block: usize,
        /// Skip impossible OHLC bars inside the series instead of refusing the file.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        drop_bad_bars: bool,
    },
}

impl ModelSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            ModelSpec::Gbm { .. } => "gbm",
            ModelSpec::Merton { .. } => "merton",
            ModelSpec::Garch { .. } => "garch",
            ModelSpec::Regime { .. } => "regime",
            ModelSpec::Replay { .. } => "replay",
            ModelSpec::Bootstrap { .. } => "bootstrap",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeSpec {
    #[serde(default)]
    pub mu: f64,
    pub sigma: f64,
}

/// A distribution of a positive quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    Fixed {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// `median · exp(sigma · Z)`, capped at `max` if given.
    LogNormal {
        median: f64,
        sigma: f64,
        #[serde(default)]
        max: Option<f64>,
    },
}

impl Dist {
    /// Largest value the distribution can produce (∞ for an uncapped log-normal).
    pub fn upper(&self) -> f64 {
        match self {
            Dist::Fixed { value } => *value,
            Dist::Uniform { max, .. } => *max,
            Dist::LogNormal { max, .. } => max.unwrap_or(f64::INFINITY),
        }
    }
    fn validate(&self, field: &str) -> Result<(), LabError> {
        let pos = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(LabError::field(
                    format!("{field}.{name}"),
                    format!("must be a positive number (got {v})"),
                ))
            }
        };
        match self {
            Dist::Fixed { value } => pos("value", *value),
            Dist::Uniform { min, max } => {
                pos("min", *min)?;
                pos("max", *max)?;
                if max < min {
                    return Err(LabError::field(
                        format!("{field}.max"),
                        format!("must be >= min ({max} < {min})"),
                    ));
                }
                Ok(())
            }
            Dist::LogNormal { median, sigma, max } => {
                pos("median", *median)?;
                if !(sigma.is_finite() && *sigma >= 0.0) {
                    return Err(LabError::field(
                        format!("{field}.sigma"),
                        format!("must be >= 0 (got {sigma})"),
                    ));
                }
                if let Some(m) = max {
                    pos("max", *m)?;
                }
                Ok(())
            }
        }
    }
}

/// The population of leveraged traders opened at the start of each path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    pub accounts: u32,
    /// Margin posted per account, USD.
    pub margin: Dist,
    /// Leverage = notional / margin at the initial price.
    pub leverage: Dist,
    /// Probability that an account is long (1.0: all long, no draw is made).
    #[serde(default = "d_one")]
    pub long_fraction: f64,
    /// Relative weights of the assets an account trades (default: all equal; no draw with one
    /// asset).
    #[serde(default)]
    pub asset_weights: Option<Vec<f64>>,
    /// Draw a new book on every path (from the path's own stream) instead of one book from
    /// the master seed shared by all paths.
    #[serde(default)]
    pub resample_per_path: bool,
}

fn d_one() -> f64 {
    1.0
}

/// Liquidity the liquidator meets when it unwinds what it took over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Liquidity {
    /// Notional (USD) at which unwinding costs 1% slippage (linear impact); absent = infinite
    /// depth, no slippage.
    pub depth_usd: Option<f64>,
    /// Depth falls as `depth / (1 + vol_sensitivity · |step return| / 1%)`.
    pub vol_sensitivity: f64,
    /// Slippage never exceeds this fraction (it must fit inside the price band).
    pub max_slippage: f64,
    /// Capital of the market maker that is every trader's counterparty, USD.
    pub maker_capital: f64,
    /// Most notional (USD) the liquidation machinery may sell into the market per step
    /// (keeper_fill closes; engine-mechanism takeovers, auction takes and unwinds); the rest
    /// waits for later steps. Absent: no cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sell_usd_per_step: Option<f64>,
    /// Reflexive impact (the `reflexive` module): the net notional the liquidation machinery
    /// unwinds into the market maker in a step moves that asset's model price permanently by
    /// this impact on `depth_usd` (capped at `max_slippage` per step). Default `off`.
    #[serde(skip_serializing_if = "Impact::is_off")]
    pub impact: Impact,
}

/// Shape of the reflexive impact of liquidation flow (`[liquidity] impact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Liquidations sell without moving the price.
    #[default]
    Off,
    /// `1% · notional / depth_eff` (Almgren-Chriss permanent impact).
    Linear,
    /// `1% · √(notional / depth_eff)` (square-root law, Tóth et al. 2011).
    Sqrt,
}

impl Impact {
    pub fn is_off(&self) -> bool {
        *self == Impact::Off
    }
}

impl Default for Liquidity {
    fn default() -> Self {
        Liquidity {
            depth_usd: None,
            vol_sensitivity: 0.0,
            max_slippage: 0.05,
            maker_capital: 1e10,
            max_sell_usd_per_step: None,
            impact: Impact::Off,
        }
    }
}

/// The keeper agent that liquidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Keeper {
    /// Capital of the liquidator account, USD (it must pass initial margin on what it takes).
    pub capital: f64,
    /// The keeper acts only when `penalty·notional − slippage − gas ≥ min_profit` (USD).
    pub min_profit: f64,
}

impl Default for Keeper {
    fn default() -> Self {
        Keeper {
            capital: 1e9,
            min_profit: 0.0,
        }
    }
}

/// Infrastructure faults.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    pub keeper_outage: Outage,
    pub gas: Option<Gas>,
    /// Oracle source faults (outage, latency, manipulation windows); need `[oracle]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub oracle: Vec<oracle::OracleFault>,
    /// Chain faults (`[[faults.chain]]`): block halts and congestion windows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainFault>,
}

/// A chain window on steps `[from_step, to_step)`: the chain is halted (no transaction of the
/// keeper, the lenders or the whale lands) and/or congested (`congestion`, the level fed to the
/// breakers: `BreakerConfig::congestion_cautious` 3, `congestion_halt` 10 by default). The engine
/// gets `Command::ChainStatus` at the window edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainFault {
    pub from_step: u32,
    pub to_step: u32,
    #[serde(default)]
    pub halted: bool,
    #[serde(default)]
    pub congestion: f64,
}

impl Faults {
    /// The chain status at `step`: halted if any window halts it, the highest congestion.
    pub fn chain_at(&self, step: u32) -> (bool, f64) {
        self.chain
            .iter()
            .filter(|w| w.from_step <= step && step < w.to_step)
            .fold((false, 0.0), |(h, c), w| {
                (h || w.halted, c.max(w.congestion))
            })
    }
}

/// Keeper outages: fixed step windows and/or random outages (a two-state Markov chain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Outage {
    /// `[start, end)` step ranges during which no keeper acts.
    pub windows: Vec<[u32; 2]>,
    /// Random outages started per day.
    pub rate_per_day: f64,
    /// Mean length of a random outage, hours.
    pub mean_hours: f64,
}

impl Default for Outage {
    fn default() -> Self {
        Outage {
            windows: Vec::new(),
            rate_per_day: 0.0,
            mean_hours: 6.0,
        }
    }
}

/// Gas cost of one liquidation (USD): `base_usd · exp(x)`, with `x` a log Ornstein–Uhlenbeck
/// process that jumps up when prices fall:
/// `x ← x·(1 − κ·h) + σ·√h·Z + crash_beta · max(0, −r_min)`, `h` = step in hours, `r_min` the
/// worst asset log return of the step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gas {
    pub base_usd: f64,
    /// Volatility of log gas per √hour.
    #[serde(default)]
    pub sigma: f64,
    /// Mean reversion per hour.
    #[serde(default = "d_kappa")]
    pub mean_reversion: f64,
    /// Log-gas jump per unit of negative log return.
    #[serde(default)]
    pub crash_beta: f64,
}

fn d_kappa() -> f64 {
    0.1
}

// ----- loading -----------------------------------------------------------------------------

/// Splits `key=value`.
pub fn parse_set(spec: &str) -> Result<(String, String), LabError> {
    match spec.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(LabError::Override {
            spec: spec.to_string(),
            message: "expected key=value (a dotted path into the scenario, e.g. paths=200)".into(),
        }),
    }
}

/// A `--set` value as TOML: a number, bool, array or inline table if it parses as one,
/// otherwise a string.
fn parse_value(v: &str) -> toml::Value {
    let doc = format!("v = {v}");
    match doc.parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(v.to_string())),
        Err(_) => toml::Value::String(v.to_string()),
    }
}

/// Applies `key=value` overrides to a parsed scenario table; `!key` removes `key` (a defence's
/// whole table, e.g. `!breaker`, for an ablation).
pub fn apply_overrides(root: toml::Table, sets: &[String]) -> Result<toml::Table, LabError> {
    let mut v = toml::Value::Table(root);
    for spec in sets {
        if let Some(key) = spec.strip_prefix('!') {
            remove_value(&mut v, key.trim()).map_err(|message| LabError::Override {
                spec: spec.clone(),
                message,
            })?;
            continue;
        }
        let (k, val) = parse_set(spec)?;
        set_value(&mut v, &k, parse_value(&val)).map_err(|message| LabError::Override {
            spec: spec.clone(),
            message,
        })?;
    }
    match v {
        toml::Value::Table(t) => Ok(t),
        _ => unreachable!(),
    }
}

/// Removes the dotted `key` (tables only); a key that is not there is an error, so a misspelt
/// removal is not a silent no-op.
fn remove_value(root: &mut toml::Value, key: &str) -> Result<(), String> {
    let (parent, last) = match key.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, key),
    };
    let mut cur = root;
    for part in parent.into_iter().flat_map(|p| p.split('.')) {
        cur = cur
            .get_mut(part)
            .ok_or_else(|| format!("no `{part}` in the scenario to remove `{key}` from"))?;
    }
    match cur {
        toml::Value::Table(t) if !last.is_empty() => t
            .remove(last)
            .map(|_| ())
            .ok_or_else(|| format!("the scenario has no `{key}` to remove")),
        _ => Err(format!("cannot remove `{key}`: not a key of a table")),
    }
}

fn set_value(root: &mut toml::Value, key: &str, value: toml::Value) -> Result<(), String> {
    match root {
        toml::Value::Table(t) => {
            // Walk with a Value cursor.
            let parts: Vec<&str> = key.split('.').collect();
            if parts.iter().any(|p| p.is_empty()) {
                return Err("empty segment in the key".into());
            }
            let first = parts[0];
            if parts.len() == 1 {
                t.insert(first.to_string(), value);
                return Ok(());
            }
            let child = t
                .entry(first.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            set_value(child, &parts[1..].join("."), value)
        }
        toml::Value::Array(a) => {
            let (part, rest) = match key.split_once('.') {
                Some((p, r)) => (p, Some(r)),
                None => (key, None),
            };
            let idx = match part.parse::<usize>() {
                Ok(i) => i,
                Err(_) => a
                    .iter()
                    .position(|e| {
                        e.get("symbol").and_then(|s| s.as_str()) == Some(part)
                            || e.get("name").and_then(|s| s.as_str()) == Some(part)
                    })
                    .ok_or_else(|| format!("no array element with symbol `{part}`"))?,
            };
            let len = a.len();
            let slot = a
                .get_mut(idx)
                .ok_or_else(|| format!("index {idx} out of range (the array has {len})"))?;
            match rest {
                None => {
                    *slot = value;
                    Ok(())
                }
                Some(r) => set_value(slot, r, value),
            }
        }
        _ => Err(format!(
            "cannot set `{key}` inside a value that is not a table"
        )),
    }
}

impl Scenario {
    /// Parses TOML text (`origin` names it in errors), applies overrides and validates.
    pub fn from_toml(text: &str, origin: &str, sets: &[String]) -> Result<Scenario, LabError> {
        let terr = |e: toml::de::Error| LabError::Toml {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        };
        let sc: Scenario = if sets.is_empty() {
            toml::from_str(text).map_err(terr)?
        } else {
            let table: toml::Table = text.parse().map_err(terr)?;
            let table = apply_overrides(table, sets)?;
            let origin = format!("{origin} (after --set)");
            let text = toml::to_string(&table).map_err(|e| LabError::Toml {
                origin: origin.clone(),
                message: e.to_string(),
            })?;
            toml::from_str(&text).map_err(|e| LabError::Toml {
                origin,
                message: e.to_string().trim_end().to_string(),
            })?
        };
        sc.validate()?;
        Ok(sc)
    }

    /// Range and cross-field checks; the error names the field.
    // Matrix and per-asset loops read clearest with indices.
    #[allow(clippy::needless_range_loop)]
    pub fn validate(&self) -> Result<(), LabError> {
        fn f(a: impl Into<String>, b: impl Into<String>) -> LabError {
            LabError::field(a, b)
        }
        if self.name.trim().is_empty() {
            return Err(f("name", "must not be empty"));
        }
        if self.paths == 0 {
            return Err(f("paths", "must be at least 1"));
        }
        if self.horizon == 0 {
            return Err(f("horizon", "must be at least 1 step"));
        }
        Cap::Paths.check(self.paths)?;
        Cap::Horizon.check(self.horizon.into())?;
        Cap::Accounts.check(self.population.accounts.into())?;
        if let Some(l) = &self.agents.lenders {
            Cap::Lenders.check(l.count.into())?;
        }
        if !(self.step_hours.is_finite() && self.step_hours > 0.0) {
            return Err(f(
                "step_hours",
                format!(
                    "must be a positive number of hours (got {})",
                    self.step_hours
                ),
            ));
        }
        let nonneg = |field: String, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(f(field, format!("must be >= 0 (got {v})")))
            }
        };
        let frac = |field: String, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(f(field, format!("must be within [0, 1] (got {v})")))
            }
        };
        let p = &self.protocol;
        nonneg("protocol.insurance_fund".into(), p.insurance_fund)?;
        frac("protocol.liquidation.penalty".into(), p.liquidation.penalty)?;
        frac(
            "protocol.liquidation.fee_to_fund".into(),
            p.liquidation.fee_to_fund,
        )?;
        if p.liquidation.mechanism.is_engine() {
            params::liquidation_params(&p.liquidation)?;
        }
        nonneg("keeper.capital".into(), self.keeper.capital)?;
        if !self.keeper.min_profit.is_finite() {
            return Err(f("keeper.min_profit", "must be finite"));
        }
        keepers::validate(
            &self.keepers,
            (self.step_hours * 3_600_000.0).round().max(1.0) as i64,
        )?;
        if !self.keepers.is_empty() && !p.liquidation.mechanism.is_engine() {
            return Err(f(
                "keepers",
                "competing keepers bid on the engine mechanisms (engine_takeover, engine_auction), not keeper_fill",
            ));
        }
        nonneg(
            "liquidity.maker_capital".into(),
            self.liquidity.maker_capital,
        )?;
        nonneg(
            "liquidity.vol_sensitivity".into(),
            self.liquidity.vol_sensitivity,
        )?;
        frac("liquidity.max_slippage".into(), self.liquidity.max_slippage)?;
        if let Some(d) = self.liquidity.depth_usd {
            if !(d.is_finite() && d > 0.0) {
                return Err(f(
                    "liquidity.depth_usd",
                    format!(
                        "must be a positive USD notional (got {d}); omit it for infinite depth"
                    ),
                ));
            }
        }
        if !self.liquidity.impact.is_off() && self.liquidity.depth_usd.is_none() {
            return Err(f(
                "liquidity.impact",
                "a reflexive impact needs liquidity.depth_usd (the depth the flow moves)",
            ));
        }
        if self.assets.is_empty() {
            return Err(f("assets", "at least one asset is needed"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, a) in self.assets.iter().enumerate() {
            let at = format!("assets[{i}]");
            if !seen.insert(a.symbol.clone()) {
                return Err(f(
                    format!("{at}.symbol"),
                    format!("duplicate symbol `{}`", a.symbol),
                ));
            }
            if a.decimals > ballast_engine::state::MAX_DECIMALS {
                return Err(f(
                    format!("{at}.decimals"),
                    format!(
                        "at most {} (got {})",
                        ballast_engine::state::MAX_DECIMALS,
                        a.decimals
                    ),
                ));
            }
            match (&a.model, a.price) {
                (ModelSpec::Replay { .. }, None) => {}
                (_, None) => {
                    return Err(f(format!("{at}.price"), "an initial price is required"));
                }
                (_, Some(px)) if !(px.is_finite() && px > 0.0) => {
                    return Err(f(
                        format!("{at}.price"),
                        format!("must be a positive price (got {px})"),
                    ));
                }
                _ => {}
            }
            let m = a.market.apply(&p.market);
            if m.price_band < p.liquidation.penalty {
                return Err(f(
                    format!("{at}.market.price_band"),
                    format!(
                        "{} is narrower than the liquidation penalty {}: liquidation fills would be refused",
                        m.price_band, p.liquidation.penalty
                    ),
                ));
            }
            if m.price_band < self.liquidity.max_slippage {
                return Err(f(
                    "liquidity.max_slippage",
                    format!(
                        "{} exceeds the price band {} of {}",
                        self.liquidity.max_slippage, m.price_band, a.symbol
                    ),
                ));
            }
            params::market_params(&m)
                .map_err(|e| f(format!("{at}.market (with protocol.market)"), e))?;
            let mf = format!("{at}.model");
            let vol = |name: &str, v: f64| nonneg(format!("{mf}.{name}"), v);
            let finite = |name: &str, v: f64| {
                if v.is_finite() {
                    Ok(())
                } else {
                    Err(f(
                        format!("{mf}.{name}"),
                        format!("must be finite (got {v})"),
                    ))
                }
            };
            match &a.model {
                ModelSpec::Gbm {
                    mu,
                    sigma,
                    jump_intensity,
                    jump_size,
                } => {
                    finite("mu", *mu)?;
                    vol("sigma", *sigma)?;
                    vol("jump_intensity", *jump_intensity)?;
                    if !(jump_size.is_finite() && (0.0..1.0).contains(jump_size)) {
                        return Err(f(
                            format!("{mf}.jump_size"),
                            format!("must be within [0, 1) (got {jump_size})"),
                        ));
                    }
                }
                ModelSpec::Merton {
                    mu,
                    sigma,
                    jump_intensity,
                    jump_mean,
                    jump_std,
                } => {
                    finite("mu", *mu)?;
                    vol("sigma", *sigma)?;
                    vol("jump_intensity", *jump_intensity)?;
                    finite("jump_mean", *jump_mean)?;
                    vol("jump_std", *jump_std)?;
                }
                ModelSpec::Garch {
                    mu,
                    long_run_vol,
                    alpha,
                    beta,
                    initial_vol,
                } => {
                    finite("mu", *mu)?;
                    vol("long_run_vol", *long_run_vol)?;
                    vol("alpha", *alpha)?;
                    vol("beta", *beta)?;
                    if alpha + beta >= 1.0 {
                        return Err(f(
                            format!("{mf}.beta"),
                            format!(
                                "alpha + beta must be < 1 for a stationary GARCH(1,1) (got {})",
                                alpha + beta
                            ),
                        ));
                    }
                    if let Some(v) = initial_vol {
                        vol("initial_vol", *v)?;
                    }
                }
                ModelSpec::Regime {
                    regimes,
                    transition,
                    start,
                } => {
                    if regimes.is_empty() {
                        return Err(f(format!("{mf}.regimes"), "at least one regime"));
                    }
                    for (j, r) in regimes.iter().enumerate() {
                        finite(&format!("regimes[{j}].mu"), r.mu)?;
                        vol(&format!("regimes[{j}].sigma"), r.sigma)?;
                    }
                    if transition.len() != regimes.len() {
                        return Err(f(
                            format!("{mf}.transition"),
                            format!(
                                "needs {} rows (one per regime), got {}",
                                regimes.len(),
                                transition.len()
                            ),
                        ));
                    }
                    for (j, row) in transition.iter().enumerate() {
                        if row.len() != regimes.len() {
                            return Err(f(
                                format!("{mf}.transition[{j}]"),
                                format!("needs {} entries", regimes.len()),
                            ));
                        }
                        for (k, x) in row.iter().enumerate() {
                            frac(format!("{mf}.transition[{j}][{k}]"), *x)?;
                        }
                        let s: f64 = row.iter().sum();
                        if (s - 1.0).abs() > 1e-9 {
                            return Err(f(
                                format!("{mf}.transition[{j}]"),
                                format!("probabilities must sum to 1 (got {s})"),
                            ));
                        }
                    }
                    if *start >= regimes.len() {
                        return Err(f(format!("{mf}.start"), "no such regime"));
                    }
                }
                ModelSpec::Replay { .. } => {}
                ModelSpec::Bootstrap { block, .. } => {
                    if *block == 0 {
                        return Err(f(format!("{mf}.block"), "block length must be >= 1"));
                    }
                }
            }
        }
        if let Some(c) = &self.correlation {
            let n = self.assets.len();
            if c.len() != n || c.iter().any(|r| r.len() != n) {
                return Err(f(
                    "correlation",
                    format!("must be a {n}×{n} matrix (one row and column per asset)"),
                ));
            }
            for i in 0..n {
                if (c[i][i] - 1.0).abs() > 1e-12 {
                    return Err(f(format!("correlation[{i}][{i}]"), "diagonal must be 1"));
                }
                for j in 0..n {
                    if !(c[i][j].is_finite() && (-1.0..=1.0).contains(&c[i][j])) {
                        return Err(f(
                            format!("correlation[{i}][{j}]"),
                            "must be within [-1, 1]",
                        ));
                    }
                    if (c[i][j] - c[j][i]).abs() > 1e-12 {
                        return Err(f(
                            format!("correlation[{i}][{j}]"),
                            "matrix must be symmetric",
                        ));
                    }
                }
            }
            crate::math::cholesky(c).ok_or_else(|| {
                f(
                    "correlation",
                    "matrix is not positive definite (Cholesky failed)",
                )
            })?;
        }
        let pop = &self.population;
        pop.margin.validate("population.margin")?;
        pop.leverage.validate("population.leverage")?;
        frac("population.long_fraction".into(), pop.long_fraction)?;
        if let Some(w) = &pop.asset_weights {
            if w.len() != self.assets.len() {
                return Err(f(
                    "population.asset_weights",
                    format!("needs one weight per asset ({})", self.assets.len()),
                ));
            }
            if w.iter().any(|x| !(x.is_finite() && *x >= 0.0)) || w.iter().sum::<f64>() <= 0.0 {
                return Err(f(
                    "population.asset_weights",
                    "weights must be >= 0 with a positive sum",
                ));
            }
        }
        for (i, a) in self.assets.iter().enumerate() {
            let m = a.market.apply(&p.market);
            let max_lev = 1.0 / (m.init_margin + m.taker_fee);
            if pop.leverage.upper() > max_lev * (1.0 - 1e-9) {
                return Err(f(
                    "population.leverage",
                    format!(
                        "can reach {} but {} (assets[{i}]) allows at most {:.4}× (1 / (init_margin + taker_fee))",
                        pop.leverage.upper(),
                        a.symbol,
                        max_lev
                    ),
                ));
            }
        }
        let o = &self.faults.keeper_outage;
        nonneg("faults.keeper_outage.rate_per_day".into(), o.rate_per_day)?;
        if !(o.mean_hours.is_finite() && o.mean_hours > 0.0) {
            return Err(f("faults.keeper_outage.mean_hours", "must be > 0"));
        }
        for (i, w) in o.windows.iter().enumerate() {
            if w[1] < w[0] {
                return Err(f(
                    format!("faults.keeper_outage.windows[{i}]"),
                    "end must be >= start",
                ));
            }
        }
        oracle::validate(self)?;
        attack::validate(self)?;
        if let Some(n) = &self.numeraire {
            n.validate()?;
        }
        if let Some(c) = &self.controller {
            c.validate()?;
        }
        if let Some(b) = &self.bridge {
            let symbols: Vec<&str> = self.assets.iter().map(|a| a.symbol.as_str()).collect();
            b.validate(&symbols)?;
            if self.oracle.is_none() {
                return Err(f(
                    "bridge",
                    "needs an [oracle] (the halt makes its feed stale)",
                ));
            }
        }
        if let Some(t) = &self.agents.traders {
            t.validate()?;
        }
        if let Some(l) = &self.agents.lenders {
            if !(l.deposit_usd.is_finite() && l.deposit_usd > 0.0) {
                return Err(f("agents.lenders.deposit_usd", "must be > 0"));
            }
            frac(
                "agents.lenders.withdraw_drawdown".into(),
                l.withdraw_drawdown,
            )?;
        }
        if let Some(w) = &self.agents.whale {
            if let Some(a) = &w.asset {
                if !self.assets.iter().any(|x| &x.symbol == a) {
                    return Err(f("agents.whale.asset", format!("no asset `{a}`")));
                }
            }
            if !(w.notional_usd.is_finite() && w.notional_usd > 0.0) {
                return Err(f("agents.whale.notional_usd", "must be > 0"));
            }
            if self.liquidity.depth_usd.is_none() {
                return Err(f(
                    "agents.whale",
                    "a whale needs liquidity.depth_usd (its dump moves the price by its impact)",
                ));
            }
            frac("agents.whale.dump_drawdown".into(), w.dump_drawdown)?;
            frac("agents.whale.max_impact".into(), w.max_impact)?;
            let ai = self.whale_asset().unwrap_or(0);
            let m = self.assets[ai].market.apply(&p.market);
            if !(w.leverage.is_finite() && w.leverage > 0.0)
                || w.leverage > 1.0 / (m.init_margin + m.taker_fee) * (1.0 - 1e-9)
            {
                return Err(f(
                    "agents.whale.leverage",
                    format!(
                        "must be within (0, {:.4}] (1 / (init_margin + taker_fee))",
                        1.0 / (m.init_margin + m.taker_fee)
                    ),
                ));
            }
        }
        for (i, w) in self.faults.chain.iter().enumerate() {
            if w.to_step < w.from_step {
                return Err(f(
                    format!("faults.chain[{i}].to_step"),
                    "must be >= from_step",
                ));
            }
            nonneg(format!("faults.chain[{i}].congestion"), w.congestion)?;
        }
        if let Some(c) = self.liquidity.max_sell_usd_per_step {
            if !(c.is_finite() && c > 0.0) {
                return Err(f(
                    "liquidity.max_sell_usd_per_step",
                    format!("must be > 0 (got {c})"),
                ));
            }
        }
        if let Some(g) = &self.faults.gas {
            nonneg("faults.gas.base_usd".into(), g.base_usd)?;
            nonneg("faults.gas.sigma".into(), g.sigma)?;
            nonneg("faults.gas.mean_reversion".into(), g.mean_reversion)?;
            nonneg("faults.gas.crash_beta".into(), g.crash_beta)?;
        }
        Ok(())
    }

    /// Index of the whale's asset, if there is a whale.
    pub fn whale_asset(&self) -> Option<usize> {
        let w = self.agents.whale.as_ref()?;
        Some(match &w.asset {
            Some(a) => self.assets.iter().position(|x| &x.symbol == a).unwrap_or(0),
            None => 0,
        })
    }

    /// Year fraction of one step.
    pub fn dt_years(&self) -> f64 {
        self.step_hours / 8760.0
    }

    /// Content hash of the scenario as run (after overrides): shards merge only with shards of
    /// the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("scenario serializes");
        blake3::hash(&bytes).to_hex()[..16].to_string()
    }
}
