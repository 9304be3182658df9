//! The generic CSV format, read through the column map of the source's configuration.
//!
//! Token semantics: `cached_input_tokens` is taken as part of `input_tokens` when
//! `cached_included_in_input` is true (the default, as gateways report it), and is subtracted
//! from the input so that each kind is priced once; otherwise both are separate quantities.
//! Cache-write tokens are always separate. Reasoning tokens belong in the output column.

use std::collections::HashMap;
use std::str::FromStr;

use chrono_tz::Tz;
use csv::ByteRecord;
use rust_decimal::Decimal;

use super::hashing::HashingReader;
use super::timestamp::parse_timestamp;
use super::{Caller, Dataset, Input, LoadError, Tokens, UsageRecord};
use crate::calc::bucket::SourceId;
use crate::config::{ColumnMap, SourceSpec};

/// The format's name in reports and on the command line.
pub const NAME: &str = "generic-csv";

/// Where each configured column is in the file.
#[derive(Debug, Default)]
struct Columns {
    timestamp: usize,
    request_id: Option<usize>,
    api_key: Option<usize>,
    user: Option<usize>,
    project: Option<usize>,
    team: Option<usize>,
    tags: Option<usize>,
    model: Option<usize>,
    input: Option<usize>,
    cached_input: Option<usize>,
    cache_write: Option<usize>,
    output: Option<usize>,
    cost: Option<usize>,
    currency: Option<usize>,
    status: Option<usize>,
    width: usize,
    names: Vec<String>,
}

/// Header names compare without case, spaces, underscores, hyphens or byte-order marks.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '\u{feff}'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Columns {
    fn locate(header: &ByteRecord, map: &ColumnMap, file: &str) -> Result<Columns, LoadError> {
        let names: Vec<String> = header
            .iter()
            .map(|field| String::from_utf8_lossy(field).into_owned())
            .collect();
        let index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .rev()
            .map(|(i, name)| (normalize(name), i))
            .collect();
        let find = |wanted: &Option<String>| {
            wanted
                .as_ref()
                .and_then(|w| index.get(&normalize(w)).copied())
        };

        let missing = |what: &str, wanted: &str| {
            LoadError::new(
                file,
                Some(1),
                format!(
                    "missing column '{wanted}' ({what}); the header has: {}. Set the column map \
                     for this file in the configuration's [[sources]] or pass --format",
                    describe_header(&names)
                ),
            )
        };
        let timestamp = index
            .get(&normalize(&map.timestamp))
            .copied()
            .ok_or_else(|| missing("the time of each call", &map.timestamp))?;

        let columns = Columns {
            timestamp,
            request_id: find(&map.request_id),
            api_key: find(&map.api_key),
            user: find(&map.user),
            project: find(&map.project),
            team: find(&map.team),
            tags: find(&map.tags),
            model: find(&map.model),
            input: find(&map.input_tokens),
            cached_input: find(&map.cached_input_tokens),
            cache_write: find(&map.cache_write_tokens),
            output: find(&map.output_tokens),
            cost: find(&map.cost),
            currency: find(&map.currency),
            status: find(&map.status),
            width: names.len(),
            names: names.clone(),
        };
        if columns.model.is_none() && map.default_model.is_none() {
            let wanted = map.model.clone().unwrap_or_else(|| "model".into());
            return Err(missing(
                "the model of each call, or set default_model",
                &wanted,
            ));
        }
        if columns.input.is_none() && columns.output.is_none() {
            let wanted = map
                .input_tokens
                .clone()
                .unwrap_or_else(|| "input_tokens".into());
            return Err(missing("token counts", &wanted));
        }
        Ok(columns)
    }

    fn name(&self, index: usize) -> &str {
        &self.names[index]
    }
}

fn describe_header(names: &[String]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(12)
        .map(|n| format!("'{}'", n.replace('\u{feff}', "")))
        .collect();
    if shown.is_empty() {
        "no columns".to_string()
    } else {
        shown.join(", ")
    }
}

/// Reads one generic CSV input into the dataset.
pub fn read(dataset: &mut Dataset, spec: &SourceSpec, input: Input<'_>) -> Result<(), LoadError> {
    let name = input.name.clone();
    let zone: Tz = spec
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(Tz::UTC);
    let mut hashing = HashingReader::new(input.reader);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(&mut hashing);

    let header = reader
        .byte_headers()
        .map_err(|error| {
            LoadError::new(&name, Some(1), format!("cannot read the header: {error}"))
        })?
        .clone();
    let columns = Columns::locate(&header, &spec.columns, &name)?;
    let source = dataset.begin_source(&name, NAME);
    let rows = RowReader {
        columns: &columns,
        spec,
        zone,
    };

    let mut record = ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => rows.take(dataset, source, &record),
            Err(error) => super::csv_rows::take_error(dataset, source, &name, error)?,
        }
    }
    drop(reader);

    let (size, sha256) = hashing
        .finish()
        .map_err(|error| LoadError::new(&name, None, format!("cannot read: {error}")))?;
    dataset.finish_source(source, size, sha256);
    Ok(())
}

/// Turns rows of one file into records.
struct RowReader<'a> {
    columns: &'a Columns,
    spec: &'a SourceSpec,
    zone: Tz,
}

impl RowReader<'_> {
    fn take(&self, dataset: &mut Dataset, source: SourceId, row: &ByteRecord) {
        let (line, offset) = row
            .position()
            .map(|p| (p.line(), p.byte()))
            .unwrap_or((0, 0));
        if is_blank(row) {
            dataset.reject(source, line, "empty row");
            return;
        }
        match self.parse(row, line, offset) {
            Ok(record) => dataset.accept(source, record),
            Err(reason) => dataset.reject(source, line, reason),
        }
    }

    fn parse(&self, row: &ByteRecord, line: u64, offset: u64) -> Result<UsageRecord, String> {
        let c = self.columns;
        if row.len() != c.width {
            return Err(format!(
                "expected {} fields as in the header, found {}",
                c.width,
                row.len()
            ));
        }
        let timestamp = parse_timestamp(text(row, c.timestamp, c)?, self.zone)
            .map_err(|e| format!("column '{}': {e}", c.name(c.timestamp)))?;
        let model = match optional(row, c.model, c)? {
            Some(model) => model.to_string(),
            None => self.spec.columns.default_model.clone().ok_or_else(|| {
                format!(
                    "column '{}' is empty: expected a model name",
                    c.name(c.model.unwrap_or(0))
                )
            })?,
        };

        Ok(UsageRecord {
            line,
            offset,
            timestamp,
            request_id: optional(row, c.request_id, c)?.map(str::to_string),
            caller: self.caller(row)?,
            model,
            tokens: self.tokens(row)?,
            calls: 1,
            provider_cost: self.cost(row)?,
            currency: optional(row, c.currency, c)?.map(|s| s.to_ascii_uppercase()),
            success: self.success(row)?,
        })
    }

    fn caller(&self, row: &ByteRecord) -> Result<Caller, String> {
        let c = self.columns;
        let owned = |i| optional(row, i, c).map(|v| v.map(str::to_string));
        Ok(Caller {
            api_key: owned(c.api_key)?,
            user: owned(c.user)?,
            project: owned(c.project)?,
            team: owned(c.team)?,
            tags: optional(row, c.tags, c)?
                .map(split_tags)
                .unwrap_or_default(),
            fallback_department: self.spec.default_department.clone(),
        })
    }

    fn tokens(&self, row: &ByteRecord) -> Result<Tokens, String> {
        let c = self.columns;
        let count = |i: Option<usize>| -> Result<u64, String> {
            match optional(row, i, c)? {
                None => Ok(0),
                Some(value) => parse_tokens(value)
                    .map_err(|e| format!("column '{}': {e}", c.name(i.unwrap_or(0)))),
            }
        };
        let input = count(c.input)?;
        let cached = count(c.cached_input)?;
        let uncached = if self.spec.columns.cached_included_in_input {
            input.checked_sub(cached).ok_or_else(|| {
                format!("{cached} cached input tokens are more than the {input} input tokens that include them")
            })?
        } else {
            input
        };
        Ok(Tokens {
            input: uncached,
            cached_input: cached,
            cache_write: count(c.cache_write)?,
            cache_write_1h: 0,
            output: count(c.output)?,
        })
    }

    fn cost(&self, row: &ByteRecord) -> Result<Option<Decimal>, String> {
        let c = self.columns;
        match optional(row, c.cost, c)? {
            None => Ok(None),
            Some(value) => Decimal::from_str(value)
                .or_else(|_| Decimal::from_scientific(value))
                .map(Some)
                .map_err(|_| {
                    format!(
                        "column '{}': '{value}' is not a decimal amount",
                        c.name(c.cost.unwrap_or(0))
                    )
                }),
        }
    }

    fn success(&self, row: &ByteRecord) -> Result<bool, String> {
        let c = self.columns;
        match optional(row, c.status, c)? {
            None => Ok(true),
            Some(status) => parse_status(status).ok_or_else(|| {
                format!(
                    "column '{}': unknown status '{status}' (expected success, ok, failure, error, \
                     or an HTTP status code)",
                    c.name(c.status.unwrap_or(0))
                )
            }),
        }
    }
}

fn is_blank(row: &ByteRecord) -> bool {
    row.iter()
        .all(|field| field.iter().all(u8::is_ascii_whitespace))
}

/// The text of a required field.
fn text<'r>(row: &'r ByteRecord, index: usize, c: &Columns) -> Result<&'r str, String> {
    let bytes = row.get(index).unwrap_or_default();
    std::str::from_utf8(bytes)
        .map(str::trim)
        .map_err(|_| format!("column '{}' is not valid UTF-8 text", c.name(index)))
}

/// The text of an optional field; `None` for a missing column or an empty value.
fn optional<'r>(
    row: &'r ByteRecord,
    index: Option<usize>,
    c: &Columns,
) -> Result<Option<&'r str>, String> {
    match index {
        None => Ok(None),
        Some(i) => text(row, i, c).map(|t| (!t.is_empty()).then_some(t)),
    }
}

/// Parses a token count. Exports sometimes write counts as `120.0`; a whole number with a zero
/// fraction is accepted, anything else is refused rather than rounded.
pub fn parse_tokens(value: &str) -> Result<u64, String> {
    if let Ok(n) = value.parse::<u64>() {
        return Ok(n);
    }
    if value.starts_with('-') && value[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("negative token count '{value}'"));
    }
    match value.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole
            .parse::<u64>()
            .map_err(|_| format!("'{value}' is not a whole number of tokens")),
        _ => Err(format!("'{value}' is not a whole number of tokens")),
    }
}

/// Reads a status: `Some(true)` for success, `Some(false)` for a failed call.
pub fn parse_status(status: &str) -> Option<bool> {
    let lower = status.trim().to_ascii_lowercase();
    if let Ok(code) = lower.parse::<u16>() {
        return Some((200..300).contains(&code));
    }
    match lower.as_str() {
        "success" | "succeeded" | "successful" | "ok" | "completed" | "complete" | "true" => {
            Some(true)
        }
        "failure" | "failed" | "fail" | "error" | "errored" | "cancelled" | "canceled"
        | "timeout" | "timed_out" | "rejected" | "false" => Some(false),
        _ => None,
    }
}

/// Splits a tags field: a JSON list, or values separated by `;`, `|` or `,`.
pub fn split_tags(value: &str) -> Vec<String> {
    if value.starts_with('[') {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(value) {
            return list;
        }
    }
    value
        .split([';', '|', ','])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_counts() {
        assert_eq!(parse_tokens("120"), Ok(120));
        assert_eq!(parse_tokens("120.0"), Ok(120));
        assert!(parse_tokens("12.5").unwrap_err().contains("whole number"));
        assert!(parse_tokens("-5").unwrap_err().contains("negative"));
        assert!(parse_tokens("abc").unwrap_err().contains("'abc'"));
    }

    #[test]
    fn statuses() {
        assert_eq!(parse_status("success"), Some(true));
        assert_eq!(parse_status("200"), Some(true));
        assert_eq!(parse_status("429"), Some(false));
        assert_eq!(parse_status("Failure"), Some(false));
        assert_eq!(parse_status("maybe"), None);
    }

    #[test]
    fn tags() {
        assert_eq!(split_tags("a;b | c"), vec!["a", "b", "c"]);
        assert_eq!(
            split_tags("[\"team:x\",\"env:prod\"]"),
            vec!["team:x", "env:prod"]
        );
    }

    #[test]
    fn header_names_ignore_case_space_and_bom() {
        assert_eq!(normalize("\u{feff}\u{feff}Input Tokens"), "inputtokens");
        assert_eq!(normalize("input_tokens"), "inputtokens");
    }
}
