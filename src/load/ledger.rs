//! The prior ledger: amounts settled in earlier periods, per department and optionally per
//! model, used for month-over-month growth and for the ledger check of the current lines.
//!
//! Format: a CSV with the columns `period` (YYYY-MM), `department`, `model` (optional),
//! `amount`, `currency` and `tokens` (optional). A ledger is a finance document, so a row
//! that cannot be read stops the load with its line rather than being skipped.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::LoadError;

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The period as `YYYY-MM`.
    pub period: String,
    /// The department.
    pub department: String,
    /// The model, for a line item; `None` for a department total.
    pub model: Option<String>,
    /// The amount settled.
    pub amount: Decimal,
    /// Its currency.
    pub currency: String,
    /// Tokens, when recorded.
    pub tokens: Option<u64>,
    /// The line in the ledger file.
    pub line: u64,
}

/// A prior ledger.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ledger {
    /// Where it was read from.
    pub name: String,
    /// Its rows.
    pub entries: Vec<LedgerEntry>,
}

#[derive(Deserialize)]
struct Row {
    period: String,
    department: String,
    #[serde(default)]
    model: Option<String>,
    amount: String,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    tokens: Option<String>,
}

impl Ledger {
    /// Reads a ledger file; `currency` is the settlement currency rows default to.
    pub fn from_file(path: &Path, currency: &str) -> Result<Ledger, LoadError> {
        let bytes = std::fs::read(path).map_err(|error| {
            LoadError::new(path, None, format!("cannot read the ledger: {error}"))
        })?;
        Ledger::from_bytes(&path.display().to_string(), &bytes, currency)
    }

    /// Reads ledger content; `name` is used in messages.
    pub fn from_bytes(name: &str, bytes: &[u8], currency: &str) -> Result<Ledger, LoadError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let headers = reader
            .headers()
            .map_err(|e| {
                LoadError::new(name, Some(1), format!("cannot read the ledger header: {e}"))
            })?
            .clone();
        let trimmed: Vec<String> = headers
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        reader.set_headers(csv::StringRecord::from(trimmed.clone()));
        for required in ["period", "department", "amount"] {
            if !trimmed.iter().any(|h| h == required) {
                return Err(LoadError::new(
                    name,
                    Some(1),
                    format!(
                        "missing column '{required}': a ledger has the columns period, department, \
                         model (optional), amount, currency and tokens (optional)"
                    ),
                ));
            }
        }

        let mut entries = Vec::new();
        for result in reader.deserialize::<Row>() {
            let row = result.map_err(|e| {
                let line = e.position().map(|p| p.line());
                LoadError::new(name, line, format!("not a ledger row: {e}"))
            })?;
            entries.push(parse_row(row, name, entries.len() as u64 + 2, currency)?);
        }
        Ok(Ledger {
            name: name.to_string(),
            entries,
        })
    }

    /// Total settled per department in a period.
    ///
    /// A department's total is its model-less rows when it has any, otherwise the sum of its
    /// model lines, so that a ledger may carry either or both without counting twice.
    pub fn department_totals(&self, period: &str) -> BTreeMap<String, Decimal> {
        let mut totals: BTreeMap<String, (Decimal, Decimal, bool)> = BTreeMap::new();
        for entry in self.entries.iter().filter(|e| e.period == period) {
            let slot = totals.entry(entry.department.clone()).or_default();
            match entry.model {
                None => {
                    slot.0 += entry.amount;
                    slot.2 = true;
                }
                Some(_) => slot.1 += entry.amount,
            }
        }
        totals
            .into_iter()
            .map(|(department, (plain, lines, has_plain))| {
                (department, if has_plain { plain } else { lines })
            })
            .collect()
    }

    /// Amount per (department, model) line in a period.
    pub fn line_amounts(&self, period: &str) -> BTreeMap<(String, String), Decimal> {
        let mut lines = BTreeMap::new();
        for entry in self.entries.iter().filter(|e| e.period == period) {
            if let Some(model) = &entry.model {
                *lines
                    .entry((entry.department.clone(), model.clone()))
                    .or_insert(Decimal::ZERO) += entry.amount;
            }
        }
        lines
    }
}

fn parse_row(row: Row, name: &str, line: u64, currency: &str) -> Result<LedgerEntry, LoadError> {
    let error = |message: String| LoadError::new(name, Some(line), message);
    if crate::config::validate::month_bounds(&row.period).is_none() {
        return Err(error(format!(
            "period '{}' is not a month as YYYY-MM",
            row.period
        )));
    }
    let amount = Decimal::from_str(row.amount.trim())
        .map_err(|_| error(format!("amount '{}' is not a decimal number", row.amount)))?;
    let row_currency = row
        .currency
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| currency.to_string());
    if !row_currency.eq_ignore_ascii_case(currency) {
        return Err(error(format!(
            "amount in '{row_currency}' cannot be compared with the settlement currency '{currency}'"
        )));
    }
    let tokens = match row.tokens.filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            t.parse::<u64>()
                .map_err(|_| error(format!("tokens '{t}' is not a whole number")))?,
        ),
    };
    Ok(LedgerEntry {
        period: row.period,
        department: row.department,
        model: row.model.filter(|m| !m.is_empty()),
        amount,
        currency: row_currency.to_ascii_uppercase(),
        tokens,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "period,department,model,amount,currency,tokens\n\
        2026-10,Research,gpt-4o,100.00,USD,5000\n\
        2026-10,Research,claude-sonnet-4,50.50,USD,\n\
        2026-10,Sales,,80.00,USD,\n\
        2026-10,Sales,gpt-4o-mini,70.00,USD,\n";

    #[test]
    fn department_totals_prefer_total_rows() {
        let ledger = Ledger::from_bytes("ledger.csv", TEXT.as_bytes(), "USD").unwrap();
        let totals = ledger.department_totals("2026-10");
        assert_eq!(totals["Research"], Decimal::from_str("150.50").unwrap());
        assert_eq!(totals["Sales"], Decimal::from(80));
        assert_eq!(ledger.line_amounts("2026-10").len(), 3);
    }

    #[test]
    fn bad_amount_names_the_line() {
        let text = "period,department,amount\n2026-10,Research,12x\n";
        let error = Ledger::from_bytes("ledger.csv", text.as_bytes(), "USD").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.to_string().contains("ledger.csv:2"), "{error}");
    }

    #[test]
    fn other_currency_is_refused() {
        let text = "period,department,amount,currency\n2026-10,Research,12,EUR\n";
        assert!(Ledger::from_bytes("l.csv", text.as_bytes(), "USD").is_err());
    }
}
