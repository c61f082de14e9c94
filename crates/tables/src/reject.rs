//! The fields of an engine [`Reject`] for Python: its variant name (`kind`), its message and
//! its fields as a `{name: value}` map.
//!
//! `Reject` carries typed fields but no serde form, so the fields are read from its `Debug`
//! form (`InsufficientMargin { account: AccountId(1), kind: Initial, … }`): a top-level split
//! at commas outside brackets. A value that is an integer, or a one-field wrapper of an
//! integer (`AccountId(1)`, `Value(-5)`), becomes that integer; anything else stays its text.

use ballast_engine::error::Reject;

/// A field value: an integer where the text is one, else the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Int(i128),
    Text(String),
}

/// Variant name and fields of a rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub kind: String,
    pub fields: Vec<(String, FieldValue)>,
}

/// Reads the reason of `r`.
pub fn reason(r: &Reject) -> Reason {
    parse(&format!("{r:?}"))
}

/// Parses a `Debug` form: `Name`, `Name(a, b)` or `Name { x: a, y: b }`.
pub fn parse(debug: &str) -> Reason {
    let cut = debug.find([' ', '(', '{']).unwrap_or(debug.len());
    let kind = debug[..cut].to_string();
    let rest = debug[cut..].trim();
    let fields = if let Some(body) = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        split_top(body)
            .into_iter()
            .filter_map(|f| {
                let (k, v) = f.split_once(':')?;
                Some((k.trim().to_string(), value(v.trim())))
            })
            .collect()
    } else if let Some(body) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        split_top(body)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), value(v.trim())))
            .collect()
    } else {
        Vec::new()
    };
    Reason { kind, fields }
}

/// Splits at commas that are not inside brackets or quotes.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut quoted, mut start, mut out) = (0i32, false, 0usize, Vec::new());
    let mut prev = '\0';
    for (i, c) in s.char_indices() {
        match c {
            '"' if prev != '\\' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        prev = c;
    }
    if !s[start..].trim().is_empty() {
        out.push(&s[start..]);
    }
    out
}

/// An integer, a wrapper of one integer, or the text.
fn value(v: &str) -> FieldValue {
    if let Ok(i) = v.parse::<i128>() {
        return FieldValue::Int(i);
    }
    if let Some(open) = v.find('(') {
        let (name, inner) = (&v[..open], &v[open + 1..]);
        if name.chars().all(char::is_alphanumeric) {
            if let Some(Ok(i)) = inner.strip_suffix(')').map(str::parse::<i128>) {
                return FieldValue::Int(i);
            }
        }
    }
    FieldValue::Text(v.trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_tuple_and_unit_variants() {
        let r = parse("InsufficientMargin { account: AccountId(1), kind: Initial, health_after: Value(-5), note: \"a, b\" }");
        assert_eq!(r.kind, "InsufficientMargin");
        assert_eq!(r.fields[0], ("account".into(), FieldValue::Int(1)));
        assert_eq!(
            r.fields[1],
            ("kind".into(), FieldValue::Text("Initial".into()))
        );
        assert_eq!(r.fields[2], ("health_after".into(), FieldValue::Int(-5)));
        assert_eq!(
            r.fields[3],
            ("note".into(), FieldValue::Text("a, b".into()))
        );
        let r = parse("UnknownMarket(MarketId(3))");
        assert_eq!(r.fields, vec![("0".into(), FieldValue::Int(3))]);
        assert!(parse("Overflow").fields.is_empty());
    }
}
