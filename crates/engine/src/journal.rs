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

/// Streams a JSON-lines journal from `reader`, one `(line number, command)` per non-blank line,
/// holding one line at a time (what [`parse`] does for a whole text, without the whole text).
/// A read error or a malformed line is an error naming its 1-based line; the caller decides
/// whether to stop there (`ballast replay` does).
pub fn lines<R: std::io::BufRead>(
    reader: R,
) -> impl Iterator<Item = Result<(usize, Envelope), JournalError>> {
    reader
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line_no = i + 1;
            let err = |message: String| JournalError {
                line: line_no,
                message,
            };
            match line {
                Err(e) => Some(Err(err(format!("cannot read: {e}")))),
                Ok(l) if l.trim().is_empty() => None,
                Ok(l) => Some(
                    serde_json::from_str::<Envelope>(l.trim())
                        .map(|env| (line_no, env))
                        .map_err(|e| err(e.to_string())),
                ),
            }
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
    }
}
