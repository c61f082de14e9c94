//! The journal: one [`Envelope`] per line, as JSON. Parsing and replay are pure (the caller
//! reads the file), so the same text always yields the same state hash.

use crate::command::Envelope;
use crate::engine::Engine;
use crate::error::Reject;
use crate::event::Event;

/// A journal line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal line {line}: {message}")]
pub struct JournalError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

/// Parses a JSON-lines journal. Blank lines are skipped; any other malformed line is an error
/// naming its line number.
pub fn parse(text: &str) -> Result<Vec<(usize, Envelope)>, JournalError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let env: Envelope = serde_json::from_str(t).map_err(|e| JournalError {
            line: line_no,
            message: e.to_string(),
        })?;
        out.push((line_no, env));
    }
    Ok(out)
}

/// Longest journal line [`lines`] accepts, in bytes (a command is well under 1 KiB; a longer
/// line is refused before it is held, so one line cannot take unbounded memory).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Streams a JSON-lines journal from `reader`, one `(line number, command)` per non-blank line,
/// holding one line at a time (what [`parse`] does for a whole text, without the whole text).
/// A read error, a line over [`MAX_LINE_BYTES`], invalid UTF-8 or a malformed command is an
/// error naming its 1-based line, and ends the stream.
pub fn lines<R: std::io::BufRead>(
    mut reader: R,
) -> impl Iterator<Item = Result<(usize, Envelope), JournalError>> {
    let (mut line_no, mut buf, mut done) = (0usize, Vec::new(), false);
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        line_no += 1;
        let mut fail = |message: String| {
            done = true;
            Some(Err(JournalError {
                line: line_no,
                message,
            }))
        };
        buf.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        match std::io::BufRead::read_until(
            &mut std::io::Read::take(&mut reader, limit),
            b'\n',
            &mut buf,
        ) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return fail(format!("cannot read: {e}")),
        }
        if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            return fail(format!("longer than {MAX_LINE_BYTES} bytes (the cap)"));
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            return fail("not UTF-8".into());
        };
        let t = text.trim();
        if t.is_empty() {
            continue;
        }
        return match serde_json::from_str::<Envelope>(t) {
            Ok(env) => Some(Ok((line_no, env))),
            Err(e) => fail(e.to_string()),
        };
    })
}

/// One journal line for a command.
pub fn to_line(env: &Envelope) -> String {
    serde_json::to_string(env).expect("commands serialize")
}

/// A whole journal as text.
pub fn to_text(envs: &[Envelope]) -> String {
    let mut s = String::new();
    for e in envs {
        s.push_str(&to_line(e));
        s.push('\n');
    }
    s
}

/// What a replay did, line by line.
#[derive(Debug, Default)]
pub struct Replay {
    pub applied: usize,
    /// Commands the engine refused, with their line numbers (a journal may record refusals; they
    /// replay as the same refusals).
    pub rejected: Vec<(usize, Reject)>,
    /// Every event with the line that caused it.
    pub events: Vec<(usize, Event)>,
}

/// Applies every command of a parsed journal to `engine`.
pub fn replay(engine: &mut Engine, journal: &[(usize, Envelope)], keep_events: bool) -> Replay {
    let mut r = Replay::default();
    let mut buf = Vec::new();
    for (line, env) in journal {
        buf.clear();
        match engine.apply_into(env, &mut buf) {
            Ok(()) => {
                r.applied += 1;
                if keep_events {
                    r.events.extend(buf.drain(..).map(|e| (*line, e)));
                }
            }
            Err(e) => r.rejected.push((*line, e)),
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_line_is_named() {
        let text = "{\"time\":0,\"cmd\":{\"type\":\"create_asset\",\"role\":\"governor\",\"symbol\":\"USDC\",\"decimals\":6}}\n\nnot json\n";
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("line 3"));
    }

    #[test]
    fn unknown_command_type_is_an_error() {
        let e = parse("{\"time\":0,\"cmd\":{\"type\":\"teleport\"}}").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("teleport"), "{}", e.message);
    }

    #[test]
    fn streamed_lines_equal_parse() {
        let text = crate::journal::to_text(&crate::demo::journal());
        let text = text.replacen('\n', "\n\n", 3);
        let streamed: Vec<_> = lines(text.as_bytes()).collect::<Result<_, _>>().unwrap();
        assert_eq!(streamed, parse(&text).unwrap());
        let bad = format!("{text}not json\n");
        let e = lines(bad.as_bytes()).find_map(Result::err).unwrap();
        assert_eq!(e, parse(&bad).unwrap_err());
        // Without a final newline, the last line still counts.
        let n = lines(text.trim_end().as_bytes()).count();
        assert_eq!(n, parse(&text).unwrap().len());
    }

    #[test]
    fn an_overlong_line_is_refused_without_holding_it() {
        use std::io::Read;
        let first = to_line(&crate::demo::journal()[0]);
        let long = format!("{first}\n").into_bytes();
        let endless = long.chain(std::io::repeat(b' ').take(10 * MAX_LINE_BYTES as u64));
        let got: Vec<_> = lines(std::io::BufReader::new(endless)).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok());
        let e = got[1].clone().unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("the cap"), "{}", e.message);
        // A line of exactly the cap is read.
        let pad = " ".repeat(MAX_LINE_BYTES - first.len());
        let exact = format!("{first}{pad}\n");
        assert_eq!(lines(exact.as_bytes()).filter(Result::is_ok).count(), 1);
    }
}
