//! The review in the terminal: ratatui and crossterm over the [`review`](crate::review) core.
//!
//! One direction: terminal events become [`Action`]s through the key table ([`keys`]),
//! [`App::update`] changes the state, and [`ui::render`] draws it without doing any I/O. The
//! month is loaded on another thread while a gauge shows its progress.
//!
//! - [`app`]: the state and `update`; [`modal`]: the text dialog; [`views`]: selections,
//!   filters and orders of each screen; [`explorer`]: the analyst's explorer;
//! - the close of the month: [`checklist`] (the checklist, kept current), [`signoff`] (the
//!   sign-off dialog) and [`export`] (the export menu, writing off the UI thread);
//! - [`keys`]: the key table behind input, footer and help; [`theme`]: colours and symbols;
//! - [`ui`] and [`screens`]: drawing, one module per screen;
//! - [`terminal`]: the terminal guard and the event loop; [`logging`]: the log file.

pub mod action;
pub mod app;
pub mod checklist;
pub mod explorer;
pub mod export;
pub mod keys;
pub mod logging;
pub mod modal;
pub mod screens;
pub mod signoff;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod views;

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

pub use action::Action;
pub use app::{App, Screen};
pub use theme::Theme;

use crate::load::Progress;
use crate::review::store::data_dir;
use crate::review::{Review, Sources};

/// What failed before or after the review ran.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No data directory could be found.
    #[error("no data directory: set APPORTION_DATA to a folder for sessions and logs")]
    NoDataDir,
    /// The data directory could not be created or written.
    #[error("cannot use the data directory {}: {source}", path.display())]
    DataDir {
        /// The data directory.
        path: std::path::PathBuf,
        /// Why it could not be used.
        source: std::io::Error,
    },
    /// The terminal could not be used.
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    /// The month could not be opened (the screen said why before the user quit).
    #[error("the month could not be opened: {0}")]
    NotOpened(String),
}

/// Opens the review of a month in the terminal and runs it until the user quits; an error
/// when the month could not be opened, so that the exit status says so.
pub fn run(sources: Sources) -> Result<(), Error> {
    let data_dir = data_dir().ok_or(Error::NoDataDir)?;
    let _log = logging::init(&data_dir).map_err(|source| Error::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    tracing::info!(?sources, "opening the review");

    let progress = Arc::new(Progress::default());
    let loading = spawn_loader(sources, Arc::clone(&progress), data_dir);
    let mut guard = terminal::TerminalGuard::new()?;
    let size = guard.terminal.size()?;
    let mut app = App::new(
        progress,
        Theme::from_env(),
        ratatui::layout::Rect::new(0, 0, size.width, size.height),
    );
    let result = terminal::run_loop(&mut guard.terminal, &mut app, loading);
    drop(guard);
    tracing::info!("review closed");
    result?;
    match app.failure.take() {
        Some(failure) => Err(Error::NotOpened(failure)),
        None => Ok(()),
    }
}

/// Reads the month and opens its session on another thread, so that the screen stays live.
fn spawn_loader(
    sources: Sources,
    progress: Arc<Progress>,
    data_dir: std::path::PathBuf,
) -> Receiver<Result<Review, String>> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        let result = Review::load(sources.clone(), progress)
            .and_then(|loaded| {
                Review::open(sources, loaded, &data_dir, &reviewer(), chrono::Utc::now())
            })
            .map_err(|e| e.to_string());
        if let Err(error) = &result {
            tracing::error!(%error, "loading failed");
        }
        let _ = sender.send(result);
    });
    receiver
}

/// The name decisions are recorded under at first: `APPORTION_REVIEWER`, else the login.
fn reviewer() -> String {
    ["APPORTION_REVIEWER", "USER", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "reviewer".to_string())
}
