//! Snapshots of every screen of the review at 80×24 and 160×48, and the styles that carry
//! meaning: the status lights.

mod common;

use apportion::review::Review;
use apportion::tui::{Action, App, Theme};
use common::{app, draw, drive, screen_rows, type_in};
use ratatui::buffer::Buffer;
use ratatui::style::Color;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snapshot(name: &str, app: &App) {
    let terminal = draw(app);
    let size = format!("{}x{}", app.size.width, app.size.height);
    insta::assert_snapshot!(format!("{name}_{size}"), terminal.backend());
}

fn each_size(name: &str, prepare: impl Fn(&mut App)) {
    for (width, height) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut app = app(dir.path(), width, height, Theme::FULL);
        prepare(&mut app);
        snapshot(name, &app);
    }
}

#[test]
fn loading() {
    for (width, height) in SIZES {
        let mut app = App::new(
            Default::default(),
            Theme::FULL,
            ratatui::layout::Rect::new(0, 0, width, height),
        );
        app.loading.rows = 12_345;
        app.loading.rate = 61_000;
        app.loading.current = "gateway-2026-11.csv".into();
        snapshot("loading", &app);
    }
}

#[test]
fn failed() {
    for (width, height) in SIZES {
        let mut app = App::new(
            Default::default(),
            Theme::FULL,
            ratatui::layout::Rect::new(0, 0, width, height),
        );
        app.loaded(Err("logs.csv:1: missing column 'timestamp'".into()));
        snapshot("failed", &app);
    }
}

#[test]
fn overview() {
    each_size("overview", |_| {});
}

#[test]
fn queue_after_decisions() {
    each_size("queue", |app| {
        drive(app, &[Action::ShowQueue, Action::Approve, Action::Dispute]);
        type_in(app, "the gateway double counts retries");
        app.update(Action::Up);
    });
}

#[test]
fn adjust_dialog() {
    each_size("adjust_dialog", |app| {
        drive(app, &[Action::ShowQueue, Action::Adjust]);
        type_in(app, "-1.25");
        for c in "credit".chars() {
            app.update(Action::Type(c));
        }
    });
}

#[test]
fn detail_with_source_rows() {
    each_size("detail", |app| {
        drive(app, &[Action::ShowQueue, Action::Open, Action::NextPanel]);
        let rows = read_rows(app);
        app.rows_read(Ok(rows));
    });
}

fn read_rows(app: &App) -> Vec<apportion::review::SourceRow> {
    let review: &Review = app.review.as_ref().unwrap();
    let detail = app.detail.as_ref().unwrap();
    let part = &detail.breakdown.callers[detail.caller.selected];
    let caller = &review.dataset.buckets.callers[part.caller as usize];
    let day = part.days[detail.day.selected].0;
    review.rows_behind(&detail.key, caller, day).run().unwrap()
}

#[test]
fn recalculations_after_a_weight_change() {
    each_size("recalculations", |app| {
        drive(
            app,
            &[Action::ShowQueue, Action::Open, Action::ChangeComplexity],
        );
        for _ in 0..4 {
            app.update(Action::Erase);
        }
        type_in(app, "2");
    });
}

#[test]
fn departments() {
    each_size("departments", |app| {
        drive(app, &[Action::ShowDepartments, Action::Down])
    });
}

#[test]
fn rejects() {
    each_size("rejects", |app| {
        drive(app, &[Action::ShowRejects, Action::Acknowledge])
    });
}

#[test]
fn checklist_with_its_next_step() {
    each_size("checklist", |app| {
        drive(app, &[Action::ShowChecklist]);
        app.wait_for_sources();
        drive(app, &[Action::Down, Action::Down, Action::Down]);
    });
}

#[test]
fn export_menu_refusing_the_archive() {
    each_size("export_menu", |app| {
        app.export.folder = "/srv/finance/month-end".into();
        drive(app, &[Action::ShowExport]);
        app.wait_for_sources();
        // The CSV routing table chosen too; nothing is written.
        drive(app, &[Action::Down, Action::ToggleOutput]);
    });
}

#[test]
fn departments_with_a_sign_off() {
    each_size("departments_signed", |app| {
        let legal = app
            .review
            .as_ref()
            .unwrap()
            .attribution
            .departments
            .iter()
            .position(|d| d.name == "Legal")
            .unwrap();
        drive(app, &[Action::ShowDepartments]);
        for _ in 0..legal {
            app.update(Action::Down);
        }
        app.update(Action::SignOff);
        type_in(app, "");
        type_in(app, "Henrik Lund");
        type_in(app, "within the quarter's budget");
    });
}

#[test]
fn help_of_the_queue() {
    each_size("help", |app| {
        drive(app, &[Action::ShowQueue, Action::ShowHelp])
    });
}

/// The colour of the light on the row that names `department`.
fn light_color(buffer: &Buffer, department: &str) -> Option<Color> {
    let area = buffer.area;
    (0..area.height).find_map(|y| {
        let row: String = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        if !row.contains(department) {
            return None;
        }
        let x = row
            .chars()
            .position(|c| c == '●' || c == 'X' || c == '!' || c == 'o')?;
        Some(buffer[(x as u16, y)].fg)
    })
}

#[test]
fn lights_are_coloured_by_status() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), 80, 24, Theme::FULL);
    let terminal = draw(&app);
    let buffer = terminal.backend().buffer();
    assert_eq!(light_color(buffer, "Research"), Some(Color::Green));
    assert_eq!(light_color(buffer, "Marketing"), Some(Color::Yellow));
    assert_eq!(light_color(buffer, "Legal"), Some(Color::Red));
}

#[test]
fn no_color_and_ascii_keep_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let theme = Theme {
        color: false,
        ascii: true,
    };
    let app = app(dir.path(), 80, 24, theme);
    let terminal = draw(&app);
    let buffer = terminal.backend().buffer();
    assert_eq!(light_color(buffer, "Legal"), Some(Color::Reset));
    let text: String = buffer.content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("X fuse"));
    assert!(text.contains("o normal"));
    assert!(!text.contains('●'));
}

#[test]
fn explorer_chart() {
    each_size("explorer_chart", |app| {
        drive(app, &[Action::ShowExplorer]);
    });
}

#[test]
fn explorer_hourly_window() {
    each_size("explorer_hourly", |app| {
        drive(
            app,
            &[Action::ShowExplorer, Action::CycleStep, Action::WidenWindow],
        );
    });
}

#[test]
fn explorer_compare() {
    use apportion::tui::explorer::ExplorerMode;
    each_size("explorer_compare", |app| {
        drive(
            app,
            &[Action::ShowExplorer, Action::Explore(ExplorerMode::Compare)],
        );
    });
}

#[test]
fn explorer_explain_with_a_csv_ledger() {
    use apportion::tui::explorer::ExplorerMode;
    each_size("explorer_explain_csv", |app| {
        drive(
            app,
            &[Action::ShowExplorer, Action::Explore(ExplorerMode::Explain)],
        );
    });
}

#[test]
fn explorer_peak_load() {
    use apportion::tui::explorer::ExplorerMode;
    each_size("explorer_peak", |app| {
        drive(
            app,
            &[Action::ShowExplorer, Action::Explore(ExplorerMode::Peak)],
        );
        app.explorer.as_mut().unwrap().wait();
    });
}

#[test]
fn explorer_rows() {
    each_size("explorer_rows", |app| {
        drive(app, &[Action::ShowExplorer, Action::ReadRows]);
        app.explorer.as_mut().unwrap().wait();
    });
}

#[test]
fn the_explorer_fits_80x24_without_cutting_its_text() {
    use apportion::tui::explorer::ExplorerMode;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    drive(
        &mut app,
        &[Action::ShowExplorer, Action::Explore(ExplorerMode::Compare)],
    );
    let rows = screen_rows(&app);
    assert!(
        rows[2].starts_with("█ spiked on"),
        "the title does not wrap over the spike line: {rows:#?}"
    );
    let legend = &rows[21];
    let totals: Vec<String> = app
        .explorer
        .as_ref()
        .unwrap()
        .compared
        .iter()
        .map(|c| apportion::report::money(c.total))
        .collect();
    for total in &totals {
        assert!(legend.contains(total.as_str()), "{total} in {legend:?}");
    }

    app.update(Action::Explore(ExplorerMode::Peak));
    app.explorer.as_mut().unwrap().wait();
    let rows = screen_rows(&app);
    let note = rows.join("\n");
    assert!(
        note.contains("busiest hours only") && note.contains("be seen."),
        "the peak note is whole: {rows:#?}"
    );
}

#[test]
fn the_departments_panel_shows_what_the_table_cuts_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    app.update(Action::ShowDepartments);
    let review = app.review.as_ref().unwrap();
    let legal = review
        .attribution
        .departments
        .iter()
        .position(|d| d.name == "Legal")
        .unwrap();
    let config = review.settings.department("Legal").unwrap().clone();
    let reason = review.attribution.department("Legal").unwrap().reasons[0]
        .text
        .clone();
    for _ in 0..legal {
        app.update(Action::Down);
    }
    // Wrapped text may break anywhere between words: compare without the line breaks.
    let rows = screen_rows(&app);
    let panel: String = rows[15..22]
        .iter()
        .map(|r| r.trim_matches(|c| c == '│' || c == ' ').to_string())
        .collect::<Vec<_>>()
        .join(" ");
    for text in [&config.owner, &config.contact, &reason] {
        assert!(panel.contains(text.as_str()), "{text:?} in {rows:#?}");
    }
}

#[test]
fn a_window_too_small_for_the_figures_asks_for_more_room() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), 60, 20, Theme::FULL);
    snapshot("too_small", &app);
    let text = screen_rows(&app).concat();
    assert!(!text.contains("62 "), "no shortened figure is drawn");
    assert!(text.contains("this one is 60×20"), "{text}");
}

#[test]
fn figures_wider_than_their_column_widen_it_instead_of_losing_digits() {
    use rust_decimal::Decimal;
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 160, 48, Theme::FULL);
    let large = Decimal::new(123_456_789, 2);
    {
        let a = &mut app.review.as_mut().unwrap().attribution;
        let research = a.departments.iter_mut().find(|d| d.name == "Research");
        let research = research.unwrap();
        research.settled = large;
        research.proportion = Decimal::ONE;
        let line = a
            .lines
            .iter_mut()
            .find(|l| l.department == "Research")
            .unwrap();
        line.settled = large;
    }
    let overview = screen_rows(&app).concat();
    assert!(overview.contains(" 1,234,567.89 "), "{overview}");
    assert!(overview.contains(" 100.0 % "), "{overview}");

    drive(&mut app, &[Action::ShowQueue]);
    let queue = screen_rows(&app).concat();
    assert!(queue.contains(" 1,234,567.89 "), "{queue}");
}
