//! The checklist that gates the archive: each check passes or fails with its reason.
//!
//! Outside the review window the export is still allowed, with a note that the archive
//! records; every other check must pass.

use rust_decimal::Decimal;
use serde::Serialize;

use super::decision::{Decision, LineKey};
use super::session::{RejectRef, Session};
use super::signoff;
use crate::calc::{Attribution, Status};
use crate::config::UNATTRIBUTED;

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It holds.
    Pass,
    /// It does not; the archive cannot be written.
    Fail,
    /// It does not, but the archive may be written with a note saying why.
    AllowedWithNote,
}

impl Outcome {
    /// The word shown beside the check.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::AllowedWithNote => "note",
        }
    }
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A stable identifier (`lines_decided`).
    pub id: &'static str,
    /// What is checked, for people.
    pub title: &'static str,
    /// Its result.
    pub outcome: Outcome,
    /// Why, with the figures.
    pub reason: String,
}

/// Every check, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Checklist {
    /// Why outputs written without the archive are a draft: the checks still open, or, when
    /// none is, that the archive was not written with them.
    pub fn draft_reason(&self) -> String {
        let open: Vec<&str> = self
            .checks
            .iter()
            .filter(|c| c.outcome != Outcome::Pass)
            .map(|c| c.title)
            .collect();
        match open.is_empty() {
            true => "the review's checklist passes, but the archive was not written with this \
                     export"
                .to_string(),
            false => format!(
                "{} of the review's {} checks are open ({})",
                open.len(),
                self.checks.len(),
                open.join("; ")
            ),
        }
    }

    /// Whether the archive may be written, given the note the reviewer offers for checks
    /// that allow one; otherwise the reasons why not.
    pub fn ready(&self, note: Option<&str>) -> Result<(), Vec<String>> {
        let has_note = note.is_some_and(|n| !n.trim().is_empty());
        let blocking: Vec<String> = self
            .checks
            .iter()
            .filter(|c| {
                c.outcome == Outcome::Fail || (c.outcome == Outcome::AllowedWithNote && !has_note)
            })
            .map(|c| match c.outcome {
                Outcome::AllowedWithNote => {
                    format!("{}: {} (allowed with a note)", c.title, c.reason)
                }
                _ => format!("{}: {}", c.title, c.reason),
            })
            .collect();
        if blocking.is_empty() {
            Ok(())
        } else {
            Err(blocking)
        }
    }

    /// The checks as the outputs list them (the workbook's checklist sheet): a check allowed
    /// with a note does not pass, and says so.
    pub fn report_checks(&self) -> Vec<crate::report::checks::Check> {
        self.checks
            .iter()
            .map(|c| crate::report::checks::Check {
                name: c.title.to_string(),
                passed: c.outcome == Outcome::Pass,
                detail: match c.outcome {
                    Outcome::AllowedWithNote => format!("{} (allowed with a note)", c.reason),
                    _ => c.reason.clone(),
                },
            })
            .collect()
    }

    /// How many checks pass.
    pub fn passed(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.outcome == Outcome::Pass)
            .count()
    }
}

/// What the checklist looks at besides the attribution and the session.
pub struct Facts<'a> {
    /// The rejected rows of the sources, as the session names them.
    pub rejects: &'a [RejectRef],
    /// Sources whose content changed since the last calculation.
    pub changed_sources: &'a [String],
}

/// Runs every check, on the review's settlement (the attribution with the session's
/// adjustments counted in, as [`super::adjusted::with_adjustments`] gives it).
pub fn evaluate(attribution: &Attribution, session: &Session, facts: &Facts<'_>) -> Checklist {
    let checks = vec![
        lines_decided(attribution, session),
        no_open_dispute(attribution, session),
        settled_equals_amount(attribution, session),
        unattributed(attribution),
        rejects_acknowledged(session, facts.rejects),
        no_unpriced_model(attribution),
        fuses_signed(attribution, session),
        sources_unchanged(facts.changed_sources),
        review_window(attribution),
    ];
    Checklist { checks }
}

fn check(id: &'static str, title: &'static str, ok: bool, reason: String) -> Check {
    Check {
        id,
        title,
        outcome: if ok { Outcome::Pass } else { Outcome::Fail },
        reason,
    }
}

/// Up to three names, then how many more.
fn some_of(names: &[String]) -> String {
    let mut text = names.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 3 {
        text.push_str(&format!(" and {} more", names.len() - 3));
    }
    text
}

fn keys(attribution: &Attribution) -> Vec<LineKey> {
    attribution.lines.iter().map(LineKey::of).collect()
}

fn lines_decided(attribution: &Attribution, session: &Session) -> Check {
    let keys = keys(attribution);
    let pending: Vec<String> = keys
        .iter()
        .filter(|k| !session.decision(k).is_decided())
        .map(|k| k.to_string())
        .collect();
    let decided = keys.len() - pending.len();
    let reason = match pending.is_empty() {
        true => format!("all {} lines decided", keys.len()),
        false => format!(
            "{decided} of {} lines decided; pending: {}",
            keys.len(),
            some_of(&pending)
        ),
    };
    check(
        "lines_decided",
        "Every line decided",
        pending.is_empty(),
        reason,
    )
}

fn no_open_dispute(attribution: &Attribution, session: &Session) -> Check {
    let disputed: Vec<String> = keys(attribution)
        .iter()
        .filter(|k| session.decision(k) == Decision::Disputed)
        .map(|k| k.to_string())
        .collect();
    let reason = match disputed.is_empty() {
        true => "no line is disputed".to_string(),
        false => format!("{} disputed: {}", disputed.len(), some_of(&disputed)),
    };
    check(
        "no_open_dispute",
        "No open dispute",
        disputed.is_empty(),
        reason,
    )
}

/// Adjustments move amounts between lines; they must net to zero for the settlement to stay
/// equal to the amount to settle. The attribution counts them in the departments' settled
/// amounts already (see [`super::adjusted`]).
fn settled_equals_amount(attribution: &Attribution, session: &Session) -> Check {
    // A session saved by hand could hold amounts too large to add; that is a failure to
    // report, not a reason to stop.
    let sum = session
        .adjustments
        .iter()
        .try_fold(Decimal::ZERO, |sum, a| sum.checked_add(a.amount));
    let departments = attribution
        .departments
        .iter()
        .try_fold(Decimal::ZERO, |sum, d| sum.checked_add(d.settled));
    let (Some(adjustments), Some(total)) = (sum, departments) else {
        let reason = "the adjustments are too large to add up; undo or correct them".to_string();
        return check(
            "settled_equals_amount",
            "Σ settled equals the amount to settle",
            false,
            reason,
        );
    };
    let ok = total == attribution.amount_to_settle;
    let reason = match (ok, adjustments.is_zero()) {
        (true, _) => format!(
            "{} settled = {} to settle",
            total, attribution.amount_to_settle
        ),
        (false, true) => format!(
            "{} settled, {} to settle",
            total, attribution.amount_to_settle
        ),
        (false, false) => format!(
            "{} settled plus adjustments of {adjustments} = {total}, but {} is to be \
             settled; adjustments must net to zero (move amounts between lines)",
            total - adjustments,
            attribution.amount_to_settle
        ),
    };
    check(
        "settled_equals_amount",
        "Σ settled equals the amount to settle",
        ok,
        reason,
    )
}

fn unattributed(attribution: &Attribution) -> Check {
    let left = attribution
        .department(UNATTRIBUTED)
        .filter(|d| !d.settled.is_zero());
    let reason = match left {
        None => "no usage is left unattributed".to_string(),
        Some(d) => format!(
            "{} calls settle {} on UNATTRIBUTED: map their callers, or share unattributed usage",
            d.calls, d.settled
        ),
    };
    check(
        "unattributed",
        "Unattributed usage mapped or shared",
        left.is_none(),
        reason,
    )
}

fn rejects_acknowledged(session: &Session, rejects: &[RejectRef]) -> Check {
    let open: Vec<String> = rejects
        .iter()
        .filter(|r| !session.is_acknowledged(r))
        .map(|r| format!("{}:{}", r.source, r.line))
        .collect();
    let reason = match open.is_empty() {
        true => format!("{} rejected rows, all acknowledged", rejects.len()),
        false => format!(
            "{} of {} rejected rows not acknowledged: {}",
            open.len(),
            rejects.len(),
            some_of(&open)
        ),
    };
    check(
        "rejects_acknowledged",
        "Rejected rows acknowledged",
        open.is_empty(),
        reason,
    )
}

fn no_unpriced_model(attribution: &Attribution) -> Check {
    let names: Vec<String> = attribution
        .unpriced
        .iter()
        .map(|u| format!("{} ({} calls)", u.model, u.calls))
        .collect();
    let reason = match names.is_empty() {
        true => "every model has a price".to_string(),
        false => format!("no price for {}", some_of(&names)),
    };
    check(
        "no_unpriced_model",
        "No unpriced model",
        names.is_empty(),
        reason,
    )
}

fn fuses_signed(attribution: &Attribution, session: &Session) -> Check {
    let fused: Vec<&str> = attribution
        .departments
        .iter()
        .filter(|d| d.status == Status::Fuse)
        .map(|d| d.name.as_str())
        .collect();
    let unsigned: Vec<String> = fused
        .iter()
        .filter(|d| !signoff::lifted(&session.signoffs, d))
        .map(|d| d.to_string())
        .collect();
    let reason = match (fused.is_empty(), unsigned.is_empty()) {
        (true, _) => "no department is fused".to_string(),
        (false, true) => format!(
            "{} fused, each signed off by finance and the technical director",
            fused.join(", ")
        ),
        (false, false) => format!(
            "{} need(s) a finance and a technical-director sign-off by two different people",
            some_of(&unsigned)
        ),
    };
    check(
        "fuses_signed",
        "Every fuse signed off twice",
        unsigned.is_empty(),
        reason,
    )
}

fn sources_unchanged(changed: &[String]) -> Check {
    let reason = match changed.is_empty() {
        true => "the sources are the ones calculated from".to_string(),
        false => format!(
            "changed since the last calculation: {} (reload them)",
            some_of(changed)
        ),
    };
    check(
        "sources_unchanged",
        "Sources unchanged since the last calculation",
        changed.is_empty(),
        reason,
    )
}

fn review_window(attribution: &Attribution) -> Check {
    let p = &attribution.period;
    let reason = format!(
        "today {}; the window runs {} to {}",
        p.today, p.review_window_start, p.close_date
    );
    Check {
        id: "review_window",
        title: "Today inside the review window",
        outcome: if p.in_review_window {
            Outcome::Pass
        } else {
            Outcome::AllowedWithNote
        },
        reason,
    }
}
