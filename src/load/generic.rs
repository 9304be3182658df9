//! The generic CSV format, read through the column map of the source's configuration.
//!
//! Token semantics: `cached_input_tokens` is taken as part of `input_tokens` when
//! `cached_included_in_input` is true (the default, as gateways report it), and is subtracted
//! from the input so that each kind is priced once; otherwise both are separate quantities.
//! Cache-write tokens are always separate. Reasoning tokens belong in the output column.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use chrono_tz::Tz;
use csv::ByteRecord;
use rust_decimal::Decimal;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use super::chunks::{Chunk, Fields, Splitter, each_field, each_record, each_row};
use super::parallel::{self, Part};
use super::requests::{Wanted, request_key};
use super::timestamp::TimestampReader;
use super::{Caller, Dataset, Input, LoadError, Tokens, UsageRecord, Window};
use crate::calc::bucket::{BucketKey, CallerId, Figures, LocalClock, SourceId};
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
        let missing = |what: &str, wanted: &str| {
            LoadError::new(
                file,
                Some(1),
                format!(
                    "missing column '{wanted}' ({what}); the header has: {}. Set the column map \
                     for this file in the configuration's [[sources]], or pass --input-format when \
                     it is another export's format",
                    describe_header(&names)
                ),
            )
        };
        let timestamp = index
            .get(&normalize(&map.timestamp))
            .copied()
            .ok_or_else(|| missing("the time of each call", &map.timestamp))?;

        // A column left at its default name is optional; one the configuration names must be
        // in the file, or its figures would silently read as empty.
        let find = |wanted: &Option<String>, key: &str, what: &str| {
            let Some(name) = wanted else {
                return Ok(None);
            };
            match index.get(&normalize(name)).copied() {
                Some(at) => Ok(Some(at)),
                None if !map.written.contains(key) => Ok(None),
                None => Err(missing(
                    &format!("{what}, as configured by columns.{key} in [[sources]]"),
                    name,
                )),
            }
        };

        let columns = Columns {
            timestamp,
            request_id: find(&map.request_id, "request_id", "the request id")?,
            api_key: find(&map.api_key, "api_key", "the API key")?,
            user: find(&map.user, "user", "the user")?,
            project: find(&map.project, "project", "the project")?,
            team: find(&map.team, "team", "the team")?,
            tags: find(&map.tags, "tags", "the tags")?,
            model: find(&map.model, "model", "the model")?,
            input: find(&map.input_tokens, "input_tokens", "input tokens")?,
            cached_input: find(
                &map.cached_input_tokens,
                "cached_input_tokens",
                "cached input tokens",
            )?,
            cache_write: find(
                &map.cache_write_tokens,
                "cache_write_tokens",
                "cache-write tokens",
            )?,
            output: find(&map.output_tokens, "output_tokens", "output tokens")?,
            cost: find(&map.cost, "cost", "the provider's cost")?,
            currency: find(&map.currency, "currency", "the currency")?,
            status: find(&map.status, "status", "the status")?,
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

    /// Every column apportion reads.
    fn read(&self) -> [Option<usize>; 15] {
        [
            Some(self.timestamp),
            self.request_id,
            self.api_key,
            self.user,
            self.project,
            self.team,
            self.tags,
            self.model,
            self.input,
            self.cached_input,
            self.cache_write,
            self.output,
            self.cost,
            self.currency,
            self.status,
        ]
    }
}

fn describe_header(names: &[String]) -> String {
    const SHOWN: usize = 40;
    let shown: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("'{}'", n.replace('\u{feff}', "")))
        .collect();
    if shown.is_empty() {
        "no columns".to_string()
    } else if names.len() > SHOWN {
        format!("{} and {} more", shown.join(", "), names.len() - SHOWN)
    } else {
        shown.join(", ")
    }
}

/// The size of the chunks a file is cut into for the worker threads.
pub(super) const CHUNK_BYTES: usize = 4 << 20;

/// Reads one generic CSV input into the dataset: on every core, or row by row when records
/// are to be captured (to show the rows behind a figure), where order matters more than speed.
pub fn read(dataset: &mut Dataset, spec: &SourceSpec, input: Input<'_>) -> Result<(), LoadError> {
    if dataset.capture.is_some() {
        read_in_order(dataset, spec, input)
    } else {
        let chunk_bytes = dataset.chunk_bytes;
        read_in_chunks(dataset, spec, input, chunk_bytes)
    }
}

/// Reads an input row by row on this thread.
pub fn read_in_order(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    input: Input<'_>,
) -> Result<(), LoadError> {
    let name = input.name.clone();
    let unreadable =
        |error: std::io::Error| LoadError::new(&name, None, format!("cannot read: {error}"));
    let (mut splitter, header, first) =
        Splitter::start_hashing(input.reader, CHUNK_BYTES, dataset.hashing).map_err(unreadable)?;
    let columns = Columns::locate(&header, &spec.columns, &name)?;
    let source = dataset.begin_source(&name, NAME);
    let rows = RowReader::new(&columns, spec);

    splitter
        .for_each_chunk(first, |chunk| rows.take_chunk(dataset, source, chunk))
        .map_err(unreadable)?;

    let (size, sha256) = splitter.finish().map_err(unreadable)?;
    dataset.finish_source(source, size, sha256);
    Ok(())
}

/// Reads an input in chunks of about `chunk_bytes`, folded on worker threads. The result is
/// the same as [`read_in_order`] gives, row for row.
pub fn read_in_chunks(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    input: Input<'_>,
    chunk_bytes: usize,
) -> Result<(), LoadError> {
    let name = input.name.clone();
    let unreadable =
        |error: std::io::Error| LoadError::new(&name, None, format!("cannot read: {error}"));
    let (mut splitter, header, first) =
        Splitter::start_hashing(input.reader, chunk_bytes, dataset.hashing).map_err(unreadable)?;
    let columns = Columns::locate(&header, &spec.columns, &name)?;
    let source = dataset.begin_source(&name, NAME);
    let rows = RowReader::new(&columns, spec);
    let window = dataset.window.clone();
    let wanted = dataset
        .probe
        .as_ref()
        .map(|probe| Arc::clone(&probe.wanted));

    let readers = parallel::ChunkReaders {
        fold: |chunk: &Chunk| rows.fold_chunk(&window, source, chunk, wanted.as_deref()),
        in_order: |dataset: &mut Dataset, chunk: &Chunk| rows.take_chunk(dataset, source, chunk),
        reread: |chunk: &Chunk, offsets: &[u64]| rows.reread(chunk, offsets),
    };
    parallel::read_chunks(dataset, source, first, &mut splitter, readers).map_err(unreadable)?;
    if dataset.probe.is_some() {
        // A second reading may stop early and needs no size or hash.
        return Ok(());
    }

    let (size, sha256) = splitter.finish().map_err(unreadable)?;
    dataset.finish_source(source, size, sha256);
    Ok(())
}

/// A row's fields, checked but not copied.
struct View<'r> {
    timestamp: DateTime<Utc>,
    request_id: Option<&'r str>,
    caller: [Option<&'r str>; 5],
    model: &'r str,
    tokens: Tokens,
    provider_cost: Option<Decimal>,
    currency: Option<&'r str>,
    success: bool,
}

/// Turns rows of one file into records.
struct RowReader<'a> {
    columns: &'a Columns,
    spec: &'a SourceSpec,
    zone: Tz,
}

impl<'a> RowReader<'a> {
    fn new(columns: &'a Columns, spec: &'a SourceSpec) -> RowReader<'a> {
        let zone: Tz = spec
            .time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(Tz::UTC);
        RowReader {
            columns,
            spec,
            zone,
        }
    }

    /// Takes one row, which begins at `place` (line and byte offset), into the dataset.
    fn take(&self, dataset: &mut Dataset, source: SourceId, row: &ByteRecord, place: (u64, u64)) {
        let (line, offset) = place;
        if row.is_blank() {
            dataset.reject(source, line, "empty row");
            return;
        }
        match self.parse(row, line, offset) {
            Ok(record) => dataset.accept(source, record),
            Err(reason) => dataset.reject(source, line, reason),
        }
    }

    /// Takes every row of a chunk into the dataset, in order.
    fn take_chunk(&self, dataset: &mut Dataset, source: SourceId, chunk: &Chunk) {
        each_record(chunk, |record, place| match record {
            Ok(record) => self.take(dataset, source, record, place),
            Err(reason) => dataset.reject(source, place.0, reason),
        });
    }

    /// The records that begin at `offsets` (in order) of a chunk, with the keys of their
    /// request ids: rows a part folded in that must be held.
    fn reread(&self, chunk: &Chunk, offsets: &[u64]) -> Vec<(u128, UsageRecord)> {
        let mut records = Vec::with_capacity(offsets.len());
        let mut wanted = offsets.iter().peekable();
        each_record(chunk, |record, (line, offset)| {
            if wanted.next_if_eq(&&offset).is_none() {
                return;
            }
            let Ok(record) = record else { return };
            if let Ok(record) = self.parse(record, line, offset) {
                if let Some(key) = record.request_id.as_deref().map(request_key) {
                    records.push((key, record));
                }
            }
        });
        records
    }

    /// Folds every row of a chunk into a part of its own (on a worker thread). On a second
    /// reading (`wanted` set) only the rows with a wanted request id are looked at.
    fn fold_chunk(
        &self,
        window: &Window,
        source: SourceId,
        chunk: &Chunk,
        wanted: Option<&Wanted>,
    ) -> Part {
        let mut only = match wanted {
            None => None,
            Some(wanted) => match self.offsets_with(chunk, wanted) {
                Ok(offsets) if offsets.is_empty() => return Part::default(),
                Ok(offsets) => Some(offsets.into_iter().peekable()),
                Err(()) => {
                    return Part {
                        unreadable: true,
                        ..Part::default()
                    };
                }
            },
        };
        let mut folder = Folder {
            part: Part::default(),
            callers: FxHashMap::default(),
            key: Vec::new(),
            times: TimestampReader::new(),
            clock: LocalClock::new(window.zone),
        };
        each_row(chunk, |row, (line, offset)| {
            if let Some(only) = &mut only {
                if only.next_if_eq(&offset).is_none() {
                    return;
                }
            }
            let Ok(row) = row else {
                folder.part.unreadable = true;
                return;
            };
            if row.is_blank() {
                folder.part.reject(line, "empty row");
                return;
            }
            if let Err(reason) = self.fold_row(window, &row, (line, offset), &mut folder) {
                folder.part.reject(line, reason);
            }
        });
        folder.part.buckets.count_rows_and_pairs(source);
        folder.part
    }

    /// Where the chunk's rows whose request id is one of `wanted` begin (byte offsets: rows
    /// that carriage returns alone end share a line), found without reading the rest of each
    /// row; `Err` when the chunk cannot be read as CSV.
    fn offsets_with(&self, chunk: &Chunk, wanted: &Wanted) -> Result<Vec<u64>, ()> {
        let Some(index) = self.columns.request_id else {
            return Ok(Vec::new());
        };
        let mut offsets = Vec::new();
        let mut readable = true;
        each_field(chunk, index, |field, (_, offset)| match field {
            Ok(Some(id)) => {
                let id = trim(id);
                if !id.is_empty() && wanted.contains(&request_key(id)) {
                    offsets.push(offset);
                }
            }
            Ok(None) => {}
            Err(_) => readable = false,
        });
        readable.then_some(offsets).ok_or(())
    }

    /// Checks one row as [`Dataset::accept`] does and folds it into the part.
    fn fold_row(
        &self,
        window: &Window,
        row: &impl Fields,
        (line, offset): (u64, u64),
        folder: &mut Folder,
    ) -> Result<(), String> {
        let view = self.view(row, &mut folder.times)?;
        let (hour, day) = folder.clock.local(view.timestamp);
        window.admit_day(view.timestamp, day)?;
        super::check_plausible(&view.tokens, 1)?;
        let provider_cost = match (view.currency, view.provider_cost) {
            (Some(currency), Some(amount)) => {
                let (amount, rate) = window.convert(amount, currency)?;
                if let Some(code) = rate {
                    *folder.part.rates.entry(code).or_default() += 1;
                }
                Some(amount)
            }
            (_, amount) => amount,
        };
        if let Some(id) = view.request_id {
            folder
                .part
                .request_keys
                .push((request_key(id), line, offset));
        }

        let caller = folder.caller_id(&view.caller, || self.caller_of(&view.caller));
        let part = &mut folder.part;
        let model = part.buckets.model_id(view.model);
        let figures = Figures {
            calls: 1,
            tokens: view.tokens,
            provider_cost,
            success: view.success,
        };
        part.buckets.add_to_sums(
            BucketKey {
                caller,
                model,
                hour,
            },
            &figures,
        );
        part.accepted += 1;
        part.last_timestamp = part.last_timestamp.max(Some(view.timestamp));
        Ok(())
    }

    fn parse(&self, row: &ByteRecord, line: u64, offset: u64) -> Result<UsageRecord, String> {
        let view = self.view(row, &mut TimestampReader::new())?;
        Ok(UsageRecord {
            line,
            offset,
            timestamp: view.timestamp,
            request_id: view.request_id.map(str::to_string),
            caller: self.caller_of(&view.caller),
            model: view.model.to_string(),
            tokens: view.tokens,
            calls: 1,
            provider_cost: view.provider_cost,
            currency: view.currency.map(|s| s.to_ascii_uppercase()),
            success: view.success,
        })
    }

    /// The fields of a row, checked; `times` reads its timestamp, remembering the date of the
    /// row before.
    fn view<'r>(
        &'r self,
        row: &'r impl Fields,
        times: &mut TimestampReader,
    ) -> Result<View<'r>, String> {
        let c = self.columns;
        if row.has_line_breaks() {
            no_line_breaks(row, c)?;
        }
        if row.field_count() != c.width {
            return Err(format!(
                "expected {} fields as in the header, found {}",
                c.width,
                row.field_count()
            ));
        }
        let timestamp = times
            .parse(text(row, c.timestamp, c)?, self.zone)
            .map_err(|e| format!("column '{}': {e}", c.name(c.timestamp)))?;
        let model = match optional(row, c.model, c)? {
            Some(model) => model,
            None => self.spec.columns.default_model.as_deref().ok_or_else(|| {
                format!(
                    "column '{}' is empty: expected a model name",
                    c.name(c.model.unwrap_or(0))
                )
            })?,
        };
        let request_id = optional(row, c.request_id, c)?;
        let caller = [
            optional(row, c.api_key, c)?,
            optional(row, c.user, c)?,
            optional(row, c.project, c)?,
            optional(row, c.team, c)?,
            optional(row, c.tags, c)?,
        ];

        Ok(View {
            timestamp,
            request_id,
            caller,
            model,
            tokens: self.tokens(row)?,
            provider_cost: self.cost(row)?,
            currency: optional(row, c.currency, c)?,
            success: self.success(row)?,
        })
    }

    fn caller_of(&self, fields: &[Option<&str>; 5]) -> Caller {
        let [api_key, user, project, team, tags] = fields;
        let owned = |v: &Option<&str>| v.map(str::to_string);
        Caller {
            api_key: owned(api_key),
            user: owned(user),
            project: owned(project),
            team: owned(team),
            tags: tags.map(split_tags).unwrap_or_default(),
            fallback_department: self.spec.default_department.clone(),
        }
    }

    fn tokens(&self, row: &impl Fields) -> Result<Tokens, String> {
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

    fn cost(&self, row: &impl Fields) -> Result<Option<Decimal>, String> {
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

    fn success(&self, row: &impl Fields) -> Result<bool, String> {
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

/// What a worker keeps while folding one chunk.
struct Folder {
    part: Part,
    callers: FxHashMap<Vec<u8>, CallerId>,
    key: Vec<u8>,
    times: TimestampReader,
    clock: LocalClock,
}

impl Folder {
    /// The id of the caller whose fields these are, building the caller only the first time
    /// its fields are met: most rows repeat a caller seen a moment before.
    fn caller_id(
        &mut self,
        fields: &[Option<&str>; 5],
        build: impl FnOnce() -> Caller,
    ) -> CallerId {
        self.key.clear();
        for field in fields {
            match field {
                None => self.key.push(0),
                Some(text) => {
                    self.key.push(1);
                    self.key
                        .extend_from_slice(&(text.len() as u32).to_le_bytes());
                    self.key.extend_from_slice(text.as_bytes());
                }
            }
        }
        if let Some(&id) = self.callers.get(self.key.as_slice()) {
            return id;
        }
        let id = self.part.buckets.caller_id(&build());
        self.callers.insert(self.key.clone(), id);
        id
    }
}

/// Refuses a row in which a column apportion reads holds a line break. No timestamp, count,
/// amount, status or name of a model, key, user, project, team or tag has one; a quote that
/// is never closed, or closed lines later, does: the lines after it are read into the field
/// as text, and their calls would vanish inside this row. The reason says how many lines
/// went, so that the conservation line, which counts rows, can be traced to the file's lines.
/// A column apportion does not read (a prompt, a note) may hold line breaks.
fn no_line_breaks(row: &impl Fields, c: &Columns) -> Result<(), String> {
    let breaks = |index: usize| {
        let text = row.text(index).unwrap_or_default().as_bytes();
        let feeds = memchr::memchr_iter(b'\n', text).count();
        feeds.max(usize::from(memchr::memchr(b'\r', text).is_some()))
    };
    let Some(index) = c.read().into_iter().flatten().find(|&i| breaks(i) > 0) else {
        return Ok(());
    };
    // A quote left open on the last line takes in only the file's final line break.
    let last = row
        .text(row.field_count().saturating_sub(1))
        .unwrap_or_default();
    let at_end = usize::from(last.ends_with('\n'));
    let swallowed = (0..row.field_count()).map(breaks).sum::<usize>() - at_end;
    let what = match swallowed {
        0 => "the file ends inside the quote".to_string(),
        n => format!("the {n} line(s) after it were read into the row as text and are not settled"),
    };
    Err(format!(
        "column '{}' holds a line break: a quote in this row is not closed where its field \
         ends, so {what}; expected one line per call",
        c.name(index)
    ))
}

/// The text of a required field.
fn text<'r>(row: &'r impl Fields, index: usize, c: &Columns) -> Result<&'r str, String> {
    row.text(index)
        .map(trim)
        .map_err(|_| format!("column '{}' is not valid UTF-8 text", c.name(index)))
}

/// The text of an optional field; `None` for a missing column or an empty value.
fn optional<'r>(
    row: &'r impl Fields,
    index: Option<usize>,
    c: &Columns,
) -> Result<Option<&'r str>, String> {
    match index {
        None => Ok(None),
        Some(i) => text(row, i, c).map(|t| (!t.is_empty()).then_some(t)),
    }
}

/// A field without white space around it. Most fields have none, and two byte checks say so
/// faster than `str::trim`, which looks for every kind of Unicode space.
fn trim(text: &str) -> &str {
    let plain = |byte: Option<&u8>| byte.is_none_or(|b| (b'!'..=b'~').contains(b));
    let bytes = text.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

/// Parses a token count. Exports sometimes write counts as `120.0`; a whole number with a zero
/// fraction is accepted, anything else is refused rather than rounded.
pub fn parse_tokens(value: &str) -> Result<u64, String> {
    if let Some(n) = short_count(value) {
        return Ok(n);
    }
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

/// A count of at most twelve digits, read without the overflow checks that longer numbers
/// need: nearly every token count is one. `None` for anything else.
fn short_count(value: &str) -> Option<u64> {
    let digits = value.as_bytes();
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    digits.iter().try_fold(0u64, |count, &digit| {
        digit
            .is_ascii_digit()
            .then(|| count * 10 + u64::from(digit - b'0'))
    })
}

/// Reads a status: `Some(true)` for success, `Some(false)` for a failed call.
pub fn parse_status(status: &str) -> Option<bool> {
    // Most logs spell every status the same way in lower case: no copy for those.
    match status {
        "success" | "ok" | "200" => return Some(true),
        "error" | "failure" | "failed" => return Some(false),
        _ => {}
    }
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
    fn trimming_matches_the_standard_trim() {
        for text in [
            "",
            "a",
            " a",
            "a ",
            "\u{b}a",
            "a\u{a0}",
            "\u{3000}x",
            "é",
            "a b",
            "\t1\r",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn a_configured_column_missing_from_the_header_is_an_error() {
        let header = ByteRecord::from(vec!["timestamp", "model", "prompt_tokens", "output_tokens"]);
        for configured in ["input_tokens", "in_tok"] {
            let text = format!("pattern = \"*.csv\"\n[columns]\ninput_tokens = \"{configured}\"\n");
            let spec: SourceSpec = toml::from_str(&text).unwrap();
            let error = Columns::locate(&header, &spec.columns, "usage.csv").unwrap_err();
            assert_eq!(error.line, Some(1));
            let message = error.to_string();
            assert!(message.starts_with("usage.csv:1: "), "{message}");
            assert!(message.contains(&format!("'{configured}'")), "{message}");
            assert!(message.contains("columns.input_tokens"), "{message}");
            assert!(
                message.contains("'timestamp', 'model', 'prompt_tokens', 'output_tokens'"),
                "{message}"
            );
        }
        // Columns left at their defaults stay optional.
        let columns = Columns::locate(&header, &ColumnMap::default(), "usage.csv").unwrap();
        assert_eq!((columns.input, columns.output), (None, Some(3)));
    }

    #[test]
    fn token_counts() {
        assert_eq!(parse_tokens("120"), Ok(120));
        assert_eq!(parse_tokens("120.0"), Ok(120));
        assert!(parse_tokens("12.5").unwrap_err().contains("whole number"));
        assert!(parse_tokens("-5").unwrap_err().contains("negative"));
        assert!(parse_tokens("abc").unwrap_err().contains("'abc'"));
    }

    proptest::proptest! {
        /// Short counts read digit by digit come out as the standard parser reads them, and
        /// whatever it refuses is left to it.
        #[test]
        fn short_counts_read_as_the_standard_parser_reads_them(value in "[0-9+.-]{0,22}") {
            match short_count(&value) {
                Some(count) => proptest::prop_assert_eq!(value.parse::<u64>(), Ok(count)),
                None => proptest::prop_assert!(
                    value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) || value.is_empty()
                ),
            }
        }
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

    /// What a reading produced, in a form that compares as a whole.
    fn outcome(dataset: &Dataset) -> String {
        let mut sums: Vec<_> = dataset.buckets.sums.iter().collect();
        sums.sort_by_key(|(key, _)| *key);
        let mut by_source: Vec<_> = dataset.buckets.rows_by_source.iter().collect();
        by_source.sort();
        let mut pairs: Vec<_> = dataset.buckets.pairs.iter().collect();
        pairs.sort();
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            dataset.sources,
            dataset.rejects,
            dataset.buckets.callers,
            dataset.buckets.models,
            sums,
            by_source,
            pairs,
            dataset.last_timestamp,
            dataset.rates_used
        )
    }

    fn read_both(text: &[u8], chunk_bytes: usize) -> (String, String) {
        let settings = crate::sample::settings().unwrap();
        let spec = super::super::spec_for(&settings, "gateway-2026-11.csv");

        let again = || {
            vec![super::super::duplicates::Reading {
                name: "g.csv".into(),
                spec: spec.clone(),
                format: None,
                reopen: Input::from_bytes("g.csv", text).reopen,
            }]
        };
        let mut in_order = Dataset::new(&settings);
        read_in_order(&mut in_order, &spec, Input::from_bytes("g.csv", text)).unwrap();
        in_order.settle_duplicates(&settings, again()).unwrap();
        let mut chunked = Dataset::new(&settings);
        read_in_chunks(
            &mut chunked,
            &spec,
            Input::from_bytes("g.csv", text),
            chunk_bytes,
        )
        .unwrap();
        chunked.settle_duplicates(&settings, again()).unwrap();
        (outcome(&in_order), outcome(&chunked))
    }

    #[test]
    fn the_sample_month_reads_the_same_in_chunks() {
        let (in_order, chunked) = read_both(crate::sample::LOGS, 64 * 1024);
        assert_eq!(in_order, chunked);
        assert!(
            in_order.contains("duplicate of request"),
            "the sample has duplicates"
        );
    }

    /// In a file whose lines end in carriage returns alone, every row is on a line of its
    /// own, and a repeated request id is rejected as in any other file.
    #[test]
    fn rows_ended_by_carriage_returns_alone_are_placed_and_settled() {
        let text = [HEADER, ROWS[0], ROWS[5], ROWS[3], ROWS[10]].concat();
        let text = text.replace('\n', "\r");
        for chunk_bytes in [1, 64, CHUNK_BYTES] {
            let (in_order, chunked) = read_both(text.as_bytes(), chunk_bytes);
            assert_eq!(in_order, chunked);
            assert!(
                in_order.contains(
                    "Reject { source: 0, line: 4, reason: \"duplicate of request 'req_1' first \
                     seen at g.csv:2\" }"
                ),
                "{in_order}"
            );
            assert!(in_order.contains("rows_read: 4, accepted: 2, rejected: 2"));
            assert!(in_order.contains("Reject { source: 0, line: 3, reason: \"column"));
        }
    }

    /// A quote opened in a name and closed only by a quoted field rows later swallows the
    /// rows between, which come out as one row of the right width: it is rejected where it
    /// starts, saying why, instead of settling the first row's call with the last row's
    /// figures while the calls between vanish.
    #[test]
    fn a_quote_closed_rows_later_is_rejected_where_it_opens() {
        let opened = ROWS[0].replace(",ana,", ",\"ana,");
        let closing = ROWS[3].replace(",ana,", ",ana\",");
        let text = [
            HEADER, ROWS[0], &opened, ROWS[9], ROWS[12], &closing, ROWS[11],
        ]
        .concat();
        for chunk_bytes in [1, 64, CHUNK_BYTES] {
            let (in_order, chunked) = read_both(text.as_bytes(), chunk_bytes);
            assert_eq!(in_order, chunked);
            assert!(
                in_order.contains(
                    "Reject { source: 0, line: 3, reason: \"column 'user' holds a line break: a quote in this row is not closed where its field ends, so the 3 line(s)"
                ),
                "{in_order}"
            );
            assert!(
                in_order.contains("rows_read: 3, accepted: 2, rejected: 1"),
                "{in_order}"
            );
        }
    }

    /// A quote never closed takes every line after it into its row, whatever column it
    /// opens in: the row is rejected saying how many lines went, so that the lines of the
    /// file can be traced although the conservation line counts rows.
    #[test]
    fn a_quote_never_closed_names_the_lines_it_took() {
        let opened = ROWS[0].replace(",env:prod,", ",\"env:prod,");
        let text = [HEADER, ROWS[0], &opened, ROWS[9], ROWS[12], ROWS[11]].concat();
        for chunk_bytes in [1, 64, CHUNK_BYTES] {
            let (in_order, chunked) = read_both(text.as_bytes(), chunk_bytes);
            assert_eq!(in_order, chunked);
            assert!(
                in_order.contains(
                    "column 'tags' holds a line break: a quote in this row is not closed where \
                     its field ends, so the 3 line(s) after it were read into the row as text"
                ),
                "{in_order}"
            );
            assert!(in_order.contains("rows_read: 2, accepted: 1, rejected: 1"));
        }
    }

    /// Rows of every kind a chunk boundary could fall between or inside.
    const ROWS: [&str; 16] = [
        "req_1,2026-11-03T10:00:00Z,sk-mkt-4c739aa333a2,ana,growth,p,env:prod,gpt-4o-mini,100,20,0,50,0.01,USD,success\n",
        "req_2,2026-11-03T10:20:00Z,sk-res-45e936947375,kofi,research,p,\"a,b\",gpt-4o,10,0,0,5,,,success\r\n",
        "req_3,2026-11-04T23:30:00Z,sk-eng-000000000001,\"li\nmei\",eng,p,,gpt-4o,1,0,0,1,0.5,EUR,200\n",
        "req_1,2026-11-05T10:00:00Z,sk-mkt-4c739aa333a2,ana,growth,p,,gpt-4o-mini,1,0,0,1,,,success\n",
        "req_4,2026-12-05T10:00:00Z,sk-mkt-4c739aa333a2,ana,growth,p,,gpt-4o-mini,1,0,0,1,,,success\n",
        "req_5,2026-11-06T10:00:00Z,sk-mkt-4c739aa333a2,ana,growth,p,,gpt-4o-mini,1.5,0,0,1,,,success\n",
        "req_6,2026-11-06T10:00:00Z,sk-mkt-4c739aa333a2,ana,growth\n",
        "\n",
        " , , , , , , , , , , , , , , \n",
        ",2026-11-07T10:00:00Z,,,,,,gpt-4o,3,0,0,3,,,error\n",
        "req_7,2026-11-07T11:00:00Z,sk-ab\"c,bo,x,p,,gpt-4o,3,0,0,3,,,success\n",
        "req_8,2026-11-07T12:00:00Z,sk-sal-1,\"say \"\"hi\"\"\",x,p,,claude-x,3,0,0,3,,,ok\n",
        "req_9,2026-11-07 13:00:00,sk-sal-1,bo,x,p,,gpt-4o,3,1,0,3,0.2,USD,maybe\n",
        "req_10,2026-10-31T23:30:00Z,sk-sal-1,bo,x,p,,gpt-4o,3,1,0,3,0.2,USD,success\n",
        "req_11,2026-11-08T09:00:00Z,sk-sal-1,zoë,x,p,a;b,gpt-4o,3,1,0,3,0.2,USD,ok\r\n",
        "req_12,2026-11-08T09:30:00Z,sk-sal-1,bo,x,p,,gpt-4o,3,1,0,3,0.2,USD,success,extra\n",
    ];

    const HEADER: &str = "request_id,timestamp,api_key,user,team,project,tags,model,input_tokens,cached_input_tokens,cache_write_tokens,output_tokens,cost,currency,status\n";

    proptest::proptest! {
        #[test]
        fn chunks_read_like_one_reader(
            picks in proptest::collection::vec(0..ROWS.len(), 0..60),
            chunk_bytes in 1usize..400,
        ) {
            let mut text = HEADER.to_string();
            for pick in picks {
                text.push_str(ROWS[pick]);
            }
            let (in_order, chunked) = read_both(text.as_bytes(), chunk_bytes);
            proptest::prop_assert_eq!(in_order, chunked);
        }
    }
}
