//! Exact sums of usage per (caller, model, local hour).
//!
//! Rows are folded into buckets as they are read, so memory grows with the number of distinct
//! callers, models and hours rather than with the number of rows, and a change of mapping,
//! price or weight is recalculated from the buckets without reading the files again.
//!
//! The hour is a *local* hour in the organization's zone (the wall-clock hour, counted from
//! 1970-01-01 00:00 local). Keeping the wall clock rather than a UTC hour keeps days and peak
//! windows exact in zones with half-hour offsets and across daylight-saving changes: the
//! repeated hour of an autumn change simply holds the calls of both occurrences.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap as HashMap;

use super::bucket_table::BucketTable;
use crate::load::timestamp::UNIX_EPOCH_DAYS_FROM_CE;
use crate::load::{Caller, Tokens, UsageRecord};

/// An interned caller.
pub type CallerId = u32;
/// An interned model name.
pub type ModelId = u32;
/// An interned source file.
pub type SourceId = u32;

/// A wall-clock hour in the organization's zone, counted in hours from 1970-01-01 00:00 local.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct LocalHour(pub i64);

impl LocalHour {
    /// The local hour in which a UTC instant falls.
    pub fn of(instant: DateTime<Utc>, zone: Tz) -> LocalHour {
        let local = instant.with_timezone(&zone).naive_local();
        LocalHour(local.and_utc().timestamp().div_euclid(3600))
    }

    /// The local hour starting at this wall-clock time.
    pub fn from_naive(naive: NaiveDateTime) -> LocalHour {
        LocalHour(naive.and_utc().timestamp().div_euclid(3600))
    }

    /// The wall-clock start of the hour.
    pub fn start(self) -> NaiveDateTime {
        DateTime::from_timestamp(self.0 * 3600, 0)
            .unwrap_or_default()
            .naive_utc()
    }

    /// The local date.
    pub fn date(self) -> NaiveDate {
        self.start().date()
    }

    /// The local weekday.
    pub fn weekday(self) -> Weekday {
        self.start().weekday()
    }

    /// The hour of the day, 0 to 23.
    pub fn hour(self) -> u32 {
        self.start().hour()
    }

    /// The local day, counted in days from 1970-01-01, and the hour of the day: what
    /// [`LocalHour::date`] and [`LocalHour::hour`] give, by integer arithmetic alone, since a
    /// recalculation asks it of every bucket. An hour the calendar cannot name is day 0, hour
    /// 0, as [`LocalHour::start`] falls back to 1970-01-01 00:00.
    pub fn day_and_hour(self) -> (i64, u32) {
        if !CALENDAR_HOURS.contains(&self.0) {
            return (0, 0);
        }
        (self.0.div_euclid(24), self.0.rem_euclid(24) as u32)
    }

    /// The first hour of a local day counted from 1970-01-01.
    pub fn first_of_day(day: i64) -> LocalHour {
        LocalHour(day * 24)
    }
}

/// The local hours whose start the calendar can name.
const CALENDAR_HOURS: std::ops::RangeInclusive<i64> = std::ops::RangeInclusive::new(
    DateTime::<Utc>::MIN_UTC.timestamp().div_euclid(3600),
    DateTime::<Utc>::MAX_UTC.timestamp().div_euclid(3600),
);

/// The weekday of a local day counted from 1970-01-01 (a Thursday), counted from Monday.
pub fn weekday_of_day(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// Finds the local hour and day of UTC instants quickly when they come roughly in order: the
/// zone's offset is looked up once per UTC hour and reused for every instant of that hour,
/// unless the offset changes within it, when each instant is converted on its own. The UTC
/// hour is told by the instant's date and hour of the day, which it holds as they are, rather
/// than by its Unix time, which takes a calculation of days.
#[derive(Debug, Clone)]
pub struct LocalClock {
    zone: Tz,
    /// The UTC hour last met (its date and hour of the day) and how to convert its instants.
    hour: Option<(NaiveDate, u32, UtcHour)>,
    day: Option<(i64, NaiveDate)>,
}

/// How the instants of one UTC hour are converted.
#[derive(Debug, Clone, Copy)]
enum UtcHour {
    /// The offset is steady and a whole number of hours: the whole UTC hour falls in one
    /// local hour of one local day.
    Whole(LocalHour, NaiveDate),
    /// The offset is steady but not a whole number of hours (as in Kolkata), so the UTC hour
    /// is split between two local hours: the local time of its start, in seconds from
    /// 1970-01-01 00:00 local.
    Split(i64),
    /// The offset changes within the hour, or the calendar cannot name the local time.
    Changing,
}

impl LocalClock {
    /// A clock for `zone`.
    pub fn new(zone: Tz) -> LocalClock {
        LocalClock {
            zone,
            hour: None,
            day: None,
        }
    }

    /// The local hour and local day of `instant`, as [`LocalHour::of`] gives them.
    #[inline]
    pub fn local(&mut self, instant: DateTime<Utc>) -> (LocalHour, NaiveDate) {
        let utc = instant.naive_utc();
        let of_day = utc.time().num_seconds_from_midnight();
        match self.utc_hour(utc.date(), of_day / 3600) {
            UtcHour::Whole(hour, day) => (hour, day),
            UtcHour::Split(start) => match self.local_of(start + i64::from(of_day % 3600)) {
                Some(local) => local,
                None => Self::convert(instant, self.zone),
            },
            UtcHour::Changing => Self::convert(instant, self.zone),
        }
    }

    /// How to convert the instants of the UTC hour `hour` of `date`, kept from one call to
    /// the next: rows of one hour come together.
    fn utc_hour(&mut self, date: NaiveDate, hour: u32) -> UtcHour {
        if let Some((known_date, known_hour, known)) = self.hour {
            if known_date == date && known_hour == hour {
                return known;
            }
        }
        let unix_hour =
            i64::from(date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE) * 24 + i64::from(hour);
        let known = self.utc_hour_from_offset(unix_hour);
        self.hour = Some((date, hour, known));
        known
    }

    /// How to convert the instants of a UTC hour, counted from 1970-01-01 00:00 UTC.
    fn utc_hour_from_offset(&mut self, unix_hour: i64) -> UtcHour {
        let Some(offset) = steady_offset(self.zone, unix_hour) else {
            return UtcHour::Changing;
        };
        let start = unix_hour * 3600 + offset;
        if offset % 3600 != 0 {
            return UtcHour::Split(start);
        }
        match self.local_of(start) {
            Some((hour, day)) => UtcHour::Whole(hour, day),
            None => UtcHour::Changing,
        }
    }

    /// The local hour and day of a local time in seconds from 1970-01-01 00:00 local; `None`
    /// when the calendar cannot name the day.
    fn local_of(&mut self, local: i64) -> Option<(LocalHour, NaiveDate)> {
        let day = self.day_of(local.div_euclid(86_400))?;
        Some((LocalHour(local.div_euclid(3600)), day))
    }

    /// The date of a day counted from 1970-01-01, kept from one call to the next: rows of one
    /// day come together.
    fn day_of(&mut self, days: i64) -> Option<NaiveDate> {
        if let Some((known, date)) = self.day {
            if known == days {
                return Some(date);
            }
        }
        let date = NaiveDate::from_num_days_from_ce_opt(
            i32::try_from(days + i64::from(UNIX_EPOCH_DAYS_FROM_CE)).ok()?,
        )?;
        self.day = Some((days, date));
        Some(date)
    }

    fn convert(instant: DateTime<Utc>, zone: Tz) -> (LocalHour, NaiveDate) {
        let naive = instant.with_timezone(&zone).naive_local();
        (LocalHour::from_naive(naive), naive.date())
    }
}

/// The zone's offset from UTC in seconds throughout one UTC hour, `None` when it changes
/// within the hour.
fn steady_offset(zone: Tz, utc_hour: i64) -> Option<i64> {
    use chrono::{Offset, TimeZone};
    let offset_at = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0).map(|at| {
            i64::from(
                zone.offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        })
    };
    let start = offset_at(utc_hour.checked_mul(3600)?)?;
    let end = offset_at(utc_hour * 3600 + 3599)?;
    (start == end).then_some(start)
}

/// Zones whose local hours are easy to get wrong, for property tests: daylight-saving
/// changes, half-hour offsets, a half-hour change, and none at all.
#[cfg(test)]
pub(crate) const AWKWARD_ZONES: [Tz; 5] = [
    Tz::Europe__Berlin,
    Tz::Asia__Kolkata,
    Tz::America__St_Johns,
    Tz::Australia__Lord_Howe,
    Tz::UTC,
];

/// The key of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketKey {
    /// Who called.
    pub caller: CallerId,
    /// Which model.
    pub model: ModelId,
    /// When, as a local hour.
    pub hour: LocalHour,
}

/// Exact sums of the records of one bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BucketSums {
    /// Source rows folded in (successful or not).
    pub rows: u64,
    /// Successful calls (aggregate records count their number of requests).
    pub calls: u64,
    /// Failed calls: counted, never charged.
    pub failed_calls: u64,
    /// Tokens of successful calls, by kind.
    pub tokens: Tokens,
    /// Sum of the provider's own cost where the source reports one.
    pub provider_cost: Decimal,
    /// Successful calls that carried a provider cost.
    pub provider_cost_calls: u64,
}

impl BucketSums {
    /// Folds one record in.
    pub fn add(&mut self, record: &UsageRecord) {
        self.add_figures(&Figures::of(record));
    }

    /// Folds in the figures of one record.
    pub fn add_figures(&mut self, figures: &Figures) {
        self.rows += 1;
        if !figures.success {
            self.failed_calls += figures.calls;
            return;
        }
        self.calls += figures.calls;
        self.tokens.add(&figures.tokens);
        if let Some(cost) = figures.provider_cost {
            self.provider_cost += cost;
            self.provider_cost_calls += figures.calls;
        }
    }

    /// Takes the figures of one record back out, as if it had never been folded in.
    pub fn remove_figures(&mut self, figures: &Figures) {
        self.rows -= 1;
        if !figures.success {
            self.failed_calls -= figures.calls;
            return;
        }
        self.calls -= figures.calls;
        self.tokens.subtract(&figures.tokens);
        if let Some(cost) = figures.provider_cost {
            self.provider_cost -= cost;
            self.provider_cost_calls -= figures.calls;
        }
    }

    /// Folds another bucket's sums in.
    pub fn merge(&mut self, other: &BucketSums) {
        self.rows += other.rows;
        self.calls += other.calls;
        self.failed_calls += other.failed_calls;
        self.tokens.add(&other.tokens);
        self.provider_cost += other.provider_cost;
        self.provider_cost_calls += other.provider_cost_calls;
    }
}

/// What one record adds to its bucket, without the caller and model that choose the bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Calls the record stands for.
    pub calls: u64,
    /// Tokens by kind.
    pub tokens: Tokens,
    /// The provider's cost in the settlement currency, when the source carries one.
    pub provider_cost: Option<Decimal>,
    /// Whether the calls succeeded.
    pub success: bool,
}

impl Figures {
    /// The figures of a record.
    pub fn of(record: &UsageRecord) -> Figures {
        Figures {
            calls: record.calls,
            tokens: record.tokens,
            provider_cost: record.provider_cost,
            success: record.success,
        }
    }
}

/// All buckets of a month, with the interned callers and models they refer to.
#[derive(Debug, Clone, Default)]
pub struct Buckets {
    /// Callers by id.
    pub callers: Vec<Caller>,
    /// Model names by id, as the sources wrote them.
    pub models: Vec<String>,
    /// The sums.
    pub sums: BucketTable,
    /// Rows per (source, caller), so that the conservation line can be told per source once
    /// the mapping decides which callers are attributed.
    pub rows_by_source: HashMap<(SourceId, CallerId), u64>,
    /// Successful calls per (caller, model) pair: the callers behind a line and the illegal
    /// calls are found from these few pairs rather than from every bucket.
    pub pairs: HashMap<(CallerId, ModelId), u64>,
    caller_ids: HashMap<Caller, CallerId>,
    model_ids: HashMap<String, ModelId>,
}

impl Buckets {
    /// Interns a caller.
    pub fn caller_id(&mut self, caller: &Caller) -> CallerId {
        if let Some(&id) = self.caller_ids.get(caller) {
            return id;
        }
        let id = self.callers.len() as CallerId;
        self.callers.push(caller.clone());
        self.caller_ids.insert(caller.clone(), id);
        id
    }

    /// Interns a model name.
    pub fn model_id(&mut self, model: &str) -> ModelId {
        if let Some(&id) = self.model_ids.get(model) {
            return id;
        }
        let id = self.models.len() as ModelId;
        self.models.push(model.to_string());
        self.model_ids.insert(model.to_string(), id);
        id
    }

    /// Folds a record read from `source` into its bucket.
    pub fn add(&mut self, source: SourceId, record: &UsageRecord, zone: Tz) {
        let caller = self.caller_id(&record.caller);
        let model = self.model_id(&record.model);
        let hour = LocalHour::of(record.timestamp, zone);
        self.add_figures(
            source,
            BucketKey {
                caller,
                model,
                hour,
            },
            &Figures::of(record),
        );
    }

    /// Folds the figures of one record, read from `source`, into the bucket `key`.
    pub fn add_figures(&mut self, source: SourceId, key: BucketKey, figures: &Figures) {
        self.sums.entry(key).add_figures(figures);
        *self.rows_by_source.entry((source, key.caller)).or_default() += 1;
        if figures.success {
            *self.pairs.entry((key.caller, key.model)).or_default() += figures.calls;
        }
    }

    /// Takes a record read from `source`, which was folded in, back out: its bucket, its row
    /// of the caller and its calls of the pair are removed where nothing else is left in them.
    pub fn remove(&mut self, source: SourceId, record: &UsageRecord, zone: Tz) {
        let key = BucketKey {
            caller: self.caller_id(&record.caller),
            model: self.model_id(&record.model),
            hour: LocalHour::of(record.timestamp, zone),
        };
        let figures = Figures::of(record);
        if let Some(sums) = self.sums.get_mut(&key) {
            sums.remove_figures(&figures);
            if sums.rows == 0 {
                self.sums.remove(&key);
            }
        }
        decrease(&mut self.rows_by_source, (source, key.caller), 1);
        if figures.success {
            decrease(&mut self.pairs, (key.caller, key.model), figures.calls);
        }
    }

    /// Folds the figures of one record into the bucket `key` alone: a reader of many rows of
    /// one source calls [`Buckets::count_rows_and_pairs`] once at the end instead of counting
    /// rows per caller and calls per pair row by row.
    pub fn add_to_sums(&mut self, key: BucketKey, figures: &Figures) {
        self.sums.entry(key).add_figures(figures);
    }

    /// Counts the rows per caller (all read from `source`) and the successful calls per pair
    /// from the buckets that [`Buckets::add_to_sums`] filled, as [`Buckets::add_figures`]
    /// would have counted them row by row.
    pub fn count_rows_and_pairs(&mut self, source: SourceId) {
        for (key, sums) in &self.sums {
            *self.rows_by_source.entry((source, key.caller)).or_default() += sums.rows;
            if sums.calls > 0 {
                *self.pairs.entry((key.caller, key.model)).or_default() += sums.calls;
            }
        }
    }

    /// Folds in the buckets another reader built from a later part of the same sources.
    /// Callers and models are interned in the order the other reader met them, so the ids
    /// come out as if one reader had read everything in order.
    pub fn absorb(&mut self, other: Buckets) {
        let callers: Vec<CallerId> = other.callers.iter().map(|c| self.caller_id(c)).collect();
        let models: Vec<ModelId> = other.models.iter().map(|m| self.model_id(m)).collect();
        self.sums.merge_renumbered(other.sums, &callers, &models);
        for ((source, caller), rows) in other.rows_by_source {
            *self
                .rows_by_source
                .entry((source, callers[caller as usize]))
                .or_default() += rows;
        }
        for ((caller, model), calls) in other.pairs {
            *self
                .pairs
                .entry((callers[caller as usize], models[model as usize]))
                .or_default() += calls;
        }
    }

    /// Rows folded into all buckets.
    pub fn rows(&self) -> u64 {
        self.rows_by_source.values().sum()
    }
}

/// Lowers a count, dropping it when nothing is left.
fn decrease<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, u64>, key: K, by: u64) {
    if let Some(count) = counts.get_mut(&key) {
        *count = count.saturating_sub(by);
        if *count == 0 {
            counts.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn local_hours_follow_half_hour_offsets() {
        // 04:45 UTC is 10:15 in Kolkata (UTC+05:30): the local hour is 10.
        let hour = LocalHour::of(at("2026-11-02T04:45:00Z"), Tz::Asia__Kolkata);
        assert_eq!(hour.hour(), 10);
        assert_eq!(hour.date(), NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
    }

    #[test]
    fn the_repeated_autumn_hour_is_one_local_hour() {
        let zone = Tz::Europe__Berlin;
        let first = LocalHour::of(at("2026-10-25T00:30:00Z"), zone);
        let second = LocalHour::of(at("2026-10-25T01:30:00Z"), zone);
        assert_eq!(first, second);
        assert_eq!(first.hour(), 2);
    }

    proptest::proptest! {
        /// The clock's shortcuts (an offset per UTC hour, a date per day) give what converting
        /// each instant on its own gives, in zones with half-hour offsets and across changes
        /// of daylight-saving time, whatever order the instants come in.
        #[test]
        fn the_clock_agrees_with_converting_each_instant(
            seconds in proptest::collection::vec(1_761_000_000i64..1_765_000_000, 1..200),
            zone in proptest::sample::select(AWKWARD_ZONES.to_vec()),
            sorted in proptest::bool::ANY,
        ) {
            let mut seconds = seconds;
            if sorted {
                seconds.sort();
            }
            let mut clock = LocalClock::new(zone);
            for second in seconds {
                let instant = DateTime::from_timestamp(second, 0).unwrap();
                let expected = (
                    LocalHour::of(instant, zone),
                    instant.with_timezone(&zone).date_naive(),
                );
                proptest::prop_assert_eq!(clock.local(instant), expected);
            }
        }
    }

    /// The day, weekday and hour of a local hour as the calendar gives them.
    fn by_calendar(hour: LocalHour) -> (i64, usize, u32) {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let day = (hour.date() - epoch).num_days();
        let weekday = hour.weekday().num_days_from_monday() as usize;
        (day, weekday, hour.hour())
    }

    fn by_arithmetic(hour: LocalHour) -> (i64, usize, u32) {
        let (day, hour) = hour.day_and_hour();
        (day, weekday_of_day(day), hour)
    }

    #[test]
    fn day_and_hour_agree_with_the_calendar_at_its_ends() {
        let (first, last) = (*CALENDAR_HOURS.start(), *CALENDAR_HOURS.end());
        let ends = [first - 1, first, first + 1, last - 1, last];
        for hour in ends.into_iter().chain(-25..=24) {
            let hour = LocalHour(hour);
            assert_eq!(by_arithmetic(hour), by_calendar(hour), "{hour:?}");
        }
        assert_eq!(by_arithmetic(LocalHour(last + 1)), (0, 3, 0));
        assert_eq!(LocalHour::first_of_day(-1).date().to_string(), "1969-12-31");
    }

    proptest::proptest! {
        #[test]
        fn day_and_hour_agree_with_the_calendar(hour in -20_000_000i64..20_000_000) {
            let hour = LocalHour(hour);
            proptest::prop_assert_eq!(by_arithmetic(hour), by_calendar(hour));
            let (day, _) = hour.day_and_hour();
            proptest::prop_assert_eq!(LocalHour::first_of_day(day).date(), hour.date());
        }
    }

    #[test]
    fn failed_calls_are_counted_but_not_charged() {
        let mut sums = BucketSums::default();
        let record = UsageRecord {
            line: 2,
            offset: 0,
            timestamp: at("2026-11-02T10:00:00Z"),
            request_id: None,
            caller: Caller::default(),
            model: "m".into(),
            tokens: Tokens {
                input: 10,
                output: 5,
                ..Tokens::default()
            },
            calls: 1,
            provider_cost: Some(Decimal::ONE),
            currency: None,
            success: false,
        };
        sums.add(&record);
        assert_eq!((sums.rows, sums.calls, sums.failed_calls), (1, 0, 1));
        assert_eq!(sums.tokens.total(), 0);
        assert_eq!(sums.provider_cost, Decimal::ZERO);
    }
}
