//! Typed refusals over HTTP: every 4xx/5xx body is `{"code", "message", "fields"}`.
//!
//! An engine [`Reject`] keeps its variant as the code (`insufficient_balance`), its `Display`
//! text as the message, and its fields (ids and amounts as numbers) under `fields`, so a client
//! can branch on the code and read the numbers without parsing prose.

use crate::auth::Forbidden;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ballast_engine::Reject;
use serde::Serialize;
use serde_json::{Map, Value};

/// The body of every refusal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable reason, e.g. `insufficient_balance`, `forbidden`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The reason's fields (ids, amounts, limits) by name.
    #[schema(value_type = Object)]
    pub fields: Value,
}

/// A refusal with its HTTP status.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl Refusal {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            body: ErrorBody {
                code: code.into(),
                message: message.into(),
                fields: Value::Object(Map::new()),
            },
        }
    }

    pub fn with_fields(mut self, fields: Value) -> Refusal {
        self.body.fields = fields;
        self
    }

    /// An engine rejection: 403 for a role the engine refuses, 404 for an unknown object, 409
    /// for time going backwards, 422 for every other business rule.
    pub fn from_reject(r: &Reject) -> Refusal {
        if let Reject::Unauthorized {
            principal,
            claimed,
            needs,
            command,
        } = r
        {
            // The engine's role refusal, with its need as typed JSON (not parsed from Debug).
            let fields = serde_json::json!({
                "principal": principal, "claimed": claimed, "needs": needs, "command": command,
            });
            return Refusal::new(StatusCode::FORBIDDEN, "unauthorized", r.to_string())
                .with_fields(fields);
        }
        let debug = format!("{r:?}");
        let (code, fields) = parse_debug(&debug);
        let status = match r {
            Reject::TimeWentBackwards { .. } => StatusCode::CONFLICT,
            _ if code.starts_with("unknown_") => StatusCode::NOT_FOUND,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Refusal::new(status, &code, r.to_string()).with_fields(fields)
    }

    /// A principal acting outside its role.
    pub fn forbidden(f: &Forbidden) -> Refusal {
        let mut fields = serde_json::json!({ "principal": f.principal, "command": f.command });
        match f.cause {
            crate::auth::Denial::Needs(n) => fields["needs"] = serde_json::json!(n),
            crate::auth::Denial::SignsAs(p) => fields["signs_as"] = serde_json::json!(p),
        }
        Refusal::new(StatusCode::FORBIDDEN, "forbidden", f.cause.to_string()).with_fields(fields)
    }

    /// The journal cannot be written: nothing was acknowledged.
    pub fn unavailable(message: impl Into<String>) -> Refusal {
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "journal_unavailable",
            message,
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

/// `CamelCase` → `snake_case`.
fn snake(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

/// Splits `text` at top-level commas (outside brackets and quotes).
fn split_top(text: &str) -> Vec<&str> {
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => quoted = !quoted,
            b'(' | b'{' | b'[' if !quoted => depth += 1,
            b')' | b'}' | b']' if !quoted => depth -= 1,
            b',' if !quoted && depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

/// A field value from its `Debug` form: numbers (also inside an id or amount newtype such as
/// `AccountId(3)`) become JSON numbers, quoted strings strings, anything else its text.
fn debug_value(v: &str) -> Value {
    let inner = match (v.find('('), v.ends_with(')')) {
        (Some(open), true) if v[..open].chars().all(|c| c.is_ascii_alphanumeric()) => {
            &v[open + 1..v.len() - 1]
        }
        _ => v,
    };
    if let Ok(n) = inner.parse::<i64>() {
        return Value::from(n);
    }
    if let Ok(n) = inner.parse::<i128>() {
        return Value::String(n.to_string());
    }
    if inner.len() >= 2 && inner.starts_with('"') && inner.ends_with('"') {
        return Value::String(inner[1..inner.len() - 1].to_string());
    }
    Value::String(v.to_string())
}

/// Code and fields from a `Debug` rendering such as `InsufficientBalance { account:
/// AccountId(1), .. }` or `UnknownAccount(AccountId(7))`.
pub fn parse_debug(debug: &str) -> (String, Value) {
    let name_end = debug
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(debug.len());
    let code = snake(&debug[..name_end]);
    let rest = debug[name_end..].trim();
    let mut fields = Map::new();
    if let Some(body) = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        for part in split_top(body) {
            if let Some((k, v)) = part.split_once(':') {
                fields.insert(k.trim().to_string(), debug_value(v.trim()));
            }
        }
    } else if let Some(body) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        for (i, part) in split_top(body).into_iter().enumerate() {
            fields.insert(i.to_string(), debug_value(part));
        }
    }
    (code, Value::Object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast_engine::ids::{AccountId, AssetId};
    use ballast_engine::num::Amount;

    #[test]
    fn struct_reject_keeps_code_and_numbers() {
        let r = Reject::InsufficientBalance {
            account: AccountId(3),
            asset: AssetId(0),
            have: Amount(5),
            want: Amount(10),
        };
        let f = Refusal::from_reject(&r);
        assert_eq!(f.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(f.body.code, "insufficient_balance");
        assert_eq!(
            f.body.fields,
            serde_json::json!({"account": 3, "asset": 0, "have": 5, "want": 10})
        );
    }

    #[test]
    fn tuple_reject_and_status() {
        let f = Refusal::from_reject(&Reject::UnknownAccount(AccountId(7)));
        assert_eq!(f.status, StatusCode::NOT_FOUND);
        assert_eq!(f.body.code, "unknown_account");
        assert_eq!(f.body.fields, serde_json::json!({"0": 7}));
    }
}
