//! JSON output that keeps every integer exact.
//!
//! Ledger values (`Value`, interest indices, …) are `i128`. `serde_json::Value` cannot hold
//! them (`json!` fails with "number out of range"), and a JSON number above 2^53 loses digits
//! in most readers. So the CLI writes its JSON straight from the typed values with
//! [`ExactFormatter`]: **every `i128`/`u128` is written as a decimal string** (`"-1867520460"`),
//! every other integer as a JSON number. A reader gets the exact value back with
//! `s.parse::<i128>()`.

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};
use std::io::{self, Write};

/// serde_json's compact formatter, except that `i128`/`u128` become decimal strings. Inside a
/// string already (an `i128` map key) the digits are written bare, so keys stay well-formed.
#[derive(Debug, Default)]
pub struct ExactFormatter {
    in_string: bool,
}

impl ExactFormatter {
    fn wide<W: ?Sized + Write>(&mut self, w: &mut W, digits: &str) -> io::Result<()> {
        if self.in_string {
            w.write_all(digits.as_bytes())
        } else {
            write!(w, "\"{digits}\"")
        }
    }
}

impl Formatter for ExactFormatter {
    fn write_i128<W: ?Sized + Write>(&mut self, w: &mut W, value: i128) -> io::Result<()> {
        self.wide(w, &value.to_string())
    }

    fn write_u128<W: ?Sized + Write>(&mut self, w: &mut W, value: u128) -> io::Result<()> {
        self.wide(w, &value.to_string())
    }

    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.in_string = true;
        CompactFormatter.begin_string(w)
    }

    fn end_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.in_string = false;
        CompactFormatter.end_string(w)
    }
}

/// Writes `value` as compact JSON with [`ExactFormatter`] (no newline).
pub fn write<W: ?Sized + Write, T: ?Sized + Serialize>(
    w: &mut W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, ExactFormatter::default());
    value.serialize(&mut ser)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Mixed {
        big: i128,
        small: i64,
        keys: BTreeMap<i128, u128>,
    }

    #[test]
    fn wide_integers_are_exact_strings_and_keys_stay_valid() {
        let big = i128::MIN + 7;
        let v = Mixed {
            big,
            small: -3,
            keys: BTreeMap::from([(big, u128::MAX)]),
        };
        let mut buf = Vec::new();
        write(&mut buf, &v).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(back["big"].as_str().unwrap().parse::<i128>().unwrap(), big);
        assert_eq!(back["small"].as_i64(), Some(-3));
        let (k, val) = back["keys"].as_object().unwrap().iter().next().unwrap();
        assert_eq!(k.parse::<i128>().unwrap(), big);
        assert_eq!(val.as_str().unwrap().parse::<u128>().unwrap(), u128::MAX);
    }
}
