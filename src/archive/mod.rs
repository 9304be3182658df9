//! The approved archive: one JSON document that keeps a settled month for good, plus a CSV
//! of its lines for spreadsheets.
//!
//! The document is `{"body": …, "sha256": …, "sections": {…}}`. The body holds the period,
//! the effective configuration, every input's name, size and SHA-256, the attribution
//! (lines, department summaries with statuses and reasons, shared lines, mismatches), the
//! review (decisions, adjustments, sign-offs, recalculations) and the checklist, the
//! disclaimer and the program's version. `sha256` is computed over the body's canonical form
//! ([`canonical`]) and `sections` holds one hash per top-level part of the body, so that
//! [`verify`] can say which part changed. Nothing in the body depends on when it was
//! written: the same inputs and decisions give byte-identical archives.
//!
//! The attribution archived is the review's settlement: its lines are as computed, and each
//! adjustment is a line of its own among the shared lines (`adjustment <line>: <reason>`)
//! counted in its department's settled amount, so that the summaries, the CSV and the ledger
//! read back from it add up to the amount to settle (see [`crate::review::adjusted`]).
//!
//! An archive is written atomically, read-only, and never over an existing one. Next month
//! it is read back as the prior ledger ([`ledger_from_archive`]).

pub mod canonical;
pub mod verify;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use crate::calc::{Attribution, DISCLAIMER};
use crate::config::Settings;
use crate::load::SourceSummary;
use crate::load::ledger::{Ledger, LedgerEntry};

/// Version of the archive layout.
pub const FORMAT_VERSION: u32 = 1;

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A file could not be written or read.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file is not an archive of this program.
    #[error("{}: not an apportion archive: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What was expected.
        message: String,
    },
}

/// One input as the archive records it.
#[derive(Debug, Clone, Serialize)]
pub struct InputRecord {
    /// Its name as given.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its content.
    pub sha256: String,
    /// The format it was read as.
    pub format: String,
    /// Rows read from it.
    pub rows_read: u64,
}

impl From<&SourceSummary> for InputRecord {
    fn from(source: &SourceSummary) -> Self {
        InputRecord {
            name: source.name.clone(),
            size: source.size,
            sha256: source.sha256.clone(),
            format: source.format.clone(),
            rows_read: source.rows_read,
        }
    }
}

/// What the archive is made of.
pub struct Contents<'a> {
    /// The configuration in effect.
    pub settings: &'a Settings,
    /// The inputs read.
    pub inputs: Vec<InputRecord>,
    /// The attribution approved.
    pub attribution: &'a Attribution,
    /// The review: decisions with who and when, adjustments, sign-offs, recalculations.
    pub review: Value,
    /// The checklist and its result.
    pub checklist: Value,
}

/// The configuration in effect, its revoked keys masked: an archive travels further than
/// the configuration file, and a key, even a revoked one, is shown only in the raw file.
/// (The mapping's patterns stay as written: next month's explanation reads them back.)
fn masked_configuration(settings: &Settings) -> Value {
    let mut config = serde_json::to_value(&settings.config).unwrap_or(Value::Null);
    if let Some(keys) = config.get_mut("revoked_keys").and_then(Value::as_array_mut) {
        for key in keys.iter_mut() {
            if let Some(text) = key.as_str() {
                *key = Value::String(crate::load::mask_key(text));
            }
        }
    }
    config
}

/// Builds the archive body.
pub fn body(contents: &Contents<'_>) -> Value {
    let a = contents.attribution;
    json!({
        "format_version": FORMAT_VERSION,
        "program": format!("apportion {}", env!("CARGO_PKG_VERSION")),
        "organization": a.organization,
        "period": a.period,
        "configuration": masked_configuration(contents.settings),
        "inputs": contents.inputs,
        "settlement": {
            "currency": a.currency,
            "amount_to_settle": a.amount_to_settle,
            "from_invoice": a.from_invoice,
            "list_cost": a.list_cost,
            "converted": a.converted,
            "settled": a.settled,
            "gap": a.gap,
            "conservation": a.conservation,
            "conservation_by_source": a.conservation_by_source,
            "rejected_rows": a.rejected_rows,
        },
        "departments": a.departments,
        "lines": a.lines,
        "shared": a.shared,
        "mismatches": a.mismatches,
        "unpriced": a.unpriced,
        "illegal": a.illegal,
        "review": contents.review,
        "checklist": contents.checklist,
        "disclaimer": DISCLAIMER,
    })
}

/// The whole document: the body with its hash and the hash of each section.
pub fn document(body: Value) -> Value {
    let sections: BTreeMap<String, String> = body
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), canonical::hash(v)))
                .collect()
        })
        .unwrap_or_default();
    let sha256 = canonical::hash(&body);
    json!({ "body": body, "sha256": sha256, "sections": sections })
}

/// The file names of a month's archive in `dir`: the JSON document and the CSV of lines.
pub fn paths(dir: &Path, attribution: &Attribution) -> (PathBuf, PathBuf) {
    let slug = crate::review::store::slug(&attribution.organization);
    let stem = format!("apportion-{}-{}", slug, attribution.period.month);
    (
        dir.join(format!("{stem}.json")),
        dir.join(format!("{stem}.csv")),
    )
}

/// Writes the archive into `dir`, never over an existing one; returns the JSON's path.
///
/// The CSV is written first and the JSON last, so that a JSON archive on disk always has its
/// CSV beside it; if the JSON cannot be written, the CSV just written is removed again.
pub fn write(dir: &Path, contents: &Contents<'_>) -> Result<PathBuf, ArchiveError> {
    write_with(dir, contents, crate::write::create_read_only)
}

/// [`write`] with the function that creates each file, so that a test can make it fail.
fn write_with(
    dir: &Path,
    contents: &Contents<'_>,
    create: impl Fn(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<PathBuf, ArchiveError> {
    let (json_path, csv_path) = paths(dir, contents.attribution);
    for path in [&json_path, &csv_path] {
        if path.exists() {
            return Err(io_error(
                path,
                "an archive already exists here; archives are never overwritten",
            ));
        }
    }
    // The CSV of the lines is hashed into the body, so that verify covers it too.
    let csv = crate::report::csv::render(contents.attribution);
    let mut body = body(contents);
    body["lines_csv_sha256"] = Value::String(crate::load::hashing::sha256_hex(csv.as_bytes()));
    let mut text = serde_json::to_string_pretty(&document(body)).unwrap_or_default();
    text.push('\n');

    create(&csv_path, csv.as_bytes()).map_err(|e| io_error(&csv_path, &e.to_string()))?;
    if let Err(error) = create(&json_path, text.as_bytes()) {
        let _ = std::fs::remove_file(&csv_path);
        return Err(io_error(&json_path, &error.to_string()));
    }
    Ok(json_path)
}

fn io_error(path: &Path, message: &str) -> ArchiveError {
    ArchiveError::Io {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Reads an archive document.
pub fn read(path: &Path) -> Result<Value, ArchiveError> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, &format!("cannot read: {e}")))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| ArchiveError::Format {
        path: path.to_path_buf(),
        message: format!("not JSON ({e})"),
    })?;
    if value["body"]["format_version"].as_u64().is_none() || value["sha256"].as_str().is_none() {
        return Err(ArchiveError::Format {
            path: path.to_path_buf(),
            message: "expected an object with 'body' (with 'format_version') and 'sha256'".into(),
        });
    }
    Ok(value)
}

/// Reads an archive as a prior ledger: one row per line (department × model) with its
/// settled amount, and one total row per department (shared lines and adjustments
/// included), for the archive's period.
pub fn ledger_from_archive(path: &Path, currency: &str) -> Result<Ledger, ArchiveError> {
    let document = read(path)?;
    if document["sha256"].as_str() != Some(canonical::hash(&document["body"]).as_str()) {
        return Err(ArchiveError::Format {
            path: path.to_path_buf(),
            message: "its body no longer matches its SHA-256; run `apportion verify` on it".into(),
        });
    }
    let body = &document["body"];
    let format = |message: &str| ArchiveError::Format {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    let period = body["period"]["month"]
        .as_str()
        .ok_or_else(|| format("no period.month"))?
        .to_string();
    let archived_currency = body["settlement"]["currency"].as_str().unwrap_or(currency);
    if !archived_currency.eq_ignore_ascii_case(currency) {
        return Err(format(&format!(
            "settled in '{archived_currency}', not in the settlement currency '{currency}'"
        )));
    }

    let amount = |value: &Value| value.as_str().and_then(|s| s.parse::<Decimal>().ok());
    let mut entries = Vec::new();
    for (index, line) in body["lines"].as_array().into_iter().flatten().enumerate() {
        entries.push(LedgerEntry {
            period: period.clone(),
            department: line["department"].as_str().unwrap_or_default().to_string(),
            model: line["model"].as_str().map(str::to_string),
            amount: amount(&line["settled"])
                .ok_or_else(|| format(&format!("lines[{index}].settled is not an amount")))?,
            currency: currency.to_string(),
            tokens: None,
            line: index as u64 + 1,
        });
    }
    for (index, department) in body["departments"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        entries.push(LedgerEntry {
            period: period.clone(),
            department: department["name"].as_str().unwrap_or_default().to_string(),
            model: None,
            amount: amount(&department["settled"])
                .ok_or_else(|| format(&format!("departments[{index}].settled is not an amount")))?,
            currency: currency.to_string(),
            tokens: None,
            line: 0,
        });
    }
    Ok(Ledger {
        name: path.display().to_string(),
        entries,
    })
}

/// Reads a prior ledger from a CSV ledger or an archive, told apart by content.
pub fn read_ledger(path: &Path, currency: &str) -> Result<Ledger, crate::load::LoadError> {
    let starts_with_brace = std::fs::read(path)
        .map(|bytes| bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'))
        .unwrap_or(false);
    if !starts_with_brace {
        return Ledger::from_file(path, currency);
    }
    ledger_from_archive(path, currency).map_err(|error| {
        let message = match error {
            ArchiveError::Io { message, .. } => message,
            ArchiveError::Format { message, .. } => format!("not an apportion archive: {message}"),
        };
        crate::load::LoadError::new(path, None, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::calculate;
    use crate::load::{Input, load_inputs};
    use crate::sample;

    fn sample_contents<F: FnOnce(&Contents<'_>) -> R, R>(f: F) -> R {
        let settings = sample::settings().unwrap();
        let dataset = load_inputs(
            &settings,
            vec![Input::from_bytes(sample::LOGS_NAME, sample::LOGS)],
        )
        .unwrap();
        let attribution = calculate(&settings, &dataset, None, sample::TODAY);
        let contents = Contents {
            settings: &settings,
            inputs: dataset.sources.iter().map(InputRecord::from).collect(),
            attribution: &attribution,
            review: json!({"decisions": []}),
            checklist: json!({"passed": true}),
        };
        f(&contents)
    }

    #[test]
    fn identical_inputs_give_byte_identical_archives() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let a = sample_contents(|c| write(first.path(), c)).unwrap();
        let b = sample_contents(|c| write(second.path(), c)).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert!(a.ends_with("apportion-northwind-analytics-2026-11.json"));
        assert!(std::fs::metadata(&a).unwrap().permissions().readonly());
    }

    #[test]
    fn an_archive_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_contents(|c| write(dir.path(), c)).unwrap();
        let before = std::fs::read(&path).unwrap();
        let error = sample_contents(|c| write(dir.path(), c)).unwrap_err();
        assert!(error.to_string().contains("never overwritten"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn a_failed_write_leaves_no_partial_archive() {
        let dir = tempfile::tempdir().unwrap();
        let failing = |path: &Path, bytes: &[u8]| {
            if path.extension().is_some_and(|e| e == "json") {
                Err(std::io::Error::other("disk full"))
            } else {
                crate::write::create_read_only(path, bytes)
            }
        };
        let error = sample_contents(|c| write_with(dir.path(), c, failing)).unwrap_err();
        assert!(error.to_string().contains("disk full"));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing is left behind"
        );
    }

    #[test]
    fn the_archive_reads_back_as_a_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_contents(|c| write(dir.path(), c)).unwrap();
        let ledger = read_ledger(&path, "USD").unwrap();
        let totals = ledger.department_totals("2026-11");
        let settled: Decimal = totals.values().sum();
        assert_eq!(settled, sample_contents(|c| c.attribution.amount_to_settle));
        assert!(!ledger.line_amounts("2026-11").is_empty());
        assert!(
            read_ledger(&path, "EUR").is_err(),
            "another currency is refused"
        );
    }
}
