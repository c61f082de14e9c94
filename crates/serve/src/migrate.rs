//! Migration of a format-1 journal (one `commands` row per command) to format 2 (one row per
//! batch, [`crate::batch`]). Each old row becomes a one-command batch with its recorded state
//! hash, so recovery checks exactly what it checked before; a row that fails its old checksum
//! becomes a batch that fails the new one, so a torn tail is still dropped and a damaged middle
//! row still refuses to start. Runs in one transaction with the table's removal: a crash
//! during it leaves the old format, and the next start migrates again.

use crate::batch::{batch_checksum, BatchRow};
use crate::error::ServeError;
use crate::store::insert_batch;
use rusqlite::Connection;

/// The format-1 row checksum: BLAKE3 of seq, command and events.
pub fn v1_checksum(seq: i64, command: &str, events: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(&(command.len() as u64).to_le_bytes());
    h.update(command.as_bytes());
    h.update(events.as_bytes());
    h.finalize().to_hex()[..32].to_string()
}

/// One format-1 row as a format-2 batch.
fn as_batch(
    (seq, time, command, events): (i64, i64, String, String),
    state_hash: Option<String>,
    old_sum: &str,
) -> BatchRow {
    let times = time.to_string();
    let intact = v1_checksum(seq, &command, &events) == old_sum;
    let checksum = if intact {
        batch_checksum(seq, seq, [&times, &command, &events])
    } else {
        "damaged in format 1".into()
    };
    BatchRow {
        first_seq: seq,
        last_seq: seq,
        times,
        commands: command,
        events,
        state_hash,
        checksum,
    }
}

/// Moves every `commands` row into `batches` and drops `commands`. Returns the rows moved.
pub fn from_v1(conn: &mut Connection) -> Result<usize, ServeError> {
    let tx = conn.transaction()?;
    let mut n = 0;
    {
        let mut st = tx.prepare(
            "SELECT seq, time, command, events, state_hash, checksum FROM commands ORDER BY seq",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let sum: String = r.get(5)?;
            let b = as_batch(
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                r.get(4)?,
                &sum,
            );
            insert_batch(&tx, &b)?;
            n += 1;
        }
    }
    tx.execute_batch("DROP TABLE commands;")?;
    tx.commit()?;
    Ok(n)
}
