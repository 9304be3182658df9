//! Reading back the sources for the analyst's explorer: the rows behind a caller in a window
//! of time, and the peak minute of each department's busiest hours.
//!
//! Buckets are hourly, so nothing finer than an hour is known without the rows. Each request
//! holds everything needed to read the files again, so that it runs on another thread while
//! the screen stays responsive, and keeps only the few hours it asks about.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDateTime, TimeDelta};

use super::Result;
use super::inputs::Sources;
use super::workspace::{ROW_LIMIT, Review, SourceRow};
use crate::calc::bucket::{LocalHour, SourceId};
use crate::calc::explore::{busiest_hours, peak_minute};
use crate::calc::pricing::PriceTable;
use crate::calc::series::Valuer;
use crate::config::Settings;
use crate::load::{Caller, Capture, Dataset, UsageRecord, read_into};

/// How many of a department's busiest hours are read back for its peak minute.
pub const PEAK_HOURS: usize = 3;

/// The rows behind one caller (every caller with that label) in a window of local time.
#[derive(Debug, Clone)]
pub struct WindowRowsQuery {
    sources: Sources,
    settings: Settings,
    callers: BTreeSet<Caller>,
    hours: BTreeSet<LocalHour>,
}

impl WindowRowsQuery {
    /// Reads the sources again and keeps the caller's rows in the window, in file order, at
    /// most [`ROW_LIMIT`].
    pub fn run(self) -> Result<Vec<SourceRow>> {
        let capture = Capture {
            hours: Some(self.hours),
            callers: Some(self.callers),
            limit: ROW_LIMIT,
            ..Capture::default()
        };
        let (dataset, records) = capture_rows(&self.sources, &self.settings, capture)?;
        Ok(records
            .into_iter()
            .map(|(source, record)| source_row(&dataset, source, record))
            .collect())
    }
}

/// One department's part of a peak request.
#[derive(Debug, Clone)]
struct PeakAsk {
    department: String,
    hours: BTreeSet<LocalHour>,
    callers: BTreeSet<Caller>,
}

/// The peak minute of each department within its busiest hours.
#[derive(Debug, Clone)]
pub struct PeakQuery {
    sources: Sources,
    settings: Settings,
    asks: Vec<PeakAsk>,
}

/// A department's peak minute, read back from the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeakMinute {
    /// The department.
    pub department: String,
    /// The local minute with the most successful calls, and those calls; `None` when the
    /// hours read held no successful call.
    pub peak: Option<(NaiveDateTime, u64)>,
    /// How many busiest hours were read.
    pub hours_read: usize,
}

impl PeakQuery {
    /// Reads the sources once, keeping only the rows of the hours asked about, and finds each
    /// department's busiest minute among its own calls.
    pub fn run(self) -> Result<Vec<PeakMinute>> {
        let capture = Capture {
            hours: Some(self.asks.iter().flat_map(|a| a.hours.clone()).collect()),
            callers: Some(self.asks.iter().flat_map(|a| a.callers.clone()).collect()),
            limit: usize::MAX,
            ..Capture::default()
        };
        let zone = self.settings.zone;
        let (_, records) = capture_rows(&self.sources, &self.settings, capture)?;
        Ok(self
            .asks
            .iter()
            .map(|ask| {
                let calls = records
                    .iter()
                    .filter(|(_, r)| r.success && ask.callers.contains(&r.caller))
                    .filter(|(_, r)| ask.hours.contains(&LocalHour::of(r.timestamp, zone)))
                    .map(|(_, r)| (r.timestamp.with_timezone(&zone).naive_local(), r.calls));
                PeakMinute {
                    department: ask.department.clone(),
                    peak: peak_minute(calls),
                    hours_read: ask.hours.len(),
                }
            })
            .collect())
    }
}

fn capture_rows(
    sources: &Sources,
    settings: &Settings,
    capture: Capture,
) -> Result<(Dataset, Vec<(SourceId, UsageRecord)>)> {
    let mut dataset = Dataset::new(settings);
    dataset.capture = Some(capture);
    let mut dataset = read_into(dataset, settings, sources.open()?)?;
    let records = dataset
        .capture
        .take()
        .map(|c| c.records)
        .unwrap_or_default();
    Ok((dataset, records))
}

fn source_row(dataset: &Dataset, source: SourceId, record: UsageRecord) -> SourceRow {
    SourceRow {
        source: dataset.source_name(source).to_string(),
        line: record.line,
        timestamp: record.timestamp,
        model: record.model,
        tokens: record.tokens,
        provider_cost: record.provider_cost,
        success: record.success,
    }
}

/// The local hours from `from` up to `to`.
fn hours_between(from: NaiveDateTime, to: NaiveDateTime) -> BTreeSet<LocalHour> {
    let (first, end) = (LocalHour::from_naive(from), LocalHour::from_naive(to));
    (first.0..end.0).map(LocalHour).collect()
}

impl Review {
    /// The request for the rows behind a department's caller (by its label, as the window
    /// breakdown names it) in the local window `[from, to)`.
    pub fn window_rows(
        &self,
        department: &str,
        caller_label: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> WindowRowsQuery {
        let callers = self
            .department_callers(department)
            .into_iter()
            .filter(|c| c.label() == caller_label)
            .collect();
        WindowRowsQuery {
            sources: self.sources.clone(),
            settings: self.settings.clone(),
            callers,
            hours: hours_between(from, to),
        }
    }

    /// The request for the peak minute of every department within its busiest hours.
    pub fn peak_minutes(&self) -> PeakQuery {
        let prices = PriceTable::for_settings(&self.settings);
        let valuer = Valuer::new(&self.settings, &self.dataset, &prices);
        let asks = self
            .attribution
            .departments
            .iter()
            .map(|d| PeakAsk {
                department: d.name.clone(),
                hours: busiest_hours(&valuer, &self.dataset, &d.name, PEAK_HOURS)
                    .into_iter()
                    .map(|(hour, _)| LocalHour::from_naive(hour))
                    .collect(),
                callers: self.department_callers(&d.name),
            })
            .collect();
        PeakQuery {
            sources: self.sources.clone(),
            settings: self.settings.clone(),
            asks,
        }
    }

    /// Every caller the current mapping gives a department.
    fn department_callers(&self, department: &str) -> BTreeSet<Caller> {
        let prices = PriceTable::for_settings(&self.settings);
        let valuer = Valuer::new(&self.settings, &self.dataset, &prices);
        let ids: BTreeMap<u32, ()> = self
            .dataset
            .buckets
            .pairs
            .keys()
            .filter(|(caller, _)| valuer.department(*caller) == department)
            .map(|(caller, _)| (*caller, ()))
            .collect();
        ids.keys()
            .map(|id| self.dataset.buckets.callers[*id as usize].clone())
            .collect()
    }
}

/// The length of a window as people read it (`3 days`, `6 hours`).
pub fn describe_span(span: TimeDelta) -> String {
    let (n, unit) = if span.num_hours() % 24 == 0 {
        (span.num_days(), "day")
    } else {
        (span.num_hours(), "hour")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn sample_review(dir: &std::path::Path) -> Review {
        let loaded = Review::load(Sources::default(), Arc::default()).unwrap();
        Review::open(
            Sources::default(),
            loaded,
            dir,
            "ana",
            chrono::DateTime::UNIX_EPOCH,
        )
        .unwrap()
    }

    #[test]
    fn the_rows_of_a_window_are_the_callers_rows_in_those_hours() {
        let dir = tempfile::tempdir().unwrap();
        let review = sample_review(dir.path());
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
        let from = day.and_hms_opt(0, 0, 0).unwrap();
        let to = from + TimeDelta::days(1);
        let prices = PriceTable::for_settings(&review.settings);
        let valuer = Valuer::new(&review.settings, &review.dataset, &prices);
        let window = crate::calc::series::window(
            &valuer,
            &review.dataset,
            "Marketing",
            crate::calc::series::Measure::Calls,
            from,
            to,
        );
        let top = &window.callers[0];
        let rows = review
            .window_rows("Marketing", &top.name, from, to)
            .run()
            .unwrap();
        let zone = review.settings.zone;
        assert!(!rows.is_empty());
        assert!(
            rows.iter()
                .all(|r| r.timestamp.with_timezone(&zone).date_naive() == day)
        );
        assert!(rows.len() < ROW_LIMIT, "the whole day fits");
        let successful = rows.iter().filter(|r| r.success).count();
        assert_eq!(
            rust_decimal::Decimal::from(successful),
            top.value,
            "one row per successful call in the sample"
        );
    }

    #[test]
    fn the_peak_minute_lies_in_a_busiest_hour_and_is_at_most_its_calls() {
        let dir = tempfile::tempdir().unwrap();
        let review = sample_review(dir.path());
        let prices = PriceTable::for_settings(&review.settings);
        let valuer = Valuer::new(&review.settings, &review.dataset, &prices);
        let peaks = review.peak_minutes().run().unwrap();
        let marketing = peaks.iter().find(|p| p.department == "Marketing").unwrap();
        let (minute, calls) = marketing.peak.unwrap();
        let busiest = busiest_hours(&valuer, &review.dataset, "Marketing", PEAK_HOURS);
        let hour = busiest
            .iter()
            .find(|(h, _)| *h <= minute && minute < *h + TimeDelta::hours(1))
            .expect("the peak minute is in one of the busiest hours");
        assert!(calls >= 1 && calls <= hour.1);
        assert_eq!(marketing.hours_read, PEAK_HOURS);
    }

    #[test]
    fn spans_read_in_days_or_hours() {
        assert_eq!(describe_span(TimeDelta::days(3)), "3 days");
        assert_eq!(describe_span(TimeDelta::hours(1)), "1 hour");
        assert_eq!(describe_span(TimeDelta::hours(30)), "30 hours");
    }
}
