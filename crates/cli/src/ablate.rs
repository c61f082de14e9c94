//! `ballast ablate [PLAN]`: each defence switched off alone, paired per path against the
//! defended run (the work is in `ballast_lab::ablation`; this file loads the plan and prints).

use crate::out::Out;
use anyhow::{Context, Result};
use ballast_lab::ablation::{self, Effect, Plan};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct AblateArgs {
    /// An ablation plan (TOML, `[[study]]` entries; layout in SCENARIOS.md). Default: the
    /// embedded plan, every defence of the embedded scenarios.
    pub plan: Option<PathBuf>,
    /// Only the studies of this scenario.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Paths per study (overrides the plan's and the scenario's).
    #[arg(long)]
    pub paths: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print the effects as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn ablate(w: &mut Out, a: AblateArgs) -> Result<()> {
    let plan = match &a.plan {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the ablation plan {}", p.display()))?;
            Plan::from_toml(&text, &p.display().to_string())?
        }
        None => Plan::from_toml(ablation::DEFAULT_PLAN, "embedded ablation plan")?,
    };
    let threads = crate::guard::threads(a.threads);
    let mut effects = Vec::new();
    for mut study in plan.study {
        if a.scenario.as_ref().is_some_and(|s| *s != study.scenario) {
            continue;
        }
        if let Some(n) = a.paths {
            study.set.push(format!("paths={n}"));
        }
        effects.extend(ablation::run_study(&study, threads)?);
    }
    if let Some(s) = &a.scenario {
        anyhow::ensure!(
            !effects.is_empty(),
            "--scenario {s}: no study of that scenario in the plan"
        );
    }
    if a.json {
        outln!(w, "{}", serde_json::to_string_pretty(&effects)?);
    } else {
        out!(w, "{}", table(&effects));
    }
    Ok(())
}

/// The effects as a text table, one row per defence.
fn table(effects: &[Effect]) -> String {
    let mut s = format!(
        "{:<30} {:<28} {:>6} {:>14} {:>14} {:>30} {:>8} {:>8} {:>24}  the defence\n",
        "scenario",
        "defence off",
        "paths",
        "loss on",
        "loss off",
        "Δ loss (95% CI)",
        "P on",
        "P off",
        "Δ P (95% CI)"
    );
    for e in effects {
        let d = &e.loss_delta;
        let p = &e.p_delta;
        s.push_str(&format!(
            "{:<30} {:<28} {:>6} {:>14.0} {:>14.0} {:>30} {:>7.1}% {:>7.1}% {:>24}  {}\n",
            e.scenario,
            e.defence,
            e.paths,
            e.loss_on.mean,
            e.loss_off.mean,
            format!("{:.0} ({:.0} to {:.0})", d.mean, d.ci95[0], d.ci95[1]),
            e.p_on * 100.0,
            e.p_off * 100.0,
            format!(
                "{:+.1} ({:+.1} to {:+.1}) pp",
                p.mean * 100.0,
                p.ci95[0] * 100.0,
                p.ci95[1] * 100.0
            ),
            e.verdict.label(),
        ));
    }
    for e in effects {
        if let Some(a) = &e.attacker {
            let d = &a.profit_delta;
            s.push_str(&format!(
                "  {} without {}: attacker profit {:.0} -> {:.0} USD per path, Δ {:.0} ({:.0} to {:.0})\n",
                e.scenario, e.defence, a.profit_on.mean, a.profit_off.mean, d.mean, d.ci95[0], d.ci95[1]
            ));
        }
    }
    s.push_str(
        "(loss = bad debt incl. socialized, or the attack's protocol loss where there are attackers; \
         USD per path; Δ = off − on per path, same paths)\n",
    );
    s
}
