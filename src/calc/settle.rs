//! From converted amounts to the amount each department settles.
//!
//! The amount to settle is the invoice total when one is configured, otherwise the list cost
//! plus the shared lines. Usage (Σ list cost, to the minor unit) is allocated to departments
//! by their proportion of converted amount, then within each department to its lines by the
//! same measure. The shared lines, and the gap between the invoice's usage and our list cost,
//! are each split by their own strategy. Every split is exact (largest remainder), so the
//! settled amounts always sum to the amount to settle.
//!
//! The sources can carry the invoice side too. When they bill usage (a cost report, a FOCUS
//! bill) and no invoice total is configured, what they bill is the invoice's usage: the
//! amount to settle is that plus the shared lines, and the gap to the list cost is split as
//! usual, except the part a department's own cost lines explain: when a cost line's caller
//! maps to a department (an OpenAI project, say), what it bills that department minus the
//! department's list cost goes to that department whole, and only the rest of the gap is
//! shared. A proportional split with nothing to weigh by (no converted amount at all) is an
//! even split, and says so. Their taxes, credits, purchases, adjustments and corrections are shared lines
//! after the configured ones, split proportionally, or given whole to the department their
//! caller maps to.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::aggregate::{Charge, Folded};
use super::allocate::{Share, allocate, minor_unit_digits, round_money};
use super::attribution::SharedAllocation;
use crate::config::{Settings, SharedLine, Strategy, UNATTRIBUTED};

/// The name of the line that carries the gap between invoice usage and list cost.
pub const GAP_LINE: &str = "Invoice gap (invoice usage minus list cost)";

/// The name of the line that gives a department the part of the gap its own cost lines
/// explain: what the sources bill for its callers minus the list cost of its logs.
pub fn department_gap_name(department: &str) -> String {
    format!("Invoice gap of {department} (its billed usage minus its list cost)")
}

/// Whether a shared line carries (part of) the gap between invoice usage and list cost.
pub fn is_gap_line(name: &str) -> bool {
    name == GAP_LINE
        || (name.starts_with("Invoice gap of ")
            && name.ends_with(" (its billed usage minus its list cost)"))
}

/// The name of the line that carries unattributed usage when it is shared.
pub const UNATTRIBUTED_LINE: &str = "Unattributed usage";

/// The settlement of a month.
#[derive(Debug, Clone, Default)]
pub struct Settlement {
    /// What is settled.
    pub amount: Decimal,
    /// Whether that is the invoice total.
    pub from_invoice: bool,
    /// The invoice's usage minus our list cost (zero without an invoice).
    pub gap: Decimal,
    /// Usage allocated per department.
    pub usage: BTreeMap<String, Decimal>,
    /// Usage allocated per (department, model).
    pub lines: BTreeMap<(String, String), Decimal>,
    /// Shared lines (the gap first) as split.
    pub shared: Vec<SharedAllocation>,
}

impl Settlement {
    /// What a department settles in all.
    pub fn settled(&self, department: &str) -> Decimal {
        self.usage.get(department).copied().unwrap_or_default() + self.shared_settled(department)
    }

    /// A department's part of the shared lines.
    pub fn shared_settled(&self, department: &str) -> Decimal {
        self.shared
            .iter()
            .filter_map(|s| s.by_department.get(department))
            .sum()
    }
}

/// Settles the month; `departments` lists every department in report order.
pub fn settle(settings: &Settings, folded: &Folded, departments: &[String]) -> Settlement {
    let digits = minor_unit_digits(&settings.config.organization.currency);
    let invoice = &settings.config.invoice;
    let list_cost: Decimal = folded.departments.values().map(|t| t.list_cost).sum();
    let usage_pool = round_money(list_cost, digits);
    let shared_lines: Vec<SharedLine> = invoice
        .shared
        .iter()
        .cloned()
        .chain(folded.charges.iter().map(charge_line))
        .collect();
    let shared_total: Decimal = shared_lines
        .iter()
        .map(|l| round_money(l.amount.0, digits))
        .sum();

    let (amount, gap) = match (invoice.total, folded.billed_usage) {
        (Some(total), _) => {
            let total = round_money(total.0, digits);
            (total, total - shared_total - usage_pool)
        }
        (None, Some(billed)) => {
            let billed = round_money(billed, digits);
            (billed + shared_total, billed - usage_pool)
        }
        (None, None) => (usage_pool + shared_total, Decimal::ZERO),
    };

    let converted = |d: &String| {
        folded
            .departments
            .get(d)
            .map_or(Decimal::ZERO, |t| t.converted)
    };
    let weights = |names: &'_ [String]| -> Vec<(String, Decimal)> {
        names.iter().map(|d| (d.clone(), converted(d))).collect()
    };
    let everyone = weights(departments);
    let mut usage = split(usage_pool, &as_shares(&everyone), digits);

    // Shared lines go to the recipients: every department, or all but UNATTRIBUTED when its
    // usage is shared (it then settles nothing, and its usage is a shared line of its own).
    let recipients: Vec<String> = match invoice.unattributed {
        Some(_) => departments
            .iter()
            .filter(|d| *d != UNATTRIBUTED)
            .cloned()
            .collect(),
        None => departments.to_vec(),
    };
    let proportional = weights(&recipients);
    let mut shared = Vec::new();
    if let Some(strategy) = invoice.unattributed {
        let amount = usage
            .insert(UNATTRIBUTED.to_string(), Decimal::ZERO)
            .unwrap_or_default();
        if !amount.is_zero() {
            let line = plain_line(UNATTRIBUTED_LINE, amount, strategy);
            shared.push(split_shared(
                &line,
                folded,
                &recipients,
                &as_shares(&proportional),
                digits,
            ));
        }
    }
    let lines = split_lines(folded, &usage, digits);

    // Cost lines that map to a department are that department's bill: the part of the gap
    // they explain (what the department is billed minus its own list cost) goes to it whole.
    // Only the rest of the gap (unmapped cost lines against the other departments' usage) is
    // shared by the gap strategy.
    let mut rest_of_gap = gap;
    if folded.billed_usage.is_some() {
        for (department, billed) in &folded.billed_by_department {
            let own_cost = folded
                .departments
                .get(department)
                .map_or(Decimal::ZERO, |t| t.list_cost);
            let part = round_money(*billed, digits) - round_money(own_cost, digits);
            rest_of_gap -= part;
            if part.is_zero() {
                continue;
            }
            let line = SharedLine {
                name: department_gap_name(department),
                amount: part.into(),
                strategy: Strategy::Fixed,
                shares: BTreeMap::from([(department.clone(), Decimal::ONE_HUNDRED.into())]),
            };
            shared.push(split_shared(
                &line,
                folded,
                &recipients,
                &as_shares(&proportional),
                digits,
            ));
        }
    }
    if !rest_of_gap.is_zero() {
        let gap_line = plain_line(GAP_LINE, rest_of_gap, invoice.gap_strategy);
        shared.push(split_shared(
            &gap_line,
            folded,
            &recipients,
            &as_shares(&proportional),
            digits,
        ));
    }
    for line in &shared_lines {
        shared.push(split_shared(
            line,
            folded,
            &recipients,
            &as_shares(&proportional),
            digits,
        ));
    }

    Settlement {
        amount: with_scale(amount, digits),
        from_invoice: invoice.total.is_some() || folded.billed_usage.is_some(),
        gap: with_scale(gap, digits),
        usage,
        lines,
        shared,
    }
}

/// An amount written with the currency's scale (20.00, not 20).
fn with_scale(mut amount: Decimal, digits: u32) -> Decimal {
    amount.rescale(digits);
    amount
}

fn as_shares(weights: &[(String, Decimal)]) -> Vec<Share<'_>> {
    weights
        .iter()
        .map(|(name, weight)| Share {
            name,
            weight: *weight,
        })
        .collect()
}

fn plain_line(name: &str, amount: Decimal, strategy: Strategy) -> SharedLine {
    SharedLine {
        name: name.to_string(),
        amount: amount.into(),
        strategy,
        shares: BTreeMap::new(),
    }
}

/// A source's charge as a shared line: proportional, or all to the department it maps to.
fn charge_line(charge: &Charge) -> SharedLine {
    let (strategy, shares) = match &charge.department {
        Some(department) => (
            Strategy::Fixed,
            BTreeMap::from([(department.clone(), Decimal::ONE_HUNDRED.into())]),
        ),
        None => (Strategy::Proportional, BTreeMap::new()),
    };
    SharedLine {
        name: charge.name.clone(),
        amount: charge.amount.into(),
        strategy,
        shares,
    }
}

fn split(amount: Decimal, shares: &[Share<'_>], digits: u32) -> BTreeMap<String, Decimal> {
    let amounts = allocate(amount, shares, digits);
    shares
        .iter()
        .zip(amounts)
        .map(|(s, a)| (s.name.to_string(), a))
        .collect()
}

/// Splits each department's usage across its lines by converted amount.
fn split_lines(
    folded: &Folded,
    usage: &BTreeMap<String, Decimal>,
    digits: u32,
) -> BTreeMap<(String, String), Decimal> {
    let mut result = BTreeMap::new();
    for (department, amount) in usage {
        let keys: Vec<&(String, String)> = folded
            .lines
            .keys()
            .filter(|(d, _)| d == department)
            .collect();
        let shares: Vec<Share> = keys
            .iter()
            .map(|k| Share {
                name: &k.1,
                weight: folded.lines[*k].converted,
            })
            .collect();
        for (key, value) in keys.iter().zip(allocate(*amount, &shares, digits)) {
            result.insert((*key).clone(), value);
        }
    }
    result
}

fn split_shared(
    line: &SharedLine,
    folded: &Folded,
    departments: &[String],
    proportional: &[Share<'_>],
    digits: u32,
) -> SharedAllocation {
    let amount = with_scale(round_money(line.amount.0, digits), digits);
    // Proportional with nothing to weight by (no converted amount anywhere) is an even split,
    // and is labelled as such.
    let nothing_to_weigh = proportional.iter().all(|s| s.weight <= Decimal::ZERO);
    let strategy = match line.strategy {
        Strategy::Proportional if nothing_to_weigh => Strategy::Even,
        strategy => strategy,
    };
    let by_department = match strategy {
        Strategy::Proportional => split(amount, proportional, digits),
        Strategy::Even => split(amount, &even_shares(folded, departments), digits),
        Strategy::Fixed => {
            let shares: Vec<Share> = line
                .shares
                .iter()
                .map(|(d, s)| Share {
                    name: d,
                    weight: s.0,
                })
                .collect();
            split(amount, &shares, digits)
        }
    };
    SharedAllocation {
        name: line.name.clone(),
        amount,
        strategy,
        by_department,
    }
}

/// Equal weights for the departments that had usage, or for all when none had.
fn even_shares<'a>(folded: &Folded, departments: &'a [String]) -> Vec<Share<'a>> {
    let used: Vec<Share> = departments
        .iter()
        .filter(|d| folded.departments.get(*d).is_some_and(|t| t.calls > 0))
        .map(|d| Share {
            name: d,
            weight: Decimal::ONE,
        })
        .collect();
    if used.is_empty() {
        departments
            .iter()
            .map(|d| Share {
                name: d,
                weight: Decimal::ONE,
            })
            .collect()
    } else {
        used
    }
}
