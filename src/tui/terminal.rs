//! The terminal: raw mode and the alternate screen for as long as a guard lives, restored on
//! every way out (return, error, panic, Ctrl-C), and the event loop.

use std::io::stdout;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use ratatui::DefaultTerminal;

use super::action::Action;
use super::app::App;
use super::ui;
use crate::review::Review;

/// How long to wait for input before the screen is refreshed anyway (the loading gauge).
const TICK: Duration = Duration::from_millis(100);

/// Raw mode, the alternate screen and mouse capture while it lives.
///
/// `ratatui::try_init` also installs a panic hook that restores the terminal before the
/// panic message is printed; the guard adds to that hook the release of the mouse, which
/// ratatui does not capture, and restores everything on every other way out. Ctrl-C arrives
/// as a key in raw mode and quits through the key table, so it takes the same way out.
pub struct TerminalGuard {
    /// The terminal to draw on.
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Takes over the terminal.
    pub fn new() -> std::io::Result<TerminalGuard> {
        let terminal = ratatui::try_init()?;
        let restore_terminal = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(stdout(), DisableMouseCapture);
            restore_terminal(info);
        }));
        let guard = TerminalGuard { terminal };
        execute!(stdout(), EnableMouseCapture)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // During a panic the hook has restored the terminal already.
        if !std::thread::panicking() {
            let _ = execute!(stdout(), DisableMouseCapture);
            ratatui::restore();
        }
    }
}

/// Draws, waits for an event or a tick, updates; until the user quits.
pub fn run_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    loading: Receiver<Result<Review, String>>,
) -> std::io::Result<()> {
    let mut loading = Some(loading);
    while app.running {
        terminal.draw(|frame| ui::render(app, frame))?;
        if event::poll(TICK)? {
            let event = event::read()?;
            if let Some(action) = app.action_for(&event) {
                tracing::debug!(?action, "action");
                app.update(action);
            }
        }
        app.update(Action::Tick);
        if let Some(receiver) = &loading {
            match receiver.try_recv() {
                Ok(result) => {
                    app.loaded(result);
                    loading = None;
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    app.loaded(Err("the loader stopped unexpectedly".into()));
                    loading = None;
                }
            }
        }
    }
    Ok(())
}
