//! The month-end checklist: each check with pass, FAIL or note and its reason, and for the
//! selected one what to do next.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};

use super::{cut, header_style, table_state};
use crate::review::{Check, Checklist, Outcome};
use crate::tui::app::App;
use crate::tui::checklist::{Sources, next_step};
use crate::tui::theme::Theme;
use crate::tui::ui::table_rows;

/// The summary line, the table of `checks` checks and the panel of the selected one.
pub fn layout(area: Rect, checks: usize) -> (Rect, Rect, Rect) {
    let table = u16::try_from(checks).unwrap_or(u16::MAX).saturating_add(3);
    let [summary, table, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Max(table),
        Constraint::Min(5),
    ])
    .areas(area);
    (summary, table, detail)
}

/// Draws the checklist.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(checklist) = &app.checklist.checklist else {
        return;
    };
    let (summary, table_area, detail) = layout(area, checklist.checks.len());
    frame.render_widget(summary_line(app, checklist), summary);

    let sources = &app.checklist.sources;
    let title_width = if area.width >= 120 { 46 } else { 38 };
    let rows = checklist.checks.iter().map(|check| {
        Row::new(vec![
            Line::from(outcome(&app.theme, check.outcome)),
            Line::from(cut(check.title, title_width)),
            Line::from(reason(check, sources)),
        ])
    });
    let widths = [
        Constraint::Length(5),
        Constraint::Length(title_width as u16),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["", "check", "reason"]).style(header_style(&app.theme)))
        .row_highlight_style(app.theme.selected())
        .block(Block::bordered().title(" Month-end checklist "));
    let height = table_rows(table_area).height;
    let mut state = table_state(app.checklist.cursor.selected, height, true);
    frame.render_stateful_widget(table, table_area, &mut state);

    if let Some(check) = app.checklist.selected() {
        render_detail(app, check, frame, detail);
    }
}

fn summary_line(app: &App, checklist: &Checklist) -> Line<'static> {
    let total = checklist.checks.len();
    let passed = checklist.passed();
    let verdict = match checklist.ready(None) {
        Ok(()) => Span::styled("the archive may be written", app.theme.pass()),
        Err(_) if checklist.ready(Some("note")).is_ok() => Span::styled(
            "the archive may be written with a note",
            app.theme.allowed(),
        ),
        Err(blocking) => Span::styled(
            format!("{} check(s) block the archive", blocking.len()),
            app.theme.error(),
        ),
    };
    Line::from(vec![
        Span::raw(format!(" {passed} of {total} pass · ")),
        verdict,
    ])
}

/// The outcome's word, coloured, so that it reads without colour too.
fn outcome(theme: &Theme, outcome: Outcome) -> Span<'static> {
    let style = match outcome {
        Outcome::Pass => theme.pass(),
        Outcome::Fail => theme.error(),
        Outcome::AllowedWithNote => theme.allowed(),
    };
    Span::styled(outcome.label(), style)
}

/// The reason, or what is known of the sources while they are hashed.
fn reason(check: &Check, sources: &Sources) -> String {
    if check.id != "sources_unchanged" {
        return check.reason.clone();
    }
    match sources {
        Sources::Unchecked => "not hashed yet".to_string(),
        Sources::Checking => "hashing the sources again…".to_string(),
        Sources::Failed(error) => format!("cannot read them: {error}"),
        Sources::Checked(_) => check.reason.clone(),
    }
}

fn render_detail(app: &App, check: &Check, frame: &mut Frame, area: Rect) {
    let mut lines = vec![Line::from(vec![
        outcome(&app.theme, check.outcome),
        Span::raw(" · "),
        Span::raw(reason(check, &app.checklist.sources)),
    ])];
    if check.outcome != Outcome::Pass {
        lines.push(Line::from(vec![
            Span::styled("next: ", app.theme.key()),
            Span::raw(next_step(check.id)),
        ]));
    }
    let block = Block::bordered().title(Span::styled(format!(" {} ", check.title), Style::new()));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
}
