//! The close of the month in the review app, driven by actions: the checklist, sharing
//! unattributed usage, the sign-off dialog and its two-person rule, and the export menu that
//! refuses the archive until the checklist allows it.

mod common;

use apportion::calc::Status;
use apportion::review::{LineKey, Outcome, Role};
use apportion::tui::export::Choice;
use apportion::tui::{Action, App, Screen, Theme};
use assert_cmd::Command;
use common::{app, screen_rows, type_in};

fn outcome(app: &App, id: &str) -> Outcome {
    let checklist = app.checklist.checklist.as_ref().unwrap();
    checklist
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap()
        .outcome
}

/// Selects a department on the departments screen by name.
fn select_department(app: &mut App, name: &str) {
    app.update(Action::ShowDepartments);
    let review = app.review.as_ref().unwrap();
    let index = review
        .attribution
        .departments
        .iter()
        .position(|d| d.name == name)
        .unwrap();
    app.update(Action::Top);
    for _ in 0..index {
        app.update(Action::Down);
    }
}

/// Signs the selected department off through the dialog: role, name, note.
fn sign_off(app: &mut App, role: &str, name: &str, note: &str) {
    app.update(Action::SignOff);
    let modal = app.modal.as_ref().unwrap();
    for _ in 0..modal.text.chars().count() {
        app.update(Action::Erase);
    }
    type_in(app, role);
    type_in(app, name);
    if app.modal.is_some() {
        type_in(app, note);
    }
}

/// Erases the export folder's dialog and types `folder`.
fn choose_folder(app: &mut App, folder: &std::path::Path) {
    app.update(Action::ChangeFolder);
    let length = app.modal.as_ref().unwrap().text.chars().count();
    for _ in 0..length {
        app.update(Action::Erase);
    }
    type_in(app, &folder.display().to_string());
}

#[test]
fn the_same_person_cannot_sign_both_roles_through_the_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    select_department(&mut app, "Legal");
    sign_off(&mut app, "finance", "Henrik Lund", "");
    assert!(app.modal.is_none());

    sign_off(&mut app, "technical-director", "henrik lund", "");
    let modal = app.modal.as_ref().expect("the dialog stays open");
    let refusal = modal.error.as_deref().unwrap();
    assert!(refusal.contains("must come from someone else"), "{refusal}");
    app.update(Action::Back);
    assert_eq!(outcome(&app, "fuses_signed"), Outcome::Fail);

    sign_off(
        &mut app,
        "technical-director",
        "Lena Fischer",
        "downgrade applied",
    );
    let review = app.review.as_ref().unwrap();
    let roles: Vec<Role> = review.session.signoffs.iter().map(|s| s.role).collect();
    assert_eq!(roles, [Role::Finance, Role::TechnicalDirector]);
    assert_eq!(
        review.session.signoffs[1].note.as_deref(),
        Some("downgrade applied")
    );
    assert_eq!(outcome(&app, "fuses_signed"), Outcome::Pass);
    let said = &app.message.as_ref().unwrap().text;
    assert!(said.contains("fuse of Legal lifted"), "{said}");
    let policy = dir
        .path()
        .join("policies/northwind-analytics/restore-legal-2026-11.json");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("\"restore\""), "{text}");

    app.update(Action::WithdrawSignOff);
    type_in(&mut app, "finance");
    assert_eq!(outcome(&app, "fuses_signed"), Outcome::Fail);
    assert!(!policy.exists(), "the restoring policy is taken back");
    let said = &app.message.as_ref().unwrap().text;
    assert!(said.contains("downgrade policy"), "{said}");
    assert!(
        dir.path()
            .join("policies/northwind-analytics/fuse-legal-2026-11.json")
            .exists()
    );
}

/// The overview row that names `department`, as text.
fn overview_row(app: &mut App, department: &str) -> String {
    app.update(Action::ShowOverview);
    screen_rows(app)
        .into_iter()
        .find(|row| row.contains(department))
        .unwrap()
}

#[test]
fn the_overview_shows_a_fuse_lifted_by_both_sign_offs() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 160, 48, Theme::FULL);
    assert!(overview_row(&mut app, "Legal").contains("● fuse"));

    select_department(&mut app, "Legal");
    sign_off(&mut app, "finance", "Henrik Lund", "");
    assert!(overview_row(&mut app, "Legal").contains("● fuse"));

    select_department(&mut app, "Legal");
    sign_off(&mut app, "technical-director", "Lena Fischer", "");
    let row = overview_row(&mut app, "Legal");
    assert!(row.contains("● lifted"), "{row}");
    assert!(!row.contains("fuse"), "{row}");
}

#[test]
fn only_a_fused_department_is_signed_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    select_department(&mut app, "Research");
    app.update(Action::SignOff);
    assert!(app.modal.is_none());
    assert!(app.message.as_ref().unwrap().text.contains("not fused"));
}

#[test]
fn sharing_unattributed_usage_from_the_checklist() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    app.update(Action::ShowChecklist);
    assert_eq!(outcome(&app, "unattributed"), Outcome::Fail);
    let index = app
        .checklist
        .checklist
        .as_ref()
        .unwrap()
        .checks
        .iter()
        .position(|c| c.id == "unattributed")
        .unwrap();
    for _ in 0..index {
        app.update(Action::Down);
    }
    app.update(Action::FixCheck);
    for _ in 0.."proportional".len() {
        app.update(Action::Erase);
    }
    type_in(&mut app, "sideways");
    assert!(app.modal.as_ref().unwrap().error.is_some(), "not a way");
    for _ in 0.."sideways".len() {
        app.update(Action::Erase);
    }
    type_in(&mut app, "even");

    assert_eq!(app.screen(), Screen::Recalculations);
    assert_eq!(outcome(&app, "unattributed"), Outcome::Pass);
    let review = app.review.as_ref().unwrap();
    let cause = &review.session.recalculations.last().unwrap().cause;
    assert!(cause.contains("(even)"), "{cause}");
    assert_eq!(
        review.attribution.settled,
        review.attribution.amount_to_settle
    );
    app.update(Action::ShareUnattributed);
    assert!(app.modal.is_none(), "nothing is left to share");
}

#[test]
fn the_export_menu_writes_the_archive_once_the_month_is_complete() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut app = app(data.path(), 80, 24, Theme::FULL);
    app.update(Action::ShowExport);
    app.wait_for_sources();
    choose_folder(&mut app, out.path());
    app.update(Action::WriteOutputs);
    app.wait_for_export();
    let written: Vec<&str> = app.export.written.iter().map(|m| m.text.as_str()).collect();
    assert!(
        written[0].contains("the archive was not written"),
        "{written:?}"
    );
    assert!(written.iter().any(|w| w.contains("Every line decided")));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);

    complete_the_month(&mut app);
    app.update(Action::ShowExport);
    app.wait_for_sources();
    app.update(Action::Down);
    app.update(Action::ToggleOutput);
    app.update(Action::WriteOutputs);
    app.wait_for_export();
    let errors: Vec<&str> = app
        .export
        .written
        .iter()
        .filter(|m| m.error)
        .map(|m| m.text.as_str())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    let review = app.review.as_ref().unwrap();
    let archive = Choice::Archive.target(out.path(), &review.attribution);
    for choice in [
        Choice::Archive,
        Choice::RoutingCsv,
        Choice::RoutingXlsx,
        Choice::Journal,
    ] {
        let path = choice.target(out.path(), &review.attribution);
        assert!(path.exists(), "{} was written", path.display());
    }
    let journal = Choice::Journal.target(out.path(), &review.attribution);
    let journal = std::fs::read_to_string(journal).unwrap();
    assert!(
        !journal.contains("DRAFT"),
        "written with its archive, it is approved"
    );
    assert!(
        !Choice::Alerts
            .target(out.path(), &review.attribution)
            .exists()
    );
    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&archive)
        .assert()
        .code(0);
}

#[test]
fn outputs_written_from_the_menu_without_the_archive_are_drafts() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut app = app(data.path(), 80, 24, Theme::FULL);
    app.update(Action::ShowExport);
    app.wait_for_sources();
    choose_folder(&mut app, out.path());
    app.update(Action::ToggleOutput);
    app.update(Action::WriteOutputs);
    app.wait_for_export();
    let errors: Vec<&str> = app
        .export
        .written
        .iter()
        .filter(|m| m.error)
        .map(|m| m.text.as_str())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    let review = app.review.as_ref().unwrap();
    let journal = Choice::Journal.target(out.path(), &review.attribution);
    let journal = std::fs::read_to_string(journal).unwrap();
    assert!(
        journal.starts_with("; DRAFT (not approved): ")
            && journal
                .lines()
                .next()
                .unwrap_or_default()
                .contains("checks are open ("),
        "{}",
        journal.lines().next().unwrap_or_default()
    );
    assert!(journal.contains("Every line decided"));
    assert!(
        Choice::RoutingXlsx
            .target(out.path(), &review.attribution)
            .exists()
    );
    assert!(
        !Choice::Archive
            .target(out.path(), &review.attribution)
            .exists()
    );
}

/// Every step the checklist asks for on the sample month, through the app.
fn complete_the_month(app: &mut App) {
    app.update(Action::ShowChecklist);
    app.update(Action::ShareUnattributed);
    type_in(app, "");
    let keys: Vec<LineKey> = {
        let review = app.review.as_ref().unwrap();
        review.attribution.lines.iter().map(LineKey::of).collect()
    };
    // Pending lines only: each approval takes the line off the list.
    app.update(Action::ShowQueue);
    app.update(Action::CycleFilter);
    for _ in &keys {
        app.update(Action::Top);
        app.update(Action::Approve);
    }
    let review = app.review.as_ref().unwrap();
    assert_eq!(review.session.decided(&keys), keys.len());
    let rejects = review.dataset.rejects.len();

    app.update(Action::ShowRejects);
    for _ in 0..rejects {
        app.update(Action::Acknowledge);
    }
    let fused: Vec<String> = {
        let review = app.review.as_ref().unwrap();
        let fused = review.attribution.departments.iter();
        fused
            .filter(|d| d.status == Status::Fuse)
            .map(|d| d.name.clone())
            .collect()
    };
    for department in fused {
        select_department(app, &department);
        sign_off(app, "finance", "Henrik Lund", "");
        sign_off(app, "technical-director", "Lena Fischer", "");
    }
    app.update(Action::ShowChecklist);
    app.wait_for_sources();
    let checklist = app.checklist.checklist.as_ref().unwrap();
    assert!(checklist.ready(None).is_ok(), "{:?}", checklist.ready(None));
}

#[test]
fn a_sign_off_given_from_the_command_line_is_not_overwritten_by_the_open_review() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(dir.path(), 80, 24, Theme::FULL);
    Command::cargo_bin("apportion")
        .unwrap()
        .env("APPORTION_DATA", dir.path())
        .args(["signoff", "--department", "Legal", "--role", "finance"])
        .args(["--name", "Henrik Lund"])
        .assert()
        .success();
    let session = dir.path().join("sessions/northwind-analytics-2026-11.json");
    let headless = std::fs::read(&session).unwrap();

    app.update(Action::ShowQueue);
    app.update(Action::Approve);
    let said = &app.message.as_ref().unwrap().text;
    assert!(
        said.contains("was changed by another run of apportion"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(&session).unwrap(),
        headless,
        "the sign-off stays"
    );
}
