//! WAL checkpoints off the commit path. While the committer runs, SQLite's automatic
//! checkpoint (which copies the WAL into the database file and fsyncs it inside whichever
//! commit crosses the threshold) is turned off, and this thread runs a PASSIVE checkpoint on
//! its own connection every [`EVERY`]: it copies frames that are already durable in the WAL,
//! never blocks the writer, and gives up (until the next round) on any frame a reader still
//! needs (sqlite.org/wal.html, "Checkpointing"; sqlite.org/c3ref/wal_checkpoint_v2.html).
//! Durability is unchanged: a command is acknowledged after its WAL frames are fsynced, and
//! recovery reads the WAL either way.

use crate::error::ServeError;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// How often the checkpoint runs.
pub const EVERY: Duration = Duration::from_millis(250);

/// Checkpoints `db` every [`EVERY`] until `stop`'s sender is dropped (and once more then).
pub fn run(db: PathBuf, fsync: bool, stop: Receiver<()>) -> Result<(), ServeError> {
    let conn = Connection::open(db)?;
    conn.pragma_update(None, "synchronous", if fsync { "FULL" } else { "OFF" })?;
    loop {
        let last = matches!(
            stop.recv_timeout(EVERY),
            Err(RecvTimeoutError::Disconnected)
        );
        // Returns (busy, frames in the WAL, frames checkpointed); busy is not an error here.
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0))?;
        if last {
            return Ok(());
        }
    }
}
