//! The departments as configured: who owns them, where alerts go, budgets, thresholds and
//! models, beside their status.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};

use super::{cut, header_style, light, money, table_state};
use crate::review::Review;
use crate::tui::app::App;
use crate::tui::ui::table_rows;

/// The table and the panel of the selected department; mouse clicks use the same split.
pub fn layout(area: Rect) -> (Rect, Rect) {
    let panel = if area.height >= 30 { 10 } else { 7 };
    let [table, detail] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(panel)]).areas(area);
    (table, detail)
}

/// Draws the departments.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(review) = &app.review else {
        return;
    };
    let (table_area, detail) = layout(area);
    let rows = review.attribution.departments.iter().map(|d| {
        let config = review.settings.department(&d.name);
        Row::new(vec![
            Line::from(light(&app.theme, d.status)),
            Line::from(cut(&d.name, 16)),
            Line::from(cut(config.map_or("", |c| c.owner.as_str()), 18)),
            Line::from(cut(config.map_or("", |c| c.contact.as_str()), 26)),
            Line::from(config.map_or(String::new(), |c| c.cost_center.clone())),
            Line::from(money(d.budget)).right_aligned(),
        ])
    });
    let widths = [
        Constraint::Length(10),
        Constraint::Length(16),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(11),
        Constraint::Length(10),
    ];
    let table = Table::new(rows, widths)
        .header(
            Row::new([
                "status",
                "department",
                "owner",
                "contact",
                "cost center",
                "budget",
            ])
            .style(header_style(&app.theme)),
        )
        .row_highlight_style(app.theme.selected())
        .block(Block::bordered().title(" Departments "));
    let mut state = table_state(
        app.departments.selected,
        table_rows(table_area).height,
        true,
    );
    frame.render_stateful_widget(table, table_area, &mut state);
    render_detail(app, review, frame, detail);
}

fn render_detail(app: &App, review: &Review, frame: &mut Frame, area: Rect) {
    let Some(summary) = review.attribution.departments.get(app.departments.selected) else {
        return;
    };
    let t = review.settings.thresholds_for(&summary.name);
    let pct = |d: rust_decimal::Decimal| crate::report::pct(d);
    let mut lines = vec![Line::from(format!(
        "thresholds: warning above {} of budget · fuse above {} · spike above {} growth",
        pct(t.warning.0),
        pct(rust_decimal::Decimal::ONE + t.fuse_margin.0),
        pct(t.spike.0)
    ))];
    if let Some(config) = review.settings.department(&summary.name) {
        let allowed = if config.allowed_models.is_empty() {
            "every model".to_string()
        } else {
            config.allowed_models.join(", ")
        };
        lines.push(Line::from(format!("allowed models: {allowed}")));
        lines.push(Line::from(format!(
            "baseline model: {}",
            config.baseline_model.as_deref().unwrap_or("none")
        )));
    }
    for reason in &summary.reasons {
        lines.push(Line::styled(
            format!("{}: {}", reason.status.label(), reason.text),
            app.theme.status(reason.status),
        ));
    }
    let block = Block::bordered().title(format!(" {} ", summary.name));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
}
