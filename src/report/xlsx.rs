//! The settlement as an Excel workbook: the routing table, the line items and the checklist,
//! each a sheet with a frozen header, filters and columns sized to their contents.
//!
//! Money cells hold numbers in the currency's format, so that finance can sum and pivot them.
//! A spreadsheet cell can only hold a binary floating-point number, so amounts are converted
//! from `Decimal` to `f64` here and nowhere else; every amount has at most a few decimal
//! places and far fewer than 15 significant digits, so the cell shows exactly our figure.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{DocProperties, Format, Workbook, Worksheet, XlsxError};

use super::checks::Check;
use super::routing::{self, RoutingRow};
use crate::calc::Attribution;
use crate::calc::allocate::minor_unit_digits;
use crate::config::Settings;

/// Names of the sheets, in order.
pub const SHEETS: [&str; 3] = ["Departments", "Line items", "Checklist"];

/// Widest a column grows to fit its text, in pixels; longer text wraps.
const MAX_COLUMN_PIXELS: u32 = 420;

/// Width of a money column, in characters. Autofit measures the raw number (`542.11`), not
/// the formatted cell (`542.11 USD`), which would then show as `####`.
const MONEY_WIDTH: f64 = 16.0;

/// Width of a percentage or ratio column, in characters (autofit measures all the digits of
/// the underlying fraction).
const FRACTION_WIDTH: f64 = 13.0;

/// The cell formats of a workbook.
struct Formats {
    header: Format,
    money: Format,
    fraction: Format,
    percent: Format,
    count: Format,
    text: Format,
    note: Format,
}

impl Formats {
    /// Money shows the currency's minor unit and its ISO code; the code rather than a
    /// symbol keeps the format the same for every currency.
    fn new(currency: &str) -> Formats {
        let digits = minor_unit_digits(currency) as usize;
        let number = if digits == 0 {
            "#,##0".to_string()
        } else {
            format!("#,##0.{}", "0".repeat(digits))
        };
        Formats {
            header: Format::new().set_bold(),
            money: Format::new()
                .set_num_format(format!("{number} \"{currency}\";-{number} \"{currency}\"")),
            fraction: Format::new().set_num_format("0.000"),
            percent: Format::new().set_num_format("0.0%"),
            count: Format::new().set_num_format("#,##0"),
            text: Format::new().set_text_wrap(),
            note: Format::new().set_italic(),
        }
    }
}

/// Renders the workbook; `checks` fills the checklist sheet.
pub fn render(
    settings: &Settings,
    a: &Attribution,
    checks: &[Check],
) -> Result<Vec<u8>, XlsxError> {
    render_with(settings, a, checks, None)
}

/// Renders the workbook of a settlement not yet approved: its title starts with `DRAFT` and
/// the first note under every sheet says it is not approved and why (`why`).
pub fn render_draft(
    settings: &Settings,
    a: &Attribution,
    checks: &[Check],
    why: &str,
) -> Result<Vec<u8>, XlsxError> {
    render_with(settings, a, checks, Some(why))
}

fn render_with(
    settings: &Settings,
    a: &Attribution,
    checks: &[Check],
    draft: Option<&str>,
) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new(&a.currency);
    let notes = routing::notes_with(a, draft);
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!(
                "{}{}: AI usage settlement of {}",
                if draft.is_some() {
                    "DRAFT (not approved): "
                } else {
                    ""
                },
                a.organization,
                a.period.month
            ))
            .set_comment(format!("note: {}", a.disclaimer)),
    );
    departments_sheet(
        workbook.add_worksheet(),
        &formats,
        &routing::rows(settings, a),
        &notes,
    )?;
    line_items_sheet(workbook.add_worksheet(), &formats, a, &notes)?;
    checklist_sheet(workbook.add_worksheet(), &formats, checks, &notes)?;
    workbook.save_to_buffer()
}

/// A money amount as a cell value (see the module's note on floating point).
fn cell(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

/// Writes the header row, freezes it and returns the next row.
fn header(sheet: &mut Worksheet, formats: &Formats, names: &[&str]) -> Result<u32, XlsxError> {
    for (col, name) in names.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &formats.header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(1)
}

/// Adds filters over the table, sizes its columns, then writes the notes below it (after
/// sizing, so that a long note does not widen the first column).
fn finish(
    sheet: &mut Worksheet,
    formats: &Formats,
    columns: usize,
    next_row: u32,
    notes: &[String],
    widths: &[(u16, f64)],
) -> Result<(), XlsxError> {
    sheet.autofilter(0, 0, next_row.saturating_sub(1).max(1), columns as u16 - 1)?;
    sheet.set_autofit_max_width(MAX_COLUMN_PIXELS).autofit();
    for (column, width) in widths {
        sheet.set_column_width(*column, *width)?;
    }
    for (i, note) in notes.iter().enumerate() {
        sheet.write_string_with_format(next_row + 1 + i as u32, 0, note, &formats.note)?;
    }
    Ok(())
}

fn departments_sheet(
    sheet: &mut Worksheet,
    formats: &Formats,
    rows: &[RoutingRow],
    notes: &[String],
) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[0])?;
    let mut row = header(sheet, formats, &routing::HEADER)?;
    for r in rows {
        department_row(sheet, formats, row, r)?;
        row += 1;
    }
    let widths = [
        (5, MONEY_WIDTH),
        (6, MONEY_WIDTH),
        (7, FRACTION_WIDTH),
        (8, FRACTION_WIDTH),
    ];
    finish(sheet, formats, routing::HEADER.len(), row, notes, &widths)
}

fn department_row(
    sheet: &mut Worksheet,
    formats: &Formats,
    row: u32,
    r: &RoutingRow,
) -> Result<(), XlsxError> {
    let texts = [&r.department, &r.cost_center, &r.owner, &r.contact, &r.flow];
    for (col, text) in texts.into_iter().enumerate() {
        sheet.write_string(row, col as u16, text)?;
    }
    sheet.write_number_with_format(row, 5, cell(r.budget), &formats.money)?;
    sheet.write_number_with_format(row, 6, cell(r.settled), &formats.money)?;
    // Fractions go into cells as floats too, formatted as percentages.
    sheet.write_number_with_format(row, 7, cell(r.proportion), &formats.percent)?;
    if let Some(usage) = r.budget_usage {
        sheet.write_number_with_format(row, 8, cell(usage), &formats.percent)?;
    }
    sheet.write_string(row, 9, r.status.label())?;
    sheet.write_string_with_format(row, 10, &r.action, &formats.text)?;
    sheet.write_string_with_format(row, 11, &r.reasons, &formats.text)?;
    sheet.write_string(row, 12, &r.thresholds)?;
    Ok(())
}

/// The columns of the line-item sheet.
pub const LINE_HEADER: [&str; 13] = [
    "department",
    "model",
    "calls",
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
];

fn line_items_sheet(
    sheet: &mut Worksheet,
    formats: &Formats,
    a: &Attribution,
    notes: &[String],
) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[1])?;
    let mut row = header(sheet, formats, &LINE_HEADER)?;
    for line in &a.lines {
        sheet.write_string(row, 0, &line.department)?;
        sheet.write_string(row, 1, &line.model)?;
        let t = &line.tokens;
        let counts = [
            line.calls,
            t.input,
            t.cached_input,
            t.cache_write + t.cache_write_1h,
            t.output,
        ];
        for (i, n) in counts.into_iter().enumerate() {
            // Counts above 2^53 would lose units; a month of tokens is far below that.
            sheet.write_number_with_format(row, 2 + i as u16, n as f64, &formats.count)?;
        }
        sheet.write_number_with_format(row, 7, cell(line.list_cost), &formats.money)?;
        if let Some(weight) = line.effective_weight {
            sheet.write_number_with_format(row, 8, cell(weight), &formats.fraction)?;
        }
        sheet.write_number_with_format(row, 9, cell(line.converted), &formats.money)?;
        sheet.write_number_with_format(row, 10, cell(line.settled), &formats.money)?;
        if let Some(ledger) = line.ledger_amount {
            sheet.write_number_with_format(row, 11, cell(ledger), &formats.money)?;
        }
        let kinds: Vec<String> = line
            .mismatches
            .iter()
            .map(|m| format!("{m:?}").to_lowercase())
            .collect();
        sheet.write_string(row, 12, kinds.join(";"))?;
        row += 1;
    }
    row = shared_rows(sheet, formats, row, a)?;
    let widths = [
        (7, MONEY_WIDTH),
        (8, FRACTION_WIDTH),
        (9, MONEY_WIDTH),
        (10, MONEY_WIDTH),
        (11, MONEY_WIDTH),
    ];
    finish(sheet, formats, LINE_HEADER.len(), row, notes, &widths)
}

/// The shared lines as split, one row per department, so that the settled column of the
/// sheet sums to the amount to settle.
fn shared_rows(
    sheet: &mut Worksheet,
    formats: &Formats,
    mut row: u32,
    a: &Attribution,
) -> Result<u32, XlsxError> {
    for shared in &a.shared {
        for (department, amount) in &shared.by_department {
            sheet.write_string(row, 0, department)?;
            sheet.write_string(row, 1, format!("shared: {}", shared.name))?;
            sheet.write_number_with_format(row, 10, cell(*amount), &formats.money)?;
            row += 1;
        }
    }
    Ok(row)
}

/// The columns of the checklist sheet.
pub const CHECK_HEADER: [&str; 3] = ["check", "result", "detail"];

fn checklist_sheet(
    sheet: &mut Worksheet,
    formats: &Formats,
    checks: &[Check],
    notes: &[String],
) -> Result<(), XlsxError> {
    sheet.set_name(SHEETS[2])?;
    let mut row = header(sheet, formats, &CHECK_HEADER)?;
    for check in checks {
        sheet.write_string(row, 0, &check.name)?;
        sheet.write_string(row, 1, check.result())?;
        sheet.write_string_with_format(row, 2, &check.detail, &formats.text)?;
        row += 1;
    }
    finish(sheet, formats, CHECK_HEADER.len(), row, notes, &[])
}
