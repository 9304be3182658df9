//! The analyst's explorer: a department's series on a chart, a window to drill into, other
//! departments or last month to compare with, the explanation of the change and the peak
//! load. Everything it shows is computed here, in `update`, or by a background read of the
//! sources; drawing only reads it.

use std::sync::mpsc::{Receiver, TryRecvError};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::action::Action;
use super::app::{App, Message, Screen};
use super::views::{Cursor, Rows};
use crate::calc::explain::{Explanation, explain_against_archive};
use crate::calc::explore::{DepartmentChart, department_chart, midnight, step_length};
use crate::calc::pricing::PriceTable;
use crate::calc::series::{self, Measure, Step, Valuer, Window};
use crate::review::explore::PeakMinute;
use crate::review::{Review, SourceRow};

/// What the explorer shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExplorerMode {
    /// One department's series with its window.
    #[default]
    Chart,
    /// The largest departments on one chart.
    Compare,
    /// The department against its prior month.
    Prior,
    /// The department's change split into effects.
    Explain,
    /// The busiest hour and peak minute of every department.
    Peak,
}

impl ExplorerMode {
    /// Its name in the title.
    pub fn label(self) -> &'static str {
        match self {
            ExplorerMode::Chart => "chart",
            ExplorerMode::Compare => "compare departments",
            ExplorerMode::Prior => "against the prior month",
            ExplorerMode::Explain => "explain the change",
            ExplorerMode::Peak => "peak load",
        }
    }
}

impl ExplorerMode {
    /// Its name in a few characters, for a title that would not fit otherwise.
    pub fn short_label(self) -> &'static str {
        match self {
            ExplorerMode::Chart => "chart",
            ExplorerMode::Compare => "compare",
            ExplorerMode::Prior => "prior month",
            ExplorerMode::Explain => "explain",
            ExplorerMode::Peak => "peak load",
        }
    }
}

/// How many departments the compare chart draws at most: more lines are unreadable.
pub const COMPARED: usize = 4;

/// A series ready to plot: x in days since the first of the month, y in the measure.
pub type Plot = Vec<(f64, f64)>;

/// One department on the compare chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    /// The department.
    pub department: String,
    /// Its series.
    pub plot: Plot,
    /// Its total in the measure.
    pub total: Decimal,
}

/// What is drawn over a department's series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overlays {
    /// The budget prorated to one step, over the whole month.
    pub budget: Plot,
    /// The run rate from the end of the data to the end of the month.
    pub run_rate: Plot,
    /// The run rate under stress, over the same days.
    pub stress: Plot,
    /// The window's two edges, as vertical lines.
    pub window: [Plot; 2],
}

/// One bar of the explanation's waterfall, placed between the lowest and highest running
/// totals (0 to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// `prior`, an effect's name, or `current`.
    pub label: String,
    /// Its amount: the total for the ends, the effect in between.
    pub amount: Decimal,
    /// Where the bar starts.
    pub from: f64,
    /// Where it ends.
    pub to: f64,
}

/// The bars of a waterfall: the prior total, each effect from the running total, and the
/// current total.
pub fn waterfall(explanation: &Explanation) -> Vec<Bar> {
    let mut running = explanation.prior;
    let mut steps = vec![(
        "prior".to_string(),
        explanation.prior,
        Decimal::ZERO,
        running,
    )];
    for effect in &explanation.effects {
        let next = running + effect.amount;
        steps.push((effect.name.to_string(), effect.amount, running, next));
        running = next;
    }
    steps.push((
        "current".into(),
        explanation.current,
        Decimal::ZERO,
        running,
    ));
    let low = steps.iter().map(|s| s.2.min(s.3)).min().unwrap_or_default();
    let high = steps.iter().map(|s| s.2.max(s.3)).max().unwrap_or_default();
    let span = to_f64(high - low).max(1e-9);
    let place = |v: Decimal| to_f64(v - low) / span;
    steps
        .into_iter()
        .map(|(label, amount, from, to)| Bar {
            label,
            amount,
            from: place(from),
            to: place(to),
        })
        .collect()
}

/// The prior month as far as the ledger tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum Prior {
    /// The archive's list cost per day of the month.
    Daily {
        /// The prior month (`YYYY-MM`).
        month: String,
        /// Its total list cost.
        total: Decimal,
        /// Its list cost per day, x being the day of the month counted from 0.
        plot: Plot,
        /// This month's list cost per day, on the same x.
        current: Plot,
    },
    /// A CSV ledger: the department's settled total only.
    TotalOnly(Option<Decimal>),
    /// No ledger.
    Nothing,
}

/// The explanation of the department's change.
#[derive(Debug, Clone, PartialEq)]
pub enum Explained {
    /// Effects from last month's archive, and their waterfall.
    Effects(Explanation, Vec<Bar>),
    /// Without an archive only the totals are known.
    TotalsOnly {
        /// Last month's settled amount, when the ledger has it.
        prior: Option<Decimal>,
        /// This month's.
        current: Decimal,
    },
}

/// The peak minutes being read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Peaks {
    /// Not asked for yet.
    #[default]
    NotRead,
    /// Being read.
    Reading,
    /// Read.
    Read(Vec<PeakMinute>),
    /// Could not be read.
    Failed(String),
}

/// A department's busiest hour from the buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Busiest {
    /// The department.
    pub department: String,
    /// The local hour and its successful calls.
    pub hour: Option<(NaiveDateTime, u64)>,
}

/// The explorer's state.
pub struct ExplorerView {
    /// Departments that can be explored, as the attribution orders them.
    pub departments: Vec<String>,
    /// The department explored.
    pub department: usize,
    /// What is shown.
    pub mode: ExplorerMode,
    /// The measure.
    pub measure: Measure,
    /// Hourly or daily.
    pub step: Step,
    /// The window's first step.
    pub window_from: NaiveDateTime,
    /// The window's length in steps.
    pub window_steps: i64,
    /// The department's chart.
    pub chart: DepartmentChart,
    /// The chart's series, ready to plot.
    pub plot: Plot,
    /// The spiking days as plotted points.
    pub spike_plot: Plot,
    /// The budget, projections and window edges drawn over the chart.
    pub overlays: Overlays,
    /// The largest y value to plot, projection and budget included.
    pub y_max: f64,
    /// Who and what made the window.
    pub window: Window,
    /// The selected caller of the window.
    pub caller: Cursor,
    /// The departments on the compare chart.
    pub compared: Vec<Compared>,
    /// The highest y of the compare chart.
    pub compare_max: f64,
    /// The prior month.
    pub prior: Prior,
    /// The highest y of the prior month's chart.
    pub prior_max: f64,
    /// The explanation of the change.
    pub explained: Explained,
    /// Every department's busiest hour.
    pub busiest: Vec<Busiest>,
    /// Peak minutes read back from the sources.
    pub peaks: Peaks,
    /// The caller whose rows are shown.
    pub rows_caller: String,
    /// The rows behind the selected caller in the window.
    pub rows: Rows,
    /// The selected row.
    pub row: Cursor,
    prior_archive: Option<serde_json::Value>,
    explanations: Vec<Explanation>,
    rows_job: Option<Receiver<Result<Vec<SourceRow>, String>>>,
    peaks_job: Option<Receiver<Result<Vec<PeakMinute>, String>>>,
}

impl ExplorerView {
    /// Opens the explorer on the department that spiked worst, its window on the worst day;
    /// else on the first department. Reads last month's archive when the ledger is one.
    pub fn open(review: &Review) -> ExplorerView {
        let departments: Vec<String> = review
            .attribution
            .departments
            .iter()
            .map(|d| d.name.clone())
            .collect();
        let worst = crate::calc::explore::worst_spike(&review.settings, &review.attribution);
        let department = worst
            .as_ref()
            .and_then(|(name, _)| departments.iter().position(|d| d == name))
            .unwrap_or(0);
        let day = worst
            .and_then(|(_, day)| day)
            .unwrap_or(review.settings.month_start);
        let prior_archive = review.sources.prior_archive();
        let explanations = prior_archive
            .as_ref()
            .and_then(|body| {
                explain_against_archive(
                    &review.settings,
                    &review.dataset,
                    &review.attribution,
                    body,
                )
            })
            .unwrap_or_default();
        let mut view = ExplorerView {
            departments,
            department,
            mode: ExplorerMode::Chart,
            measure: Measure::ListCost,
            step: Step::Day,
            window_from: midnight(day),
            window_steps: 1,
            chart: empty_chart(),
            plot: Vec::new(),
            spike_plot: Vec::new(),
            overlays: Overlays::default(),
            y_max: 1.0,
            window: Window::default(),
            caller: Cursor::default(),
            compared: Vec::new(),
            compare_max: 1.0,
            prior: Prior::Nothing,
            prior_max: 1.0,
            explained: Explained::TotalsOnly {
                prior: None,
                current: Decimal::ZERO,
            },
            busiest: Vec::new(),
            peaks: Peaks::NotRead,
            rows_caller: String::new(),
            rows: Rows::NotRead,
            row: Cursor::default(),
            prior_archive,
            explanations,
            rows_job: None,
            peaks_job: None,
        };
        view.refresh(review);
        view
    }

    /// The department explored.
    pub fn department_name(&self) -> &str {
        self.departments
            .get(self.department)
            .map_or("", String::as_str)
    }

    /// The window's end (exclusive).
    pub fn window_to(&self) -> NaiveDateTime {
        self.window_from + step_length(self.step) * self.window_steps as i32
    }

    /// Recomputes everything shown from the review's buckets.
    pub fn refresh(&mut self, review: &Review) {
        let prices = PriceTable::for_settings(&review.settings);
        let valuer = Valuer::new(&review.settings, &review.dataset, &prices);
        let Some(summary) = review.attribution.department(self.department_name()) else {
            return;
        };
        let through = review.attribution.period.data_through;
        let (settings, dataset) = (&review.settings, &review.dataset);
        self.chart = department_chart(
            &valuer,
            settings,
            dataset,
            summary,
            through,
            self.measure,
            self.step,
        );
        let start = midnight(settings.month_start);
        self.plot = plot(&self.chart.points, start);
        self.spike_plot = self.spike_points(start);
        self.y_max = self.highest();
        self.keep_window_in_month(start);
        self.overlays = self.overlays(start);
        let name = summary.name.clone();
        self.window = series::window(
            &valuer,
            dataset,
            &name,
            self.measure,
            self.window_from,
            self.window_to(),
        );
        self.caller.clamp(self.window.callers.len());
        self.compared = self.compare(&valuer, review, start);
        self.compare_max = highest(self.compared.iter().map(|c| &c.plot));
        self.prior = self.prior_of(review, &name);
        self.prior_max = match &self.prior {
            Prior::Daily { plot, current, .. } => highest([plot, current].into_iter()),
            _ => 1.0,
        };
        self.explained = self.explain(review, &name);
        self.busiest = review
            .attribution
            .departments
            .iter()
            .map(|d| Busiest {
                department: d.name.clone(),
                hour: series::busiest_hour(&valuer, dataset, &d.name),
            })
            .collect();
    }

    fn spike_points(&self, start: NaiveDateTime) -> Plot {
        // The spike is a day; on an hourly chart every hour of it is marked.
        self.chart
            .points
            .iter()
            .filter(|(at, _)| self.chart.spikes.iter().any(|s| s.day == at.date()))
            .map(|(at, v)| (days_since(start, *at), to_f64(*v)))
            .collect()
    }

    fn overlays(&self, start: NaiveDateTime) -> Overlays {
        let chart = &self.chart;
        let (from, end) = (
            days_since(start, chart.projection_from),
            days_since(start, chart.month_end),
        );
        let flat = |y: f64, from: f64| vec![(from, y), (end, y)];
        let edge = |at: NaiveDateTime| {
            let x = days_since(start, at);
            vec![(x, 0.0), (x, self.y_max)]
        };
        Overlays {
            budget: chart
                .budget_per_step
                .map_or_else(Vec::new, |b| flat(to_f64(b), 0.0)),
            run_rate: flat(to_f64(chart.run_rate), from),
            stress: flat(to_f64(chart.stress_rate), from),
            window: [edge(self.window_from), edge(self.window_to())],
        }
    }

    fn highest(&self) -> f64 {
        let data = self.plot.iter().map(|(_, y)| *y).fold(0.0, f64::max);
        let budget = self.chart.budget_per_step.map_or(0.0, to_f64);
        data.max(budget)
            .max(to_f64(self.chart.stress_rate))
            .max(1e-9)
    }

    fn keep_window_in_month(&mut self, start: NaiveDateTime) {
        let last = self.chart.projection_from - step_length(self.step);
        self.window_from = self.window_from.clamp(start, last.max(start));
        let left = (self.chart.projection_from - self.window_from).num_seconds()
            / step_length(self.step).num_seconds();
        self.window_steps = self.window_steps.clamp(1, left.max(1));
    }

    fn compare(&self, valuer: &Valuer<'_>, review: &Review, start: NaiveDateTime) -> Vec<Compared> {
        let mut all: Vec<Compared> = self
            .departments
            .iter()
            .map(|name| {
                let series = series::department_series(
                    valuer,
                    &review.dataset,
                    name,
                    self.measure,
                    self.step,
                );
                Compared {
                    department: name.clone(),
                    total: series.values().sum(),
                    plot: plot(&series.into_iter().collect::<Vec<_>>(), start),
                }
            })
            .collect();
        all.sort_by_key(|c| std::cmp::Reverse(c.total));
        let selected = self.department_name();
        let position = all.iter().position(|c| c.department == selected);
        let mine = position.map(|p| all.remove(p));
        all.truncate(COMPARED - 1);
        all.extend(mine);
        all
    }

    fn prior_of(&self, review: &Review, name: &str) -> Prior {
        if let Some(body) = &self.prior_archive {
            let department = body["departments"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|d| d["name"] == name);
            let days: Vec<(NaiveDate, Decimal)> = department
                .and_then(|d| d["daily"].as_object())
                .into_iter()
                .flatten()
                .filter_map(|(day, v)| Some((day.parse().ok()?, v.as_str()?.parse().ok()?)))
                .collect();
            let current: Vec<(NaiveDate, Decimal)> = review
                .attribution
                .department(name)
                .map(|d| d.daily.iter().map(|(k, v)| (*k, *v)).collect())
                .unwrap_or_default();
            return Prior::Daily {
                month: body["period"]["month"].as_str().unwrap_or("").to_string(),
                total: days.iter().map(|(_, v)| *v).sum(),
                plot: by_day_of_month(&days),
                current: by_day_of_month(&current),
            };
        }
        match &review.ledger {
            Some(_) => Prior::TotalOnly(review.attribution.department(name).and_then(|d| d.prior)),
            None => Prior::Nothing,
        }
    }

    fn explain(&self, review: &Review, name: &str) -> Explained {
        if let Some(found) = self.explanations.iter().find(|e| e.department == name) {
            return Explained::Effects(found.clone(), waterfall(found));
        }
        let summary = review.attribution.department(name);
        Explained::TotalsOnly {
            prior: summary.and_then(|d| d.prior),
            current: summary.map_or(Decimal::ZERO, |d| d.settled),
        }
    }

    /// Whether the prior month came from an archive.
    pub fn has_archive(&self) -> bool {
        self.prior_archive.is_some()
    }

    /// Shows another mode; the peak load starts its background read the first time.
    pub fn show(&mut self, mode: ExplorerMode, review: &Review) {
        self.mode = mode;
        if mode == ExplorerMode::Peak && self.peaks == Peaks::NotRead {
            let query = review.peak_minutes();
            let (sender, receiver) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = sender.send(query.run().map_err(|e| e.to_string()));
            });
            self.peaks = Peaks::Reading;
            self.peaks_job = Some(receiver);
        }
    }

    /// Moves to another department.
    pub fn next_department(&mut self, step: isize, review: &Review) {
        let len = self.departments.len() as isize;
        if len > 0 {
            self.department = (self.department as isize + step).rem_euclid(len) as usize;
        }
        self.caller = Cursor::default();
        self.refresh(review);
    }

    /// Moves the window by `steps` steps.
    pub fn move_window(&mut self, steps: i64, review: &Review) {
        self.window_from += step_length(self.step) * steps as i32;
        self.caller = Cursor::default();
        self.refresh(review);
    }

    /// Widens (or narrows, with a negative count) the window by `steps` steps.
    pub fn widen_window(&mut self, steps: i64, review: &Review) {
        self.window_steps += steps;
        self.refresh(review);
    }

    /// The next measure: list cost, converted amount, tokens.
    pub fn cycle_measure(&mut self, review: &Review) {
        self.measure = match self.measure {
            Measure::ListCost => Measure::Converted,
            Measure::Converted => Measure::Tokens,
            Measure::Tokens | Measure::Calls => Measure::ListCost,
        };
        self.refresh(review);
    }

    /// Hourly or daily; the window keeps its start and covers the same time.
    pub fn cycle_step(&mut self, review: &Review) {
        let span = self.window_to() - self.window_from;
        self.step = match self.step {
            Step::Day => Step::Hour,
            Step::Hour => Step::Day,
        };
        self.window_from = crate::calc::explore::step_start(self.window_from, self.step);
        let length = step_length(self.step).num_seconds();
        self.window_steps = ((span.num_seconds() + length - 1) / length).max(1);
        self.refresh(review);
    }

    /// Starts reading the rows behind the selected caller in the window, on another thread.
    pub fn read_rows(&mut self, review: &Review) -> bool {
        let Some(caller) = self.window.callers.get(self.caller.selected) else {
            return false;
        };
        let query = review.window_rows(
            self.department_name(),
            &caller.name,
            self.window_from,
            self.window_to(),
        );
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(query.run().map_err(|e| e.to_string()));
        });
        self.rows_caller = caller.name.clone();
        self.rows = Rows::Reading;
        self.row = Cursor::default();
        self.rows_job = Some(receiver);
        true
    }

    /// Moves the selection: the window's callers, or the rows read back.
    pub fn step(&mut self, step: isize, rows: bool) {
        match (&self.rows, rows) {
            (Rows::Read(read), true) => self.row.step(step, read.len()),
            (_, true) => {}
            (_, false) => self.caller.step(step, self.window.callers.len()),
        }
    }

    /// Takes the results of background reads that finished.
    pub fn poll(&mut self) {
        if let Some(result) = take(&mut self.rows_job) {
            self.rows = match result {
                Ok(rows) => Rows::Read(rows),
                Err(error) => Rows::Failed(error),
            };
        }
        if let Some(result) = take(&mut self.peaks_job) {
            self.peaks = match result {
                Ok(peaks) => Peaks::Read(peaks),
                Err(error) => Peaks::Failed(error),
            };
        }
    }

    /// Waits for the background reads to finish (for tests, which have no event loop).
    pub fn wait(&mut self) {
        if let Some(job) = self.rows_job.take() {
            let result = job
                .recv()
                .unwrap_or_else(|_| Err("the reader stopped".into()));
            self.rows_job = Some(ready(result));
        }
        if let Some(job) = self.peaks_job.take() {
            let result = job
                .recv()
                .unwrap_or_else(|_| Err("the reader stopped".into()));
            self.peaks_job = Some(ready(result));
        }
        self.poll();
    }
}

impl App {
    /// The explorer's actions: opening it, and everything it does once open.
    pub(super) fn explore(&mut self, action: Action) {
        let Some(review) = &self.review else {
            return;
        };
        if action == Action::ShowExplorer || self.explorer.is_none() {
            let view = ExplorerView::open(review);
            let text = format!(
                "exploring {}: {}",
                view.department_name(),
                spike_summary(&view)
            );
            self.explorer = Some(view);
            self.stack = vec![Screen::Overview, Screen::Explorer];
            self.message = Some(Message { text, error: false });
            if action == Action::ShowExplorer {
                return;
            }
        }
        let Some(explorer) = &mut self.explorer else {
            return;
        };
        match action {
            Action::Explore(mode) => explorer.show(mode, review),
            Action::NextDepartment => explorer.next_department(1, review),
            Action::PreviousDepartment => explorer.next_department(-1, review),
            Action::WindowEarlier => explorer.move_window(-1, review),
            Action::WindowLater => explorer.move_window(1, review),
            Action::WidenWindow => explorer.widen_window(1, review),
            Action::NarrowWindow => explorer.widen_window(-1, review),
            Action::CycleMeasure => explorer.cycle_measure(review),
            Action::CycleStep => explorer.cycle_step(review),
            Action::ReadRows if explorer.read_rows(review) => {
                self.stack.push(Screen::ExplorerRows);
            }
            _ => {}
        }
    }
}

/// The spiking days of the explored department in a few words.
pub fn spike_summary(view: &ExplorerView) -> String {
    let days: Vec<String> = view
        .chart
        .spikes
        .iter()
        .map(|s| s.day.format("%b %-d").to_string())
        .collect();
    match days.len() {
        0 => "no day spiked".to_string(),
        _ => format!("spiked on {}", days.join(", ")),
    }
}

fn ready<T: Send + 'static>(value: T) -> Receiver<T> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let _ = sender.send(value);
    receiver
}

/// The result of a finished job, clearing it; `None` while it runs.
fn take<T>(job: &mut Option<Receiver<Result<T, String>>>) -> Option<Result<T, String>> {
    let result = match job.as_ref()?.try_recv() {
        Ok(result) => result,
        Err(TryRecvError::Empty) => return None,
        Err(TryRecvError::Disconnected) => Err("the reader stopped".into()),
    };
    *job = None;
    Some(result)
}

fn empty_chart() -> DepartmentChart {
    DepartmentChart {
        department: String::new(),
        measure: Measure::ListCost,
        step: Step::Day,
        points: Vec::new(),
        spikes: Vec::new(),
        budget_per_step: None,
        run_rate: Decimal::ZERO,
        stress_rate: Decimal::ZERO,
        projection_from: NaiveDateTime::default(),
        month_end: NaiveDateTime::default(),
    }
}

/// Days from `start` to `at`, as a plot's x.
pub fn days_since(start: NaiveDateTime, at: NaiveDateTime) -> f64 {
    (at - start).num_seconds() as f64 / Duration::days(1).num_seconds() as f64
}

/// Money and counts become floats here only to be plotted; every figure shown as text stays
/// exact.
pub fn to_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

/// The highest y of some plots (never zero, so that an axis has a length).
fn highest<'a>(plots: impl Iterator<Item = &'a Plot>) -> f64 {
    plots
        .flat_map(|p| p.iter().map(|(_, y)| *y))
        .fold(1e-9, f64::max)
}

fn by_day_of_month(days: &[(NaiveDate, Decimal)]) -> Plot {
    days.iter()
        .map(|(day, v)| (f64::from(chrono::Datelike::day0(day)), to_f64(*v)))
        .collect()
}

fn plot(points: &[(NaiveDateTime, Decimal)], start: NaiveDateTime) -> Plot {
    points
        .iter()
        .map(|(at, v)| (days_since(start, *at), to_f64(*v)))
        .collect()
}
