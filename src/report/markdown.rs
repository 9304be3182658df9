//! The attribution as a Markdown document, for a wiki page or a ticket.

use std::fmt::Write;

use super::{count, money, pct};
use crate::calc::Attribution;

/// Renders the report as Markdown.
pub fn render(a: &Attribution) -> String {
    let mut out = String::new();
    let p = &a.period;
    let _ = writeln!(out, "# {} — settlement of {}\n", a.organization, p.month);
    let _ = writeln!(out, "> {}.\n", capitalized(a.disclaimer));
    let _ = writeln!(
        out,
        "- Close date: {} ({} days from {})",
        p.close_date, p.days_to_close, p.today
    );
    let _ = writeln!(
        out,
        "- Amount to settle: {} {}; settled: {}",
        money(a.amount_to_settle),
        a.currency,
        money(a.settled)
    );
    let _ = writeln!(out, "- Conservation: {}", a.conservation.line());
    let _ = writeln!(out, "- Rejected rows: {}\n", count(a.rejected_rows));

    let _ = writeln!(out, "## Departments\n");
    let _ = writeln!(
        out,
        "| department | status | calls | list cost | share | settled | budget usage | at close | reasons |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---|");
    for d in &a.departments {
        let reasons: Vec<&str> = d.reasons.iter().map(|r| r.text.as_str()).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.name,
            d.status.label(),
            count(d.calls),
            money(d.list_cost),
            pct(d.proportion),
            money(d.settled),
            d.budget_usage.map_or("-".into(), pct),
            money(d.projection.at_close),
            reasons.join("; ").replace('|', "\\|")
        );
    }

    let _ = writeln!(out, "\n## Line items\n");
    let _ = writeln!(
        out,
        "| department | model | calls | list cost | settled | ledger | mismatches |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|");
    for l in &a.lines {
        let kinds: Vec<String> = l
            .mismatches
            .iter()
            .map(|m| format!("{m:?}").to_lowercase())
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            l.department,
            l.model,
            count(l.calls),
            money(l.list_cost),
            money(l.settled),
            l.ledger_amount.map_or("-".into(), money),
            kinds.join(", ")
        );
    }

    let _ = writeln!(out, "\n## Mismatches\n");
    for m in &a.mismatches {
        let _ = writeln!(out, "- **{:?}**: {}", m.kind, m.text);
    }
    if a.mismatches.is_empty() {
        let _ = writeln!(out, "None.");
    }
    out
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}
