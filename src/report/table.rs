//! The attribution as aligned text for a terminal.

use std::fmt::Write;

use super::{count, money, pct};
use crate::calc::{Attribution, DepartmentSummary, Status};

/// Aligns rows of cells into columns; the first row is the header. Columns after the first
/// are right-aligned, as they hold figures, except those listed in `left`.
pub fn columns(rows: &[Vec<String>], left: &[usize]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c == 0 || left.contains(&c) {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
        if i == 0 {
            let _ = writeln!(
                out,
                "  {}",
                "-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1))
            );
        }
    }
    out
}

/// The light shown beside a status, in text so that it reads without colour.
pub fn light(status: Status) -> &'static str {
    match status {
        Status::Normal => "[ok]",
        Status::Warning => "[!!]",
        Status::Fuse => "[XX]",
    }
}

/// Renders the whole report.
pub fn render(a: &Attribution) -> String {
    let mut out = String::new();
    header(&mut out, a);
    departments(&mut out, a);
    lines(&mut out, a);
    shared(&mut out, a);
    mismatches(&mut out, a);
    let _ = writeln!(out, "\nNote: {}.", a.disclaimer);
    out
}

fn header(out: &mut String, a: &Attribution) {
    let p = &a.period;
    let _ = writeln!(
        out,
        "{} — settlement of {} ({})",
        a.organization, p.month, a.time_zone
    );
    let window = if p.in_review_window {
        "inside the review window"
    } else {
        "outside the review window"
    };
    let _ = writeln!(
        out,
        "Close {} ({} days from {}, {window} from {}); data through {}",
        p.close_date,
        p.days_to_close,
        p.today,
        p.review_window_start,
        p.data_through
            .map_or("(no data)".to_string(), |d| d.to_string())
    );
    let source = if a.from_invoice {
        "invoice total"
    } else {
        "list cost plus shared lines"
    };
    let _ = writeln!(
        out,
        "Amount to settle {} {} ({source}); settled {}; list cost {}",
        money(a.amount_to_settle),
        a.currency,
        money(a.settled),
        money(a.list_cost)
    );
    let _ = writeln!(out, "Conservation: {}", a.conservation.line());
    if a.conservation_by_source.len() > 1 {
        for line in &a.conservation_by_source {
            let _ = writeln!(out, "  {}: {}", line.source, line.line());
        }
    }
    if let Some(billed) = a.billed_usage {
        let _ = writeln!(
            out,
            "Usage billed by the sources {} {}",
            money(billed),
            a.currency
        );
    }
    for rate in &a.exchange_rates {
        let _ = writeln!(
            out,
            "Exchange rate 1 {} = {} {} ({} rows converted)",
            rate.currency,
            rate.rate.normalize(),
            a.currency,
            count(rate.rows)
        );
    }
    if a.rejected_rows > 0 {
        let _ = writeln!(
            out,
            "{} rows rejected: list them with `apportion report --rejects FILE.csv`",
            count(a.rejected_rows)
        );
    }
}

fn departments(out: &mut String, a: &Attribution) {
    let _ = writeln!(out, "\nDepartments");
    let mut rows = vec![
        [
            "department",
            "status",
            "calls",
            "tokens",
            "list cost",
            "weight",
            "converted",
            "share",
            "settled",
            "budget",
            "usage",
            "at close",
            "reason",
        ]
        .map(String::from)
        .to_vec(),
    ];
    rows.extend(a.departments.iter().map(department_row));
    out.push_str(&columns(&rows, &[1, 12]));
    tokens_by_kind(out, a);
}

/// The tokens of each department by kind, which price differently.
fn tokens_by_kind(out: &mut String, a: &Attribution) {
    let _ = writeln!(out, "\nTokens by kind");
    let mut rows = vec![
        [
            "department",
            "uncached input",
            "cached input",
            "cache write 5m",
            "cache write 1h",
            "output",
            "failed calls",
        ]
        .map(String::from)
        .to_vec(),
    ];
    rows.extend(a.departments.iter().map(|d| {
        let t = &d.tokens;
        vec![
            d.name.clone(),
            count(t.input),
            count(t.cached_input),
            count(t.cache_write),
            count(t.cache_write_1h),
            count(t.output),
            count(d.failed_calls),
        ]
    }));
    out.push_str(&columns(&rows, &[]));
}

fn department_row(d: &DepartmentSummary) -> Vec<String> {
    vec![
        d.name.clone(),
        format!("{} {}", light(d.status), d.status.label()),
        count(d.calls),
        count(d.tokens.total()),
        money(d.list_cost),
        d.effective_weight
            .map_or("-".into(), |w| format!("{:.3}", w)),
        money(d.converted),
        pct(d.proportion),
        money(d.settled),
        if d.budget.is_zero() {
            "-".into()
        } else {
            money(d.budget)
        },
        d.budget_usage.map_or("-".into(), pct),
        at_close(d),
        d.reasons.first().map_or(String::new(), |r| r.text.clone()),
    ]
}

/// The projection at close, with the status it would reach when that is not normal (under
/// the stress factor when only that reaches one).
fn at_close(d: &DepartmentSummary) -> String {
    let p = &d.projection;
    let reached = |status: Option<Status>| status.filter(|s| *s != Status::Normal);
    match (reached(p.status), reached(p.status_stress)) {
        (Some(status), _) => format!("{} {}", money(p.at_close), status.label()),
        (None, Some(status)) => format!("{} ({} if stressed)", money(p.at_close), status.label()),
        (None, None) => money(p.at_close),
    }
}

fn lines(out: &mut String, a: &Attribution) {
    let _ = writeln!(out, "\nLine items");
    let mut rows = vec![
        [
            "department",
            "model",
            "calls",
            "tokens",
            "list cost",
            "weight",
            "settled",
            "ledger",
            "mismatch",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for line in &a.lines {
        rows.push(vec![
            line.department.clone(),
            line.model.clone(),
            count(line.calls),
            count(line.tokens.total()),
            money(line.list_cost),
            line.effective_weight
                .map_or("-".into(), |w| format!("{:.3}", w)),
            money(line.settled),
            line.ledger_amount.map_or("-".into(), money),
            line.mismatches
                .iter()
                .map(|m| format!("{m:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(","),
        ]);
    }
    out.push_str(&columns(&rows, &[1, 8]));
}

fn shared(out: &mut String, a: &Attribution) {
    if a.shared.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nShared lines");
    for line in &a.shared {
        let split: Vec<String> = line
            .by_department
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(d, v)| format!("{d} {}", money(*v)))
            .collect();
        let _ = writeln!(
            out,
            "  {} {} ({:?}): {}",
            line.name,
            money(line.amount),
            line.strategy,
            split.join(", ")
        );
    }
}

fn mismatches(out: &mut String, a: &Attribution) {
    let _ = writeln!(out, "\nMismatches ({})", a.mismatches.len());
    for m in &a.mismatches {
        let _ = writeln!(out, "  [{:?}] {}", m.kind, m.text);
    }
}
