//! The settlement outputs of `apportion export`, each opened with the tool its users use
//! (a spreadsheet reader for the workbook, a CSV reader for the table, hledger for the
//! journal) and compared with the report's figures to the cent, on the bundled sample month.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use calamine::{Data, Reader, Xlsx, open_workbook};
use predicates::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

const DISCLAIMER: &str =
    "weights reflect complexity differences only and do not replace financial settlement rules";

/// The command, with no saved review session (a data directory that does not exist), so
/// that the figures do not depend on the sessions of whoever runs the tests.
fn apportion() -> Command {
    let mut cmd = Command::cargo_bin("apportion").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd.env(
        "APPORTION_DATA",
        std::env::temp_dir().join("apportion-export-tests-no-session"),
    );
    cmd
}

/// The report of the sample month, which every output is compared with.
fn sample_json() -> Value {
    let output = apportion()
        .args(["report", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

fn decimal(value: &Value) -> Decimal {
    value.as_str().unwrap().parse().unwrap()
}

/// Settled amount per department, as the report gives it.
fn settled_by_department(json: &Value) -> BTreeMap<String, Decimal> {
    json["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                decimal(&d["settled"]),
            )
        })
        .collect()
}

/// Exports the sample month with the given flags and returns the folder.
fn export(flags: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = apportion();
    cmd.arg("export");
    for (flag, name) in flags {
        cmd.arg(flag).arg(dir.path().join(name));
    }
    cmd.assert().success();
    dir
}

/// A spreadsheet number as an amount to the cent.
fn cents(value: f64) -> Decimal {
    Decimal::from_f64_retain(value).unwrap().round_dp(2)
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn number(cell: &Data) -> f64 {
    match cell {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("expected a number cell, found {other:?}"),
    }
}

fn column(header: &[Data], name: &str) -> usize {
    header
        .iter()
        .position(|c| text(c) == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn the_workbook_holds_the_report_figures_as_numbers() {
    let json = sample_json();
    let dir = export(&[("--routing-table", "routing.xlsx")]);
    let mut workbook: Xlsx<_> = open_workbook(dir.path().join("routing.xlsx")).unwrap();
    assert_eq!(
        workbook.sheet_names(),
        ["Departments", "Line items", "Checklist"]
    );

    // Departments: one row per department, settled and budget usage as the report's.
    let range = workbook.worksheet_range("Departments").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    let header = rows[0];
    let (name, settled, usage, status) = (
        column(header, "department"),
        column(header, "settled"),
        column(header, "budget_usage"),
        column(header, "status"),
    );
    let expected = settled_by_department(&json);
    let table: Vec<&[Data]> = rows[1..=expected.len()].to_vec();
    for row in &table {
        let department = text(&row[name]);
        assert_eq!(
            cents(number(&row[settled])),
            expected[&department],
            "{department}"
        );
    }
    let legal = table.iter().find(|r| text(&r[name]) == "Legal").unwrap();
    assert_eq!(text(&legal[status]), "fuse");
    let data = table
        .iter()
        .find(|r| text(&r[name]) == "Data Science")
        .unwrap();
    assert_eq!(
        (number(&data[usage]) * 1000.0).round(),
        1035.0,
        "103.5 % of budget"
    );
    let notes: Vec<String> = rows[expected.len() + 1..]
        .iter()
        .map(|r| text(&r[0]))
        .collect();
    assert!(notes.iter().any(|n| n.contains(DISCLAIMER)), "{notes:?}");

    // Line items and shared splits: the settled column sums to the amount to settle.
    let range = workbook.worksheet_range("Line items").unwrap();
    let mut rows = range.rows();
    let header = rows.next().unwrap();
    let settled = column(header, "settled");
    let total: Decimal = rows
        .filter(|r| !text(&r[0]).is_empty() && !text(&r[0]).starts_with("note"))
        .filter(|r| matches!(r[settled], Data::Float(_)))
        .map(|r| cents(number(&r[settled])))
        .sum();
    assert_eq!(total, decimal(&json["amount_to_settle"]));

    // The checklist: the review's, as the report lists it; the month is not reviewed yet,
    // so the workbook says it is a draft.
    let range = workbook.worksheet_range("Checklist").unwrap();
    let results: Vec<(String, bool)> = range
        .rows()
        .skip(1)
        .take_while(|r| !text(&r[0]).is_empty())
        .map(|r| (text(&r[0]), text(&r[1]) == "pass"))
        .collect();
    let reported: Vec<(String, bool)> = json["checklist"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["title"].as_str().unwrap().into(), c["outcome"] == "pass"))
        .collect();
    assert_eq!(results, reported);
    let first_note = range
        .rows()
        .map(|r| text(&r[0]))
        .find(|t| t.starts_with("DRAFT"));
    assert!(
        first_note.is_some_and(|n| n.contains("checks are open")),
        "the workbook says it is a draft"
    );
}

/// The workbook's XML part of a sheet, for what a reader crate does not expose.
fn sheet_xml(path: &Path, index: usize) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut xml = String::new();
    archive
        .by_name(&format!("xl/worksheets/sheet{index}.xml"))
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

#[test]
fn every_sheet_has_a_frozen_header_filters_fitted_columns_and_currency_cells() {
    let dir = export(&[("--routing-table", "routing.xlsx")]);
    let path = dir.path().join("routing.xlsx");
    for index in 1..=3 {
        let xml = sheet_xml(&path, index);
        assert!(
            xml.contains(r#"state="frozen""#),
            "sheet {index} header not frozen"
        );
        assert!(xml.contains("<autoFilter"), "sheet {index} has no filter");
        assert!(
            xml.contains("customWidth"),
            "sheet {index} columns not sized"
        );
    }
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut styles = String::new();
    archive
        .by_name("xl/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    assert!(
        styles.contains("#,##0.00 &quot;USD&quot;"),
        "money cells carry the currency format"
    );
}

#[test]
fn the_routing_csv_matches_the_report() {
    let json = sample_json();
    let dir = export(&[("--routing-table", "routing.csv")]);
    let text = std::fs::read_to_string(dir.path().join("routing.csv")).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut found = BTreeMap::new();
    for record in reader.records().map(Result::unwrap) {
        if record[0].starts_with('#') {
            continue;
        }
        found.insert(
            record[0].to_string(),
            record[at("settled")].parse().unwrap(),
        );
        if &record[0] == "Legal" {
            assert_eq!(&record[at("cost_center")], "CC-6200");
            assert_eq!(&record[at("contact")], "leg@northwind.example");
            assert!(record[at("action")].contains("two sign-offs"));
        }
    }
    assert_eq!(found, settled_by_department(&json));
    assert!(text.contains(DISCLAIMER));
}

/// hledger, or `None` when it is missing outside CI (where the test says so and passes);
/// in CI a missing hledger fails, since the CI script installs it.
fn hledger() -> Option<PathBuf> {
    let found = Process::new("hledger")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(PathBuf::from("hledger"));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "hledger is not installed; .ci/run installs it (apt-get install hledger)"
    );
    eprintln!(
        "SKIPPED: hledger is not installed (apt-get install hledger); the journal was not checked"
    );
    None
}

/// Runs hledger on a journal and returns its stdout, or its stderr as the error.
fn run_hledger(hledger: &Path, journal: &Path, args: &[&str]) -> Result<String, String> {
    let output = Process::new(hledger)
        .arg("-f")
        .arg(journal)
        .args(args)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Balances from `hledger balance -O csv`, by account.
fn balances(csv_text: &str) -> BTreeMap<String, Decimal> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    reader
        .records()
        .map(Result::unwrap)
        .map(|r| {
            let amount = r[1].trim_end_matches(" USD").replace(',', "");
            (r[0].to_string(), amount.parse().unwrap())
        })
        .collect()
}

#[test]
fn hledger_reads_the_journal_and_its_balances_are_ours() {
    let Some(hledger) = hledger() else { return };
    let json = sample_json();
    let dir = export(&[("--journal", "settlement.journal")]);
    let journal = dir.path().join("settlement.journal");

    let expenses = run_hledger(
        &hledger,
        &journal,
        &[
            "balance",
            "Expenses",
            "--depth",
            "3",
            "-O",
            "csv",
            "--no-total",
        ],
    )
    .unwrap();
    let by_account = balances(&expenses);
    let expected = settled_by_department(&json);
    assert_eq!(by_account.len(), expected.len(), "{by_account:?}");
    for (department, settled) in &expected {
        let (_, balance) = by_account
            .iter()
            .find(|(account, _)| {
                account.ends_with(&format!(" {department}"))
                    || account.ends_with(&format!(":{department}"))
            })
            .unwrap_or_else(|| panic!("no account for {department} in {by_account:?}"));
        assert_eq!(balance, settled, "{department}");
    }
    assert!(by_account.contains_key("Expenses:AI:CC-6200 Legal"));

    let payable = run_hledger(
        &hledger,
        &journal,
        &["balance", "Liabilities", "-O", "csv", "--no-total"],
    )
    .unwrap();
    let payable = balances(&payable);
    assert_eq!(
        payable.values().copied().collect::<Vec<_>>(),
        [-decimal(&json["amount_to_settle"])]
    );

    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains(DISCLAIMER));
    assert!(text.contains("cost_center:CC-6200"));
}

#[test]
fn hledger_refuses_a_journal_whose_departments_do_not_add_up_to_the_invoice() {
    let Some(hledger) = hledger() else { return };
    let dir = export(&[("--journal", "settlement.journal")]);
    let journal = dir.path().join("settlement.journal");
    let text = std::fs::read_to_string(&journal).unwrap();
    // Take a cent off Legal's usage and off its payable posting: the transaction still
    // balances, so only the assertion against the invoice can catch it.
    let legal = text.find("| Legal ").unwrap();
    let (head, tail) = text.split_at(legal);
    let usage = tail.find("Usage").unwrap();
    let line_end = usage + tail[usage..].find('\n').unwrap();
    let amount_at = tail[..line_end].rfind("  ").unwrap() + 2;
    let old: Decimal = tail[amount_at..line_end]
        .trim()
        .trim_end_matches(" USD")
        .parse()
        .unwrap();
    let tail = format!(
        "{}{:.2} USD{}",
        &tail[..amount_at],
        old - Decimal::new(1, 2),
        &tail[line_end..]
    )
    .replacen("-24.14 USD", "-24.13 USD", 1);
    let tampered = dir.path().join("tampered.journal");
    std::fs::write(&tampered, format!("{head}{tail}")).unwrap();

    let error = run_hledger(&hledger, &tampered, &["balance"]).unwrap_err();
    assert!(error.contains("balance assertion"), "{error}");
    assert!(run_hledger(&hledger, &journal, &["balance"]).is_ok());
}

#[test]
fn export_needs_an_output_and_a_known_table_format() {
    apportion()
        .arg("export")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("nothing to export"));
    let dir = tempfile::tempdir().unwrap();
    apportion()
        .args(["export", "--routing-table"])
        .arg(dir.path().join("routing.ods"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains(".csv or .xlsx"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Asserts that hledger balances each department's expense account (pending transactions
/// counted) at the amount `expected` settles it at.
fn assert_expenses_are(hledger: &Path, journal: &Path, expected: &BTreeMap<String, Decimal>) {
    let args = [
        "balance",
        "Expenses",
        "--pending",
        "--depth",
        "3",
        "-O",
        "csv",
        "--no-total",
    ];
    let by_account = balances(&run_hledger(hledger, journal, &args).unwrap());
    for (department, settled) in expected {
        let balance = by_account
            .iter()
            .find(|(account, _)| {
                account.ends_with(&format!(" {department}"))
                    || account.ends_with(&format!(":{department}"))
            })
            .map(|(_, b)| *b)
            .unwrap_or_else(|| panic!("no account for {department} in {by_account:?}"));
        assert_eq!(balance, *settled, "{department}");
    }
}

/// The report's settled amounts, as `report --format json` gives them with the data
/// directory `data`.
fn settled_with_session(data: &Path) -> BTreeMap<String, Decimal> {
    let output = apportion()
        .env("APPORTION_DATA", data)
        .args(["report", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    settled_by_department(&serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn without_the_archive_the_outputs_are_the_reviewed_settlement_marked_as_a_draft() {
    use apportion::review::{Change, Review, Sources};
    let data = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let loaded = Review::load(Sources::default(), std::sync::Arc::default()).unwrap();
    let mut review = Review::open(Sources::default(), loaded, data.path(), "ana", now).unwrap();
    let model = review.attribution.lines[0].model.clone();
    let change = Change::Complexity {
        model,
        complexity: Decimal::from(7),
    };
    review.recalculate(change, now).unwrap();
    drop(review);

    let reviewed = settled_with_session(data.path());
    assert_ne!(
        reviewed,
        settled_by_department(&sample_json()),
        "the session moves the figures"
    );

    let out = tempfile::tempdir().unwrap();
    apportion()
        .env("APPORTION_DATA", data.path())
        .arg("export")
        .arg("--routing-table")
        .arg(out.path().join("routing.csv"))
        .arg("--journal")
        .arg(out.path().join("settlement.journal"))
        .assert()
        .success()
        .stderr(predicate::str::contains("as a draft, not approved"));

    let table = std::fs::read_to_string(out.path().join("routing.csv")).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(table.as_bytes());
    let found: BTreeMap<String, Decimal> = reader
        .records()
        .map(Result::unwrap)
        .filter(|r| !r[0].starts_with('#'))
        .map(|r| (r[0].to_string(), r[6].parse().unwrap()))
        .collect();
    assert_eq!(found, reviewed, "the table is the reviewed settlement");
    assert!(
        table.contains("# DRAFT (not approved): ") && table.contains("checks are open"),
        "{table}"
    );
    assert!(table.contains(DISCLAIMER));

    let journal = out.path().join("settlement.journal");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.starts_with("; DRAFT (not approved): "), "{text}");
    assert!(text.contains(DISCLAIMER));
    assert!(
        text.lines()
            .filter(|l| l.contains("AI usage settlement 2026-11 |"))
            .all(|l| l.contains(" ! AI usage settlement")),
        "every transaction is pending"
    );
    let Some(hledger) = hledger() else { return };
    assert_expenses_are(&hledger, &journal, &reviewed);
    let cleared = run_hledger(&hledger, &journal, &["balance", "--cleared", "-O", "csv"]);
    assert!(
        !cleared.unwrap().contains("Expenses:AI"),
        "nothing of a draft is cleared"
    );
}

#[test]
fn adjustments_are_booked_apart_from_the_shared_lines_in_the_journal() {
    use apportion::review::{LineKey, Review, Sources};
    let data = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let loaded = Review::load(Sources::default(), std::sync::Arc::default()).unwrap();
    let mut review = Review::open(Sources::default(), loaded, data.path(), "ana", now).unwrap();
    let key = |i: usize| {
        let line = &review.attribution.lines[i];
        LineKey::new(&line.department, &line.model)
    };
    let (from, to) = (key(0), key(review.attribution.lines.len() - 1));
    assert_ne!(from.department, to.department);
    review
        .adjust(&from, Decimal::new(-15, 1), "credit: outage", now)
        .unwrap();
    review
        .adjust(&to, Decimal::new(15, 1), "credit: outage", now)
        .unwrap();
    drop(review);
    let reviewed = settled_with_session(data.path());

    let out = tempfile::tempdir().unwrap();
    let journal = out.path().join("settlement.journal");
    apportion()
        .env("APPORTION_DATA", data.path())
        .arg("export")
        .arg("--journal")
        .arg(&journal)
        .assert()
        .success();
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(!text.contains("Shared:adjustment"), "{text}");
    assert!(!text.contains("; shared line: adjustment"), "{text}");
    let adjustments: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(":Adjustments "))
        .collect();
    assert_eq!(adjustments.len(), 2, "{text}");
    assert!(
        text.contains(&format!(
            "        ; adjustment {} / {} - credit - outage\n",
            from.department, from.model
        )),
        "{text}"
    );

    let csv = apportion()
        .env("APPORTION_DATA", data.path())
        .args(["report", "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    let row = format!(
        "2026-11,{},adjustment {} / ",
        from.department, from.department
    );
    assert!(csv.contains(&row), "{csv}");
    assert!(!csv.contains("shared: adjustment"), "{csv}");
    assert!(csv.contains(",-1.50,"), "the cents are written: {csv}");

    let Some(hledger) = hledger() else { return };
    assert_expenses_are(&hledger, &journal, &reviewed);
    let tags = run_hledger(&hledger, &journal, &["tags"]).unwrap();
    assert!(
        !tags.contains("gpt"),
        "no tag is read from the comment: {tags}"
    );
}
