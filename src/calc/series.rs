//! Time series and windows of a department, computed from buckets (never from rows), for
//! the charts and drill-downs of the analyst's screens.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;

use super::aggregate::Resolved;
use super::bucket::{BucketSums, LocalHour};
use super::pricing::{PriceTable, list_cost};
use super::weight::WeightTable;
use crate::config::Settings;
use crate::load::Dataset;

/// What a series measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Tokens of every kind.
    Tokens,
    /// List cost.
    ListCost,
    /// List cost × weight.
    Converted,
    /// Successful calls.
    Calls,
}

/// The step of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// One point per local hour.
    Hour,
    /// One point per local day.
    Day,
}

/// Everything needed to value a bucket, resolved once for a month.
pub struct Valuer<'a> {
    resolved: Resolved<'a>,
    weights: WeightTable,
}

impl<'a> Valuer<'a> {
    /// Resolves the callers and models of a dataset under a configuration.
    pub fn new(settings: &Settings, dataset: &Dataset, prices: &'a PriceTable) -> Valuer<'a> {
        Valuer {
            resolved: Resolved::new(settings, dataset, prices),
            weights: WeightTable::new(&settings.config.time_weights),
        }
    }

    /// The department of a bucket's caller.
    pub fn department(&self, caller: u32) -> &str {
        self.resolved.department(caller)
    }

    /// A bucket's value in a measure.
    pub fn value(
        &self,
        model: u32,
        hour: LocalHour,
        sums: &BucketSums,
        measure: Measure,
    ) -> Decimal {
        let priced = self.resolved.model(model);
        match measure {
            Measure::Tokens => Decimal::from(sums.tokens.total()),
            Measure::Calls => Decimal::from(sums.calls),
            Measure::ListCost => priced.map_or(Decimal::ZERO, |m| list_cost(&sums.tokens, m)),
            Measure::Converted => priced.map_or(Decimal::ZERO, |m| {
                list_cost(&sums.tokens, m) * m.complexity.0 * self.weights.of(hour)
            }),
        }
    }
}

/// A department's series, one point per hour or day that has usage.
pub fn department_series(
    valuer: &Valuer<'_>,
    dataset: &Dataset,
    department: &str,
    measure: Measure,
    step: Step,
) -> BTreeMap<NaiveDateTime, Decimal> {
    let mut series = BTreeMap::new();
    for (key, sums) in &dataset.buckets.sums {
        if valuer.department(key.caller) != department {
            continue;
        }
        let at = match step {
            Step::Hour => key.hour.start(),
            Step::Day => key.hour.date().and_hms_opt(0, 0, 0).unwrap_or_default(),
        };
        *series.entry(at).or_insert(Decimal::ZERO) +=
            valuer.value(key.model, key.hour, sums, measure);
    }
    series
}

/// One row of a window's breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// The caller (masked) or model.
    pub name: String,
    /// Its value in the window.
    pub value: Decimal,
    /// Its share of the window's total.
    pub share: Decimal,
}

/// Who and what made a department's usage in a window of local time `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Window {
    /// The window's total.
    pub total: Decimal,
    /// Callers, largest first.
    pub callers: Vec<Share>,
    /// Models, largest first.
    pub models: Vec<Share>,
}

/// Breaks down a department's usage in a window by caller and by model.
pub fn window(
    valuer: &Valuer<'_>,
    dataset: &Dataset,
    department: &str,
    measure: Measure,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Window {
    let (from, to) = (LocalHour::from_naive(from), LocalHour::from_naive(to));
    let mut callers: BTreeMap<u32, Decimal> = BTreeMap::new();
    let mut models: BTreeMap<String, Decimal> = BTreeMap::new();
    for (key, sums) in &dataset.buckets.sums {
        if key.hour < from || key.hour >= to || valuer.department(key.caller) != department {
            continue;
        }
        let value = valuer.value(key.model, key.hour, sums, measure);
        *callers.entry(key.caller).or_default() += value;
        let model = valuer.resolved.model(key.model).map_or_else(
            || dataset.buckets.models[key.model as usize].clone(),
            |m| m.name.clone(),
        );
        *models.entry(model).or_default() += value;
    }
    let total: Decimal = callers.values().sum();
    let named = callers
        .into_iter()
        .map(|(id, v)| (dataset.buckets.callers[id as usize].label(), v));
    Window {
        total,
        callers: ranked(named, total),
        models: ranked(models.into_iter(), total),
    }
}

fn ranked(values: impl Iterator<Item = (String, Decimal)>, total: Decimal) -> Vec<Share> {
    let mut shares: Vec<Share> = values
        .map(|(name, value)| Share {
            name,
            value,
            share: if total.is_zero() {
                Decimal::ZERO
            } else {
                value / total
            },
        })
        .collect();
    shares.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.name.cmp(&b.name)));
    shares
}

/// The busiest local hour of a department by calls, with its calls.
pub fn busiest_hour(
    valuer: &Valuer<'_>,
    dataset: &Dataset,
    department: &str,
) -> Option<(NaiveDateTime, u64)> {
    let mut calls: BTreeMap<LocalHour, u64> = BTreeMap::new();
    for (key, sums) in &dataset.buckets.sums {
        if valuer.department(key.caller) == department {
            *calls.entry(key.hour).or_default() += sums.calls;
        }
    }
    calls
        .into_iter()
        .max_by_key(|(hour, calls)| (*calls, std::cmp::Reverse(*hour)))
        .map(|(hour, calls)| (hour.start(), calls))
}

/// The budget prorated over the month: what a department may have spent by the end of `day`.
pub fn prorated_budget(budget: Decimal, settings: &Settings, day: NaiveDate) -> Decimal {
    let days = Decimal::from(settings.days_in_month());
    let elapsed =
        Decimal::from((day - settings.month_start).num_days() + 1).clamp(Decimal::ZERO, days);
    budget * elapsed / days
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::calculate;
    use crate::sample;

    fn sample_month() -> (Settings, Dataset) {
        let (settings, dataset, _) = sample::month().unwrap();
        (settings, dataset)
    }

    #[test]
    fn daily_series_sum_to_the_department_figures() {
        let (settings, dataset) = sample_month();
        let attribution = calculate(&settings, &dataset, None, sample::TODAY);
        let prices = PriceTable::for_settings(&settings);
        let valuer = Valuer::new(&settings, &dataset, &prices);
        for department in &attribution.departments {
            let cost = department_series(
                &valuer,
                &dataset,
                &department.name,
                Measure::ListCost,
                Step::Day,
            );
            assert_eq!(
                cost.values().sum::<Decimal>(),
                department.list_cost,
                "{}",
                department.name
            );
            let converted = department_series(
                &valuer,
                &dataset,
                &department.name,
                Measure::Converted,
                Step::Hour,
            );
            assert_eq!(
                converted.values().sum::<Decimal>(),
                department.converted,
                "{}",
                department.name
            );
        }
    }

    #[test]
    fn a_window_over_the_month_holds_everything_and_its_shares_sum_to_one() {
        let (settings, dataset) = sample_month();
        let attribution = calculate(&settings, &dataset, None, sample::TODAY);
        let prices = PriceTable::for_settings(&settings);
        let valuer = Valuer::new(&settings, &dataset, &prices);
        let start = settings.month_start.and_hms_opt(0, 0, 0).unwrap();
        let end = (settings.month_end + chrono::Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let marketing = window(
            &valuer,
            &dataset,
            "Marketing",
            Measure::ListCost,
            start,
            end,
        );
        assert_eq!(
            marketing.total,
            attribution.department("Marketing").unwrap().list_cost
        );
        let shares: Decimal = marketing.models.iter().map(|s| s.share).sum();
        assert!((shares - Decimal::ONE).abs() < Decimal::new(1, 20));
        assert!(
            marketing.callers[0].name.starts_with("sk-mkt-…"),
            "callers are masked"
        );

        let campaign = NaiveDate::from_ymd_opt(2026, 11, 18)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let (busiest, calls) = busiest_hour(&valuer, &dataset, "Marketing").unwrap();
        assert!(
            busiest.date() >= campaign.date() - chrono::Duration::days(1)
                && busiest.date() <= campaign.date() + chrono::Duration::days(1),
            "{busiest}"
        );
        assert!(calls > 0);
    }

    #[test]
    fn the_budget_is_prorated_by_day() {
        let (settings, _) = sample_month();
        let day = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        assert_eq!(
            prorated_budget(Decimal::from(300), &settings, day),
            Decimal::from(150)
        );
        assert_eq!(
            prorated_budget(Decimal::from(300), &settings, settings.month_end),
            Decimal::from(300)
        );
    }
}
