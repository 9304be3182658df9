//! Timestamps as exports write them.
//!
//! Accepted: RFC 3339 with an offset or `Z`; naive date-times (`T` or space between date and
//! time, up to nine fractional digits) read in the source's zone; and Unix seconds or
//! milliseconds (told apart by size: any value above 10^11 is taken as milliseconds, which is
//! unambiguous for dates between 1973 and 5138).

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
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
    let (date, rest) = split_utc(text)?;
    let date = parse_date(date)?;
    Some(date.and_time(parse_time(rest)?).and_utc())
}

/// Reads the timestamps of rows that come mostly in time order, as a worker reads a chunk:
/// the date of the form gateways write most is read once for all the rows of a day rather
/// than once a row. What it gives is what [`parse_timestamp`] gives.
#[derive(Debug, Clone, Default)]
pub struct TimestampReader {
    /// The last date read, and the text it was read from.
    day: Option<([u8; 10], NaiveDate)>,
}

impl TimestampReader {
    /// A reader that knows no date yet.
    pub fn new() -> TimestampReader {
        TimestampReader::default()
    }

    /// Parses a timestamp as [`parse_timestamp`] does; `zone` is the zone of naive date-times.
    #[inline]
    pub fn parse(&mut self, text: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
        match self.parse_utc(text) {
            Some(instant) => Ok(instant),
            None => parse_timestamp(text, zone),
        }
    }

    /// [`parse_utc_fast`] with the date kept from the row before. The text is not trimmed:
    /// one that fits the form begins with a digit and ends with `Z`, so trimming would not
    /// change it, and one with spaces around goes to [`parse_timestamp`], which trims.
    #[inline]
    fn parse_utc(&mut self, text: &str) -> Option<DateTime<Utc>> {
        let (date, rest) = split_utc(text)?;
        let date = self.date(date)?;
        Some(date.and_time(parse_time(rest)?).and_utc())
    }

    /// The date of `YYYY-MM-DD`, read only when it differs from the last one.
    fn date(&mut self, text: &[u8; 10]) -> Option<NaiveDate> {
        if let Some((known, date)) = self.day {
            if known == *text {
                return Some(date);
            }
        }
        let date = parse_date(text)?;
        self.day = Some((*text, date));
        Some(date)
    }
}

/// Splits `YYYY-MM-DDTHH:MM:SS[.fraction]Z` into its date and the rest after the date, still
/// unchecked; `None` when the length or the ending does not fit the form.
#[inline]
fn split_utc(text: &str) -> Option<(&[u8; 10], &[u8])> {
    let bytes = match text.as_bytes() {
        [body @ .., b'Z'] if body.len() == 19 || (body.len() > 20 && body[19] == b'.') => body,
        _ => return None,
    };
    let (date, rest) = bytes.split_first_chunk::<10>()?;
    Some((date, rest))
}

/// The date of `YYYY-MM-DD`; `None` when it is not one or does not exist.
fn parse_date(text: &[u8; 10]) -> Option<NaiveDate> {
    if text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    let year = digits(&text[0..4])?;
    NaiveDate::from_ymd_opt(year as i32, digits(&text[5..7])?, digits(&text[8..10])?)
}

/// The time of `THH:MM:SS[.fraction]`; `None` when it is not one or is out of range (hour 24,
/// a leap second).
#[inline]
fn parse_time(text: &[u8]) -> Option<NaiveTime> {
    let (clock, fraction) = text.split_at(9);
    if clock[0] != b'T' || clock[3] != b':' || clock[6] != b':' {
        return None;
    }
    let (hour, minute, second) = (
        digits(&clock[1..3])?,
        digits(&clock[4..6])?,
        digits(&clock[7..9])?,
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let nanos = fraction_nanos(fraction.get(1..).unwrap_or_default())?;
    NaiveTime::from_num_seconds_from_midnight_opt(hour * 3600 + minute * 60 + second, nanos)
}

/// The value of a few decimal digits; `None` when one is not a digit.
#[inline]
fn digits(text: &[u8]) -> Option<u32> {
    text.iter().try_fold(0u32, |value, &b| {
        b.is_ascii_digit().then(|| value * 10 + u32::from(b - b'0'))
    })
}

/// Days from 0001-01-01 to 1970-01-01.
pub const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Nanoseconds of the digits after a decimal point (at most nine are kept, as the general
/// parser keeps them); `None` when they are not all digits.
#[inline]
fn fraction_nanos(text: &[u8]) -> Option<u32> {
    const SCALE: [u32; 10] = [
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let (kept, rest) = text.split_at(text.len().min(9));
    if !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits(kept)? * SCALE[kept.len()])
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
    use crate::calc::bucket::{LocalClock, LocalHour};

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
                general.or_else(|| parse_timestamp_slow(&text, Tz::UTC)),
                "{}", text
            );
        }
    }

    /// Ways to spoil a timestamp of the fast path's form, some of which the general parser
    /// still reads: out of range (hour 24, minute 60, a leap second, a day or month that does
    /// not exist), not a digit, an offset, no zone, spaces around, a point with no digits.
    const SPOILS: [&str; 14] = [
        "",
        "hour 24",
        "minute 60",
        "second 60",
        "day 29",
        "day 30",
        "day 31",
        "day 00",
        "month 13",
        "letter",
        "offset",
        "naive",
        "spaces",
        "point",
    ];

    fn spoil(text: &str, how: &str) -> String {
        let replace = |range: std::ops::Range<usize>, with: &str| {
            let mut text = text.to_string();
            text.replace_range(range, with);
            text
        };
        match how {
            "hour 24" => replace(11..13, "24"),
            "minute 60" => replace(14..16, "60"),
            "second 60" => replace(17..19, "60"),
            "day 29" => replace(8..10, "29"),
            "day 30" => replace(8..10, "30"),
            "day 31" => replace(8..10, "31"),
            "day 00" => replace(8..10, "00"),
            "month 13" => replace(5..7, "13"),
            "letter" => replace(15..16, "x"),
            "offset" => text.replace('Z', "+00:00"),
            "naive" => text.replace('Z', ""),
            "spaces" => format!(" {text} "),
            "point" => text.replace('Z', ".Z"),
            _ => text.to_string(),
        }
    }

    /// The instant a timestamp stands for as the general parsers read it, and its local hour
    /// and day as converting it on its own gives them.
    fn read_slowly(text: &str, zone: Tz) -> Result<(DateTime<Utc>, LocalHour, NaiveDate), String> {
        let instant = match DateTime::parse_from_rfc3339(text.trim()) {
            Ok(parsed) => parsed.with_timezone(&Utc),
            Err(_) => parse_timestamp_slow(text, zone).ok_or_else(|| {
                parse_timestamp(text, zone).expect_err("the general parsers refuse it")
            })?,
        };
        let local = instant.with_timezone(&zone).date_naive();
        Ok((instant, LocalHour::of(instant, zone), local))
    }

    proptest::proptest! {
        /// A reader and a clock kept from row to row, as a worker keeps them, read what the
        /// general parsers read and convert as converting each instant on its own does: across
        /// days, months, a leap day and changes of daylight-saving time, in zones with
        /// half-hour offsets, with rows out of order and spoilt rows that share the date of
        /// the rows around them.
        #[test]
        fn a_reader_and_a_clock_agree_with_reading_each_row_on_its_own(
            start in proptest::sample::select(vec![
                1_761_440_000i64, // 2025-10-26, summer time ends in Europe
                1_767_225_000,    // 2025-12-31, the year ends
                1_774_745_000,    // 2026-03-29, summer time begins in Europe
                1_775_340_000,    // 2026-04-05, Lord Howe turns back half an hour
                1_835_395_000,    // 2028-02-28, before a leap day
            ]),
            steps in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        8 => 0i64..20,
                        2 => -3_600i64..3_600,
                        1 => -100_000i64..200_000,
                    ],
                    proptest::option::of("[0-9]{1,12}"),
                    proptest::sample::select(SPOILS.to_vec()),
                    proptest::bool::weighted(0.2),
                ),
                1..150,
            ),
            zone in proptest::sample::select(crate::calc::bucket::AWKWARD_ZONES.to_vec()),
        ) {
            let mut reader = TimestampReader::new();
            let mut clock = LocalClock::new(zone);
            let mut seconds = start;
            for (step, fraction, how, spoilt) in steps {
                seconds += step;
                let fraction = fraction.map(|digits| format!(".{digits}")).unwrap_or_default();
                let at = DateTime::from_timestamp(seconds, 0).unwrap();
                let text = format!("{}{fraction}Z", at.format("%Y-%m-%dT%H:%M:%S"));
                let text = if spoilt { spoil(&text, how) } else { text };
                let fast = reader
                    .parse(&text, zone)
                    .map(|instant| (instant, clock.local(instant)));
                let slow = read_slowly(&text, zone)
                    .map(|(instant, hour, day)| (instant, (hour, day)));
                proptest::prop_assert_eq!(fast, slow, "{}", text);
            }
        }
    }

    #[test]
    fn a_reader_keeps_the_date_but_checks_the_time() {
        let mut reader = TimestampReader::new();
        let read = |reader: &mut TimestampReader, text: &str| reader.parse(text, Tz::UTC);
        assert_eq!(
            read(&mut reader, "2026-10-31T23:00:02.032Z"),
            Ok(utc("2026-10-31T23:00:02.032Z"))
        );
        assert_eq!(
            read(&mut reader, "2026-10-31T23:59:60Z"),
            Ok(utc("2026-10-31T23:59:60Z"))
        );
        assert!(read(&mut reader, "2026-10-31T24:00:00Z").is_err());
        assert!(read(&mut reader, "2026-10-31T23:00:0xZ").is_err());
        assert_eq!(
            read(&mut reader, "2026-11-01T00:00:00.5Z"),
            Ok(utc("2026-11-01T00:00:00.5Z"))
        );
        assert!(read(&mut reader, "2026-02-30T00:00:00Z").is_err());
        assert_eq!(
            read(&mut reader, " 2026-11-01T00:00:01Z "),
            Ok(utc("2026-11-01T00:00:01Z"))
        );
        assert_eq!(
            read(&mut reader, "2026-11-01 01:00:00"),
            Ok(utc("2026-11-01T01:00:00Z"))
        );
    }

    /// What the parser gives without its fast path.
    fn parse_timestamp_slow(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
        let naive = parse_naive(text.trim())?;
        from_local(naive, zone).ok()
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
