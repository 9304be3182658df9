//! Rows that were rejected, with their file, line and reason, to acknowledge one by one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Row, Table};

use super::{header_style, table_state};
use crate::tui::app::App;
use crate::tui::ui::table_rows;

/// The summary line and the table; mouse clicks use the same split.
pub fn layout(area: Rect) -> (Rect, Rect) {
    let [summary, table] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    (summary, table)
}

/// Draws the rejected rows.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(review) = &app.review else {
        return;
    };
    let (summary, table_area) = layout(area);
    let rejects = &review.dataset.rejects;
    let refs: Vec<_> = (0..rejects.len())
        .filter_map(|i| review.reject_ref(i))
        .collect();
    let acknowledged = refs
        .iter()
        .filter(|r| review.session.is_acknowledged(r))
        .count();
    let text = format!(
        " {} rejected rows, {acknowledged} acknowledged",
        rejects.len()
    );
    frame.render_widget(Line::from(text), summary);
    let mark = if app.theme.ascii { "x" } else { "✓" };
    let rows = refs.iter().zip(rejects).map(|(r, reject)| {
        let done = review.session.is_acknowledged(r);
        Row::new(vec![
            Line::from(if done { mark } else { "" }),
            Line::from(r.source.clone()),
            Line::from(r.line.to_string()).right_aligned(),
            Line::from(reject.reason.clone()),
        ])
    });
    let widths = [
        Constraint::Length(3),
        Constraint::Length(22),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["ack", "file", "line", "reason"]).style(header_style(&app.theme)))
        .row_highlight_style(app.theme.selected())
        .block(Block::bordered().title(" Rejected rows "));
    let mut state = table_state(app.rejects.selected, table_rows(table_area).height, true);
    frame.render_stateful_widget(table, table_area, &mut state);
}
