//! The explorer's explanation of a change (the waterfall, `x`) and its prior-month overlay
//! (`o`), with last month's archive as the ledger: driven with the keys a terminal sends and
//! snapshotted at 80×24 and 160×48.
//!
//! October is settled and archived as in `tests/archive.rs`; November then opens with that
//! archive as its `--ledger`. Growth grows (more tokens, a dearer model, a higher price) and
//! Core stays as it was, so that the waterfall has rises and a flat department to compare.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use apportion::archive::{self, Contents, InputRecord};
use apportion::calc::calculate;
use apportion::config::Settings;
use apportion::load::load_files;
use apportion::review::{Review, Sources};
use apportion::tui::explorer::{Explained, ExplorerMode, Prior, waterfall};
use apportion::tui::{App, Screen, Theme};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use rust_decimal::Decimal;
use serde_json::json;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// The second model Growth turns to from the tenth day.
const PREMIUM_MODEL: &str = r#"
[[models]]
name = "p"
input = 40
output = 40
complexity = 2
"#;

/// Writes a month's configuration and log over `days` days: Core one million tokens of `m`
/// a day, Growth `growth` million of `m` a day and, from the tenth day, `premium` million
/// of `p`.
fn month(dir: &Path, month: &str, days: u32, price: u32, growth: u64, premium: u64) -> Sources {
    let config_path = dir.join(format!("{month}.toml"));
    std::fs::write(
        &config_path,
        common::round_trip::config(month, price, PREMIUM_MODEL),
    )
    .unwrap();
    let mut text = String::from("timestamp,api_key,model,input_tokens,output_tokens\n");
    for day in 1..=days {
        let core = 1_000_000;
        text.push_str(&format!("{month}-{day:02}T09:00:00Z,c-1,m,{core},0\n"));
        let g = growth * 1_000_000 + u64::from(day % 3) * 200_000;
        text.push_str(&format!("{month}-{day:02}T14:00:00Z,g-1,m,{g},0\n"));
        if day >= 10 && premium > 0 {
            let p = premium * 1_000_000;
            text.push_str(&format!("{month}-{day:02}T15:00:00Z,g-2,p,{p},0\n"));
        }
    }
    let logs = dir.join(format!("logs-{month}.csv"));
    std::fs::write(&logs, text).unwrap();
    Sources {
        config: Some(config_path),
        files: vec![logs],
        ..Sources::default()
    }
}

/// Settles October and archives it, as the month's export would; returns the archive.
fn october_archive(dir: &Path) -> PathBuf {
    let october = month(dir, "2026-10", 31, 10, 1, 0);
    let settings = Settings::from_file(october.config.as_ref().unwrap()).unwrap();
    let dataset = load_files(&settings, &october.files).unwrap();
    let attribution = calculate(&settings, &dataset, None, settings.month_end);
    let contents = Contents {
        settings: &settings,
        inputs: dataset.sources.iter().map(InputRecord::from).collect(),
        attribution: &attribution,
        review: json!({}),
        checklist: json!({}),
    };
    archive::write(dir, &contents).unwrap()
}

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 30, 0).unwrap()
}

/// November under review, with October's archive as its ledger, on a terminal of a size.
fn november(dir: &Path, width: u16, height: u16) -> App {
    let ledger = october_archive(dir);
    let mut sources = month(dir, "2026-11", 20, 12, 3, 1);
    sources.ledger = Some(ledger);
    sources.today = NaiveDate::from_ymd_opt(2026, 11, 21);
    let loaded = Review::load(sources.clone(), Arc::default()).unwrap();
    let data = dir.join("data");
    let review = Review::open(sources, loaded, &data, "ana", fixed_now()).unwrap();
    let mut app = App::new(Arc::default(), Theme::FULL, Rect::new(0, 0, width, height));
    app.clock = fixed_now;
    app.loaded(Ok(review));
    // The message names the temporary session file, which differs on every run.
    app.message = None;
    app
}

/// Presses keys as the terminal sends them.
fn press(app: &mut App, keys: &[KeyCode]) {
    for code in keys {
        let event = Event::Key(KeyEvent::new(*code, KeyModifiers::NONE));
        let action = app
            .action_for(&event)
            .unwrap_or_else(|| panic!("{code:?} does nothing on {:?}", app.screen()));
        app.update(action);
    }
}

fn snapshot(name: &str, app: &App) {
    let mut terminal = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    terminal
        .draw(|frame| apportion::tui::ui::render(app, frame))
        .unwrap();
    let size = format!("{}x{}", app.size.width, app.size.height);
    insta::assert_snapshot!(format!("{name}_{size}"), terminal.backend());
}

/// Opens the explorer from the overview on Growth, the department that grew.
fn explore_growth(app: &mut App) {
    press(app, &[KeyCode::Char('e')]);
    assert_eq!(app.screen(), Screen::Explorer);
    for _ in 0..2 {
        if app.explorer.as_ref().unwrap().department_name() == "Growth" {
            return;
        }
        press(app, &[KeyCode::Tab]);
    }
    assert_eq!(app.explorer.as_ref().unwrap().department_name(), "Growth");
}

#[test]
fn the_waterfall_explains_the_change_against_the_archive() {
    for (width, height) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut app = november(dir.path(), width, height);
        explore_growth(&mut app);
        press(&mut app, &[KeyCode::Char('x')]);
        let view = app.explorer.as_ref().unwrap();
        assert_eq!(view.mode, ExplorerMode::Explain);
        let Explained::Effects(explanation, bars) = &view.explained else {
            panic!(
                "an archive ledger explains the change: {:?}",
                view.explained
            );
        };
        assert_eq!(bars, &waterfall(explanation));
        assert_eq!(bars.first().unwrap().label, "prior");
        assert_eq!(bars.last().unwrap().label, "current");
        let effects: Decimal = explanation.effects.iter().map(|e| e.amount).sum();
        assert_eq!(explanation.prior + effects, explanation.current);
        assert!(explanation.current > explanation.prior, "Growth grew");
        snapshot("explain_growth", &app);

        // The next department keeps the mode: Core, which did not change much.
        press(&mut app, &[KeyCode::Tab]);
        assert_eq!(app.explorer.as_ref().unwrap().department_name(), "Core");
        snapshot("explain_core", &app);
    }
}

#[test]
fn the_prior_month_is_overlaid_from_the_archive() {
    for (width, height) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut app = november(dir.path(), width, height);
        explore_growth(&mut app);
        press(&mut app, &[KeyCode::Char('o')]);
        let view = app.explorer.as_ref().unwrap();
        assert_eq!(view.mode, ExplorerMode::Prior);
        let Prior::Daily { plot, .. } = &view.prior else {
            panic!("an archive holds the prior month per day: {:?}", view.prior);
        };
        assert_eq!(plot.len(), 31, "every day of October");
        snapshot("prior_growth", &app);
    }
}

#[test]
fn the_prior_months_title_does_not_wrap_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = november(dir.path(), 80, 24);
    explore_growth(&mut app);
    press(&mut app, &[KeyCode::Char('o')]);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| apportion::tui::ui::render(&app, frame))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let row = |y: u16| (0..80).map(|x| buffer[(x, y)].symbol()).collect::<String>();
    assert!(
        row(1).starts_with("Growth · prior month · "),
        "{:?}",
        row(1)
    );
    assert!(row(2).starts_with("█ spiked on"), "{:?}", row(2));
}
