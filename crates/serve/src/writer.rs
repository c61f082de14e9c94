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
use crate::error::ServeError;
use crate::kind::kind;
use crate::refusal::Refusal;
use crate::store::{KeyedAnswer, NewRow, Store};
use arc_swap::ArcSwap;
use ballast_engine::engine::QueueEntry;
use ballast_engine::event::Event;
use ballast_engine::{journal, Engine, Envelope};
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

/// The writer's own state.
pub struct Writer {
    engine: Engine,
    store: Store,
    cfg: WriterConfig,
    since_snapshot: u64,
    shared: Arc<Shared>,
    buf: Vec<Event>,
}

impl Writer {
    /// A writer over a recovered engine; publishes the first view.
    pub fn new(mut engine: Engine, store: Store, cfg: WriterConfig) -> (Writer, Arc<Shared>) {
        let hash = engine.state_hash();
        let view = make_view(&mut engine, hash);
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            view: ArcSwap::from_pointee(view),
            events,
        });
        let newest = store.newest_snapshot_seq().ok().flatten().unwrap_or(0);
        let since_snapshot = engine.state().seq.saturating_sub(newest as u64);
        let w = Writer {
            engine,
            store,
            cfg,
            since_snapshot,
            shared: shared.clone(),
            buf: Vec::new(),
        };
        (w, shared)
    }

    /// Applies and commits `envs` as `principal` (used for the genesis journal).
    pub fn submit_now(
        &mut self,
        principal: Principal,
        envs: Vec<Envelope>,
    ) -> Result<Vec<Outcome>, ServeError> {
        let (reply, mut rx) = oneshot::channel();
        self.apply_batch(vec![Submission {
            principal,
            envs,
            single: false,
            key: None,
            reply,
        }])?;
        match rx.try_recv() {
            Ok(Reply::Fresh(outs)) => Ok(outs),
            Ok(Reply::Keyed(_)) => unreachable!("genesis carries no key"),
            Err(e) => Err(ServeError::WriterStopped(e.to_string())),
        }
    }

    /// The writer loop: runs until every sender is gone or a commit fails.
    pub fn run(mut self, mut rx: mpsc::Receiver<Submission>) -> Result<(), ServeError> {
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
            self.apply_batch(batch)?;
        }
        Ok(())
    }

    fn apply_batch(&mut self, batch: Vec<Submission>) -> Result<(), ServeError> {
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
        if !rows.is_empty() || !keyed.is_empty() {
            let hash = match self.commit(&rows, &keyed) {
                Ok(h) => h,
                Err(e) => {
                    for sub in batch {
                        let down = Outcome::Refused(Refusal::unavailable(e.to_string()));
                        let _ = sub.reply.send(Reply::Fresh(vec![down; sub.envs.len()]));
                    }
                    return Err(e);
                }
            };
            if !rows.is_empty() {
                self.publish(&rows, hash);
            }
        }
        for (sub, reply) in batch.into_iter().zip(replies) {
            let _ = sub.reply.send(reply);
        }
        Ok(())
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
        let seen = match keyed.iter().find(|k| k.scope == scope) {
            Some(k) => Some((k.digest.clone(), k.status, k.body.clone())),
            None => self.store.keyed(&scope)?,
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
            metrics::counter!("ballast_commands_total", "kind" => kind, "outcome" => "forbidden")
                .increment(1);
            return Outcome::Refused(Refusal::forbidden(&f));
        }
        self.buf.clear();
        let t = Instant::now();
        let r = self.engine.apply_into(env, &mut self.buf);
        metrics::histogram!("ballast_apply_seconds").record(t.elapsed().as_secs_f64());
        match r {
            Ok(()) => {
                metrics::counter!("ballast_commands_total", "kind" => kind, "outcome" => "accepted")
                    .increment(1);
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
                metrics::counter!("ballast_commands_total", "kind" => kind, "outcome" => "rejected")
                    .increment(1);
                Outcome::Refused(Refusal::from_reject(&e))
            }
        }
    }

    /// Writes the batch (and a snapshot when one is due) in one durable transaction.
    fn commit(&mut self, rows: &[NewRow], keyed: &[KeyedAnswer]) -> Result<String, ServeError> {
        self.since_snapshot += rows.len() as u64;
        let snap_due =
            self.cfg.snapshot_every > 0 && self.since_snapshot >= self.cfg.snapshot_every;
        // The state hash is BLAKE3 over the state's JSON: serialize once for hash and snapshot.
        let bytes = serde_json::to_vec(self.engine.state()).expect("state serializes");
        let hash = blake3::hash(&bytes).to_hex().to_string();
        let text = snap_due.then(|| String::from_utf8(bytes).expect("JSON is UTF-8"));
        let t = Instant::now();
        self.store.append(
            rows,
            &hash,
            text.as_deref().map(|s| (s, hash.as_str())),
            keyed,
        )?;
        metrics::histogram!("ballast_journal_commit_seconds").record(t.elapsed().as_secs_f64());
        if snap_due {
            self.since_snapshot = 0;
            metrics::counter!("ballast_snapshots_total").increment(1);
        }
        Ok(hash)
    }

    fn publish(&mut self, rows: &[NewRow], hash: String) {
        let view = make_view(&mut self.engine, hash);
        self.shared.view.store(Arc::new(view));
        for r in rows {
            let _ = self.shared.events.send(Arc::new(Committed {
                seq: r.seq,
                time: r.time,
                events: r.events.clone(),
            }));
        }
    }
}

/// Open interest, breaker mode (0 Normal, 1 Cautious, 2 Recovering, 3 Halted) and the
/// halted-market exposure per market; status (its index, 0 = Valid … 4 = NoQuorum) and age of
/// each multi-source oracle.
fn market_and_oracle_gauges(engine: &Engine) {
    let st = engine.state();
    for m in &st.markets {
        let sym = m.symbol.clone();
        metrics::gauge!("ballast_open_interest", "market" => sym.clone(), "side" => "long")
            .set(m.long_oi.0 as f64);
        metrics::gauge!("ballast_open_interest", "market" => sym.clone(), "side" => "short")
            .set(m.short_oi.0 as f64);
        let mode = m.breaker.as_ref().map_or(0, |b| b.mode().severity());
        metrics::gauge!("ballast_breaker_mode", "market" => sym).set(f64::from(mode));
    }
    metrics::gauge!("ballast_debt_against_halted_markets")
        .set(engine.debt_against_halted().len() as f64);
    for a in &st.assets {
        let Some(f) = &a.oracle else { continue };
        let (status, age) = f.status_at(st.time.0);
        let sym = a.symbol.clone();
        metrics::gauge!("ballast_oracle_status", "asset" => sym.clone()).set(status.index() as f64);
        metrics::gauge!("ballast_oracle_age_ms", "asset" => sym).set(age.unwrap_or(-1) as f64);
    }
}

/// A read view of `engine` (and the risk gauges that go with it).
fn make_view(engine: &mut Engine, state_hash: String) -> View {
    let queue = engine.liquidation_queue();
    let st = engine.state();
    metrics::gauge!("ballast_seq").set(st.seq as f64);
    metrics::gauge!("ballast_accounts").set(st.accounts.len() as f64);
    metrics::gauge!("ballast_accounts_below_maintenance").set(queue.len() as f64);
    for (i, p) in st.pools.iter().enumerate() {
        let pool = i.to_string();
        metrics::gauge!("ballast_insurance_fund", "pool" => pool.clone())
            .set(p.insurance_fund.0 as f64);
        metrics::gauge!("ballast_bad_debt", "pool" => pool).set(p.bad_debt.0 as f64);
    }
    market_and_oracle_gauges(engine);
    View {
        seq: st.seq,
        state_hash,
        queue,
        engine: engine.clone(),
    }
}
