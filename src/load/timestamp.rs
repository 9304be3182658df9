//! Timestamps as exports write them.
//!
//! Accepted: RFC 3339 with an offset or `Z`; naive date-times (`T` or space between date and
//! time, up to nine fractional digits) read in the source's zone; and Unix seconds or
//! milliseconds (told apart by size: any value above 10^11 is taken as milliseconds, which is
//! unambiguous for dates between 1973 and 5138).

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Above this a Unix number is read as milliseconds.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// Parses a timestamp; `zone` is the zone of naive date-times.
pub fn parse_timestamp(text: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the timestamp is empty".to_string());
    }
    if let Some(instant) = parse_utc_fast(text) {
        return Ok(instant);
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

/// The form gateways write most, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, read digit by digit,
/// which is several times faster than the general parser. Anything else, and any value out of
/// range (a leap second, the 31st of a short month), is left to the general parser: `None`.
fn parse_utc_fast(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let (body, fraction) = match bytes {
        [body @ .., b'Z'] if body.len() == 19 => (body, &[][..]),
        [body @ .., b'Z'] if body.len() > 20 && body[19] == b'.' => body.split_at(19),
        _ => return None,
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, byte)| body[at] != byte) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        body[range].iter().try_fold(0u32, |value, &b| {
            b.is_ascii_digit().then(|| value * 10 + u32::from(b - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let nanos = fraction_nanos(&fraction[1.min(fraction.len())..])?;
    let seconds = i64::from(date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second);
    DateTime::from_timestamp(seconds, nanos)
}

/// Days from 0001-01-01 to 1970-01-01.
pub const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Nanoseconds of the digits after a decimal point (at most nine are kept, as the general
/// parser keeps them); `None` when they are not all digits.
fn fraction_nanos(digits: &[u8]) -> Option<u32> {
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let kept = &digits[..digits.len().min(9)];
    let value = kept.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0'));
    Some(value * 10u32.pow(9 - kept.len() as u32))
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
        let nanos = fraction_nanos(fraction.as_bytes()).unwrap_or(0);
        DateTime::from_timestamp(value, nanos)
    };
    parsed.ok_or_else(|| format!("'{text}' is outside the range of dates"))
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

    proptest::proptest! {
        /// The fast path reads what the general parser reads, and leaves it what it cannot.
        #[test]
        fn the_fast_path_agrees_with_the_general_parser(
            year in 1960i32..2100,
            month in 0u32..14,
            day in 0u32..33,
            hour in 0u32..25,
            minute in 0u32..61,
            second in 0u32..62,
            fraction in proptest::option::of("[0-9]{0,12}"),
            separator in proptest::sample::select(vec!['T', 't', ' ']),
            end in proptest::sample::select(vec!["Z", "z", "+00:00", ""]),
        ) {
            let fraction = fraction.map(|digits| format!(".{digits}")).unwrap_or_default();
            let text = format!(
                "{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{end}"
            );
            let general = DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).ok();
            match parse_utc_fast(&text) {
                Some(fast) => proptest::prop_assert_eq!(Some(fast), general, "{}", text),
                None => proptest::prop_assert!(
                    general.is_none() || separator != 'T' || end != "Z" || fraction == "."
                        || second == 60,
                    "the fast path refused {}", text
                ),
            }
            proptest::prop_assert_eq!(
                parse_timestamp(&text, Tz::UTC).ok(),
                general.or_else(|| parse_timestamp_slow(&text)),
                "{}", text
            );
        }
    }

    /// What the parser gives without its fast path.
    fn parse_timestamp_slow(text: &str) -> Option<DateTime<Utc>> {
        let naive = parse_naive(text.trim())?;
        from_local(naive, Tz::UTC).ok()
    }

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
