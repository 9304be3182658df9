//! The text of an alert: a snapshot of the department's month, why its status was raised, and
//! what is asked of its head.
//!
//! It is plain text so that it reads the same in every mail client and in a terminal, and it
//! carries figures already rounded to the cent, the same as the report's.

use std::fmt::Write;

use crate::calc::{Attribution, DepartmentSummary, Status};
use crate::config::{Settings, Tier, UNATTRIBUTED};
use crate::report::{money, pct, routing};

/// The subject line of a department's alert.
pub fn subject(a: &Attribution, d: &DepartmentSummary) -> String {
    format!(
        "[apportion] {}: {} in the AI usage settlement of {}",
        d.name,
        d.status.label().to_uppercase(),
        a.period.month
    )
}

/// The body of a department's alert.
pub fn body(settings: &Settings, a: &Attribution, d: &DepartmentSummary) -> String {
    let mut out = String::new();
    greeting(&mut out, settings, a, d);
    figures(&mut out, a, d);
    reasons(&mut out, d);
    asked(&mut out, settings, a, d);
    let _ = writeln!(
        out,
        "\nAttached: {}'s list cost per day this month, with the budget prorated to a day.\n\
         List cost is before complexity weights and shared lines, which the settled amount \
         includes.",
        d.name
    );
    let _ = writeln!(
        out,
        "Alert thresholds in force: {}.",
        routing::thresholds(settings, &d.name)
    );
    let _ = writeln!(out, "\nNote: {}.", a.disclaimer);
    out
}

fn greeting(out: &mut String, settings: &Settings, a: &Attribution, d: &DepartmentSummary) {
    let configured = settings.department(&d.name);
    let owner = configured.map(|c| c.owner.trim()).unwrap_or("");
    let _ = writeln!(
        out,
        "{},\n",
        if owner.is_empty() {
            "Hello".to_string()
        } else {
            format!("Dear {owner}")
        }
    );
    let center = configured
        .map(|c| c.cost_center.trim())
        .filter(|c| !c.is_empty())
        .map(|c| format!(" (cost center {c})"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "the AI usage settlement of {} for {} puts {}{center} in status {}.",
        a.organization,
        a.period.month,
        d.name,
        d.status.label().to_uppercase()
    );
}

fn figures(out: &mut String, a: &Attribution, d: &DepartmentSummary) {
    let c = &a.currency;
    let data = a
        .period
        .data_through
        .map_or("no data".to_string(), |day| format!("data through {day}"));
    let _ = writeln!(
        out,
        "\nFigures to date ({data}; the books close on {}):",
        a.period.close_date
    );
    let mut rows = vec![
        ("Settled", format!("{} {c}", money(d.settled))),
        (
            "  of which usage",
            format!("{} {c}", money(d.usage_settled)),
        ),
        (
            "  of which shared lines",
            format!("{} {c}", money(d.shared_settled)),
        ),
        ("List cost", format!("{} {c}", money(d.list_cost))),
        ("Share of usage", pct(d.proportion)),
    ];
    if d.budget > rust_decimal::Decimal::ZERO {
        rows.push(("Budget", format!("{} {c}", money(d.budget))));
    }
    if let Some(usage) = d.budget_usage {
        rows.push(("Budget used", pct(usage)));
    }
    if let Some(prior) = d.prior {
        rows.push(("Last month", format!("{} {c}", money(prior))));
    }
    if a.period.days_without_data > 0 {
        let p = &d.projection;
        rows.push((
            "Projected at close",
            format!(
                "{} {c} (under stress {} {c})",
                money(p.at_close),
                money(p.at_close_stress)
            ),
        ));
    }
    for (label, value) in rows {
        let _ = writeln!(out, "  {label:<24} {value}");
    }
}

fn reasons(out: &mut String, d: &DepartmentSummary) {
    let _ = writeln!(out, "\nWhy:");
    for reason in &d.reasons {
        let _ = writeln!(out, "  - [{}] {}", reason.status.label(), reason.text);
    }
}

fn asked(out: &mut String, settings: &Settings, a: &Attribution, d: &DepartmentSummary) {
    let _ = writeln!(out, "\nWhat is asked:");
    match d.status {
        Status::Normal => {
            let _ = writeln!(out, "  Nothing: the department is within its budget.");
        }
        Status::Warning if d.name == UNATTRIBUTED => {
            let _ = writeln!(
                out,
                "  This usage has no department. Please map its callers to departments, or \
                 assign it to a shared line, before the close on {}.",
                a.period.close_date
            );
        }
        Status::Warning => {
            let _ = writeln!(
                out,
                "  Please decide before the close on {}: expand the budget of {}, or throttle \
                 its usage for the rest of the month. Reply to this message with your decision.",
                a.period.close_date, d.name
            );
        }
        Status::Fuse => fuse(out, settings, d),
    }
}

fn fuse(out: &mut String, settings: &Settings, d: &DepartmentSummary) {
    let baseline = settings
        .department(&d.name)
        .and_then(|c| c.baseline_model.as_deref())
        .unwrap_or("its baseline model (none configured)");
    let premium: Vec<&str> = settings
        .config
        .models
        .iter()
        .filter(|m| m.tier == Tier::Premium)
        .map(|m| m.name.as_str())
        .collect();
    let _ = writeln!(
        out,
        "  The fuse has blown: {} is downgraded to {baseline}, and premium models are paused{}.",
        d.name,
        if premium.is_empty() {
            String::new()
        } else {
            format!(" ({})", premium.join(", "))
        }
    );
    let _ = writeln!(
        out,
        "  Lifting the fuse needs two sign-offs by two different people: one from finance and \
         one from the technical director. Please review the reasons above with them."
    );
}
