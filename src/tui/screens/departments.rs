//! The departments as configured: who owns them, where alerts go, budgets, thresholds and
//! models, beside their status.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};

use super::{cut, header_style, light, money, table_state};
use crate::calc::{DepartmentSummary, Status};
use crate::review::{Review, SignOff, signoff};
use crate::tui::action::Action;
use crate::tui::app::{App, Screen};
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
            signoff_cell(app, review, d),
        ])
    });
    let widths = [
        Constraint::Length(10),
        Constraint::Length(16),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(11),
        Constraint::Length(10),
        Constraint::Length(if area.width >= 120 { 40 } else { 11 }),
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
                "sign-offs",
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
    // What the table cuts comes first, whole: the reasons, then the owner and the contact.
    let mut lines: Vec<Line> = summary
        .reasons
        .iter()
        .map(|reason| {
            Line::styled(
                format!("{}: {}", reason.status.label(), reason.text),
                app.theme.status(reason.status),
            )
        })
        .collect();
    if let Some(config) = review.settings.department(&summary.name) {
        let or_none = |text: &str| match text.trim() {
            "" => "none".to_string(),
            text => text.to_string(),
        };
        lines.push(Line::from(format!(
            "owner: {} · contact: {} · cost center: {}",
            or_none(&config.owner),
            or_none(&config.contact),
            or_none(&config.cost_center)
        )));
    }
    lines.extend(signoff_lines(app, review, &summary.name));
    lines.push(Line::from(format!(
        "thresholds: warning above {} of budget · fuse above {} · spike above {} growth",
        pct(t.warning.0),
        pct(rust_decimal::Decimal::ONE + t.fuse_margin.0),
        pct(t.spike.0)
    )));
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
    let block = Block::bordered().title(format!(" {} ", summary.name));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
}

/// The sign-offs of a fused department in its row: who signed in which role, or how many of
/// the two are given, and "fuse lifted" once both are.
fn signoff_cell(app: &App, review: &Review, d: &DepartmentSummary) -> Line<'static> {
    if d.status != Status::Fuse {
        return Line::from("");
    }
    let given: Vec<&SignOff> = signoffs_of(review, &d.name).collect();
    if signoff::lifted(&review.session.signoffs, &d.name) {
        return Line::styled("fuse lifted", app.theme.pass());
    }
    let names: Vec<String> = given
        .iter()
        .map(|s| format!("{} ({})", s.name, s.role))
        .collect();
    let text = match names.is_empty() {
        true => "0 of 2".to_string(),
        false => format!("1 of 2: {}", names.join(", ")),
    };
    Line::styled(text, app.theme.status(Status::Fuse))
}

/// One line per sign-off of a department: role, who, when and the note.
fn signoff_lines(app: &App, review: &Review, department: &str) -> Vec<Line<'static>> {
    let fused = review
        .attribution
        .department(department)
        .is_some_and(|d| d.status == Status::Fuse);
    if !fused {
        return Vec::new();
    }
    let mut lines: Vec<Line> = signoffs_of(review, department)
        .map(|s| {
            let note = s.note.as_ref().map_or(String::new(), |n| format!(": {n}"));
            Line::from(format!(
                "signed off as {} by {} on {}{note}",
                s.role,
                s.name,
                s.at.format("%Y-%m-%d %H:%M UTC")
            ))
        })
        .collect();
    if signoff::lifted(&review.session.signoffs, department) {
        lines.push(Line::styled("fuse lifted", app.theme.pass()));
    } else {
        let sign = crate::tui::keys::key_for(Screen::Departments, Action::SignOff);
        lines.push(Line::styled(
            format!("fused: {sign} signs it off (finance and technical director, two people)"),
            app.theme.status(Status::Fuse),
        ));
    }
    lines
}

fn signoffs_of<'a>(review: &'a Review, department: &'a str) -> impl Iterator<Item = &'a SignOff> {
    review
        .session
        .signoffs
        .iter()
        .filter(move |s| s.department == department)
}
