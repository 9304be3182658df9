//! One module per screen; each draws from the state and never changes it.

pub mod checklist;
pub mod departments;
pub mod detail;
pub mod explorer;
pub mod export;
pub mod help;
pub mod loading;
pub mod overview;
pub mod queue;
pub mod recalculations;
pub mod rejects;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::TableState;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::app::{App, Screen};
use super::theme::Theme;
use super::views::offset;
use crate::calc::Status;

/// Draws the current screen into the body.
pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    match app.screen() {
        Screen::Loading => loading::render(app, frame, area),
        Screen::Failed => loading::render_failure(app, frame, area),
        Screen::Overview => overview::render(app, frame, area),
        Screen::Queue => queue::render(app, frame, area),
        Screen::Detail => detail::render(app, frame, area),
        Screen::Recalculations => recalculations::render(app, frame, area),
        Screen::Departments => departments::render(app, frame, area),
        Screen::Rejects => rejects::render(app, frame, area),
        Screen::Checklist => checklist::render(app, frame, area),
        Screen::Export => export::render(app, frame, area),
        Screen::Help => help::render(app, frame, area),
        Screen::Explorer => explorer::render(app, frame, area),
        Screen::ExplorerRows => explorer::render_rows(app, frame, area),
    }
}

/// A table state that shows `selected` within rows of `height`, placed the same way as
/// mouse clicks expect.
pub fn table_state(selected: usize, height: u16, focused: bool) -> TableState {
    TableState::default()
        .with_offset(offset(selected, usize::from(height)))
        .with_selected(focused.then_some(selected))
}

/// An amount to the cent with thousands separators.
pub fn money(amount: Decimal) -> String {
    crate::report::money(amount)
}

/// An optional amount, `-` when absent.
pub fn maybe_money(amount: Option<Decimal>) -> String {
    amount.map_or_else(|| "-".to_string(), money)
}

/// A status light with its label, so that it reads without colour.
pub fn light(theme: &Theme, status: Status) -> Span<'static> {
    Span::styled(
        format!("{} {}", theme.light(status), status.label()),
        theme.status(status),
    )
}

/// A column as wide as the widest of `texts`, and at least `min`. A figure right-aligned in
/// a column too narrow for it loses its leading digits (100.0 % shown as 00.0 %), so the
/// columns of figures grow with them.
pub fn fit(min: u16, texts: impl IntoIterator<Item = String>) -> u16 {
    let widest = texts
        .into_iter()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0);
    u16::try_from(widest).unwrap_or(u16::MAX).max(min)
}

/// A text gauge: filled cells in the status colour, then the percentage.
pub fn gauge(
    theme: &Theme,
    fraction: Option<Decimal>,
    status: Status,
    cells: usize,
) -> Vec<Span<'static>> {
    let Some(fraction) = fraction else {
        return vec![Span::raw("no budget")];
    };
    let filled = (fraction.clamp(Decimal::ZERO, Decimal::ONE) * Decimal::from(cells)).round();
    let filled = filled.to_usize().unwrap_or(0).min(cells);
    let (full, empty) = if theme.ascii {
        ("#", ".")
    } else {
        ("█", "░")
    };
    vec![
        Span::styled(full.repeat(filled), theme.gauge(status)),
        Span::styled(empty.repeat(cells - filled), theme.dim()),
        Span::raw(format!("{:>8}", crate::report::pct(fraction))),
    ]
}

/// Cuts text to `width` characters, marking the cut.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` in lines of at most `width` characters, broken between words where it can be, and
/// at most `lines` of them: the last ends in `…` when the text goes on.
pub fn wrap(text: &str, width: usize, lines: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out: Vec<String> = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() && out.len() < lines {
        let (line, after) = break_line(rest, width);
        out.push(line.trim_end().to_string());
        rest = after.trim_start();
    }
    if !rest.is_empty() {
        if let Some(last) = out.last_mut() {
            *last = cut(&format!("{last} {rest}"), width);
        }
    }
    out
}

/// The first line of `text` at `width` characters, and the text after it: broken at the
/// last space that fits, or within a word longer than the line.
fn break_line(text: &str, width: usize) -> (&str, &str) {
    let Some((end, _)) = text.char_indices().nth(width) else {
        return (text, "");
    };
    match text[..end].rfind(' ') {
        Some(space) if space > 0 => (&text[..space], &text[space..]),
        _ => (&text[..end], &text[end..]),
    }
}

/// The style of a header row.
pub fn header_style(theme: &Theme) -> Style {
    theme.header()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_between_words_and_ends_in_an_ellipsis_when_it_goes_on() {
        let reason = "illegal call: 1 call(s) to claude-opus-4-1 not allowed for Legal";
        assert_eq!(
            wrap(reason, 40, 2),
            [
                "illegal call: 1 call(s) to",
                "claude-opus-4-1 not allowed for Legal"
            ]
        );
        assert_eq!(
            wrap(reason, 40, 1),
            ["illegal call: 1 call(s) to claude-opus-…"]
        );
        assert_eq!(wrap("short", 40, 2), ["short"]);
        assert!(wrap("", 40, 2).is_empty());
        assert_eq!(wrap("abcdefgh", 3, 2), ["abc", "de…"]);
    }
}
