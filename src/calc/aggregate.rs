//! Folding buckets into departments and line items: mapping, pricing and weighting.
//!
//! A month can hold a million buckets, and a recalculation must stay well under a tenth of a
//! second, so the fold runs in two steps. First every bucket's integer token sums are added
//! into a group of (department, model, local day, time weight), which needs no decimal
//! arithmetic ([`super::group`], on every core); then each of the few thousand groups is
//! priced and weighted once. The result is exact all the same: cost is linear in tokens, and
//! every bucket of a group has the same price and weight.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::attribution::{Conservation, IllegalCalls, PriceUsed, Unpriced};
use super::bucket::{BucketSums, CallerId, ModelId};
use super::group::{GroupKey, available_threads, group_buckets};
use super::mapping::{Mapper, Pattern};
use super::pricing::{ONE_HOUR_BY_RULE, PriceTable, Priced, list_cost, one_hour_write_rate};
use super::weight::WeightTable;
use crate::config::{Model, Settings, UNATTRIBUTED};
use crate::load::{Dataset, InvoiceKind, Tokens};

/// Sums of one line item or one department while folding.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Successful calls.
    pub calls: u64,
    /// Failed calls.
    pub failed_calls: u64,
    /// Tokens.
    pub tokens: Tokens,
    /// Σ list cost.
    pub list_cost: Decimal,
    /// Σ converted amount.
    pub converted: Decimal,
    /// Σ provider cost.
    pub provider_cost: Decimal,
    /// Calls that carried a provider cost.
    pub provider_cost_calls: u64,
    /// Distinct callers.
    pub callers: BTreeSet<CallerId>,
}

impl Totals {
    fn add(&mut self, sums: &BucketSums, cost: Decimal, converted: Decimal) {
        self.calls += sums.calls;
        self.failed_calls += sums.failed_calls;
        self.tokens.add(&sums.tokens);
        self.list_cost += cost;
        self.converted += converted;
        self.provider_cost += sums.provider_cost;
        self.provider_cost_calls += sums.provider_cost_calls;
    }
}

/// Everything folded from the buckets.
#[derive(Debug, Default)]
pub struct Folded {
    /// Per (department, model label).
    pub lines: BTreeMap<(String, String), Totals>,
    /// The price used per model label.
    pub prices: BTreeMap<String, Option<PriceUsed>>,
    /// Per department.
    pub departments: BTreeMap<String, Totals>,
    /// List cost per department and local day.
    pub daily: BTreeMap<String, BTreeMap<NaiveDate, Decimal>>,
    /// Converted amount per department and local day.
    pub daily_converted: BTreeMap<String, BTreeMap<NaiveDate, Decimal>>,
    /// Unpriced models.
    pub unpriced: BTreeMap<String, Unpriced>,
    /// Calls and tokens left unpriced per (department, model as the source names it).
    pub unpriced_by_department: BTreeMap<(String, String), (u64, u64)>,
    /// Illegal calls per (department, caller, model, kind).
    pub illegal: BTreeMap<(String, String, String, String), u64>,
    /// Conservation per source.
    pub conservation: Vec<Conservation>,
    /// Invoice lines read from the sources, other than usage costs, summed by name and
    /// department.
    pub charges: Vec<Charge>,
    /// What the sources bill for usage (cost reports, FOCUS), when any of them does.
    pub billed_usage: Option<Decimal>,
    /// The part of that billed by cost lines whose caller maps to a department, per
    /// department.
    pub billed_by_department: BTreeMap<String, Decimal>,
}

/// Invoice lines of the sources that become one shared line.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    /// The shared line's name (`Tax: VAT`).
    pub name: String,
    /// What it is.
    pub kind: InvoiceKind,
    /// The sum of its rows, in the settlement currency.
    pub amount: Decimal,
    /// The department its caller maps to; `None` when it is shared.
    pub department: Option<String>,
}

/// What each caller and model resolves to, computed once per id rather than per bucket.
pub struct Resolved<'a> {
    /// Department names; callers refer to them by index.
    names: Vec<String>,
    departments: Vec<u32>,
    revoked: Vec<bool>,
    models: Vec<Option<&'a Model>>,
    allowed: HashMap<String, Vec<Pattern>>,
}

impl<'a> Resolved<'a> {
    /// Resolves every caller and model of a dataset.
    pub fn new(settings: &Settings, dataset: &Dataset, prices: &'a PriceTable) -> Resolved<'a> {
        let mapper = Mapper::new(&settings.config.mapping);
        let revoked: BTreeSet<&str> = settings
            .config
            .revoked_keys
            .iter()
            .map(String::as_str)
            .collect();
        let callers = &dataset.buckets.callers;
        let mut names: Vec<String> = Vec::new();
        let departments = callers
            .iter()
            .map(|caller| {
                let name = mapper.department_of(caller).0;
                let index = names.iter().position(|n| *n == name).unwrap_or_else(|| {
                    names.push(name);
                    names.len() - 1
                });
                index as u32
            })
            .collect();
        let allowed = settings
            .config
            .departments
            .iter()
            .filter(|d| !d.allowed_models.is_empty())
            .map(|d| {
                (
                    d.name.clone(),
                    d.allowed_models.iter().map(|p| Pattern::new(p)).collect(),
                )
            })
            .collect();
        Resolved {
            names,
            departments,
            revoked: callers
                .iter()
                .map(|c| c.api_key.as_deref().is_some_and(|k| revoked.contains(k)))
                .collect(),
            models: dataset
                .buckets
                .models
                .iter()
                .map(|m| prices.lookup(m))
                .collect(),
            allowed,
        }
    }

    /// The department of a caller.
    pub fn department(&self, caller: CallerId) -> &str {
        &self.names[self.departments[caller as usize] as usize]
    }

    /// The configured model a source's model refers to, if priced.
    pub fn model(&self, model: ModelId) -> Option<&'a Model> {
        self.models[model as usize]
    }

    fn model_allowed(&self, department: &str, raw: &str, model: Option<&Model>) -> bool {
        let Some(patterns) = self.allowed.get(department) else {
            return true;
        };
        let names = [Some(raw), model.map(|m| m.name.as_str())];
        patterns
            .iter()
            .any(|p| names.iter().flatten().any(|n| p.matches(n)))
    }
}

/// Folds every bucket of the dataset.
pub fn fold(settings: &Settings, dataset: &Dataset, prices: &PriceTable) -> Folded {
    let resolved = Resolved::new(settings, dataset, prices);
    let weights = WeightTable::new(&settings.config.time_weights);
    let groups = group_buckets(
        &dataset.buckets.sums,
        &resolved.departments,
        &weights,
        available_threads(),
    );

    let mut folded = Folded::default();
    for (key, sums) in &groups {
        let priced = prices.lookup_at(&dataset.buckets.models[key.model as usize], key.date());
        price_group(&mut folded, &resolved, dataset, &weights, key, sums, priced);
    }

    note_pairs(&mut folded, &resolved, dataset);
    folded.conservation = conservation(dataset, &resolved);
    fold_invoice_lines(settings, dataset, &mut folded);
    folded
}

/// Prices and weights one group at the price in force on its day, and adds it to its line,
/// department and day.
fn price_group(
    folded: &mut Folded,
    resolved: &Resolved<'_>,
    dataset: &Dataset,
    weights: &WeightTable,
    key: &GroupKey,
    sums: &BucketSums,
    priced: Option<Priced<'_>>,
) {
    let department = &resolved.names[key.department as usize];
    let day = key.date();
    let raw_model = &dataset.buckets.models[key.model as usize];
    let label =
        resolved.models[key.model as usize].map_or_else(|| raw_model.clone(), |m| m.name.clone());

    let cost = priced.map_or(Decimal::ZERO, |p| list_cost(&sums.tokens, p.model));
    let complexity = priced.map_or(Decimal::ONE, |p| p.model.complexity.0);
    let converted = cost * complexity * weights.weight(key.weight);

    folded
        .lines
        .entry((department.clone(), label.clone()))
        .or_default()
        .add(sums, cost, converted);
    folded
        .departments
        .entry(department.clone())
        .or_default()
        .add(sums, cost, converted);
    *folded
        .daily
        .entry(department.clone())
        .or_default()
        .entry(day)
        .or_default() += cost;
    *folded
        .daily_converted
        .entry(department.clone())
        .or_default()
        .entry(day)
        .or_default() += converted;
    record_price(
        &mut folded.prices,
        &label,
        priced,
        sums.tokens.cache_write_1h > 0,
    );
    if priced.is_none() {
        note_unpriced(folded, raw_model, sums);
        let entry = folded
            .unpriced_by_department
            .entry((department.clone(), raw_model.clone()))
            .or_default();
        entry.0 += sums.calls;
        entry.1 += sums.tokens.total();
    }
}

/// Maps the sources' invoice lines: each counts on the conservation line as attributed or
/// unattributed, like a call; the lines other than usage costs are summed into charges.
fn fold_invoice_lines(settings: &Settings, dataset: &Dataset, folded: &mut Folded) {
    let mapper = Mapper::new(&settings.config.mapping);
    let mut charges: BTreeMap<(String, Option<String>), Charge> = BTreeMap::new();
    for line in &dataset.invoice_lines {
        let (department, _) = mapper.department_of(&line.caller);
        let mapped = (department != UNATTRIBUTED).then_some(department);
        let conservation = &mut folded.conservation[line.source as usize];
        if mapped.is_some() {
            conservation.attributed += 1;
        } else {
            conservation.unattributed += 1;
        }
        if line.kind == InvoiceKind::Usage {
            if let Some(department) = mapped {
                *folded.billed_by_department.entry(department).or_default() += line.amount;
            }
            continue;
        }
        let name = line.name();
        charges
            .entry((name.clone(), mapped.clone()))
            .or_insert_with(|| Charge {
                name,
                kind: line.kind,
                amount: Decimal::ZERO,
                department: mapped,
            })
            .amount += line.amount;
    }
    folded.charges = charges.into_values().collect();
    folded.billed_usage = dataset
        .sources
        .iter()
        .filter_map(|s| s.billed_usage)
        .reduce(|a, b| a + b);
}

/// Records the price a line used. When a line's calls were priced at several dated
/// versions, the rates shown are the latest version's and the source names every version.
///
/// When one-hour cache writes of the line were priced by the provider's rule (the model lists
/// no one-hour rate), the source says so.
fn record_price(
    prices: &mut BTreeMap<String, Option<PriceUsed>>,
    label: &str,
    priced: Option<Priced<'_>>,
    one_hour_writes: bool,
) {
    let Some(priced) = priced else {
        prices.entry(label.to_string()).or_insert(None);
        return;
    };
    let version = match priced.model.effective_from {
        Some(from) => format!("{} from {from}", priced.source),
        None => priced.source.to_string(),
    };
    let entry = prices.entry(label.to_string()).or_insert(None);
    match entry {
        Some(used) if used.source.split("; ").any(|s| s == version) => {}
        Some(used) => {
            let sources = format!("{}; {version}", used.source);
            if priced.model.effective_from > used.effective_from {
                *used = price_used(priced.model, String::new());
            }
            used.source = sources;
        }
        None => *entry = Some(price_used(priced.model, version)),
    }
    let by_rule = one_hour_writes && one_hour_write_rate(priced.model).1;
    if let Some(used) = entry {
        if by_rule && !used.source.contains(ONE_HOUR_BY_RULE) {
            used.source = format!("{}; {ONE_HOUR_BY_RULE}", used.source);
        }
    }
}

fn price_used(model: &Model, source: String) -> PriceUsed {
    let cache_write = model.cache_write.map_or(model.input.0, |p| p.0);
    PriceUsed {
        input: model.input.0,
        cached_input: model.cached_input.map_or(model.input.0, |p| p.0),
        cache_write,
        cache_write_1h: one_hour_write_rate(model).0,
        output: model.output.0,
        complexity: model.complexity.0,
        source,
        effective_from: model.effective_from,
    }
}

fn note_unpriced(folded: &mut Folded, raw_model: &str, sums: &BucketSums) {
    let entry = folded
        .unpriced
        .entry(raw_model.to_string())
        .or_insert_with(|| Unpriced {
            model: raw_model.to_string(),
            calls: 0,
            tokens: Tokens::default(),
        });
    entry.calls += sums.calls;
    entry.tokens.add(&sums.tokens);
}

/// Walks the (caller, model) pairs: the callers behind each line, and the illegal calls.
fn note_pairs(folded: &mut Folded, resolved: &Resolved<'_>, dataset: &Dataset) {
    for (&(caller, model_id), &calls) in &dataset.buckets.pairs {
        let department = resolved.department(caller);
        let raw = &dataset.buckets.models[model_id as usize];
        let model = resolved.models[model_id as usize];
        let label = model.map_or(raw.as_str(), |m| m.name.as_str());
        if let Some(line) = folded
            .lines
            .get_mut(&(department.to_string(), label.to_string()))
        {
            line.callers.insert(caller);
        }
        if let Some(totals) = folded.departments.get_mut(department) {
            totals.callers.insert(caller);
        }
        if calls == 0 {
            continue;
        }
        let caller_label = || dataset.buckets.callers[caller as usize].label();
        let mut note = |kind: &str| {
            let key = (
                department.to_string(),
                caller_label(),
                label.to_string(),
                kind.to_string(),
            );
            *folded.illegal.entry(key).or_default() += calls;
        };
        if resolved.revoked[caller as usize] {
            note("revoked_key");
        }
        if !resolved.model_allowed(department, raw, model) {
            note("model_not_allowed");
        }
    }
}

/// The conservation line per source: rows of mapped callers are attributed, the others not.
fn conservation(dataset: &Dataset, resolved: &Resolved<'_>) -> Vec<Conservation> {
    let mut lines: Vec<Conservation> = dataset
        .sources
        .iter()
        .map(|s| Conservation {
            source: s.name.clone(),
            rows_read: s.rows_read,
            rejected: s.rejected,
            ..Conservation::default()
        })
        .collect();
    for (&(source, caller), &rows) in &dataset.buckets.rows_by_source {
        let line = &mut lines[source as usize];
        if resolved.department(caller) == UNATTRIBUTED {
            line.unattributed += rows;
        } else {
            line.attributed += rows;
        }
    }
    lines
}

/// Illegal calls as a list.
pub fn illegal_list(folded: &Folded) -> Vec<IllegalCalls> {
    folded
        .illegal
        .iter()
        .map(|((department, caller, model, kind), calls)| IllegalCalls {
            department: department.clone(),
            caller: caller.clone(),
            model: model.clone(),
            calls: *calls,
            kind: kind.clone(),
        })
        .collect()
}
