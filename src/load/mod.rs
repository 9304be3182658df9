//! Reading usage exports into buckets, one module per source format.
//!
//! Every row read ends in exactly one place: folded into a bucket (to be attributed or left
//! unattributed by the mapping) or rejected with its file, line and reason. [`Dataset`] keeps
//! the counts per source so that the conservation line can be shown and tested.

pub mod anthropic;
pub mod chunks;
pub mod claude_code;
mod csv_rows;
pub mod detect;
mod duplicates;
pub mod focus;
pub mod generic;
pub mod hashing;
mod invoice;
mod json;
pub mod ledger;
pub mod litellm;
pub mod openai;
mod pages;
mod parallel;
mod record;
pub mod requests;
pub mod timestamp;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use globset::Glob;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::calc::bucket::{Buckets, SourceId};
use crate::config::{Settings, SourceSpec};
use requests::{RequestFilter, Suspect, request_key};

pub use detect::Format;
pub use duplicates::Reopen;
pub use hashing::Hashing;
pub use invoice::{InvoiceKind, InvoiceLine, RateUsed};
pub use record::{Caller, Tokens, UsageRecord, mask_key};

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// The source's index in [`Dataset::sources`].
    pub source: SourceId,
    /// The line where the row starts (1-based).
    pub line: u64,
    /// Why it was rejected and what was expected.
    pub reason: String,
}

/// What was read from one source.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceSummary {
    /// The file's name as given.
    pub name: String,
    /// The format it was read as.
    pub format: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its content, in hex; empty when the dataset was read with
    /// [`Hashing::SizeOnly`].
    pub sha256: String,
    /// Data rows read (the header not counted).
    pub rows_read: u64,
    /// Rows folded into buckets.
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Rows taken as lines of the invoice side (costs without tokens, taxes, credits).
    pub invoice_rows: u64,
    /// What the source bills for usage, when it is a bill or a cost report (FOCUS
    /// `BilledCost` of usage rows, the amounts of a cost report), in the settlement currency.
    pub billed_usage: Option<Decimal>,
    /// FOCUS `EffectiveCost` of the usage rows (after discounts and commitments), when given.
    pub effective_usage: Option<Decimal>,
}

/// A file that could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// The line, when the problem is on one.
    pub line: Option<u64>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl LoadError {
    /// An error about a whole file or one of its lines.
    pub fn new(path: impl Into<PathBuf>, line: Option<u64>, message: impl Into<String>) -> Self {
        LoadError {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

/// The period's bounds in UTC and the rules every record must meet, whatever its format.
#[derive(Debug, Clone)]
pub struct Window {
    /// The organization's zone.
    pub zone: Tz,
    /// First local day of the period.
    pub first_day: NaiveDate,
    /// Last local day of the period.
    pub last_day: NaiveDate,
    /// The settlement currency.
    pub currency: String,
    /// Configured rates from other currencies into the settlement currency.
    pub rates: BTreeMap<String, Decimal>,
}

impl Window {
    /// Checks what every record must meet whatever its format: a local day inside the
    /// period and plausible token counts.
    pub fn admit(
        &self,
        timestamp: DateTime<Utc>,
        tokens: &Tokens,
        calls: u64,
    ) -> Result<(), String> {
        let local_day = timestamp.with_timezone(&self.zone).date_naive();
        self.admit_day(timestamp, local_day)?;
        check_plausible(tokens, calls)
    }

    /// Refuses a call whose local day is outside the period.
    pub fn admit_day(&self, timestamp: DateTime<Utc>, local_day: NaiveDate) -> Result<(), String> {
        if local_day < self.first_day || local_day > self.last_day {
            return Err(format!(
                "the call at {} ({} local) is outside the period {} to {}",
                timestamp.format("%Y-%m-%dT%H:%M:%SZ"),
                local_day,
                self.first_day,
                self.last_day
            ));
        }
        Ok(())
    }

    /// An amount in `currency` expressed in the settlement currency, with the code of the
    /// configured rate used when there was one to apply.
    pub fn convert(
        &self,
        amount: Decimal,
        currency: &str,
    ) -> Result<(Decimal, Option<String>), String> {
        // Nearly every row is in the settlement currency: it is told without a copy.
        if currency.trim().eq_ignore_ascii_case(&self.currency) {
            return Ok((amount, None));
        }
        let code = currency.trim().to_ascii_uppercase();
        let Some(&rate) = self.rates.get(&code) else {
            return Err(format!(
                "the amount is in '{currency}', not in the settlement currency '{}', and no \
                 exchange rate is configured for it ([[exchange_rates]])",
                self.currency
            ));
        };
        Ok((amount * rate, Some(code)))
    }

    /// Converts a record's own cost into the settlement currency, in place; the currency
    /// whose configured rate was applied, if one was.
    pub fn convert_record(&self, record: &mut UsageRecord) -> Result<Option<String>, String> {
        let (Some(currency), Some(cost)) = (&record.currency, record.provider_cost) else {
            return Ok(None);
        };
        let (amount, rate) = self.convert(cost, currency)?;
        record.provider_cost = Some(amount);
        record.currency = Some(self.currency.clone());
        Ok(rate)
    }
}

/// How far a load has come, shared with another thread that shows it (the review's gauge).
#[derive(Debug, Default)]
pub struct Progress {
    /// Rows read so far, over all sources.
    pub rows: AtomicU64,
    /// The source being read.
    pub current: Mutex<String>,
}

impl Progress {
    /// The source being read now.
    pub fn current_source(&self) -> String {
        self.current
            .lock()
            .map(|name| name.clone())
            .unwrap_or_default()
    }
}

/// Which records to keep while reading, to show the rows behind a figure (a caller's calls
/// on one day, say). Every condition set must hold.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    /// Only records of this caller.
    pub caller: Option<Caller>,
    /// Only records of this model, as the source names it.
    pub model: Option<String>,
    /// Only records of this local day.
    pub day: Option<NaiveDate>,
    /// Only records of any of these local hours (a window, or the busiest hours).
    pub hours: Option<std::collections::BTreeSet<crate::calc::bucket::LocalHour>>,
    /// Only records of any of these callers.
    pub callers: Option<std::collections::BTreeSet<Caller>>,
    /// Keep at most this many.
    pub limit: usize,
    /// The records kept, with the source they came from.
    pub records: Vec<(SourceId, UsageRecord)>,
}

impl Capture {
    fn wants(&self, record: &UsageRecord, zone: Tz) -> bool {
        self.records.len() < self.limit
            && self.caller.as_ref().is_none_or(|c| *c == record.caller)
            && self.model.as_ref().is_none_or(|m| *m == record.model)
            && self
                .day
                .is_none_or(|d| record.timestamp.with_timezone(&zone).date_naive() == d)
            && self.hours.as_ref().is_none_or(|hours| {
                hours.contains(&crate::calc::bucket::LocalHour::of(record.timestamp, zone))
            })
            && self
                .callers
                .as_ref()
                .is_none_or(|callers| callers.contains(&record.caller))
    }
}

/// Everything read from the sources of one month.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The rules records are checked against.
    pub window: Window,
    /// One summary per source, in the order read.
    pub sources: Vec<SourceSummary>,
    /// Exact sums per (caller, model, local hour).
    pub buckets: Buckets,
    /// Every rejected row.
    pub rejects: Vec<Reject>,
    /// The latest call seen (a repeated one included), which tells how far the logs reach.
    pub last_timestamp: Option<DateTime<Utc>>,
    /// Progress, for a thread that shows it.
    pub progress: Arc<Progress>,
    /// Records to keep while reading, when set.
    pub capture: Option<Capture>,
    /// Lines of the invoice side read from the sources: costs without tokens, taxes,
    /// credits, purchases, adjustments and corrections of earlier periods.
    pub invoice_lines: Vec<InvoiceLine>,
    /// Exchange rates that were applied, with how many rows used each.
    pub rates_used: BTreeMap<String, RateUsed>,
    /// Whether the sources are hashed as they are read (see [`Hashing`]).
    pub hashing: Hashing,
    requests: RequestFilter,
    /// The size of the chunks a CSV log is cut into for the worker threads.
    chunk_bytes: usize,
    suspects: Vec<Suspect>,
    probe: Option<duplicates::Probe>,
}

impl Dataset {
    /// An empty dataset for the configured period.
    pub fn new(settings: &Settings) -> Dataset {
        Dataset {
            window: Window {
                zone: settings.zone,
                first_day: settings.month_start,
                last_day: settings.month_end,
                currency: settings.config.organization.currency.clone(),
                rates: settings
                    .config
                    .exchange_rates
                    .iter()
                    .map(|r| (r.currency.to_ascii_uppercase(), r.rate.0))
                    .collect(),
            },
            sources: Vec::new(),
            buckets: Buckets::default(),
            rejects: Vec::new(),
            last_timestamp: None,
            progress: Arc::new(Progress::default()),
            capture: None,
            invoice_lines: Vec::new(),
            rates_used: BTreeMap::new(),
            hashing: Hashing::Sha256,
            requests: RequestFilter::default(),
            chunk_bytes: generic::CHUNK_BYTES,
            suspects: Vec::new(),
            probe: None,
        }
    }

    /// Registers a new source and returns its id.
    pub fn begin_source(&mut self, name: &str, format: &str) -> SourceId {
        if let Ok(mut current) = self.progress.current.lock() {
            *current = name.to_string();
        }
        self.sources.push(SourceSummary {
            name: name.to_string(),
            format: format.to_string(),
            ..SourceSummary::default()
        });
        (self.sources.len() - 1) as SourceId
    }

    /// Records the size and hash of a source once it was read to the end.
    pub fn finish_source(&mut self, source: SourceId, size: u64, sha256: String) {
        let summary = &mut self.sources[source as usize];
        summary.size = size;
        summary.sha256 = sha256;
    }

    /// Takes one record: checks the period and currency, then folds it in, unless its request
    /// id may have been met before: then it is held until every source was read
    /// ([`Dataset::settle_duplicates`]).
    pub fn accept(&mut self, source: SourceId, mut record: UsageRecord) {
        if let Err(reason) = self.check(&mut record) {
            self.reject(source, record.line, reason);
            return;
        }
        if let Some(probe) = &mut self.probe {
            probe.note(source, &record);
            return;
        }
        self.sources[source as usize].rows_read += 1;
        self.progress.rows.fetch_add(1, Ordering::Relaxed);
        self.last_timestamp = self.last_timestamp.max(Some(record.timestamp));
        if let Some(key) = record.request_id.as_deref().map(request_key) {
            if self.requests.mark(key) {
                self.hold(source, key, record);
                return;
            }
        }
        self.fold(source, record);
    }

    /// Folds an accepted record into its bucket (and the capture, when one is set).
    fn fold(&mut self, source: SourceId, record: UsageRecord) {
        self.sources[source as usize].accepted += 1;
        self.buckets.add(source, &record, self.window.zone);
        if let Some(capture) = &mut self.capture {
            if capture.wants(&record, self.window.zone) {
                capture.records.push((source, record));
            }
        }
    }

    /// Holds a record whose request id may have been met before. Its caller and model are
    /// interned as folding it would have, so that ids come out the same whether a row was
    /// read on its own or in a chunk.
    fn hold(&mut self, source: SourceId, key: u128, record: UsageRecord) {
        self.buckets.caller_id(&record.caller);
        self.buckets.model_id(&record.model);
        self.suspects.push(Suspect {
            source,
            key,
            record,
        });
    }

    /// Rejects a row with its line and reason.
    pub fn reject(&mut self, source: SourceId, line: u64, reason: impl Into<String>) {
        self.sources[source as usize].rows_read += 1;
        self.sources[source as usize].rejected += 1;
        self.progress.rows.fetch_add(1, Ordering::Relaxed);
        self.rejects.push(Reject {
            source,
            line,
            reason: reason.into(),
        });
    }

    fn check(&mut self, record: &mut UsageRecord) -> Result<(), String> {
        self.window
            .admit(record.timestamp, &record.tokens, record.calls)?;
        self.convert_cost(record)
    }

    /// Converts a record's own cost into the settlement currency at the configured rate.
    fn convert_cost(&mut self, record: &mut UsageRecord) -> Result<(), String> {
        if let Some(code) = self.window.convert_record(record)? {
            self.count_rate_use(&code, 1);
        }
        Ok(())
    }

    /// The rate from `currency` into the settlement currency: one for the settlement
    /// currency itself, the configured rate for another, `None` without one.
    pub fn rate_of(&self, currency: &str) -> Option<Decimal> {
        let code = currency.trim().to_ascii_uppercase();
        if code == self.window.currency {
            Some(Decimal::ONE)
        } else {
            self.window.rates.get(&code).copied()
        }
    }

    /// An amount in `currency` expressed in the settlement currency: unchanged in that
    /// currency, multiplied by the configured rate in another, refused without a rate.
    pub fn to_settlement_currency(
        &mut self,
        amount: Decimal,
        currency: &str,
    ) -> Result<Decimal, String> {
        let (amount, rate_code) = self.window.convert(amount, currency)?;
        if let Some(code) = rate_code {
            self.count_rate_use(&code, 1);
        }
        Ok(amount)
    }

    /// Counts rows converted at the configured rate of `code`.
    fn count_rate_use(&mut self, code: &str, rows: u64) {
        let rate = self.window.rates.get(code).copied().unwrap_or(Decimal::ONE);
        let used = self
            .rates_used
            .entry(code.to_string())
            .or_insert_with(|| RateUsed {
                currency: code.to_string(),
                rate,
                rows: 0,
            });
        used.rows += rows;
    }

    /// Takes one line of the invoice side. Lines of another currency are converted or
    /// rejected; lines dated outside the period are rejected unless they correct an earlier
    /// period, which is what a correction is.
    pub fn accept_invoice_line(&mut self, source: SourceId, mut line: InvoiceLine) {
        let converted = self.to_settlement_currency(line.amount, &line.currency.clone());
        match converted {
            Ok(amount) => {
                let rate = self.rate_of(&line.currency).unwrap_or(Decimal::ONE);
                line.effective = line.effective.map(|effective| effective * rate);
                line.amount = amount;
                line.currency = self.window.currency.clone();
            }
            Err(reason) => return self.reject(source, line.line, reason),
        }
        if line.kind != InvoiceKind::Correction {
            if let Some(at) = line.date {
                let day = at.with_timezone(&self.window.zone).date_naive();
                if day < self.window.first_day || day > self.window.last_day {
                    return self.reject(
                        source,
                        line.line,
                        format!(
                            "the charge of {} is outside the period {} to {}",
                            day, self.window.first_day, self.window.last_day
                        ),
                    );
                }
            }
        }
        if line.kind == InvoiceKind::Usage {
            let summary = &mut self.sources[source as usize];
            *summary.billed_usage.get_or_insert(Decimal::ZERO) += line.amount;
        }
        let summary = &mut self.sources[source as usize];
        summary.rows_read += 1;
        summary.invoice_rows += 1;
        self.progress.rows.fetch_add(1, Ordering::Relaxed);
        line.source = source;
        self.invoice_lines.push(line);
    }

    /// Adds to what a source bills for usage rows it also read as records (FOCUS).
    pub fn add_billed_usage(
        &mut self,
        source: SourceId,
        billed: Decimal,
        effective: Option<Decimal>,
    ) {
        let summary = &mut self.sources[source as usize];
        *summary.billed_usage.get_or_insert(Decimal::ZERO) += billed;
        if let Some(effective) = effective {
            *summary.effective_usage.get_or_insert(Decimal::ZERO) += effective;
        }
    }

    /// Rows read from all sources.
    pub fn rows_read(&self) -> u64 {
        self.sources.iter().map(|s| s.rows_read).sum()
    }

    /// The source a reject came from.
    pub fn source_name(&self, source: SourceId) -> &str {
        &self.sources[source as usize].name
    }
}

/// More tokens of one kind than any record can hold (ten trillion): far above any real call
/// or aggregate, and low enough that a month's sums cannot overflow.
pub const MOST_TOKENS: u64 = 10_000_000_000_000;

/// Refuses token counts no real record has, rather than letting sums wrap around.
pub(super) fn check_plausible(t: &Tokens, calls: u64) -> Result<(), String> {
    let largest = [
        t.input,
        t.cached_input,
        t.cache_write,
        t.cache_write_1h,
        t.output,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    if largest > MOST_TOKENS || calls > MOST_TOKENS {
        return Err(format!(
            "{largest} tokens in one record is not plausible (at most {MOST_TOKENS} of a kind)"
        ));
    }
    Ok(())
}

/// One input to read: a name for messages and the bytes behind it.
pub struct Input<'a> {
    /// The name shown in messages and reports.
    pub name: String,
    /// The content.
    pub reader: Box<dyn Read + 'a>,
    /// How to read the content again from its start, to settle rows that may repeat a
    /// request id ([`Dataset::settle_duplicates`]).
    pub reopen: Option<Reopen<'a>>,
}

impl<'a> Input<'a> {
    /// Opens a file. A pipe or other stream (`<(…)`, a named pipe) can be read only once, so
    /// it is read into memory here, from where it can be read again.
    pub fn open(path: &Path) -> Result<Input<'a>, LoadError> {
        let cannot =
            |error: std::io::Error| LoadError::new(path, None, format!("cannot open: {error}"));
        let mut file = std::fs::File::open(path).map_err(cannot)?;
        let name = path.display().to_string();
        if !file.metadata().map_err(cannot)?.is_file() {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(cannot)?;
            return Ok(Input::from_shared(&name, Arc::new(bytes)));
        }
        let path = path.to_path_buf();
        Ok(Input {
            name,
            reader: Box::new(file),
            reopen: Some(Box::new(move || {
                Ok(Box::new(std::fs::File::open(&path)?) as Box<dyn Read>)
            })),
        })
    }

    /// An input held in memory and shared with its second reading.
    fn from_shared(name: &str, bytes: Arc<Vec<u8>>) -> Input<'a> {
        let again = Arc::clone(&bytes);
        Input {
            name: name.to_string(),
            reader: Box::new(std::io::Cursor::new(SharedBytes(bytes))),
            reopen: Some(Box::new(move || {
                Ok(
                    Box::new(std::io::Cursor::new(SharedBytes(Arc::clone(&again))))
                        as Box<dyn Read>,
                )
            })),
        }
    }

    /// An input held in memory (the bundled sample month).
    pub fn from_bytes(name: &str, bytes: &'a [u8]) -> Input<'a> {
        Input {
            name: name.to_string(),
            reader: Box::new(bytes),
            reopen: Some(Box::new(move || Ok(Box::new(bytes) as Box<dyn Read + 'a>))),
        }
    }
}

/// Bytes shared between the readings of one input.
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The source specification whose pattern matches a file name, or the defaults.
pub fn spec_for(settings: &Settings, name: &str) -> SourceSpec {
    let file_name = Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(name);
    settings
        .config
        .sources
        .iter()
        .find(|spec| {
            Glob::new(&spec.pattern)
                .map(|glob| glob.compile_matcher().is_match(file_name))
                .unwrap_or(false)
        })
        .cloned()
        .unwrap_or_else(|| SourceSpec {
            pattern: "*".into(),
            time_zone: None,
            default_department: None,
            format: None,
            columns: Default::default(),
        })
}

/// Reads every input into one dataset.
pub fn load_inputs(settings: &Settings, inputs: Vec<Input<'_>>) -> Result<Dataset, LoadError> {
    read_into(Dataset::new(settings), settings, inputs)
}

/// Reads every input into a dataset prepared by the caller (with a shared [`Progress`] or a
/// [`Capture`] set).
pub fn read_into(
    dataset: Dataset,
    settings: &Settings,
    inputs: Vec<Input<'_>>,
) -> Result<Dataset, LoadError> {
    read_into_as(dataset, settings, inputs, None)
}

/// Reads every input, each in the format given, else its source's configured format, else
/// the format its content shows.
pub fn read_into_as(
    mut dataset: Dataset,
    settings: &Settings,
    inputs: Vec<Input<'_>>,
    format: Option<Format>,
) -> Result<Dataset, LoadError> {
    let mut readings = Vec::new();
    for mut input in inputs {
        let spec = spec_for(settings, &input.name);
        let forced = format.or_else(|| spec.format.as_deref().and_then(Format::from_name));
        readings.push(duplicates::Reading {
            name: input.name.clone(),
            spec: spec.clone(),
            format: forced,
            reopen: input.reopen.take(),
        });
        detect::read(&mut dataset, &spec, input, forced)?;
    }
    dataset.settle_duplicates(settings, readings)?;
    Ok(dataset)
}

/// Reads files from disk into one dataset.
pub fn load_files(settings: &Settings, paths: &[PathBuf]) -> Result<Dataset, LoadError> {
    load_files_as(settings, paths, None)
}

/// Reads files from disk into one dataset, all in one format when `format` is given.
pub fn load_files_as(
    settings: &Settings,
    paths: &[PathBuf],
    format: Option<Format>,
) -> Result<Dataset, LoadError> {
    let inputs = paths
        .iter()
        .map(|p| Input::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    read_into_as(Dataset::new(settings), settings, inputs, format)
}
