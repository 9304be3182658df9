//! The month at a glance: period, totals, the conservation line and every department.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::{cut, fit, gauge, header_style, light, maybe_money, money, wrap};
use crate::calc::{Attribution, DepartmentSummary, Status};
use crate::review::{SignOff, signoff};
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// Draws the overview.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(review) = &app.review else {
        return;
    };
    let a = &review.attribution;
    let note_height = if area.width >= 100 { 1 } else { 2 };
    let [summary, table, disclaimer] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Min(4),
        Constraint::Length(note_height),
    ])
    .areas(area);
    let (decided, total) = app.decided();
    frame.render_widget(summary_lines(a, decided, total), summary);
    render_departments(&app.theme, a, &review.session.signoffs, frame, table);
    let text = format!(" Note: {}.", a.disclaimer);
    let style = app.theme.dim().add_modifier(Modifier::ITALIC);
    frame.render_widget(
        Paragraph::new(Line::styled(text, style)).wrap(Wrap { trim: true }),
        disclaimer,
    );
}

fn summary_lines(a: &Attribution, decided: usize, total: usize) -> Paragraph<'static> {
    let p = &a.period;
    let window = if p.in_review_window {
        "inside the review window"
    } else {
        "outside the review window"
    };
    let source = if a.from_invoice {
        "invoice"
    } else {
        "computed"
    };
    let data = p.data_through.map_or("no data".to_string(), |d| {
        format!("data through {d} ({} days without)", p.days_without_data)
    });
    let lines = vec![
        Line::from(format!(
            "{} · {} · closes {} · {} days to close",
            a.organization, p.month, p.close_date, p.days_to_close
        )),
        Line::from(format!(
            "today {}, {window} (opens {})",
            p.today, p.review_window_start
        )),
        Line::from(format!(
            "to settle {} {} ({source}) · settled {} · list cost {}",
            money(a.amount_to_settle),
            a.currency,
            money(a.settled),
            money(a.list_cost)
        )),
        Line::from(a.conservation.line()),
        Line::from(format!(
            "{data} · {} rejected · {decided} of {total} lines decided",
            a.rejected_rows
        )),
    ];
    Paragraph::new(lines).wrap(Wrap { trim: true })
}

/// The departments table; the session's `signoffs` tell which fuses are lifted.
fn render_departments(
    theme: &Theme,
    a: &Attribution,
    signoffs: &[SignOff],
    frame: &mut Frame,
    area: Rect,
) {
    let wide = area.width >= 120;
    // Last month's settled figures, when a prior ledger or archive was loaded.
    let prior = a.departments.iter().any(|d| d.prior.is_some());
    let d = &a.departments;
    let column = |min: u16, text: fn(&DepartmentSummary) -> String| {
        Constraint::Length(fit(min, d.iter().map(text)))
    };
    let mut header = vec!["status", "department", "budget used", "settled"];
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Length(if wide { 18 } else { 12 }),
        Constraint::Length(if wide { 20 } else { 13 }),
        column(9, |d| money(d.settled)),
    ];
    if prior {
        header.push("last month");
        widths.push(column(10, |d| maybe_money(d.prior)));
    }
    if prior && wide {
        header.push("growth");
        widths.push(column(8, growth));
    }
    // On a narrow screen the share makes room for last month's figure.
    if wide || !prior {
        header.push("share");
        widths.push(column(6, |d| crate::report::pct(d.proportion)));
    }
    header.extend(["at close", "reason"]);
    widths.push(column(9, |d| money(d.projection.at_close)));
    let reason_width = left_for_last_column(area.width, &widths);
    widths.push(Constraint::Fill(1));
    let header = Row::new(header).style(header_style(theme));
    // A wide screen gives a long reason a second line; a narrow one has no room to spare.
    let reason_lines = if wide { 2 } else { 1 };
    let rows = a.departments.iter().map(|d| {
        let reason = d.reasons.first().map_or("", |r| r.text.as_str());
        let reason = wrap(reason, reason_width, reason_lines);
        let lifted = d.status == Status::Fuse && signoff::lifted(signoffs, &d.name);
        department_row(theme, d, lifted, wide, prior, reason)
    });
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .block(Block::bordered().title(" Departments "));
    frame.render_widget(table, area);
}

/// A department's growth over last month, `-` without a prior figure.
fn growth(d: &DepartmentSummary) -> String {
    d.growth.map_or("-".to_string(), crate::report::pct)
}

/// The width the last column of a bordered table gets, after the `fixed` columns before it
/// and the space between columns.
fn left_for_last_column(width: u16, fixed: &[Constraint]) -> usize {
    let taken: u16 = fixed
        .iter()
        .map(|c| match c {
            Constraint::Length(n) => n + 1,
            _ => 1,
        })
        .sum();
    usize::from(width.saturating_sub(2 + taken)).max(1)
}

fn department_row(
    theme: &Theme,
    d: &DepartmentSummary,
    lifted: bool,
    wide: bool,
    prior: bool,
    reason: Vec<String>,
) -> Row<'static> {
    let cells = if wide { 12 } else { 5 };
    let height = reason.len().max(1) as u16;
    // A fuse lifted by both sign-offs keeps its status in the figures, but is no longer a
    // stop for the review.
    let status = match lifted {
        true => Span::styled(
            format!("{} lifted", theme.light(Status::Normal)),
            theme.pass(),
        ),
        false => light(theme, d.status),
    };
    let mut row = vec![
        Line::from(status),
        Line::from(cut(&d.name, if wide { 18 } else { 12 })),
        Line::from(gauge(theme, d.budget_usage, d.status, cells)),
        Line::from(money(d.settled)).right_aligned(),
    ];
    if prior {
        row.push(Line::from(maybe_money(d.prior)).right_aligned());
    }
    if prior && wide {
        row.push(Line::from(growth(d)).right_aligned());
    }
    if wide || !prior {
        row.push(Line::from(crate::report::pct(d.proportion)).right_aligned());
    }
    row.extend([Line::from(money(d.projection.at_close)).right_aligned()]);
    let mut cells: Vec<Cell> = row.into_iter().map(Cell::from).collect();
    cells.push(Cell::from(Text::from(
        reason.into_iter().map(Line::from).collect::<Vec<_>>(),
    )));
    Row::new(cells).height(height)
}
