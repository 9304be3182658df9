//! What a recalculation moved: the settled amount of every line before and after.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::decision::LineKey;
use crate::calc::Attribution;

/// A line whose settled amount changed (or that appeared or vanished).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineMove {
    /// The line.
    #[serde(flatten)]
    pub key: LineKey,
    /// Settled before; `None` when the line did not exist.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub before: Option<Decimal>,
    /// Settled after; `None` when the line no longer exists.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub after: Option<Decimal>,
}

impl LineMove {
    /// After minus before, a missing side counting as zero.
    pub fn delta(&self) -> Decimal {
        self.after.unwrap_or_default() - self.before.unwrap_or_default()
    }
}

/// One recalculation: why, who, when, and every line it moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recalculation {
    /// What caused it.
    pub cause: String,
    /// Who asked for it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The lines it moved, in line order.
    pub moved: Vec<LineMove>,
}

/// The settled amount of every line.
pub fn amounts(attribution: &Attribution) -> BTreeMap<LineKey, Decimal> {
    attribution
        .lines
        .iter()
        .map(|l| (LineKey::of(l), l.settled))
        .collect()
}

/// Every line whose settled amount differs between two sets of amounts.
pub fn moved(
    before: &BTreeMap<LineKey, Decimal>,
    after: &BTreeMap<LineKey, Decimal>,
) -> Vec<LineMove> {
    let mut keys: Vec<&LineKey> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| LineMove {
            key: key.clone(),
            before: before.get(key).copied(),
            after: after.get(key).copied(),
        })
        .filter(|m| m.before != m.after)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_that_changed_are_moved() {
        let key = |d: &str| LineKey::new(d, "m");
        let before = BTreeMap::from([
            (key("A"), Decimal::ONE),
            (key("B"), Decimal::TWO),
            (key("C"), Decimal::TEN),
        ]);
        let after = BTreeMap::from([
            (key("A"), Decimal::ONE),
            (key("B"), Decimal::TEN),
            (key("D"), Decimal::ONE),
        ]);
        let moves = moved(&before, &after);
        let keys: Vec<&str> = moves.iter().map(|m| m.key.department.as_str()).collect();
        assert_eq!(keys, ["B", "C", "D"]);
        assert_eq!(moves[0].delta(), Decimal::from(8));
        assert_eq!(moves[1].after, None);
    }
}
