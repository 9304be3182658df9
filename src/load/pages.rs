//! The page shape of the providers' admin APIs: a page holds `data`, a list of time buckets,
//! and each bucket holds `results`. A file may hold one page, a JSON array of pages, or one
//! page per line. Each result is one row, with the line where it starts.

use super::json::{self, LineCounter, Object};
use super::{Dataset, Input, LoadError};
use crate::calc::bucket::SourceId;

/// One result of a bucket, with where it is.
pub struct Result<'a> {
    /// Line where the result starts.
    pub line: u64,
    /// Byte offset of the result.
    pub offset: u64,
    /// The bucket it belongs to (its bounds).
    pub bucket: &'a Object<'a>,
    /// The result's own fields.
    pub fields: Object<'a>,
}

/// Reads every result of every page, handing each to `take`, which returns the row's fate
/// itself (accepted, invoice line or rejected).
pub fn read(
    dataset: &mut Dataset,
    input: Input<'_>,
    format: &str,
    mut take: impl FnMut(&mut Dataset, SourceId, &Result<'_>),
) -> std::result::Result<(), LoadError> {
    let name = input.name.clone();
    let content = json::read_all(input)?;
    let pieces = json::pieces(&content.bytes, &name)?;
    let source = dataset.begin_source(&name, format);
    for piece in pieces {
        let text = match piece.text {
            Ok(text) => text,
            Err(reason) => {
                dataset.reject(source, piece.line, reason);
                continue;
            }
        };
        if let Err(reason) = read_page(dataset, source, text, piece.line, piece.offset, &mut take) {
            dataset.reject(source, piece.line, reason);
        }
    }
    dataset.finish_source(source, content.size, content.sha256);
    Ok(())
}

/// Reads pages whose results are usage records: each parsed by `parse`, accepted or rejected.
pub fn read_usage(
    dataset: &mut Dataset,
    input: Input<'_>,
    format: &str,
    parse: impl Fn(&Result<'_>) -> std::result::Result<super::UsageRecord, String>,
) -> std::result::Result<(), LoadError> {
    read(
        dataset,
        input,
        format,
        |dataset, source, result| match parse(result) {
            Ok(record) => dataset.accept(source, record),
            Err(reason) => dataset.reject(source, result.line, reason),
        },
    )
}

/// Reads pages whose results are costs: each parsed by `parse` into an invoice line, taken
/// or rejected.
pub fn read_costs(
    dataset: &mut Dataset,
    input: Input<'_>,
    format: &str,
    parse: impl Fn(&Result<'_>) -> std::result::Result<super::InvoiceLine, String>,
) -> std::result::Result<(), LoadError> {
    read(
        dataset,
        input,
        format,
        |dataset, source, result| match parse(result) {
            Ok(line) => dataset.accept_invoice_line(source, line),
            Err(reason) => dataset.reject(source, result.line, reason),
        },
    )
}

/// Reads one page (or one bucket standing alone).
fn read_page(
    dataset: &mut Dataset,
    source: SourceId,
    text: &str,
    first_line: u64,
    first_offset: u64,
    take: &mut impl FnMut(&mut Dataset, SourceId, &Result<'_>),
) -> std::result::Result<(), String> {
    let page = Object::parse(text)?;
    let buckets = if page.has("results") {
        vec![text]
    } else if page.has("data") {
        page.array("data")?
            .into_iter()
            .map(|raw| raw.get())
            .collect()
    } else {
        return Err("expected a page with 'data' or a bucket with 'results'".into());
    };
    let mut lines = LineCounter::new(text);
    for bucket_text in buckets {
        let bucket = Object::parse(bucket_text)?;
        for raw in bucket.array("results")? {
            let (line, offset) = lines.locate(raw.get());
            let (line, offset) = (first_line + line - 1, first_offset + offset);
            match Object::parse(raw.get()) {
                Ok(fields) => take(
                    dataset,
                    source,
                    &Result {
                        line,
                        offset,
                        bucket: &bucket,
                        fields,
                    },
                ),
                Err(reason) => dataset.reject(source, line, reason),
            }
        }
    }
    Ok(())
}
