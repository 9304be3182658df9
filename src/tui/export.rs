//! The export menu: the approved archive and the settlement outputs, written into one folder
//! the reviewer chooses (the current directory at first).
//!
//! The archive is gated by the checklist and written first, on the UI thread: the core hashes
//! the sources again before writing it. The other outputs are written on another thread from
//! a copy of the settlement, since sending alerts through a mail server can take a while; the
//! menu shows what was written, or why not, when they are done.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError};

use super::app::{App, Message, Screen};
use super::checklist::Sources;
use super::modal::{Modal, Purpose};
use super::views::Cursor;
use crate::calc::Attribution;
use crate::outputs::{self, Output, Settlement, TableFormat};

/// What the menu can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The approved archive, its CSV of lines and the fuse policies.
    Archive,
    /// The routing table as CSV.
    RoutingCsv,
    /// The routing table as a workbook, with the line items and the checklist.
    RoutingXlsx,
    /// The accounting journal.
    Journal,
    /// The alert messages (sent too when a mail server is configured).
    Alerts,
}

impl Choice {
    /// Every choice, in the menu's order.
    pub const ALL: [Choice; 5] = [
        Choice::Archive,
        Choice::RoutingCsv,
        Choice::RoutingXlsx,
        Choice::Journal,
        Choice::Alerts,
    ];

    /// Its name in the menu.
    pub fn label(self) -> &'static str {
        match self {
            Choice::Archive => "approved archive",
            Choice::RoutingCsv => "routing table (CSV)",
            Choice::RoutingXlsx => "routing workbook",
            Choice::Journal => "accounting journal",
            Choice::Alerts => "alerts outbox",
        }
    }

    /// Where it is written in `folder`.
    pub fn target(self, folder: &Path, a: &Attribution) -> PathBuf {
        let month = &a.period.month;
        match self {
            Choice::Archive => crate::archive::paths(folder, a).0,
            Choice::RoutingCsv => folder.join(format!("routing-{month}.csv")),
            Choice::RoutingXlsx => folder.join(format!("routing-{month}.xlsx")),
            Choice::Journal => folder.join(format!("settlement-{month}.journal")),
            Choice::Alerts => folder.join(format!("alerts-{month}")),
        }
    }

    /// The settlement output it is, for all but the archive.
    fn output(self, folder: &Path, a: &Attribution) -> Option<Output> {
        let path = self.target(folder, a);
        match self {
            Choice::Archive => None,
            Choice::RoutingCsv => Some(Output::RoutingTable(path, TableFormat::Csv)),
            Choice::RoutingXlsx => Some(Output::RoutingTable(path, TableFormat::Xlsx)),
            Choice::Journal => Some(Output::Journal(path)),
            Choice::Alerts => Some(Output::Alerts(path)),
        }
    }
}

/// The export menu's state.
#[derive(Debug)]
pub struct ExportView {
    /// The folder everything is written into.
    pub folder: PathBuf,
    /// Which outputs are chosen, in the order of [`Choice::ALL`].
    pub chosen: [bool; 5],
    /// The selected output.
    pub cursor: Cursor,
    /// What the last writing wrote, or why not, line by line.
    pub written: Vec<Message>,
    writing: Option<Receiver<Vec<Message>>>,
}

impl Default for ExportView {
    /// The archive, the workbook and the journal chosen, into the current directory.
    fn default() -> ExportView {
        ExportView {
            folder: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            chosen: [true, false, true, true, false],
            cursor: Cursor::default(),
            written: Vec::new(),
            writing: None,
        }
    }
}

impl ExportView {
    /// Chooses the selected output, or leaves it out.
    pub fn toggle(&mut self) {
        if let Some(chosen) = self.chosen.get_mut(self.cursor.selected) {
            *chosen = !*chosen;
        }
    }

    /// Whether an output is chosen.
    pub fn is_chosen(&self, choice: Choice) -> bool {
        Choice::ALL
            .iter()
            .position(|c| *c == choice)
            .is_some_and(|i| self.chosen[i])
    }

    /// Whether outputs are being written on another thread.
    pub fn is_writing(&self) -> bool {
        self.writing.is_some()
    }
}

fn done(text: impl Into<String>) -> Message {
    Message {
        text: text.into(),
        error: false,
    }
}

fn failed(text: impl Into<String>) -> Message {
    Message {
        text: text.into(),
        error: true,
    }
}

impl App {
    pub(super) fn show_export(&mut self) {
        if self.review.is_none() {
            return;
        }
        self.push(Screen::Export);
        if self.checklist.sources == Sources::Unchecked {
            self.check_sources();
        }
    }

    pub(super) fn folder_modal(&self) -> Option<Modal> {
        (self.screen() == Screen::Export).then(|| {
            Modal::new(
                Purpose::ExportFolder,
                "Export into".into(),
                "the folder the outputs are written into (created if missing)",
                self.export.folder.display().to_string(),
            )
        })
    }

    /// The folder or the archive's note, typed into the dialog.
    pub(super) fn carry_out_export(&mut self, purpose: &Purpose, text: &str) -> Result<(), String> {
        if text.is_empty() {
            return Err(match purpose {
                Purpose::ExportNote => "the note is empty: say why the month is archived now",
                _ => "type a folder",
            }
            .into());
        }
        if *purpose == Purpose::ExportNote {
            self.write_outputs(Some(text.to_string()));
        } else {
            self.export.folder = PathBuf::from(text);
            self.say(format!("the outputs go to {text}"));
        }
        Ok(())
    }

    /// Writes the chosen outputs: the archive first, when the checklist allows it (asking
    /// for the note when a check allows the archive only with one), then the rest on another
    /// thread.
    pub(super) fn write_outputs(&mut self, note: Option<String>) {
        if let Err(why) = self.can_write() {
            return self.complain(why);
        }
        if self.export.is_chosen(Choice::Archive) && note.is_none() && self.needs_note() {
            self.modal = Some(Modal::new(
                Purpose::ExportNote,
                "Note for the archive".into(),
                "a check allows the archive only with a note (today outside the review \
                 window): say why",
                String::new(),
            ));
            return;
        }
        self.export.written.clear();
        if let Err(error) = std::fs::create_dir_all(&self.export.folder) {
            let folder = self.export.folder.display();
            return self.export_failed(format!("cannot create {folder}: {error}"));
        }
        if self.export.is_chosen(Choice::Archive) && !self.write_archive(note.as_deref()) {
            return self.export_failed("nothing else was written: the archive comes first");
        }
        self.write_in_background();
    }

    fn can_write(&self) -> Result<(), &'static str> {
        if self.export.is_writing() {
            return Err("still writing the last export");
        }
        if !self.export.chosen.contains(&true) {
            return Err("choose at least one output (Space)");
        }
        if self.export.is_chosen(Choice::Archive) && self.checklist.sources == Sources::Checking {
            return Err("the checklist is still hashing the sources; write again in a moment");
        }
        Ok(())
    }

    /// Whether the checklist allows the archive only with a note.
    fn needs_note(&self) -> bool {
        self.checklist
            .checklist
            .as_ref()
            .is_some_and(|c| c.ready(None).is_err() && c.ready(Some("note")).is_ok())
    }

    /// Writes the archive; false when it was refused or failed (the reasons are listed).
    fn write_archive(&mut self, note: Option<&str>) -> bool {
        let Some(review) = &self.review else {
            return false;
        };
        match review.export(&self.export.folder, note) {
            Ok(exported) => {
                let archive = exported.archive.display();
                self.export
                    .written
                    .push(done(format!("wrote the archive {archive}")));
                if let Some(policies) = exported.policies {
                    let policies = policies.display();
                    self.export
                        .written
                        .push(done(format!("wrote the fuse policies {policies}")));
                }
                true
            }
            Err(error) => {
                let text = format!("the archive was not written: {error}");
                self.export
                    .written
                    .extend(text.lines().map(|l| failed(l.trim_end())));
                false
            }
        }
    }

    /// Writes the other chosen outputs on another thread from a copy of the settlement.
    fn write_in_background(&mut self) {
        let Some(review) = &self.review else {
            return;
        };
        let folder = &self.export.folder;
        let outputs: Vec<Output> = Choice::ALL
            .into_iter()
            .filter(|c| self.export.is_chosen(*c))
            .filter_map(|c| c.output(folder, &review.attribution))
            .collect();
        if outputs.is_empty() {
            return self.export_finished(Vec::new());
        }
        let settings = review.settings.clone();
        let attribution = review.attribution.clone();
        let checks = self
            .checklist
            .checklist
            .as_ref()
            .map(|c| c.report_checks())
            .unwrap_or_default();
        let draft = (!self.export.is_chosen(Choice::Archive)).then(|| {
            let checklist = self.checklist.checklist.as_ref();
            checklist.map_or("the checklist is not known yet".to_string(), |c| {
                c.draft_reason()
            })
        });
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let settlement = Settlement {
                settings: &settings,
                attribution: &attribution,
                checks: &checks,
            };
            let _ = sender.send(write_all(&outputs, &settlement, draft.as_deref()));
        });
        self.export.writing = Some(receiver);
        self.say("writing…");
    }

    /// Takes what the writing thread wrote, when it is done.
    pub(super) fn poll_export(&mut self) {
        let Some(receiver) = &self.export.writing else {
            return;
        };
        let written = match receiver.try_recv() {
            Ok(written) => written,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => vec![failed("the writing stopped")],
        };
        self.export_finished(written);
    }

    /// Waits for the writing thread (tests).
    pub fn wait_for_export(&mut self) {
        if let Some(receiver) = self.export.writing.take() {
            let written = receiver
                .recv()
                .unwrap_or_else(|_| vec![failed("the writing stopped")]);
            self.export_finished(written);
        }
    }

    fn export_finished(&mut self, written: Vec<Message>) {
        self.export.writing = None;
        self.export.written.extend(written);
        let errors = self.export.written.iter().filter(|m| m.error).count();
        let folder = self.export.folder.display().to_string();
        match errors {
            0 => self.say(format!("written into {folder}")),
            n => self.complain(format!("{n} output(s) not written; see the export menu")),
        }
    }

    fn export_failed(&mut self, text: impl Into<String>) {
        self.export.written.push(failed(text));
        self.complain("not written; see the export menu");
    }
}

/// Writes each output in turn; one failing does not stop the others. Outputs written without
/// the archive are drafts, and say why (`draft`).
fn write_all(outputs: &[Output], settlement: &Settlement<'_>, draft: Option<&str>) -> Vec<Message> {
    let mut written = Vec::new();
    for output in outputs {
        let result = match draft {
            Some(why) => outputs::write_draft(output, settlement, why),
            None => outputs::write(output, settlement),
        };
        match result {
            Ok(text) => written.extend(text.lines().map(done)),
            Err(error) => written.push(failed(error.to_string())),
        }
    }
    written
}
