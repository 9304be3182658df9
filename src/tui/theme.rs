//! Colours, symbols and styles in one place, so that `NO_COLOR` and the ASCII fallback apply
//! everywhere at once.

use ratatui::style::{Color, Modifier, Style};

use crate::calc::Status;
use crate::review::Decision;

/// How the screen is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Colours allowed (`NO_COLOR` unset).
    pub color: bool,
    /// Only ASCII symbols (a terminal without UTF-8).
    pub ascii: bool,
}

impl Theme {
    /// The theme the environment asks for: no colour when `NO_COLOR` is set to anything, and
    /// ASCII lights when `APPORTION_ASCII` is set or the locale does not say UTF-8.
    pub fn from_env() -> Theme {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default()
            .to_ascii_lowercase();
        Theme {
            color: !set("NO_COLOR"),
            ascii: set("APPORTION_ASCII") || !(locale.contains("utf-8") || locale.contains("utf8")),
        }
    }

    /// Colour and UTF-8: what the snapshot tests draw.
    pub const FULL: Theme = Theme {
        color: true,
        ascii: false,
    };

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// The colour of a status.
    pub fn status(&self, status: Status) -> Style {
        self.fg(match status {
            Status::Normal => Color::Green,
            Status::Warning => Color::Yellow,
            Status::Fuse => Color::Red,
        })
    }

    /// The light of a status: a dot, or a text mark without UTF-8.
    pub fn light(&self, status: Status) -> &'static str {
        match (self.ascii, status) {
            (false, _) => "●",
            (true, Status::Normal) => "o",
            (true, Status::Warning) => "!",
            (true, Status::Fuse) => "X",
        }
    }

    /// The style of a decision.
    pub fn decision(&self, decision: Decision) -> Style {
        match decision {
            Decision::Pending => Style::new(),
            Decision::Approved => self.fg(Color::Green),
            Decision::Adjusted => self.fg(Color::Cyan),
            Decision::Disputed => self.fg(Color::Magenta),
        }
    }

    /// Titles and table headers.
    pub fn header(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// The selected row: reversed, so that it shows without colour too.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// Errors.
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// A check that passes.
    pub fn pass(&self) -> Style {
        self.fg(Color::Green)
    }

    /// A check that is allowed with a note.
    pub fn allowed(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// Keys in the footer and the help.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The filled part of a gauge.
    pub fn gauge(&self, status: Status) -> Style {
        self.status(status)
    }

    /// The arrow of a move.
    pub fn arrow(&self) -> &'static str {
        if self.ascii { "->" } else { "→" }
    }
}
