//! Start-up: rebuild the engine from the journal database. Load the newest snapshot whose
//! content matches its recorded hash, replay the rows after it, and check the state hash the
//! journal recorded on its last hashed row against the rebuilt one.
//!
//! The journal is read a command at a time ([`StoredRow`]) although it is stored a batch per
//! row: a damaged batch reads as one non-intact record at its first seq, so it is dropped or
//! refused whole.
//!
//! A torn tail (rows at the end that are partial, altered or out of sequence) was never
//! acknowledged: it is deleted and reported, never fatal. A damaged row followed by good rows
//! is not a torn tail but a damaged journal: the server refuses to start rather than guess.

use crate::error::ServeError;
use crate::store::{Store, StoredRow};
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
    if !row.intact {
        return Some("checksum mismatch (partial or altered batch row)".into());
    }
    None
}

/// Rows read per page at start-up: recovery holds one page of the journal at a time, never all
/// of it.
pub const PAGE_ROWS: i64 = 10_000;

/// What the validation pass found: the last row of the valid prefix, the last row in it that
/// records a state hash, and where a torn tail starts.
#[derive(Debug, Default)]
struct Scan {
    last_seq: i64,
    hashed: Option<(i64, String)>,
    torn_at: Option<i64>,
}

fn intact(r: &StoredRow) -> bool {
    r.intact
}

/// Why `row` (expected at `expected_seq`) is not a valid journal row, parse included.
fn defect(row: &StoredRow, expected_seq: i64) -> Option<String> {
    row_defect(row, expected_seq).or_else(|| {
        serde_json::from_str::<Envelope>(&row.command)
            .err()
            .map(|e| format!("unreadable command: {e}"))
    })
}

/// After a defect at `row`: an intact row later on (or a misplaced intact one) means damage,
/// not a torn tail. Reads the rest of the journal page by page.
fn damage_after(
    store: &Store,
    (row, expected_seq): (&StoredRow, i64),
    rest: &[StoredRow],
    page_rows: i64,
) -> Result<bool, ServeError> {
    if (row.seq != expected_seq && intact(row)) || rest.iter().any(intact) {
        return Ok(true);
    }
    let mut after = rest.last().map_or(row.seq, |r| r.seq);
    loop {
        let page = store.rows_page(after, page_rows)?;
        let Some(last) = page.last() else {
            return Ok(false);
        };
        if page.iter().any(intact) {
            return Ok(true);
        }
        after = last.seq;
    }
}

/// Validation pass over the whole journal, one page at a time.
fn scan(store: &Store, page_rows: i64) -> Result<Scan, ServeError> {
    let mut out = Scan::default();
    loop {
        let page = store.rows_page(out.last_seq, page_rows)?;
        if page.is_empty() {
            return Ok(out);
        }
        for (i, row) in page.iter().enumerate() {
            let expected = out.last_seq + 1;
            if let Some(reason) = defect(row, expected) {
                if damage_after(store, (row, expected), &page[i + 1..], page_rows)? {
                    return Err(ServeError::CorruptJournal {
                        seq: row.seq,
                        reason,
                    });
                }
                eprintln!(
                    "ballast serve: dropping a torn journal tail from seq {}: {reason}",
                    row.seq
                );
                out.torn_at = Some(row.seq);
                return Ok(out);
            }
            out.last_seq = row.seq;
            if let Some(h) = &row.state_hash {
                out.hashed = Some((row.seq, h.clone()));
            }
        }
    }
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

/// The rebuilt hash must equal the one recorded at `seq`.
fn check_hash(engine: &Engine, seq: i64, stored: &str) -> Result<(), ServeError> {
    let rebuilt = engine.state_hash();
    if rebuilt != stored {
        return Err(ServeError::HashMismatch {
            seq,
            stored: stored.to_string(),
            rebuilt,
        });
    }
    Ok(())
}

/// Applies the rows after `from` up to `last_seq`, a page at a time, checking the recorded
/// hash where the scan found it. Returns the number replayed.
fn replay(
    store: &Store,
    engine: &mut Engine,
    (from, page_rows): (i64, i64),
    scan: &Scan,
) -> Result<usize, ServeError> {
    let (mut after, mut replayed, mut buf) = (from, 0, Vec::new());
    while after < scan.last_seq {
        let page = store.rows_page(after, page_rows.min(scan.last_seq - after))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for row in &page {
            let env: Envelope =
                serde_json::from_str(&row.command).map_err(|e| ServeError::CorruptJournal {
                    seq: row.seq,
                    reason: format!("unreadable command: {e}"),
                })?;
            buf.clear();
            engine
                .apply_into(&env, &mut buf)
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
            if let Some((seq, h)) = scan.hashed.as_ref().filter(|(s, _)| *s == row.seq) {
                check_hash(engine, *seq, h)?;
            }
            replayed += 1;
        }
    }
    Ok(replayed)
}

/// Rebuilds the engine from `store`, dropping a torn tail. Memory: one page of rows and the
/// state, whatever the journal's length.
pub fn recover(store: &mut Store) -> Result<Recovered, ServeError> {
    recover_paged(store, PAGE_ROWS)
}

/// [`recover`] reading `page_rows` rows at a time (≥ 1).
pub fn recover_paged(store: &mut Store, page_rows: i64) -> Result<Recovered, ServeError> {
    let scan = scan(store, page_rows.max(1))?;
    let dropped = match scan.torn_at {
        Some(seq) => store.drop_from(seq)?,
        None => 0,
    };
    let (mut engine, start) = match load_snapshot(store, scan.last_seq)? {
        Some((e, seq)) => (e, Some(seq)),
        None => (Engine::new(), None),
    };
    let from = start.unwrap_or(0);
    // A hash recorded at the snapshot's own row is checked against the loaded state.
    if let Some((seq, h)) = scan.hashed.as_ref().filter(|(s, _)| *s == from && from > 0) {
        check_hash(&engine, *seq, h)?;
    }
    let replayed = replay(store, &mut engine, (from, page_rows.max(1)), &scan)?;
    Ok(Recovered {
        engine,
        snapshot: start,
        replayed,
        dropped,
        hash_checked_at: scan.hashed.as_ref().map(|h| h.0),
    })
}
