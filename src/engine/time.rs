//! Timestamp parsing without a date crate: the engine only needs RFC 3339 (row timestamps,
//! PROTOCOL §2) and the HTTP date of `Retry-After` (IMF-fixdate, RFC 9110 §5.6.7), both as
//! milliseconds since the Unix epoch. Keeping this in-house keeps the wasm small.
//!
//! Every function returns `None` on anything it does not understand; callers decide what
//! an unknown time means (stale, retry with backoff, …). Nothing here can panic.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Parses exactly `n` ASCII digits at the start of `s`.
fn digits(s: &[u8], n: usize) -> Option<u32> {
    let part = s.get(..n)?;
    part.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Epoch milliseconds of a validated calendar date and time of day.
fn epoch_ms(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<i64> {
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        // 60 admits a leap second; it is folded into the next minute.
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second);
    secs.checked_mul(1_000)
}

/// RFC 3339 date-time (`2026-01-01T08:30:00Z`, `…T08:30:00.123+02:00`) → epoch ms.
/// Fractions finer than a millisecond are truncated.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let year = i64::from(digits(b, 4)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b.get(5..)?, 2)?;
    let day = digits(b.get(8..)?, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let hour = digits(b.get(11..)?, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let minute = digits(b.get(14..)?, 2)?;
    let second = digits(b.get(17..)?, 2)?;
    let mut rest = b.get(19..)?;
    let mut millis = 0i64;
    if rest.first() == Some(&b'.') {
        let frac_len = rest
            .get(1..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if frac_len == 0 {
            return None;
        }
        for (i, c) in rest.get(1..=frac_len)?.iter().take(3).enumerate() {
            millis += i64::from(c - b'0') * [100, 10, 1].get(i).copied().unwrap_or(0);
        }
        rest = rest.get(1 + frac_len..)?;
    }
    let offset_min: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = i64::from(digits(&[*h1, *h2], 2)?);
            let m = i64::from(digits(&[*m1, *m2], 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    let local = epoch_ms(year, month, day, hour, minute, second)?;
    local.checked_add(millis)?.checked_sub(offset_min * 60_000)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) → epoch ms. The weekday must be one of the
/// seven names but is not cross-checked against the date, as RFC 9110 recipients may do.
pub fn parse_http_date_ms(s: &str) -> Option<i64> {
    let mut parts = s.trim().split(' ');
    let weekday = parts.next()?.strip_suffix(',')?;
    if !WEEKDAYS.contains(&weekday) {
        return None;
    }
    let day_s = parts.next()?;
    let month_s = parts.next()?;
    let year_s = parts.next()?;
    let time_s = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if day_s.len() != 2 || year_s.len() != 4 || time_s.len() != 8 {
        return None;
    }
    let day = digits(day_s.as_bytes(), 2)?;
    let month = MONTHS.iter().position(|m| *m == month_s)?;
    let month = u32::try_from(month).ok()? + 1;
    let year = i64::from(digits(year_s.as_bytes(), 4)?);
    let t = time_s.as_bytes();
    if t.get(2) != Some(&b':') || t.get(5) != Some(&b':') {
        return None;
    }
    let hour = digits(t, 2)?;
    let minute = digits(t.get(3..)?, 2)?;
    let second = digits(t.get(6..)?, 2)?;
    epoch_ms(year, month, day, hour, minute, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_forms() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2026-01-01T00:00:00Z"),
            Some(1_767_225_600_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-01-01T02:00:00.5+02:00"),
            Some(1_767_225_600_500)
        );
        assert_eq!(
            parse_rfc3339_ms("2025-12-31T23:59:59.999999-00:30"),
            Some(1_767_225_600_000 + 30 * 60_000 - 1)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T12:00:00z"),
            Some(1_709_208_000_000)
        );
        for bad in [
            "",
            "2026-01-01",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0200",
            "2026-01-01T00:00:00Zjunk",
            "２０２６-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date_ms("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_http_date_ms("Thu, 01 Jan 2026 00:00:00 GMT"),
            Some(1_767_225_600_000)
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "120",
        ] {
            assert_eq!(parse_http_date_ms(bad), None, "{bad}");
        }
    }
}
