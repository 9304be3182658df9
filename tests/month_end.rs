//! The month-end procedure: every checklist item failing and passing, the two-person rule,
//! and the archive exported from a complete review (byte-identical, never overwritten,
//! verified, with the fuse policies beside it).

use std::path::Path;
use std::sync::Arc;

use apportion::config::Strategy;
use apportion::review::checklist::{Facts, evaluate};
use apportion::review::{Change, Checklist, LineKey, Outcome, Review, Role, Sources};
use assert_cmd::Command;
use chrono::{DateTime, TimeZone, Utc};
use predicates::prelude::*;
use rust_decimal::Decimal;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 9, minute, 0).unwrap()
}

fn open(dir: &Path) -> Review {
    let loaded = Review::load(Sources::default(), Arc::default()).unwrap();
    Review::open(Sources::default(), loaded, dir, "ana", at(0)).unwrap()
}

fn outcome(checklist: &Checklist, id: &str) -> Outcome {
    checklist
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap()
        .outcome
}

fn approve_all(review: &mut Review) {
    let keys: Vec<LineKey> = review.attribution.lines.iter().map(LineKey::of).collect();
    for key in keys {
        review.approve(&key, at(5)).unwrap();
    }
}

fn acknowledge_all(review: &mut Review) {
    for index in 0..review.dataset.rejects.len() {
        review.acknowledge(index, at(6)).unwrap();
    }
}

/// Takes the sample month through every step the checklist asks for.
fn complete(review: &mut Review) {
    review
        .recalculate(
            Change::ShareUnattributed {
                strategy: Strategy::Proportional,
            },
            at(1),
        )
        .unwrap();
    approve_all(review);
    acknowledge_all(review);
    review
        .sign_off("Legal", Role::Finance, "Henrik Lund", None, at(7))
        .unwrap();
    review
        .sign_off(
            "Legal",
            Role::TechnicalDirector,
            "Lena Fischer",
            Some("downgrade applied"),
            at(8),
        )
        .unwrap();
}

#[test]
fn each_check_fails_until_its_step_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    let first = review.checklist().unwrap();
    for id in [
        "lines_decided",
        "unattributed",
        "rejects_acknowledged",
        "fuses_signed",
    ] {
        assert_eq!(
            outcome(&first, id),
            Outcome::Fail,
            "{id} fails on a fresh review"
        );
    }
    for id in [
        "no_open_dispute",
        "settled_equals_amount",
        "no_unpriced_model",
        "sources_unchanged",
        "review_window",
    ] {
        assert_eq!(
            outcome(&first, id),
            Outcome::Pass,
            "{id} passes on a fresh review"
        );
    }

    review
        .recalculate(
            Change::ShareUnattributed {
                strategy: Strategy::Even,
            },
            at(1),
        )
        .unwrap();
    assert_eq!(
        outcome(&review.checklist().unwrap(), "unattributed"),
        Outcome::Pass
    );
    assert_eq!(
        review
            .attribution
            .department("UNATTRIBUTED")
            .unwrap()
            .settled,
        Decimal::ZERO
    );
    assert_eq!(
        review.attribution.settled,
        review.attribution.amount_to_settle
    );

    approve_all(&mut review);
    assert_eq!(
        outcome(&review.checklist().unwrap(), "lines_decided"),
        Outcome::Pass
    );
    acknowledge_all(&mut review);
    assert_eq!(
        outcome(&review.checklist().unwrap(), "rejects_acknowledged"),
        Outcome::Pass
    );

    review
        .sign_off("Legal", Role::Finance, "Henrik Lund", None, at(7))
        .unwrap();
    assert_eq!(
        outcome(&review.checklist().unwrap(), "fuses_signed"),
        Outcome::Fail,
        "one sign-off is not enough"
    );
    review
        .sign_off(
            "Legal",
            Role::TechnicalDirector,
            "Lena Fischer",
            None,
            at(8),
        )
        .unwrap();
    let done = review.checklist().unwrap();
    assert!(done.ready(None).is_ok(), "{:?}", done.ready(None));
}

#[test]
fn a_dispute_and_unbalanced_adjustments_block_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    complete(&mut review);
    let key = LineKey::of(&review.attribution.lines[0]);
    let other = LineKey::of(&review.attribution.lines[1]);

    review.dispute(&key, "not our key", at(9)).unwrap();
    assert_eq!(
        outcome(&review.checklist().unwrap(), "no_open_dispute"),
        Outcome::Fail
    );
    review.undo(at(10)).unwrap();
    assert_eq!(
        outcome(&review.checklist().unwrap(), "no_open_dispute"),
        Outcome::Pass
    );

    review
        .adjust(&key, Decimal::new(-500, 2), "credit for an outage", at(11))
        .unwrap();
    let unbalanced = review.checklist().unwrap();
    assert_eq!(outcome(&unbalanced, "settled_equals_amount"), Outcome::Fail);
    let reason = &unbalanced
        .checks
        .iter()
        .find(|c| c.id == "settled_equals_amount")
        .unwrap()
        .reason;
    assert!(reason.contains("adjustments must net to zero"), "{reason}");
    review
        .adjust(
            &other,
            Decimal::new(500, 2),
            "the outage credit moves here",
            at(12),
        )
        .unwrap();
    assert_eq!(
        outcome(&review.checklist().unwrap(), "settled_equals_amount"),
        Outcome::Pass
    );
}

#[test]
fn the_same_person_cannot_sign_both_roles() {
    let dir = tempfile::tempdir().unwrap();
    let mut review = open(dir.path());
    review
        .sign_off("Legal", Role::Finance, "Henrik Lund", None, at(1))
        .unwrap();
    let refused = review
        .sign_off("Legal", Role::TechnicalDirector, "henrik lund", None, at(2))
        .unwrap_err();
    assert!(
        refused.to_string().contains("must come from someone else"),
        "{refused}"
    );
    let not_fused = review
        .sign_off("Research", Role::Finance, "Henrik Lund", None, at(3))
        .unwrap_err();
    assert!(not_fused.to_string().contains("not fused"), "{not_fused}");

    let reopened = open(dir.path());
    assert_eq!(reopened.session.signoffs.len(), 1, "the sign-off was saved");
    assert_eq!(reopened.session.signoffs[0].name, "Henrik Lund");
}

#[test]
fn unpriced_models_changed_sources_and_the_window_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let review = open(dir.path());
    let mut attribution = review.attribution.clone();
    attribution.unpriced.push(apportion::calc::Unpriced {
        model: "mystery-1".into(),
        calls: 3,
        tokens: Default::default(),
    });
    attribution.period.in_review_window = false;
    let changed = vec!["gateway-2026-11.csv".to_string()];
    let facts = Facts {
        rejects: &[],
        changed_sources: &changed,
    };
    let checklist = evaluate(&attribution, &review.session, &facts);

    assert_eq!(outcome(&checklist, "no_unpriced_model"), Outcome::Fail);
    assert_eq!(outcome(&checklist, "sources_unchanged"), Outcome::Fail);
    assert_eq!(
        outcome(&checklist, "review_window"),
        Outcome::AllowedWithNote
    );
    let blocking = checklist
        .ready(Some("closing late, agreed with the controller"))
        .unwrap_err();
    assert!(
        !blocking.iter().any(|b| b.contains("review window")),
        "a note allows the window: {blocking:?}"
    );
    assert!(
        checklist
            .ready(None)
            .unwrap_err()
            .iter()
            .any(|b| b.contains("allowed with a note"))
    );
}

#[test]
fn a_complete_review_exports_a_verified_byte_identical_archive() {
    let data = tempfile::tempdir().unwrap();
    let mut review = open(data.path());
    assert!(
        review.export(data.path(), None).is_err(),
        "a fresh review cannot be archived"
    );
    complete(&mut review);

    let first = tempfile::tempdir().unwrap();
    let exported = review.export(first.path(), None).unwrap();
    let second = tempfile::tempdir().unwrap();
    let again = review.export(second.path(), None).unwrap();
    assert_eq!(
        std::fs::read(&exported.archive).unwrap(),
        std::fs::read(&again.archive).unwrap()
    );
    assert!(
        review
            .export(first.path(), None)
            .unwrap_err()
            .to_string()
            .contains("never overwritten")
    );

    let archive: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&exported.archive).unwrap()).unwrap();
    let body = &archive["body"];
    assert_eq!(body["checklist"]["passed"], 9);
    assert_eq!(body["review"]["signoffs"].as_array().unwrap().len(), 2);
    assert!(
        body["review"]["recalculations"][0]["cause"]
            .as_str()
            .unwrap()
            .contains("unattributed usage shared")
    );
    assert_eq!(body["review"]["fuse_policies"][0]["action"], "restore");
    let text = std::fs::read_to_string(&exported.archive).unwrap();
    assert!(!text.contains("sk-leg-0badc0de0000"), "no key in full");
    assert_eq!(
        body["configuration"]["revoked_keys"][0],
        apportion::load::mask_key("sk-leg-0badc0de0000")
    );

    let policies = std::fs::read_to_string(exported.policies.unwrap()).unwrap();
    assert!(policies.contains("\"litellm_team_update\""));
    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&exported.archive)
        .assert()
        .code(0);
}

#[test]
fn the_command_line_signs_off_and_refuses_an_unready_export() {
    let data = tempfile::tempdir().unwrap();
    let run = || {
        let mut cmd = Command::cargo_bin("apportion").unwrap();
        cmd.env("APPORTION_DATA", data.path());
        cmd
    };
    run()
        .args([
            "signoff",
            "--department",
            "Legal",
            "--role",
            "finance",
            "--name",
            "Henrik Lund",
        ])
        .assert()
        .success();
    run()
        .args([
            "signoff",
            "--department",
            "Legal",
            "--role",
            "technical-director",
            "--name",
            "Henrik Lund",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("must come from someone else"));
    run()
        .args([
            "signoff",
            "--department",
            "Legal",
            "--role",
            "technical-director",
            "--name",
            "Lena Fischer",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("the fuse of Legal is lifted"));
    let policies = data.path().join("policies/northwind-analytics");
    assert!(policies.join("restore-legal-2026-11.json").exists());
    // A lifted fuse no longer stops the month: check names it as a warning.
    run()
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "warning\tLegal\tfuse lifted by two sign-offs; illegal call",
        ))
        .stdout(predicate::str::contains("fuse\t").not());
    run()
        .args([
            "signoff",
            "--department",
            "Legal",
            "--role",
            "finance",
            "--name",
            "Henrik Lund",
            "--withdraw",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("the downgrade policy is"));
    assert!(
        !policies.join("restore-legal-2026-11.json").exists(),
        "a withdrawn sign-off takes the restoring policy back"
    );
    assert!(policies.join("fuse-legal-2026-11.json").exists());
    run()
        .args([
            "signoff",
            "--department",
            "Legal",
            "--role",
            "finance",
            "--name",
            "Henrik Lund",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("the fuse of Legal is lifted"));

    // A folder that does not exist yet is made, as the export menu makes it.
    let out = tempfile::tempdir().unwrap();
    let folder = out.path().join("archive");
    run()
        .args(["export", "--archive"])
        .arg(&folder)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "the checklist does not allow the archive yet",
        ))
        .stderr(predicate::str::contains("Every line decided"));
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        0,
        "nothing was written"
    );

    // An export on other files, refused, leaves the session and the policies as they were.
    let session = data
        .path()
        .join("sessions/northwind-analytics-2026-11.json");
    let before = std::fs::read(&session).unwrap();
    let sample = std::fs::read_to_string("sample-data/gateway-2026-11.csv").unwrap();
    let few: String = sample.lines().take(21).map(|l| format!("{l}\n")).collect();
    let other = out.path().join("gateway-2026-11.csv");
    std::fs::write(&other, few).unwrap();
    run()
        .args([
            "export",
            "--config",
            "sample-data/apportion.toml",
            "--archive",
        ])
        .arg(&folder)
        .arg(&other)
        .assert()
        .code(3);
    assert_eq!(
        std::fs::read(&session).unwrap(),
        before,
        "the session is unchanged"
    );
    assert!(policies.join("restore-legal-2026-11.json").exists());

    run()
        .args(["report"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "[pass] Every fuse signed off twice",
        ));
}

#[test]
fn adjustments_count_in_the_archive_the_journal_and_the_next_ledger() {
    let data = tempfile::tempdir().unwrap();
    let mut review = open(data.path());
    complete(&mut review);
    let lines = review.attribution.lines.clone();
    let from = LineKey::of(&lines[0]);
    let to = LineKey::of(
        lines
            .iter()
            .find(|l| l.department != from.department)
            .unwrap(),
    );
    let credit = Decimal::new(1250, 2);
    review
        .adjust(&from, -credit, "credit for an outage", at(20))
        .unwrap();
    review
        .adjust(&to, credit, "the outage credit moves here", at(21))
        .unwrap();
    let computed = |name: &str| review.computed().department(name).unwrap().settled;
    let settled = |name: &str| review.attribution.department(name).unwrap().settled;
    assert_eq!(
        settled(&from.department),
        computed(&from.department) - credit
    );
    assert_eq!(settled(&to.department), computed(&to.department) + credit);
    let amount = review.attribution.amount_to_settle;
    assert_eq!(amount, review.computed().amount_to_settle);
    assert_eq!(review.attribution.settled, amount);

    let dir = tempfile::tempdir().unwrap();
    let exported = review.export(dir.path(), None).unwrap();
    let archive: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&exported.archive).unwrap()).unwrap();
    let body = &archive["body"];
    let decimal = |v: &serde_json::Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    let departments = body["departments"].as_array().unwrap();
    let archived =
        |name: &str| decimal(&departments.iter().find(|d| d["name"] == name).unwrap()["settled"]);
    assert_eq!(archived(&from.department), settled(&from.department));
    let sum: Decimal = departments.iter().map(|d| decimal(&d["settled"])).sum();
    assert_eq!(sum, decimal(&body["settlement"]["amount_to_settle"]));
    let first_line = &body["lines"][0];
    assert_eq!(
        decimal(&first_line["settled"]),
        lines[0].settled,
        "the computed line itself does not change"
    );

    let csv = std::fs::read_to_string(exported.archive.with_extension("csv")).unwrap();
    let adjustment_rows: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains("adjustment ") && l.contains("credit"))
        .collect();
    assert_eq!(adjustment_rows.len(), 2, "{csv}");
    assert!(adjustment_rows.iter().any(|r| r.contains("-12.50")));

    let ledger = apportion::archive::read_ledger(&exported.archive, "USD").unwrap();
    let totals = ledger.department_totals(&review.attribution.period.month);
    assert_eq!(totals[&from.department], settled(&from.department));
    assert_eq!(totals.values().copied().sum::<Decimal>(), amount);

    let journal = apportion::report::journal::render(&review.settings, &review.attribution);
    assert!(journal.contains("credit for an outage"), "{journal}");
    let payable: Decimal = journal
        .lines()
        .filter(|l| l.trim_start().starts_with("Liabilities") && !l.contains('='))
        .map(|l| {
            l.split_whitespace()
                .rev()
                .nth(1)
                .unwrap()
                .parse::<Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(
        -payable, amount,
        "the postings add up to the amount to settle"
    );
}

#[test]
fn the_downgrade_policy_is_written_as_soon_as_a_fuse_is_found() {
    let data = tempfile::tempdir().unwrap();
    let mut review = open(data.path());
    let downgrade = data
        .path()
        .join("policies/northwind-analytics/fuse-legal-2026-11.json");
    let restore = data
        .path()
        .join("policies/northwind-analytics/restore-legal-2026-11.json");
    let text = std::fs::read_to_string(&downgrade).expect("written when the month is opened");
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["policy"]["action"], "downgrade");
    assert_eq!(document["policy"]["department"], "Legal");
    assert!(document["litellm_team_update"]["models"].is_array());
    assert_eq!(
        review.policy_path("Legal", apportion::report::policy::Action::Downgrade),
        downgrade
    );

    review
        .sign_off("Legal", Role::Finance, "Henrik Lund", None, at(1))
        .unwrap();
    assert!(downgrade.exists(), "one sign-off does not lift the fuse");
    review
        .sign_off(
            "Legal",
            Role::TechnicalDirector,
            "Lena Fischer",
            None,
            at(2),
        )
        .unwrap();
    assert!(!downgrade.exists(), "the downgrade is no longer in force");
    assert!(restore.exists());

    review
        .withdraw_sign_off("Legal", Role::Finance, at(3))
        .unwrap();
    assert!(!restore.exists(), "the restoring policy is taken back");
    assert!(downgrade.exists(), "and the downgrade is in force again");
}

#[test]
fn the_ledger_and_the_price_list_are_fingerprinted_checked_and_verified() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let ledger = files.path().join("ledger-2026-10.csv");
    let prices = files.path().join("prices.toml");
    std::fs::copy("sample-data/ledger-2026-10.csv", &ledger).unwrap();
    std::fs::copy("assets/prices.toml", &prices).unwrap();
    let sources = Sources {
        ledger: Some(ledger.clone()),
        prices: Some(prices.clone()),
        ..Sources::default()
    };
    let loaded = Review::load(sources.clone(), Arc::default()).unwrap();
    let mut review = Review::open(sources, loaded, data.path(), "ana", at(0)).unwrap();
    complete(&mut review);
    assert_eq!(
        outcome(&review.checklist().unwrap(), "sources_unchanged"),
        Outcome::Pass
    );

    let out = tempfile::tempdir().unwrap();
    let exported = review.export(out.path(), None).unwrap();
    let archive: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&exported.archive).unwrap()).unwrap();
    let inputs = archive["body"]["inputs"].as_array().unwrap();
    for (path, kind) in [(&ledger, "ledger"), (&prices, "prices")] {
        let bytes = std::fs::read(path).unwrap();
        let input = inputs
            .iter()
            .find(|i| i["name"] == path.display().to_string())
            .unwrap_or_else(|| panic!("{kind} not among the inputs: {inputs:?}"));
        assert_eq!(input["format"], kind);
        assert_eq!(input["size"], bytes.len() as u64);
        assert_eq!(
            input["sha256"],
            apportion::load::hashing::sha256_hex(&bytes)
        );
    }
    let verify = |file: &Path| {
        Command::cargo_bin("apportion")
            .unwrap()
            .arg("verify")
            .arg(&exported.archive)
            .arg(file)
            .assert()
    };
    verify(&ledger).code(0);
    verify(&prices).code(0);

    let mut text = std::fs::read_to_string(&ledger).unwrap();
    text.push_str("2026-10,Legal,,1.00,USD,\n");
    std::fs::write(&ledger, text).unwrap();
    let checklist = review.checklist().unwrap();
    assert_eq!(outcome(&checklist, "sources_unchanged"), Outcome::Fail);
    let reason = &checklist
        .checks
        .iter()
        .find(|c| c.id == "sources_unchanged")
        .unwrap()
        .reason;
    assert!(reason.contains("ledger-2026-10.csv"), "{reason}");
    verify(&ledger)
        .code(predicate::ne(0))
        .stdout(predicate::str::contains("CHANGED"));

    let reloaded = review.reload(at(30)).unwrap().expect("the ledger changed");
    assert!(
        reloaded.cause.contains("ledger-2026-10.csv"),
        "{}",
        reloaded.cause
    );
    assert_eq!(
        outcome(&review.checklist().unwrap(), "sources_unchanged"),
        Outcome::Pass
    );
}

/// An approved export checks every output before it writes any: an archive written before
/// an unusable output stopped the export could never be completed, since an archive is
/// never overwritten. Missing folders are made, as the export menu makes them.
#[test]
fn an_approved_export_writes_nothing_until_every_output_can_be_written() {
    let data = tempfile::tempdir().unwrap();
    let mut review = open(data.path());
    complete(&mut review);
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("archive");
    let export = |table: &Path| {
        Command::cargo_bin("apportion")
            .unwrap()
            .env("APPORTION_DATA", data.path())
            .args(["export", "--archive"])
            .arg(&archive)
            .arg("--routing-table")
            .arg(table)
            .assert()
    };
    let files_in = |dir: &Path| std::fs::read_dir(dir).map_or(0, |d| d.count());

    // A file where the workbook's folder should be: refused, the archive not written, and
    // the message names the workbook once with the reason.
    let plain = out.path().join("plain");
    std::fs::write(&plain, "not a folder").unwrap();
    let table = plain.join("routing.xlsx");
    let refused = export(&table).code(4);
    let said = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert_eq!(
        said.matches(&table.display().to_string()).count(),
        1,
        "{said}"
    );
    assert!(said.contains("is a file, not a folder"), "{said}");
    assert_eq!(files_in(&archive), 0, "nothing was written: {said}");

    // A folder that does not exist yet is made; the archive and the workbook are written.
    let table = out.path().join("missing/routing.xlsx");
    export(&table).success();
    assert!(table.exists());
    assert!(
        archive
            .join("apportion-northwind-analytics-2026-11.json")
            .exists()
    );

    // Again into the same archive folder: refused before the other output is written.
    let again = out.path().join("again/routing.csv");
    export(&again)
        .code(4)
        .stderr(predicate::str::contains("never overwritten"));
    assert!(!again.exists());
}
