//! The explorer's screens: a department's chart with its window panel, the compare chart,
//! the prior month, the explanation's waterfall, the peak load and the rows behind a caller.
//! Every mark has its own shape, so that the charts read without colour.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Row, Table, Wrap};
use rust_decimal::Decimal;

use super::{cut, header_style, money, table_state};
use crate::calc::series::{Measure, Step};
use crate::report::{count, pct};
use crate::review::explore::PEAK_HOURS;
use crate::tui::app::App;
use crate::tui::explorer::{
    Bar, Explained, ExplorerMode, ExplorerView, Peaks, Plot, Prior, spike_summary,
};
use crate::tui::theme::Theme;
use crate::tui::ui::table_rows;
use crate::tui::views::Rows;

/// Markers of the compare chart's departments, in order; each also has a colour.
const COMPARE_MARKERS: [(Marker, &str, Color); 4] = [
    (Marker::Braille, "⠿", Color::Cyan),
    (Marker::Dot, "•", Color::Magenta),
    (Marker::Block, "█", Color::Blue),
    (Marker::Bar, "▄", Color::Yellow),
];

/// Draws the explorer in its current mode.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let Some(view) = &app.explorer else {
        return;
    };
    let [title, body] = Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(area);
    // Each line is fitted to the width rather than wrapped, so that the second (the
    // spikes and the run rate) is never pushed out of sight.
    frame.render_widget(
        Paragraph::new(title_lines(&app.theme, view, usize::from(title.width))),
        title,
    );
    match view.mode {
        ExplorerMode::Chart => render_chart_and_window(&app.theme, view, frame, body),
        ExplorerMode::Compare => render_compare(&app.theme, view, frame, body),
        ExplorerMode::Prior => render_prior(&app.theme, view, frame, body),
        ExplorerMode::Explain => render_explain(&app.theme, view, frame, body),
        ExplorerMode::Peak => render_peak(&app.theme, view, frame, body),
    }
}

fn title_lines(theme: &Theme, view: &ExplorerView, width: usize) -> Vec<Line<'static>> {
    let chart = &view.chart;
    let name = view.department_name().to_string();
    let series = format!(
        "{} per {}",
        measure_name(view.measure),
        step_name(view.step)
    );
    let window = format!("window {}", view.window_from.format("%b %-d %H:%M"));
    let span = crate::review::explore::describe_span(view.window_to() - view.window_from);
    // From the most to the least detail: the mode in short, then the window's span, then
    // the window itself go first (the window is drawn only on the chart).
    let candidates = [
        format!(" · {} · {series} · {window} ({span})", view.mode.label()),
        format!(
            " · {} · {series} · {window} ({span})",
            view.mode.short_label()
        ),
        format!(" · {} · {series} · {window}", view.mode.short_label()),
        format!(" · {} · {series}", view.mode.short_label()),
    ];
    let room = width.saturating_sub(name.chars().count());
    let rest = candidates
        .iter()
        .find(|c| c.chars().count() <= room)
        .unwrap_or(&candidates[3])
        .clone();
    let first = Line::from(vec![Span::styled(name, theme.header()), Span::raw(rest)]);
    let second = Line::from(format!(
        "█ {} · run rate {}/{} · stress {}",
        spike_summary(view),
        amount(view.measure, chart.run_rate),
        step_name(view.step),
        amount(view.measure, chart.stress_rate),
    ));
    vec![first, second]
}

fn render_chart_and_window(theme: &Theme, view: &ExplorerView, frame: &mut Frame, area: Rect) {
    let panel = if area.width >= 120 { 48 } else { 30 };
    let [chart, legend] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let [chart, side] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(panel)]).areas(chart);
    let o = &view.overlays;
    let mut datasets = vec![
        line("", &view.plot, Marker::Braille, tint(theme, Color::Cyan)),
        line("", &o.budget, Marker::Dot, tint(theme, Color::Green)),
        line("", &o.run_rate, Marker::Braille, tint(theme, Color::Yellow)),
        line("", &o.stress, Marker::Bar, tint(theme, Color::Red)),
        line("", &o.window[0], Marker::Braille, theme.dim()),
        line("", &o.window[1], Marker::Braille, theme.dim()),
    ];
    datasets.push(
        Dataset::default()
            .marker(Marker::Block)
            .graph_type(GraphType::Scatter)
            .style(tint(theme, Color::Red))
            .data(&view.spike_plot),
    );
    let title = format!(
        " {} per {} ",
        measure_name(view.measure),
        step_name(view.step)
    );
    frame.render_widget(month_chart(view, datasets, &title), chart);
    render_window_panel(theme, view, frame, side);
    // The budget applies to the settled amount; the line is the budget scaled into the
    // measure (budget × total in the measure ÷ settled).
    let budget = match (o.budget.is_empty(), view.measure) {
        (true, _) => "no budget line (not money, or no budget)",
        (false, Measure::Converted) => "• budget in converted",
        (false, _) => "• budget in list cost",
    };
    frame.render_widget(
        Line::styled(
            format!(" ⠿ data  █ spike day  {budget}  ⠤ run rate  ▄ stress  ⡇ window"),
            theme.dim(),
        ),
        legend,
    );
}

fn line<'a>(name: &'a str, data: &'a Plot, marker: Marker, style: Style) -> Dataset<'a> {
    Dataset::default()
        .name(name)
        .marker(marker)
        .graph_type(GraphType::Line)
        .style(style)
        .data(data)
}

fn tint(theme: &Theme, color: Color) -> Style {
    if theme.color {
        Style::new().fg(color)
    } else {
        Style::new()
    }
}

/// A chart over the whole month: x in days from the first, y from zero to the highest value.
fn month_chart<'a>(view: &ExplorerView, datasets: Vec<Dataset<'a>>, title: &'a str) -> Chart<'a> {
    let days = super::super::explorer::days_since(
        view.chart
            .points
            .first()
            .map_or_else(Default::default, |p| p.0),
        view.chart.month_end,
    );
    let first = view.chart.points.first().map(|p| p.0);
    let label = |offset: f64| {
        first.map_or(String::new(), |f| {
            (f + chrono::Duration::days(offset as i64))
                .format("%b %-d")
                .to_string()
        })
    };
    let y_top = view.y_max * 1.05;
    Chart::new(datasets)
        .block(Block::bordered().title(title))
        .x_axis(Axis::default().bounds([0.0, days]).labels([
            label(0.0),
            label((days / 2.0).floor()),
            label(days - 1.0),
        ]))
        .y_axis(
            Axis::default()
                .bounds([0.0, y_top])
                .labels(["0".to_string(), short(view.measure, y_top)]),
        )
        .hidden_legend_constraints((Constraint::Length(0), Constraint::Length(0)))
}

fn render_window_panel(theme: &Theme, view: &ExplorerView, frame: &mut Frame, area: Rect) {
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines = vec![Line::styled(
        format!("total {}", amount(view.measure, view.window.total)),
        theme.header(),
    )];
    lines.push(Line::styled("callers", theme.dim()));
    for (index, share) in view.window.callers.iter().take(5).enumerate() {
        let text = share_line(&share.name, share.share, width);
        let style = if index == view.caller.selected {
            theme.selected()
        } else {
            Style::new()
        };
        lines.push(Line::styled(text, style));
    }
    lines.push(Line::styled("models", theme.dim()));
    for share in view.window.models.iter().take(4) {
        lines.push(Line::from(share_line(&share.name, share.share, width)));
    }
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Window ")),
        area,
    );
}

fn share_line(name: &str, share: Decimal, width: usize) -> String {
    let share = pct(share);
    let room = width.saturating_sub(share.len() + 1);
    format!("{:<room$} {share}", cut(name, room))
}

fn render_compare(theme: &Theme, view: &ExplorerView, frame: &mut Frame, area: Rect) {
    let [chart, legend] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let datasets = view
        .compared
        .iter()
        .zip(COMPARE_MARKERS)
        .map(|(c, (marker, _, color))| line("", &c.plot, marker, tint(theme, color)))
        .collect();
    let top = view.compare_max * 1.05;
    let chart_widget = month_chart(view, datasets, " Departments ").y_axis(
        Axis::default()
            .bounds([0.0, top])
            .labels(["0".to_string(), short(view.measure, top)]),
    );
    frame.render_widget(chart_widget, chart);
    let entries: Vec<(String, String)> = view
        .compared
        .iter()
        .map(|c| (c.department.clone(), amount(view.measure, c.total)))
        .collect();
    let spans: Vec<Span> = legend_entries(&entries, usize::from(legend.width))
        .into_iter()
        .zip(COMPARE_MARKERS)
        .map(|(text, (_, symbol, color))| {
            Span::styled(format!(" {symbol} {text}"), tint(theme, color))
        })
        .collect();
    frame.render_widget(Line::from(spans), legend);
}

/// The compare legend's entries (`name total`) fitted into `width`: the totals are kept
/// whole and the longest names are shortened first, with an ellipsis.
fn legend_entries(entries: &[(String, String)], width: usize) -> Vec<String> {
    // Each entry is drawn as " ⠿ name total": four cells besides its name and total.
    let fixed: usize = entries.iter().map(|(_, t)| t.chars().count() + 4).sum();
    let mut names: Vec<usize> = entries.iter().map(|(n, _)| n.chars().count()).collect();
    while fixed + names.iter().sum::<usize>() > width {
        let Some(longest) = names.iter_mut().filter(|n| **n > 3).max_by_key(|n| **n) else {
            break;
        };
        *longest -= 1;
    }
    entries
        .iter()
        .zip(names)
        .map(|((name, total), room)| format!("{} {total}", cut(name, room)))
        .collect()
}

fn render_prior(theme: &Theme, view: &ExplorerView, frame: &mut Frame, area: Rect) {
    let Prior::Daily {
        month,
        total,
        plot,
        current,
    } = &view.prior
    else {
        let text = match &view.prior {
            Prior::TotalOnly(Some(prior)) => format!(
                "The ledger is a CSV: it holds only last month's settled total for {}: {}. \
                 Its days, and an explanation of the change, need last month's archive \
                 (--ledger ARCHIVE.json).",
                view.department_name(),
                money(*prior)
            ),
            Prior::TotalOnly(None) => format!(
                "The ledger holds nothing for {} last month.",
                view.department_name()
            ),
            _ => "No prior ledger was given (--ledger).".to_string(),
        };
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" Prior month ")),
            area,
        );
        return;
    };
    let [chart, legend] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    let top = view.prior_max * 1.05;
    let datasets = vec![
        line("", current, Marker::Braille, tint(theme, Color::Cyan)),
        line("", plot, Marker::Dot, tint(theme, Color::Magenta)),
    ];
    let widget = Chart::new(datasets)
        .block(Block::bordered().title(" List cost per day of the month "))
        .x_axis(
            Axis::default()
                .bounds([0.0, 30.0])
                .labels(["1", "16", "31"]),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(["0".to_string(), short(Measure::ListCost, top)]),
        );
    frame.render_widget(widget, chart);
    frame.render_widget(
        Line::styled(
            format!(
                " ⠿ this month  • {month}: {} list cost in total",
                money(*total)
            ),
            theme.dim(),
        ),
        legend,
    );
}

fn render_explain(theme: &Theme, view: &ExplorerView, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(" Change against the prior month ");
    let (explanation, bars) = match &view.explained {
        Explained::Effects(explanation, bars) => (explanation, bars),
        Explained::TotalsOnly { prior, current } => {
            let text = match prior {
                Some(prior) => format!(
                    "{}: {} last month → {} now ({}). The ledger is not an archive, so the \
                     change cannot be split into volume, mix, price, weight, shared and \
                     mapping effects; pass last month's archive with --ledger.",
                    view.department_name(),
                    money(*prior),
                    money(*current),
                    growth(*prior, *current)
                ),
                None => format!(
                    "{}: {} now; no prior month to compare with.",
                    view.department_name(),
                    money(*current)
                ),
            };
            frame.render_widget(
                Paragraph::new(text).wrap(Wrap { trim: true }).block(block),
                area,
            );
            return;
        }
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let bar_cells = usize::from(inner.width).saturating_sub(24).max(4);
    let mut lines: Vec<Line> = bars
        .iter()
        .map(|bar| waterfall_line(theme, bar, bar_cells))
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(format!(
        "change {} = sum of the effects ({})",
        signed(explanation.change()),
        growth(explanation.prior, explanation.current)
    )));
    lines.push(Line::styled(
        "█ rise  ▒ fall  ░ totals; effects by one factor at a time",
        theme.dim(),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn waterfall_line(theme: &Theme, bar: &Bar, cells: usize) -> Line<'static> {
    let column = |x: f64| ((x * cells as f64).round() as usize).min(cells);
    let (low, high) = (column(bar.from.min(bar.to)), column(bar.from.max(bar.to)));
    let total = bar.label == "prior" || bar.label == "current";
    let (fill, style) = match (total, bar.to >= bar.from) {
        (true, _) => ("░", theme.dim()),
        (false, true) => ("█", tint(theme, Color::Red)),
        (false, false) => ("▒", tint(theme, Color::Green)),
    };
    let width = (high - low).max(usize::from(!bar.amount.is_zero()));
    let figure = if total {
        money(bar.amount)
    } else {
        signed(bar.amount)
    };
    Line::from(vec![
        Span::raw(format!("{:<8}{:>12}  ", bar.label, figure)),
        Span::raw(" ".repeat(low)),
        Span::styled(fill.repeat(width), style),
    ])
}

fn render_peak(theme: &Theme, view: &ExplorerView, frame: &mut Frame, area: Rect) {
    let text = format!(
        "Busiest hour from the hourly buckets. Peak minute read back from the sources for \
         each department's {PEAK_HOURS} busiest hours only; a busier minute in a quieter \
         hour would not be seen."
    );
    let height = wrapped_height(&text, usize::from(area.width));
    let [table, note] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(height)]).areas(area);
    let header = Row::new([
        "department",
        "busiest hour",
        "calls",
        "peak minute",
        "calls/min",
    ])
    .style(header_style(theme));
    let rows = view.busiest.iter().map(|b| {
        let (hour, calls) = b
            .hour
            .map_or((String::from("-"), String::from("0")), |(h, n)| {
                (h.format("%b %-d %H:00").to_string(), count(n))
            });
        let (minute, per_minute) = peak_cells(&view.peaks, &b.department);
        Row::new(vec![
            cut(&b.department, 14),
            hour,
            calls,
            minute,
            per_minute,
        ])
    });
    let widths = [
        Constraint::Length(14),
        Constraint::Length(13),
        Constraint::Length(7),
        Constraint::Length(13),
        Constraint::Fill(1),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(Block::bordered().title(" Peak load ")),
        table,
    );
    frame.render_widget(
        Paragraph::new(text)
            .style(theme.dim())
            .wrap(Wrap { trim: true }),
        note,
    );
}

/// How many lines a text takes when wrapped at word boundaries into `width` (as a wrapped
/// paragraph lays it out; a word longer than the width takes lines of its own).
fn wrapped_height(text: &str, width: usize) -> u16 {
    let width = width.max(1);
    let mut lines = 0usize;
    let mut used = 0usize;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if used > 0 && used + 1 + len <= width {
            used += 1 + len;
        } else {
            lines += 1;
            used = len;
            if len > width {
                lines += (len - 1) / width;
                used = len % width;
            }
        }
    }
    u16::try_from(lines.max(1)).unwrap_or(u16::MAX)
}

fn peak_cells(peaks: &Peaks, department: &str) -> (String, String) {
    match peaks {
        Peaks::NotRead => ("-".into(), "-".into()),
        Peaks::Reading => ("reading…".into(), String::new()),
        Peaks::Failed(error) => (format!("failed: {error}"), String::new()),
        Peaks::Read(read) => read
            .iter()
            .find(|p| p.department == department)
            .and_then(|p| p.peak)
            .map_or(("-".into(), "0".into()), |(minute, calls)| {
                (minute.format("%b %-d %H:%M").to_string(), count(calls))
            }),
    }
}

/// Draws the rows behind the selected caller in the window.
pub fn render_rows(app: &App, frame: &mut Frame, area: Rect) {
    let (Some(view), Some(review)) = (&app.explorer, &app.review) else {
        return;
    };
    let zone = review.settings.zone;
    let title = format!(
        " {} · {} · {} to {} ",
        view.department_name(),
        view.rows_caller,
        view.window_from.format("%b %-d %H:%M"),
        view.window_to().format("%b %-d %H:%M"),
    );
    let block = Block::bordered().title(title);
    let rows = match &view.rows {
        Rows::Read(rows) => rows,
        other => {
            let text = match other {
                Rows::Failed(error) => format!("could not read the rows: {error}"),
                _ => "reading the sources…".to_string(),
            };
            frame.render_widget(Paragraph::new(text).block(block), area);
            return;
        }
    };
    let header = Row::new([
        "line",
        "local time",
        "model",
        "input",
        "output",
        "ok",
        "source",
    ])
    .style(header_style(&app.theme));
    let lines = rows.iter().map(|r| {
        Row::new(vec![
            r.line.to_string(),
            r.timestamp
                .with_timezone(&zone)
                .format("%m-%d %H:%M:%S")
                .to_string(),
            r.model.clone(),
            count(r.tokens.input),
            count(r.tokens.output),
            if r.success { "yes" } else { "FAILED" }.to_string(),
            r.source.clone(),
        ])
    });
    let widths = [
        Constraint::Length(7),
        Constraint::Length(14),
        Constraint::Length(18),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Fill(1),
    ];
    let height = table_rows(area).height;
    let mut state = table_state(view.row.selected, height, true);
    frame.render_stateful_widget(
        Table::new(lines, widths)
            .header(header)
            .row_highlight_style(app.theme.selected())
            .block(block),
        area,
        &mut state,
    );
}

fn measure_name(measure: Measure) -> &'static str {
    match measure {
        Measure::Tokens => "tokens",
        Measure::ListCost => "list cost",
        Measure::Converted => "converted amount",
        Measure::Calls => "calls",
    }
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Hour => "hour",
        Step::Day => "day",
    }
}

/// A value in its measure: money to the cent, counts whole.
fn amount(measure: Measure, value: Decimal) -> String {
    match measure {
        Measure::ListCost | Measure::Converted => money(value),
        Measure::Tokens | Measure::Calls => count(value.round().try_into().unwrap_or(0)),
    }
}

/// An axis label for a plotted float (only a label; the figures shown as text are exact).
fn short(measure: Measure, value: f64) -> String {
    let value = Decimal::try_from(value).unwrap_or_default();
    match measure {
        Measure::ListCost | Measure::Converted => money(value),
        Measure::Tokens | Measure::Calls if value >= Decimal::from(1_000_000) => {
            format!("{}M", (value / Decimal::from(1_000_000)).round_dp(1))
        }
        _ => amount(measure, value),
    }
}

fn signed(value: Decimal) -> String {
    if value.is_sign_negative() {
        money(value)
    } else {
        format!("+{}", money(value))
    }
}

fn growth(prior: Decimal, current: Decimal) -> String {
    if prior.is_zero() {
        "no prior amount".to_string()
    } else {
        format!(
            "{}{}",
            if current >= prior { "+" } else { "" },
            pct(current / prior - Decimal::ONE)
        )
    }
}
