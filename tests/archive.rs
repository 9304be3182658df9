//! The archive end to end: verification finds a changed byte and a changed source, and an
//! archive serves as the next month's prior ledger.

mod common;

use std::path::{Path, PathBuf};

use apportion::archive::{self, Contents, InputRecord};
use apportion::calc::{Attribution, MismatchKind, calculate};
use apportion::config::Settings;
use apportion::load::load_files;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::json;

/// Writes a month's configuration and log; Growth uses `growth` million tokens, Core one.
fn month(dir: &Path, month: &str, growth: u64) -> (Settings, PathBuf) {
    let config = dir.join(format!("{month}.toml"));
    std::fs::write(&config, common::round_trip::config(month, 10, "")).unwrap();
    let logs = dir.join(format!("logs-{month}.csv"));
    let text = format!(
        "timestamp,api_key,model,input_tokens,output_tokens\n{month}-03T10:00:00Z,g-1,m,{},0\n{month}-04T10:00:00Z,c-1,m,1000000,0\n",
        growth * 1_000_000
    );
    std::fs::write(&logs, text).unwrap();
    (Settings::from_file(&config).unwrap(), logs)
}

fn settle(
    settings: &Settings,
    logs: &Path,
    ledger: Option<&Path>,
) -> (Attribution, Vec<InputRecord>) {
    let dataset = load_files(settings, &[logs.to_path_buf()]).unwrap();
    let ledger = ledger.map(|path| archive::read_ledger(path, "USD").unwrap());
    let today = settings.month_end;
    let attribution = calculate(settings, &dataset, ledger.as_ref(), today);
    (
        attribution,
        dataset.sources.iter().map(InputRecord::from).collect(),
    )
}

fn write_archive(
    dir: &Path,
    settings: &Settings,
    attribution: &Attribution,
    inputs: Vec<InputRecord>,
) -> PathBuf {
    let contents = Contents {
        settings,
        inputs,
        attribution,
        review: json!({}),
        checklist: json!({}),
    };
    archive::write(dir, &contents).unwrap()
}

#[test]
fn october_archive_is_novembers_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (october, october_logs) = month(dir.path(), "2026-10", 1);
    let (settled_october, inputs) = settle(&october, &october_logs, None);
    let archive_path = write_archive(dir.path(), &october, &settled_october, inputs);

    let (november, november_logs) = month(dir.path(), "2026-11", 3);
    let (settled_november, _) = settle(&november, &november_logs, Some(&archive_path));
    let growth = settled_november.department("Growth").unwrap();
    assert_eq!(growth.prior, Some("10".parse().unwrap()));
    assert!(
        growth.reasons.iter().any(|r| r.kind == "spike_month"),
        "{:?}",
        growth.reasons
    );
    let core = settled_november.department("Core").unwrap();
    assert!(core.reasons.is_empty(), "{:?}", core.reasons);
}

#[test]
fn a_recalculation_against_the_months_own_archive_shows_ledger_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let (november, logs) = month(dir.path(), "2026-11", 1);
    let (settled, inputs) = settle(&november, &logs, None);
    let archive_path = write_archive(dir.path(), &november, &settled, inputs);

    let text = std::fs::read_to_string(&logs)
        .unwrap()
        .replace("g-1,m,1000000", "g-1,m,2000000");
    std::fs::write(&logs, text).unwrap();
    let (again, _) = settle(&november, &logs, Some(&archive_path));
    let ledger: Vec<_> = again
        .mismatches
        .iter()
        .filter(|m| m.kind == MismatchKind::Ledger)
        .collect();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert_eq!(ledger[0].department.as_deref(), Some("Growth"));
}

#[test]
fn verify_finds_a_changed_byte_and_names_the_section() {
    let dir = tempfile::tempdir().unwrap();
    let (november, logs) = month(dir.path(), "2026-11", 1);
    let (settled, inputs) = settle(&november, &logs, None);
    let path = write_archive(dir.path(), &november, &settled, inputs);

    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&path)
        .arg(&logs)
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with("intact\n"));

    let text = std::fs::read_to_string(&path).unwrap();
    let tampered = text.replacen("\"settled\": \"10.00\"", "\"settled\": \"19.00\"", 1);
    assert_ne!(text, tampered, "the archive holds the amount to change");
    let copy = dir.path().join("tampered.json");
    std::fs::write(&copy, tampered).unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&copy)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("body CHANGED"))
        .stdout(predicate::str::contains("section 'departments' changed"));
}

#[test]
fn verify_refuses_an_edited_section_hash_and_a_missing_lines_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (november, logs) = month(dir.path(), "2026-11", 1);
    let (settled, inputs) = settle(&november, &logs, None);
    let path = write_archive(dir.path(), &november, &settled, inputs);

    let mut document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    document["sections"]["lines"] = serde_json::Value::from("0".repeat(64));
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    std::fs::copy(path.with_extension("csv"), edited.with_extension("csv")).unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&edited)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("section 'lines' changed"))
        .stdout(predicate::str::contains("intact\n").not());

    let alone = dir.path().join("alone.json");
    std::fs::copy(&path, &alone).unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&alone)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("MISSING"));
}

#[test]
fn verify_finds_a_changed_source() {
    let dir = tempfile::tempdir().unwrap();
    let (november, logs) = month(dir.path(), "2026-11", 1);
    let (settled, inputs) = settle(&november, &logs, None);
    let path = write_archive(dir.path(), &november, &settled, inputs);

    let mut bytes = std::fs::read(&logs).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = b'9';
    std::fs::write(&logs, bytes).unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&path)
        .arg(&logs)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("CHANGED since it was archived"));
}

#[test]
fn a_file_that_is_not_an_archive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.json");
    std::fs::write(&path, "{\"hello\": 1}").unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&path)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not an apportion archive"));
}

#[test]
fn verify_covers_the_lines_csv_and_a_changed_archive_is_no_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let (november, logs) = month(dir.path(), "2026-11", 1);
    let (settled, inputs) = settle(&november, &logs, None);
    let path = write_archive(dir.path(), &november, &settled, inputs);

    let csv = path.with_extension("csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut permissions = std::fs::metadata(&csv).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&csv, permissions).unwrap();
    std::fs::write(&csv, text.replacen("10.00", "19.00", 1)).unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .arg("verify")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("lines CSV"))
        .stdout(predicate::str::contains("CHANGED since it was archived"));

    let tampered = dir.path().join("tampered.json");
    let body = std::fs::read_to_string(&path).unwrap().replacen(
        "\"settled\": \"10.00\"",
        "\"settled\": \"19.00\"",
        1,
    );
    std::fs::write(&tampered, body).unwrap();
    let error = archive::read_ledger(&tampered, "USD").unwrap_err();
    assert!(
        error.to_string().contains("no longer matches its SHA-256"),
        "{error}"
    );
}
