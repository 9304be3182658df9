//! What the CSV formats with fixed column names share (LiteLLM, FOCUS, OpenAI's cost
//! export): the header is located by name, each row is handed over with its line, and a row
//! that cannot be read is rejected with its line while the rest of the file is still read.

use std::collections::HashMap;

use csv::ByteRecord;
use rust_decimal::Decimal;

use super::chunks::{Splitter, each_record};
use super::generic::parse_tokens;
use super::{Dataset, Input, LoadError};
use crate::calc::bucket::SourceId;
use crate::config::parse_decimal;

/// Header names compare without case, spaces, underscores, hyphens or byte-order marks.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The columns of a file, by normalized name.
pub struct Header {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Header {
    fn new(record: &ByteRecord) -> Header {
        let names: Vec<String> = record
            .iter()
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim_start_matches('\u{feff}')
                    .to_string()
            })
            .collect();
        let index = names
            .iter()
            .enumerate()
            .rev()
            .map(|(i, n)| (normalize(n), i))
            .collect();
        Header { names, index }
    }

    /// Whether the file has the column.
    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(&normalize(name))
    }
}

/// One data row.
pub struct Row<'a> {
    /// Line where the row starts.
    pub line: u64,
    /// Byte offset of the row.
    pub offset: u64,
    header: &'a Header,
    record: &'a ByteRecord,
}

impl<'a> Row<'a> {
    /// A field's text, `None` when the column is missing or the value empty.
    pub fn text(&self, column: &str) -> Result<Option<&'a str>, String> {
        let Some(&index) = self.header.index.get(&normalize(column)) else {
            return Ok(None);
        };
        let bytes = self.record.get(index).unwrap_or_default();
        let text = std::str::from_utf8(bytes)
            .map_err(|_| {
                format!(
                    "column '{}' is not valid UTF-8 text",
                    self.header.names[index]
                )
            })?
            .trim();
        Ok((!text.is_empty()).then_some(text))
    }

    /// A required field's text.
    pub fn required(&self, column: &str) -> Result<&'a str, String> {
        self.text(column)?
            .ok_or_else(|| format!("column '{column}' is empty"))
    }

    /// A token count, `0` when empty.
    pub fn tokens(&self, column: &str) -> Result<u64, String> {
        match self.text(column)? {
            None => Ok(0),
            Some(value) => parse_tokens(value).map_err(|e| format!("column '{column}': {e}")),
        }
    }

    /// An amount, `None` when empty.
    pub fn money(&self, column: &str) -> Result<Option<Decimal>, String> {
        match self.text(column)? {
            None => Ok(None),
            Some(value) => parse_decimal(value)
                .map(Some)
                .map_err(|_| format!("column '{column}': '{value}' is not a decimal amount")),
        }
    }
}

/// Reads a CSV input whose header must hold `required` columns, handing every data row to
/// `take`. Returns the source's id.
pub fn read(
    dataset: &mut Dataset,
    input: Input<'_>,
    format: &str,
    required: &[&str],
    mut take: impl FnMut(&mut Dataset, SourceId, &Row<'_>),
) -> Result<SourceId, LoadError> {
    let name = input.name.clone();
    let unreadable =
        |error: std::io::Error| LoadError::new(&name, None, format!("cannot read: {error}"));
    let (mut splitter, header, first) =
        Splitter::start_hashing(input.reader, CHUNK_BYTES, dataset.hashing).map_err(unreadable)?;
    let header = Header::new(&header);
    check_required(&header, required, format, &name)?;
    let source = dataset.begin_source(&name, format);

    splitter
        .for_each_chunk(first, |chunk| {
            each_record(chunk, |record, place| match record {
                Ok(record) => take_row(dataset, source, &header, record, place, &mut take),
                Err(reason) => dataset.reject(source, place.0, reason),
            })
        })
        .map_err(unreadable)?;

    let (size, sha256) = splitter.finish().map_err(unreadable)?;
    dataset.finish_source(source, size, sha256);
    Ok(source)
}

/// The size of the chunks a file is read in: enough to make the calls per chunk cheap, small
/// enough that memory does not grow with the file.
const CHUNK_BYTES: usize = 1 << 20;

fn check_required(
    header: &Header,
    required: &[&str],
    format: &str,
    name: &str,
) -> Result<(), LoadError> {
    let missing: Vec<String> = required
        .iter()
        .filter(|c| !header.has(c))
        .map(|c| format!("'{c}'"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(LoadError::new(
        name,
        Some(1),
        format!(
            "missing column{} {} of the {format} format; the header has {} columns",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            header.names.len()
        ),
    ))
}

fn take_row(
    dataset: &mut Dataset,
    source: SourceId,
    header: &Header,
    record: &ByteRecord,
    (line, offset): (u64, u64),
    take: &mut impl FnMut(&mut Dataset, SourceId, &Row<'_>),
) {
    if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
        dataset.reject(source, line, "empty row");
        return;
    }
    if record.len() != header.names.len() {
        let reason = format!(
            "expected {} fields as in the header, found {}",
            header.names.len(),
            record.len()
        );
        dataset.reject(source, line, reason);
        return;
    }
    let row = Row {
        line,
        offset,
        header,
        record,
    };
    take(dataset, source, &row);
}
