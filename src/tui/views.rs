//! The state of each screen's view: what is selected, filtered and sorted. It is computed in
//! `update`, so that drawing only reads it.

use std::cmp::Reverse;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::calc::{Attribution, LineItem};
use crate::load::Progress;
use crate::review::breakdown::Breakdown;
use crate::review::queue::{by_risk, risk_of};
use crate::review::{Decision, LineKey, Session, SourceRow};

/// A selection in a list of `len` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The selected row.
    pub selected: usize,
}

impl Cursor {
    /// Moves by `step` rows, staying inside the list.
    pub fn step(&mut self, step: isize, len: usize) {
        let last = len.saturating_sub(1) as isize;
        self.selected = (self.selected as isize + step).clamp(0, last.max(0)) as usize;
    }

    /// Keeps the selection inside a list that may have shrunk.
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }
}

/// The first row to show so that the selected one is visible in `height` rows; the same
/// function places rows for drawing and for mouse clicks.
pub fn offset(selected: usize, height: usize) -> usize {
    selected.saturating_sub(height.saturating_sub(1))
}

/// Which lines the queue shows, by their decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Filter {
    /// Every line.
    #[default]
    All,
    /// Only lines still to decide.
    Pending,
    /// Only disputed lines.
    Disputed,
    /// Only decided lines.
    Decided,
}

impl Filter {
    /// The next filter in the cycle.
    pub fn next(self) -> Filter {
        match self {
            Filter::All => Filter::Pending,
            Filter::Pending => Filter::Disputed,
            Filter::Disputed => Filter::Decided,
            Filter::Decided => Filter::All,
        }
    }

    /// Its name.
    pub fn label(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Pending => "pending",
            Filter::Disputed => "disputed",
            Filter::Decided => "decided",
        }
    }

    fn keeps(self, decision: Decision) -> bool {
        match self {
            Filter::All => true,
            Filter::Pending => decision == Decision::Pending,
            Filter::Disputed => decision == Decision::Disputed,
            Filter::Decided => decision.is_decided(),
        }
    }
}

/// The order of the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Riskiest first.
    #[default]
    Risk,
    /// Largest settled amount first.
    Amount,
    /// Largest difference from the ledger or provider first.
    Delta,
    /// By department, then model.
    Name,
}

impl Sort {
    /// The next order in the cycle.
    pub fn next(self) -> Sort {
        match self {
            Sort::Risk => Sort::Amount,
            Sort::Amount => Sort::Delta,
            Sort::Delta => Sort::Name,
            Sort::Name => Sort::Risk,
        }
    }

    /// Its name.
    pub fn label(self) -> &'static str {
        match self {
            Sort::Risk => "risk",
            Sort::Amount => "amount",
            Sort::Delta => "delta",
            Sort::Name => "name",
        }
    }
}

/// The other figure a line is compared with, and the difference: the one its mismatch is
/// about (the provider's cost against the list cost for a price mismatch, the ledger's amount
/// against the settled amount for a ledger mismatch), else the ledger's when there is one,
/// else the provider's.
pub fn delta(line: &LineItem) -> Option<rust_decimal::Decimal> {
    let against_ledger = line.ledger_amount.map(|ledger| line.settled - ledger);
    let against_provider = line.provider_cost.map(|provider| line.list_cost - provider);
    let first_mismatch = line.mismatches.iter().find_map(|kind| match kind {
        crate::calc::MismatchKind::Price => against_provider,
        crate::calc::MismatchKind::Ledger => against_ledger,
        _ => None,
    });
    first_mismatch.or(against_ledger).or(against_provider)
}

/// The review queue.
#[derive(Debug, Clone, Default)]
pub struct QueueView {
    /// Indexes into `attribution.lines`, as shown.
    pub rows: Vec<usize>,
    /// The selection.
    pub cursor: Cursor,
    /// The decision filter.
    pub filter: Filter,
    /// The order.
    pub sort: Sort,
    /// Text every shown line's department or model contains.
    pub search: String,
}

impl QueueView {
    /// Recomputes the rows after a change of data, filter, order or search, keeping the
    /// selected line selected when it is still shown.
    pub fn refresh(&mut self, attribution: &Attribution, session: &Session) {
        let selected = self.rows.get(self.cursor.selected).copied();
        let needle = self.search.to_lowercase();
        let mut rows: Vec<usize> = by_risk(attribution)
            .into_iter()
            .filter(|&i| {
                let line = &attribution.lines[i];
                self.filter.keeps(session.decision(&LineKey::of(line)))
                    && (needle.is_empty()
                        || line.department.to_lowercase().contains(&needle)
                        || line.model.to_lowercase().contains(&needle))
            })
            .collect();
        self.order(&mut rows, attribution);
        self.cursor.selected = selected
            .and_then(|s| rows.iter().position(|&r| r == s))
            .unwrap_or(self.cursor.selected);
        self.rows = rows;
        self.cursor.clamp(self.rows.len());
    }

    fn order(&self, rows: &mut [usize], attribution: &Attribution) {
        let lines = &attribution.lines;
        match self.sort {
            Sort::Risk => rows.sort_by_key(|&i| risk_of(attribution, &lines[i])),
            Sort::Amount => rows.sort_by_key(|&i| Reverse(lines[i].settled)),
            Sort::Delta => {
                rows.sort_by_key(|&i| Reverse(delta(&lines[i]).unwrap_or_default().abs()))
            }
            Sort::Name => rows.sort_by(|&a, &b| {
                (&lines[a].department, &lines[a].model)
                    .cmp(&(&lines[b].department, &lines[b].model))
            }),
        }
    }

    /// The selected line's index into `attribution.lines`.
    pub fn selected_line(&self) -> Option<usize> {
        self.rows.get(self.cursor.selected).copied()
    }
}

/// Which panel of the line detail has the focus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Panel {
    /// The callers.
    #[default]
    Callers,
    /// The selected caller's days.
    Days,
    /// The source rows read back.
    Rows,
}

/// The source rows behind a caller and day.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Rows {
    /// Not asked for yet.
    #[default]
    NotRead,
    /// Being read from the files.
    Reading,
    /// Read.
    Read(Vec<SourceRow>),
    /// Could not be read.
    Failed(String),
}

/// The line detail.
#[derive(Debug, Clone)]
pub struct DetailView {
    /// The line.
    pub key: LineKey,
    /// The line by caller and day.
    pub breakdown: Breakdown,
    /// The panel with the focus.
    pub panel: Panel,
    /// The selected caller.
    pub caller: Cursor,
    /// The selected day of that caller.
    pub day: Cursor,
    /// The selected source row.
    pub row: Cursor,
    /// The source rows of the selected caller and day.
    pub rows: Rows,
}

impl DetailView {
    /// A detail with the first caller and day selected.
    pub fn new(key: LineKey, breakdown: Breakdown) -> DetailView {
        DetailView {
            key,
            breakdown,
            panel: Panel::Callers,
            caller: Cursor::default(),
            day: Cursor::default(),
            row: Cursor::default(),
            rows: Rows::NotRead,
        }
    }

    /// How many rows the focused panel has.
    pub fn panel_len(&self) -> usize {
        match self.panel {
            Panel::Callers => self.breakdown.callers.len(),
            Panel::Days => self
                .breakdown
                .callers
                .get(self.caller.selected)
                .map_or(0, |c| c.days.len()),
            Panel::Rows => match &self.rows {
                Rows::Read(rows) => rows.len(),
                _ => 0,
            },
        }
    }

    /// Moves the focused panel's selection; a new caller or day forgets the rows read.
    pub fn step(&mut self, step: isize) {
        let len = self.panel_len();
        match self.panel {
            Panel::Callers => {
                self.caller.step(step, len);
                self.day = Cursor::default();
                self.rows = Rows::NotRead;
            }
            Panel::Days => {
                self.day.step(step, len);
                self.rows = Rows::NotRead;
            }
            Panel::Rows => self.row.step(step, len),
        }
    }

    /// The focus moves on, skipping the rows panel while there are none.
    pub fn next_panel(&mut self) {
        self.panel = match (self.panel, &self.rows) {
            (Panel::Callers, _) => Panel::Days,
            (Panel::Days, Rows::Read(_)) => Panel::Rows,
            _ => Panel::Callers,
        };
    }
}

/// The loading gauge's figures, updated on every tick.
#[derive(Debug, Clone)]
pub struct LoadingView {
    /// The loader's progress.
    pub progress: Arc<Progress>,
    /// When loading began.
    pub started: Instant,
    /// Rows read.
    pub rows: u64,
    /// Rows per second so far.
    pub rate: u64,
    /// The file being read.
    pub current: String,
    /// Where the running gauge is, from 0 to 1: the total is unknown until the end.
    pub turn: f64,
}

impl LoadingView {
    /// A view of a load that starts now.
    pub fn new(progress: Arc<Progress>) -> LoadingView {
        LoadingView {
            progress,
            started: Instant::now(),
            rows: 0,
            rate: 0,
            current: String::new(),
            turn: 0.0,
        }
    }

    /// Reads the loader's progress.
    pub fn tick(&mut self) {
        self.rows = self.progress.rows.load(Ordering::Relaxed);
        let seconds = self.started.elapsed().as_secs_f64();
        // A rate only: the count itself stays an integer.
        self.rate = if seconds > 0.0 {
            (self.rows as f64 / seconds) as u64
        } else {
            0
        };
        self.current = self.progress.current_source();
        self.turn = (self.started.elapsed().as_millis() % 2000) as f64 / 2000.0;
    }
}
