//! A line item taken apart: by caller and by day, from the buckets.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::decision::LineKey;
use crate::calc::bucket::CallerId;
use crate::calc::mapping::Mapper;
use crate::calc::pricing::{PriceTable, list_cost};
use crate::calc::weight::time_weight;
use crate::config::Settings;
use crate::load::Dataset;

/// Sums of one part of a line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// Successful calls.
    pub calls: u64,
    /// Tokens of every kind.
    pub tokens: u64,
    /// Σ list cost.
    pub list_cost: Decimal,
    /// Σ converted amount.
    pub converted: Decimal,
}

impl Part {
    fn add(&mut self, other: &Part) {
        self.calls += other.calls;
        self.tokens += other.tokens;
        self.list_cost += other.list_cost;
        self.converted += other.converted;
    }

    /// converted / list cost: the weight this part was given.
    pub fn weight(&self) -> Option<Decimal> {
        (!self.list_cost.is_zero()).then(|| (self.converted / self.list_cost).round_dp(4))
    }
}

/// One caller's share of a line, and its days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerPart {
    /// The caller's id in the buckets.
    pub caller: CallerId,
    /// Its label, keys masked.
    pub label: String,
    /// Its sums.
    pub sums: Part,
    /// Its sums per local day.
    pub days: Vec<(NaiveDate, Part)>,
}

/// A line by caller (largest first) and by day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Callers, by converted amount, largest first.
    pub callers: Vec<CallerPart>,
    /// The whole line per local day.
    pub days: Vec<(NaiveDate, Part)>,
}

/// Takes a line apart: every bucket whose caller maps to the line's department and whose
/// model is priced as the line's model (or named so, for an unpriced model).
pub fn breakdown(settings: &Settings, dataset: &Dataset, key: &LineKey) -> Breakdown {
    let mapper = Mapper::new(&settings.config.mapping);
    let prices = PriceTable::for_settings(settings);
    let buckets = &dataset.buckets;
    let in_department: Vec<bool> = buckets
        .callers
        .iter()
        .map(|c| mapper.department_of(c).0 == key.department)
        .collect();
    let models: Vec<_> = buckets.models.iter().map(|m| prices.lookup(m)).collect();

    let mut by_caller: BTreeMap<CallerId, BTreeMap<NaiveDate, Part>> = BTreeMap::new();
    for (bucket, sums) in &buckets.sums {
        let model = models[bucket.model as usize];
        let label = model.map_or(&buckets.models[bucket.model as usize], |m| &m.name);
        if !in_department[bucket.caller as usize] || *label != key.model {
            continue;
        }
        let cost = model.map_or(Decimal::ZERO, |m| list_cost(&sums.tokens, m));
        let weight = model.map_or(Decimal::ONE, |m| m.complexity.0)
            * time_weight(
                &settings.config.time_weights,
                bucket.hour.weekday(),
                bucket.hour.hour(),
            );
        let part = Part {
            calls: sums.calls,
            tokens: sums.tokens.total(),
            list_cost: cost,
            converted: cost * weight,
        };
        by_caller
            .entry(bucket.caller)
            .or_default()
            .entry(bucket.hour.date())
            .or_default()
            .add(&part);
    }
    assemble(dataset, by_caller)
}

fn assemble(
    dataset: &Dataset,
    by_caller: BTreeMap<CallerId, BTreeMap<NaiveDate, Part>>,
) -> Breakdown {
    let mut days: BTreeMap<NaiveDate, Part> = BTreeMap::new();
    let mut callers: Vec<CallerPart> = by_caller
        .into_iter()
        .map(|(caller, caller_days)| {
            let mut sums = Part::default();
            for (day, part) in &caller_days {
                sums.add(part);
                days.entry(*day).or_default().add(part);
            }
            CallerPart {
                caller,
                label: dataset.buckets.callers[caller as usize].label(),
                sums,
                days: caller_days.into_iter().collect(),
            }
        })
        .collect();
    callers.sort_by(|a, b| {
        b.sums
            .converted
            .cmp(&a.sums.converted)
            .then(a.label.cmp(&b.label))
    });
    Breakdown {
        callers,
        days: days.into_iter().collect(),
    }
}
