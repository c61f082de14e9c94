//! UTC time helpers without a clock or a time-zone database: epoch milliseconds ↔ ISO-8601
//! (RFC 3339 and the `YYYY-MM-DD HH:MM:SS` form people write in spreadsheets), and bar intervals
//! such as `1m`, `1h`, `1d`.

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

/// (year, month, day) in the proleptic Gregorian calendar → days since 1970-01-01 (H. Hinnant's
/// days-from-civil, the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `n` ASCII digits at the start of `s` as a number, and the rest.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

/// Strips one expected separator byte.
fn sep(s: &str, c: u8) -> Option<&str> {
    (s.as_bytes().first() == Some(&c)).then(|| &s[1..])
}

/// Parses a UTC timestamp into epoch milliseconds. Accepted forms:
/// - RFC 3339: `2020-03-12T00:00:00Z`, with optional fractional seconds (`.123`, up to
///   millisecond precision: more digits must be zeros) and a `Z` or `±HH:MM` offset; the date
///   and time may be separated by `T`, `t` or a space (RFC 3339 §5.6 note);
/// - `YYYY-MM-DD HH:MM:SS` (optionally with fractional seconds) without a zone, read as UTC.
///
/// Returns `None` for anything else, including impossible dates (2021-02-29), hours past 23 and
/// leap seconds (`:60`).
pub fn parse_utc_ms(s: &str) -> Option<i64> {
    let (y, r) = digits(s, 4)?;
    let (mo, r) = digits(sep(r, b'-')?, 2)?;
    let (d, r) = digits(sep(r, b'-')?, 2)?;
    let r = match r.as_bytes().first()? {
        b'T' | b't' | b' ' => &r[1..],
        _ => return None,
    };
    let (hh, r) = digits(r, 2)?;
    let (mi, r) = digits(sep(r, b':')?, 2)?;
    let (ss, mut r) = digits(sep(r, b':')?, 2)?;
    let y = i64::from(y);
    if !(1..=12).contains(&mo)
        || d == 0
        || d > days_in_month(y, mo)
        || hh > 23
        || mi > 59
        || ss > 59
    {
        return None;
    }
    let mut milli = 0i64;
    if let Some(frac) = sep(r, b'.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let (f, rest) = frac.split_at(n);
        if f.len() > 3 && !f[3..].bytes().all(|b| b == b'0') {
            return None;
        }
        let f3: String = f.chars().chain("000".chars()).take(3).collect();
        milli = f3.parse().ok()?;
        r = rest;
    }
    let offset_min = match r.as_bytes() {
        [] => 0,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] => {
            let (oh, rest) = digits(&r[1..], 2)?;
            let (om, rest) = digits(sep(rest, b':')?, 2)?;
            if !rest.is_empty() || oh > 23 || om > 59 {
                return None;
            }
            let m = i64::from(oh * 60 + om);
            if *sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    let secs =
        days_from_civil(y, mo, d) * 86_400 + i64::from(hh * 3600 + mi * 60 + ss) - offset_min * 60;
    Some(secs * 1000 + milli)
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
    fn parses_rfc3339_and_spreadsheet_timestamps() {
        let t = 1_583_971_200_000; // 2020-03-12T00:00:00Z
        for s in [
            "2020-03-12T00:00:00Z",
            "2020-03-12t00:00:00z",
            "2020-03-12 00:00:00",
            "2020-03-12 00:00:00Z",
            "2020-03-12T00:00:00.000Z",
            "2020-03-12T00:00:00+00:00",
            "2020-03-12T01:30:00+01:30",
            "2020-03-11T19:00:00-05:00",
        ] {
            assert_eq!(parse_utc_ms(s), Some(t), "{s}");
        }
        assert_eq!(parse_utc_ms("2020-03-12 00:00:00.123"), Some(t + 123));
        assert_eq!(parse_utc_ms("2020-03-12T00:00:00.5Z"), Some(t + 500));
        assert_eq!(parse_utc_ms("2000-02-29 00:00:00"), Some(951_782_400_000));
        assert_eq!(parse_utc_ms("1969-12-31 23:59:59"), Some(-1_000));
        for bad in [
            "2021-02-29 00:00:00",
            "2020-13-01 00:00:00",
            "2020-03-12 24:00:00",
            "2020-03-12 00:00:60",
            "2020-03-12 00:00",
            "2020-03-12",
            "2020/03/12 00:00:00",
            "2020-03-12T00:00:00.1234Z",
            "2020-03-12T00:00:00+0100",
            "2020-03-12T00:00:00 UTC",
            "12-03-2020 00:00:00",
            "",
        ] {
            assert_eq!(parse_utc_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn parsing_inverts_formatting() {
        for ms in [
            0,
            1,
            -1_000,
            951_782_400_123,
            4_102_444_800_000,
            -62_135_596_800_000,
        ] {
            assert_eq!(parse_utc_ms(&format_utc_ms(ms)), Some(ms), "{ms}");
        }
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
