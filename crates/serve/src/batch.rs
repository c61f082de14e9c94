//! The journal's row layout: one row per committed batch (group commit), holding the batch's
//! commands and events as newline-separated text, with the seq range it covers. A batch row is
//! still read back command by command ([`StoredRow`]), so recovery, the history endpoint and
//! the export see one record per seq.
//!
//! One row per batch rather than one per command: a group commit of 2,000 commands is then one
//! B-tree insert and one checksum instead of 2,000, the same idea as a log-structured journal's
//! multi-record entries (TigerBeetle's prepares carry a batch of events under one checksum:
//! docs.tigerbeetle.com, "Data file" / "Journal"). Journal lines and event arrays are compact
//! JSON, which never holds a raw newline, so `\n` separates them unambiguously.
//!
//! A torn or altered batch fails its checksum and is read back as ONE record at its first seq
//! with `intact = false`: recovery then drops it whole (a torn tail: none of it was
//! acknowledged, since a batch is answered only after its commit) or refuses to start (good
//! rows follow).

use std::fmt::Write;

/// One accepted command on its way into the journal.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub seq: u64,
    pub time: i64,
    pub command: String,
    pub events: std::sync::Arc<str>,
}

/// One journaled command as read back (or a damaged batch, `intact = false`, at its first seq).
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub seq: i64,
    pub time: i64,
    pub command: String,
    pub events: String,
    /// The state hash after this command (recorded on the last command of each batch).
    pub state_hash: Option<String>,
    /// The batch holding it passed its checksum and its shape matched its seq range.
    pub intact: bool,
}

/// A batch row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub first_seq: i64,
    pub last_seq: i64,
    /// The commands' times (ms), comma-separated.
    pub times: String,
    /// Journal lines, `\n`-separated.
    pub commands: String,
    /// Event arrays (JSON), `\n`-separated.
    pub events: String,
    pub state_hash: Option<String>,
    pub checksum: String,
}

/// Checksum of a batch's content (not its recorded hash, which recovery checks by replay):
/// detects a row that is partial or altered.
pub fn batch_checksum(first_seq: i64, last_seq: i64, parts: [&str; 3]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(&first_seq.to_le_bytes());
    h.update(&last_seq.to_le_bytes());
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().to_hex()[..32].to_string()
}

/// The batch row for `rows` (consecutive seqs, at least one) ending in `state_hash`.
pub fn encode(rows: &[NewRow], state_hash: &str) -> Option<BatchRow> {
    let (first, last) = (rows.first()?, rows.last()?);
    let bytes: usize = rows
        .iter()
        .map(|r| r.command.len() + r.events.len() + 2)
        .sum();
    let (mut times, mut commands, mut events) = (
        String::with_capacity(rows.len() * 14),
        String::with_capacity(bytes),
        String::with_capacity(bytes),
    );
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            times.push(',');
            commands.push('\n');
            events.push('\n');
        }
        let _ = write!(times, "{}", r.time);
        commands.push_str(&r.command);
        events.push_str(&r.events);
    }
    let (first_seq, last_seq) = (first.seq as i64, last.seq as i64);
    let checksum = batch_checksum(first_seq, last_seq, [&times, &commands, &events]);
    Some(BatchRow {
        first_seq,
        last_seq,
        times,
        commands,
        events,
        state_hash: Some(state_hash.to_string()),
        checksum,
    })
}

impl BatchRow {
    /// Whether the checksum holds over the content.
    pub fn checksum_holds(&self) -> bool {
        let parts = [&*self.times, &*self.commands, &*self.events];
        batch_checksum(self.first_seq, self.last_seq, parts) == self.checksum
    }

    /// The batch's commands with seq > `after`, appended to `out`; a damaged batch (checksum,
    /// or a shape that disagrees with its seq range) as one record with `intact = false`.
    pub fn expand_into(&self, after: i64, out: &mut Vec<StoredRow>) {
        let n = self.last_seq - self.first_seq + 1;
        let times: Vec<i64> = self
            .times
            .split(',')
            .filter_map(|t| t.parse().ok())
            .collect();
        let commands: Vec<&str> = self.commands.split('\n').collect();
        let events: Vec<&str> = self.events.split('\n').collect();
        let shape_ok = n >= 1 && [times.len(), commands.len(), events.len()] == [n as usize; 3];
        if !shape_ok || !self.checksum_holds() {
            // At its first seq; a page starting inside it (only possible if its range was
            // altered) passes over it to the rows after, which decide torn tail or damage.
            if self.first_seq <= after {
                return;
            }
            out.push(StoredRow {
                seq: self.first_seq,
                time: 0,
                command: String::new(),
                events: "[]".into(),
                state_hash: None,
                intact: false,
            });
            return;
        }
        for (i, ((t, c), e)) in times.iter().zip(&commands).zip(&events).enumerate() {
            let seq = self.first_seq + i as i64;
            if seq <= after {
                continue;
            }
            out.push(StoredRow {
                seq,
                time: *t,
                command: (*c).to_string(),
                events: (*e).to_string(),
                state_hash: (seq == self.last_seq)
                    .then(|| self.state_hash.clone())
                    .flatten(),
                intact: true,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<NewRow> {
        (5..8)
            .map(|s| NewRow {
                seq: s,
                time: 100 + s as i64,
                command: format!("{{\"time\":{},\"cmd\":{{}}}}", 100 + s),
                events: format!("[{s}]").into(),
            })
            .collect()
    }

    #[test]
    fn a_batch_reads_back_command_by_command() {
        let b = encode(&rows(), "h").unwrap();
        let mut out = Vec::new();
        b.expand_into(5, &mut out);
        let seqs: Vec<_> = out
            .iter()
            .map(|r| (r.seq, r.time, r.events.clone()))
            .collect();
        assert_eq!(seqs, vec![(6, 106, "[6]".into()), (7, 107, "[7]".into())]);
        assert_eq!(out[0].command, rows()[1].command);
        assert_eq!(out[1].state_hash.as_deref(), Some("h"));
        assert!(out[0].state_hash.is_none() && out.iter().all(|r| r.intact));
    }

    #[test]
    fn an_altered_or_cut_batch_is_one_damaged_record() {
        let good = encode(&rows(), "h").unwrap();
        let mut cut = good.clone();
        cut.commands.truncate(cut.commands.len() / 2);
        let mut lied = good.clone();
        lied.last_seq += 1;
        for bad in [cut, lied] {
            let mut out = Vec::new();
            bad.expand_into(0, &mut out);
            assert_eq!(out.len(), 1);
            assert!(!out[0].intact);
            assert_eq!(out[0].seq, 5);
        }
    }
}
