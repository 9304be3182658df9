//! The order of the review queue: the riskiest lines first.

use std::cmp::Reverse;

use crate::calc::{Attribution, LineItem, Status};

/// How risky a line is, most risky first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Risk {
    /// Its department's fuse has blown.
    Fuse,
    /// The line has a mismatch.
    Mismatch,
    /// Its department is in warning.
    Warning,
    /// Nothing to flag.
    Rest,
}

impl Risk {
    /// The word shown in the queue.
    pub fn label(self) -> &'static str {
        match self {
            Risk::Fuse => "fuse",
            Risk::Mismatch => "mismatch",
            Risk::Warning => "warning",
            Risk::Rest => "",
        }
    }
}

/// The risk of a line within its attribution.
pub fn risk_of(attribution: &Attribution, line: &LineItem) -> Risk {
    let status = attribution
        .department(&line.department)
        .map_or(Status::Normal, |d| d.status);
    if status == Status::Fuse {
        Risk::Fuse
    } else if !line.mismatches.is_empty() {
        Risk::Mismatch
    } else if status == Status::Warning {
        Risk::Warning
    } else {
        Risk::Rest
    }
}

/// Indexes into `attribution.lines`, by risk, then by settled amount (largest first), then
/// by department and model so that the order is stable.
pub fn by_risk(attribution: &Attribution) -> Vec<usize> {
    let mut order: Vec<usize> = (0..attribution.lines.len()).collect();
    order.sort_by_key(|&i| {
        let line = &attribution.lines[i];
        (
            risk_of(attribution, line),
            Reverse(line.settled),
            line.department.clone(),
            line.model.clone(),
        )
    });
    order
}
