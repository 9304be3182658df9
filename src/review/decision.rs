//! Decisions on line items, notes and adjustments.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calc::LineItem;

/// What the reviewer decided about a line.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Not decided yet (or reset by a recalculation that moved the line).
    #[default]
    Pending,
    /// Accepted as computed.
    Approved,
    /// Accepted with an adjustment line beside it.
    Adjusted,
    /// Contested, with a note saying why.
    Disputed,
}

impl Decision {
    /// The word shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Decision::Pending => "pending",
            Decision::Approved => "approved",
            Decision::Adjusted => "adjusted",
            Decision::Disputed => "disputed",
        }
    }

    /// Whether the line counts as decided.
    pub fn is_decided(self) -> bool {
        self != Decision::Pending
    }
}

/// A line item's identity: a department's use of one model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LineKey {
    /// The department.
    pub department: String,
    /// The model (canonical name).
    pub model: String,
}

impl LineKey {
    /// A key from its parts.
    pub fn new(department: impl Into<String>, model: impl Into<String>) -> LineKey {
        LineKey {
            department: department.into(),
            model: model.into(),
        }
    }

    /// The key of a computed line.
    pub fn of(line: &LineItem) -> LineKey {
        LineKey::new(&line.department, &line.model)
    }
}

impl fmt::Display for LineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.department, self.model)
    }
}

/// A note left on a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Who wrote it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// What it says.
    pub text: String,
}

/// The review state of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineReview {
    /// Which line.
    #[serde(flatten)]
    pub key: LineKey,
    /// The decision.
    pub decision: Decision,
    /// Who made the decision.
    pub by: Option<String>,
    /// When it was made.
    pub at: Option<DateTime<Utc>>,
    /// Notes, oldest first.
    pub notes: Vec<Note>,
    /// Why the line went back to pending, when a recalculation moved it.
    pub reset: Option<String>,
}

impl LineReview {
    /// A pending line.
    pub fn pending(key: LineKey) -> LineReview {
        LineReview {
            key,
            decision: Decision::Pending,
            by: None,
            at: None,
            notes: Vec::new(),
            reset: None,
        }
    }
}

/// An adjustment: an amount beside a computed line, with its reason. It never changes the
/// computed line itself, so that the attribution stays traceable to the rows behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// The line it adjusts.
    #[serde(flatten)]
    pub key: LineKey,
    /// The amount added to the line (negative to reduce it).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// Why.
    pub reason: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}
