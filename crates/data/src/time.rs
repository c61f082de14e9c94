//! UTC time helpers without a clock or a time-zone database: epoch milliseconds ↔ ISO-8601, and
//! bar intervals such as `1m`, `1h`, `1d`.

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC), appending `.mmm` only when the
/// milliseconds are not zero. Pure integer arithmetic (civil-from-days, H. Hinnant's algorithm).
pub fn format_utc_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{milli:03}Z")
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses a bar interval `<n><unit>` with unit `s`, `m`, `h`, `d` or `w` into milliseconds.
/// Returns `None` for anything else (including zero).
pub fn parse_interval_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let unit_ms = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 604_800_000,
        _ => return None,
    };
    (n > 0).then(|| n.checked_mul(unit_ms)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc_ms(1_583_798_400_000), "2020-03-10T00:00:00Z");
        assert_eq!(format_utc_ms(1_651_708_860_000), "2022-05-05T00:01:00Z");
        assert_eq!(format_utc_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(format_utc_ms(-1_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_intervals() {
        assert_eq!(parse_interval_ms("1m"), Some(60_000));
        assert_eq!(parse_interval_ms("1h"), Some(3_600_000));
        assert_eq!(parse_interval_ms("1d"), Some(86_400_000));
        assert_eq!(parse_interval_ms("15m"), Some(900_000));
        assert_eq!(parse_interval_ms("0h"), None);
        assert_eq!(parse_interval_ms("h"), None);
        assert_eq!(parse_interval_ms("1y"), None);
        assert_eq!(parse_interval_ms(""), None);
    }
}
