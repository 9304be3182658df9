//! The review queue: every line, riskiest first, with the figures it is checked against.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Row, Table, Wrap};

use super::{cut, fit, header_style, maybe_money, money, table_state};
use crate::calc::{Attribution, LineItem, MismatchKind};
use crate::review::queue::risk_of;
use crate::review::{LineKey, Review};
use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::ui::table_rows;
use crate::tui::views::delta;

/// The parts of the queue screen.
pub struct QueueLayout {
    /// The "N of M decided" bar.
    pub progress: Rect,
    /// Filter, order, search and reviewer.
    pub status: Rect,
    /// The table of lines.
    pub table: Rect,
    /// The selected line's reasons, notes and adjustments.
    pub info: Rect,
}

/// Splits the body; mouse clicks use the same split.
pub fn layout(area: Rect) -> QueueLayout {
    let info = if area.height >= 30 { 8 } else { 5 };
    let [progress, status, table, info] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(4),
        Constraint::Length(info),
    ])
    .areas(area);
    QueueLayout {
        progress,
        status,
        table,
        info,
    }
}

/// Draws the queue.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(review) = &app.review else {
        return;
    };
    let parts = layout(area);
    let (decided, total) = app.decided();
    let ratio = if total == 0 {
        0.0
    } else {
        decided as f64 / total as f64
    };
    let bar = Gauge::default()
        .ratio(ratio)
        .label(format!("{decided} of {total} decided"))
        .gauge_style(app.theme.gauge(crate::calc::Status::Normal));
    frame.render_widget(bar, parts.progress);
    let q = &app.queue;
    let search = if q.search.is_empty() {
        String::new()
    } else {
        format!(" · search '{}'", q.search)
    };
    let status = format!(
        " {} lines · filter {} · sorted by {}{search} · reviewer {}",
        q.rows.len(),
        q.filter.label(),
        q.sort.label(),
        review.session.reviewer
    );
    frame.render_widget(Line::styled(status, app.theme.dim()), parts.status);
    render_table(app, review, frame, parts.table);
    render_info(app, review, frame, parts.info);
}

fn render_table(app: &App, review: &Review, frame: &mut Frame, area: Rect) {
    let wide = area.width >= 120;
    let a = &review.attribution;
    let theme = &app.theme;
    let lines: Vec<&LineItem> = app.queue.rows.iter().map(|&i| &a.lines[i]).collect();
    let column = |min: u16, text: fn(&LineItem) -> String| {
        Constraint::Length(fit(min, lines.iter().map(|l| text(l))))
    };
    let computed = column(10, |l| money(l.settled));
    let delta_width = column(9, |l| maybe_money(delta(l)));
    let rows = lines.iter().map(|l| line_row(theme, review, l, wide));
    let (header, widths): (Vec<&str>, Vec<Constraint>) = if wide {
        (
            vec![
                "risk",
                "decision",
                "department",
                "model",
                "computed",
                "ledger",
                "provider",
                "delta",
                "mismatch",
                "reason",
            ],
            vec![
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(16),
                Constraint::Length(20),
                computed,
                column(10, |l| maybe_money(l.ledger_amount)),
                column(10, |l| maybe_money(l.provider_cost)),
                delta_width,
                Constraint::Length(12),
                Constraint::Fill(1),
            ],
        )
    } else {
        (
            vec!["risk", "decision", "line", "computed", "delta", "mismatch"],
            vec![
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Fill(1),
                computed,
                delta_width,
                Constraint::Length(10),
            ],
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(header_style(theme)))
        .row_highlight_style(theme.selected())
        .block(Block::bordered().title(" Lines, riskiest first "));
    let height = table_rows(area).height;
    let mut state = table_state(app.queue.cursor.selected, height, true);
    frame.render_stateful_widget(table, area, &mut state);
}

fn line_row(theme: &Theme, review: &Review, line: &LineItem, wide: bool) -> Row<'static> {
    let a = &review.attribution;
    let risk = risk_of(a, line);
    let status = a
        .department(&line.department)
        .map_or(crate::calc::Status::Normal, |d| d.status);
    let decision = review.session.decision(&LineKey::of(line));
    let mut cells = vec![
        Line::from(Span::styled(risk.label(), theme.status(status))),
        Line::from(Span::styled(decision.label(), theme.decision(decision))),
    ];
    if wide {
        cells.push(Line::from(cut(&line.department, 16)));
        cells.push(Line::from(cut(&line.model, 20)));
    } else {
        cells.push(Line::from(format!("{} / {}", line.department, line.model)));
    }
    cells.push(Line::from(money(line.settled)).right_aligned());
    if wide {
        cells.push(Line::from(maybe_money(line.ledger_amount)).right_aligned());
        cells.push(Line::from(maybe_money(line.provider_cost)).right_aligned());
    }
    cells.push(Line::from(maybe_money(delta(line))).right_aligned());
    cells.push(Line::from(kinds(&line.mismatches)));
    if wide {
        cells.push(Line::from(first_reason(a, line)));
    }
    Row::new(cells)
}

/// The kinds of mismatch of a line, joined.
pub fn kinds(kinds: &[MismatchKind]) -> String {
    let names: Vec<&str> = kinds
        .iter()
        .map(|k| match k {
            MismatchKind::Ledger => "ledger",
            MismatchKind::Price => "price",
            MismatchKind::Total => "total",
            MismatchKind::Conservation => "rows",
        })
        .collect();
    names.join(",")
}

/// The first thing to say about a line: its mismatch, else its department's first reason.
pub fn first_reason(a: &Attribution, line: &LineItem) -> String {
    line_reasons(a, line).into_iter().next().unwrap_or_default()
}

/// Every reason that concerns a line: its mismatches, then its department's reasons.
pub fn line_reasons(a: &Attribution, line: &LineItem) -> Vec<String> {
    let mismatches = a.mismatches.iter().filter(|m| {
        m.model.as_deref() == Some(line.model.as_str())
            && m.department.as_deref().is_none_or(|d| d == line.department)
    });
    let department = a
        .department(&line.department)
        .into_iter()
        .flat_map(|d| d.reasons.iter());
    mismatches
        .map(|m| m.text.clone())
        .chain(department.map(|r| r.text.clone()))
        .collect()
}

fn render_info(app: &App, review: &Review, frame: &mut Frame, area: Rect) {
    let Some(index) = app.queue.selected_line() else {
        frame.render_widget(
            Paragraph::new("no line matches").block(Block::bordered()),
            area,
        );
        return;
    };
    let line = &review.attribution.lines[index];
    let lines = info_lines(app, review, line);
    let title = format!(" {} / {} ", line.department, line.model);
    let block = Block::bordered().title(title);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
}

/// What the panel under the queue says about a line.
pub fn info_lines(app: &App, review: &Review, line: &LineItem) -> Vec<Line<'static>> {
    let key = LineKey::of(line);
    let mut lines = vec![Line::from(format!(
        "computed {} · ledger {} · list cost {} · provider {} · weight {}",
        money(line.settled),
        maybe_money(line.ledger_amount),
        money(line.list_cost),
        maybe_money(line.provider_cost),
        line.effective_weight
            .map_or("-".into(), |w| w.round_dp(3).to_string())
    ))];
    if let Some(entry) = review.session.line(&key) {
        if let (Some(by), Some(at)) = (&entry.by, entry.at) {
            let when = at.format("%Y-%m-%d %H:%M UTC");
            lines.push(Line::styled(
                format!("{} by {by} at {when}", entry.decision.label()),
                app.theme.decision(entry.decision),
            ));
        }
        if let Some(reset) = &entry.reset {
            lines.push(Line::styled(
                format!("back to pending: {reset}"),
                app.theme.error(),
            ));
        }
        for note in entry.notes.iter().rev().take(2) {
            lines.push(Line::from(format!("note ({}): {}", note.by, note.text)));
        }
    }
    for adjustment in review.session.adjustments_of(&key) {
        lines.push(Line::from(format!(
            "adjustment {} by {}: {}",
            adjustment.amount, adjustment.by, adjustment.reason
        )));
    }
    for reason in line_reasons(&review.attribution, line) {
        lines.push(Line::styled(reason, app.theme.dim()));
    }
    lines
}
