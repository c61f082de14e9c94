//! The single writer: one OS thread owns the engine and the journal. It takes submissions in
//! arrival order from a channel, applies a whole queue of them (up to a batch limit), commits
//! the accepted commands in ONE transaction (group commit: one fsync for the batch), and only
//! then publishes the new read view, streams the events and answers the callers. Readers see
//! the last published [`View`] through an `ArcSwap` and never wait for the writer.
//!
//! Rejected and forbidden commands are not journaled: the engine changed nothing for them, so
//! the journal of accepted commands alone replays to the same state. Their counts are in the
//! metrics (`ballast_commands_total{outcome="rejected"|"forbidden"}`).
//!
//! If a commit fails, nothing of that batch is acknowledged (every caller gets a 503) and the
//! writer stops: the in-memory engine is ahead of the journal, so the only safe continuation
//! is a restart, which recovers from the journal.

use crate::answer::{render, Answer};
use crate::auth::{authorize, Principal};
use crate::commit::{Committer, Pending};
use crate::error::ServeError;
use crate::gauges::make_view;
use crate::kind::kind;
use crate::refusal::Refusal;
use crate::store::{KeyedAnswer, NewRow, Reader, Store};
use arc_swap::ArcSwap;
use ballast_engine::engine::QueueEntry;
use ballast_engine::event::Event;
use ballast_engine::{journal, Engine, Envelope};
use metrics_exporter_prometheus::PrometheusRecorder;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot};

/// What the readers see: the engine as of the last commit.
#[derive(Debug)]
pub struct View {
    pub engine: Engine,
    /// Commands accepted so far (= seq of the last journal row).
    pub seq: u64,
    pub state_hash: String,
    /// Accounts below maintenance, worst first.
    pub queue: Vec<QueueEntry>,
}

/// One committed command's events, for the live stream.
#[derive(Debug, Clone)]
pub struct Committed {
    pub seq: u64,
    pub time: i64,
    /// JSON array of events.
    pub events: Arc<str>,
}

/// The answer for one command.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Durable: its journal row is committed.
    Accepted {
        seq: u64,
        events: Arc<str>,
    },
    Refused(Refusal),
}

/// Commands from one request, with who sent them and where to answer.
pub struct Submission {
    pub principal: Principal,
    pub envs: Vec<Envelope>,
    /// The request was one envelope, not an array (shapes a keyed answer).
    pub single: bool,
    /// `Idempotency-Key`: a retry with the same key and commands gets the first answer.
    pub key: Option<String>,
    pub reply: oneshot::Sender<Reply>,
}

/// The writer's answer to a submission.
#[derive(Debug)]
pub enum Reply {
    /// One outcome per command, in order.
    Fresh(Vec<Outcome>),
    /// A keyed request's answer, as journaled (the first time or a retry).
    Keyed(Answer),
}

/// Tuning of the writer.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Snapshot the state after this many accepted commands (0: never).
    pub snapshot_every: u64,
    /// Most commands applied and committed in one transaction.
    pub max_batch: usize,
}

/// State shared between the writer and the HTTP handlers.
pub struct Shared {
    pub view: ArcSwap<View>,
    pub events: broadcast::Sender<Arc<Committed>>,
}

/// The writer's own state (the apply stage; [`Committer`] is the commit stage).
pub struct Writer {
    engine: Engine,
    /// The commit stage: here until [`Writer::run`] moves it to its own thread.
    committer: Option<Committer>,
    /// Reads journaled idempotency keys (the committer owns the write connection).
    keys: Reader,
    /// Keyed answers of the batches handed to the committer and perhaps not committed yet.
    in_flight: VecDeque<Vec<KeyedAnswer>>,
    cfg: WriterConfig,
    since_snapshot: u64,
    buf: Vec<Event>,
    /// Accepted / rejected / forbidden counts per command kind in this batch (one metrics
    /// update per batch instead of one per command).
    tally: HashMap<(&'static str, &'static str), u64>,
}

/// Batches handed to the committer that it may not have committed yet: the channel's one slot
/// plus the one being committed, with margin.
const IN_FLIGHT: usize = 4;

impl Writer {
    /// A writer over a recovered engine; publishes the first view.
    pub fn new(
        mut engine: Engine,
        store: Store,
        cfg: WriterConfig,
    ) -> Result<(Writer, Arc<Shared>), ServeError> {
        let hash = engine.state_hash();
        let view = make_view(&mut engine, hash);
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            view: ArcSwap::from_pointee(view),
            events,
        });
        let newest = store.newest_snapshot_seq().ok().flatten().unwrap_or(0);
        let since_snapshot = engine.state().seq.saturating_sub(newest as u64);
        let keys = store.reader()?;
        let w = Writer {
            engine,
            committer: Some(Committer {
                store,
                shared: shared.clone(),
            }),
            keys,
            in_flight: VecDeque::new(),
            cfg,
            since_snapshot,
            buf: Vec::new(),
            tally: HashMap::new(),
        };
        Ok((w, shared))
    }

    /// Applies and commits `envs` as `principal` (used for the genesis journal).
    pub fn submit_now(
        &mut self,
        principal: Principal,
        envs: Vec<Envelope>,
    ) -> Result<Vec<Outcome>, ServeError> {
        let (reply, mut rx) = oneshot::channel();
        let pending = self.apply_batch(vec![Submission {
            principal,
            envs,
            single: false,
            key: None,
            reply,
        }])?;
        let committer = self.committer.as_mut().ok_or_else(|| {
            ServeError::WriterStopped("the committer already runs on its thread".into())
        })?;
        committer.commit(pending)?;
        match rx.try_recv() {
            Ok(Reply::Fresh(outs)) => Ok(outs),
            Ok(Reply::Keyed(_)) => unreachable!("genesis carries no key"),
            Err(e) => Err(ServeError::WriterStopped(e.to_string())),
        }
    }

    /// The writer loop: applies each queue of submissions and hands it to the committer
    /// thread, then applies the next while that one commits. Runs until every sender is gone
    /// or a commit fails (`recorder`: the metrics recorder for the committer thread; `failed`
    /// is signalled the moment a commit fails, so the server stops without waiting for another
    /// request to find the committer gone).
    pub fn run(
        mut self,
        mut rx: mpsc::Receiver<Submission>,
        recorder: Arc<PrometheusRecorder>,
        failed: mpsc::Sender<()>,
    ) -> Result<(), ServeError> {
        let committer = self.committer.take().ok_or_else(|| {
            ServeError::WriterStopped("the committer already runs on its thread".into())
        })?;
        let (ctx, crx) = std::sync::mpsc::sync_channel::<Pending>(1);
        let commits = std::thread::Builder::new()
            .name("ballast-commit".into())
            .spawn(move || {
                let _guard = metrics::set_default_local_recorder(&*recorder);
                let r = committer.run(crx);
                if let Err(e) = &r {
                    eprintln!("ballast serve: commit failed, stopping: {e}");
                    let _ = failed.try_send(());
                }
                r
            })
            .map_err(|e| ServeError::WriterStopped(e.to_string()))?;
        let mut handed = Ok(());
        while let Some(first) = rx.blocking_recv() {
            let mut n = first.envs.len();
            let mut batch = vec![first];
            while n < self.cfg.max_batch {
                match rx.try_recv() {
                    Ok(s) => {
                        n += s.envs.len();
                        batch.push(s);
                    }
                    Err(_) => break,
                }
            }
            let pending = self.apply_batch(batch)?;
            if ctx.send(pending).is_err() {
                // The committer stopped on a failed commit: its error is returned below.
                handed = Err(ServeError::WriterStopped("the committer stopped".into()));
                break;
            }
        }
        drop(ctx);
        crate::commit::join_stage(commits, "commit").and(handed)
    }

    /// Applies a batch; returns it ready to commit (with the state hash, the snapshot if one
    /// is due, and the engine for the read view).
    fn apply_batch(&mut self, batch: Vec<Submission>) -> Result<Pending, ServeError> {
        metrics::histogram!("ballast_batch_commands")
            .record(batch.iter().map(|s| s.envs.len()).sum::<usize>() as f64);
        let mut rows = Vec::new();
        let mut keyed = Vec::new();
        let mut replies = Vec::with_capacity(batch.len());
        for sub in &batch {
            let reply = match &sub.key {
                None => Reply::Fresh(self.apply_all(sub, &mut rows)),
                Some(key) => self.apply_keyed(sub, key, &mut rows, &mut keyed)?,
            };
            replies.push(reply);
        }
        for ((kind, outcome), n) in self.tally.drain() {
            metrics::counter!("ballast_commands_total", "kind" => kind, "outcome" => outcome)
                .increment(n);
        }
        let journaled = !rows.is_empty() || !keyed.is_empty();
        let (hash, snapshot) = if journaled {
            self.hash_and_snapshot(rows.len())
        } else {
            (String::new(), None)
        };
        self.in_flight.push_back(keyed.clone());
        if self.in_flight.len() > IN_FLIGHT {
            self.in_flight.pop_front();
        }
        let engine = (!rows.is_empty()).then(|| self.engine.clone());
        Ok(Pending {
            batch,
            replies,
            rows,
            keyed,
            hash,
            snapshot,
            engine,
        })
    }

    fn apply_all(&mut self, sub: &Submission, rows: &mut Vec<NewRow>) -> Vec<Outcome> {
        sub.envs
            .iter()
            .map(|env| self.apply_one(&sub.principal, env, rows))
            .collect()
    }

    /// A keyed submission: the journaled answer if the key was seen (journal or this batch),
    /// else apply and keep the answer for the journal.
    fn apply_keyed(
        &mut self,
        sub: &Submission,
        key: &str,
        rows: &mut Vec<NewRow>,
        keyed: &mut Vec<KeyedAnswer>,
    ) -> Result<Reply, ServeError> {
        let scope = format!("{:?}|{key}", sub.principal);
        let mut h = blake3::Hasher::new();
        for env in &sub.envs {
            h.update(journal::to_line(env).as_bytes());
            h.update(b"\n");
        }
        let digest = h.finalize().to_hex().to_string();
        let pending = keyed
            .iter()
            .chain(self.in_flight.iter().flatten())
            .find(|k| k.scope == scope);
        let seen = match pending {
            Some(k) => Some((k.digest.clone(), k.status, k.body.clone())),
            None => self.keys.keyed(&scope)?,
        };
        if let Some((d, status, body)) = seen {
            metrics::counter!("ballast_idempotent_replays_total").increment(1);
            if d != digest {
                let r = Refusal::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for different commands",
                );
                return Ok(Reply::Keyed(render(&[Outcome::Refused(r)], true)));
            }
            return Ok(Reply::Keyed(Answer { status, body }));
        }
        let answer = render(&self.apply_all(sub, rows), sub.single);
        keyed.push(KeyedAnswer {
            scope,
            digest,
            status: answer.status,
            body: answer.body.clone(),
            seq: self.engine.state().seq,
        });
        Ok(Reply::Keyed(answer))
    }

    fn apply_one(&mut self, p: &Principal, env: &Envelope, rows: &mut Vec<NewRow>) -> Outcome {
        let kind = kind(&env.cmd);
        if let Err(f) = authorize(p, &env.cmd, self.engine.state()) {
            *self.tally.entry((kind, "forbidden")).or_default() += 1;
            return Outcome::Refused(Refusal::forbidden(&f));
        }
        self.buf.clear();
        let t = Instant::now();
        let r = self.engine.apply_into(env, &mut self.buf);
        metrics::histogram!("ballast_apply_seconds").record(t.elapsed().as_secs_f64());
        match r {
            Ok(()) => {
                *self.tally.entry((kind, "accepted")).or_default() += 1;
                let seq = self.engine.state().seq;
                let events: Arc<str> = serde_json::to_string(&self.buf)
                    .expect("events serialize")
                    .into();
                rows.push(NewRow {
                    seq,
                    time: env.time.0,
                    command: journal::to_line(env),
                    events: events.clone(),
                });
                Outcome::Accepted { seq, events }
            }
            Err(e) => {
                *self.tally.entry((kind, "rejected")).or_default() += 1;
                Outcome::Refused(Refusal::from_reject(&e))
            }
        }
    }

    /// The state hash after the batch, and the state's JSON when a snapshot is due (the hash is
    /// BLAKE3 over that JSON: serialized once for both).
    fn hash_and_snapshot(&mut self, accepted: usize) -> (String, Option<String>) {
        self.since_snapshot += accepted as u64;
        let snap_due =
            self.cfg.snapshot_every > 0 && self.since_snapshot >= self.cfg.snapshot_every;
        let bytes = serde_json::to_vec(self.engine.state()).expect("state serializes");
        let hash = blake3::hash(&bytes).to_hex().to_string();
        if snap_due {
            self.since_snapshot = 0;
        }
        let text = snap_due.then(|| String::from_utf8(bytes).expect("JSON is UTF-8"));
        (hash, text)
    }
}
