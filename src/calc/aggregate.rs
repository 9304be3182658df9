//! Folding buckets into departments and line items: mapping, pricing and weighting each
//! bucket once, so that the cost of a recalculation grows with the number of buckets only.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::attribution::{Conservation, IllegalCalls, PriceUsed, Unpriced};
use super::bucket::{BucketSums, CallerId, ModelId};
use super::mapping::{Mapper, Pattern};
use super::pricing::{PriceTable, Priced, list_cost};
use super::weight::time_weight;
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
    fn add(&mut self, caller: CallerId, sums: &BucketSums, cost: Decimal, converted: Decimal) {
        self.calls += sums.calls;
        self.failed_calls += sums.failed_calls;
        self.tokens.add(&sums.tokens);
        self.list_cost += cost;
        self.converted += converted;
        self.provider_cost += sums.provider_cost;
        self.provider_cost_calls += sums.provider_cost_calls;
        self.callers.insert(caller);
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
    /// Illegal calls per (department, caller, model, kind).
    pub illegal: BTreeMap<(String, String, String, String), u64>,
    /// Conservation per source.
    pub conservation: Vec<Conservation>,
    /// Invoice lines read from the sources, other than usage costs, summed by name and
    /// department.
    pub charges: Vec<Charge>,
    /// What the sources bill for usage (cost reports, FOCUS), when any of them does.
    pub billed_usage: Option<Decimal>,
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
struct Resolved<'a> {
    departments: Vec<String>,
    revoked: Vec<bool>,
    models: Vec<Option<&'a Model>>,
    allowed: HashMap<String, Vec<Pattern>>,
}

impl<'a> Resolved<'a> {
    fn new(settings: &Settings, dataset: &Dataset, prices: &'a PriceTable) -> Resolved<'a> {
        let mapper = Mapper::new(&settings.config.mapping);
        let revoked: BTreeSet<&str> = settings
            .config
            .revoked_keys
            .iter()
            .map(String::as_str)
            .collect();
        let callers = &dataset.buckets.callers;
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
            departments: callers.iter().map(|c| mapper.department_of(c).0).collect(),
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
    let mut folded = Folded::default();
    let mut in_force: HashMap<(ModelId, NaiveDate), Option<Priced<'_>>> = HashMap::new();

    for (key, sums) in dataset.buckets.sorted() {
        let department = &resolved.departments[key.caller as usize];
        let raw_model = &dataset.buckets.models[key.model as usize];
        let model = resolved.models[key.model as usize];
        let label = model.map_or_else(|| raw_model.clone(), |m| m.name.clone());
        let priced = *in_force
            .entry((key.model, key.hour.date()))
            .or_insert_with(|| prices.lookup_at(raw_model, key.hour.date()));

        let cost = priced.map_or(Decimal::ZERO, |p| list_cost(&sums.tokens, p.model));
        let weight = priced.map_or(Decimal::ONE, |p| p.model.complexity.0)
            * time_weight(
                &settings.config.time_weights,
                key.hour.weekday(),
                key.hour.hour(),
            );
        let converted = cost * weight;

        folded
            .lines
            .entry((department.clone(), label.clone()))
            .or_default()
            .add(key.caller, sums, cost, converted);
        folded
            .departments
            .entry(department.clone())
            .or_default()
            .add(key.caller, sums, cost, converted);
        *folded
            .daily
            .entry(department.clone())
            .or_default()
            .entry(key.hour.date())
            .or_default() += cost;
        *folded
            .daily_converted
            .entry(department.clone())
            .or_default()
            .entry(key.hour.date())
            .or_default() += converted;
        record_price(&mut folded.prices, &label, priced);

        if priced.is_none() {
            note_unpriced(&mut folded, raw_model, sums);
        }
        note_illegal(
            &mut folded,
            &resolved,
            dataset,
            key.caller,
            key.model,
            sums,
            department,
            model,
        );
    }

    folded.conservation = conservation(dataset, &resolved.departments);
    fold_invoice_lines(settings, dataset, &mut folded);
    folded
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
fn record_price(
    prices: &mut BTreeMap<String, Option<PriceUsed>>,
    label: &str,
    priced: Option<Priced<'_>>,
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
}

fn price_used(model: &Model, source: String) -> PriceUsed {
    let cache_write = model.cache_write.map_or(model.input.0, |p| p.0);
    PriceUsed {
        input: model.input.0,
        cached_input: model.cached_input.map_or(model.input.0, |p| p.0),
        cache_write,
        cache_write_1h: model.cache_write_1h.map_or(cache_write, |p| p.0),
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

#[allow(clippy::too_many_arguments)]
fn note_illegal(
    folded: &mut Folded,
    resolved: &Resolved<'_>,
    dataset: &Dataset,
    caller: CallerId,
    model_id: ModelId,
    sums: &BucketSums,
    department: &str,
    model: Option<&Model>,
) {
    if sums.calls == 0 {
        return;
    }
    let raw = &dataset.buckets.models[model_id as usize];
    let label = model.map_or(raw.as_str(), |m| m.name.as_str());
    let caller_label = dataset.buckets.callers[caller as usize].label();
    if resolved.revoked[caller as usize] {
        let key = (
            department.to_string(),
            caller_label.clone(),
            label.to_string(),
            "revoked_key".to_string(),
        );
        *folded.illegal.entry(key).or_default() += sums.calls;
    }
    if !resolved.model_allowed(department, raw, model) {
        let key = (
            department.to_string(),
            caller_label,
            label.to_string(),
            "model_not_allowed".to_string(),
        );
        *folded.illegal.entry(key).or_default() += sums.calls;
    }
}

/// The conservation line per source: rows of mapped callers are attributed, the others not.
fn conservation(dataset: &Dataset, departments: &[String]) -> Vec<Conservation> {
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
        if departments[caller as usize] == UNATTRIBUTED {
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
