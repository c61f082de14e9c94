//! Minimum profitable attack capital (`ballast attack-capital`): the least capital with which
//! one of a scenario's attackers makes money on average, found by bisection.
//!
//! A probe scales the attacker's `capital_usd` and `size_usd` by one factor (the same plan at a
//! different scale: the same leverage, the same pump target) and runs the scenario's paths
//! through the stress runner, deterministically (same seed, so probes share their price paths:
//! common random numbers). The attack "pays" at a scale when its mean net profit over the paths
//! is positive. Bisection runs on the logarithm of the factor between `lo` and `hi` until the
//! bracket is within `tolerance` (relative); the answer is the bracket's upper end, the smallest
//! scale seen to pay. If the attack does not pay at `hi`, there is no answer in the range — the
//! defence held up to that capital — and the probes say by how much it lost.

use crate::error::LabError;
use crate::runner::{self, Prepared, RunConfig};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What to search.
#[derive(Debug, Clone)]
pub struct CapitalSearch {
    /// Index of the attacker in `[[agents.attackers]]`.
    pub attacker: usize,
    /// Scale range relative to the scenario's capital (`lo < hi`, both > 0).
    pub lo: f64,
    pub hi: f64,
    /// Relative width of the final bracket.
    pub tolerance: f64,
    /// Paths per probe (overrides the scenario's).
    pub paths: u64,
    pub threads: usize,
}

/// One probe of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub capital_usd: f64,
    pub size_usd: f64,
    pub profit_mean: f64,
    pub p_profitable: f64,
    pub protocol_loss_mean: f64,
}

/// The answer (`--json` prints it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapitalAnswer {
    pub scenario: String,
    pub paths: u64,
    pub seed: u64,
    /// The smallest capital seen to pay (USD), or `None` if none in the range did.
    pub min_capital_usd: Option<f64>,
    /// The largest capital seen not to pay, when there is one.
    pub max_unprofitable_usd: Option<f64>,
    /// The capital range searched, USD.
    pub searched_usd: [f64; 2],
    /// Every probe, in the order run.
    pub probes: Vec<Probe>,
}

/// Runs one probe at `scale`.
fn probe(
    sc: &Scenario,
    base: Option<&Path>,
    s: &CapitalSearch,
    scale: f64,
) -> Result<Probe, LabError> {
    let mut sc = sc.clone();
    sc.paths = s.paths;
    let a = &mut sc.agents.attackers[s.attacker];
    a.capital_usd *= scale;
    a.size_usd *= scale;
    let (capital_usd, size_usd) = (a.capital_usd, a.size_usd);
    let prep = Prepared::new(sc, base)?;
    let cfg = RunConfig {
        threads: s.threads,
        ..Default::default()
    };
    let summary = runner::run(&prep, &cfg)?.summary;
    let at = summary
        .attack
        .ok_or_else(|| LabError::Invalid("the attacker did not run".into()))?;
    Ok(Probe {
        capital_usd,
        size_usd,
        profit_mean: at.profit_mean,
        p_profitable: at.p_profitable,
        protocol_loss_mean: at.protocol_loss_mean,
    })
}

/// The search (module doc).
pub fn min_capital(
    sc: &Scenario,
    base: Option<&Path>,
    s: &CapitalSearch,
) -> Result<CapitalAnswer, LabError> {
    if s.attacker >= sc.agents.attackers.len() {
        return Err(LabError::field(
            "agents.attackers",
            format!(
                "no attacker {} (the scenario has {})",
                s.attacker,
                sc.agents.attackers.len()
            ),
        ));
    }
    if !(s.lo > 0.0 && s.hi > s.lo && s.hi.is_finite()) {
        return Err(LabError::Invalid(format!(
            "the scale range must satisfy 0 < lo < hi (got {} .. {})",
            s.lo, s.hi
        )));
    }
    if !(s.tolerance > 0.0 && s.tolerance.is_finite()) {
        return Err(LabError::Invalid("the tolerance must be > 0".into()));
    }
    let capital = sc.agents.attackers[s.attacker].capital_usd;
    let mut probes = Vec::new();
    let mut run = |scale: f64| -> Result<bool, LabError> {
        let p = probe(sc, base, s, scale)?;
        let pays = p.profit_mean > 0.0;
        probes.push(p);
        Ok(pays)
    };
    let (mut lo, mut hi) = (s.lo, s.hi);
    let (min, max_bad) = if !run(hi)? {
        (None, Some(hi))
    } else if run(lo)? {
        (Some(lo), None)
    } else {
        // Invariant: the attack pays at `hi`, not at `lo`.
        while hi / lo > 1.0 + s.tolerance {
            let mid = libm::sqrt(lo * hi);
            if run(mid)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        (Some(hi), Some(lo))
    };
    Ok(CapitalAnswer {
        scenario: sc.name.clone(),
        paths: s.paths,
        seed: sc.seed,
        min_capital_usd: min.map(|k| k * capital),
        max_unprofitable_usd: max_bad.map(|k| k * capital),
        searched_usd: [s.lo * capital, s.hi * capital],
        probes,
    })
}
