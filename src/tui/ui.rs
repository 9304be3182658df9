//! Drawing: the frame around every screen (header, message, footer hints, dialog) and the
//! layout that drawing and mouse clicks share. Drawing only reads the state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, Screen};
use super::keys;
use super::screens;

/// The smallest window the screens are laid out for. In a smaller one columns would be cut
/// and figures shortened (62.3 % shown as 62, the conservation line pushed out of sight), so
/// nothing but a request for more room is drawn.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Whether a window is large enough to draw the screens in.
pub fn fits(area: Rect) -> bool {
    area.width >= MIN_SIZE.0 && area.height >= MIN_SIZE.1
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if !fits(area) {
        return render_too_small(frame, area);
    }
    let [header, body, message, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(app, frame, header);
    screens::render(app, frame, body);
    render_message(app, frame, message);
    render_footer(app, frame, footer);
    if app.modal.is_some() {
        render_modal(app, frame, area);
    }
}

/// Asks for a larger window, saying how large this one is; `q` still quits.
fn render_too_small(frame: &mut Frame, area: Rect) {
    let (width, height) = MIN_SIZE;
    let text = format!(
        "apportion needs a window of at least {width}×{height} to show the review without \
         cutting figures; this one is {}×{}. Enlarge it, or press q to quit.",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

/// The body of the screen, below the header and above the message and footer lines.
pub fn body(area: Rect) -> Rect {
    Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(3),
        ..area
    }
}

/// Where the rows of a screen's main list are, for mouse clicks: the same layout the screen
/// draws with.
pub fn list_area(screen: Screen, size: Rect) -> Option<Rect> {
    if !fits(size) {
        return None;
    }
    let body = body(size);
    let table = match screen {
        Screen::Queue => screens::queue::layout(body).table,
        Screen::Departments => screens::departments::layout(body).0,
        Screen::Rejects => screens::rejects::layout(body).1,
        _ => return None,
    };
    Some(table_rows(table))
}

/// The rows of a bordered table with a header line.
pub fn table_rows(table: Rect) -> Rect {
    let inner = Block::bordered().inner(table);
    Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    }
}

fn render_header(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let mut spans = vec![Span::styled(" apportion ", theme.header())];
    if let Some(review) = &app.review {
        let a = &review.attribution;
        spans.push(Span::raw(format!(
            "{} · {} · ",
            a.organization, a.period.month
        )));
    }
    spans.push(Span::styled(app.screen().title(), theme.key()));
    if app.review.is_some() && area.width >= 110 {
        spans.push(Span::styled(
            "   1 overview  2 queue  3 departments  4 rejected  5 recalculations  6 checklist",
            theme.dim(),
        ));
    }
    frame.render_widget(Line::from(spans), area);
}

fn render_message(app: &App, frame: &mut Frame, area: Rect) {
    let Some(message) = &app.message else {
        return;
    };
    let style = if message.error {
        app.theme.error()
    } else {
        Style::new()
    };
    frame.render_widget(Line::styled(format!(" {}", message.text), style), area);
}

/// The footer: the keys of the current screen, read from the same table that handles them.
fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let hints: Vec<(String, &str)> = if app.modal.is_some() {
        vec![
            ("Enter".into(), "confirm"),
            ("Esc".into(), "cancel"),
            ("Ctrl-U".into(), "clear"),
        ]
    } else {
        keys::hints(app.screen())
    };
    let mut spans = Vec::new();
    for (key, label) in fitting(hints, usize::from(area.width)) {
        spans.push(Span::styled(format!(" {key}"), app.theme.key()));
        spans.push(Span::styled(format!(" {label} "), app.theme.dim()));
    }
    frame.render_widget(Line::from(spans), area);
}

/// The hints that fit in `width`, dropping the screen's last ones first so that the global
/// hints at the end (help, quit) always show.
fn fitting(mut hints: Vec<(String, &str)>, width: usize) -> Vec<(String, &str)> {
    let size = |h: &[(String, &str)]| {
        h.iter()
            .map(|(k, l)| k.chars().count() + l.chars().count() + 3)
            .sum::<usize>()
    };
    while size(&hints) > width && hints.len() > 2 {
        hints.remove(hints.len() - 3);
    }
    hints
}

fn render_modal(app: &App, frame: &mut Frame, area: Rect) {
    let Some(modal) = &app.modal else {
        return;
    };
    let width = (area.width * 3 / 4).clamp(30.min(area.width), 90);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + area.height.saturating_sub(8) / 2,
        width,
        height: 8.min(area.height),
    };
    let cursor = if app.theme.ascii { "_" } else { "▏" };
    let mut lines = vec![
        Line::styled(modal.hint.clone(), app.theme.dim()),
        Line::from(""),
        Line::from(vec![
            Span::raw("> "),
            Span::raw(modal.text.clone()),
            Span::raw(cursor),
        ]),
    ];
    if let Some(error) = &modal.error {
        lines.push(Line::styled(error.clone(), app.theme.error()));
    }
    let block = Block::bordered().title(Span::styled(
        format!(" {} ", modal.title),
        app.theme.header(),
    ));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        popup,
    );
}
