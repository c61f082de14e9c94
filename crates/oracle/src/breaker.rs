//! Circuit breakers: one state machine, instantiated per market or per risk pool ([`Scope`]).
//!
//! ```text
//!   Normal ──trip──▶ Cautious ──trip──▶ Halted ──clear for cooldown──▶ Recovering ──grace──▶ Normal
//!     ▲                 │  ▲                                               │   (or Cautious if a
//!     └──clear for ─────┘  └───────────────────────────────────────────────┘    weaker trip remains)
//!        cooldown
//! ```
//!
//! * **Cautious** — reduce-only trading, no new borrows, margin × `cautious_margin_multiplier`.
//! * **Halted** — no trading, no withdrawals, no borrowing, no liquidation on an untrusted price
//!   (liquidation continues when the halt is not about prices, e.g. an outflow breach); deposits
//!   and repayments still allowed.
//! * **Recovering** — Aave v3 PriceOracleSentinel grace period (FORMULAS.md): after a halt,
//!   liquidations and borrowing stay off for `grace_ms` so users can restore their health, except
//!   for accounts already deep under water (`health < grace_liquidation_health`, Aave: 0.95).
//!
//! Triggers, each demanding at least Cautious or Halted: a price move beyond k·σ of recent
//! volatility ([`VolEstimator`]); the oracle status; a chain-halt or congestion signal; a
//! value-denominated net outflow beyond an ERC-7265 buffer ([`FlowLimiter`]); a governance floor.
//! Hysteresis: the breaker steps down only after every stronger trigger has been clear for
//! `cooldown_ms`, so it never leaves Halted while a trigger demanding Halted persists. Every
//! change of mode is a [`Transition`] naming its cause and the values that tripped it.

use crate::aggregate::OracleStatus;
use crate::error::{check_amount, check_price, config, Error};
use crate::validity::{Action, Blocked, Gate};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

/// Protocol mode of one market or pool. Declared in lifecycle order; use [`Mode::severity`] to
/// compare strictness (`Normal < Cautious < Recovering < Halted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Mode {
    #[default]
    Normal,
    Cautious,
    Halted,
    Recovering,
}

impl Mode {
    /// 0 = Normal, 1 = Cautious, 2 = Recovering, 3 = Halted.
    pub fn severity(self) -> u8 {
        match self {
            Mode::Normal => 0,
            Mode::Cautious => 1,
            Mode::Recovering => 2,
            Mode::Halted => 3,
        }
    }

    /// Whether `action` is allowed in this mode (before any oracle check).
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Mode::Normal => true,
            Mode::Cautious => !matches!(action, Trade | Borrow),
            Mode::Recovering => !matches!(action, Trade | Borrow | Liquidate),
            Mode::Halted => action.always_allowed(),
        }
    }
}

/// What a breaker instance guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    Market(u32),
    Pool(u32),
}

/// Chain health as reported by the environment (sequencer/L1 monitor).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ChainSignal {
    /// Blocks are not being produced (or the sequencer is down).
    pub halted: bool,
    /// Congestion level, e.g. gas price as a multiple of its baseline; finite, ≥ 0.
    pub congestion: f64,
}

/// What the breaker sees at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BreakerInput {
    pub now_ms: i64,
    /// Latest trustworthy-enough aggregate to measure moves on; `None` when there is none (the
    /// last move reading is kept).
    pub price: Option<f64>,
    pub oracle: OracleStatus,
    pub chain: ChainSignal,
}

/// A trigger and the values that tripped it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Trip {
    /// The oracle status demands a stricter mode.
    Oracle {
        status: OracleStatus,
    },
    /// `|ln(p_now / p_then)| / (σ·√Δt)` reached `threshold` for a `Δt = over_ms` within the window.
    Move {
        move_sigma: f64,
        threshold: f64,
        over_ms: i64,
    },
    ChainHalt,
    Congestion {
        level: f64,
        threshold: f64,
    },
    /// An outflow of `outflow` met only `available` in the ERC-7265 buffers; persists until the
    /// main buffer refills to its resume level.
    Outflow {
        outflow: f64,
        available: f64,
    },
    /// Governance set a floor on the mode.
    Governance {
        floor: Mode,
    },
}

impl fmt::Display for Trip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trip::Oracle { status } => write!(f, "oracle={status:?}"),
            Trip::Move {
                move_sigma,
                threshold,
                over_ms,
            } => write!(
                f,
                "move_sigma={move_sigma:.2}, threshold={threshold}, over_ms={over_ms}"
            ),
            Trip::ChainHalt => write!(f, "chain_halted=true"),
            Trip::Congestion { level, threshold } => {
                write!(f, "congestion={level:.2}, threshold={threshold}")
            }
            Trip::Outflow { outflow, available } => {
                write!(f, "outflow={outflow:.2}, available={available:.2}")
            }
            Trip::Governance { floor } => write!(f, "governance_floor={floor:?}"),
        }
    }
}

/// Why the mode changed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Cause {
    /// A trigger demanded a stricter mode.
    Tripped(Trip),
    /// Every stronger trigger stayed clear for `quiet_ms` (≥ the cooldown).
    Cleared { quiet_ms: i64 },
    /// The Recovering grace period ended.
    GraceElapsed { grace_ms: i64 },
    /// A governance request accepted by [`Breaker::govern`].
    Governance { requested: Mode },
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Tripped(t) => write!(f, "tripped: {t}"),
            Cause::Cleared { quiet_ms } => write!(f, "cleared: triggers quiet for {quiet_ms} ms"),
            Cause::GraceElapsed { grace_ms } => write!(f, "grace period of {grace_ms} ms elapsed"),
            Cause::Governance { requested } => write!(f, "governance requested {requested:?}"),
        }
    }
}

/// One change of mode: the event the engine journals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub at_ms: i64,
    pub scope: Scope,
    pub from: Mode,
    pub to: Mode,
    pub cause: Cause,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} -> {:?} ({})", self.from, self.to, self.cause)
    }
}

/// ERC-7265 v2 buffer parameters (FORMULAS.md), in value (quote currency), not tokens — the
/// Zellic critique of token-denominated limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowLimiterConfig {
    /// Main buffer size: the net outflow allowed from a full buffer. > 0.
    pub main_capacity: f64,
    /// Time for the main buffer to refill linearly from empty to full (`T_main`). > 0.
    pub main_refill_ms: i64,
    /// Time for the elastic buffer (topped up by inflows) to decay linearly to zero (`T_el`). > 0.
    pub elastic_decay_ms: i64,
    /// After a breach, the trigger clears once the main buffer is back to this fraction. (0, 1].
    pub resume_fraction: f64,
}

impl FlowLimiterConfig {
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.main_capacity.is_finite() && self.main_capacity > 0.0) {
            return Err(config("outflow.main_capacity", "must be finite and > 0"));
        }
        if self.main_refill_ms <= 0 || self.elastic_decay_ms <= 0 {
            return Err(config("outflow.*_ms", "must be > 0"));
        }
        if !(self.resume_fraction > 0.0 && self.resume_fraction <= 1.0) {
            return Err(config("outflow.resume_fraction", "must be in (0, 1]"));
        }
        Ok(())
    }
}

/// Result of recording an outflow.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum FlowCheck {
    /// Within the buffers; the outflow was spent from them.
    Within,
    /// Over the limit: reject the outflow. The buffers are emptied, so the breaker holds
    /// withdrawals until the main buffer refills to its resume level.
    Exceeded { outflow: f64, available: f64 },
}

/// ERC-7265 v2 buffer limiter (FORMULAS.md): the main buffer refills linearly over `T_main`; an
/// elastic buffer, topped up by inflows, decays linearly over `T_el`; an outflow spends elastic
/// first, then main; beyond both it is refused and the limiter is tripped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowLimiter {
    cfg: FlowLimiterConfig,
    main: f64,
    elastic: f64,
    elastic_rate_per_ms: f64,
    last_ms: Option<i64>,
    breach: Option<(f64, f64)>,
}

impl FlowLimiter {
    pub fn new(cfg: FlowLimiterConfig) -> Result<Self, Error> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            main: cfg.main_capacity,
            elastic: 0.0,
            elastic_rate_per_ms: 0.0,
            last_ms: None,
            breach: None,
        })
    }

    fn check(&self, now_ms: i64, value: f64) -> Result<(), Error> {
        check_amount("flow value", value)?;
        match self.last_ms {
            Some(l) if now_ms < l => Err(Error::TimeWentBackwards {
                last_ms: l,
                got_ms: now_ms,
            }),
            _ => Ok(()),
        }
    }

    fn advance(&mut self, now_ms: i64) {
        let dt = self.last_ms.map_or(0, |l| now_ms - l).max(0) as f64;
        let cap = self.cfg.main_capacity;
        self.main = (self.main + cap * dt / self.cfg.main_refill_ms as f64).min(cap);
        self.elastic = (self.elastic - self.elastic_rate_per_ms * dt).max(0.0);
        if self.breach.is_some() && self.main >= self.cfg.resume_fraction * cap {
            self.breach = None;
        }
        self.last_ms = Some(now_ms);
    }

    /// Records an inflow of `value` (quote currency): it tops up the elastic buffer.
    pub fn inflow(&mut self, now_ms: i64, value: f64) -> Result<(), Error> {
        self.check(now_ms, value)?;
        self.advance(now_ms);
        self.elastic += value;
        self.elastic_rate_per_ms = self.elastic / self.cfg.elastic_decay_ms as f64;
        Ok(())
    }

    /// Records an outflow of `value`: spends elastic first, then main, or trips.
    pub fn outflow(&mut self, now_ms: i64, value: f64) -> Result<FlowCheck, Error> {
        self.check(now_ms, value)?;
        self.advance(now_ms);
        let available = self.elastic + self.main;
        if value <= available {
            let from_elastic = value.min(self.elastic);
            self.elastic -= from_elastic;
            self.main -= value - from_elastic;
            self.elastic_rate_per_ms = self.elastic / self.cfg.elastic_decay_ms as f64;
            Ok(FlowCheck::Within)
        } else {
            self.elastic = 0.0;
            self.main = 0.0;
            self.elastic_rate_per_ms = 0.0;
            self.breach = Some((value, available));
            Ok(FlowCheck::Exceeded {
                outflow: value,
                available,
            })
        }
    }

    /// Brings the buffers to `now_ms` (refill, decay, clear a breach). Times before the last are
    /// ignored.
    pub fn refresh(&mut self, now_ms: i64) {
        if self.last_ms.is_none_or(|l| now_ms >= l) {
            self.advance(now_ms);
        }
    }

    /// `(outflow, available)` of the breach still in force, if any.
    pub fn breach(&self) -> Option<(f64, f64)> {
        self.breach
    }

    /// `(main, elastic)` buffer levels.
    pub fn buffers(&self) -> (f64, f64) {
        (self.main, self.elastic)
    }
}

/// A move measured by the [`VolEstimator`] when a price arrives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MoveReading {
    /// Largest `|ln(p_now/p_then)| / (σ·√Δt)` over the points in the window.
    pub move_sigma: f64,
    /// The `Δt` of that largest move.
    pub over_ms: i64,
    /// `ln(p_now/p_then)` of that move.
    pub log_return: f64,
}

/// Rolling volatility: an EWMA of squared log returns per unit time — RiskMetrics
/// `σ²_t = λσ²_{t−1} + (1−λ)r²_t` (FORMULAS.md) with `λ = 2^(−Δt/half_life)` and `r²/Δt`, so that
/// irregular intervals are comparable — plus the recent prices, to measure moves over any span
/// within the window against `σ·√Δt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolEstimator {
    half_life_ms: i64,
    window_ms: i64,
    min_samples: u32,
    floor_var_per_ms: f64,
    var_per_ms: f64,
    samples: u32,
    points: VecDeque<(i64, f64)>,
}

impl VolEstimator {
    /// `sigma_floor_per_sqrt_hour`: lower bound on σ (relative, per √hour) so quiet markets do not
    /// make ordinary moves look like many σ.
    pub fn new(
        half_life_ms: i64,
        window_ms: i64,
        min_samples: u32,
        sigma_floor_per_sqrt_hour: f64,
    ) -> Result<Self, Error> {
        if half_life_ms <= 0 || window_ms <= 0 {
            return Err(config("vol half_life_ms/window_ms", "must be > 0"));
        }
        if !(sigma_floor_per_sqrt_hour.is_finite() && sigma_floor_per_sqrt_hour >= 0.0) {
            return Err(config(
                "sigma_floor_per_sqrt_hour",
                "must be finite and >= 0",
            ));
        }
        Ok(Self {
            half_life_ms,
            window_ms,
            min_samples,
            floor_var_per_ms: sigma_floor_per_sqrt_hour * sigma_floor_per_sqrt_hour / 3_600_000.0,
            var_per_ms: 0.0,
            samples: 0,
            points: VecDeque::new(),
        })
    }

    /// σ per √hour currently used (with the floor), or `None` while warming up.
    pub fn sigma_per_sqrt_hour(&self) -> Option<f64> {
        (self.samples >= self.min_samples)
            .then(|| (self.var_per_ms.max(self.floor_var_per_ms) * 3_600_000.0).sqrt())
    }

    /// Measures the move of `price` at `now_ms` against the window (σ from *before* this price),
    /// then folds the new return into σ. `None` while warming up. Caller validates inputs.
    fn observe(&mut self, now_ms: i64, price: f64) -> Option<MoveReading> {
        let mut best: Option<MoveReading> = None;
        if self.samples >= self.min_samples {
            let sigma = self.var_per_ms.max(self.floor_var_per_ms).sqrt();
            for &(t, p) in &self.points {
                let dt = now_ms - t;
                if dt <= 0 || dt > self.window_ms {
                    continue;
                }
                let r = libm::log(price / p);
                let z = if sigma > 0.0 {
                    r.abs() / (sigma * (dt as f64).sqrt())
                } else if r == 0.0 {
                    0.0
                } else {
                    f64::INFINITY
                };
                if best.is_none_or(|b| z > b.move_sigma) {
                    best = Some(MoveReading {
                        move_sigma: z,
                        over_ms: dt,
                        log_return: r,
                    });
                }
            }
        }
        if let Some(&(t, p)) = self.points.back() {
            let dt = now_ms - t;
            if dt > 0 {
                let r = libm::log(price / p);
                let x = r * r / dt as f64;
                // Warm-up: plain mean of the first `min_samples` returns, so the first return
                // does not dominate the seed; EWMA afterwards.
                self.var_per_ms = if self.samples < self.min_samples.max(1) {
                    (self.var_per_ms * self.samples as f64 + x) / (self.samples as f64 + 1.0)
                } else {
                    let keep = libm::exp2(-(dt as f64) / self.half_life_ms as f64);
                    keep * self.var_per_ms + (1.0 - keep) * x
                };
                self.samples = self.samples.saturating_add(1);
            }
        }
        match self.points.back_mut() {
            Some(last) if last.0 == now_ms => last.1 = price,
            _ => self.points.push_back((now_ms, price)),
        }
        while self
            .points
            .front()
            .is_some_and(|&(t, _)| now_ms - t > self.window_ms)
        {
            self.points.pop_front();
        }
        best
    }
}

/// Breaker parameters; [`BreakerConfig::validate`] is called by [`Breaker::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Move (in σ) that demands Cautious. > 0.
    pub cautious_sigma: f64,
    /// Move (in σ) that demands Halted. ≥ `cautious_sigma`.
    pub halt_sigma: f64,
    /// Moves are measured against every price seen within this span. > 0.
    pub move_window_ms: i64,
    /// Half-life of the EWMA variance. > 0.
    pub vol_half_life_ms: i64,
    /// Returns needed before the move trigger is armed.
    pub min_vol_samples: u32,
    /// Lower bound on σ, relative, per √hour. ≥ 0.
    pub sigma_floor_per_sqrt_hour: f64,
    /// Mode demanded by each oracle status, indexed by `OracleStatus::index()`. Recovering is not
    /// a valid demand.
    pub oracle_modes: [Mode; 5],
    /// Congestion level demanding Cautious / Halted. 0 < cautious ≤ halt.
    pub congestion_cautious: f64,
    pub congestion_halt: f64,
    /// Outflow limiter; `None` disables the trigger.
    pub outflow: Option<FlowLimiterConfig>,
    /// Quiet time required before stepping down (Halted → Recovering, Cautious → Normal). ≥ 0.
    pub cooldown_ms: i64,
    /// Recovering duration (Aave v3 PriceOracleSentinel grace period). ≥ 0.
    pub grace_ms: i64,
    /// During Recovering, an account with health below this may still be liquidated (Aave: 0.95).
    pub grace_liquidation_health: f64,
    /// Margin multipliers per mode (≥ 1): Cautious, Recovering, Halted.
    pub cautious_margin_multiplier: f64,
    pub recovering_margin_multiplier: f64,
    pub halted_margin_multiplier: f64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            cautious_sigma: 4.0,
            halt_sigma: 6.0,
            move_window_ms: 4 * 3_600_000,
            vol_half_life_ms: 24 * 3_600_000,
            min_vol_samples: 12,
            sigma_floor_per_sqrt_hour: 0.003,
            oracle_modes: [
                Mode::Normal,   // Valid
                Mode::Cautious, // LowConfidence
                Mode::Halted,   // Divergent
                Mode::Cautious, // Stale
                Mode::Halted,   // NoQuorum
            ],
            congestion_cautious: 3.0,
            congestion_halt: 10.0,
            outflow: None,
            cooldown_ms: 3_600_000,
            grace_ms: 3_600_000,
            grace_liquidation_health: 0.95,
            cautious_margin_multiplier: 1.5,
            recovering_margin_multiplier: 1.25,
            halted_margin_multiplier: 1.5,
        }
    }
}

impl BreakerConfig {
    pub fn validate(&self) -> Result<(), Error> {
        let pos = |f: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(config(f, format!("must be finite and > 0, got {v}")))
            }
        };
        pos("cautious_sigma", self.cautious_sigma)?;
        pos("halt_sigma", self.halt_sigma)?;
        if self.halt_sigma < self.cautious_sigma {
            return Err(config("halt_sigma", "must be >= cautious_sigma"));
        }
        pos("congestion_cautious", self.congestion_cautious)?;
        pos("congestion_halt", self.congestion_halt)?;
        if self.congestion_halt < self.congestion_cautious {
            return Err(config("congestion_halt", "must be >= congestion_cautious"));
        }
        if self.move_window_ms <= 0 || self.vol_half_life_ms <= 0 {
            return Err(config("move_window_ms/vol_half_life_ms", "must be > 0"));
        }
        if !(self.sigma_floor_per_sqrt_hour.is_finite() && self.sigma_floor_per_sqrt_hour >= 0.0) {
            return Err(config(
                "sigma_floor_per_sqrt_hour",
                "must be finite and >= 0",
            ));
        }
        if self.oracle_modes.contains(&Mode::Recovering) {
            return Err(config(
                "oracle_modes",
                "Recovering is not a demandable mode",
            ));
        }
        if self.oracle_modes[OracleStatus::Valid.index()] != Mode::Normal {
            return Err(config("oracle_modes", "a Valid oracle must demand Normal"));
        }
        if self.cooldown_ms < 0 || self.grace_ms < 0 {
            return Err(config("cooldown_ms/grace_ms", "must be >= 0"));
        }
        if !(self.grace_liquidation_health.is_finite() && self.grace_liquidation_health >= 0.0) {
            return Err(config(
                "grace_liquidation_health",
                "must be finite and >= 0",
            ));
        }
        for (f, v) in [
            (
                "cautious_margin_multiplier",
                self.cautious_margin_multiplier,
            ),
            (
                "recovering_margin_multiplier",
                self.recovering_margin_multiplier,
            ),
            ("halted_margin_multiplier", self.halted_margin_multiplier),
        ] {
            if !(v.is_finite() && v >= 1.0) {
                return Err(config(f, "must be finite and >= 1"));
            }
        }
        if let Some(o) = &self.outflow {
            o.validate()?;
        }
        Ok(())
    }
}

/// One breaker instance (per market or per pool). `Clone + PartialEq` so a rejected call can be
/// shown to change nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breaker {
    scope: Scope,
    cfg: BreakerConfig,
    mode: Mode,
    mode_since_ms: i64,
    /// Since when the demand has been below the current mode (for the cooldown).
    clear_since_ms: Option<i64>,
    vol: VolEstimator,
    flow: Option<FlowLimiter>,
    gov_floor: Mode,
    oracle: OracleStatus,
    chain: ChainSignal,
    last_move: Option<MoveReading>,
    last_now_ms: Option<i64>,
    demand: Mode,
    demand_cause: Option<Trip>,
}

impl Breaker {
    pub fn new(scope: Scope, cfg: BreakerConfig) -> Result<Self, Error> {
        cfg.validate()?;
        Ok(Self {
            scope,
            vol: VolEstimator::new(
                cfg.vol_half_life_ms,
                cfg.move_window_ms,
                cfg.min_vol_samples,
                cfg.sigma_floor_per_sqrt_hour,
            )?,
            flow: cfg.outflow.map(FlowLimiter::new).transpose()?,
            cfg,
            mode: Mode::Normal,
            mode_since_ms: 0,
            clear_since_ms: None,
            gov_floor: Mode::Normal,
            oracle: OracleStatus::Valid,
            chain: ChainSignal::default(),
            last_move: None,
            last_now_ms: None,
            demand: Mode::Normal,
            demand_cause: None,
        })
    }

    /// Governance changes a threshold in place: the mode, its history, the volatility estimate
    /// and the flow buffers stay as they are (re-installing a breaker would reset them to
    /// Normal, the bypass this exists to close). Fields that shape the estimators
    /// (`vol_half_life_ms`, `move_window_ms`, `min_vol_samples`, `sigma_floor_per_sqrt_hour`,
    /// `outflow`) and the oracle-mode table are not changed here. On error nothing changes.
    pub fn reconfigure(&mut self, cfg: BreakerConfig) -> Result<(), Error> {
        cfg.validate()?;
        let c = &self.cfg;
        let same_shape = cfg.vol_half_life_ms == c.vol_half_life_ms
            && cfg.move_window_ms == c.move_window_ms
            && cfg.min_vol_samples == c.min_vol_samples
            && cfg.sigma_floor_per_sqrt_hour.to_bits() == c.sigma_floor_per_sqrt_hour.to_bits()
            && cfg.outflow == c.outflow
            && cfg.oracle_modes == c.oracle_modes;
        if !same_shape {
            return Err(config(
                "breaker",
                "only thresholds, cooldowns and multipliers change in place",
            ));
        }
        self.cfg = cfg;
        Ok(())
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }
    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn config(&self) -> &BreakerConfig {
        &self.cfg
    }
    /// The strictest mode demanded by the triggers at the last evaluation, and the trigger.
    pub fn demand(&self) -> (Mode, Option<Trip>) {
        (self.demand, self.demand_cause)
    }
    /// The move measured at the last priced step.
    pub fn last_move(&self) -> Option<MoveReading> {
        self.last_move
    }
    pub fn volatility(&self) -> &VolEstimator {
        &self.vol
    }
    pub fn flow(&self) -> Option<&FlowLimiter> {
        self.flow.as_ref()
    }

    /// Margin multiplier for the current mode (1 in Normal).
    pub fn margin_multiplier(&self) -> f64 {
        match self.mode {
            Mode::Normal => 1.0,
            Mode::Cautious => self.cfg.cautious_margin_multiplier,
            Mode::Recovering => self.cfg.recovering_margin_multiplier,
            Mode::Halted => self.cfg.halted_margin_multiplier,
        }
    }

    /// Whether the prices can be trusted right now: the oracle status demands nothing, no move
    /// beyond `cautious_sigma` is in the window, the chain is up, and governance has not halted.
    /// Used to keep liquidations running during a halt that is not about prices (an outflow
    /// breach): "no liquidation on *untrusted* prices".
    pub fn prices_trusted(&self) -> bool {
        self.cfg.oracle_modes[self.oracle.index()] == Mode::Normal
            && self
                .last_move
                .is_none_or(|m| m.move_sigma < self.cfg.cautious_sigma)
            && !self.chain.halted
            && self.gov_floor != Mode::Halted
    }

    /// Whether `action` is allowed in the current mode ([`Mode::allows`]), except that in Halted a
    /// liquidation is allowed while [`Self::prices_trusted`].
    pub fn allows(&self, action: Action) -> Result<(), Blocked> {
        let halted_liquidation_ok =
            self.mode == Mode::Halted && action == Action::Liquidate && self.prices_trusted();
        if self.mode.allows(action) || halted_liquidation_ok {
            Ok(())
        } else {
            Err(Blocked {
                action,
                status: Gate::Breaker { mode: self.mode },
            })
        }
    }

    /// Liquidation of an account with this health factor: as [`Self::allows`], except that during
    /// the Recovering grace period an account below `grace_liquidation_health` may be liquidated
    /// (Aave v3 PriceOracleSentinel).
    pub fn allows_liquidation(&self, health_factor: f64) -> Result<(), Blocked> {
        if self.mode == Mode::Recovering
            && health_factor.is_finite()
            && health_factor < self.cfg.grace_liquidation_health
        {
            return Ok(());
        }
        self.allows(Action::Liquidate)
    }

    fn check_now(&self, now_ms: i64) -> Result<(), Error> {
        match self.last_now_ms {
            Some(l) if now_ms < l => Err(Error::TimeWentBackwards {
                last_ms: l,
                got_ms: now_ms,
            }),
            _ => Ok(()),
        }
    }

    /// Feeds one observation and advances the state machine. Returns the transitions it caused
    /// (usually none, at most a few). On error nothing changes.
    pub fn step(&mut self, input: BreakerInput) -> Result<Vec<Transition>, Error> {
        self.check_now(input.now_ms)?;
        if let Some(p) = input.price {
            check_price("breaker price", p)?;
        }
        check_amount("chain congestion", input.chain.congestion)?;
        if let Some(p) = input.price {
            self.last_move = self.vol.observe(input.now_ms, p);
        }
        self.oracle = input.oracle;
        self.chain = input.chain;
        Ok(self.evaluate(input.now_ms))
    }

    /// Records a value inflow (quote currency) for the outflow limiter (no-op if disabled).
    pub fn record_inflow(&mut self, now_ms: i64, value: f64) -> Result<(), Error> {
        self.check_now(now_ms)?;
        check_amount("inflow", value)?;
        if let Some(f) = self.flow.as_mut() {
            f.inflow(now_ms, value)?;
        }
        self.last_now_ms = Some(now_ms);
        Ok(())
    }

    /// Records a value outflow (call it for a withdrawal that passed every other check). On
    /// [`FlowCheck::Exceeded`] the caller must refuse the outflow; the breaker re-evaluates at
    /// once and the returned transitions say where it went.
    pub fn record_outflow(
        &mut self,
        now_ms: i64,
        value: f64,
    ) -> Result<(FlowCheck, Vec<Transition>), Error> {
        self.check_now(now_ms)?;
        check_amount("outflow", value)?;
        let check = match self.flow.as_mut() {
            Some(f) => f.outflow(now_ms, value)?,
            None => FlowCheck::Within,
        };
        let transitions = self.evaluate(now_ms);
        Ok((check, transitions))
    }

    /// Strictest demand of the automatic triggers (no governance floor), in a fixed order so the
    /// reported cause is deterministic.
    fn auto_demand(&self) -> (Mode, Option<Trip>) {
        let mut best = (Mode::Normal, None);
        let mut offer = |m: Mode, t: Trip| {
            if m.severity() > best.0.severity() {
                best = (m, Some(t));
            }
        };
        let om = self.cfg.oracle_modes[self.oracle.index()];
        offer(
            om,
            Trip::Oracle {
                status: self.oracle,
            },
        );
        if let Some(mv) = self.last_move {
            let (m, thr) = if mv.move_sigma >= self.cfg.halt_sigma {
                (Mode::Halted, self.cfg.halt_sigma)
            } else if mv.move_sigma >= self.cfg.cautious_sigma {
                (Mode::Cautious, self.cfg.cautious_sigma)
            } else {
                (Mode::Normal, 0.0)
            };
            offer(
                m,
                Trip::Move {
                    move_sigma: mv.move_sigma,
                    threshold: thr,
                    over_ms: mv.over_ms,
                },
            );
        }
        if self.chain.halted {
            offer(Mode::Halted, Trip::ChainHalt);
        }
        let c = self.chain.congestion;
        if c >= self.cfg.congestion_halt {
            offer(
                Mode::Halted,
                Trip::Congestion {
                    level: c,
                    threshold: self.cfg.congestion_halt,
                },
            );
        } else if c >= self.cfg.congestion_cautious {
            offer(
                Mode::Cautious,
                Trip::Congestion {
                    level: c,
                    threshold: self.cfg.congestion_cautious,
                },
            );
        }
        if let Some((outflow, available)) = self.flow.as_ref().and_then(FlowLimiter::breach) {
            offer(Mode::Halted, Trip::Outflow { outflow, available });
        }
        best
    }

    fn transition(&mut self, now_ms: i64, to: Mode, cause: Cause, out: &mut Vec<Transition>) {
        out.push(Transition {
            at_ms: now_ms,
            scope: self.scope,
            from: self.mode,
            to,
            cause,
        });
        self.mode = to;
        self.mode_since_ms = now_ms;
        self.clear_since_ms = None;
    }

    fn evaluate(&mut self, now_ms: i64) -> Vec<Transition> {
        self.last_now_ms = Some(now_ms);
        if let Some(f) = self.flow.as_mut() {
            f.refresh(now_ms);
        }
        let (mut demand, mut cause) = self.auto_demand();
        if self.gov_floor.severity() > demand.severity() {
            demand = self.gov_floor;
            cause = Some(Trip::Governance {
                floor: self.gov_floor,
            });
        }
        self.demand = demand;
        self.demand_cause = cause;

        let mut out = Vec::new();
        let tripped =
            |c: Option<Trip>| Cause::Tripped(c.unwrap_or(Trip::Governance { floor: demand }));
        match self.mode {
            Mode::Normal | Mode::Cautious if demand.severity() > self.mode.severity() => {
                self.transition(now_ms, demand, tripped(cause), &mut out);
            }
            Mode::Recovering if demand == Mode::Halted => {
                self.transition(now_ms, Mode::Halted, tripped(cause), &mut out);
            }
            Mode::Recovering => {
                if now_ms - self.mode_since_ms >= self.cfg.grace_ms {
                    let to = if demand == Mode::Cautious {
                        Mode::Cautious
                    } else {
                        Mode::Normal
                    };
                    let grace_ms = self.cfg.grace_ms;
                    self.transition(now_ms, to, Cause::GraceElapsed { grace_ms }, &mut out);
                }
            }
            Mode::Halted | Mode::Cautious => {
                let below = demand.severity() < self.mode.severity();
                if !below {
                    self.clear_since_ms = None;
                } else {
                    let since = *self.clear_since_ms.get_or_insert(now_ms);
                    let quiet_ms = now_ms - since;
                    if quiet_ms >= self.cfg.cooldown_ms {
                        let to = if self.mode == Mode::Halted {
                            Mode::Recovering
                        } else {
                            Mode::Normal
                        };
                        self.transition(now_ms, to, Cause::Cleared { quiet_ms }, &mut out);
                    }
                }
            }
            Mode::Normal => {}
        }
        out
    }

    /// Governance override, within bounds:
    /// * tightening (to a stricter mode, except Recovering) is always allowed and sets a floor
    ///   that holds until governance lowers it;
    /// * loosening goes one step along the lifecycle only — Halted → Recovering (skips the
    ///   cooldown, keeps the grace period), Cautious → Normal — and only while no automatic
    ///   trigger demands more than the requested mode;
    /// * anything else (Halted → Normal, cutting the grace period short, …) is refused.
    ///
    /// Requesting the current mode just sets the floor to it. On error nothing changes.
    pub fn govern(&mut self, requested: Mode, now_ms: i64) -> Result<Vec<Transition>, Error> {
        self.check_now(now_ms)?;
        let refuse = |reason: String| Error::OverrideRefused {
            requested,
            mode: self.mode,
            reason,
        };
        let floor_of = |m: Mode| {
            if m == Mode::Recovering {
                Mode::Normal
            } else {
                m
            }
        };
        let cur = self.mode;
        let (auto, auto_trip) = self.auto_demand();
        if requested == cur {
            self.gov_floor = floor_of(requested);
            self.last_now_ms = Some(now_ms);
            return Ok(Vec::new());
        }
        if requested.severity() > cur.severity() {
            if requested == Mode::Recovering {
                return Err(refuse("Recovering is entered from Halted only".into()));
            }
            self.gov_floor = requested;
            self.last_now_ms = Some(now_ms);
            let mut out = Vec::new();
            self.transition(now_ms, requested, Cause::Governance { requested }, &mut out);
            return Ok(out);
        }
        let one_step = matches!(
            (cur, requested),
            (Mode::Halted, Mode::Recovering) | (Mode::Cautious, Mode::Normal)
        );
        if !one_step {
            return Err(refuse(match cur {
                Mode::Halted => "leave Halted through Recovering (liquidation grace period)".into(),
                _ => "the grace period cannot be cut short".into(),
            }));
        }
        // Halted → Recovering needs every Halted-level trigger clear (a Cautious one may remain:
        // the grace period then ends in Cautious); Cautious → Normal needs every trigger clear.
        let blocked = match cur {
            Mode::Halted => auto == Mode::Halted,
            _ => auto != Mode::Normal,
        };
        if blocked {
            let t = auto_trip.map_or_else(String::new, |t| t.to_string());
            return Err(refuse(format!("trigger still active: {t}")));
        }
        self.gov_floor = floor_of(requested);
        self.last_now_ms = Some(now_ms);
        let mut out = Vec::new();
        self.transition(now_ms, requested, Cause::Governance { requested }, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn input(now_ms: i64, price: f64) -> BreakerInput {
        BreakerInput {
            now_ms,
            price: Some(price),
            oracle: OracleStatus::Valid,
            chain: ChainSignal::default(),
        }
    }

    /// A breaker warmed up on 24 hourly prices alternating ±0.5 %.
    fn warmed() -> (Breaker, i64) {
        let mut b = Breaker::new(Scope::Market(1), BreakerConfig::default()).unwrap();
        let mut p = 100.0;
        for i in 0..24 {
            p *= if i % 2 == 0 { 1.005 } else { 1.0 / 1.005 };
            assert!(b.step(input(i * H, p)).unwrap().is_empty());
        }
        (b, 23 * H)
    }

    #[test]
    fn crash_halts_then_recovers_through_grace() {
        let (mut b, t0) = warmed();
        let t = b.step(input(t0 + H, 80.0)).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].from, t[0].to), (Mode::Normal, Mode::Halted));
        match t[0].cause {
            Cause::Tripped(Trip::Move {
                move_sigma,
                threshold,
                ..
            }) => assert!(move_sigma >= threshold && threshold == 6.0),
            c => panic!("{c:?}"),
        }
        assert!(t[0].to_string().contains("move_sigma="));
        assert!(b.allows(Action::Deposit).is_ok());
        assert!(b.allows(Action::Repay).is_ok());
        assert!(b.allows(Action::Liquidate).is_err());
        // Calm again: the move persists in the 4 h window for a while, then clears.
        let mut now = t0 + H;
        let mut modes = vec![];
        for _ in 0..12 {
            now += H;
            for tr in b.step(input(now, 80.0)).unwrap() {
                modes.push(tr.to);
            }
        }
        assert_eq!(modes, vec![Mode::Recovering, Mode::Normal]);
    }

    #[test]
    fn oracle_and_chain_triggers() {
        let mut b = Breaker::new(Scope::Pool(0), BreakerConfig::default()).unwrap();
        let mut i = input(0, 100.0);
        i.oracle = OracleStatus::LowConfidence;
        let t = b.step(i).unwrap();
        assert_eq!(t[0].to, Mode::Cautious);
        assert_eq!(b.margin_multiplier(), 1.5);
        assert!(b.allows(Action::Trade).is_err());
        assert!(b.allows(Action::ReduceTrade).is_ok());
        i.now_ms = 1;
        i.chain.halted = true;
        let t = b.step(i).unwrap();
        assert_eq!(
            (t[0].to, t[0].cause),
            (Mode::Halted, Cause::Tripped(Trip::ChainHalt))
        );
        // Never leaves Halted while the chain is halted, however long.
        i.now_ms = 100 * H;
        assert!(b.step(i).unwrap().is_empty());
        assert!(b.govern(Mode::Recovering, 100 * H).is_err());
        assert_eq!(b.mode(), Mode::Halted);
    }

    #[test]
    fn governance_is_bounded() {
        let mut b = Breaker::new(Scope::Market(7), BreakerConfig::default()).unwrap();
        b.step(input(0, 100.0)).unwrap();
        let t = b.govern(Mode::Halted, 1).unwrap();
        assert_eq!(t[0].to, Mode::Halted);
        // The floor holds: no automatic reset.
        assert!(b.step(input(10 * H, 100.0)).unwrap().is_empty());
        assert!(matches!(
            b.govern(Mode::Normal, 10 * H),
            Err(Error::OverrideRefused { .. })
        ));
        let before = b.clone();
        assert!(b.govern(Mode::Cautious, 10 * H).is_err());
        assert_eq!(b, before);
        assert_eq!(
            b.govern(Mode::Recovering, 10 * H).unwrap()[0].to,
            Mode::Recovering
        );
        assert!(b.govern(Mode::Normal, 10 * H).is_err()); // grace cannot be cut short
        let t = b.step(input(11 * H, 100.0)).unwrap();
        assert_eq!(t[0].to, Mode::Normal);
    }

    #[test]
    fn outflow_limiter_trips_and_refills() {
        let cfg = BreakerConfig {
            outflow: Some(FlowLimiterConfig {
                main_capacity: 1_000.0,
                main_refill_ms: 10 * H,
                elastic_decay_ms: H,
                resume_fraction: 0.5,
            }),
            ..Default::default()
        };
        let mut b = Breaker::new(Scope::Pool(1), cfg).unwrap();
        b.record_inflow(0, 500.0).unwrap();
        // Elastic (500) then main (1000): 1400 passes.
        let (c, t) = b.record_outflow(0, 1_400.0).unwrap();
        assert_eq!(c, FlowCheck::Within);
        assert!(t.is_empty());
        let (c, t) = b.record_outflow(1, 200.0).unwrap();
        assert!(matches!(c, FlowCheck::Exceeded { .. }));
        assert_eq!(t[0].to, Mode::Halted);
        assert!(b.allows(Action::Withdraw).is_err());
        assert!(b.allows(Action::Trade).is_err());
        assert!(b.allows(Action::Deposit).is_ok());
        // The halt is about flows, not prices: liquidations continue.
        assert!(b.allows(Action::Liquidate).is_ok());
        // Refill to 50 % takes 5 h; then cooldown 1 h, then grace 1 h.
        let mut now = 1;
        let mut seen = vec![];
        while now < 9 * H {
            now += H / 2;
            for tr in b.step(input(now, 100.0)).unwrap() {
                seen.push((tr.to, tr.at_ms));
            }
        }
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].0, Mode::Recovering);
        assert!(seen[0].1 >= 6 * H);
        assert_eq!(seen[1].0, Mode::Normal);
        assert!(b.record_outflow(now, f64::NAN).is_err());
    }

    #[test]
    fn recovering_blocks_liquidation_except_deep_underwater() {
        let mut b = Breaker::new(Scope::Market(1), BreakerConfig::default()).unwrap();
        b.govern(Mode::Halted, 0).unwrap();
        b.govern(Mode::Recovering, 1).unwrap();
        assert!(b.allows(Action::Liquidate).is_err());
        assert!(b.allows_liquidation(1.01).is_err());
        assert!(b.allows_liquidation(0.90).is_ok());
        assert_eq!(b.margin_multiplier(), 1.25);
    }

    #[test]
    fn bad_inputs_change_nothing() {
        let (mut b, t0) = warmed();
        let before = b.clone();
        assert!(b.step(input(t0 + 1, f64::NAN)).is_err());
        assert!(b.step(input(t0 + 1, -1.0)).is_err());
        assert!(b.step(input(t0 - 1, 100.0)).is_err());
        let mut i = input(t0 + 1, 100.0);
        i.chain.congestion = f64::INFINITY;
        assert!(b.step(i).is_err());
        assert_eq!(b, before);
    }
}
