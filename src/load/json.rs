//! What the JSON formats share: reading a whole input, splitting it into rows (elements of an
//! array, one document, or JSON lines) with their line numbers, and reading fields exactly.
//!
//! Fields are kept as raw JSON text until used, so that an amount such as `0.000123` is
//! parsed as a decimal from its text and never passes through `f64`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::generic::parse_tokens;
use super::hashing::HashingReader;
use super::{Input, LoadError};
use crate::config::parse_decimal;

/// A whole input, read through the hash.
pub struct Content {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 in hex.
    pub sha256: String,
}

/// Reads an input to its end, hashing it.
pub fn read_all(input: Input<'_>) -> Result<Content, LoadError> {
    let mut hashing = HashingReader::new(input.reader);
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut hashing, &mut bytes)
        .map_err(|error| LoadError::new(&input.name, None, format!("cannot read: {error}")))?;
    let (size, sha256) = hashing
        .finish()
        .map_err(|error| LoadError::new(&input.name, None, format!("cannot read: {error}")))?;
    Ok(Content {
        bytes,
        size,
        sha256,
    })
}

/// One row of a JSON input: its line, byte offset and text (or why it has none).
#[derive(Debug)]
pub struct Piece<'a> {
    /// Line where it starts (1-based).
    pub line: u64,
    /// Byte offset where it starts.
    pub offset: u64,
    /// Its JSON text, or why it cannot be read.
    pub text: Result<&'a str, String>,
}

/// Splits an input into its top-level rows: the elements of an array, the document itself
/// when it is one object, or one row per line (JSON lines, recognised by a first line that
/// is a complete object on its own). A document that cannot be parsed is an error naming the
/// line; in JSON lines a bad line is only that row's problem.
pub fn pieces<'a>(bytes: &'a [u8], name: &str) -> Result<Vec<Piece<'a>>, LoadError> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xef && *b != 0xbb && *b != 0xbf)
        .unwrap_or(bytes.len());
    if start == bytes.len() {
        return Ok(Vec::new());
    }
    if bytes[start] != b'[' && first_line_is_object(&bytes[start..]) && has_second_row(bytes) {
        return Ok(json_lines(bytes));
    }
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let line = line_of(bytes, error.valid_up_to());
        LoadError::new(name, Some(line), "the file is not UTF-8 text")
    })?;
    let body = &text[start..];
    let parse_error = |error: serde_json::Error| {
        LoadError::new(
            name,
            Some(error.line() as u64 + line_of(bytes, start) - 1),
            format!("not a complete JSON document: {error}"),
        )
    };
    if bytes[start] == b'[' {
        let elements: Vec<&RawValue> = serde_json::from_str(body).map_err(parse_error)?;
        let mut lines = LineCounter::new(text);
        Ok(elements
            .into_iter()
            .map(|raw| lines.piece(raw.get()))
            .collect())
    } else {
        let document: &RawValue = serde_json::from_str(body).map_err(parse_error)?;
        Ok(vec![LineCounter::new(text).piece(document.get())])
    }
}

fn first_line_is_object(bytes: &[u8]) -> bool {
    let end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(bytes.len());
    std::str::from_utf8(&bytes[..end])
        .ok()
        .and_then(|line| serde_json::from_str::<&RawValue>(line.trim()).ok())
        .is_some_and(|raw| raw.get().starts_with('{'))
}

/// Whether anything but whitespace follows the first line (a single-line document is not
/// JSON lines, but reads the same either way).
fn has_second_row(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .position(|b| *b == b'\n')
        .is_some_and(|end| bytes[end..].iter().any(|b| !b.is_ascii_whitespace()))
}

fn json_lines(bytes: &[u8]) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut offset = 0usize;
    for (index, raw_line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_offset = offset;
        offset += raw_line.len() + 1;
        if raw_line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = std::str::from_utf8(raw_line)
            .map(|t| t.trim().trim_start_matches('\u{feff}'))
            .map_err(|_| "the line is not UTF-8 text".to_string());
        pieces.push(Piece {
            line: index as u64 + 1,
            offset: line_offset as u64,
            text,
        });
    }
    pieces
}

/// The 1-based line of a byte offset.
pub fn line_of(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

/// Finds the line of parts of one text, walking forward so that a file is counted once.
pub struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    /// Starts at the top of `text`.
    pub fn new(text: &'a str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line and offset of `part`, a slice of the text at or after the last one asked.
    pub fn locate(&mut self, part: &str) -> (u64, u64) {
        let at = (part.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let at = at.min(self.text.len());
        if at < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.text.as_bytes()[self.offset..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.offset = at;
        (self.line, at as u64)
    }

    /// A piece for `part`.
    pub fn piece(&mut self, part: &'a str) -> Piece<'a> {
        let (line, offset) = self.locate(part);
        Piece {
            line,
            offset,
            text: Ok(part),
        }
    }
}

/// A JSON object whose fields stay raw text until read.
#[derive(Debug, Default)]
pub struct Object<'a> {
    fields: BTreeMap<String, &'a RawValue>,
}

impl<'a> Object<'a> {
    /// Parses an object.
    pub fn parse(text: &'a str) -> Result<Object<'a>, String> {
        serde_json::from_str(text)
            .map(|fields| Object { fields })
            .map_err(|error| format!("not a JSON object: {error}"))
    }

    /// A field's raw text; `None` when absent or `null`.
    pub fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.fields
            .get(key)
            .copied()
            .filter(|raw| raw.get().trim() != "null")
    }

    /// The field names, in sorted order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// Whether the object has the field (even as `null`).
    pub fn has(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// A text field; numbers are taken as their text (ids are sometimes numbers).
    pub fn text(&self, key: &str) -> Result<Option<String>, String> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        let value = raw.get().trim();
        if value.starts_with('"') {
            let text: String = serde_json::from_str(value)
                .map_err(|e| format!("field '{key}': not a JSON string: {e}"))?;
            Ok((!text.trim().is_empty()).then(|| text.trim().to_string()))
        } else if value.starts_with(['{', '[']) {
            Err(format!("field '{key}': expected text, found {value}"))
        } else {
            Ok(Some(value.to_string()))
        }
    }

    /// A token count: a whole number, `0` when absent; negative or fractional counts are
    /// refused rather than rounded.
    pub fn tokens(&self, key: &str) -> Result<u64, String> {
        let Some(raw) = self.raw(key) else {
            return Ok(0);
        };
        let value = raw.get().trim().trim_matches('"');
        parse_tokens(value).map_err(|e| format!("field '{key}': {e}"))
    }

    /// An amount, parsed from the number's text (or a string holding one).
    pub fn money(&self, key: &str) -> Result<Option<Decimal>, String> {
        let Some(raw) = self.raw(key) else {
            return Ok(None);
        };
        let value = raw.get().trim().trim_matches('"');
        if value.is_empty() {
            return Ok(None);
        }
        parse_decimal(value)
            .map(Some)
            .map_err(|_| format!("field '{key}': '{value}' is not a decimal amount"))
    }

    /// A nested object, `None` when absent.
    pub fn object(&self, key: &str) -> Result<Option<Object<'a>>, String> {
        match self.raw(key) {
            None => Ok(None),
            Some(raw) => Object::parse(raw.get())
                .map(Some)
                .map_err(|e| format!("field '{key}': {e}")),
        }
    }

    /// A nested array's elements, empty when absent.
    pub fn array(&self, key: &str) -> Result<Vec<&'a RawValue>, String> {
        match self.raw(key) {
            None => Ok(Vec::new()),
            Some(raw) => serde_json::from_str(raw.get())
                .map_err(|e| format!("field '{key}': expected a JSON array: {e}")),
        }
    }

    /// A boolean field, `None` when absent.
    pub fn flag(&self, key: &str) -> Result<Option<bool>, String> {
        match self.raw(key) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw.get())
                .map(Some)
                .map_err(|_| format!("field '{key}': expected true or false")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_documents_and_lines_keep_their_line_numbers() {
        let array = b"[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n";
        let lines: Vec<u64> = pieces(array, "x").unwrap().iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3]);

        let jsonl = b"{\"a\": 1}\n\n{\"a\": \xff}\n{\"a\": 3}";
        let found = pieces(jsonl, "x").unwrap();
        assert_eq!(found.iter().map(|p| p.line).collect::<Vec<_>>(), [1, 3, 4]);
        assert!(
            found[1].text.is_err(),
            "a line that is not UTF-8 is that row's problem"
        );

        let document = b"{\n  \"data\": []\n}";
        assert_eq!(pieces(document, "x").unwrap().len(), 1);
    }

    #[test]
    fn a_truncated_document_names_its_line() {
        let error = pieces(b"[\n {\"a\": 1},\n {\"a\": ", "logs.json").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert!(error.message.contains("not a complete JSON document"));
    }

    #[test]
    fn fields_are_read_exactly() {
        let object = Object::parse(
            r#"{"spend": 0.000123456789012345678, "n": 12, "neg": -3, "s": "7", "none": null}"#,
        )
        .unwrap();
        assert_eq!(
            object.money("spend").unwrap().unwrap().to_string(),
            "0.000123456789012345678"
        );
        assert_eq!(object.tokens("n"), Ok(12));
        assert_eq!(object.tokens("s"), Ok(7));
        assert_eq!(object.tokens("none"), Ok(0));
        assert!(object.tokens("neg").unwrap_err().contains("negative"));
    }
}
