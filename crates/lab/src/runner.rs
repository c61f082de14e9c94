//! The runner: paths in parallel (rayon, a local pool of the requested size), results folded
//! into an integer [`Aggregate`] chunk by chunk (memory bounded by the chunk, not the run),
//! per-path rows streamed to CSV in path order, shards and their exact merge, an HTML report, and output
//! folders that appear whole or not at all (written to a temporary sibling, then renamed).

use crate::error::{Cap, LabError};
use crate::models::{self, PreparedAsset};
use crate::path::{book_capital, run_path, run_path_engine, PathResult, PathSetup};
use crate::scenario::Scenario;
use crate::stats::{Aggregate, Summary, SummaryInfo};
use crate::world::{self, House};
use ballast_engine::Engine;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A scenario made ready to run: models prepared, CSVs loaded, genesis built, and the shared
/// book opened (unless it is resampled per path).
pub struct Prepared {
    pub scenario: Scenario,
    pub assets: Vec<PreparedAsset>,
    pub chol: Option<Vec<Vec<f64>>>,
    pub genesis: Engine,
    pub house: House,
    pub book: Option<(Engine, (i64, i64))>,
    /// The liquidation mechanism of every path ([`crate::mechanism::keeper_factory`] by default;
    /// swap in the engine's own liquidation with [`Prepared::with_liquidation`]).
    pub liquidation: crate::mechanism::LiquidationFactory,
    /// The scenario's position snapshot (`book = "FILE"`) and the name errors cite.
    pub book_file: Option<std::sync::Arc<(crate::book::Book, String)>>,
    /// Check value conservation through the ledger after every step (an error if it fails).
    pub audit: bool,
}

impl Prepared {
    /// `base_dir`: folder of the scenario file, for relative CSV paths.
    pub fn new(scenario: Scenario, base_dir: Option<&Path>) -> Result<Prepared, LabError> {
        scenario.validate()?;
        let assets = models::prepare(&scenario, base_dir)?;
        let chol = match &scenario.correlation {
            Some(c) => Some(models::cholesky(c).ok_or_else(|| {
                LabError::field("correlation", "matrix is not positive definite")
            })?),
            None => None,
        };
        let prices: Vec<f64> = assets.iter().map(|a| a.price0).collect();
        let (genesis, house) = world::genesis(&scenario, &assets)?;
        let book_file = match &scenario.book {
            None => None,
            Some(f) => {
                let p = base_dir.map_or_else(|| PathBuf::from(f), |b| b.join(f));
                let p = if p.exists() { p } else { PathBuf::from(f) };
                let book = crate::book::Book::read(&p)?;
                Some(std::sync::Arc::new((book, p.display().to_string())))
            }
        };
        let book = if scenario.population.resample_per_path {
            // Each path opens the book after its own population: refuse a bad book now, once.
            if let Some(b) = &book_file {
                crate::book::open(&mut genesis.clone(), &house, &scenario, &b.0, &b.1)?;
            }
            None
        } else {
            // One book from the master seed, shared by every path (the peer-radCAD setup).
            use rand::SeedableRng;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(scenario.seed);
            let mut e = genesis.clone();
            world::populate(&scenario, &mut e, &house, &prices, &mut rng, 0)?;
            if let Some(b) = &book_file {
                crate::book::open(&mut e, &house, &scenario, &b.0, &b.1)?;
            }
            let cap = book_capital(&e, &house);
            Some((e, cap))
        };
        Ok(Prepared {
            scenario,
            assets,
            chol,
            genesis,
            house,
            book,
            liquidation: crate::mechanism::keeper_factory,
            book_file,
            audit: false,
        })
    }

    /// Trader accounts of every path: the population's plus the book's.
    pub fn accounts(&self) -> u32 {
        let book = self.book_file.as_ref().map_or(0, |b| b.0.accounts.len());
        self.scenario.population.accounts + book as u32
    }

    /// Checks value conservation through the ledger after every step of every path.
    pub fn with_audit(mut self) -> Prepared {
        self.audit = true;
        self
    }

    /// Replaces the liquidation mechanism.
    pub fn with_liquidation(mut self, f: crate::mechanism::LiquidationFactory) -> Prepared {
        self.liquidation = f;
        self
    }

    /// What every path shares (for the shock ladder and other single-path drivers).
    pub fn setup(&self) -> PathSetup<'_> {
        PathSetup {
            scenario: &self.scenario,
            assets: &self.assets,
            chol: self.chol.as_deref(),
            genesis: &self.genesis,
            house: &self.house,
            book: self.book.as_ref(),
            liquidation: self.liquidation,
            book_file: self.book_file.as_deref(),
            audit: self.audit,
        }
    }

    /// Runs one path (for tests and debugging).
    pub fn run_path(&self, path: u64) -> Result<PathResult, LabError> {
        run_path(&self.setup(), path)
    }

    /// Runs one path and returns its final engine too (audits: conservation, balances).
    pub fn run_path_engine(&self, path: u64) -> Result<(PathResult, Engine), LabError> {
        run_path_engine(&self.setup(), path)
    }

    /// Summary of an aggregate of this scenario.
    pub fn summary(&self, agg: &Aggregate, elapsed_s: f64) -> Summary {
        let sc = &self.scenario;
        let fp = sc.fingerprint();
        let info = SummaryInfo {
            scenario: &sc.name,
            fingerprint: &fp,
            seed: sc.seed,
            steps: sc.horizon,
            step_hours: sc.step_hours,
            accounts: self.accounts(),
            fund0_usd: sc.protocol.insurance_fund,
            mechanism: sc.protocol.liquidation.mechanism.name(),
        };
        Summary::from_aggregate(agg, &info, elapsed_s)
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    /// Worker threads (0: rayon's default, one per core).
    pub threads: usize,
    /// `(i, n)`: run only the `i`-th (1-based) of `n` contiguous slices of the paths.
    pub shard: Option<(u64, u64)>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Write summary.json, paths.csv (and shard.json for a shard) into this folder.
    pub out_dir: Option<PathBuf>,
}

/// A partial result: the aggregate of one slice of the paths plus what is needed to check that
/// shards belong together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardFile {
    pub format: String,
    pub scenario: String,
    pub fingerprint: String,
    pub seed: u64,
    pub paths_total: u64,
    pub shard_index: u64,
    pub shard_count: u64,
    pub first_path: u64,
    pub end_path: u64,
    pub steps: u32,
    pub step_hours: f64,
    pub accounts: u32,
    pub fund0_usd: f64,
    /// Liquidation mechanism of the scenario.
    #[serde(default)]
    pub mechanism: String,
    pub elapsed_s: f64,
    pub aggregate: Aggregate,
    /// The t0 book's contagion map (the same in every shard: path 0's book).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contagion: Option<crate::report::contagion::ContagionView>,
}

pub const SHARD_FORMAT: &str = "ballast-lab-shard/1";

/// What a run returns.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub summary: Summary,
    pub aggregate: Aggregate,
    pub shard: Option<ShardFile>,
    /// The output folder, if one was written.
    pub out_dir: Option<PathBuf>,
}

/// Path range `[start, end)` of shard `i` (1-based) of `n`.
pub fn shard_range(paths: u64, i: u64, n: u64) -> (u64, u64) {
    let f = |k: u64| (k as u128 * paths as u128 / n as u128) as u64;
    (f(i - 1), f(i))
}

/// Parses `i/N` (1-based, `1 ≤ i ≤ N`).
pub fn parse_shard(s: &str) -> Result<(u64, u64), LabError> {
    let bad = || {
        LabError::Invalid(format!(
            "--shard {s}: expected i/N with 1 <= i <= N (e.g. 1/4)"
        ))
    };
    let (a, b) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Temporary output folders alive in this process: removed by [`remove_staging_folders`], which
/// an interrupt handler calls (Ctrl-C skips destructors, so [`Staging`]'s `Drop` never runs).
static LIVE_STAGING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn live_staging() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A poisoned lock still holds a valid list of paths.
    LIVE_STAGING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every temporary output folder this process is still writing (for a signal handler:
/// call it, then exit). Returns the folders removed.
pub fn remove_staging_folders() -> Vec<PathBuf> {
    let mut live = live_staging();
    let mut removed = Vec::new();
    for tmp in live.drain(..) {
        // Workers may still be adding files: retry a few times.
        for _ in 0..5 {
            if std::fs::remove_dir_all(&tmp).is_ok() || !tmp.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        removed.push(tmp);
    }
    removed
}

/// Checks that `target` can receive an output folder (absent, or an empty folder), before any
/// work is done; the error names the path.
pub fn check_out_dir(target: &Path) -> Result<(), LabError> {
    if !target.exists() {
        return Ok(());
    }
    let empty = target.is_dir()
        && std::fs::read_dir(target)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
    if empty {
        Ok(())
    } else {
        Err(LabError::OutDirNotEmpty(target.to_path_buf()))
    }
}

/// Writes `files` (name, contents) into the folder `dir`, atomically (see [`Staging`]).
pub fn write_folder(dir: &Path, files: &[(&str, &[u8])]) -> Result<PathBuf, LabError> {
    let st = Staging::new(dir)?;
    for (name, bytes) in files {
        let p = st.file(name);
        std::fs::write(&p, bytes).map_err(io("writing", &p))?;
    }
    st.commit()
}

/// A folder being written: a hidden temporary sibling, renamed into place on success and
/// removed on failure (or by [`remove_staging_folders`] on an interrupt), so the target never
/// holds a half-written result.
struct Staging {
    tmp: PathBuf,
    target: PathBuf,
    done: bool,
}

impl Staging {
    fn new(target: &Path) -> Result<Staging, LabError> {
        check_out_dir(target)?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| {
                LabError::Invalid(format!("--out {}: not a folder name", target.display()))
            })?
            .to_string_lossy()
            .to_string();
        std::fs::create_dir_all(&parent).map_err(|source| LabError::Io {
            what: "creating",
            path: parent.clone(),
            source,
        })?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let mut live = live_staging();
        std::fs::create_dir(&tmp).map_err(|source| LabError::Io {
            what: "creating",
            path: tmp.clone(),
            source,
        })?;
        live.push(tmp.clone());
        Ok(Staging {
            tmp,
            target: target.to_path_buf(),
            done: false,
        })
    }
    fn file(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }
    fn commit(mut self) -> Result<PathBuf, LabError> {
        if self.target.is_dir() {
            let _ = std::fs::remove_dir(&self.target);
        }
        let mut live = live_staging();
        live.retain(|p| p != &self.tmp);
        std::fs::rename(&self.tmp, &self.target).map_err(|source| LabError::Io {
            what: "renaming the output folder into",
            path: self.target.clone(),
            source,
        })?;
        self.done = true;
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let mut live = live_staging();
        live.retain(|p| p != &self.tmp);
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> LabError + 'a {
    move |source| LabError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Quote-native units as an exact decimal USD string.
fn usd_str(x: i64) -> String {
    let sign = if x < 0 { "-" } else { "" };
    let a = x.unsigned_abs();
    format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
}

const CSV_HEADER: &str = "path,bad_debt_usd,fund_min_usd,fund_final_usd,liquidations,liq_volume_usd,penalties_usd,slippage_usd,fees_to_fund_usd,covered_usd,missed_outage,missed_unprofitable,refused,init_margin_usd,open_interest_usd,outage_steps,max_drawdown,max_gas_usd,first_bad_step,adl_usd,socialized_usd,engine_bad_debt_usd,auctions_started,auction_resets,auctions_stuck,blocked";

fn csv_row(r: &PathResult) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6},{:.4},{},{},{},{},{},{},{},{}\n",
        r.path,
        usd_str(r.bad_debt),
        usd_str(r.fund_min),
        usd_str(r.fund_final),
        r.liquidations,
        usd_str(r.liq_volume),
        usd_str(r.penalties),
        usd_str(r.slippage),
        usd_str(r.fees_to_fund),
        usd_str(r.covered),
        r.missed_outage,
        r.missed_unprofitable,
        r.refused,
        usd_str(r.init_margin),
        usd_str(r.open_interest),
        r.outage_steps,
        r.max_drawdown,
        r.max_gas_usd,
        r.first_bad_step.map_or(String::new(), |s| s.to_string()),
        usd_str(r.adl),
        usd_str(r.socialized),
        usd_str(r.engine_bad_debt),
        r.auctions_started,
        r.auction_resets,
        r.auctions_stuck,
        r.blocked
    )
}

/// Runs the scenario (or one shard of it).
pub fn run(prep: &Prepared, cfg: &RunConfig) -> Result<RunOutput, LabError> {
    Cap::Threads.check(cfg.threads as u64)?;
    let start = Instant::now();
    let sc = &prep.scenario;
    let (first, end) = match cfg.shard {
        Some((i, n)) => {
            if i == 0 || i > n {
                return Err(LabError::Invalid(format!(
                    "--shard {i}/{n}: i must be within 1..=N"
                )));
            }
            shard_range(sc.paths, i, n)
        }
        None => (0, sc.paths),
    };
    let staging = match &cfg.out_dir {
        Some(d) => Some(Staging::new(d)?),
        None => None,
    };
    let mut csv = match &staging {
        Some(s) => {
            let p = s.file("paths.csv");
            let f = std::fs::File::create(&p).map_err(io("creating", &p))?;
            let mut w = std::io::BufWriter::new(f);
            writeln!(w, "{CSV_HEADER}").map_err(io("writing", &p))?;
            Some((w, p))
        }
        None => None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .map_err(|e| LabError::Invalid(format!("thread pool: {e}")))?;
    let bar = if cfg.progress {
        let pb = indicatif::ProgressBar::new(end - first);
        pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} paths ({per_sec}, eta {eta})",
        ) {
            pb.set_style(style);
        }
        Some(pb)
    } else {
        None
    };
    let setup = prep.setup();
    let chunk = 64 * pool.current_num_threads() as u64;
    let mut agg = Aggregate {
        asset_symbols: sc.assets.iter().map(|a| a.symbol.clone()).collect(),
        start_ms: prep.assets.iter().find_map(|a| a.start_ms),
        fault_windows: crate::stats::steps::fault_windows(&sc.faults),
        ..Default::default()
    };
    let mut a = first;
    while a < end {
        let b = (a + chunk).min(end);
        let rows: Vec<PathResult> = pool.install(|| {
            (a..b)
                .into_par_iter()
                .map(|p| {
                    let r = run_path(&setup, p);
                    if let Some(pb) = &bar {
                        pb.inc(1);
                    }
                    r
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        for r in &rows {
            agg.add(r);
            if let Some((w, p)) = csv.as_mut() {
                w.write_all(csv_row(r).as_bytes())
                    .map_err(io("writing", p))?;
            }
        }
        a = b;
    }
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut summary = prep.summary(&agg, elapsed);
    summary.contagion = crate::report::contagion::of_book(&prep.setup());
    let shard = cfg.shard.map(|(i, n)| ShardFile {
        format: SHARD_FORMAT.into(),
        scenario: sc.name.clone(),
        fingerprint: summary.fingerprint.clone(),
        seed: sc.seed,
        paths_total: sc.paths,
        shard_index: i,
        shard_count: n,
        first_path: first,
        end_path: end,
        steps: sc.horizon,
        step_hours: sc.step_hours,
        accounts: prep.accounts(),
        fund0_usd: sc.protocol.insurance_fund,
        mechanism: sc.protocol.liquidation.mechanism.name().to_string(),
        elapsed_s: elapsed,
        aggregate: agg.clone(),
        contagion: summary.contagion.clone(),
    });
    let mut out_dir = None;
    if let Some(st) = staging {
        if let Some((mut w, p)) = csv.take() {
            w.flush().map_err(io("writing", &p))?;
        }
        let p = st.file("summary.json");
        let text = serde_json::to_string_pretty(&summary).expect("summary serializes");
        std::fs::write(&p, text + "\n").map_err(io("writing", &p))?;
        if let Some(s) = &shard {
            let p = st.file("shard.json");
            let text = serde_json::to_string(s).expect("shard serializes");
            std::fs::write(&p, text + "\n").map_err(io("writing", &p))?;
        }
        let p = st.file("report.html");
        std::fs::write(&p, crate::report::html(&summary, &agg)).map_err(io("writing", &p))?;
        let p = st.file("scenario.toml");
        let text = toml::to_string(&prep.scenario)
            .map_err(|e| LabError::Invalid(format!("scenario does not serialize: {e}")))?;
        std::fs::write(&p, text).map_err(io("writing", &p))?;
        out_dir = Some(st.commit()?);
    }
    Ok(RunOutput {
        summary,
        aggregate: agg,
        shard,
        out_dir,
    })
}

/// Writes a merged run's `summary.json` and `report.html` into `dir` (atomically, like a run).
pub fn write_merged(dir: &Path, summary: &Summary, agg: &Aggregate) -> Result<PathBuf, LabError> {
    let st = Staging::new(dir)?;
    let p = st.file("summary.json");
    let text = serde_json::to_string_pretty(summary).expect("summary serializes");
    std::fs::write(&p, text + "\n").map_err(io("writing", &p))?;
    let p = st.file("report.html");
    std::fs::write(&p, crate::report::html(summary, agg)).map_err(io("writing", &p))?;
    st.commit()
}

/// Reads a shard file (or the `shard.json` inside a run folder).
pub fn read_shard(path: &Path) -> Result<ShardFile, LabError> {
    let p = if path.is_dir() {
        path.join("shard.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&p).map_err(io("reading", &p))?;
    let s: ShardFile = serde_json::from_str(&text)
        .map_err(|e| LabError::Merge(format!("{}: not a shard file: {e}", p.display())))?;
    if s.format != SHARD_FORMAT {
        return Err(LabError::Merge(format!(
            "{}: format `{}`, expected `{SHARD_FORMAT}`",
            p.display(),
            s.format
        )));
    }
    Ok(s)
}

/// Merges shards of one run into the summary of the whole run: checks that they come from the
/// same scenario (fingerprint), seed and path count, and that their ranges tile `0..paths`
/// exactly once. `elapsed_s` is the sum of the shards' times.
pub fn merge_shards(shards: &[ShardFile]) -> Result<(Summary, Aggregate), LabError> {
    let first = shards
        .first()
        .ok_or_else(|| LabError::Merge("no shard files given".into()))?;
    for s in shards {
        if s.fingerprint != first.fingerprint
            || s.seed != first.seed
            || s.paths_total != first.paths_total
        {
            return Err(LabError::Merge(format!(
                "shard {}/{} is from a different run (scenario `{}` fingerprint {} seed {} paths {}) than shard {}/{} (scenario `{}` fingerprint {} seed {} paths {})",
                s.shard_index, s.shard_count, s.scenario, s.fingerprint, s.seed, s.paths_total,
                first.shard_index, first.shard_count, first.scenario, first.fingerprint, first.seed, first.paths_total
            )));
        }
    }
    let mut ranges: Vec<(u64, u64)> = shards.iter().map(|s| (s.first_path, s.end_path)).collect();
    ranges.sort();
    let mut at = 0;
    for (a, b) in &ranges {
        if *a != at {
            return Err(LabError::Merge(if *a < at {
                format!("paths {a}..{b} overlap another shard")
            } else {
                format!("paths {at}..{a} are missing (no shard covers them)")
            }));
        }
        at = *b;
    }
    if at != first.paths_total {
        return Err(LabError::Merge(format!(
            "paths {at}..{} are missing (no shard covers them)",
            first.paths_total
        )));
    }
    let mut agg = Aggregate::default();
    for s in shards {
        agg.merge(&s.aggregate);
    }
    let info = SummaryInfo {
        scenario: &first.scenario,
        fingerprint: &first.fingerprint,
        seed: first.seed,
        steps: first.steps,
        step_hours: first.step_hours,
        accounts: first.accounts,
        fund0_usd: first.fund0_usd,
        mechanism: &first.mechanism,
    };
    let elapsed = shards.iter().map(|s| s.elapsed_s).sum();
    let mut summary = Summary::from_aggregate(&agg, &info, elapsed);
    summary.contagion = first.contagion.clone();
    Ok((summary, agg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_tile_the_paths() {
        for paths in [1u64, 2, 7, 1000, 1001] {
            for n in 1..=9u64 {
                let mut at = 0;
                for i in 1..=n {
                    let (a, b) = shard_range(paths, i, n);
                    assert_eq!(a, at);
                    assert!(b >= a);
                    at = b;
                }
                assert_eq!(at, paths);
            }
        }
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert_eq!(parse_shard(" 1 / 1 ").unwrap(), (1, 1));
        for bad in ["0/4", "5/4", "1/0", "a/b", "3", "1/2/3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usd_strings_are_exact() {
        assert_eq!(usd_str(0), "0.000000");
        assert_eq!(usd_str(1_234_567), "1.234567");
        assert_eq!(usd_str(-5), "-0.000005");
    }
}
