//! Every recalculation, newest first, with the before → after of each line it moved.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table};

use super::{cut, header_style, maybe_money, money, table_state};
use crate::review::Recalculation;
use crate::tui::app::App;
use crate::tui::ui::table_rows;

/// Draws the recalculation history.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(review) = &app.review else {
        return;
    };
    let history: Vec<&Recalculation> = review.session.recalculations.iter().rev().collect();
    if history.is_empty() {
        let text = "No recalculation yet. From a line's detail: w changes the model's weight, p its price, \
                    m maps an unattributed caller; R reloads the sources.";
        frame.render_widget(
            Paragraph::new(text).block(Block::bordered().title(" Recalculations ")),
            area,
        );
        return;
    }
    let list_height = (history.len() as u16 + 3).min(area.height / 3).max(4);
    let [list, moved] =
        Layout::vertical([Constraint::Length(list_height), Constraint::Fill(1)]).areas(area);
    let rows = history.iter().map(|r| {
        Row::new(vec![
            Line::from(r.at.format("%m-%d %H:%M").to_string()),
            Line::from(r.moved.len().to_string()).right_aligned(),
            Line::from(r.cause.clone()),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(11),
            Constraint::Length(5),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(["when (UTC)", "moved", "cause"]).style(header_style(&app.theme)))
    .row_highlight_style(app.theme.selected())
    .block(Block::bordered().title(" Recalculations, newest first "));
    let mut state = table_state(app.recalculations.selected, table_rows(list).height, true);
    frame.render_stateful_widget(table, list, &mut state);
    if let Some(selected) = history.get(app.recalculations.selected) {
        render_moves(app, selected, frame, moved);
    }
}

fn render_moves(app: &App, recalculation: &Recalculation, frame: &mut Frame, area: Rect) {
    let Some(review) = &app.review else {
        return;
    };
    let arrow = app.theme.arrow();
    let rows = recalculation.moved.iter().map(|m| {
        let decision = review.session.decision(&m.key);
        Row::new(vec![
            Line::from(cut(&m.key.to_string(), 40)),
            Line::from(format!(
                "{} {arrow} {}",
                maybe_money(m.before),
                maybe_money(m.after)
            ))
            .right_aligned(),
            Line::from(money(m.delta())).right_aligned(),
            Line::styled(decision.label(), app.theme.decision(decision)),
        ])
    });
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(24),
        Constraint::Length(10),
        Constraint::Length(9),
    ];
    let title = format!(" Lines moved by: {} ", recalculation.cause);
    let table = Table::new(rows, widths)
        .header(
            Row::new(["line", "before → after", "delta", "decision"])
                .style(header_style(&app.theme)),
        )
        .block(Block::bordered().title(title));
    frame.render_widget(table, area);
}
