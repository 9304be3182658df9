//! One line taken apart: the price and weight that made it, its callers, their days, and the
//! source rows behind a caller's day.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};

use super::{cut, header_style, maybe_money, money, table_state};
use crate::calc::LineItem;
use crate::review::Review;
use crate::review::breakdown::Part;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::ui::table_rows;
use crate::tui::views::{DetailView, Panel, Rows};

/// Draws the line detail.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let (Some(review), Some(detail)) = (&app.review, &app.detail) else {
        return;
    };
    let Some(line) = review
        .attribution
        .lines
        .iter()
        .find(|l| l.department == detail.key.department && l.model == detail.key.model)
    else {
        frame.render_widget(
            Paragraph::new("this line no longer exists after the recalculation"),
            area,
        );
        return;
    };
    let top = if area.height >= 30 { 6 } else { 4 };
    let [summary, parts, rows] = Layout::vertical([
        Constraint::Length(top),
        Constraint::Percentage(55),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(summary_lines(review, line)).wrap(Wrap { trim: true }),
        summary,
    );
    let [callers, days] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(parts);
    render_callers(&app.theme, detail, frame, callers);
    render_days(&app.theme, detail, frame, days);
    render_rows(app, review, detail, frame, rows);
}

fn summary_lines(review: &Review, line: &LineItem) -> Vec<Line<'static>> {
    let price = line
        .price
        .as_ref()
        .map_or("no price: unpriced model".to_string(), |p| {
            format!(
                "complexity {} · per million: input {} · cached {} · write {} · output {}",
                p.complexity, p.input, p.cached_input, p.cache_write, p.output
            )
        });
    vec![
        Line::from(format!(
            "{} calls · {} tokens · computed {} · ledger {} · provider {}",
            line.calls,
            line.tokens.total(),
            money(line.settled),
            maybe_money(line.ledger_amount),
            maybe_money(line.provider_cost)
        )),
        Line::from(format!(
            "list cost {} × weight {} = converted {} · {}",
            money(line.list_cost),
            line.effective_weight
                .map_or("-".into(), |w| format!("{w:.4}")),
            money(line.converted),
            review
                .session
                .decision(&crate::review::LineKey::of(line))
                .label()
        )),
        Line::from(price),
    ]
}

fn part_cells(part: &Part) -> [Line<'static>; 3] {
    [
        Line::from(part.calls.to_string()).right_aligned(),
        Line::from(money(part.list_cost)).right_aligned(),
        Line::from(part.weight().map_or("-".into(), |w| format!("{w:.2}"))).right_aligned(),
    ]
}

fn render_callers(theme: &Theme, detail: &DetailView, frame: &mut Frame, area: Rect) {
    let rows = detail.breakdown.callers.iter().map(|c| {
        let [calls, cost, weight] = part_cells(&c.sums);
        Row::new(vec![Line::from(cut(&c.label, 24)), calls, cost, weight])
    });
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Length(6),
    ];
    let title = format!(
        " {} · callers ({}) ",
        detail.key,
        detail.breakdown.callers.len()
    );
    let spec = Framed {
        title,
        header: vec!["caller", "calls", "list cost", "weight"],
        widths: widths.to_vec(),
        selected: detail.caller.selected,
        focused: detail.panel == Panel::Callers,
    };
    draw_table(theme, frame, area, rows, spec);
}

fn render_days(theme: &Theme, detail: &DetailView, frame: &mut Frame, area: Rect) {
    let caller = detail.breakdown.callers.get(detail.caller.selected);
    let days = caller.map_or(&[][..], |c| c.days.as_slice());
    let rows = days.iter().map(|(day, part)| {
        let [calls, cost, weight] = part_cells(part);
        Row::new(vec![
            Line::from(day.format("%a %d").to_string()),
            calls,
            cost,
            weight,
        ])
    });
    let widths = [
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Fill(1),
        Constraint::Length(6),
    ];
    let title = format!(
        " Days of {} ",
        caller.map_or(String::new(), |c| cut(&c.label, 18))
    );
    let spec = Framed {
        title,
        header: vec!["day", "calls", "list cost", "weight"],
        widths: widths.to_vec(),
        selected: detail.day.selected,
        focused: detail.panel == Panel::Days,
    };
    draw_table(theme, frame, area, rows, spec);
}

fn render_rows(app: &App, review: &Review, detail: &DetailView, frame: &mut Frame, area: Rect) {
    let rows = match &detail.rows {
        Rows::Read(rows) => rows,
        other => {
            let text = match other {
                Rows::Reading => "reading the sources…".to_string(),
                Rows::Failed(error) => format!("could not read the rows: {error}"),
                _ => "Enter or r: read the source rows of the selected caller and day".to_string(),
            };
            frame.render_widget(
                Paragraph::new(text).block(Block::bordered().title(" Source rows ")),
                area,
            );
            return;
        }
    };
    let zone = review.settings.zone;
    let table_rows_iter = rows.iter().map(|r| {
        Row::new(vec![
            Line::from(format!("{}:{}", short_name(&r.source), r.line)),
            Line::from(
                r.timestamp
                    .with_timezone(&zone)
                    .format("%m-%d %H:%M:%S")
                    .to_string(),
            ),
            Line::from(cut(&r.model, 22)),
            Line::from((r.tokens.input + r.tokens.cached_input + r.tokens.cache_write).to_string())
                .right_aligned(),
            Line::from(r.tokens.output.to_string()).right_aligned(),
            Line::from(
                r.provider_cost
                    .map_or("-".into(), |c| c.round_dp(6).to_string()),
            )
            .right_aligned(),
            Line::from(if r.success { "ok" } else { "failed" }),
        ])
    });
    let widths = [
        Constraint::Fill(2),
        Constraint::Length(14),
        Constraint::Fill(1),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Length(6),
    ];
    let title = format!(
        " Source rows ({}, at most {}) ",
        rows.len(),
        crate::review::ROW_LIMIT
    );
    let header = vec![
        "file:line",
        "local time",
        "model",
        "input",
        "output",
        "provider",
        "status",
    ];
    let spec = Framed {
        title,
        header,
        widths: widths.to_vec(),
        selected: detail.row.selected,
        focused: detail.panel == Panel::Rows,
    };
    draw_table(&app.theme, frame, area, table_rows_iter, spec);
}

fn short_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

/// How one of the detail's three tables looks.
struct Framed<'a> {
    title: String,
    header: Vec<&'a str>,
    widths: Vec<Constraint>,
    selected: usize,
    focused: bool,
}

/// A bordered table with a header whose selection shows only while it has the focus.
fn draw_table<'a>(
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
    rows: impl IntoIterator<Item = Row<'a>>,
    spec: Framed<'a>,
) {
    let border = if spec.focused {
        theme.key()
    } else {
        theme.dim()
    };
    let table = Table::new(rows, spec.widths)
        .header(Row::new(spec.header).style(header_style(theme)))
        .row_highlight_style(theme.selected())
        .block(Block::bordered().title(spec.title).border_style(border));
    let mut state = table_state(spec.selected, table_rows(area).height, spec.focused);
    frame.render_stateful_widget(table, area, &mut state);
}
