//! The attribution as people and programs read it: a table for the terminal, CSV, JSON and
//! Markdown. Every format carries the disclaimer and the conservation line.
//!
//! The settlement outputs for the rest of the company live here too: the routing table as
//! CSV ([`routing`]) or workbook ([`xlsx`]), and the accounting journal ([`journal`]).

pub mod checklist;
pub mod checks;
pub mod csv;
pub mod journal;
pub mod json;
pub mod markdown;
pub mod policy;
pub mod routing;
pub mod table;
pub mod xlsx;

use rust_decimal::Decimal;

use crate::calc::Attribution;

/// Output formats of `apportion report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// Line items as CSV, for spreadsheets.
    Csv,
    /// The whole attribution as JSON, for programs.
    Json,
    /// A Markdown document.
    Markdown,
}

/// Renders an attribution as the month's review has it: with the checklist (and where its
/// session is) in the table, JSON and Markdown, and in JSON the explanations when given.
pub fn render_reviewed(
    attribution: &Attribution,
    format: Format,
    extras: json::Extras<'_>,
    session: &str,
) -> String {
    let with_checklist =
        |text: String, section: fn(&crate::review::Checklist, &str) -> String| match extras
            .checklist
        {
            Some(checklist) => text + &section(checklist, session),
            None => text,
        };
    match format {
        Format::Table => with_checklist(table::render(attribution), checklist::table),
        Format::Json => json::render_with(attribution, extras),
        Format::Markdown => with_checklist(markdown::render(attribution), checklist::markdown),
        Format::Csv => csv::render(attribution),
    }
}

/// Renders an attribution in a format.
pub fn render(attribution: &Attribution, format: Format) -> String {
    match format {
        Format::Table => table::render(attribution),
        Format::Csv => csv::render(attribution),
        Format::Json => json::render(attribution),
        Format::Markdown => markdown::render(attribution),
    }
}

/// The note that an output of a settlement not yet approved carries before all others, with
/// why it is not approved: figures that may still move must not be posted as final ones.
pub fn draft_note(why: &str) -> String {
    format!(
        "DRAFT (not approved): {why}; the approved settlement is the one exported with its \
         archive (apportion export --archive DIR)"
    )
}

/// Money to the cent, with thousands separators (`12,345.60`).
pub fn money(amount: Decimal) -> String {
    let rounded = crate::calc::allocate::round_money(amount, 2);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.2}", rounded.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}{grouped}.{fraction}", if negative { "-" } else { "" })
}

/// A fraction as a percentage with one decimal.
pub fn pct(fraction: Decimal) -> String {
    format!("{:.1} %", (fraction * Decimal::ONE_HUNDRED).round_dp(1))
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    money(Decimal::from(n)).trim_end_matches(".00").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_is_grouped_and_rounded() {
        assert_eq!(
            money(Decimal::from_str("1234567.891").unwrap()),
            "1,234,567.89"
        );
        assert_eq!(money(Decimal::from_str("-0.005").unwrap()), "-0.01");
        assert_eq!(money(Decimal::from_str("12").unwrap()), "12.00");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(pct(Decimal::from_str("0.9234").unwrap()), "92.3 %");
    }
}
