//! Helpers shared by the review's screen and state tests.

#![allow(dead_code)]

pub mod round_trip;

use std::sync::Arc;

use apportion::review::{Review, Sources};
use apportion::tui::{Action, App, Theme};
use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

/// The fixed time decisions are recorded at in tests.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap()
}

/// An app on the sample month, loaded, with its session in `dir`.
pub fn app(dir: &std::path::Path, width: u16, height: u16, theme: Theme) -> App {
    let loaded = Review::load(Sources::default(), Arc::default()).unwrap();
    let review = Review::open(Sources::default(), loaded, dir, "ana", fixed_now()).unwrap();
    let mut app = App::new(Arc::default(), theme, Rect::new(0, 0, width, height));
    app.clock = fixed_now;
    app.loaded(Ok(review));
    // The message names the temporary session file, which differs on every run.
    app.message = None;
    app
}

/// Applies actions in turn.
pub fn drive(app: &mut App, actions: &[Action]) {
    for action in actions {
        app.update(*action);
    }
}

/// Types text into the open dialog and confirms it.
pub fn type_in(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Type(c));
    }
    app.update(Action::Submit);
}

/// Draws the app on a test terminal of its size.
pub fn draw(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    terminal
        .draw(|frame| apportion::tui::ui::render(app, frame))
        .unwrap();
    terminal
}

/// The rows of the drawn screen as text.
pub fn screen_rows(app: &App) -> Vec<String> {
    let terminal = draw(app);
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}
