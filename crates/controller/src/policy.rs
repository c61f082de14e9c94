//! The controller's rules: pure functions from signals and current parameter values to moves.
//! Every move is clamped to the parameter's governed range and to the step governance allows
//! from its current value (`ParamSpec::allowed_step`), so a rule can ask for at most what one
//! governance change may do.
//!
//! - Stress (the largest of vol add-on / `vol_ref`, divergence / `divergence_ref`, share below
//!   maintenance / `queue_ref`) above 1 raises the market's maintenance margin by
//!   `raise_fraction` of one allowed step per unit of excess (at most one step), and the initial
//!   margin with it when the order `maint < init` needs it. Below `calm` it lowers maintenance
//!   back towards the baseline recorded at the first decision.
//! - A market whose largest owner holds more than `max_concentration` of one side has its
//!   open-interest cap brought down towards the current open interest.
//! - A base asset whose sources diverge beyond `divergence_ref` has its initial collateral
//!   weight cut by one step in every pool that lists it.

use ballast_engine::engine::Engine;
use ballast_engine::ids::{MarketId, PoolId};
use ballast_engine::params::{CollateralField, MarketField, ParamKey};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::signals::{MarketSignals, Signals};

/// Why a move was proposed, with the inputs that triggered it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reason {
    Stress { market: MarketId, stress: f64 },
    Calm { market: MarketId, stress: f64 },
    Concentration { market: MarketId, share: f64 },
    Divergence { market: MarketId, divergence: f64 },
}

/// One parameter change the policy wants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    pub key: ParamKey,
    pub from: i64,
    pub to: i64,
    pub reason: Reason,
}

/// The controller's tuning. Its own numbers are not risk settings: whatever they say, a move is
/// clamped to governance's range and step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub vol_ref: f64,
    pub divergence_ref: f64,
    pub queue_ref: f64,
    /// Below this stress, margins drift back towards their baseline.
    pub calm: f64,
    /// Share of one allowed step per unit of stress above 1.
    pub raise_fraction: f64,
    pub max_concentration: f64,
    /// Maintenance margins at the first decision (the level calm returns to).
    pub baseline: BTreeMap<MarketId, i64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            vol_ref: 0.05,
            divergence_ref: 0.02,
            queue_ref: 0.05,
            calm: 0.5,
            raise_fraction: 1.0,
            max_concentration: 0.5,
            baseline: BTreeMap::new(),
        }
    }
}

/// `target` clamped into the governed range and one allowed step from `from`; None when that
/// leaves the value unchanged.
pub fn bounded(key: &ParamKey, from: i64, target: i64) -> Option<i64> {
    let spec = key.spec();
    let step = spec.allowed_step(from);
    let lo = from.saturating_sub(step).max(spec.min);
    let hi = from.saturating_add(step).min(spec.max);
    let to = target.clamp(lo.min(hi), hi.max(lo));
    (to != from).then_some(to)
}

fn stress(p: &Policy, s: &Signals, m: &MarketSignals) -> f64 {
    (m.vol_addon / p.vol_ref)
        .max(m.divergence / p.divergence_ref)
        .max(s.below_maintenance / p.queue_ref)
}

fn push(out: &mut Vec<Move>, key: ParamKey, from: i64, target: i64, reason: Reason) {
    if let Some(to) = bounded(&key, from, target) {
        out.push(Move {
            key,
            from,
            to,
            reason,
        });
    }
}

/// Margin moves of one market under stress or calm.
fn margin_moves(p: &Policy, e: &Engine, s: &Signals, m: &MarketSignals, out: &mut Vec<Move>) {
    let key = |field| ParamKey::Market {
        market: m.market,
        field,
    };
    let (Ok(maint), Ok(init)) = (
        e.param(&key(MarketField::MaintMargin)),
        e.param(&key(MarketField::InitMargin)),
    ) else {
        return;
    };
    let x = stress(p, s, m);
    let mkey = key(MarketField::MaintMargin);
    if x > 1.0 {
        let step = mkey.spec().allowed_step(maint) as f64;
        let up = (step * p.raise_fraction * (x - 1.0).min(1.0)) as i64;
        let target = maint.saturating_add(up.max(1));
        let Some(to) = bounded(&mkey, maint, target) else {
            return;
        };
        let reason = Reason::Stress {
            market: m.market,
            stress: x,
        };
        // Keep maint < init: raise init first by the same amount when needed.
        if to >= init {
            push(
                out,
                key(MarketField::InitMargin),
                init,
                to.saturating_add(to - maint),
                reason.clone(),
            );
        }
        push(out, mkey, maint, to, reason);
    } else if x < p.calm {
        let base = p.baseline.get(&m.market).copied().unwrap_or(maint);
        if maint > base {
            let reason = Reason::Calm {
                market: m.market,
                stress: x,
            };
            push(out, mkey, maint, base, reason);
        }
    }
}

/// Open-interest cap towards current open interest when one owner dominates a side.
fn concentration_moves(p: &Policy, e: &Engine, m: &MarketSignals, out: &mut Vec<Move>) {
    if m.concentration <= p.max_concentration {
        return;
    }
    let key = ParamKey::Market {
        market: m.market,
        field: MarketField::MaxOpenInterest,
    };
    let (Ok(cap), Some(mk)) = (e.param(&key), e.state().markets.get(m.market.idx())) else {
        return;
    };
    let oi = mk.long_oi.0.max(mk.short_oi.0).max(1);
    if cap > oi {
        let reason = Reason::Concentration {
            market: m.market,
            share: m.concentration,
        };
        push(out, key, cap, oi, reason);
    }
}

/// One step down of the initial weight of a diverging base asset, in every pool listing it.
fn divergence_moves(p: &Policy, e: &Engine, m: &MarketSignals, out: &mut Vec<Move>) {
    if m.divergence <= p.divergence_ref {
        return;
    }
    let st = e.state();
    let Some(base) = st.markets.get(m.market.idx()).map(|mk| mk.base) else {
        return;
    };
    for (i, pool) in st.pools.iter().enumerate() {
        if !pool.collateral.iter().any(|c| c.asset == base) {
            continue;
        }
        let key = ParamKey::Collateral {
            pool: PoolId(i as u16),
            asset: base,
            field: CollateralField::InitWeight,
        };
        if let Ok(w) = e.param(&key) {
            let reason = Reason::Divergence {
                market: m.market,
                divergence: m.divergence,
            };
            push(out, key, w, 0, reason);
        }
    }
}

/// Every move the rules ask for, in market order; one move per key (the first rule wins).
pub fn moves(p: &Policy, e: &Engine, s: &Signals) -> Vec<Move> {
    let mut out = Vec::new();
    for m in &s.markets {
        margin_moves(p, e, s, m, &mut out);
        concentration_moves(p, e, m, &mut out);
        divergence_moves(p, e, m, &mut out);
    }
    let mut seen = Vec::new();
    out.retain(|mv| {
        let new = !seen.contains(&mv.key);
        seen.push(mv.key);
        new
    });
    out
}
