//! `ballast serve`: the second driver of the engine. One engine instance behind an HTTP/JSON
//! API (axum on tokio), a durable SQLite journal with group commit and snapshots, recovery that
//! replays the journal and checks the state hash, token-based roles, Prometheus metrics and an
//! OpenAPI document.
//!
//! Where things live:
//! - [`writer`]: the single writer thread (apply in arrival order, group commit, publish).
//! - [`store`]: the journal database (schema, append, read); [`recovery`]: start-up replay and
//!   torn-tail handling; [`export`]: the journal as JSON lines.
//! - [`auth`]: tokens (hashed at rest) → principals → which commands each may submit.
//! - [`http`], [`queries`], [`governance`], [`stream`], [`openapi`], [`dashboard`]: the HTTP
//!   surface;
//!   [`refusal`]: typed error bodies.

pub mod answer;
pub mod auth;
pub mod batch;
pub mod checkpoint;
pub mod commit;
pub mod contagion;
pub mod dashboard;
pub mod error;
pub mod export;
pub mod gauges;
pub mod governance;
pub mod http;
pub mod kind;
pub mod limit;
pub mod migrate;
pub mod openapi;
pub mod queries;
pub mod recovery;
pub mod refusal;
pub mod risk;
pub mod store;
pub mod stream;
pub mod writer;

pub use error::ServeError;

use auth::{Principal, Tokens};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use writer::{Outcome, Writer, WriterConfig};

/// Everything `ballast serve` is told.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Directory of the journal database (created if missing).
    pub data: PathBuf,
    /// Address to listen on (`127.0.0.1:0`: any free port).
    pub listen: String,
    /// Journal (JSON lines) applied when the database is empty.
    pub genesis: Option<PathBuf>,
    /// Genesis commands already built by the caller (e.g. `ballast serve --genesis BOOK`, whose
    /// book the lab turns into commands); applied instead of reading `genesis`, which then only
    /// names them in messages.
    pub genesis_commands: Option<Vec<ballast_engine::command::Envelope>>,
    /// Token file; `None`: every caller is an operator.
    pub tokens: Option<PathBuf>,
    /// Snapshot after this many accepted commands (0: never).
    pub snapshot_every: u64,
    /// Most commands per group commit.
    pub max_batch: usize,
    /// Largest request body, bytes.
    pub max_body: usize,
    /// Requests per second per caller on `POST /v1/commands` (0: no limit).
    pub rate_limit: u32,
    /// fsync the journal at every commit (`false`: for load comparisons only; an
    /// acknowledged command may then be lost in a power failure, not in a process crash).
    pub fsync: bool,
}

impl ServeConfig {
    /// Defaults for a data directory: loopback port 8080, snapshots every 10,000 commands.
    pub fn new(data: impl Into<PathBuf>) -> ServeConfig {
        ServeConfig {
            data: data.into(),
            listen: "127.0.0.1:8080".into(),
            genesis: None,
            genesis_commands: None,
            tokens: None,
            snapshot_every: 10_000,
            max_batch: 8192,
            max_body: 8 << 20,
            fsync: true,
            rate_limit: 0,
        }
    }
}

/// `ballast serve` arguments (shared by the `ballast` CLI and the `ballast-serve` binary).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Directory of the journal database.
    #[arg(long, default_value = "ballast-data")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Journal (JSON lines) applied as the first commands when the database is empty
    /// (`ballast demo --write FILE` makes one). The `ballast` CLI also takes a book (a lab
    /// position snapshot, JSON or CSV): see `--book-scenario`.
    #[arg(long, value_name = "JOURNAL|BOOK")]
    pub genesis: Option<PathBuf>,
    /// Token file (format: crates/serve/README.md); without it every caller is an operator.
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// Snapshot the state after this many accepted commands (0: never).
    #[arg(long, default_value_t = 10_000)]
    pub snapshot_every: u64,
    /// Requests per second per token on POST /v1/commands (0: no limit); over it: 429.
    #[arg(long, default_value_t = 0)]
    pub rate_limit: u32,
    /// Do not fsync journal commits (load comparisons only: a power failure may lose
    /// acknowledged commands).
    #[arg(long)]
    pub no_fsync: bool,
    /// Print the hash of a token for the token file, and exit.
    #[arg(long, value_name = "SECRET")]
    pub hash_token: Option<String>,
}

impl ServeArgs {
    pub fn config(&self) -> ServeConfig {
        ServeConfig {
            listen: self.listen.clone(),
            genesis: self.genesis.clone(),
            tokens: self.tokens.clone(),
            snapshot_every: self.snapshot_every,
            fsync: !self.no_fsync,
            rate_limit: self.rate_limit,
            ..ServeConfig::new(&self.data)
        }
    }
}

/// Runs `ballast serve` with parsed arguments until the process is stopped.
pub async fn serve_cli(args: ServeArgs) -> Result<(), ServeError> {
    if let Some(secret) = &args.hash_token {
        println!("{}", auth::hash_token(secret));
        return Ok(());
    }
    run(args.config()).await
}

/// `ballast serve` from synchronous code: builds a tokio runtime and serves until stopped.
pub fn serve_blocking(args: ServeArgs) -> Result<(), ServeError> {
    runtime()?.block_on(serve_cli(args))
}

/// As [`serve_blocking`], from a built configuration (a caller-made genesis).
pub fn serve_config_blocking(config: ServeConfig) -> Result<(), ServeError> {
    runtime()?.block_on(run(config))
}

fn runtime() -> Result<tokio::runtime::Runtime, ServeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(error::io("starting the runtime", std::path::Path::new("-")))
}

/// A started server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    writer: std::thread::JoinHandle<Result<(), ServeError>>,
    writer_done: Option<tokio::sync::mpsc::Receiver<()>>,
}

impl Running {
    /// Stops accepting requests (open event streams get 5 s to close), lets the writer finish
    /// its queue and closes the journal. Returns the writer's error if it had stopped on one.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        let _ = self.stop.send(());
        let grace = std::time::Duration::from_secs(5);
        if tokio::time::timeout(grace, &mut self.http).await.is_err() {
            self.http.abort();
        }
        let writer = self.writer;
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(|e| ServeError::WriterStopped(e.to_string()))?
            .map_err(|_| ServeError::WriterStopped("the writer panicked".into()))?
    }
}

/// Serves until SIGINT/SIGTERM (then drains the writer's queue and closes the journal) or
/// until the writer stops on a journal failure (then returns that error: fail-stop).
pub async fn run(config: ServeConfig) -> Result<(), ServeError> {
    let mut running = start(config).await?;
    println!("ballast serve: listening on http://{}", running.addr);
    let writer_done = running.writer_done.take();
    tokio::select! {
        _ = stop_signal() => eprintln!("ballast serve: stopping"),
        _ = async { if let Some(mut d) = writer_done { let _ = d.recv().await; } } => {}
    }
    running.shutdown().await
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn recorder() -> Result<Arc<PrometheusRecorder>, ServeError> {
    let secs = [
        1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2,
        0.1, 0.2, 0.5, 1.0,
    ];
    let sizes = [
        1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 8192.0,
    ];
    let m = |e: metrics_exporter_prometheus::BuildError| ServeError::Metrics(e.to_string());
    let r = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &secs)
        .map_err(m)?
        .set_buckets_for_metric(Matcher::Full("ballast_batch_commands".into()), &sizes)
        .map_err(m)?
        .build_recorder();
    Ok(Arc::new(r))
}

/// Recovers the engine, applies the genesis journal to an empty database, and starts the
/// writer and the HTTP server; returns once it listens.
pub async fn start(config: ServeConfig) -> Result<Running, ServeError> {
    let tokens = match &config.tokens {
        Some(p) => Tokens::load(p)?,
        None => Tokens::open(),
    };
    let rec = recorder()?;
    let handle = rec.handle();
    let cfg = config.clone();
    let rec2 = rec.clone();
    let (writer, shared) =
        tokio::task::spawn_blocking(move || metrics::with_local_recorder(&*rec2, || prepare(&cfg)))
            .await
            .map_err(|e| ServeError::WriterStopped(e.to_string()))??;
    let rec_http = rec.clone();
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    // Signalled when the writer stops, or as soon as its commit stage fails (fail-stop).
    let (done_tx, done_rx) = tokio::sync::mpsc::channel(2);
    let writer = std::thread::Builder::new()
        .name("ballast-writer".into())
        .spawn(move || {
            let _guard = metrics::set_default_local_recorder(&*rec);
            let r = writer.run(rx, rec.clone(), done_tx.clone());
            if let Err(e) = &r {
                eprintln!("ballast serve: writer stopped: {e}");
            }
            let _ = done_tx.try_send(());
            r
        })
        .map_err(|e| ServeError::WriterStopped(e.to_string()))?;
    let app = http::App {
        shared,
        tx,
        tokens: Arc::new(tokens),
        data: Arc::new(config.data.clone()),
        metrics: handle,
        recorder: rec_http,
        limiter: (config.rate_limit > 0).then(|| Arc::new(limit::Limiter::new(config.rate_limit))),
    };
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen.clone(),
        source,
    })?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = http::router(app, config.max_body);
    let http = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(Running {
        addr,
        stop,
        http,
        writer,
        writer_done: Some(done_rx),
    })
}

/// Opens the journal, recovers, and applies the genesis journal if the journal is empty.
fn prepare(config: &ServeConfig) -> Result<(Writer, Arc<writer::Shared>), ServeError> {
    let mut store = store::Store::open(&config.data, config.fsync)?;
    let rec = recovery::recover(&mut store)?;
    eprintln!(
        "ballast serve: recovered seq {} ({} replayed{}; {} torn row(s) dropped; state hash {})",
        rec.engine.state().seq,
        rec.replayed,
        rec.snapshot
            .map_or(String::new(), |s| format!(" after the snapshot at seq {s}")),
        rec.dropped,
        rec.hash_checked_at
            .map_or("unchecked: empty journal".to_string(), |s| format!(
                "checked at seq {s}"
            )),
    );
    let empty = rec.engine.state().seq == 0;
    let wcfg = WriterConfig {
        snapshot_every: config.snapshot_every,
        max_batch: config.max_batch,
    };
    let (mut writer, shared) = Writer::new(rec.engine, store, wcfg)?;
    if let (true, Some(path)) = (empty, &config.genesis) {
        let err = |message: String| ServeError::Genesis {
            path: path.clone(),
            message,
        };
        let envs: Vec<_> = match &config.genesis_commands {
            Some(envs) => envs.clone(),
            None => {
                let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
                ballast_engine::journal::parse(&text)
                    .map_err(|e| err(e.to_string()))?
                    .into_iter()
                    .map(|(_, e)| e)
                    .collect()
            }
        };
        let outs = writer.submit_now(Principal::Operator, envs)?;
        let refused = outs
            .iter()
            .filter(|o| matches!(o, Outcome::Refused(_)))
            .count();
        eprintln!(
            "ballast serve: genesis {}: {} accepted, {refused} refused (not journaled)",
            path.display(),
            outs.len() - refused
        );
    }
    Ok((writer, shared))
}
