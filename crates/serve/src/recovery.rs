//! Start-up: rebuild the engine from the journal database. Load the newest snapshot whose
//! content matches its recorded hash, replay the rows after it, and check the state hash the
//! journal recorded on its last hashed row against the rebuilt one.
//!
//! A torn tail (rows at the end that are partial, altered or out of sequence) was never
//! acknowledged: it is deleted and reported, never fatal. A damaged row followed by good rows
//! is not a torn tail but a damaged journal: the server refuses to start rather than guess.

use crate::error::ServeError;
use crate::store::{row_checksum, Store, StoredRow};
use ballast_engine::state::State;
use ballast_engine::{Engine, Envelope};

/// What recovery found and did.
#[derive(Debug)]
pub struct Recovered {
    pub engine: Engine,
    /// Seq of the snapshot the engine was loaded from (`None`: replayed from the start).
    pub snapshot: Option<i64>,
    /// Rows replayed on top of the snapshot.
    pub replayed: usize,
    /// Rows of a torn tail that were dropped.
    pub dropped: usize,
    /// Seq of the row whose recorded state hash was checked.
    pub hash_checked_at: Option<i64>,
}

/// Why a row is not a valid journal row.
fn row_defect(row: &StoredRow, expected_seq: i64) -> Option<String> {
    if row.seq != expected_seq {
        return Some(format!("seq {} where {expected_seq} was expected", row.seq));
    }
    if row_checksum(row.seq, &row.command, &row.events) != row.checksum {
        return Some("checksum mismatch (partial or altered row)".into());
    }
    None
}

/// Parses the rows; returns the valid prefix, parsed, and the seq where a torn tail starts.
fn valid_prefix(rows: &[StoredRow]) -> Result<(Vec<Envelope>, Option<i64>), ServeError> {
    let mut envs = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let defect = row_defect(row, i as i64 + 1).or_else(|| {
            match serde_json::from_str::<Envelope>(&row.command) {
                Ok(env) => {
                    envs.push(env);
                    None
                }
                Err(e) => Some(format!("unreadable command: {e}")),
            }
        });
        if let Some(reason) = defect {
            // Any intact row after it (whatever its seq: a gap is damage too) means this is
            // not a torn tail.
            let later_valid = rows[i + 1..]
                .iter()
                .any(|r| row_checksum(r.seq, &r.command, &r.events) == r.checksum);
            let misplaced = row.seq != i as i64 + 1
                && row_checksum(row.seq, &row.command, &row.events) == row.checksum;
            if later_valid || misplaced {
                return Err(ServeError::CorruptJournal {
                    seq: row.seq,
                    reason,
                });
            }
            eprintln!(
                "ballast serve: dropping a torn journal tail of {} row(s) from seq {}: {reason}",
                rows.len() - i,
                row.seq
            );
            return Ok((envs, Some(row.seq)));
        }
    }
    Ok((envs, None))
}

/// The newest usable snapshot at or before `max_seq`, as an engine and its seq.
fn load_snapshot(store: &Store, max_seq: i64) -> Result<Option<(Engine, i64)>, ServeError> {
    for snap in store.snapshots(max_seq, 3)? {
        let engine = match serde_json::from_str::<State>(&snap.state) {
            Ok(state) => Engine::from_state(state),
            Err(e) => {
                eprintln!(
                    "ballast serve: snapshot {} unreadable ({e}); trying an older one",
                    snap.seq
                );
                continue;
            }
        };
        if engine.state_hash() == snap.state_hash && engine.state().seq as i64 == snap.seq {
            return Ok(Some((engine, snap.seq)));
        }
        eprintln!(
            "ballast serve: snapshot {} does not match its hash; trying an older one",
            snap.seq
        );
    }
    Ok(None)
}

/// Rebuilds the engine from `store`, dropping a torn tail.
pub fn recover(store: &mut Store) -> Result<Recovered, ServeError> {
    let rows = store.rows_after(0)?;
    let (envs, torn_at) = valid_prefix(&rows)?;
    let dropped = match torn_at {
        Some(seq) => store.drop_from(seq)?,
        None => 0,
    };
    let rows = &rows[..envs.len()];
    let last_seq = rows.last().map_or(0, |r| r.seq);
    let (mut engine, start) = match load_snapshot(store, last_seq)? {
        Some((e, seq)) => (e, Some(seq)),
        None => (Engine::new(), None),
    };
    let from = start.unwrap_or(0);
    let hashed = rows.iter().rev().find(|r| r.state_hash.is_some());
    let check = |engine: &Engine, row: &StoredRow| -> Result<(), ServeError> {
        let rebuilt = engine.state_hash();
        match &row.state_hash {
            Some(stored) if *stored != rebuilt => Err(ServeError::HashMismatch {
                seq: row.seq,
                stored: stored.clone(),
                rebuilt,
            }),
            _ => Ok(()),
        }
    };
    let mut replayed = 0;
    let mut buf = Vec::new();
    for (row, env) in rows.iter().zip(&envs) {
        if row.seq <= from {
            if row.seq == from && hashed.is_some_and(|h| h.seq == row.seq) {
                check(&engine, row)?;
            }
            continue;
        }
        buf.clear();
        engine
            .apply_into(env, &mut buf)
            .map_err(|e| ServeError::ReplayRejected {
                seq: row.seq,
                reason: e.to_string(),
            })?;
        if engine.state().seq as i64 != row.seq {
            return Err(ServeError::CorruptJournal {
                seq: row.seq,
                reason: format!("replay reached engine seq {}", engine.state().seq),
            });
        }
        if hashed.is_some_and(|h| h.seq == row.seq) {
            check(&engine, row)?;
        }
        replayed += 1;
    }
    Ok(Recovered {
        engine,
        snapshot: start,
        replayed,
        dropped,
        hash_checked_at: hashed.map(|h| h.seq),
    })
}
