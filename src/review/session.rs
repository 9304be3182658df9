//! The session: everything the reviewer did on one month, saved after every action.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::change::Change;
use super::decision::{Adjustment, Decision, LineKey, LineReview, Note};
use super::diff::{LineMove, Recalculation};
use super::signoff::{Role, SignOff};
use crate::calc::Attribution;

/// The version of the session file's layout.
pub const FORMAT_VERSION: u32 = 1;

/// How many steps `undo` can go back; older steps are dropped so that the file stays small.
pub const UNDO_DEPTH: usize = 100;

/// A rejected row, named by its source and line so that it survives a reload.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RejectRef {
    /// The source's name.
    pub source: String,
    /// The line.
    pub line: u64,
}

/// A source as it was when last read: a change of hash means the sources changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The source's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its content.
    pub sha256: String,
}

/// What one undo step restores: the reviewer's own work, not the calculation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The action the step undoes, for the message after undo.
    pub label: String,
    lines: Vec<LineReview>,
    adjustments: Vec<Adjustment>,
    acknowledged: Vec<RejectRef>,
}

/// One month's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Layout version of the file.
    pub format_version: u32,
    /// The organization.
    pub organization: String,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The name decisions are recorded under.
    pub reviewer: String,
    /// The review state of every line seen, in the order first seen.
    pub lines: Vec<LineReview>,
    /// Adjustment lines.
    pub adjustments: Vec<Adjustment>,
    /// Rejected rows the reviewer has acknowledged.
    pub acknowledged: Vec<RejectRef>,
    /// Changes to the configuration made during the review, reapplied when it is reopened.
    pub changes: Vec<Change>,
    /// Every recalculation with its cause and the lines it moved.
    pub recalculations: Vec<Recalculation>,
    /// The sources as last read.
    pub sources: Vec<Fingerprint>,
    /// The settled amount of every line as last computed, to tell what moved on reopening.
    #[serde(with = "amounts")]
    pub amounts: BTreeMap<LineKey, Decimal>,
    /// Sign-offs of fused departments. They are formal acts, not undo steps: a sign-off is
    /// taken back with [`Session::withdraw`], which is recorded too.
    #[serde(default)]
    pub signoffs: Vec<SignOff>,
    /// Sign-offs taken back, for the record.
    #[serde(default)]
    pub withdrawn: Vec<SignOff>,
    /// Steps that `undo` can go back, newest last.
    pub undo: Vec<Snapshot>,
    /// When the session was last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Session {
    /// A new, empty session.
    pub fn new(organization: &str, month: &str, reviewer: &str) -> Session {
        Session {
            format_version: FORMAT_VERSION,
            organization: organization.to_string(),
            month: month.to_string(),
            reviewer: reviewer.to_string(),
            lines: Vec::new(),
            adjustments: Vec::new(),
            acknowledged: Vec::new(),
            changes: Vec::new(),
            recalculations: Vec::new(),
            sources: Vec::new(),
            amounts: BTreeMap::new(),
            signoffs: Vec::new(),
            withdrawn: Vec::new(),
            undo: Vec::new(),
            updated_at: None,
        }
    }

    /// Makes sure every computed line has a review entry (pending when new) and remembers
    /// the computed amounts.
    pub fn sync(&mut self, attribution: &Attribution) {
        for line in &attribution.lines {
            let key = LineKey::of(line);
            if self.line(&key).is_none() {
                self.lines.push(LineReview::pending(key));
            }
        }
        self.amounts = super::diff::amounts(attribution);
    }

    /// The review entry of a line.
    pub fn line(&self, key: &LineKey) -> Option<&LineReview> {
        self.lines.iter().find(|l| &l.key == key)
    }

    fn line_mut(&mut self, key: &LineKey) -> &mut LineReview {
        let index = match self.lines.iter().position(|l| &l.key == key) {
            Some(index) => index,
            None => {
                self.lines.push(LineReview::pending(key.clone()));
                self.lines.len() - 1
            }
        };
        &mut self.lines[index]
    }

    /// The decision on a line (pending when it has none).
    pub fn decision(&self, key: &LineKey) -> Decision {
        self.line(key).map_or(Decision::Pending, |l| l.decision)
    }

    /// How many of these lines are decided.
    pub fn decided<'a>(&self, keys: impl IntoIterator<Item = &'a LineKey>) -> usize {
        keys.into_iter()
            .filter(|k| self.decision(k).is_decided())
            .count()
    }

    /// The adjustments of a line.
    pub fn adjustments_of<'a>(&'a self, key: &'a LineKey) -> impl Iterator<Item = &'a Adjustment> {
        self.adjustments.iter().filter(move |a| &a.key == key)
    }

    /// Approves a line as computed.
    pub fn approve(&mut self, key: &LineKey, now: DateTime<Utc>) {
        self.checkpoint(format!("approve {key}"));
        self.decide(key, Decision::Approved, now);
    }

    /// Adjusts a line: records the adjustment line and marks the line adjusted.
    pub fn adjust(&mut self, key: &LineKey, amount: Decimal, reason: &str, now: DateTime<Utc>) {
        self.checkpoint(format!("adjust {key}"));
        self.adjustments.push(Adjustment {
            key: key.clone(),
            amount,
            reason: reason.to_string(),
            by: self.reviewer.clone(),
            at: now,
        });
        self.decide(key, Decision::Adjusted, now);
    }

    /// Disputes a line, with a note saying why.
    pub fn dispute(&mut self, key: &LineKey, note: &str, now: DateTime<Utc>) {
        self.checkpoint(format!("dispute {key}"));
        self.push_note(key, note, now);
        self.decide(key, Decision::Disputed, now);
    }

    /// Adds a note to a line without deciding it.
    pub fn note(&mut self, key: &LineKey, text: &str, now: DateTime<Utc>) {
        self.checkpoint(format!("note on {key}"));
        self.push_note(key, text, now);
        self.touch(now);
    }

    /// Acknowledges a rejected row.
    pub fn acknowledge(&mut self, reject: RejectRef, now: DateTime<Utc>) {
        if self.acknowledged.contains(&reject) {
            return;
        }
        self.checkpoint(format!("acknowledge {}:{}", reject.source, reject.line));
        self.acknowledged.push(reject);
        self.touch(now);
    }

    /// Whether a rejected row was acknowledged.
    pub fn is_acknowledged(&self, reject: &RejectRef) -> bool {
        self.acknowledged.contains(reject)
    }

    /// Records a sign-off of a department, replacing an earlier one in the same role; refused
    /// (with the reason) when the same person already signed in the other role.
    pub fn sign(&mut self, signoff: SignOff) -> Result<(), String> {
        if let Some(reason) = super::signoff::refusal(
            &self.signoffs,
            &signoff.department,
            signoff.role,
            &signoff.name,
        ) {
            return Err(reason);
        }
        let at = signoff.at;
        self.signoffs
            .retain(|s| !(s.department == signoff.department && s.role == signoff.role));
        self.signoffs.push(signoff);
        self.touch(at);
        Ok(())
    }

    /// Takes back a department's sign-off in a role; returns whether there was one.
    pub fn withdraw(&mut self, department: &str, role: Role, now: DateTime<Utc>) -> bool {
        let Some(index) = self
            .signoffs
            .iter()
            .position(|s| s.department == department && s.role == role)
        else {
            return false;
        };
        let signoff = self.signoffs.remove(index);
        self.withdrawn.push(signoff);
        self.touch(now);
        true
    }

    /// Goes back one step; returns what was undone.
    ///
    /// Undo takes back the reviewer's own steps (decisions, notes, adjustments,
    /// acknowledgements), never a recalculation. A recalculation that moved a line rewrote
    /// that line in every step undo can go back to (see [`Session::record`]), so going back
    /// past it never brings back a decision made at an amount the line no longer has.
    pub fn undo(&mut self, now: DateTime<Utc>) -> Option<String> {
        let snapshot = self.undo.pop()?;
        self.lines = snapshot.lines;
        self.adjustments = snapshot.adjustments;
        self.acknowledged = snapshot.acknowledged;
        self.touch(now);
        Some(snapshot.label)
    }

    /// Records a recalculation and sends every line it moved back to pending, saying why.
    ///
    /// A recalculation is not an undo step: it changed the figures, and going back means
    /// making the opposite change, which is recorded in turn. The moved lines go back to
    /// pending in the steps undo keeps as well: a decision was taken on an amount, and once
    /// the amount moved no undo may revive it.
    pub fn record(&mut self, cause: &str, moved: Vec<LineMove>, now: DateTime<Utc>) {
        let by = self.reviewer.clone();
        for line in &moved {
            reset(&mut self.lines, &line.key, cause, &by, now);
            for snapshot in &mut self.undo {
                reset(&mut snapshot.lines, &line.key, cause, &by, now);
            }
        }
        self.recalculations.push(Recalculation {
            cause: cause.to_string(),
            by,
            at: now,
            moved,
        });
        self.touch(now);
    }

    fn decide(&mut self, key: &LineKey, decision: Decision, now: DateTime<Utc>) {
        let by = self.reviewer.clone();
        let entry = self.line_mut(key);
        entry.decision = decision;
        entry.by = Some(by);
        entry.at = Some(now);
        entry.reset = None;
        self.touch(now);
    }

    fn push_note(&mut self, key: &LineKey, text: &str, now: DateTime<Utc>) {
        let by = self.reviewer.clone();
        self.line_mut(key).notes.push(Note {
            by,
            at: now,
            text: text.to_string(),
        });
    }

    fn checkpoint(&mut self, label: String) {
        self.undo.push(Snapshot {
            label,
            lines: self.lines.clone(),
            adjustments: self.adjustments.clone(),
            acknowledged: self.acknowledged.clone(),
        });
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = Some(now);
    }
}

/// Sends a line back to pending because a recalculation moved it, keeping a note of the
/// decision it had.
fn reset(lines: &mut Vec<LineReview>, key: &LineKey, cause: &str, by: &str, now: DateTime<Utc>) {
    let index = match lines.iter().position(|l| &l.key == key) {
        Some(index) => index,
        None => {
            lines.push(LineReview::pending(key.clone()));
            lines.len() - 1
        }
    };
    let entry = &mut lines[index];
    if entry.decision.is_decided() {
        entry.notes.push(Note {
            by: by.to_string(),
            at: now,
            text: format!("was {} before: {cause}", entry.decision.label()),
        });
    }
    entry.decision = Decision::Pending;
    entry.reset = Some(format!("moved by a recalculation: {cause}"));
}

/// Line amounts as a list in the file, since JSON object keys must be text.
mod amounts {
    use super::*;
    use serde::{Deserializer, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Entry {
        #[serde(flatten)]
        key: LineKey,
        #[serde(with = "rust_decimal::serde::str")]
        settled: Decimal,
    }

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<LineKey, Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let entries: Vec<Entry> = map
            .iter()
            .map(|(key, settled)| Entry {
                key: key.clone(),
                settled: *settled,
            })
            .collect();
        entries.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<LineKey, Decimal>, D::Error> {
        let entries = Vec::<Entry>::deserialize(deserializer)?;
        Ok(entries.into_iter().map(|e| (e.key, e.settled)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 26, 9, minute, 0).unwrap()
    }

    fn key(department: &str) -> LineKey {
        LineKey::new(department, "gpt-4o")
    }

    #[test]
    fn approve_records_who_and_when() {
        let mut session = Session::new("Org", "2026-11", "ana");
        session.approve(&key("Sales"), at(1));
        let line = session.line(&key("Sales")).unwrap();
        assert_eq!(line.decision, Decision::Approved);
        assert_eq!(line.by.as_deref(), Some("ana"));
        assert_eq!(line.at, Some(at(1)));
    }

    #[test]
    fn adjustment_is_a_separate_line() {
        let mut session = Session::new("Org", "2026-11", "ana");
        session.adjust(&key("Sales"), Decimal::new(-1250, 2), "credit note", at(2));
        assert_eq!(session.decision(&key("Sales")), Decision::Adjusted);
        let sales = key("Sales");
        let adjustments: Vec<_> = session.adjustments_of(&sales).collect();
        assert_eq!(adjustments.len(), 1);
        assert_eq!(adjustments[0].amount, Decimal::new(-1250, 2));
        assert_eq!(adjustments[0].reason, "credit note");
    }

    #[test]
    fn dispute_keeps_its_note() {
        let mut session = Session::new("Org", "2026-11", "ana");
        session.dispute(&key("Legal"), "not our key", at(3));
        let line = session.line(&key("Legal")).unwrap();
        assert_eq!(line.decision, Decision::Disputed);
        assert_eq!(line.notes[0].text, "not our key");
    }

    #[test]
    fn undo_goes_back_one_step_at_a_time() {
        let mut session = Session::new("Org", "2026-11", "ana");
        session.approve(&key("Sales"), at(1));
        session.adjust(&key("Legal"), Decimal::ONE, "rounding", at(2));
        assert_eq!(
            session.undo(at(3)).as_deref(),
            Some("adjust Legal / gpt-4o")
        );
        assert_eq!(session.decision(&key("Legal")), Decision::Pending);
        assert!(session.adjustments.is_empty());
        assert_eq!(session.decision(&key("Sales")), Decision::Approved);
        session.undo(at(4));
        assert_eq!(session.decision(&key("Sales")), Decision::Pending);
        assert_eq!(session.undo(at(5)), None);
    }

    #[test]
    fn a_recalculation_resets_moved_lines_and_says_why() {
        let mut session = Session::new("Org", "2026-11", "ana");
        session.approve(&key("Sales"), at(1));
        session.approve(&key("Legal"), at(1));
        let moved = vec![LineMove {
            key: key("Sales"),
            before: Some(Decimal::ONE),
            after: Some(Decimal::TWO),
        }];
        session.record("complexity of gpt-4o 1 -> 2", moved, at(2));
        let sales = session.line(&key("Sales")).unwrap();
        assert_eq!(sales.decision, Decision::Pending);
        assert!(
            sales
                .reset
                .as_deref()
                .unwrap()
                .contains("complexity of gpt-4o")
        );
        assert_eq!(session.decision(&key("Legal")), Decision::Approved);
        assert_eq!(session.recalculations.len(), 1);
    }

    #[test]
    fn undo_after_a_recalculation_never_revives_a_decision_on_a_moved_line() {
        let mut session = Session::new("Org", "2026-11", "ana");
        session.approve(&key("Sales"), at(1));
        session.approve(&key("Legal"), at(2));
        let moved = vec![LineMove {
            key: key("Sales"),
            before: Some(Decimal::ONE),
            after: Some(Decimal::TWO),
        }];
        session.record("complexity of gpt-4o 1 -> 2", moved, at(3));

        assert_eq!(
            session.undo(at(4)).as_deref(),
            Some("approve Legal / gpt-4o")
        );
        assert_eq!(session.decision(&key("Legal")), Decision::Pending);
        let sales = session.line(&key("Sales")).unwrap();
        assert_eq!(
            sales.decision,
            Decision::Pending,
            "approved at 1, now 2: nobody approved 2"
        );
        assert!(sales.reset.as_deref().unwrap().contains("complexity"));
        assert!(
            sales
                .notes
                .iter()
                .any(|n| n.text.starts_with("was approved"))
        );

        assert_eq!(
            session.undo(at(5)).as_deref(),
            Some("approve Sales / gpt-4o")
        );
        assert_eq!(session.decision(&key("Sales")), Decision::Pending);
        assert_eq!(session.undo(at(6)), None);
    }

    #[test]
    fn undo_after_a_recalculation_keeps_lines_it_did_not_move() {
        let mut session = Session::new("Org", "2026-11", "ana");
        session.approve(&key("Legal"), at(1));
        session.dispute(&key("Sales"), "not ours", at(2));
        let moved = vec![LineMove {
            key: key("Sales"),
            before: Some(Decimal::ONE),
            after: Some(Decimal::TWO),
        }];
        session.record("price of gpt-4o", moved, at(3));
        session.undo(at(4));
        assert_eq!(session.decision(&key("Legal")), Decision::Approved);
        assert_eq!(session.decision(&key("Sales")), Decision::Pending);
    }

    #[test]
    fn the_session_survives_a_round_trip_through_json() {
        let mut session = Session::new("Org", "2026-11", "ana");
        session.adjust(&key("Sales"), Decimal::new(5, 1), "rounding", at(1));
        session.amounts.insert(key("Sales"), Decimal::new(12345, 2));
        let text = serde_json::to_string(&session).unwrap();
        let back: Session = serde_json::from_str(&text).unwrap();
        assert_eq!(back, session);
    }
}
