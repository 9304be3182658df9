//! The command line over the formats: `--input-format`, `--prices` and the errors of files
//! no format matches.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const CONFIG: &str = r#"
[organization]
name = "Test"
time_zone = "UTC"

[period]
month = "2026-11"

[[departments]]
name = "Sales"
budget = 100

[[mapping]]
department = "Sales"
team = "team-sales"

[prices]
bundled = false
"#;

fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("apportion.toml");
    std::fs::write(&path, CONFIG).unwrap();
    path
}

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn prices_from_the_litellm_map() {
    let map = data("fixtures/litellm/model_prices_and_context_window.json");
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .args([
            "report",
            "--format",
            "json",
            "--today",
            "2026-11-30",
            "--config",
        ])
        .arg(config(dir.path()))
        .args(["--prices", map.as_str()])
        .arg(data("litellm-2026-11.csv"))
        .assert()
        .success()
        .stdout(predicate::str::contains("\"list_cost\": \"9.28"))
        .stdout(predicate::str::contains(
            "LiteLLM price map 'model_prices_and_context_window.json'",
        ));
}

#[test]
fn without_prices_the_models_are_unpriced() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .args(["report", "--today", "2026-11-30", "--config"])
        .arg(config(dir.path()))
        .arg(data("litellm-2026-11.csv"))
        .assert()
        .success()
        .stdout(predicate::str::contains("model 'gpt-4o' has no price"));
}

#[test]
fn input_format_forces_the_reader_and_unknown_files_list_the_formats() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    Command::cargo_bin("apportion")
        .unwrap()
        .args(["check", "--input-format", "focus", "--config"])
        .arg(&config)
        .arg(data("litellm-2026-11.csv"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("missing columns 'BilledCost'"));

    let odd = dir.path().join("notes.txt");
    std::fs::write(&odd, "hello, world\n").unwrap();
    Command::cargo_bin("apportion")
        .unwrap()
        .args(["check", "--config"])
        .arg(&config)
        .arg(&odd)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("the format is not recognised"))
        .stderr(predicate::str::contains("claude-code"));

    Command::cargo_bin("apportion")
        .unwrap()
        .args(["check", "--input-format", "parquet", "--config"])
        .arg(&config)
        .arg(&odd)
        .assert()
        .failure()
        .stderr(predicate::str::contains("'parquet' is not a format"));
}
