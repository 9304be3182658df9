//! Timestamps as exports write them.
//!
//! Accepted: RFC 3339 with an offset or `Z`; naive date-times (`T` or space between date and
//! time, up to nine fractional digits) read in the source's zone; and Unix seconds or
//! milliseconds (told apart by size: any value above 10^11 is taken as milliseconds, which is
//! unambiguous for dates between 1973 and 5138).

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Above this a Unix number is read as milliseconds.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// Parses a timestamp; `zone` is the zone of naive date-times.
pub fn parse_timestamp(text: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the timestamp is empty".to_string());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) || is_decimal_number(text) {
        return parse_unix(text);
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Ok(parsed.with_timezone(&Utc));
    }
    if let Ok(parsed) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Ok(parsed.with_timezone(&Utc));
    }
    let naive = parse_naive(text).ok_or_else(|| {
        format!(
            "'{text}' is not a timestamp (expected RFC 3339, a date-time as \
             'YYYY-MM-DD HH:MM:SS[.fffffffff]', or Unix seconds or milliseconds)"
        )
    })?;
    from_local(naive, zone)
}

fn is_decimal_number(text: &str) -> bool {
    let mut parts = text.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next().unwrap_or("");
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && text.contains('.')
}

fn parse_unix(text: &str) -> Result<DateTime<Utc>, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let value: i64 = whole
        .parse()
        .map_err(|_| format!("'{text}' is too large for a Unix time"))?;
    let parsed = if value > MILLIS_THRESHOLD {
        DateTime::from_timestamp_millis(value)
    } else {
        let nanos = fraction_to_nanos(fraction);
        DateTime::from_timestamp(value, nanos)
    };
    parsed.ok_or_else(|| format!("'{text}' is outside the range of dates"))
}

fn fraction_to_nanos(fraction: &str) -> u32 {
    let digits: String = fraction.chars().take(9).collect();
    format!("{digits:0<9}").parse().unwrap_or(0)
}

fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}

/// Converts a local wall-clock time to UTC. A time that occurs twice (the hour repeated when
/// daylight saving ends) is taken at its first occurrence; one that never occurs (the hour
/// skipped when it begins) is an error, since no call can have been made then.
pub fn from_local(naive: NaiveDateTime, zone: Tz) -> Result<DateTime<Utc>, String> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(time) => Ok(time.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(format!(
            "'{naive}' does not exist in time zone {zone} (skipped by a daylight-saving change)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn rfc3339_with_offset_or_z() {
        assert_eq!(
            parse_timestamp("2026-11-02T09:15:00Z", Tz::UTC).unwrap(),
            utc("2026-11-02T09:15:00Z")
        );
        assert_eq!(
            parse_timestamp("2026-11-02T10:15:00.123+01:00", Tz::UTC).unwrap(),
            utc("2026-11-02T09:15:00.123Z")
        );
    }

    #[test]
    fn naive_with_seven_fractional_digits_in_the_source_zone() {
        let parsed = parse_timestamp("2023-11-16 18:15:46.6805900", Tz::UTC).unwrap();
        assert_eq!(parsed, utc("2023-11-16T18:15:46.68059Z"));
        let berlin = parse_timestamp("2026-11-02 10:00:00", Tz::Europe__Berlin).unwrap();
        assert_eq!(berlin, utc("2026-11-02T09:00:00Z"));
        let nine = parse_timestamp("2026-11-02T10:00:00.123456789", Tz::UTC).unwrap();
        assert_eq!(nine.timestamp_subsec_nanos(), 123_456_789);
    }

    #[test]
    fn unix_seconds_and_milliseconds() {
        assert_eq!(
            parse_timestamp("1793606400", Tz::UTC).unwrap(),
            utc("2026-11-02T08:00:00Z")
        );
        assert_eq!(
            parse_timestamp("1793606400500", Tz::UTC).unwrap(),
            utc("2026-11-02T08:00:00.5Z")
        );
        assert_eq!(
            parse_timestamp("1793606400.25", Tz::UTC).unwrap(),
            utc("2026-11-02T08:00:00.25Z")
        );
    }

    #[test]
    fn daylight_saving_edges() {
        // 02:30 on the last Sunday of March does not exist in Berlin.
        assert!(parse_timestamp("2026-03-29 02:30:00", Tz::Europe__Berlin).is_err());
        // 02:30 on the last Sunday of October happens twice; the first is in summer time.
        let repeated = parse_timestamp("2026-10-25 02:30:00", Tz::Europe__Berlin).unwrap();
        assert_eq!(repeated, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn garbage_is_explained() {
        let error = parse_timestamp("next tuesday", Tz::UTC).unwrap_err();
        assert!(
            error.contains("'next tuesday' is not a timestamp"),
            "{error}"
        );
        assert!(parse_timestamp("", Tz::UTC).is_err());
        assert!(parse_timestamp("99999999999999999999", Tz::UTC).is_err());
    }
}
