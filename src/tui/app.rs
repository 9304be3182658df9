//! The application state and `update`, the only place that changes it.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

use chrono::{DateTime, Utc};
use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
use ratatui::layout::Rect;

use super::action::Action;
use super::checklist::ChecklistView;
use super::explorer::ExplorerView;
use super::export::ExportView;
use super::keys;
use super::modal::Modal;
use super::theme::Theme;
use super::views::{Cursor, DetailView, LoadingView, QueueView, Rows};
use crate::load::Progress;
use crate::review::breakdown::breakdown;
use crate::review::{LineKey, Reloaded, Review, SourceRow};

/// The screens. The current one is the top of [`App::stack`]; drilling down pushes, `Esc`
/// pops back to where the reviewer was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Reading the sources.
    Loading,
    /// The sources could not be read.
    Failed,
    /// The month at a glance.
    Overview,
    /// Every line, riskiest first.
    Queue,
    /// One line by caller and day.
    Detail,
    /// What each recalculation moved.
    Recalculations,
    /// The departments' configuration.
    Departments,
    /// Rows that were rejected.
    Rejects,
    /// The month-end checklist.
    Checklist,
    /// The export menu.
    Export,
    /// The keys.
    Help,
    /// A department's series, window, comparison, explanation and peak load.
    Explorer,
    /// The source rows behind a caller in the explorer's window.
    ExplorerRows,
}

impl Screen {
    /// Every screen, for tests that go through them all.
    pub const ALL: [Screen; 13] = [
        Screen::Loading,
        Screen::Failed,
        Screen::Overview,
        Screen::Queue,
        Screen::Detail,
        Screen::Recalculations,
        Screen::Departments,
        Screen::Rejects,
        Screen::Checklist,
        Screen::Export,
        Screen::Help,
        Screen::Explorer,
        Screen::ExplorerRows,
    ];

    /// The name in the header.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Loading => "Loading",
            Screen::Failed => "Error",
            Screen::Overview => "Overview",
            Screen::Queue => "Review queue",
            Screen::Detail => "Line detail",
            Screen::Recalculations => "Recalculations",
            Screen::Departments => "Departments",
            Screen::Rejects => "Rejected rows",
            Screen::Checklist => "Checklist",
            Screen::Export => "Export",
            Screen::Help => "Help",
            Screen::Explorer => "Explorer",
            Screen::ExplorerRows => "Rows behind a caller",
        }
    }
}

/// A line of feedback under the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// What to say.
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
}

/// Everything the screen shows.
pub struct App {
    /// Colours and symbols.
    pub theme: Theme,
    /// False once the user asked to quit.
    pub running: bool,
    /// Screens, the current one last.
    pub stack: Vec<Screen>,
    /// The loading gauge.
    pub loading: LoadingView,
    /// The month, once loaded.
    pub review: Option<Review>,
    /// Why loading failed.
    pub failure: Option<String>,
    /// The queue.
    pub queue: QueueView,
    /// The line detail, while open.
    pub detail: Option<DetailView>,
    /// Selection on the departments screen.
    pub departments: Cursor,
    /// Selection on the rejected rows screen.
    pub rejects: Cursor,
    /// Selection on the recalculations screen (newest first).
    pub recalculations: Cursor,
    /// The month-end checklist.
    pub checklist: ChecklistView,
    /// The export menu.
    pub export: ExportView,
    /// The open dialog.
    pub modal: Option<Modal>,
    /// Feedback of the last action.
    pub message: Option<Message>,
    /// The terminal's size, for paging and mouse clicks.
    pub size: Rect,
    /// The time decisions are recorded at (fixed in tests).
    pub clock: fn() -> DateTime<Utc>,
    /// The explorer, once opened.
    pub explorer: Option<ExplorerView>,
    rows_result: Option<Receiver<Result<Vec<SourceRow>, String>>>,
    reloading: Option<Receiver<Result<Reloaded, String>>>,
}

impl App {
    /// An app that shows the loading gauge of this progress.
    pub fn new(progress: Arc<Progress>, theme: Theme, size: Rect) -> App {
        App {
            theme,
            running: true,
            stack: vec![Screen::Loading],
            loading: LoadingView::new(progress),
            review: None,
            failure: None,
            queue: QueueView::default(),
            detail: None,
            departments: Cursor::default(),
            rejects: Cursor::default(),
            recalculations: Cursor::default(),
            checklist: ChecklistView::default(),
            export: ExportView::default(),
            modal: None,
            message: None,
            size,
            clock: Utc::now,
            explorer: None,
            rows_result: None,
            reloading: None,
        }
    }

    /// The current screen.
    pub fn screen(&self) -> Screen {
        self.stack.last().copied().unwrap_or(Screen::Overview)
    }

    /// The loader finished: show the overview, or why it failed.
    pub fn loaded(&mut self, result: Result<Review, String>) {
        match result {
            Ok(review) => {
                self.queue.refresh(&review.attribution, &review.session);
                let path = review.session_path().display().to_string();
                let fused = review
                    .policies()
                    .iter()
                    .any(|p| p.action == crate::report::policy::Action::Downgrade);
                let policies = fused.then(|| review.policies_dir());
                self.review = Some(review);
                let (decided, total) = self.decided();
                let mut said = format!("{decided} of {total} decided; session {path}");
                if let Some(dir) = policies {
                    said.push_str(&format!("; fuse policies in {}", dir.display()));
                }
                self.say(said);
                self.stack = vec![Screen::Overview];
            }
            Err(error) => {
                self.failure = Some(error);
                self.stack = vec![Screen::Failed];
            }
        }
    }

    /// Decided lines and all lines.
    pub fn decided(&self) -> (usize, usize) {
        let Some(review) = &self.review else {
            return (0, 0);
        };
        let keys: Vec<LineKey> = review.attribution.lines.iter().map(LineKey::of).collect();
        (review.session.decided(&keys), keys.len())
    }

    /// Turns a terminal event into an action.
    pub fn action_for(&mut self, event: &Event) -> Option<Action> {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.key_action(key),
            Event::Mouse(mouse) => match mouse.kind {
                MouseEventKind::ScrollDown => Some(Action::Down),
                MouseEventKind::ScrollUp => Some(Action::Up),
                MouseEventKind::Down(MouseButton::Left) => Some(Action::Click(mouse.row)),
                _ => None,
            },
            Event::Resize(width, height) => {
                self.size = Rect::new(0, 0, *width, *height);
                None
            }
            _ => None,
        }
    }

    fn key_action(&self, key: &KeyEvent) -> Option<Action> {
        if self.modal.is_none() {
            return keys::action_for(self.screen(), key);
        }
        // In a dialog every character is text; with Ctrl, C still quits and U clears the
        // text, as in a shell, and no other letter is typed.
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return match key.code {
                KeyCode::Char('c') => Some(Action::Quit),
                KeyCode::Char('u') => Some(Action::EraseAll),
                _ => None,
            };
        }
        match key.code {
            KeyCode::Char(c) => Some(Action::Type(c)),
            KeyCode::Backspace => Some(Action::Erase),
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Back),
            _ => None,
        }
    }

    /// Changes the state by one action; the checklist follows every change.
    pub fn update(&mut self, action: Action) {
        self.apply(action);
        if action != Action::Tick {
            self.refresh_checklist();
        }
    }

    fn apply(&mut self, action: Action) {
        if self.modal.is_some() && !matches!(action, Action::Quit | Action::Tick) {
            self.modal_action(action);
            return;
        }
        match action {
            Action::Quit => self.running = false,
            Action::Tick => self.tick(),
            Action::Back => self.back(),
            Action::ShowHelp => self.push(Screen::Help),
            Action::ShowOverview => self.show(Screen::Overview),
            Action::ShowQueue => self.show(Screen::Queue),
            Action::ShowDepartments => self.show(Screen::Departments),
            Action::ShowRejects => self.show(Screen::Rejects),
            Action::ShowRecalculations => self.show(Screen::Recalculations),
            Action::ShowChecklist => self.show_checklist(),
            Action::ShowExport => self.show_export(),
            Action::FixCheck => self.fix_check(),
            Action::SignOff => self.open_sign_off(),
            Action::WithdrawSignOff => self.open_withdraw(),
            Action::ToggleOutput => self.export.toggle(),
            Action::WriteOutputs => self.write_outputs(None),
            Action::Down => self.step(1),
            Action::Up => self.step(-1),
            Action::PageDown => self.step(self.page() as isize),
            Action::PageUp => self.step(-(self.page() as isize)),
            Action::Top => self.step(isize::MIN / 2),
            Action::Bottom => self.step(isize::MAX / 2),
            Action::Click(row) => self.click(row),
            Action::Open => self.open_detail(),
            Action::NextPanel => self.detail.iter_mut().for_each(DetailView::next_panel),
            Action::ReadRows if self.screen() == Screen::Explorer => self.explore(action),
            Action::ReadRows => self.read_rows(),
            Action::CycleFilter => self.refilter(|q| q.filter = q.filter.next()),
            Action::CycleSort => self.refilter(|q| q.sort = q.sort.next()),
            Action::Approve => self.approve(),
            Action::Undo => self.undo(),
            Action::Reload => self.reload(),
            Action::Acknowledge => self.acknowledge(),
            Action::Adjust
            | Action::Dispute
            | Action::Note
            | Action::Search
            | Action::AssignCaller
            | Action::ChangeComplexity
            | Action::ChangePrice
            | Action::ShareUnattributed
            | Action::ChangeFolder
            | Action::SetReviewer => self.open_modal(action),
            Action::Type(_) | Action::Erase | Action::EraseAll | Action::Submit => {}
            Action::ShowExplorer
            | Action::Explore(_)
            | Action::NextDepartment
            | Action::PreviousDepartment
            | Action::WindowEarlier
            | Action::WindowLater
            | Action::WidenWindow
            | Action::NarrowWindow
            | Action::CycleMeasure
            | Action::CycleStep => self.explore(action),
        }
    }

    /// Work that finishes on its own: the loading gauge and rows read in the background.
    fn tick(&mut self) {
        if self.screen() == Screen::Loading {
            self.loading.tick();
        }
        if let Some(explorer) = &mut self.explorer {
            explorer.poll();
        }
        self.poll_source_check();
        self.poll_export();
        self.poll_reload();
        let Some(receiver) = &self.rows_result else {
            return;
        };
        match receiver.try_recv() {
            Ok(result) => self.rows_read(result),
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => self.rows_read(Err("the reader stopped".into())),
        }
    }

    /// The source rows asked for arrived.
    pub fn rows_read(&mut self, result: Result<Vec<SourceRow>, String>) {
        self.rows_result = None;
        if let Some(detail) = &mut self.detail {
            detail.rows = match result {
                Ok(rows) => Rows::Read(rows),
                Err(error) => Rows::Failed(error),
            };
            detail.row = Cursor::default();
        }
    }

    /// Tells the user something.
    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
        });
    }

    /// Tells the user something went wrong.
    pub fn complain(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
        });
    }

    /// The time now, as decisions record it.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    fn page(&self) -> usize {
        usize::from(self.size.height.saturating_sub(10)).max(1)
    }

    fn loaded_screen(&self, screen: Screen) -> bool {
        self.review.is_some() || matches!(screen, Screen::Loading | Screen::Failed)
    }

    pub(super) fn show(&mut self, screen: Screen) {
        if self.loaded_screen(screen) {
            self.stack = vec![screen];
        }
    }

    pub(super) fn push(&mut self, screen: Screen) {
        if self.screen() != screen {
            self.stack.push(screen);
        }
    }

    fn back(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        } else if self.screen() != Screen::Overview {
            self.show(Screen::Overview);
        }
    }

    fn step(&mut self, step: isize) {
        let Some(review) = &self.review else {
            return;
        };
        match self.screen() {
            Screen::Queue => self.queue.cursor.step(step, self.queue.rows.len()),
            Screen::Detail => self.detail.iter_mut().for_each(|d| d.step(step)),
            Screen::Departments => self
                .departments
                .step(step, review.attribution.departments.len()),
            Screen::Rejects => self.rejects.step(step, review.dataset.rejects.len()),
            Screen::Recalculations => {
                let len = review.session.recalculations.len();
                self.recalculations.step(step, len);
            }
            screen @ (Screen::Explorer | Screen::ExplorerRows) => {
                let rows = screen == Screen::ExplorerRows;
                self.explorer.iter_mut().for_each(|e| e.step(step, rows));
            }
            Screen::Checklist => self.checklist.step(step),
            Screen::Export => self
                .export
                .cursor
                .step(step, super::export::Choice::ALL.len()),
            _ => {}
        }
    }

    fn click(&mut self, row: u16) {
        let Some(area) = super::ui::list_area(self.screen(), self.size) else {
            return;
        };
        if row < area.y || row >= area.bottom() {
            return;
        }
        let height = usize::from(area.height);
        let index = usize::from(row - area.y);
        let cursor = match self.screen() {
            Screen::Queue => &mut self.queue.cursor,
            Screen::Departments => &mut self.departments,
            Screen::Rejects => &mut self.rejects,
            _ => return,
        };
        let target = super::views::offset(cursor.selected, height) + index;
        let step = target as isize - cursor.selected as isize;
        self.step(step);
    }

    fn refilter(&mut self, change: impl FnOnce(&mut QueueView)) {
        change(&mut self.queue);
        self.refresh_queue();
        self.say(format!(
            "showing {} lines: filter {}, sorted by {}",
            self.queue.rows.len(),
            self.queue.filter.label(),
            self.queue.sort.label()
        ));
    }

    /// Recomputes the queue after the review changed.
    pub fn refresh_queue(&mut self) {
        if let Some(review) = &self.review {
            self.queue.refresh(&review.attribution, &review.session);
        }
    }

    /// The line the current screen is about: the detail's, else the queue's selection.
    pub fn current_line(&self) -> Option<LineKey> {
        if self.screen() == Screen::Detail {
            return self.detail.as_ref().map(|d| d.key.clone());
        }
        let review = self.review.as_ref()?;
        let index = self.queue.selected_line()?;
        Some(LineKey::of(&review.attribution.lines[index]))
    }

    fn open_detail(&mut self) {
        let (Some(review), Some(key)) = (&self.review, self.current_line()) else {
            return;
        };
        let parts = breakdown(&review.settings, &review.dataset, &key);
        self.detail = Some(DetailView::new(key, parts));
        self.push(Screen::Detail);
    }

    fn read_rows(&mut self) {
        let (Some(review), Some(detail)) = (&self.review, &mut self.detail) else {
            return;
        };
        let Some(part) = detail.breakdown.callers.get(detail.caller.selected) else {
            return;
        };
        let Some((day, _)) = part.days.get(detail.day.selected) else {
            return;
        };
        let caller = &review.dataset.buckets.callers[part.caller as usize];
        let query = review.rows_behind(&detail.key, caller, *day);
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(query.run().map_err(|e| e.to_string()));
        });
        detail.rows = Rows::Reading;
        self.rows_result = Some(receiver);
    }

    fn approve(&mut self) {
        let (now, key) = (self.now(), self.current_line());
        let (Some(review), Some(key)) = (&mut self.review, key) else {
            return;
        };
        let result = review.approve(&key, now);
        self.report(result.map(|()| format!("approved {key}")));
        if self.screen() == Screen::Queue {
            self.queue.cursor.step(1, self.queue.rows.len());
        }
    }

    fn undo(&mut self) {
        let now = self.now();
        let Some(review) = &mut self.review else {
            return;
        };
        let result = review.undo(now);
        self.report(result.map(|undone| match undone {
            Some(label) => format!("undone: {label}"),
            None => "nothing to undo".to_string(),
        }));
    }

    /// Reads the sources again on another thread, with the same gauge as the first load; the
    /// result is taken in [`App::poll_reload`].
    pub(super) fn reload(&mut self) {
        if self.reloading.is_some() {
            return self.say("the sources are being read again");
        }
        let Some(review) = &self.review else {
            return;
        };
        let request = review.reload_request();
        let progress = Arc::new(Progress::default());
        self.loading = LoadingView::new(Arc::clone(&progress));
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(request.run(progress).map_err(|e| e.to_string()));
        });
        self.reloading = Some(receiver);
        self.push(Screen::Loading);
        self.say("reading the sources again");
    }

    /// Takes the sources read again, once they are: recalculates when they changed.
    fn poll_reload(&mut self) {
        let Some(receiver) = &self.reloading else {
            return;
        };
        let result = match receiver.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err("the reader stopped".into()),
        };
        self.reloading = None;
        if self.screen() == Screen::Loading && self.stack.len() > 1 {
            self.stack.pop();
        }
        let now = self.now();
        let Some(review) = &mut self.review else {
            return;
        };
        let applied = result
            .map_err(crate::review::Error::Invalid)
            .and_then(|reloaded| review.apply_reload(reloaded, now));
        match applied {
            Ok(Some(recalculation)) => {
                let text = format!(
                    "{}: {} lines moved",
                    recalculation.cause,
                    recalculation.moved.len()
                );
                self.after_recalculation(text);
            }
            other => self.report(other.map(|_| "the sources did not change".to_string())),
        }
        if self.checklist.sources != super::checklist::Sources::Unchecked {
            self.recheck_sources();
        }
        self.refresh_checklist();
    }

    /// Whether the sources are being read again.
    pub fn is_reloading(&self) -> bool {
        self.reloading.is_some()
    }

    fn acknowledge(&mut self) {
        let (now, index) = (self.now(), self.rejects.selected);
        let Some(review) = &mut self.review else {
            return;
        };
        let result = review.acknowledge(index, now);
        self.report(result.map(|()| "acknowledged".to_string()));
        let len = self.review.as_ref().map_or(0, |r| r.dataset.rejects.len());
        self.rejects.step(1, len);
    }

    /// Shows the outcome of a review action and refreshes the queue.
    pub fn report(&mut self, result: crate::review::Result<String>) {
        match result {
            Ok(text) => self.say(text),
            Err(error) => self.complain(error.to_string()),
        }
        self.refresh_queue();
    }

    /// After a recalculation: the queue is refreshed and the recalculation shown.
    pub fn after_recalculation(&mut self, text: String) {
        self.report(Ok(text));
        if let (Some(review), Some(detail)) = (&self.review, &mut self.detail) {
            detail.breakdown = breakdown(&review.settings, &review.dataset, &detail.key);
            detail.caller.clamp(detail.breakdown.callers.len());
        }
        if let (Some(review), Some(explorer)) = (&self.review, &mut self.explorer) {
            explorer.refresh(review);
        }
        self.recalculations = Cursor::default();
        self.push(Screen::Recalculations);
    }
}
