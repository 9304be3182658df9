//! The review checklist as the reports show it.

use std::fmt::Write;

use crate::review::{Checklist, Outcome};

/// The checklist as text lines, under a heading that says where the session is.
pub fn table(checklist: &Checklist, session: &str) -> String {
    let mut out = format!(
        "\nChecklist ({} of {} pass; session {session})\n",
        checklist.passed(),
        checklist.checks.len()
    );
    for check in &checklist.checks {
        let _ = writeln!(
            out,
            "  [{:<4}] {}: {}",
            check.outcome.label(),
            check.title,
            check.reason
        );
    }
    out
}

/// The checklist as a Markdown section.
pub fn markdown(checklist: &Checklist, session: &str) -> String {
    let mut out = format!(
        "\n## Checklist\n\nSession: {session}\n\n| check | result | why |\n|---|---|---|\n"
    );
    for check in &checklist.checks {
        let result = match check.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "**fail**",
            Outcome::AllowedWithNote => "allowed with a note",
        };
        let _ = writeln!(
            out,
            "| {} | {result} | {} |",
            check.title,
            check.reason.replace('|', "\\|")
        );
    }
    out
}
