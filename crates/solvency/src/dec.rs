//! `i128` fields as decimal strings in JSON (`"123456789012345678901"`): a JSON number above
//! 2^53 loses digits in most readers, and a proof must round-trip exactly.

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i128, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<i128>()
        .map_err(|_| serde::de::Error::custom(format!("not a decimal integer: {s:?}")))
}
