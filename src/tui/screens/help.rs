//! The keys of the screen the help was opened from, read from the key table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Row, Table};

use super::header_style;
use crate::tui::app::{App, Screen};
use crate::tui::keys;

/// Draws the help.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let from = app
        .stack
        .iter()
        .rev()
        .nth(1)
        .copied()
        .unwrap_or(Screen::Overview);
    let rows = keys::table(from).into_iter().map(|b| {
        Row::new(vec![
            Line::styled(keys::keys_text(b), app.theme.key()),
            Line::from(b.label),
        ])
    });
    let table = Table::new(rows, [Constraint::Length(24), Constraint::Fill(1)])
        .header(Row::new(["keys", "what they do"]).style(header_style(&app.theme)))
        .block(Block::bordered().title(format!(
            " Keys of {} · Esc returns · mouse: wheel scrolls, click selects ",
            from.title()
        )));
    frame.render_widget(table, area);
}
