//! Standard output of every printing command.
//!
//! All commands write through one [`Out`] (line-buffered on a terminal, block-buffered into a
//! pipe or file) with `outln!`, which propagates write errors instead of panicking the way
//! `println!` does. `main` then treats a closed pipe (`ballast stress --json | head -1`) as a
//! clean, quiet exit: [`is_broken_pipe`] finds the `BrokenPipe` anywhere in the error chain,
//! including inside a `serde_json` writer error.

use std::io::{self, BufWriter, IsTerminal, LineWriter, Write};

/// Where a command prints. `dyn` so every printing function takes the same `&mut Out`.
pub type Out = dyn Write;

/// `writeln!` that returns the write error to the caller (`?`) instead of panicking.
macro_rules! outln {
    ($w:expr) => {
        writeln!($w)?
    };
    ($w:expr, $($t:tt)*) => {
        writeln!($w, $($t)*)?
    };
}

/// `write!` that returns the write error to the caller.
macro_rules! out {
    ($w:expr, $($t:tt)*) => {
        write!($w, $($t)*)?
    };
}

/// Standard output: line-buffered when a person is watching, 64 KiB blocks otherwise (a
/// streamed `--json` of millions of rows is one write per block, not per line).
pub fn stdout() -> Box<Out> {
    let s = io::stdout();
    if s.is_terminal() {
        Box::new(LineWriter::new(s))
    } else {
        Box::new(BufWriter::with_capacity(1 << 16, s))
    }
}

/// Whether `e` (or any error it wraps) is a write to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}
