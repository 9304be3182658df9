//! Checks of line items against the ledger, the provider's own costs and the invoice.

use rust_decimal::Decimal;

use super::attribution::{Conservation, LineItem, Mismatch, MismatchKind, Unpriced};
use crate::config::Thresholds;

/// Whether two amounts differ beyond the tolerance: more than the absolute tolerance *and*
/// more than the relative tolerance of the larger of the two.
pub fn differs(a: Decimal, b: Decimal, t: &Thresholds) -> bool {
    let diff = (a - b).abs();
    let larger = a.abs().max(b.abs());
    diff > t.tolerance_absolute.0 && diff > t.tolerance_relative.0 * larger
}

/// A ledger mismatch for a line, when the ledger has an amount that differs.
pub fn ledger_line(line: &LineItem, t: &Thresholds) -> Option<Mismatch> {
    let expected = line.ledger_amount?;
    differs(line.settled, expected, t).then(|| Mismatch {
        kind: MismatchKind::Ledger,
        department: Some(line.department.clone()),
        model: Some(line.model.clone()),
        computed: line.settled,
        expected: Some(expected),
        text: format!(
            "the ledger holds {expected} for {} / {}, computed {} (difference {})",
            line.department,
            line.model,
            line.settled,
            line.settled - expected
        ),
    })
}

/// Ledger mismatches for lines the ledger books in the period but the sources do not show
/// at all: the computed amount is zero.
pub fn ledger_without_usage(
    booked: &std::collections::BTreeMap<(String, String), Decimal>,
    lines: &[LineItem],
) -> Vec<Mismatch> {
    let computed: std::collections::BTreeSet<(&str, &str)> = lines
        .iter()
        .map(|l| (l.department.as_str(), l.model.as_str()))
        .collect();
    booked
        .iter()
        .filter(|((department, model), amount)| {
            !amount.is_zero() && !computed.contains(&(department.as_str(), model.as_str()))
        })
        .map(|((department, model), &expected)| Mismatch {
            kind: MismatchKind::Ledger,
            department: Some(department.clone()),
            model: Some(model.clone()),
            computed: Decimal::ZERO,
            expected: Some(expected),
            text: format!(
                "the ledger holds {expected} for {department} / {model}, but the sources show \
                 no usage of it this period"
            ),
        })
        .collect()
}

/// Ledger mismatches for departments the ledger books in the prior month that the
/// configuration does not know: their amounts would otherwise drop out of the month-over-month
/// comparison without a word. A name that differs from a department only in case says which.
pub fn ledger_unknown_departments(
    prior_totals: &std::collections::BTreeMap<String, Decimal>,
    departments: &[&str],
    prior_month: &str,
) -> Vec<Mismatch> {
    prior_totals
        .iter()
        .filter(|(name, _)| !departments.contains(&name.as_str()))
        .map(|(name, &amount)| {
            let like = departments.iter().find(|d| d.eq_ignore_ascii_case(name));
            let hint = like.map_or(String::new(), |d| format!(" (did you mean '{d}'?)"));
            Mismatch {
                kind: MismatchKind::Ledger,
                department: Some(name.clone()),
                model: None,
                computed: Decimal::ZERO,
                expected: Some(amount),
                text: format!(
                    "the ledger books {amount} in {prior_month} for '{name}', which is not a \
                     department of the configuration{hint}: it is left out of the growth"
                ),
            }
        })
        .collect()
}

/// A price mismatch when the provider's cost differs from the price table's.
pub fn provider_cost(line: &LineItem, t: &Thresholds) -> Option<Mismatch> {
    // An unpriced model has its own mismatch; comparing its zero list cost says nothing more.
    line.price.as_ref()?;
    let reported = line.provider_cost?;
    differs(line.list_cost, reported, t).then(|| Mismatch {
        kind: MismatchKind::Price,
        department: Some(line.department.clone()),
        model: Some(line.model.clone()),
        computed: line.list_cost,
        expected: Some(reported),
        text: format!(
            "the provider reports {} for {} / {}, the price table gives {}",
            reported.round_dp(6),
            line.department,
            line.model,
            line.list_cost.round_dp(6)
        ),
    })
}

/// A price mismatch for a model with no price.
pub fn unpriced(model: &Unpriced) -> Mismatch {
    Mismatch {
        kind: MismatchKind::Price,
        department: None,
        model: Some(model.model.clone()),
        computed: Decimal::ZERO,
        expected: None,
        text: format!(
            "model '{}' has no price: {} calls and {} tokens are not costed; add it to [[models]] \
             (or an alias) and recalculate",
            model.model,
            model.calls,
            model.tokens.total()
        ),
    }
}

/// A total mismatch between the invoice's usage and Σ list cost.
pub fn invoice_total(
    list_cost: Decimal,
    invoice_usage: Decimal,
    t: &Thresholds,
) -> Option<Mismatch> {
    differs(list_cost, invoice_usage, t).then(|| Mismatch {
        kind: MismatchKind::Total,
        department: None,
        model: None,
        computed: list_cost,
        expected: Some(invoice_usage),
        text: format!(
            "the invoice's usage is {invoice_usage}, the list cost of the logs is {list_cost} \
             (gap {}, split as a shared line)",
            invoice_usage - list_cost
        ),
    })
}

/// A conservation mismatch: rows that do not add up (a defect, never expected).
pub fn conservation(line: &Conservation) -> Option<Mismatch> {
    (!line.holds()).then(|| Mismatch {
        kind: MismatchKind::Conservation,
        department: None,
        model: None,
        computed: Decimal::from(line.attributed + line.unattributed + line.rejected),
        expected: Some(Decimal::from(line.rows_read)),
        text: format!("{}: {}", line.source, line.line()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn tolerance_is_absolute_or_relative() {
        let t = Thresholds::default();
        assert!(
            !differs(d("100.00"), d("100.01"), &t),
            "one cent is within 0.01"
        );
        assert!(
            !differs(d("1000.00"), d("1004.00"), &t),
            "0.4 % is within 0.5 %"
        );
        assert!(differs(d("1000.00"), d("1006.00"), &t));
        assert!(
            differs(d("1.00"), d("1.02"), &t),
            "2 cents on 1.00 is beyond both"
        );
    }
}
