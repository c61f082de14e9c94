//! The committer: the second stage of the writer's pipeline. The apply stage
//! ([`crate::writer`]) applies batch N+1 while this thread commits batch N in one durable
//! transaction; only after that commit returns does it answer batch N's callers, publish the
//! read view as of batch N and stream its events. So an acknowledged command is durable, and
//! readers never see state that is not yet in the journal.
//!
//! Two stages rather than one: the fsync is a wait, not work, and on two cores the apply stage
//! keeps the engine busy during it (the same overlap as LMAX's journaller running beside the
//! business-logic processor: martinfowler.com/articles/lmax.html, "Input and Output Disruptors").
//!
//! Fail-stop: if a commit fails, this batch's callers get a 503, the committer stops, and the
//! batches already applied behind it are never acknowledged (their answer channels close: 503);
//! the apply stage then stops on its next hand-off and the process exits.

use crate::error::ServeError;
use crate::refusal::Refusal;
use crate::store::{KeyedAnswer, NewRow, Store};
use crate::writer::{Committed, Outcome, Reply, Shared, Submission};
use ballast_engine::Engine;
use std::sync::Arc;
use std::time::Instant;

/// A batch applied by the apply stage, waiting for its commit.
pub struct Pending {
    /// The submissions, to answer once committed.
    pub batch: Vec<Submission>,
    /// Their answers, in order.
    pub replies: Vec<Reply>,
    pub rows: Vec<NewRow>,
    pub keyed: Vec<KeyedAnswer>,
    /// The state hash after the batch.
    pub hash: String,
    /// The state as JSON, when a snapshot is due with this batch.
    pub snapshot: Option<String>,
    /// The engine as of this batch, for the read view (when it accepted anything).
    pub engine: Option<Engine>,
}

/// Owns the journal's write side.
pub struct Committer {
    pub store: Store,
    pub shared: Arc<Shared>,
}

impl Committer {
    /// Commits `p`, then answers, publishes and streams it.
    pub fn commit(&mut self, p: Pending) -> Result<(), ServeError> {
        if !p.rows.is_empty() || !p.keyed.is_empty() {
            let t = Instant::now();
            let snap = p.snapshot.as_deref().map(|s| (s, p.hash.as_str()));
            if let Err(e) = self.store.append(&p.rows, &p.hash, snap, &p.keyed) {
                for sub in p.batch {
                    let down = Outcome::Refused(Refusal::unavailable(e.to_string()));
                    let _ = sub.reply.send(Reply::Fresh(vec![down; sub.envs.len()]));
                }
                return Err(e);
            }
            metrics::histogram!("ballast_journal_commit_seconds").record(t.elapsed().as_secs_f64());
            if p.snapshot.is_some() {
                metrics::counter!("ballast_snapshots_total").increment(1);
            }
        }
        if let Some(mut engine) = p.engine {
            let view = crate::gauges::make_view(&mut engine, p.hash);
            self.shared.view.store(Arc::new(view));
            for r in &p.rows {
                let _ = self.shared.events.send(Arc::new(Committed {
                    seq: r.seq,
                    time: r.time,
                    events: r.events.clone(),
                }));
            }
        }
        for (sub, reply) in p.batch.into_iter().zip(p.replies) {
            let _ = sub.reply.send(reply);
        }
        Ok(())
    }

    /// Commits batches as they arrive until the apply stage hangs up or a commit fails.
    /// WAL checkpoints run beside it ([`crate::checkpoint`]), not inside its commits.
    pub fn run(mut self, rx: std::sync::mpsc::Receiver<Pending>) -> Result<(), ServeError> {
        let (stop, stopped) = std::sync::mpsc::channel();
        let checkpoints = self.store.checkpoint_elsewhere(stopped)?;
        let mut committed = Ok(());
        while let Ok(p) = rx.recv() {
            committed = self.commit(p);
            if committed.is_err() {
                break;
            }
        }
        drop(stop);
        committed.and(join_stage(checkpoints, "checkpoint"))
    }
}

/// Waits for a pipeline stage's thread: its own result, or an error naming it if it panicked.
pub fn join_stage(
    stage: std::thread::JoinHandle<Result<(), ServeError>>,
    name: &str,
) -> Result<(), ServeError> {
    stage.join().unwrap_or_else(|_| {
        Err(ServeError::WriterStopped(format!(
            "the {name} thread panicked"
        )))
    })
}
