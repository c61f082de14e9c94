//! `ballast export`: the accepted commands of a journal database as JSON lines, the same text
//! `ballast replay` reads, so the replay's state hash equals the server's.

use crate::error::ServeError;
use crate::store::Reader;
use std::io::Write;
use std::path::Path;

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Exported {
    pub lines: usize,
    /// Rows skipped at the end because their checksum did not match (a torn tail).
    pub torn: usize,
}

/// Writes every journaled command of the database in `data` to `out`, one per line, stopping
/// at the first damaged row.
pub fn export(data: &Path, out: &mut dyn Write) -> Result<Exported, ServeError> {
    let reader = Reader::open(data)?;
    let mut after = 0;
    let mut done = Exported::default();
    let werr = |e| crate::error::io("writing the export", Path::new("-"))(e);
    loop {
        let rows = reader.page(after, 10_000)?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for (i, r) in rows.iter().enumerate() {
            if !r.intact {
                done.torn = rows.len() - i;
                return Ok(done);
            }
            writeln!(out, "{}", r.command).map_err(werr)?;
            done.lines += 1;
        }
    }
    out.flush().map_err(werr)?;
    Ok(done)
}

/// The journal of a data directory (or of its `journal.db` file) as JSON-lines text, for
/// `ballast replay`.
pub fn journal_text(path: &Path) -> Result<String, ServeError> {
    let data = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let mut out = Vec::new();
    export(data, &mut out)?;
    Ok(String::from_utf8(out).expect("journal lines are UTF-8"))
}

/// Whether `path` names a journal database (a data directory or a `.db` file) rather than a
/// JSON-lines file.
pub fn is_database(path: &Path) -> bool {
    path.is_dir() || path.extension().is_some_and(|e| e == "db")
}
