//! `ballast stress`, `ballast scenarios`, `ballast merge`: the stress lab on the command line.
//! The lab crate does the work; this file parses arguments, decides about the progress bar and
//! prints the table or the JSON summary; `--out` folders also get Parquet files
//! (`ballast-tables`).

use crate::out::Out;
use anyhow::{Context, Result};
use ballast_lab::embedded;
use ballast_lab::runner::{self, Prepared, RunConfig};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct StressArgs {
    /// Embedded scenario name (see `ballast scenarios`) or a scenario TOML file.
    #[arg(default_value = embedded::DEFAULT)]
    pub scenario: String,
    /// Number of paths (overrides the scenario's `paths`).
    #[arg(long)]
    pub paths: Option<u64>,
    /// Master seed (overrides the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Override any scenario field: a dotted path into the TOML, e.g.
    /// `--set protocol.market.maint_margin=0.04` or `--set assets.ETH.model.sigma=1.2`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Print one JSON summary object instead of the table (no progress bar).
    #[arg(long)]
    pub json: bool,
    /// Write summary.json, paths.csv, report.html and scenario.toml (and shard.json with
    /// --shard) into DIR, the folder appearing only once complete; then paths.parquet and
    /// series.parquet beside them.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run only the i-th of N slices of the paths (1-based, e.g. 2/4); needs --out; combine
    /// the shard.json files with `ballast merge`.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<String>,
    /// Run two scenarios (names or files) with the same overrides and print them side by side
    /// (`ballast stress --compare oracle-manipulation-naive oracle-manipulation-defended`);
    /// with --out DIR, writes DIR/compare.html and DIR/compare.json.
    #[arg(long, num_args = 2, value_names = ["A", "B"], conflicts_with = "shard")]
    pub compare: Option<Vec<String>>,
    /// Open this position snapshot (JSON or CSV, see crates/lab/SCENARIOS.md "Books") after the
    /// population in every path; the same as `book = "FILE"` in the scenario.
    #[arg(long, value_name = "FILE")]
    pub book: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// shard.json files (or the --out folders that hold them).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print the merged summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the merged summary.json and report.html into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn stress(w: &mut Out, a: StressArgs) -> Result<()> {
    crate::guard::clean_on_interrupt();
    let a = StressArgs {
        threads: crate::guard::threads(a.threads),
        ..a
    };
    let mut sets = a.sets.clone();
    if let Some(p) = a.paths {
        sets.push(format!("paths={p}"));
    }
    if let Some(s) = a.seed {
        sets.push(format!("seed={s}"));
    }
    if let Some(b) = &a.book {
        // Absolute, so a scenario file's folder does not change what the path means.
        let b = std::fs::canonicalize(b).unwrap_or_else(|_| b.clone());
        let quoted = serde_json::to_string(&b.display().to_string())?;
        sets.push(format!("book={quoted}"));
    }
    if let Some(pair) = &a.compare {
        return compare(w, &a, pair, &sets);
    }
    let shard = a.shard.as_deref().map(runner::parse_shard).transpose()?;
    if shard.is_some() && a.out.is_none() {
        anyhow::bail!("--shard needs --out DIR (the shard result is written to DIR/shard.json)");
    }
    let (sc, base) = embedded::load(&a.scenario, &sets)?;
    let prep = Prepared::new(sc, base.as_deref())?;
    let cfg = RunConfig {
        threads: a.threads,
        shard,
        progress: !a.json && std::io::stderr().is_terminal(),
        out_dir: a.out.clone(),
    };
    let out = runner::run(&prep, &cfg)?;
    if let Some(d) = &out.out_dir {
        // The Arrow/Parquet twins of paths.csv and the per-step series (schema in
        // crates/lab/SCENARIOS.md), each written whole or not at all.
        ballast_tables::parquet_out::write_run(d, &out.aggregate, out.summary.step_hours)?;
    }
    if a.json {
        outln!(w, "{}", serde_json::to_string_pretty(&out.summary)?);
    } else {
        if let Some((i, n)) = shard {
            let s = out.shard.as_ref().expect("shard run");
            outln!(
                w,
                "shard {i}/{n}: paths {}..{} of {}",
                s.first_path,
                s.end_path,
                s.paths_total
            );
        }
        out!(w, "{}", out.summary.table());
        if let Some(d) = &out.out_dir {
            outln!(w, "wrote {}", d.display());
        }
    }
    Ok(())
}

fn compare(w: &mut Out, a: &StressArgs, pair: &[String], sets: &[String]) -> Result<()> {
    // The folder is checked before hours of paths, not after.
    if let Some(d) = &a.out {
        runner::check_out_dir(d)?;
    }
    let mut out = Vec::new();
    for name in pair {
        let (sc, base) = embedded::load(name, sets)?;
        let prep = Prepared::new(sc, base.as_deref())?;
        let cfg = RunConfig {
            threads: a.threads,
            shard: None,
            progress: !a.json && std::io::stderr().is_terminal(),
            out_dir: None,
        };
        out.push(runner::run(&prep, &cfg)?);
    }
    let (x, y) = (&out[0].summary, &out[1].summary);
    if let Some(d) = &a.out {
        let html = ballast_lab::compare::html((x, &out[0].aggregate), (y, &out[1].aggregate));
        let json = serde_json::to_string_pretty(&serde_json::json!({ "a": x, "b": y }))?;
        runner::write_folder(
            d,
            &[
                ("compare.html", html.as_bytes()),
                ("compare.json", json.as_bytes()),
            ],
        )?;
    }
    if a.json {
        outln!(
            w,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "a": x, "b": y }))?
        );
    } else {
        out!(w, "{}", ballast_lab::compare::table(x, y));
        if let Some(d) = &a.out {
            outln!(w, "wrote {}", d.display());
        }
    }
    Ok(())
}

pub fn scenarios(w: &mut Out) -> Result<()> {
    outln!(
        w,
        "{:<32} {:>6} {:>6} {:>7}  description",
        "name",
        "paths",
        "steps",
        "step"
    );
    for (name, _) in embedded::EMBEDDED {
        let (sc, _) = embedded::load(name, &[])?;
        let default = if *name == embedded::DEFAULT {
            " (default)"
        } else {
            ""
        };
        // Steps shorter than an hour read better in minutes (1/60 h = "1 min").
        let step = if sc.step_hours >= 1.0 {
            format!("{} h", sc.step_hours)
        } else {
            let m = format!("{:.3}", sc.step_hours * 60.0);
            format!("{} min", m.trim_end_matches('0').trim_end_matches('.'))
        };
        outln!(
            w,
            "{:<32} {:>6} {:>6} {:>7}  {}{default}",
            name,
            sc.paths,
            sc.horizon,
            step,
            sc.description
        );
    }
    Ok(())
}

pub fn merge(w: &mut Out, a: MergeArgs) -> Result<()> {
    crate::guard::clean_on_interrupt();
    if let Some(d) = &a.out {
        runner::check_out_dir(d)?;
    }
    let shards = a
        .files
        .iter()
        .map(|f| runner::read_shard(f).with_context(|| format!("reading {}", f.display())))
        .collect::<Result<Vec<_>>>()?;
    let (summary, agg) = runner::merge_shards(&shards)?;
    let written = match &a.out {
        Some(d) => Some(runner::write_merged(d, &summary, &agg)?),
        None => None,
    };
    if a.json {
        outln!(w, "{}", serde_json::to_string_pretty(&summary)?);
    } else {
        outln!(w, "merged {} shards", shards.len());
        out!(w, "{}", summary.table());
        if let Some(d) = written {
            outln!(w, "wrote {}", d.display());
        }
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Embedded scenario name or a scenario TOML file.
    #[arg(default_value = embedded::DEFAULT)]
    pub scenario: String,
    /// One axis of the grid: `--grid protocol.market.maint_margin=0.03,0.05,0.07`; repeat for
    /// more axes (Cartesian product).
    #[arg(long = "grid", value_name = "KEY=V1,V2,...", required = true)]
    pub grids: Vec<String>,
    /// Paths per grid point (overrides the scenario's `paths`).
    #[arg(long)]
    pub paths: Option<u64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Overrides applied to every point before the grid's own.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Risk tolerance: the recommended point is the most capital-efficient one whose
    /// P(insolvency) upper 95% bound is at most this.
    #[arg(long, default_value_t = 0.05)]
    pub max_p_insolvency: f64,
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print the sweep as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write sweep.json and sweep.html (the frontier chart) into this new folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn sweep(w: &mut Out, a: SweepArgs) -> Result<()> {
    use ballast_lab::sweep::{self, Axis, SweepConfig};
    if !(a.max_p_insolvency.is_finite() && (0.0..=1.0).contains(&a.max_p_insolvency)) {
        anyhow::bail!(
            "--max-p-insolvency must be within [0, 1] (got {})",
            a.max_p_insolvency
        );
    }
    // The folder is checked before the grid runs, not after.
    if let Some(d) = &a.out {
        runner::check_out_dir(d)?;
    }
    let axes = a
        .grids
        .iter()
        .map(|g| Axis::parse(g))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut sets = a.sets.clone();
    if let Some(p) = a.paths {
        sets.push(format!("paths={p}"));
    }
    if let Some(s) = a.seed {
        sets.push(format!("seed={s}"));
    }
    let cfg = SweepConfig {
        threads: crate::guard::threads(a.threads),
        progress: std::io::stderr().is_terminal(),
        max_p_insolvency: a.max_p_insolvency,
    };
    let s = sweep::run(&a.scenario, &sets, &axes, &cfg)?;
    if let Some(d) = &a.out {
        let json = serde_json::to_string_pretty(&s)? + "\n";
        let html = ballast_lab::frontier::html(&s);
        runner::write_folder(
            d,
            &[
                ("sweep.json", json.as_bytes()),
                ("sweep.html", html.as_bytes()),
            ],
        )?;
    }
    if a.json {
        outln!(w, "{}", serde_json::to_string_pretty(&s)?);
    } else {
        out!(w, "{}", s.table());
        if let Some(d) = &a.out {
            outln!(w, "wrote {}", d.display());
        }
    }
    Ok(())
}
