//! The month-end checklist as the review goes: evaluated again after every action, from the
//! session in memory, while the sources' hashes are read on another thread.
//!
//! Hashing the sources means reading every file again, which takes seconds on a large month.
//! So it runs on entering the checklist or the export menu and after a reload, on another
//! thread; every other action re-evaluates the checklist with the last hashes known, which
//! takes microseconds.

use std::sync::mpsc::{Receiver, TryRecvError};

use super::action::Action;
use super::app::{App, Screen};
use super::keys;
use super::modal::{Modal, Purpose};
use super::views::{Cursor, Filter};
use crate::calc::Status;
use crate::config::{Strategy, UNATTRIBUTED};
use crate::review::{Change, Check, Checklist, signoff};

/// Whether the sources were hashed again, and what that found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sources {
    /// Not yet hashed since the month was opened.
    #[default]
    Unchecked,
    /// Being hashed on another thread.
    Checking,
    /// Hashed: the names of the sources that changed since the calculation.
    Checked(Vec<String>),
    /// They could not be read.
    Failed(String),
}

/// The checklist screen's state.
#[derive(Debug, Default)]
pub struct ChecklistView {
    /// The checks as of the last action.
    pub checklist: Option<Checklist>,
    /// What the last hashing of the sources found.
    pub sources: Sources,
    /// The selected check.
    pub cursor: Cursor,
    hashing: Option<Receiver<Result<Vec<String>, String>>>,
}

impl ChecklistView {
    /// Moves the selection.
    pub fn step(&mut self, step: isize) {
        let len = self.checklist.as_ref().map_or(0, |c| c.checks.len());
        self.cursor.step(step, len);
    }

    /// The selected check.
    pub fn selected(&self) -> Option<&Check> {
        self.checklist.as_ref()?.checks.get(self.cursor.selected)
    }

    /// Whether the sources' hashes are known, so that the checklist is complete.
    pub fn sources_known(&self) -> bool {
        matches!(self.sources, Sources::Checked(_))
    }

    fn changed(&self) -> &[String] {
        match &self.sources {
            Sources::Checked(changed) => changed,
            _ => &[],
        }
    }
}

impl App {
    /// Evaluates the checklist again from the session in memory (no file is read).
    pub fn refresh_checklist(&mut self) {
        let Some(review) = &self.review else {
            return;
        };
        let checklist = review.checklist_given(self.checklist.changed());
        self.checklist.cursor.clamp(checklist.checks.len());
        self.checklist.checklist = Some(checklist);
    }

    /// Starts hashing the sources on another thread, unless that is under way.
    pub fn check_sources(&mut self) {
        let Some(review) = &self.review else {
            return;
        };
        if self.checklist.hashing.is_some() {
            return;
        }
        let request = review.source_check();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(request.run().map_err(|e| e.to_string()));
        });
        self.checklist.sources = Sources::Checking;
        self.checklist.hashing = Some(receiver);
    }

    /// Hashes the sources again, dropping a hashing under way: after a reload, it would
    /// compare the files with the figures from before.
    pub(super) fn recheck_sources(&mut self) {
        self.checklist.hashing = None;
        self.check_sources();
    }

    /// Takes the hashing's result when it has arrived.
    pub(super) fn poll_source_check(&mut self) {
        let Some(receiver) = &self.checklist.hashing else {
            return;
        };
        let result = match receiver.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err("the hashing stopped".into()),
        };
        self.sources_checked(result);
    }

    /// The sources were hashed: the checklist is complete again.
    pub fn sources_checked(&mut self, result: Result<Vec<String>, String>) {
        self.checklist.hashing = None;
        self.checklist.sources = match result {
            Ok(changed) => Sources::Checked(changed),
            Err(error) => Sources::Failed(error),
        };
        self.refresh_checklist();
    }

    /// Waits for the hashing of the sources to finish (tests and the export, which needs a
    /// complete checklist).
    pub fn wait_for_sources(&mut self) {
        if let Some(receiver) = self.checklist.hashing.take() {
            let result = receiver
                .recv()
                .unwrap_or_else(|_| Err("the hashing stopped".into()));
            self.sources_checked(result);
        }
    }

    pub(super) fn show_checklist(&mut self) {
        if self.review.is_none() {
            return;
        }
        self.show(Screen::Checklist);
        self.check_sources();
    }

    /// Goes to where the selected check is fixed.
    pub(super) fn fix_check(&mut self) {
        let Some(id) = self.checklist.selected().map(|c| c.id) else {
            return;
        };
        match id {
            "lines_decided" => self.queue_filtered(Filter::Pending),
            "no_open_dispute" => self.queue_filtered(Filter::Disputed),
            "settled_equals_amount" => self.queue_filtered(Filter::Decided),
            "unattributed" => self.open_modal(Action::ShareUnattributed),
            "rejects_acknowledged" => self.show(Screen::Rejects),
            "fuses_signed" => self.departments_to_sign(),
            "sources_unchanged" => {
                // Hashed again once the reload is in.
                self.check_sources();
                self.reload();
            }
            _ => self.say(next_step(id)),
        }
    }

    /// The queue filtered to the lines a check is about; a search left from before is
    /// cleared, so that it cannot hide them (an empty queue while lines are pending).
    fn queue_filtered(&mut self, filter: Filter) {
        self.queue.filter = filter;
        let search = std::mem::take(&mut self.queue.search);
        self.refresh_queue();
        self.show(Screen::Queue);
        if !search.is_empty() {
            self.say(format!(
                "search '{search}' cleared to show every line the check is about"
            ));
        }
    }

    /// The departments, with the first fused one whose fuse is not lifted selected.
    fn departments_to_sign(&mut self) {
        let Some(review) = &self.review else {
            return;
        };
        let unsigned = review.attribution.departments.iter().position(|d| {
            d.status == Status::Fuse && !signoff::lifted(&review.session.signoffs, &d.name)
        });
        if let Some(index) = unsigned {
            self.departments.selected = index;
        }
        self.show(Screen::Departments);
    }

    /// Whether unattributed usage is left to share.
    pub fn unattributed_left(&self) -> bool {
        self.review.as_ref().is_some_and(|r| {
            r.attribution
                .department(UNATTRIBUTED)
                .is_some_and(|d| !d.settled.is_zero())
        })
    }

    /// The dialog that asks how to share unattributed usage, when some is left.
    pub(super) fn share_modal(&self) -> Option<Modal> {
        if !self.unattributed_left() {
            return None;
        }
        Some(Modal::new(
            Purpose::Share,
            "Share unattributed usage".into(),
            "proportional (by each department's amount) or even (equally)",
            "proportional".into(),
        ))
    }

    /// Shares unattributed usage among the departments and shows what moved.
    pub(super) fn share(&mut self, text: &str) -> Result<(), String> {
        let strategy = match text.to_ascii_lowercase().as_str() {
            "proportional" | "p" => Strategy::Proportional,
            "even" | "e" => Strategy::Even,
            other => {
                return Err(format!(
                    "'{other}' is not a way to share: proportional or even"
                ));
            }
        };
        let now = self.now();
        let review = self.review.as_mut().ok_or("the month is not loaded")?;
        let recalculation = review
            .recalculate(Change::ShareUnattributed { strategy }, now)
            .map_err(|e| e.to_string())?;
        self.after_recalculation(format!(
            "{}: {} lines moved back to pending",
            recalculation.cause,
            recalculation.moved.len()
        ));
        Ok(())
    }
}

/// What to do about a check, naming the keys that do it.
pub fn next_step(id: &str) -> String {
    let key = |screen: Screen, action: Action| keys::key_for(screen, action);
    let fix = key(Screen::Checklist, Action::FixCheck);
    match id {
        "lines_decided" => format!(
            "{fix} opens the queue on the pending lines: {} approves, {} adjusts, {} disputes",
            key(Screen::Queue, Action::Approve),
            key(Screen::Queue, Action::Adjust),
            key(Screen::Queue, Action::Dispute)
        ),
        "no_open_dispute" => format!(
            "{fix} opens the queue on the disputed lines: approve ({}) or adjust ({}) each",
            key(Screen::Queue, Action::Approve),
            key(Screen::Queue, Action::Adjust)
        ),
        "settled_equals_amount" => format!(
            "{fix} opens the decided lines: adjust ({}) another line by the opposite amount, or \
             undo ({}) the adjustment",
            key(Screen::Queue, Action::Adjust),
            key(Screen::Queue, Action::Undo)
        ),
        "unattributed" => format!(
            "{} shares unattributed usage (proportional or even); or map each caller with {} \
             in the detail of an UNATTRIBUTED line",
            key(Screen::Checklist, Action::ShareUnattributed),
            key(Screen::Detail, Action::AssignCaller)
        ),
        "rejects_acknowledged" => format!(
            "{fix} opens the rejected rows: {} acknowledges each",
            key(Screen::Rejects, Action::Acknowledge)
        ),
        "no_unpriced_model" => {
            "add the model's price to the configuration (or a price list) and open the month again"
                .to_string()
        }
        "fuses_signed" => format!(
            "{fix} opens the departments: {} signs a fused one off, once as finance and once as \
             technical director, by two people",
            key(Screen::Departments, Action::SignOff)
        ),
        "sources_unchanged" => format!(
            "{fix} (or {}) reloads the sources and recalculates",
            key(Screen::Checklist, Action::Reload)
        ),
        "review_window" => format!(
            "allowed: the export menu ({}) asks for a note that the archive records",
            key(Screen::Checklist, Action::ShowExport)
        ),
        _ => String::new(),
    }
}
