//! The loading gauge while the sources are read on another thread, and the error if they
//! could not be.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, LineGauge, Paragraph, Wrap};

use crate::tui::app::App;

/// Draws the loading gauge. The total number of rows is not known before the end of the
/// files, so the gauge runs round while the figures count up.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let view = &app.loading;
    let [_, gauge, text, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Fill(1),
    ])
    .areas(area);
    let bar = LineGauge::default()
        .ratio(view.turn)
        .label("reading ")
        .filled_style(app.theme.key());
    frame.render_widget(bar, inset(gauge));
    let lines = vec![
        Line::from(format!(
            "{} rows read · {} rows/s",
            crate::report::count(view.rows),
            crate::report::count(view.rate)
        )),
        Line::from(format!(
            "file: {}",
            if view.current.is_empty() {
                "…"
            } else {
                &view.current
            }
        )),
        Line::styled("q quits at any time", app.theme.dim()),
    ];
    frame.render_widget(Paragraph::new(lines).centered(), text);
}

/// Draws why loading failed.
pub fn render_failure(app: &App, frame: &mut Frame, area: Rect) {
    let text = app.failure.clone().unwrap_or_default();
    let block = Block::bordered().title(" The month could not be opened ");
    let paragraph = Paragraph::new(vec![
        Line::styled(text, app.theme.error()),
        Line::from(""),
        Line::from("q quits"),
    ])
    .wrap(Wrap { trim: true })
    .block(block);
    frame.render_widget(paragraph, area);
}

fn inset(area: Rect) -> Rect {
    let margin = area.width / 6;
    Rect {
        x: area.x + margin,
        width: area.width - 2 * margin,
        ..area
    }
}
