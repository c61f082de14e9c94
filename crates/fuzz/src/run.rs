//! The fuzz loop: cases of generated commands (each from a fresh world or, in raw mode, an
//! empty engine), checked after every command, replayed periodically and at the end of each
//! case; findings shrunk to small reproducers and written as JSON-lines journals.

use crate::check::{check_journal_with, Checked, FindingKind};
use crate::draw::{Draw, Profile};
use crate::gen::{self, View};
use crate::world;
use ballast_engine::command::Envelope;
use ballast_engine::event::Event;
use ballast_engine::journal;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Which profiles the cases use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profiles {
    Bounded,
    Extreme,
    /// Alternate: even cases bounded, odd cases extreme.
    Mixed,
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    /// Stop after this many commands (all cases together).
    pub commands: u64,
    /// Stop after this long.
    pub time: Duration,
    pub profiles: Profiles,
    /// Commands per case after its setup.
    pub case_len: usize,
    /// One case in `raw_every` starts from an empty engine instead of the world (0: never).
    pub raw_every: u64,
    /// Replay = live is checked every this many accepted commands (and at each case's end).
    pub replay_every: usize,
    /// Share of world cases whose lending pool 1 starts lent out to ~98% on a steep curve
    /// (borrowers cross maintenance by interest alone).
    pub hot: f64,
    /// Whether an accepted take of an auction on a healthy account is a finding (issue 9,
    /// item 4).
    pub auction_health: bool,
    /// Time allowed to shrink one reproducer.
    pub shrink_time: Duration,
    pub findings: Option<PathBuf>,
    /// Print progress lines to stderr.
    pub progress: bool,
    /// Replace the panic hook with a silent one (panics are findings, reported once).
    pub quiet_panics: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            commands: u64::MAX,
            time: Duration::from_secs(60),
            profiles: Profiles::Mixed,
            case_len: 600,
            raw_every: 8,
            replay_every: 2_000,
            hot: 0.5,
            auction_health: true,
            shrink_time: Duration::from_secs(20),
            findings: None,
            progress: false,
            quiet_panics: true,
        }
    }
}

/// A finding with its reproducer (every command of the case up to the failing one; rejected
/// commands included: they replay as the same rejections).
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: FindingKind,
    pub case_seed: u64,
    pub journal: Vec<Envelope>,
    /// Where the reproducer was written.
    pub path: Option<PathBuf>,
}

/// Deep paths reached: accepted commands and money-moving events by kind.
#[derive(Debug, Clone, Default)]
pub struct Reached {
    pub fills: u64,
    pub liquidations: u64,
    pub auctions_taken: u64,
    pub option_fills: u64,
    pub option_settlements: u64,
    pub funding_settlements: u64,
    pub interest_settlements: u64,
    pub deleveraged: u64,
    pub socialized: u64,
    pub bad_debt: u64,
    pub shutdowns: u64,
    pub claims: u64,
    pub params_executed: u64,
    pub borrows: u64,
    pub withdrawals: u64,
    pub transfers: u64,
}

impl Reached {
    fn count(&mut self, events: &[Event]) {
        for e in events {
            let c = match e {
                Event::Filled { .. } => &mut self.fills,
                Event::Liquidated { .. } => &mut self.liquidations,
                Event::AuctionTaken { .. } => &mut self.auctions_taken,
                Event::OptionFilled { .. } => &mut self.option_fills,
                Event::OptionSettled { .. } => &mut self.option_settlements,
                Event::FundingSettled { .. } => &mut self.funding_settlements,
                Event::InterestSettled { .. } => &mut self.interest_settlements,
                Event::Deleveraged { .. } => &mut self.deleveraged,
                Event::LossSocialized { .. } => &mut self.socialized,
                Event::BadDebt { .. } => &mut self.bad_debt,
                Event::ShutdownStarted { .. } => &mut self.shutdowns,
                Event::Claimed { .. } => &mut self.claims,
                Event::ParamExecuted { .. } => &mut self.params_executed,
                Event::Borrowed { .. } => &mut self.borrows,
                Event::Withdrawn { .. } => &mut self.withdrawals,
                Event::Transferred { .. } => &mut self.transfers,
                _ => continue,
            };
            *c += 1;
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub commands: u64,
    pub accepted: u64,
    pub cases: u64,
    pub elapsed: Duration,
    pub reached: Reached,
    /// First finding of each kind (by [`FindingKind::key`]).
    pub findings: Vec<Finding>,
    /// How many times each kind was hit in all.
    pub hits: BTreeMap<String, u64>,
    /// Per command type: accepted, and rejected by reason.
    pub outcomes: BTreeMap<&'static str, (u64, BTreeMap<String, u64>)>,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One case's state: the checked engine and the journal of every representable command.
struct Case {
    checked: Checked,
    journal: Vec<Envelope>,
    seed: u64,
}

/// Runs cases until the command or time budget is spent.
pub fn run(cfg: &Config) -> Report {
    if cfg.quiet_panics {
        // findings report panics; the default hook would print each one with a backtrace
        crate::check::quiet_hook();
    }
    let start = Instant::now();
    let mut rep = Report::default();
    let mut master = Draw::new(cfg.seed, Profile::Bounded);
    let mut last_print = Instant::now();
    while rep.commands < cfg.commands && start.elapsed() < cfg.time {
        let profile = match cfg.profiles {
            Profiles::Bounded => Profile::Bounded,
            Profiles::Extreme => Profile::Extreme,
            Profiles::Mixed if rep.cases % 2 == 0 => Profile::Bounded,
            Profiles::Mixed => Profile::Extreme,
        };
        let raw = cfg.raw_every > 0 && rep.cases % cfg.raw_every == cfg.raw_every - 1;
        let seed = master.u64();
        if let Some(f) = run_case(cfg, &mut rep, seed, profile, raw, start) {
            record(cfg, &mut rep, f);
        }
        rep.cases += 1;
        if cfg.progress && last_print.elapsed() > Duration::from_secs(5) {
            last_print = Instant::now();
            eprintln!(
                "[{:>6.0} s] {} commands ({:.0}/s), {} accepted, {} cases, {} findings",
                start.elapsed().as_secs_f64(),
                rep.commands,
                rep.commands as f64 / start.elapsed().as_secs_f64(),
                rep.accepted,
                rep.cases,
                rep.hits.values().sum::<u64>()
            );
        }
    }
    rep.elapsed = start.elapsed();
    if cfg.quiet_panics {
        // back to the default hook, so the caller's own panics print as usual
        drop(std::panic::take_hook());
    }
    rep
}

/// Applies one envelope to the case; a finding carries the journal so far.
fn apply(
    case: &mut Case,
    rep: &mut Report,
    env: Envelope,
    representable: bool,
) -> Result<(), Box<Finding>> {
    rep.commands += 1;
    if representable {
        case.journal.push(env.clone());
    }
    match case.checked.step(&env) {
        Ok(step) => {
            let o = rep.outcomes.entry(command_name(&env.cmd)).or_default();
            if let Some(ev) = step.events {
                rep.accepted += 1;
                o.0 += 1;
                rep.reached.count(ev);
            }
            if let Some(r) = step.reject {
                let why = format!("{r:?}");
                let why = why.split([' ', '{', '(']).next().unwrap_or("").to_string();
                *o.1.entry(why).or_default() += 1;
            }
            Ok(())
        }
        Err(kind) => Err(Box::new(Finding {
            kind,
            case_seed: case.seed,
            journal: std::mem::take(&mut case.journal),
            path: None,
        })),
    }
}

fn run_case(
    cfg: &Config,
    rep: &mut Report,
    seed: u64,
    profile: Profile,
    raw: bool,
    start: Instant,
) -> Option<Finding> {
    let mut d = Draw::new(seed, profile);
    let mut checked = Checked::new();
    checked.check_auction_health = cfg.auction_health;
    let mut case = Case {
        checked,
        journal: Vec::new(),
        seed,
    };
    if !raw {
        for env in world::setup(&mut d, cfg.hot) {
            if let Err(f) = apply(&mut case, rep, env, true) {
                return Some(*f);
            }
        }
    }
    let mut since_replay = 0;
    for i in 0..cfg.case_len {
        if rep.commands >= cfg.commands || start.elapsed() >= cfg.time {
            break;
        }
        let below = case.checked.below();
        let view = View {
            engine: &case.checked.engine,
            below: &below,
            progress: i as f64 / cfg.case_len as f64,
        };
        let g = gen::next(&mut d, &view);
        if let Err(f) = apply(&mut case, rep, g.env, g.representable) {
            return Some(*f);
        }
        since_replay += 1;
        if since_replay >= cfg.replay_every {
            since_replay = 0;
            if let Err(kind) = case.checked.replay_matches() {
                return Some(Finding {
                    kind,
                    case_seed: seed,
                    journal: case.journal,
                    path: None,
                });
            }
        }
    }
    case.checked.replay_matches().err().map(|kind| Finding {
        kind,
        case_seed: seed,
        journal: case.journal,
        path: None,
    })
}

/// Counts a finding; the first of its kind is shrunk and written.
fn record(cfg: &Config, rep: &mut Report, mut f: Finding) {
    let key = f.kind.key();
    let n = rep.hits.entry(key.clone()).or_insert(0);
    *n += 1;
    if *n > 1 {
        return;
    }
    f.journal = shrink(&f.journal, &key, cfg.shrink_time, cfg.auction_health);
    if let Some(k) = check_journal_with(&f.journal, cfg.auction_health) {
        f.kind = k;
    }
    if let Some(dir) = &cfg.findings {
        f.path = write(dir, &key, &f).ok();
    }
    if cfg.progress {
        eprintln!(
            "FINDING {key}: {:?} ({} commands, case seed {})",
            f.kind,
            f.journal.len(),
            f.case_seed
        );
    }
    rep.findings.push(f);
}

/// Removes chunks of commands while the journal still shows a finding of the same kind.
pub fn shrink(journal: &[Envelope], key: &str, budget: Duration, auction: bool) -> Vec<Envelope> {
    let start = Instant::now();
    let same = |j: &[Envelope]| check_journal_with(j, auction).is_some_and(|k| k.key() == key);
    let mut cur = journal.to_vec();
    if !same(&cur) {
        return cur;
    }
    let mut chunk = (cur.len() / 2).max(1);
    loop {
        let mut i = 0;
        while i < cur.len() && start.elapsed() < budget {
            let end = (i + chunk).min(cur.len());
            let mut cand = cur[..i].to_vec();
            cand.extend_from_slice(&cur[end..]);
            if same(&cand) {
                cur = cand;
            } else {
                i = end;
            }
        }
        if chunk == 1 || start.elapsed() >= budget {
            return cur;
        }
        chunk /= 2;
    }
}

/// Writes `<dir>/<key>.jsonl` and appends one line to `<dir>/INDEX.txt`.
fn write(dir: &std::path::Path, key: &str, f: &Finding) -> std::io::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{key}.jsonl"));
    std::fs::write(&path, journal::to_text(&f.journal))?;
    let mut idx = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("INDEX.txt"))?;
    writeln!(
        idx,
        "{key}.jsonl\t{} commands\tcase seed {}\t{:?}",
        f.journal.len(),
        f.case_seed,
        f.kind
    )?;
    Ok(path)
}

/// The journal name of a command type (the engine's [`ballast_engine::Command::kind`]).
pub fn command_name(c: &ballast_engine::Command) -> &'static str {
    c.kind()
}
