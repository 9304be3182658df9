//! The JSON report explains each department's change when the prior ledger is last month's
//! archive, and is unchanged with a CSV ledger.

mod common;

use std::path::{Path, PathBuf};

use apportion::archive::{self, Contents, InputRecord};
use apportion::calc::calculate;
use apportion::config::Settings;
use apportion::load::load_files;
use assert_cmd::Command;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Writes a month's configuration and log; Growth uses `growth` million tokens, Core one.
fn month(dir: &Path, month: &str, growth: u64) -> (PathBuf, PathBuf) {
    let config = dir.join(format!("{month}.toml"));
    std::fs::write(&config, common::round_trip::config(month, 10, "")).unwrap();
    let logs = dir.join(format!("logs-{month}.csv"));
    let text = format!(
        "timestamp,api_key,model,input_tokens,output_tokens\n{month}-03T10:00:00Z,g-1,m,{},0\n{month}-04T10:00:00Z,c-1,m,1000000,0\n",
        growth * 1_000_000
    );
    std::fs::write(&logs, text).unwrap();
    (config, logs)
}

/// Settles October and archives it; returns the archive.
fn october_archive(dir: &Path) -> PathBuf {
    let (config, logs) = month(dir, "2026-10", 1);
    let settings = Settings::from_file(&config).unwrap();
    let dataset = load_files(&settings, &[logs]).unwrap();
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

fn json_report(config: &Path, logs: &Path, ledger: &Path) -> Value {
    let output = Command::cargo_bin("apportion")
        .unwrap()
        .args(["report", "--format", "json", "--today", "2026-11-30"])
        .arg("--config")
        .arg(config)
        .arg("--ledger")
        .arg(ledger)
        .arg(logs)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn amount(value: &Value) -> Decimal {
    value.as_str().unwrap().parse().unwrap()
}

#[test]
fn an_archive_ledger_adds_the_explanations_that_sum_to_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let archive = october_archive(dir.path());
    let (config, logs) = month(dir.path(), "2026-11", 3);
    let report = json_report(&config, &logs, &archive);

    let explanations = report["explanations"].as_array().unwrap();
    let growth = explanations
        .iter()
        .find(|e| e["department"] == "Growth")
        .unwrap();
    assert_eq!(amount(&growth["prior"]), Decimal::from(10));
    assert_eq!(amount(&growth["current"]), Decimal::from(30));
    let effects = growth["effects"].as_array().unwrap();
    let names: Vec<&str> = effects
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["volume", "mix", "price", "weight", "shared", "mapping"]
    );
    let sum: Decimal = effects.iter().map(|e| amount(&e["amount"])).sum();
    assert_eq!(sum, Decimal::from(20));
    assert_eq!(
        amount(&effects[0]["amount"]),
        Decimal::from(20),
        "all volume"
    );
}

#[test]
fn a_csv_ledger_leaves_the_json_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (config, logs) = month(dir.path(), "2026-11", 3);
    let ledger = dir.path().join("ledger.csv");
    std::fs::write(
        &ledger,
        "period,department,amount,currency\n2026-10,Growth,10,USD\n2026-10,Core,10,USD\n",
    )
    .unwrap();
    let report = json_report(&config, &logs, &ledger);
    assert!(report.get("explanations").is_none());
    assert!(report.get("departments").is_some());
}
