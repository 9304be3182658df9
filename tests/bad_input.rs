//! Bad input: every problem gives a clear message with the file and the line, never a panic,
//! and nothing else is lost.

use std::path::{Path, PathBuf};

use apportion::calc::calculate;
use apportion::config::Settings;
use apportion::load::{Dataset, LoadError, load_files};
use chrono::NaiveDate;

const CONFIG: &str = r#"
[organization]
name = "Bad Input Inc"
time_zone = "UTC"
currency = "USD"

[period]
month = "2026-11"

[[departments]]
name = "Ops"
budget = 100

[[mapping]]
api_key = "k*"
department = "Ops"

[[models]]
name = "m"
input = 1
output = 2
"#;

const HEADER: &str =
    "timestamp,request_id,api_key,model,input_tokens,output_tokens,cost,currency\n";
const GOOD: &str = "2026-11-02T10:00:00Z,r1,k1,m,1000,10,,\n";
const GOOD_TOO: &str = "2026-11-03T10:00:00Z,r9,k1,m,2000,20,,\n";

fn settings() -> Settings {
    Settings::from_toml(CONFIG, Path::new("bad.toml")).unwrap()
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Loads one file whose middle row is `row`, between two good rows.
fn load_with(row: &str) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEADER}{GOOD}{row}\n{GOOD_TOO}");
    let path = write(dir.path(), "logs.csv", text.as_bytes());
    load_files(&settings(), &[path]).unwrap()
}

fn only_reject(dataset: &Dataset) -> (u64, String) {
    assert_eq!(dataset.rejects.len(), 1, "{:?}", dataset.rejects);
    assert_eq!(
        dataset.sources[0].accepted, 2,
        "the good rows around it are kept"
    );
    let reject = &dataset.rejects[0];
    (reject.line, reject.reason.clone())
}

fn load_error(content: &[u8]) -> LoadError {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "broken.csv", content);
    load_files(&settings(), &[path]).unwrap_err()
}

#[test]
fn a_non_numeric_token_count_is_rejected_with_its_line() {
    let (line, reason) = only_reject(&load_with("2026-11-02T11:00:00Z,r2,k1,m,many,10,,"));
    assert_eq!(line, 3);
    assert!(
        reason.contains("column 'input_tokens': 'many' is not a whole number of tokens"),
        "{reason}"
    );
}

#[test]
fn negative_tokens_are_rejected() {
    let (line, reason) = only_reject(&load_with("2026-11-02T11:00:00Z,r2,k1,m,100,-5,,"));
    assert_eq!(line, 3);
    assert!(
        reason.contains("column 'output_tokens': negative token count '-5'"),
        "{reason}"
    );
}

#[test]
fn an_unparseable_timestamp_is_rejected() {
    let (_, reason) = only_reject(&load_with("yesterday noon,r2,k1,m,100,5,,"));
    assert!(
        reason.contains("column 'timestamp': 'yesterday noon' is not a timestamp"),
        "{reason}"
    );
}

#[test]
fn a_row_outside_the_period_is_rejected() {
    let (_, reason) = only_reject(&load_with("2026-12-01T00:00:00Z,r2,k1,m,100,5,,"));
    assert!(
        reason.contains("outside the period 2026-11-01 to 2026-11-30"),
        "{reason}"
    );
}

#[test]
fn a_cost_in_another_currency_is_rejected() {
    let (_, reason) = only_reject(&load_with("2026-11-02T11:00:00Z,r2,k1,m,100,5,0.5,EUR"));
    assert!(
        reason.contains("'EUR', not in the settlement currency 'USD'"),
        "{reason}"
    );
}

#[test]
fn a_duplicate_request_names_the_first() {
    let (_, reason) = only_reject(&load_with("2026-11-02T11:00:00Z,r1,k1,m,100,5,,"));
    assert!(
        reason.contains("duplicate of request 'r1' first seen at"),
        "{reason}"
    );
    assert!(reason.ends_with("logs.csv:2"), "{reason}");
}

#[test]
fn a_short_row_is_rejected() {
    let (_, reason) = only_reject(&load_with("2026-11-02T11:00:00Z,r2"));
    assert!(
        reason.contains("expected 8 fields as in the header, found 2"),
        "{reason}"
    );
}

#[test]
fn bytes_that_are_not_utf8_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut content = format!("{HEADER}{GOOD}").into_bytes();
    content.extend_from_slice(b"2026-11-02T11:00:00Z,r2,k\xff\xfe,m,1,1,,\n");
    content.extend_from_slice(GOOD_TOO.as_bytes());
    let path = write(dir.path(), "logs.csv", &content);
    let dataset = load_files(&settings(), &[path]).unwrap();
    let (line, reason) = only_reject(&dataset);
    assert_eq!(line, 3);
    assert!(
        reason.contains("column 'api_key' is not valid UTF-8"),
        "{reason}"
    );
}

#[test]
fn a_missing_column_names_the_file_and_the_header() {
    let error = load_error(b"timestamp,api_key,model\n2026-11-02T10:00:00Z,k1,m\n");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("{}:1: missing column", error.path.display())),
        "{text}"
    );
    assert!(text.contains("'input_tokens' (token counts)"), "{text}");
    assert!(
        text.contains("the header has: 'timestamp', 'api_key', 'model'"),
        "{text}"
    );
    assert!(
        text.contains("pass --input-format"),
        "the flag that exists: {text}"
    );
}

#[test]
fn a_file_that_is_not_csv_is_refused_clearly() {
    let error = load_error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00");
    let text = error.to_string();
    assert!(
        text.contains("broken.csv: the format is not recognised (it starts with '"),
        "{text}"
    );
    assert!(text.contains("PNG"), "{text}");
    assert!(
        text.contains("generic-csv"),
        "the formats are listed: {text}"
    );

    let json = load_error(br#"{"data": [{"model": "m"}]}"#);
    assert!(
        json.to_string().contains("the format is not recognised"),
        "{json}"
    );
}

#[test]
fn an_empty_file_is_refused_clearly() {
    let error = load_error(b"");
    assert!(
        error
            .to_string()
            .contains("the format is not recognised (the file is empty)"),
        "{error}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let error = load_files(&settings(), &["/nonexistent/logs.csv".into()]).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/logs.csv: cannot open"),
        "{error}"
    );
}

#[test]
fn quoted_fields_crlf_bom_and_no_final_newline_are_read() {
    let dir = tempfile::tempdir().unwrap();
    // A line break is read in a column apportion does not use (a note); in a column it
    // reads, it is the mark of a quote left open, which another test covers.
    let text = "\u{feff}\u{feff}Time Stamp,API_KEY,Model,Input Tokens,output tokens,tags,note\r\n\
        2026-11-02 10:00:00.123456789,k1,m,1000,10,\"a,b\",\r\n\
        1793700000,\"k\"\"2\",m,1000,10,t,\"multi\nline\"\r\n\
        1793700000000,k3,m,1000,10,x,";
    let config = CONFIG.to_string()
        + "\n[[sources]]\npattern = \"*.csv\"\n[sources.columns]\ntimestamp = \"time stamp\"\n";
    let settings = Settings::from_toml(&config, Path::new("c.toml")).unwrap();
    let path = write(dir.path(), "odd.csv", text.as_bytes());
    let dataset = load_files(&settings, &[path]).unwrap();
    assert!(dataset.rejects.is_empty(), "{:?}", dataset.rejects);
    assert_eq!(dataset.sources[0].accepted, 3);
    let attribution = calculate(
        &settings,
        &dataset,
        None,
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
    );
    assert_eq!(
        attribution.conservation.attributed, 3,
        "k\"2 and k3 match k*"
    );
}
