//! The journal database: SQLite in WAL mode, one row per accepted command, snapshots of the
//! ledger state, committed in batches (group commit).
//!
//! Why SQLite and not redb: the journal is also an operations artefact. `sqlite3 journal.db`
//! opens it on any machine, WAL mode gives concurrent readers (the paged event history) without
//! blocking the writer, and `rusqlite`'s `bundled` feature compiles SQLite itself, so a clean
//! clone needs nothing but the Rust toolchain.
//!
//! Durability: `journal_mode=WAL` with `synchronous=FULL` fsyncs the WAL at every commit, and
//! a command is acknowledged only after the commit of the transaction holding its row returns.
//! A torn WAL frame (a crash in the middle of a commit) fails SQLite's frame checksum and is
//! ignored by SQLite's own recovery; each row also carries a BLAKE3 checksum of its content,
//! so a row damaged any other way is found by [`crate::recovery`].

use crate::error::{io, ServeError};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};

/// File name of the journal inside the data directory.
pub const DB_FILE: &str = "journal.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS commands (
    seq        INTEGER PRIMARY KEY, -- engine sequence number after this command (1, 2, ...)
    time       INTEGER NOT NULL,    -- the command's time (ms)
    command    TEXT NOT NULL,       -- the envelope, exactly as a journal line
    events     TEXT NOT NULL,       -- JSON array of the events it produced
    state_hash TEXT,                -- state hash after it (set on the last row of each batch)
    checksum   TEXT NOT NULL        -- BLAKE3 of seq, command and events (see row_checksum)
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
";

/// One accepted command on its way into the journal.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub seq: u64,
    pub time: i64,
    pub command: String,
    pub events: std::sync::Arc<str>,
}

/// The answer to a keyed request, journaled with its commands.
#[derive(Debug, Clone)]
pub struct KeyedAnswer {
    pub scope: String,
    pub digest: String,
    pub status: u16,
    pub body: String,
    pub seq: u64,
}

/// One journal row as read back.
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub seq: i64,
    pub time: i64,
    pub command: String,
    pub events: String,
    pub state_hash: Option<String>,
    pub checksum: String,
}

/// A saved state.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub seq: i64,
    pub state: String,
    pub state_hash: String,
}

/// Checksum of a row's content: detects a row that is partial or altered.
pub fn row_checksum(seq: i64, command: &str, events: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(&(command.len() as u64).to_le_bytes());
    h.update(command.as_bytes());
    h.update(events.as_bytes());
    h.finalize().to_hex()[..32].to_string()
}

/// The write side of the journal (owned by the single writer).
pub struct Store {
    conn: Connection,
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
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn })
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
            let mut ins = tx.prepare_cached(
                "INSERT INTO commands (seq, time, command, events, state_hash, checksum) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (i, r) in rows.iter().enumerate() {
                let seq = r.seq as i64;
                let hash = (i + 1 == rows.len()).then_some(state_hash);
                let sum = row_checksum(seq, &r.command, &r.events);
                ins.execute(params![seq, r.time, r.command, &*r.events, hash, sum])?;
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
        let n = tx.execute("DELETE FROM commands WHERE seq >= ?1", params![seq])?;
        tx.execute("DELETE FROM snapshots WHERE seq >= ?1", params![seq])?;
        tx.execute("DELETE FROM requests WHERE seq >= ?1", params![seq])?;
        tx.commit()?;
        Ok(n)
    }

    /// The journaled answer to a keyed request: (digest, status, body).
    pub fn keyed(&self, scope: &str) -> Result<Option<(String, u16, String)>, ServeError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT digest, status, body FROM requests WHERE scope = ?1")?;
        Ok(st
            .query_row(params![scope], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?)
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

/// Rows with `after < seq`, at most `limit`, in order.
fn read_rows(conn: &Connection, after: i64, limit: i64) -> Result<Vec<StoredRow>, ServeError> {
    let mut st = conn.prepare_cached(
        "SELECT seq, time, command, events, state_hash, checksum FROM commands WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = st.query_map(params![after, limit], |r| {
        Ok(StoredRow {
            seq: r.get(0)?,
            time: r.get(1)?,
            command: r.get(2)?,
            events: r.get(3)?,
            state_hash: r.get(4)?,
            checksum: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A read-only connection for queries of the history (WAL: never blocks the writer).
pub struct Reader {
    conn: Connection,
}

impl Reader {
    pub fn open(data: &Path) -> Result<Reader, ServeError> {
        let conn = Connection::open_with_flags(
            db_path(data),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(Reader { conn })
    }

    /// A page of history: rows after `after`, at most `limit`.
    pub fn page(&self, after: i64, limit: i64) -> Result<Vec<StoredRow>, ServeError> {
        read_rows(&self.conn, after, limit)
    }
}
