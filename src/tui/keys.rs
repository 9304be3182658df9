//! The key table: the one place that says which key does what on each screen. Input handling,
//! the footer hint bar and the help screen are all read from it, so they cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::app::Screen;
use super::explorer::ExplorerMode;

/// A key, with Ctrl or without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
}

const fn ch(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

impl Key {
    /// Whether a key event is this key.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        self.code == event.code && self.ctrl == ctrl
    }

    /// The key as the footer and help write it.
    pub fn name(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// Keys, what they do, and whether the footer shows them.
#[derive(Debug)]
pub struct Binding {
    /// The keys that do it.
    pub keys: &'static [Key],
    /// What it does, in a few words.
    pub label: &'static str,
    /// The action.
    pub action: Action,
    /// Whether the footer hint bar shows it (the help shows every binding).
    pub footer: bool,
}

const fn bind(keys: &'static [Key], label: &'static str, action: Action, footer: bool) -> Binding {
    Binding {
        keys,
        label,
        action,
        footer,
    }
}

/// Moving in a list, shared by every screen with one.
const MOVE: &[Binding] = &[
    bind(&[ch('j'), code(KeyCode::Down)], "down", Action::Down, false),
    bind(&[ch('k'), code(KeyCode::Up)], "up", Action::Up, false),
    bind(
        &[code(KeyCode::PageDown), ctrl('d')],
        "page down",
        Action::PageDown,
        false,
    ),
    bind(
        &[code(KeyCode::PageUp), ctrl('u')],
        "page up",
        Action::PageUp,
        false,
    ),
    bind(&[ch('g'), code(KeyCode::Home)], "first", Action::Top, false),
    bind(
        &[ch('G'), code(KeyCode::End)],
        "last",
        Action::Bottom,
        false,
    ),
];

/// Everywhere once the month is loaded.
const GLOBAL: &[Binding] = &[
    bind(&[ch('1')], "overview", Action::ShowOverview, false),
    bind(&[ch('2')], "queue", Action::ShowQueue, false),
    bind(&[ch('3')], "departments", Action::ShowDepartments, false),
    bind(&[ch('4')], "rejected", Action::ShowRejects, false),
    bind(
        &[ch('5')],
        "recalculations",
        Action::ShowRecalculations,
        false,
    ),
    bind(&[ch('6')], "checklist", Action::ShowChecklist, false),
    bind(&[ch('7')], "explorer", Action::ShowExplorer, false),
    bind(&[ch('x')], "export menu", Action::ShowExport, false),
    bind(&[ch('R')], "reload sources", Action::Reload, false),
    bind(&[ch('W')], "reviewer name", Action::SetReviewer, false),
    bind(&[code(KeyCode::Esc)], "back", Action::Back, false),
    bind(&[ch('?')], "help", Action::ShowHelp, true),
    bind(&[ch('q'), ctrl('c')], "quit", Action::Quit, true),
];

const LOADING: &[Binding] = &[bind(
    &[ch('q'), ctrl('c'), code(KeyCode::Esc)],
    "quit",
    Action::Quit,
    true,
)];

const OVERVIEW: &[Binding] = &[
    bind(
        &[code(KeyCode::Enter), ch('2')],
        "review queue",
        Action::ShowQueue,
        true,
    ),
    bind(&[ch('e')], "explore spikes", Action::ShowExplorer, true),
    bind(&[ch('3')], "departments", Action::ShowDepartments, true),
    bind(&[ch('4')], "rejected rows", Action::ShowRejects, true),
];

const EXPLORER: &[Binding] = &[
    bind(
        &[code(KeyCode::Tab), ch(']')],
        "next dept",
        Action::NextDepartment,
        true,
    ),
    bind(
        &[code(KeyCode::BackTab), ch('[')],
        "previous dept",
        Action::PreviousDepartment,
        false,
    ),
    bind(
        &[code(KeyCode::Left), ch('h')],
        "window earlier",
        Action::WindowEarlier,
        false,
    ),
    bind(
        &[code(KeyCode::Right), ch('l')],
        "window later",
        Action::WindowLater,
        true,
    ),
    bind(&[ch('+'), ch('=')], "widen", Action::WidenWindow, true),
    bind(&[ch('-')], "narrow", Action::NarrowWindow, false),
    bind(&[ch('m')], "measure", Action::CycleMeasure, true),
    bind(&[ch('t')], "hour/day", Action::CycleStep, true),
    bind(&[code(KeyCode::Enter)], "rows", Action::ReadRows, true),
    bind(
        &[ch('v')],
        "chart",
        Action::Explore(ExplorerMode::Chart),
        false,
    ),
    bind(
        &[ch('c')],
        "compare",
        Action::Explore(ExplorerMode::Compare),
        true,
    ),
    bind(
        &[ch('o')],
        "prior month",
        Action::Explore(ExplorerMode::Prior),
        false,
    ),
    bind(
        &[ch('x')],
        "explain",
        Action::Explore(ExplorerMode::Explain),
        true,
    ),
    bind(
        &[ch('p')],
        "peak",
        Action::Explore(ExplorerMode::Peak),
        true,
    ),
];

const QUEUE: &[Binding] = &[
    bind(
        &[code(KeyCode::Enter), ch('l')],
        "detail",
        Action::Open,
        true,
    ),
    bind(&[ch('a')], "approve", Action::Approve, true),
    bind(&[ch('A')], "adjust", Action::Adjust, true),
    bind(&[ch('d')], "dispute", Action::Dispute, true),
    bind(&[ch('n')], "note", Action::Note, true),
    bind(&[ch('u')], "undo", Action::Undo, true),
    bind(&[ch('/')], "search", Action::Search, true),
    bind(&[ch('f')], "filter", Action::CycleFilter, true),
    bind(&[ch('s')], "sort", Action::CycleSort, true),
];

const DETAIL: &[Binding] = &[
    bind(&[code(KeyCode::Tab)], "next panel", Action::NextPanel, true),
    bind(
        &[code(KeyCode::Enter), ch('r')],
        "rows",
        Action::ReadRows,
        true,
    ),
    bind(&[ch('a')], "approve", Action::Approve, true),
    bind(&[ch('A')], "adjust", Action::Adjust, false),
    bind(&[ch('d')], "dispute", Action::Dispute, false),
    bind(&[ch('n')], "note", Action::Note, false),
    bind(&[ch('u')], "undo", Action::Undo, false),
    bind(&[ch('m')], "map caller", Action::AssignCaller, true),
    bind(&[ch('w')], "weight", Action::ChangeComplexity, true),
    bind(&[ch('p')], "price", Action::ChangePrice, true),
];

const REJECTS: &[Binding] = &[bind(
    &[ch('a'), code(KeyCode::Enter)],
    "acknowledge",
    Action::Acknowledge,
    true,
)];

const CHECKLIST: &[Binding] = &[
    bind(
        &[code(KeyCode::Enter), ch('l')],
        "fix",
        Action::FixCheck,
        true,
    ),
    bind(
        &[ch('s')],
        "share unattributed",
        Action::ShareUnattributed,
        true,
    ),
    bind(&[ch('x')], "export", Action::ShowExport, true),
];

const DEPARTMENTS: &[Binding] = &[
    bind(&[ch('o')], "sign off", Action::SignOff, true),
    bind(
        &[ch('O')],
        "withdraw sign-off",
        Action::WithdrawSignOff,
        true,
    ),
];

const EXPORT: &[Binding] = &[
    bind(&[ch(' '), ch('t')], "choose", Action::ToggleOutput, true),
    bind(&[ch('f')], "folder", Action::ChangeFolder, true),
    bind(
        &[code(KeyCode::Enter), ch('w')],
        "write",
        Action::WriteOutputs,
        true,
    ),
];

const PLAIN: &[Binding] = &[];

/// The bindings of a screen, its own first, then moving, then the global ones.
pub fn table(screen: Screen) -> Vec<&'static Binding> {
    let own: &[Binding] = match screen {
        Screen::Loading | Screen::Failed => return LOADING.iter().collect(),
        Screen::Overview => OVERVIEW,
        Screen::Queue => QUEUE,
        Screen::Detail => DETAIL,
        Screen::Rejects => REJECTS,
        Screen::Explorer => EXPLORER,
        Screen::Checklist => CHECKLIST,
        Screen::Departments => DEPARTMENTS,
        Screen::Export => EXPORT,
        Screen::Recalculations | Screen::Help | Screen::ExplorerRows => PLAIN,
    };
    own.iter().chain(MOVE).chain(GLOBAL).collect()
}

/// The action of a key on a screen; the screen's own bindings win over the global ones.
pub fn action_for(screen: Screen, event: &KeyEvent) -> Option<Action> {
    table(screen)
        .into_iter()
        .find(|b| b.keys.iter().any(|k| k.matches(event)))
        .map(|b| b.action)
}

/// The first key that does `action` on `screen`, as the footer writes it, so that a hint
/// in a screen's text names the key that really does it.
pub fn key_for(screen: Screen, action: Action) -> String {
    table(screen)
        .into_iter()
        .find(|b| b.action == action)
        .map_or_else(|| "?".to_string(), |b| b.keys[0].name())
}

/// The keys of a binding, joined for display (`j/↓`).
pub fn keys_text(binding: &Binding) -> String {
    binding
        .keys
        .iter()
        .map(Key::name)
        .collect::<Vec<_>>()
        .join("/")
}

/// The hints the footer shows on a screen: the first key of each footer binding.
pub fn hints(screen: Screen) -> Vec<(String, &'static str)> {
    table(screen)
        .into_iter()
        .filter(|b| b.footer)
        .map(|b| (b.keys[0].name(), b.label))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn every_footer_hint_is_a_key_that_works() {
        for screen in Screen::ALL {
            for (name, label) in hints(screen) {
                let binding = table(screen)
                    .into_iter()
                    .find(|b| b.label == label)
                    .unwrap();
                let first = binding.keys[0];
                assert_eq!(first.name(), name);
                let event = KeyEvent::new(
                    first.code,
                    if first.ctrl {
                        KeyModifiers::CONTROL
                    } else {
                        KeyModifiers::NONE
                    },
                );
                assert_eq!(
                    action_for(screen, &event),
                    Some(binding.action),
                    "{screen:?} {label}"
                );
            }
        }
    }

    #[test]
    fn screen_bindings_win_over_global_ones() {
        assert_eq!(action_for(Screen::Queue, &key('a')), Some(Action::Approve));
        assert_eq!(
            action_for(Screen::Rejects, &key('a')),
            Some(Action::Acknowledge)
        );
        assert_eq!(action_for(Screen::Overview, &key('a')), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Screen::Loading, &ctrl_c), Some(Action::Quit));
        assert_eq!(action_for(Screen::Detail, &ctrl_c), Some(Action::Quit));
    }
}
