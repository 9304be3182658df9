//! The review app driven by actions, asserting on its state without drawing.

mod common;

use apportion::review::{Decision, LineKey};
use apportion::tui::{Action, App, Screen, Theme};
use common::{app, drive, type_in};

fn selected(app: &App) -> LineKey {
    app.current_line().unwrap()
}

fn decision(app: &App, key: &LineKey) -> Decision {
    app.review.as_ref().unwrap().session.decision(key)
}

#[test]
fn approve_moves_on_and_undo_takes_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue]);
    let first = selected(&app);
    app.update(Action::Approve);
    assert_eq!(decision(&app, &first), Decision::Approved);
    assert_ne!(
        selected(&app),
        first,
        "the selection moves to the next line"
    );
    assert_eq!(app.decided(), (1, 36));
    app.update(Action::Undo);
    assert_eq!(decision(&app, &first), Decision::Pending);
}

#[test]
fn esc_from_the_detail_returns_to_the_same_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(
        &mut app,
        &[Action::ShowQueue, Action::Down, Action::Down, Action::Open],
    );
    assert_eq!(app.screen(), Screen::Detail);
    let key = selected(&app);
    drive(
        &mut app,
        &[Action::Down, Action::NextPanel, Action::Down, Action::Back],
    );
    assert_eq!(app.screen(), Screen::Queue);
    assert_eq!(app.queue.cursor.selected, 2);
    assert_eq!(selected(&app), key);
}

#[test]
fn a_refused_adjustment_keeps_the_dialog_open_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue, Action::Adjust]);
    type_in(&mut app, "twelve");
    let modal = app.modal.as_ref().unwrap();
    assert!(modal.error.as_deref().unwrap().contains("not an amount"));
    app.update(Action::Back);
    assert!(app.modal.is_none());
    assert_eq!(decision(&app, &selected(&app)), Decision::Pending);
}

#[test]
fn an_adjustment_finer_than_the_cent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue, Action::Adjust]);
    type_in(&mut app, "0.001");
    let modal = app
        .modal
        .as_ref()
        .expect("the amount is refused before the reason");
    let refusal = modal.error.as_deref().unwrap();
    assert!(
        refusal.contains("finer than the smallest unit of USD"),
        "{refusal}"
    );
    app.update(Action::Back);
    assert!(app.review.as_ref().unwrap().session.adjustments.is_empty());

    // Trailing zeros are no finer than the cent.
    app.update(Action::Adjust);
    type_in(&mut app, "0.500");
    type_in(&mut app, "rounding");
    assert!(app.modal.is_none());
}

#[test]
fn adjust_asks_an_amount_then_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue]);
    let key = selected(&app);
    app.update(Action::Adjust);
    type_in(&mut app, "-2.50");
    type_in(&mut app, "outage credit");
    assert!(app.modal.is_none());
    let session = &app.review.as_ref().unwrap().session;
    assert_eq!(session.decision(&key), Decision::Adjusted);
    assert_eq!(session.adjustments[0].reason, "outage credit");
}

#[test]
fn an_adjustment_that_takes_a_line_below_zero_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue]);
    let key = selected(&app);
    let settled = app.review.as_ref().unwrap().adjusted_line(&key).unwrap();

    app.update(Action::Adjust);
    type_in(&mut app, "-0.01");
    type_in(&mut app, "rounding");
    let said = &app.message.as_ref().unwrap().text;
    assert!(!said.contains("below zero"), "{said}");

    let credit = -settled;
    app.update(Action::Adjust);
    type_in(&mut app, &credit.to_string());
    type_in(&mut app, "full refund");
    let said = &app.message.as_ref().unwrap().text;
    let below = settled - rust_decimal::Decimal::new(1, 2) + credit;
    assert!(said.contains(&format!("below zero, at {below}")), "{said}");
}

#[test]
fn filter_search_and_sort_change_the_rows_shown() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(
        &mut app,
        &[Action::ShowQueue, Action::Approve, Action::CycleFilter],
    );
    assert_eq!(app.queue.rows.len(), 35, "pending only");
    app.update(Action::CycleFilter);
    app.update(Action::CycleFilter);
    assert_eq!(app.queue.rows.len(), 1, "decided only");
    app.update(Action::CycleFilter);
    app.update(Action::Search);
    type_in(&mut app, "legal");
    assert!(app.queue.rows.len() >= 2);
    let review = app.review.as_ref().unwrap();
    assert!(
        app.queue
            .rows
            .iter()
            .all(|&i| review.attribution.lines[i].department == "Legal")
    );
    app.update(Action::CycleSort);
    assert_eq!(app.queue.sort.label(), "amount");
}

#[test]
fn mapping_an_unattributed_caller_recalculates_and_shows_what_moved() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue, Action::Search]);
    type_in(&mut app, "unattributed");
    drive(&mut app, &[Action::Open, Action::AssignCaller]);
    type_in(&mut app, "finance");
    assert_eq!(app.screen(), Screen::Recalculations);
    let review = app.review.as_ref().unwrap();
    let last = review.session.recalculations.last().unwrap();
    assert!(last.cause.contains("to Finance"));
    assert!(last.moved.iter().any(|m| m.key.department == "Finance"));
    app.update(Action::Back);
    assert_eq!(app.screen(), Screen::Detail);
}

#[test]
fn a_click_selects_the_row_under_the_mouse() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue]);
    // Header line, gauge, status line, top border and table header come first.
    app.update(Action::Click(5 + 3));
    assert_eq!(app.queue.cursor.selected, 3);
}

#[test]
fn help_returns_to_the_screen_it_was_opened_from() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue, Action::ShowHelp]);
    assert_eq!(app.screen(), Screen::Help);
    app.update(Action::Back);
    assert_eq!(app.screen(), Screen::Queue);
    app.update(Action::Quit);
    assert!(!app.running);
}

#[test]
fn the_department_that_spiked_is_one_key_from_the_overview() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    assert_eq!(app.screen(), Screen::Overview);
    // The key `e` of the overview, as the terminal sends it.
    let key = crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('e'),
        crossterm::event::KeyModifiers::NONE,
    ));
    let action = app.action_for(&key).unwrap();
    app.update(action);
    assert_eq!(app.screen(), Screen::Explorer);
    let explorer = app.explorer.as_ref().unwrap();
    assert_eq!(explorer.department_name(), "Marketing");
    let spiked: Vec<u32> = explorer
        .chart
        .spikes
        .iter()
        .map(|s| chrono::Datelike::day(&s.day))
        .collect();
    assert!(spiked.contains(&17), "{spiked:?}");
    assert_eq!(
        explorer.window_from.date(),
        explorer
            .chart
            .spikes
            .iter()
            .max_by_key(|s| s.value / s.median)
            .unwrap()
            .day,
        "the window opens on the worst day"
    );
    assert!(!explorer.window.callers.is_empty());
    app.update(Action::Back);
    assert_eq!(app.screen(), Screen::Overview);
}

#[test]
fn the_window_moves_widens_and_reads_the_rows_behind_a_caller() {
    use apportion::tui::views::Rows;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowExplorer]);
    let start = app.explorer.as_ref().unwrap().window_from;
    drive(
        &mut app,
        &[
            Action::WindowLater,
            Action::WidenWindow,
            Action::WidenWindow,
        ],
    );
    let explorer = app.explorer.as_ref().unwrap();
    assert_eq!(explorer.window_from, start + chrono::Duration::days(1));
    assert_eq!(explorer.window_steps, 3);
    let three_days = explorer.window.total;
    app.update(Action::NarrowWindow);
    assert!(app.explorer.as_ref().unwrap().window.total < three_days);

    drive(&mut app, &[Action::Down, Action::ReadRows]);
    assert_eq!(app.screen(), Screen::ExplorerRows);
    let explorer = app.explorer.as_mut().unwrap();
    explorer.wait();
    let Rows::Read(rows) = &explorer.rows else {
        panic!("{:?}", explorer.rows);
    };
    assert!(!rows.is_empty());
    assert_eq!(explorer.rows_caller, explorer.window.callers[1].name);
    app.update(Action::Back);
    assert_eq!(app.screen(), Screen::Explorer);
}

#[test]
fn the_hourly_step_keeps_the_window_and_the_measure_cycles() {
    use apportion::calc::series::{Measure, Step};
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowExplorer, Action::CycleStep]);
    let explorer = app.explorer.as_ref().unwrap();
    assert_eq!(explorer.step, Step::Hour);
    assert_eq!(explorer.window_steps, 24, "one day is 24 hours");
    assert_eq!(explorer.plot.len(), 25 * 24);
    drive(&mut app, &[Action::CycleMeasure, Action::CycleMeasure]);
    let explorer = app.explorer.as_ref().unwrap();
    assert_eq!(explorer.measure, Measure::Tokens);
    assert!(explorer.overlays.budget.is_empty(), "no budget in tokens");
}

#[test]
fn reloading_reads_on_another_thread_behind_the_loading_gauge() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue]);
    let key = Event::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT));
    let action = app.action_for(&key).expect("R is bound");
    assert_eq!(action, Action::Reload);
    app.update(action);
    assert_eq!(
        app.screen(),
        Screen::Loading,
        "the gauge shows while the sources are read"
    );
    assert!(app.is_reloading());

    let started = std::time::Instant::now();
    while app.is_reloading() {
        assert!(started.elapsed().as_secs() < 60, "the reload never ended");
        std::thread::sleep(std::time::Duration::from_millis(10));
        app.update(Action::Tick);
    }
    assert_eq!(app.screen(), Screen::Queue, "back where the reviewer was");
    let said = &app.message.as_ref().unwrap().text;
    assert_eq!(said, "the sources did not change");
}

#[test]
fn fixing_the_undecided_lines_clears_a_search_that_would_hide_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue, Action::Search]);
    type_in(&mut app, "no line is called this");
    assert!(app.queue.rows.is_empty());
    drive(&mut app, &[Action::ShowChecklist]);
    let checklist = app.checklist.checklist.as_ref().unwrap();
    assert_eq!(checklist.checks[0].id, "lines_decided");
    app.checklist.cursor.selected = 0;
    app.update(Action::FixCheck);
    assert_eq!(app.screen(), Screen::Queue);
    assert!(app.queue.search.is_empty());
    assert!(!app.queue.rows.is_empty(), "the pending lines are shown");
    let said = &app.message.as_ref().unwrap().text;
    assert!(said.contains("cleared"), "{said}");
}

#[test]
fn ctrl_u_clears_the_text_of_a_dialog_and_other_control_keys_type_nothing() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(&mut app, &[Action::ShowQueue, Action::Search]);
    type_in_without_submit(&mut app, "legal");
    let press = |app: &mut App, c: char| {
        let key = Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
        if let Some(action) = app.action_for(&key) {
            app.update(action);
        }
    };
    press(&mut app, 'w');
    assert_eq!(app.modal.as_ref().unwrap().text, "legal");
    press(&mut app, 'u');
    assert_eq!(app.modal.as_ref().unwrap().text, "");
    assert_eq!(app.queue.rows.len(), 36, "the search follows the text");
}

/// Types text into the open dialog without confirming it.
fn type_in_without_submit(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Type(c));
    }
}
