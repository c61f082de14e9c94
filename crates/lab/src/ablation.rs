//! Ablations (`ballast ablate`): each defence switched off alone, on the paths it was built for,
//! with the effect on loss measured as a paired difference.
//!
//! A plan (TOML, [`Plan`]) names a scenario and a list of knock-outs; each knock-out is a set of
//! `--set` overrides (`!key` removes a table, e.g. `!breaker`). Every path `i` is run twice, with
//! the defence and without, on the same seed: common random numbers, so the two runs of a path
//! see the same prices, faults and book, and the difference per path isolates the defence
//! (Glasserman, *Monte Carlo Methods in Financial Engineering*, 2003, §4.2 on common random
//! numbers). The reported effect is the mean of the per-path differences with a normal 95 %
//! interval, `mean ± z·s/√n`; the [`Verdict`] says whether that interval lies above zero (the
//! defence lowers the loss), below it (it raises the loss) or straddles it (no measured effect).

use crate::embedded;
use crate::error::LabError;
use crate::record::PathResult;
use crate::runner::Prepared;
use crate::stats::Moments;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One defence switched off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knockout {
    /// The defence, as the docs name it.
    pub defence: String,
    /// Overrides that switch it (and only it) off.
    pub off: Vec<String>,
    /// What the defence should do when it works (for the report; e.g. "lowers bad debt").
    #[serde(default)]
    pub claim: String,
}

/// A scenario and the defences to knock out of it one at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Embedded scenario name or TOML file.
    pub scenario: String,
    /// Overrides applied to both sides (e.g. `paths=200`).
    #[serde(default)]
    pub set: Vec<String>,
    pub knockout: Vec<Knockout>,
}

/// A whole plan: several studies (`[[study]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub study: Vec<Study>,
}

/// The plan `ballast ablate` runs without an argument.
pub const DEFAULT_PLAN: &str = include_str!("../ablations.toml");

impl Plan {
    /// Parses a plan; errors name the origin and the field.
    pub fn from_toml(text: &str, origin: &str) -> Result<Plan, LabError> {
        toml::from_str(text).map_err(|e| LabError::Toml {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })
    }
}

/// A mean with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    pub mean: f64,
    pub ci95: [f64; 2],
}

impl MeanCi {
    fn of(m: &Moments, n: u64, unit: i64) -> MeanCi {
        let (mean, h) = m.mean_ci(n, unit);
        MeanCi {
            mean,
            ci95: [mean - h, mean + h],
        }
    }
}

/// What the paired difference says about a defence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Switching it off raises the loss: the 95 % interval of `off − on` is above zero.
    Lowers,
    /// The interval contains zero: no effect measured on these paths.
    NoEffect,
    /// Switching it off lowers the loss: the defence, here, makes things worse.
    Raises,
}

impl Verdict {
    fn of(d: &MeanCi) -> Verdict {
        if d.ci95[0] > 0.0 {
            Verdict::Lowers
        } else if d.ci95[1] < 0.0 {
            Verdict::Raises
        } else {
            Verdict::NoEffect
        }
    }
    /// As the table prints it.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Lowers => "lowers loss",
            Verdict::NoEffect => "no effect",
            Verdict::Raises => "RAISES loss",
        }
    }
}

/// The effect of switching one defence off: `off − on`, per path, averaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    pub scenario: String,
    pub defence: String,
    pub claim: String,
    pub paths: u64,
    /// Mean protocol loss per path (USD) with and without: bad debt incl. socialized, or, where
    /// the scenario has attackers, the attack's protocol loss (the same net of the ADL between
    /// the attacker's own accounts, `attack::tally`).
    pub loss_on: MeanCi,
    pub loss_off: MeanCi,
    /// Paired difference of loss (USD): > 0 means the defence lowers the loss.
    pub loss_delta: MeanCi,
    /// P(insolvency) with and without, and the paired difference.
    pub p_on: f64,
    pub p_off: f64,
    pub p_delta: MeanCi,
    /// Whether the defence lowers the loss, raises it, or shows no effect on these paths.
    pub verdict: Verdict,
    /// With attackers: their mean net profit per path (USD) with and without the defence, and
    /// the paired difference `off − on` (> 0: the defence costs the attacker that much).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacker: Option<AttackerEffect>,
}

/// What a defence does to the attacker's net profit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackerEffect {
    pub profit_on: MeanCi,
    pub profit_off: MeanCi,
    pub profit_delta: MeanCi,
}

/// Per-path numbers one side contributes.
#[derive(Debug, Clone, Copy)]
struct Side {
    loss: i64,
    insolvent: bool,
    /// The attackers' net profit, on a path with attackers.
    profit: Option<i64>,
}

impl Side {
    fn of(r: &PathResult) -> Side {
        let attacked = r.attack.attackers > 0;
        Side {
            loss: if attacked {
                r.attack.protocol_loss
            } else {
                r.bad_debt
            },
            insolvent: r.bad_debt > 0,
            profit: attacked.then_some(r.attack.pnl),
        }
    }
}

/// Paired tallies over paths.
#[derive(Default)]
struct Tally {
    on: Moments,
    off: Moments,
    delta: Moments,
    p_on: Moments,
    p_off: Moments,
    p_delta: Moments,
    /// Paths with attackers on both sides, and their profits.
    attacked: u64,
    profit_on: Moments,
    profit_off: Moments,
    profit_delta: Moments,
}

impl Tally {
    fn add(&mut self, on: Side, off: Side) {
        self.on.add(on.loss, USD);
        self.off.add(off.loss, USD);
        self.delta.add(off.loss - on.loss, USD);
        let (a, b) = (i64::from(on.insolvent), i64::from(off.insolvent));
        self.p_on.add(a, 1);
        self.p_off.add(b, 1);
        self.p_delta.add(b - a, 1);
        if let (Some(x), Some(y)) = (on.profit, off.profit) {
            self.attacked += 1;
            self.profit_on.add(x, USD);
            self.profit_off.add(y, USD);
            self.profit_delta.add(y - x, USD);
        }
    }

    fn attacker(&self) -> Option<AttackerEffect> {
        let n = self.attacked;
        (n > 0).then(|| AttackerEffect {
            profit_on: MeanCi::of(&self.profit_on, n, USD),
            profit_off: MeanCi::of(&self.profit_off, n, USD),
            profit_delta: MeanCi::of(&self.profit_delta, n, USD),
        })
    }
}

/// Quote-native units per USD (the lab's quote has 6 decimals).
const USD: i64 = 1_000_000;

/// Loads a study's scenario with `sets` (the study's, then the knock-out's).
fn prepare(scenario: &str, sets: &[String]) -> Result<Prepared, LabError> {
    let (sc, base) = embedded::load(scenario, sets)?;
    Prepared::new(sc, base.as_deref())
}

/// Runs every path of `on` and `off` (same seed, same path indices) and pairs them.
fn paired(on: &Prepared, off: &Prepared, threads: usize) -> Result<(Tally, u64), LabError> {
    let n = on.scenario.paths;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| LabError::Invalid(format!("thread pool: {e}")))?;
    let pairs: Vec<(Side, Side)> = pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|p| Ok((Side::of(&on.run_path(p)?), Side::of(&off.run_path(p)?))))
            .collect::<Result<Vec<_>, LabError>>()
    })?;
    let mut t = Tally::default();
    for (a, b) in pairs {
        t.add(a, b);
    }
    Ok((t, n))
}

/// Runs one study: the defended scenario once, each knock-out against it.
pub fn run_study(study: &Study, threads: usize) -> Result<Vec<Effect>, LabError> {
    let on = prepare(&study.scenario, &study.set)?;
    let mut out = Vec::with_capacity(study.knockout.len());
    for k in &study.knockout {
        let sets: Vec<String> = study.set.iter().chain(&k.off).cloned().collect();
        let off = prepare(&study.scenario, &sets).map_err(|e| LabError::Knockout {
            scenario: study.scenario.clone(),
            defence: k.defence.clone(),
            source: Box::new(e),
        })?;
        if (off.scenario.paths, off.scenario.seed) != (on.scenario.paths, on.scenario.seed) {
            return Err(LabError::UnpairedKnockout {
                defence: k.defence.clone(),
            });
        }
        let (t, n) = paired(&on, &off, threads)?;
        let loss_delta = MeanCi::of(&t.delta, n, USD);
        out.push(Effect {
            scenario: on.scenario.name.clone(),
            defence: k.defence.clone(),
            claim: k.claim.clone(),
            paths: n,
            loss_on: MeanCi::of(&t.on, n, USD),
            loss_off: MeanCi::of(&t.off, n, USD),
            verdict: Verdict::of(&loss_delta),
            loss_delta,
            p_on: MeanCi::of(&t.p_on, n, 1).mean,
            p_off: MeanCi::of(&t.p_off, n, 1).mean,
            p_delta: MeanCi::of(&t.p_delta, n, 1),
            attacker: t.attacker(),
        });
    }
    Ok(out)
}
