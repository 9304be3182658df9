//! What the analyst's explorer shows of a department, computed from buckets: its series over
//! the whole month with the spiking days, the budget prorated per step and the projection to
//! the close; which department spiked worst; and the peak minute of a set of calls.
//!
//! Everything is exact (`Decimal`); the screen converts to floats only to plot.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, Timelike};
use rust_decimal::Decimal;

use super::attribution::{Attribution, DepartmentSummary};
use super::series::{Measure, Step, Valuer, department_series};
use super::status::{SpikeDay, spike_days};
use crate::config::{Settings, UNATTRIBUTED};
use crate::load::Dataset;

/// Days of data the run rate is taken over, as the projection of the attribution does.
pub const RUN_RATE_DAYS: i64 = 7;

/// A department's series over the month, with what is drawn over it.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentChart {
    /// The department.
    pub department: String,
    /// What the values measure.
    pub measure: Measure,
    /// One point per hour or per day.
    pub step: Step,
    /// Every step from the first day of the month to the last with data, zeros included.
    pub points: Vec<(NaiveDateTime, Decimal)>,
    /// The days that spiked, judged as the status judges them: list cost per day against
    /// its trailing 7-day median, with the department's spike threshold and materiality.
    pub spikes: Vec<SpikeDay>,
    /// The budget prorated to one step, in the measure: the budget applies to the settled
    /// amount, so it is scaled by the department's total in the measure ÷ its settled
    /// amount, and the series crosses the line where the settled amount crosses the budget
    /// (money measures only; none without a budget or without a settled amount).
    pub budget_per_step: Option<Decimal>,
    /// Mean value per step over the last seven days of data: the run rate.
    pub run_rate: Decimal,
    /// The run rate under the stress factor.
    pub stress_rate: Decimal,
    /// The start of the first step after the data, where the projection begins.
    pub projection_from: NaiveDateTime,
    /// The end of the month (the start of the day after its last).
    pub month_end: NaiveDateTime,
}

/// The start of a day.
pub fn midnight(day: NaiveDate) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN)
}

/// The length of a step.
pub fn step_length(step: Step) -> Duration {
    match step {
        Step::Hour => Duration::hours(1),
        Step::Day => Duration::days(1),
    }
}

/// The start of the step an instant falls in.
pub fn step_start(at: NaiveDateTime, step: Step) -> NaiveDateTime {
    match step {
        Step::Hour => at.date().and_hms_opt(at.hour(), 0, 0).unwrap_or(at),
        Step::Day => midnight(at.date()),
    }
}

/// The chart of a department in a measure and step.
pub fn department_chart(
    valuer: &Valuer<'_>,
    settings: &Settings,
    dataset: &Dataset,
    summary: &DepartmentSummary,
    data_through: Option<NaiveDate>,
    measure: Measure,
    step: Step,
) -> DepartmentChart {
    let name = &summary.name;
    let series = department_series(valuer, dataset, name, measure, step);
    let first = midnight(settings.month_start);
    let last_day = data_through.unwrap_or(settings.month_start);
    let projection_from = midnight(last_day + Duration::days(1));
    let length = step_length(step);

    let mut points = Vec::new();
    let mut at = first;
    while at < projection_from {
        points.push((at, series.get(&at).copied().unwrap_or_default()));
        at += length;
    }

    let steps_per_day = Decimal::from(Duration::days(1).num_seconds() / length.num_seconds());
    let run_rate = run_rate_per_day(&points, projection_from) / steps_per_day;
    let stress = Decimal::ONE + settings.config.thresholds.stress_factor.0;
    let steps_in_month = Decimal::from(settings.days_in_month()) * steps_per_day;
    DepartmentChart {
        department: name.clone(),
        measure,
        step,
        points,
        spikes: spikes_of(settings, summary, data_through),
        budget_per_step: budget_in_measure(summary, measure).map(|b| b / steps_in_month),
        run_rate,
        stress_rate: run_rate * stress,
        projection_from,
        month_end: midnight(settings.month_end + Duration::days(1)),
    }
}

/// The monthly budget in a money measure: budget × the department's total in the measure ÷
/// its settled amount. A department at 103.5 % of its budget has 103.5 % of this figure in
/// list cost (or converted amount), so that the chart compares like with like.
pub fn budget_in_measure(summary: &DepartmentSummary, measure: Measure) -> Option<Decimal> {
    let total = match measure {
        Measure::ListCost => summary.list_cost,
        Measure::Converted => summary.converted,
        Measure::Tokens | Measure::Calls => return None,
    };
    (summary.budget > Decimal::ZERO && summary.settled > Decimal::ZERO)
        .then(|| summary.budget * total / summary.settled)
}

/// The mean per day of the last seven days before `end` (fewer at the start of a month).
fn run_rate_per_day(points: &[(NaiveDateTime, Decimal)], end: NaiveDateTime) -> Decimal {
    let from = end - Duration::days(RUN_RATE_DAYS);
    let recent: Vec<&(NaiveDateTime, Decimal)> =
        points.iter().filter(|(at, _)| *at >= from).collect();
    let (Some(first), false) = (recent.first(), recent.is_empty()) else {
        return Decimal::ZERO;
    };
    let days = Decimal::from((end - first.0).num_days().max(1));
    recent.iter().map(|(_, v)| *v).sum::<Decimal>() / days
}

/// A department's spiking days, by the rule its status uses.
pub fn spikes_of(
    settings: &Settings,
    summary: &DepartmentSummary,
    data_through: Option<NaiveDate>,
) -> Vec<SpikeDay> {
    let Some(last) = data_through.filter(|_| summary.name != UNATTRIBUTED) else {
        return Vec::new();
    };
    let thresholds = settings.thresholds_for(&summary.name);
    let daily_budget = summary.budget / Decimal::from(settings.days_in_month());
    spike_days(
        &summary.daily,
        settings.month_start,
        last,
        thresholds.spike.0,
        daily_budget * thresholds.spike_materiality.0,
    )
}

/// The department whose worst day is furthest above its trailing median, with that day;
/// without any spiking day, the department that grew most over the prior month beyond the
/// spike threshold (with no day). `None` when nothing spiked.
pub fn worst_spike(
    settings: &Settings,
    attribution: &Attribution,
) -> Option<(String, Option<NaiveDate>)> {
    let through = attribution.period.data_through;
    let by_day = attribution
        .departments
        .iter()
        .flat_map(|d| {
            spikes_of(settings, d, through)
                .into_iter()
                .map(|s| (&d.name, s))
        })
        .max_by_key(|(_, s)| s.value / s.median);
    if let Some((name, spike)) = by_day {
        return Some((name.clone(), Some(spike.day)));
    }
    attribution
        .departments
        .iter()
        .filter(|d| d.reasons.iter().any(|r| r.kind == "spike_month"))
        .max_by_key(|d| d.growth)
        .map(|d| (d.name.clone(), None))
}

/// The minute with the most calls among timestamped calls, and those calls; the earliest
/// minute wins a tie.
pub fn peak_minute(
    calls: impl IntoIterator<Item = (NaiveDateTime, u64)>,
) -> Option<(NaiveDateTime, u64)> {
    let mut per_minute: BTreeMap<NaiveDateTime, u64> = BTreeMap::new();
    for (at, n) in calls {
        let minute = at.with_second(0).and_then(|t| t.with_nanosecond(0));
        *per_minute.entry(minute.unwrap_or(at)).or_default() += n;
    }
    per_minute
        .into_iter()
        .max_by_key(|(minute, n)| (*n, std::cmp::Reverse(*minute)))
}

/// The busiest hours of a department by calls, busiest first (earliest first on a tie).
pub fn busiest_hours(
    valuer: &Valuer<'_>,
    dataset: &Dataset,
    department: &str,
    count: usize,
) -> Vec<(NaiveDateTime, u64)> {
    let mut calls: BTreeMap<NaiveDateTime, u64> = BTreeMap::new();
    for (key, sums) in &dataset.buckets.sums {
        if valuer.department(key.caller) == department {
            *calls.entry(key.hour.start()).or_default() += sums.calls;
        }
    }
    let mut hours: Vec<(NaiveDateTime, u64)> = calls.into_iter().collect();
    hours.sort_by_key(|(hour, n)| (std::cmp::Reverse(*n), *hour));
    hours.truncate(count);
    hours
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::calculate;
    use crate::calc::pricing::PriceTable;
    use crate::load::{Input, load_inputs};
    use crate::sample;

    fn sample_month() -> (Settings, Dataset, Attribution) {
        let settings = sample::settings().unwrap();
        let dataset = load_inputs(
            &settings,
            vec![Input::from_bytes(sample::LOGS_NAME, sample::LOGS)],
        )
        .unwrap();
        let attribution = calculate(&settings, &dataset, None, sample::TODAY);
        (settings, dataset, attribution)
    }

    fn at(day: u32, hour: u32, minute: u32, second: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, minute, second)
            .unwrap()
    }

    #[test]
    fn the_chart_covers_every_step_to_the_last_day_and_sums_to_the_department() {
        let (settings, dataset, attribution) = sample_month();
        let prices = PriceTable::for_settings(&settings);
        let valuer = Valuer::new(&settings, &dataset, &prices);
        let marketing = attribution.department("Marketing").unwrap();
        let through = attribution.period.data_through;
        let hourly = department_chart(
            &valuer,
            &settings,
            &dataset,
            marketing,
            through,
            Measure::ListCost,
            Step::Hour,
        );
        assert_eq!(hourly.points.len(), 25 * 24, "1 to 25 November, every hour");
        let total: Decimal = hourly.points.iter().map(|(_, v)| *v).sum();
        assert_eq!(total, marketing.list_cost);
        assert_eq!(hourly.projection_from, at(26, 0, 0, 0));
        assert_eq!(hourly.month_end, at(30, 0, 0, 0) + Duration::days(1));
        let budget = hourly.budget_per_step.unwrap();
        let scaled = marketing.budget * marketing.list_cost / marketing.settled;
        assert!((budget * Decimal::from(30 * 24) - scaled).abs() < Decimal::new(1, 20));

        let daily = department_chart(
            &valuer,
            &settings,
            &dataset,
            marketing,
            through,
            Measure::ListCost,
            Step::Day,
        );
        assert_eq!(daily.points.len(), 25);
        let last_week: Decimal = daily.points[18..].iter().map(|(_, v)| *v).sum();
        assert_eq!(daily.run_rate, last_week / Decimal::from(7));
        assert_eq!(daily.stress_rate, daily.run_rate * Decimal::new(15, 1));
        assert!((hourly.run_rate * Decimal::from(24) - daily.run_rate).abs() < Decimal::new(1, 20));

        let tokens = department_chart(
            &valuer,
            &settings,
            &dataset,
            marketing,
            through,
            Measure::Tokens,
            Step::Day,
        );
        assert_eq!(tokens.budget_per_step, None, "no budget line in tokens");
    }

    #[test]
    fn the_budget_line_is_in_the_measure_so_the_chart_shows_the_budget_usage() {
        let (settings, dataset, attribution) = sample_month();
        let prices = PriceTable::for_settings(&settings);
        let valuer = Valuer::new(&settings, &dataset, &prices);
        let data = attribution.department("Data Science").unwrap();
        let usage = data.budget_usage.unwrap();
        assert_eq!(
            usage.round_dp(3),
            Decimal::new(1035, 3),
            "103.5 % of budget"
        );
        let days = Decimal::from(settings.days_in_month());
        for measure in [Measure::ListCost, Measure::Converted] {
            let chart = department_chart(
                &valuer,
                &settings,
                &dataset,
                data,
                attribution.period.data_through,
                measure,
                Step::Day,
            );
            let total: Decimal = chart.points.iter().map(|(_, v)| *v).sum();
            let line = chart.budget_per_step.unwrap() * days;
            // The series over the month's budget line is the settled amount over the budget.
            assert!(
                (total / line - usage).abs() < Decimal::new(1, 6),
                "{measure:?}: {total} against {line}"
            );
        }
    }

    #[test]
    fn the_campaign_days_are_marked_and_marketing_spiked_worst() {
        let (settings, _, attribution) = sample_month();
        let marketing = attribution.department("Marketing").unwrap();
        let spikes = spikes_of(&settings, marketing, attribution.period.data_through);
        let days: Vec<u32> = spikes
            .iter()
            .map(|s| chrono::Datelike::day(&s.day))
            .collect();
        assert!(days.contains(&17) || days.contains(&18), "{days:?}");
        assert!(days.iter().all(|d| (17..=19).contains(d)), "{days:?}");
        let (worst, day) = worst_spike(&settings, &attribution).unwrap();
        assert_eq!(worst, "Marketing");
        assert!(days.contains(&chrono::Datelike::day(&day.unwrap())));
    }

    #[test]
    fn no_spike_is_marked_before_the_fourth_day() {
        let (settings, _, attribution) = sample_month();
        let mut marketing = attribution.department("Marketing").unwrap().clone();
        // A huge third day is not judged: it has only two earlier days.
        marketing
            .daily
            .insert(at(3, 0, 0, 0).date(), Decimal::from(10_000));
        let spikes = spikes_of(&settings, &marketing, attribution.period.data_through);
        assert!(spikes.iter().all(|s| chrono::Datelike::day(&s.day) > 3));
        assert!(spikes_of(&settings, &marketing, None).is_empty());
    }

    #[test]
    fn the_peak_minute_sums_calls_within_each_minute() {
        let calls = [
            (at(17, 10, 0, 5), 1),
            (at(17, 10, 0, 59), 2),
            (at(17, 10, 1, 0), 2),
            (at(17, 10, 2, 30), 3),
        ];
        assert_eq!(peak_minute(calls), Some((at(17, 10, 0, 0), 3)));
        assert_eq!(peak_minute([]), None);
    }
}
