//! One command through the engine under every check: no panic (each call under
//! `catch_unwind`), a rejection leaves the state hash unchanged, value is conserved, the
//! liquidation index equals a full scan, and the independent audit agrees with the state and
//! its clearing bounds. [`Checked::replay_matches`] re-applies the accepted commands to a
//! fresh engine from their journal text and compares state hashes.

use crate::audit::{Audit, AuditError};
use ballast_engine::command::Envelope;
use ballast_engine::event::Event;
use ballast_engine::ids::{AccountId, AssetId, MarketId};
use ballast_engine::{journal, Engine};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Which engine call panicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Apply,
    ConservationGaps,
    BelowMaintenance,
    Scan,
    StateHash,
    Replay,
}

/// What went wrong. The reproducer journal is kept next to it in [`crate::run::Finding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// An engine call panicked (`message` is the panic payload, `location` its file:line).
    Panic {
        call: Call,
        message: String,
        location: String,
    },
    /// A rejected command changed the state hash.
    RejectChangedState,
    /// Value held minus net deposits is not zero for an asset.
    ConservationGap { asset: AssetId, gap: i128 },
    /// `below_maintenance()` differs from `below_maintenance_scan()`.
    IndexMismatch {
        index: Vec<AccountId>,
        scan: Vec<AccountId>,
    },
    /// The journal of accepted commands replays to a different state hash.
    ReplayDiverged,
    /// The independent ledger audit disagrees with the state or a clearing bound.
    Audit(AuditError),
    /// An accepted fill added risk to an account whose equity is below the base-rate
    /// initial requirement (see [`crate::margin`]).
    MarginFloor {
        account: AccountId,
        error: crate::margin::FloorError,
    },
    /// An auction take was accepted although the auctioned account was at or above
    /// maintenance before it (`health` in `Value` raw units): a recovered account's auction
    /// must end, not sell.
    AuctionTakeOnHealthy { account: AccountId, health: i128 },
}

impl FindingKind {
    /// A short stable name for file names and deduplication.
    pub fn key(&self) -> String {
        use crate::audit::{AuditError as A, Clearing as C, SignRule as S};
        match self {
            FindingKind::Panic { call, .. } => format!("panic-{call:?}").to_lowercase(),
            FindingKind::RejectChangedState => "reject-changed-state".into(),
            FindingKind::ConservationGap { .. } => "conservation-gap".into(),
            FindingKind::IndexMismatch { .. } => "index-mismatch".into(),
            FindingKind::ReplayDiverged => "replay-diverged".into(),
            FindingKind::MarginFloor { .. } => "margin-floor".into(),
            FindingKind::AuctionTakeOnHealthy { .. } => "auction-take-on-healthy".into(),
            FindingKind::Audit(A::Mismatch { field, .. }) => {
                let f = format!("{field:?}");
                format!("audit-{}", f.split('(').next().unwrap_or("x")).to_lowercase()
            }
            FindingKind::Audit(A::Bound { clearing, .. }) => match clearing {
                C::Funding(_) => "bound-funding-clearing".into(),
                C::Interest(_) => "bound-interest-clearing".into(),
                C::Option(_) => "bound-option-clearing".into(),
            },
            FindingKind::Audit(A::Unrepresentable { .. }) => "unrepresentable-clearing".into(),
            FindingKind::Audit(A::Sign { rule, .. }) => match rule {
                S::Interest(_) => "sign-interest".into(),
                S::OptionPayoff(_, _) => "sign-option-payoff".into(),
                S::FundingDirection(_) => "sign-funding-direction".into(),
            },
        }
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic".into()
    }
}

thread_local! {
    /// Where the last panic on this thread happened (set by [`quiet_hook`]).
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// A panic hook that prints nothing and remembers the panic's location, so a finding can
/// name the line that panicked.
pub fn quiet_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        if std::env::var_os("BALLAST_FUZZ_LOUD").is_some() {
            eprintln!("panic at {at:?}: {info}");
        }
        LAST_PANIC.with(|p| *p.borrow_mut() = at);
    }));
}

fn guarded<T>(call: Call, f: impl FnOnce() -> T) -> Result<T, FindingKind> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| FindingKind::Panic {
        call,
        message: panic_message(p),
        location: LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_default(),
    })
}

/// Outcome of one checked command.
pub struct Step<'a> {
    /// Events of an accepted command; `None` if rejected.
    pub events: Option<&'a [Event]>,
    /// Why it was rejected.
    pub reject: Option<ballast_engine::Reject>,
}

/// An engine with its audit and the journal of accepted commands.
pub struct Checked {
    pub engine: Engine,
    pub audit: Audit,
    pub accepted: Vec<Envelope>,
    events: Vec<Event>,
    /// Whether the index/scan comparison runs after every command (it is the costliest).
    pub check_index: bool,
    /// Whether an accepted auction take on an account that was healthy is a finding.
    pub check_auction_health: bool,
}

impl Default for Checked {
    fn default() -> Self {
        Checked::new()
    }
}

impl Checked {
    pub fn new() -> Checked {
        Checked {
            engine: Engine::new(),
            audit: Audit::new(),
            accepted: Vec::new(),
            events: Vec::new(),
            check_index: true,
            check_auction_health: true,
        }
    }

    /// Applies `env` and runs every per-command check.
    pub fn step(&mut self, env: &Envelope) -> Result<Step<'_>, FindingKind> {
        let before = guarded(Call::StateHash, || self.engine.state_hash())?;
        let sizes = fill_sizes(self.engine.state(), &env.cmd);
        let taken = self.auctioned_health(env);
        let engine = &mut self.engine;
        let r = guarded(Call::Apply, || engine.apply(env))?;
        let mut reject = None;
        let accepted = match r {
            Ok(events) => {
                self.audit.apply(&events).map_err(FindingKind::Audit)?;
                self.accepted.push(env.clone());
                self.events = events;
                true
            }
            Err(e) => {
                let after = guarded(Call::StateHash, || self.engine.state_hash())?;
                if after != before {
                    return Err(FindingKind::RejectChangedState);
                }
                reject = Some(e);
                false
            }
        };
        if accepted {
            self.margin_floor(sizes)?;
            if let Some((account, health)) = taken.filter(|(_, h)| *h >= 0) {
                return Err(FindingKind::AuctionTakeOnHealthy { account, health });
            }
        }
        self.invariants()?;
        Ok(Step {
            events: accepted.then_some(self.events.as_slice()),
            reject,
        })
    }

    /// The margin floor on each side of an accepted fill whose position grew or flipped.
    fn margin_floor(
        &self,
        sizes: Option<[(AccountId, MarketId, i64); 2]>,
    ) -> Result<(), FindingKind> {
        let st = self.engine.state();
        for (account, market, old) in sizes.into_iter().flatten() {
            let new = st.accounts[account.idx()]
                .position(market)
                .map_or(0, |p| p.size.0);
            let grew = new.unsigned_abs() > old.unsigned_abs()
                || (old != 0 && new != 0 && (old > 0) != (new > 0));
            if grew {
                crate::margin::check(st, account)
                    .map_err(|error| FindingKind::MarginFloor { account, error })?;
            }
        }
        Ok(())
    }

    /// Maintenance health of the account a `TakeAuction` would buy from, before it applies,
    /// at the command's time (interest accrued and option marks decayed to it, as the take
    /// itself measures it): the state is copied with its clock moved to `env.time`.
    fn auctioned_health(&self, env: &Envelope) -> Option<(AccountId, i128)> {
        let ballast_engine::Command::TakeAuction { auction, .. } = env.cmd else {
            return None;
        };
        if !self.check_auction_health {
            return None;
        }
        let st = self.engine.state();
        let account = st.auctions.get(auction.idx())?.account;
        if env.time < st.time {
            return None; // refused as time going backwards
        }
        let mut at = st.clone();
        at.time = env.time;
        let h = Engine::from_state(at).health(account, ballast_engine::HealthKind::Maintenance);
        Some((account, h.ok()?.0))
    }

    /// Conservation, index = scan, and the audit.
    fn invariants(&mut self) -> Result<(), FindingKind> {
        let gaps = guarded(Call::ConservationGaps, || self.engine.conservation_gaps())?;
        if let Some((asset, gap)) = gaps.into_iter().find(|(_, g)| *g != 0) {
            return Err(FindingKind::ConservationGap { asset, gap });
        }
        if self.check_index {
            let engine = &mut self.engine;
            let index = guarded(Call::BelowMaintenance, || engine.below_maintenance())?;
            let scan = guarded(Call::Scan, || self.engine.below_maintenance_scan())?;
            if index != scan {
                return Err(FindingKind::IndexMismatch { index, scan });
            }
        }
        self.audit
            .compare(self.engine.state())
            .map_err(FindingKind::Audit)?;
        self.audit.bounds(&self.engine).map_err(FindingKind::Audit)
    }

    /// Accounts below maintenance now (the full scan), for the generator.
    pub fn below(&self) -> Vec<AccountId> {
        guarded(Call::Scan, || self.engine.below_maintenance_scan()).unwrap_or_default()
    }

    /// Re-applies the accepted commands, through their journal text, to a fresh engine.
    pub fn replay_matches(&self) -> Result<(), FindingKind> {
        let text = journal::to_text(&self.accepted);
        let live = self.engine.state_hash();
        let replayed = guarded(Call::Replay, || {
            let parsed = journal::parse(&text).ok()?;
            let mut e = Engine::new();
            journal::replay(&mut e, &parsed, false);
            Some(e.state_hash())
        })?;
        if replayed.as_deref() == Some(live.as_str()) {
            Ok(())
        } else {
            Err(FindingKind::ReplayDiverged)
        }
    }
}

/// Sizes of both sides of a fill before it applies.
fn fill_sizes(
    st: &ballast_engine::state::State,
    cmd: &ballast_engine::Command,
) -> Option<[(AccountId, MarketId, i64); 2]> {
    let ballast_engine::Command::Fill {
        market,
        taker,
        maker,
        ..
    } = *cmd
    else {
        return None;
    };
    let size = |a: AccountId| {
        st.accounts
            .get(a.idx())
            .and_then(|x| x.position(market))
            .map_or(0, |p| p.size.0)
    };
    Some([(taker, market, size(taker)), (maker, market, size(maker))])
}

/// Runs a whole journal under every check; the first finding, if any (replay checked at the
/// end). Used to confirm and shrink reproducers.
pub fn check_journal(envs: &[Envelope]) -> Option<FindingKind> {
    check_journal_with(envs, true)
}

/// As [`check_journal`], choosing whether the auction-health rule applies.
pub fn check_journal_with(envs: &[Envelope], auction_health: bool) -> Option<FindingKind> {
    let mut c = Checked::new();
    c.check_auction_health = auction_health;
    for env in envs {
        if let Err(f) = c.step(env) {
            return Some(f);
        }
    }
    c.replay_matches().err()
}
