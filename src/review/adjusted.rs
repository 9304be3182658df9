//! The settlement after the review: the computed attribution with the reviewer's adjustments
//! counted in.
//!
//! An adjustment never changes a computed line, so that every line stays traceable to the
//! rows behind it. It is booked beside the lines, as a line of its own in the department's
//! settlement (in [`Attribution::shared`], named `adjustment <line>: <reason>`), and it
//! counts in the department's settled total and in Σ settled. The amount to settle does not
//! move: the invoice is what is paid, and adjustments only move amounts between lines, so
//! the checklist asks them to net to zero. With that, every figure downstream (the archive's
//! summaries and CSV, the journal, next month's ledger) adds up to the amount to settle.

use super::decision::Adjustment;
use crate::calc::{ADJUSTMENT_PREFIX, Attribution, SharedAllocation};
use crate::config::Strategy;

/// The attribution with the adjustments counted in the departments' settled amounts.
///
/// An adjustment whose department has no figures this month (its line vanished with a
/// recalculation), or too large to add, is left out; the checklist says so.
pub fn with_adjustments(computed: &Attribution, adjustments: &[Adjustment]) -> Attribution {
    let mut a = computed.clone();
    for adjustment in adjustments {
        let Some(department) = a
            .departments
            .iter_mut()
            .find(|d| d.name == adjustment.key.department)
        else {
            continue;
        };
        let (Some(settled), Some(total)) = (
            department.settled.checked_add(adjustment.amount),
            a.settled.checked_add(adjustment.amount),
        ) else {
            continue;
        };
        department.settled = settled;
        a.settled = total;
        a.shared.push(SharedAllocation {
            name: format!(
                "{ADJUSTMENT_PREFIX}{}: {}",
                adjustment.key, adjustment.reason
            ),
            amount: adjustment.amount,
            strategy: Strategy::Fixed,
            by_department: [(adjustment.key.department.clone(), adjustment.amount)].into(),
        });
    }
    a
}
