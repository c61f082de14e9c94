//! `ballast shock`: an instantaneous shock ladder on a scenario's t0 book, through the engine
//! (the work is in `ballast_lab::shock`; this file parses the percentages and prints).

use crate::out::Out;
use anyhow::Result;
use ballast_lab::embedded;
use ballast_lab::runner::Prepared;
use ballast_lab::shock::{self, ShockSpec};

#[derive(clap::Args, Debug)]
pub struct ShockArgs {
    /// The book to shock: an embedded scenario name or a scenario TOML file (its t0 book:
    /// genesis, population and liquidation mechanism).
    #[arg(long, default_value = embedded::DEFAULT)]
    pub book: String,
    /// Price moves in percent, comma-separated (`--ladder=-5,-10,-20`; `%` optional).
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        default_value = "-5,-10,-20,-30,-50",
        value_parser = percent
    )]
    pub ladder: Vec<f64>,
    /// Assets to move, comma-separated (default: all of the scenario's assets).
    #[arg(long, value_delimiter = ',')]
    pub assets: Vec<String>,
    /// Extra volatility the liquidity model sees on the shock step (`+50%`): thinner depth,
    /// more slippage on the unwinds.
    #[arg(long, default_value = "0", allow_hyphen_values = true, value_parser = percent)]
    pub vol_shock: f64,
    /// Steps the liquidation mechanism works at the shocked prices.
    #[arg(long, default_value_t = 24)]
    pub settle_steps: u32,
    /// Scenario overrides, as for `ballast stress`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Print the ladder as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `-10`, `-10%`, `+50%` → −0.10, −0.10, 0.50.
fn percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%').trim_start_matches('+');
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x / 100.0),
        _ => Err(format!("`{s}` is not a percentage (e.g. -10 or +50%)")),
    }
}

pub fn shock(w: &mut Out, a: ShockArgs) -> Result<()> {
    let (sc, base) = embedded::load(&a.book, &a.sets)?;
    let prep = Prepared::new(sc, base.as_deref())?;
    let spec = ShockSpec {
        rungs: a.ladder,
        assets: a.assets,
        vol_shock: a.vol_shock,
        settle_steps: a.settle_steps,
    };
    let ladder = shock::ladder(&prep, &spec)?;
    if a.json {
        outln!(w, "{}", serde_json::to_string_pretty(&ladder)?);
    } else {
        out!(w, "{}", ladder.table());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percentages_parse_with_or_without_signs_and_percent() {
        assert_eq!(percent("-10"), Ok(-0.1));
        assert_eq!(percent("-10%"), Ok(-0.1));
        assert_eq!(percent("+50%"), Ok(0.5));
        assert!(percent("ten").is_err());
        assert!(percent("inf").is_err());
    }
}
