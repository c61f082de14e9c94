//! The journal database: SQLite in WAL mode, one row per committed batch of accepted commands
//! (group commit; the layout is [`crate::batch`]), snapshots of the ledger state.
//!
//! Why SQLite and not redb: the journal is also an operations artefact. `sqlite3 journal.db`
//! opens it on any machine, WAL mode gives concurrent readers (the paged event history) without
//! blocking the writer, and `rusqlite`'s `bundled` feature compiles SQLite itself, so a clean
//! clone needs nothing but the Rust toolchain.
//!
//! Durability: `journal_mode=WAL` with `synchronous=FULL` fsyncs the WAL at every commit, and
//! a command is acknowledged only after the commit of the transaction holding its row returns.
//! A torn WAL frame (a crash in the middle of a commit) fails SQLite's frame checksum and is
//! ignored by SQLite's own recovery; each batch row also carries a BLAKE3 checksum of its
//! content, so a row damaged any other way is found by [`crate::recovery`].
//!
//! Format versions: `user_version` 2 is this layout. A version-1 database (one `commands` row
//! per command) is migrated on open, in one transaction, each old row becoming a one-command
//! batch that keeps its recorded hash (a row that failed its old checksum stays damaged).

use crate::batch::{encode, BatchRow};
pub use crate::batch::{NewRow, StoredRow};
use crate::error::{io, ServeError};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};

/// File name of the journal inside the data directory.
pub const DB_FILE: &str = "journal.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (
    first_seq  INTEGER PRIMARY KEY, -- engine sequence number after the batch's first command
    last_seq   INTEGER NOT NULL,    -- ... and after its last (dense: first_seq of the next - 1)
    times      TEXT NOT NULL,       -- the commands' times (ms), comma-separated
    commands   TEXT NOT NULL,       -- the envelopes as journal lines, newline-separated
    events     TEXT NOT NULL,       -- JSON array of each command's events, newline-separated
    state_hash TEXT,                -- state hash after last_seq (NULL only if migrated torn)
    checksum   TEXT NOT NULL        -- BLAKE3 of the seq range, times, commands, events
);
CREATE TABLE IF NOT EXISTS requests (
    scope      TEXT PRIMARY KEY,    -- caller and Idempotency-Key
    digest     TEXT NOT NULL,       -- BLAKE3 of the request's commands
    status     INTEGER NOT NULL,    -- the answer given, replayed to a retry
    body       TEXT NOT NULL,
    seq        INTEGER NOT NULL     -- engine seq when answered
);
CREATE TABLE IF NOT EXISTS snapshots (
    seq        INTEGER PRIMARY KEY, -- the state after the command with this seq
    state      TEXT NOT NULL,       -- ballast_engine::state::State as JSON
    state_hash TEXT NOT NULL
);
PRAGMA user_version = 2;
";

/// The answer to a keyed request, journaled with its commands.
#[derive(Debug, Clone)]
pub struct KeyedAnswer {
    pub scope: String,
    pub digest: String,
    pub status: u16,
    pub body: String,
    pub seq: u64,
}

/// A saved state.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub seq: i64,
    pub state: String,
    pub state_hash: String,
}

/// The write side of the journal (owned by the single writer).
pub struct Store {
    conn: Connection,
    fsync: bool,
}

/// Path of the journal database inside `data`.
pub fn db_path(data: &Path) -> PathBuf {
    data.join(DB_FILE)
}

impl Store {
    /// Opens (creating if needed) the journal in directory `data`; `fsync`: make every commit
    /// durable (`synchronous=FULL`), else leave writes to the OS (`synchronous=OFF`).
    pub fn open(data: &Path, fsync: bool) -> Result<Store, ServeError> {
        std::fs::create_dir_all(data).map_err(io("creating data directory", data))?;
        let conn = Connection::open(db_path(data))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if fsync { "FULL" } else { "OFF" })?;
        // Checkpoint the WAL into the database every ~40 MB instead of every 4 MB: fewer
        // checkpoint stalls inside group commits (recovery reads the WAL either way).
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        conn.pragma_update(None, "cache_size", -65_536)?;
        let v1 = table_exists(&conn, "commands")?;
        conn.execute_batch(SCHEMA)?;
        let mut store = Store { conn, fsync };
        if v1 {
            let n = crate::migrate::from_v1(&mut store.conn)?;
            eprintln!("ballast serve: migrated {n} journal rows to one row per batch (format 2)");
        }
        Ok(store)
    }

    /// Appends accepted commands, the state hash after the last of them and optionally a
    /// snapshot, in one transaction. Returns when the transaction is durable.
    pub fn append(
        &mut self,
        rows: &[NewRow],
        state_hash: &str,
        snapshot: Option<(&str, &str)>,
        keyed: &[KeyedAnswer],
    ) -> Result<(), ServeError> {
        let tx = self.conn.transaction()?;
        {
            let mut key = tx.prepare_cached(
                "INSERT INTO requests (scope, digest, status, body, seq) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for k in keyed {
                key.execute(params![k.scope, k.digest, k.status, k.body, k.seq as i64])?;
            }
            if let Some(b) = encode(rows, state_hash) {
                insert_batch(&tx, &b)?;
            }
            if let (Some((state, hash)), Some(last)) = (snapshot, rows.last()) {
                tx.execute(
                    "INSERT OR REPLACE INTO snapshots (seq, state, state_hash) VALUES (?1, ?2, ?3)",
                    params![last.seq as i64, state, hash],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every journal row after `after`, in order of seq.
    pub fn rows_after(&self, after: i64) -> Result<Vec<StoredRow>, ServeError> {
        read_rows(&self.conn, after, i64::MAX)
    }

    /// At most `limit` journal rows after `after`, in order of seq (recovery's pages).
    pub fn rows_page(&self, after: i64, limit: i64) -> Result<Vec<StoredRow>, ServeError> {
        read_rows(&self.conn, after, limit)
    }

    /// The newest snapshots first (at most `n`), at or before `max_seq`.
    pub fn snapshots(&self, max_seq: i64, n: usize) -> Result<Vec<StoredSnapshot>, ServeError> {
        let mut st = self.conn.prepare(
            "SELECT seq, state, state_hash FROM snapshots WHERE seq <= ?1 ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![max_seq, n as i64], |r| {
            Ok(StoredSnapshot {
                seq: r.get(0)?,
                state: r.get(1)?,
                state_hash: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes rows (and snapshots) from `seq` on: a torn tail found at start-up.
    pub fn drop_from(&mut self, seq: i64) -> Result<usize, ServeError> {
        let tx = self.conn.transaction()?;
        let n: i64 = tx.query_row(
            "SELECT COALESCE(SUM(last_seq - MAX(first_seq, ?1) + 1), 0) FROM batches WHERE last_seq >= ?1",
            params![seq],
            |r| r.get(0),
        )?;
        tx.execute("DELETE FROM batches WHERE first_seq >= ?1", params![seq])?;
        tx.execute("DELETE FROM snapshots WHERE seq >= ?1", params![seq])?;
        tx.execute("DELETE FROM requests WHERE seq >= ?1", params![seq])?;
        tx.commit()?;
        Ok(n as usize)
    }

    /// The journaled answer to a keyed request: (digest, status, body).
    pub fn keyed(&self, scope: &str) -> Result<Option<(String, u16, String)>, ServeError> {
        keyed(&self.conn, scope)
    }

    /// Hands WAL checkpoints to a [`crate::checkpoint`] thread (turning the automatic ones
    /// off); they stop when `stop`'s sender is dropped. Returns the thread.
    pub fn checkpoint_elsewhere(
        &self,
        stop: std::sync::mpsc::Receiver<()>,
    ) -> Result<std::thread::JoinHandle<Result<(), ServeError>>, ServeError> {
        let path = PathBuf::from(self.conn.path().unwrap_or_default());
        let fsync = self.fsync;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        std::thread::Builder::new()
            .name("ballast-checkpoint".into())
            .spawn(move || crate::checkpoint::run(path, fsync, stop))
            .map_err(|e| ServeError::WriterStopped(e.to_string()))
    }

    /// A read-only connection to the same database.
    pub fn reader(&self) -> Result<Reader, ServeError> {
        let path = self
            .conn
            .path()
            .ok_or_else(|| ServeError::WriterStopped("the journal has no path".into()))?;
        Reader::open_file(Path::new(path))
    }

    /// Seq of the newest snapshot.
    pub fn newest_snapshot_seq(&self) -> Result<Option<i64>, ServeError> {
        Ok(self
            .conn
            .query_row("SELECT MAX(seq) FROM snapshots", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .optional()?
            .flatten())
    }
}

/// The journaled answer to the keyed request `scope`: (digest, status, body).
fn keyed(conn: &Connection, scope: &str) -> Result<Option<(String, u16, String)>, ServeError> {
    let mut st =
        conn.prepare_cached("SELECT digest, status, body FROM requests WHERE scope = ?1")?;
    Ok(st
        .query_row(params![scope], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// Whether the database has table `name`.
fn table_exists(conn: &Connection, name: &str) -> Result<bool, ServeError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        params![name],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Inserts one batch row.
pub(crate) fn insert_batch(conn: &Connection, b: &BatchRow) -> Result<(), ServeError> {
    let mut ins = conn.prepare_cached(
        "INSERT INTO batches (first_seq, last_seq, times, commands, events, state_hash, checksum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    ins.execute(params![
        b.first_seq,
        b.last_seq,
        b.times,
        b.commands,
        b.events,
        b.state_hash,
        b.checksum
    ])?;
    Ok(())
}

/// Commands with `after < seq`, at most `limit`, in order (read from the batches holding them;
/// a damaged batch is one record with `intact = false`).
fn read_rows(conn: &Connection, after: i64, limit: i64) -> Result<Vec<StoredRow>, ServeError> {
    let mut st = conn.prepare_cached(
        "SELECT first_seq, last_seq, times, commands, events, state_hash, checksum FROM batches WHERE last_seq > ?1 ORDER BY first_seq",
    )?;
    // Stepped lazily until `limit` commands are out (no SQL LIMIT: a damaged batch that a page
    // starts inside yields nothing, and the batches after it must still be reached).
    let batches = st.query_map(params![after], |r| {
        Ok(BatchRow {
            first_seq: r.get(0)?,
            last_seq: r.get(1)?,
            times: r.get(2)?,
            commands: r.get(3)?,
            events: r.get(4)?,
            state_hash: r.get(5)?,
            checksum: r.get(6)?,
        })
    })?;
    let mut out = Vec::new();
    for b in batches {
        b?.expand_into(after, &mut out);
        if out.len() as i64 >= limit {
            break;
        }
    }
    out.truncate(limit.max(0) as usize);
    Ok(out)
}

/// A read-only connection for queries of the history (WAL: never blocks the writer).
pub struct Reader {
    conn: Connection,
}

impl Reader {
    pub fn open(data: &Path) -> Result<Reader, ServeError> {
        Reader::open_file(&db_path(data))
    }

    /// Opens the database file `file` itself.
    pub fn open_file(file: &Path) -> Result<Reader, ServeError> {
        let conn = Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(Reader { conn })
    }

    /// The journaled answer to a keyed request: (digest, status, body).
    pub fn keyed(&self, scope: &str) -> Result<Option<(String, u16, String)>, ServeError> {
        keyed(&self.conn, scope)
    }

    /// A page of history: rows after `after`, at most `limit`.
    pub fn page(&self, after: i64, limit: i64) -> Result<Vec<StoredRow>, ServeError> {
        read_rows(&self.conn, after, limit)
    }
}
