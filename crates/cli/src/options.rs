//! `ballast greeks` and `ballast margin`: thin wrappers over `ballast-options`.

use crate::out::Out;
use anyhow::{bail, Context, Result};
use ballast_options::portfolio::{caps, margin_from_json};
use ballast_options::pricing::{black76, bsm, Black76Params, BsmParams, OptionKind};
use clap::ValueEnum;
use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Model {
    Bsm,
    Black76,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Call,
    Put,
}

#[allow(clippy::too_many_arguments)]
pub fn greeks(
    w: &mut Out,
    model: Model,
    kind: Kind,
    spot: f64,
    strike: f64,
    t: f64,
    rate: f64,
    div: f64,
    vol: f64,
    json: bool,
) -> Result<()> {
    let kind = match kind {
        Kind::Call => OptionKind::Call,
        Kind::Put => OptionKind::Put,
    };
    let g = match model {
        Model::Bsm => bsm(kind, &BsmParams::new(spot, strike, t, rate, div, vol)?)?,
        Model::Black76 => {
            if div != 0.0 {
                bail!("--div does not apply to black76 (the forward already carries it)");
            }
            let p = Black76Params {
                forward: spot,
                strike,
                t,
                r: rate,
                vol,
            };
            p.validate()?;
            black76(kind, &p)?
        }
    };
    if json {
        outln!(w, "{}", serde_json::to_string(&g)?);
    } else {
        outln!(w, "price {:>14.6}", g.price);
        outln!(w, "delta {:>14.6}", g.delta);
        outln!(w, "gamma {:>14.6}", g.gamma);
        outln!(w, "vega  {:>14.6}   (per 1.00 of vol)", g.vega);
        outln!(w, "theta {:>14.6}   (per year)", g.theta);
        outln!(w, "rho   {:>14.6}   (per 1.00 of rate)", g.rho);
    }
    Ok(())
}

pub fn margin(w: &mut Out, path: &Path, json: bool) -> Result<()> {
    // Read one byte past the cap at most: a huge file is refused without being held.
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(caps::FILE_BYTES as u64 + 1)
                .read_to_string(&mut text)
        })
        .with_context(|| format!("reading portfolio {}", path.display()))?;
    let r = margin_from_json(&text).with_context(|| format!("in {}", path.display()))?;
    if json {
        outln!(w, "{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    outln!(w, "requirement        {:>14.2}", r.requirement);
    outln!(w, "  scenario loss    {:>14.2}", r.scenario_loss);
    for c in &r.contingencies {
        outln!(
            w,
            "  {:<16} {:>14.2}  ({})",
            format!("{:?}", c.kind),
            c.amount,
            c.underlying
        );
    }
    outln!(w, "sum of standalone  {:>14.2}", r.sum_of_standalone);
    outln!(
        w,
        "worst scenario #{} of {}: {:?} level {} vol {:?}, PnL {:.2}",
        r.worst_scenario.index,
        r.scenarios_evaluated,
        r.worst_scenario.direction,
        r.worst_scenario.level,
        r.worst_scenario.vol_shock,
        r.worst_scenario.pnl
    );
    for s in &r.worst_scenario.shocks {
        outln!(
            w,
            "  {:<6} spot {:+.2}% -> {:.2}, vol x{:.3} at 30 days",
            s.underlying,
            100.0 * s.spot_shock,
            s.shocked_spot,
            s.vol_multiplier_30d
        );
    }
    outln!(w, "positions:");
    for p in &r.positions {
        outln!(
            w,
            "  #{:<2} value {:>12.2}  pnl in worst {:>12.2}  standalone {:>12.2}",
            p.index,
            p.value,
            p.pnl_in_worst,
            p.standalone_requirement
        );
    }
    Ok(())
}
