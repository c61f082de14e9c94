//! A reader that refuses over-long lines while bytes stream through it, so that a CSV with a
//! megabyte-long cell fails before the CSV parser buffers the whole record.

use std::io::{self, Read};

/// Longest line of a price CSV, in bytes (a bar is about 100).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The error [`LineCap`] raises (inside an `io::Error` of kind `InvalidData`).
#[derive(Debug, thiserror::Error)]
#[error("a line is longer than {MAX_LINE_BYTES} bytes (the cap)")]
pub(crate) struct LineTooLong;

/// Passes bytes through, tracking the length of the current line.
pub(crate) struct LineCap<R> {
    inner: R,
    run: usize,
}

impl<R> LineCap<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, run: 0 }
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut segments = buf[..n].split(|&b| b == b'\n');
        // The first segment continues the current line; each later one starts a new line.
        let mut run = self.run + segments.next().map_or(0, <[u8]>::len);
        for s in segments {
            if run > MAX_LINE_BYTES {
                break;
            }
            run = s.len();
        }
        if run > MAX_LINE_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, LineTooLong));
        }
        self.run = run;
        Ok(n)
    }
}

/// Whether `e` is the error of a [`LineCap`].
pub(crate) fn is_line_too_long(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<LineTooLong>())
}
