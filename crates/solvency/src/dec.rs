//! Exact decimals. `i128` fields are decimal strings in JSON (`"123456789012345678901"`): a
//! JSON number above 2^53 loses digits in most readers, and a proof must round-trip exactly.
//! [`human`] writes native units as whole tokens, exactly.

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i128, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<i128>()
        .map_err(|_| serde::de::Error::custom(format!("not a decimal integer: {s:?}")))
}

/// `v` native units as an exact decimal with `decimals` places.
pub fn human(v: i128, decimals: u8) -> String {
    let scale = 10u128.pow(u32::from(decimals));
    let sign = if v < 0 { "-" } else { "" };
    let m = v.unsigned_abs();
    if decimals == 0 {
        return format!("{sign}{m}");
    }
    let frac = format!("{:0width$}", m % scale, width = decimals as usize);
    format!("{sign}{}.{frac}", m / scale)
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_is_exact() {
        assert_eq!(super::human(1_500_000, 6), "1.500000");
        assert_eq!(super::human(-7, 2), "-0.07");
        assert_eq!(super::human(i128::MIN, 0), i128::MIN.to_string());
        assert_eq!(super::human(42, 0), "42");
    }
}
