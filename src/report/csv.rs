//! Line items as CSV: one row per department and model, then one per shared line split,
//! then comment rows with the total settled and the conservation line, and the disclaimer
//! as the last row, so that the figures a reader checks the rows against travel with them.

use crate::calc::Attribution;
use crate::calc::allocate::{minor_unit_digits, round_money};

/// An amount in the currency's minor unit, with every decimal written (`-10.00`): an
/// adjustment keeps the digits it was typed with otherwise.
fn money(value: rust_decimal::Decimal, digits: u32) -> String {
    format!("{:.*}", digits as usize, round_money(value, digits))
}

/// The header of the line-item CSV.
pub const HEADER: [&str; 16] = [
    "period",
    "department",
    "model",
    "calls",
    "failed_calls",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "list_cost",
    "effective_weight",
    "converted",
    "settled",
    "ledger_amount",
    "mismatches",
    "currency",
];

/// Renders line items and shared splits as CSV.
pub fn render(a: &Attribution) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let mut rows: Vec<Vec<String>> = vec![HEADER.iter().map(|h| h.to_string()).collect()];
    for line in &a.lines {
        rows.push(vec![
            a.period.month.clone(),
            line.department.clone(),
            line.model.clone(),
            line.calls.to_string(),
            line.failed_calls.to_string(),
            line.tokens.input.to_string(),
            line.tokens.cached_input.to_string(),
            (line.tokens.cache_write + line.tokens.cache_write_1h).to_string(),
            line.tokens.output.to_string(),
            line.list_cost.round_dp(6).to_string(),
            line.effective_weight
                .map(|w| w.to_string())
                .unwrap_or_default(),
            line.converted.round_dp(6).to_string(),
            line.settled.to_string(),
            line.ledger_amount
                .map(|v| v.to_string())
                .unwrap_or_default(),
            line.mismatches
                .iter()
                .map(|m| format!("{m:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(";"),
            a.currency.clone(),
        ]);
    }
    let digits = minor_unit_digits(&a.currency);
    for shared in &a.shared {
        for (department, amount) in &shared.by_department {
            let mut row = vec![String::new(); HEADER.len()];
            row[0] = a.period.month.clone();
            row[1] = department.clone();
            // An adjustment's name says what it is (`adjustment <line>: <reason>`).
            row[2] = match shared.is_adjustment() {
                true => shared.name.clone(),
                false => format!("shared: {}", shared.name),
            };
            row[12] = money(*amount, digits);
            row[15] = a.currency.clone();
            rows.push(row);
        }
    }
    rows.push(vec![format!(
        "# settled {} {} of {} to settle",
        a.settled, a.currency, a.amount_to_settle
    )]);
    rows.push(vec![format!("# {}", a.conservation.line())]);
    rows.push(vec![format!("# {}", a.disclaimer)]);
    for row in rows {
        let _ = writer.write_record(&row);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}
