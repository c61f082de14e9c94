//! `ballast attack-capital`: the minimum profitable attack capital of a scenario's attacker,
//! by bisection over stress runs (`ballast_lab::capital`).

use crate::out::Out;
use anyhow::Result;
use ballast_lab::capital::{min_capital, CapitalSearch};
use ballast_lab::embedded;

#[derive(clap::Args, Debug)]
pub struct AttackCapitalArgs {
    /// Embedded scenario name or a scenario TOML file with `[[agents.attackers]]`.
    pub scenario: String,
    /// Paths per probe (each probe is one deterministic stress run).
    #[arg(long, default_value_t = 8)]
    pub paths: u64,
    /// Which attacker (index into `[[agents.attackers]]`).
    #[arg(long, default_value_t = 0)]
    pub attacker: usize,
    /// Smallest and largest multiple of the scenario's capital (and size) searched.
    #[arg(long, default_value_t = 0.01)]
    pub lo: f64,
    #[arg(long, default_value_t = 100.0)]
    pub hi: f64,
    /// Relative width of the final bracket.
    #[arg(long, default_value_t = 0.02)]
    pub tolerance: f64,
    /// Override any scenario field (as `ballast stress --set`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Print the answer and every probe as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn attack_capital(w: &mut Out, a: AttackCapitalArgs) -> Result<()> {
    let (sc, base) = embedded::load(&a.scenario, &a.sets)?;
    let search = CapitalSearch {
        attacker: a.attacker,
        lo: a.lo,
        hi: a.hi,
        tolerance: a.tolerance,
        paths: a.paths,
        // One worker per core: the answer does not depend on it.
        threads: crate::guard::threads(0),
    };
    let ans = min_capital(&sc, base.as_deref(), &search)?;
    if a.json {
        outln!(w, "{}", serde_json::to_string_pretty(&ans)?);
        return Ok(());
    }
    let money = ballast_lab::stats::group_thousands;
    outln!(
        w,
        "{} ({} paths per probe, seed {}): capital searched {} – {} USD",
        ans.scenario,
        ans.paths,
        ans.seed,
        money(ans.searched_usd[0]),
        money(ans.searched_usd[1])
    );
    outln!(
        w,
        "{:>20} {:>20} {:>20} {:>8} {:>20}",
        "capital USD",
        "size USD",
        "profit mean USD",
        "P(win)",
        "protocol loss USD"
    );
    for p in &ans.probes {
        outln!(
            w,
            "{:>20} {:>20} {:>20} {:>7.1}% {:>20}",
            money(p.capital_usd),
            money(p.size_usd),
            money(p.profit_mean),
            p.p_profitable * 100.0,
            money(p.protocol_loss_mean)
        );
    }
    match ans.min_capital_usd {
        Some(c) => outln!(w, "minimum profitable attack capital: {} USD", money(c)),
        None => outln!(
            w,
            "minimum profitable attack capital: none up to {} USD (the attack lost money at every probe)",
            money(ans.searched_usd[1])
        ),
    }
    Ok(())
}
