//! RFC 3339 UTC times as the contract wants them (`2026-04-22T10:00:30Z`), from and to
//! milliseconds since the epoch, which is what the database and the clock use.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Formats with second precision; out-of-range values clamp to the epoch rather than fail,
/// because every time the server formats comes from its own clock.
pub fn format_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// Parses any RFC 3339 time (any offset, optional fraction) to UTC milliseconds.
pub fn parse_ms(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).ok()
}

pub const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_whole_seconds() {
        let s = format_ms(1_776_852_030_000);
        assert_eq!(s, "2026-04-22T10:00:30Z");
        assert_eq!(parse_ms(&s), Some(1_776_852_030_000));
        assert_eq!(
            parse_ms("2026-04-22T12:00:30+02:00"),
            Some(1_776_852_030_000)
        );
        assert_eq!(parse_ms("yesterday"), None);
    }
}
