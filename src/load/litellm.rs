//! LiteLLM proxy spend logs: rows of its spend log table, exported as CSV, as a JSON array or
//! as JSON lines.
//!
//! Token semantics: `prompt_tokens` counts *all* input tokens, cache reads and cache writes
//! included (LiteLLM reports Anthropic models the OpenAI way). The cache reads come from the
//! usage object in `metadata` (`cache_read_input_tokens`, or
//! `prompt_tokens_details.cached_tokens`), the writes from `cache_creation_input_tokens`
//! (split into five-minute and one-hour writes when `cache_creation` gives the split); both
//! are subtracted from `prompt_tokens` to get the uncached input. `completion_tokens` is the
//! output, reasoning tokens included.
//!
//! A call that only retrieves an earlier response (a proxy cache hit, `cache_hit` true, or a
//! retrieval call type such as `aget_responses`) carries the usage of the original call; it
//! is counted as a call with no tokens, so that the original is not charged twice.
//!
//! The caller: `api_key` (a hash, shown masked), `user`, `team_id` (or the key's user and team
//! from `metadata`), the `request_tags` (`key:value` strings) and `end_user` as the tag
//! `end_user:ID`. `spend` is the gateway's cost in USD.

use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::csv_rows::{self, Row};
use super::generic::{parse_status, split_tags};
use super::json::{self, Object};
use super::timestamp::parse_timestamp;
use super::{Caller, Dataset, Input, LoadError, Tokens, UsageRecord};
use crate::calc::bucket::SourceId;
use crate::config::SourceSpec;

/// The format's name in reports and on the command line.
pub const NAME: &str = "litellm";

/// Columns a CSV export must have.
const REQUIRED: [&str; 5] = [
    "request_id",
    "spend",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
];

/// Call types that fetch something already produced rather than run a model.
const RETRIEVAL_PREFIXES: [&str; 6] = ["aget_", "get_", "aretrieve", "retrieve", "alist", "list_"];

/// Reads LiteLLM spend logs in any of their three shapes.
pub fn read(dataset: &mut Dataset, spec: &SourceSpec, input: Input<'_>) -> Result<(), LoadError> {
    let zone = zone_of(spec);
    let (first, input) = first_byte(input)?;
    if matches!(first, Some(b'[' | b'{')) {
        read_json(dataset, spec, zone, input)
    } else {
        csv_rows::read(dataset, input, NAME, &REQUIRED, |dataset, source, row| {
            let record = parse(&CsvFields(row), row.line, row.offset, spec, zone);
            take(dataset, source, row.line, record);
        })
        .map(|_| ())
    }
}

fn zone_of(spec: &SourceSpec) -> Tz {
    spec.time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(Tz::UTC)
}

/// The first byte that is not whitespace or a byte-order mark, with the input given back whole.
fn first_byte(input: Input<'_>) -> Result<(Option<u8>, Input<'_>), LoadError> {
    use std::io::Read;
    let Input {
        name, mut reader, ..
    } = input;
    let mut head = Vec::new();
    (&mut reader)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|error| LoadError::new(&name, None, format!("cannot read: {error}")))?;
    let first = head
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf));
    let whole = std::io::Cursor::new(head).chain(reader);
    Ok((
        first,
        Input {
            name,
            reader: Box::new(whole),
            reopen: None,
        },
    ))
}

fn read_json(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    zone: Tz,
    input: Input<'_>,
) -> Result<(), LoadError> {
    let name = input.name.clone();
    let content = json::read_all(input)?;
    let pieces = json::pieces(&content.bytes, &name)?;
    let source = dataset.begin_source(&name, NAME);
    for piece in pieces {
        let record = piece.text.and_then(|text| {
            let object = Object::parse(text)?;
            parse(&JsonFields(object), piece.line, piece.offset, spec, zone)
        });
        take(dataset, source, piece.line, record);
    }
    dataset.finish_source(source, content.size, content.sha256);
    Ok(())
}

fn take(dataset: &mut Dataset, source: SourceId, line: u64, record: Result<UsageRecord, String>) {
    match record {
        Ok(record) => dataset.accept(source, record),
        Err(reason) => dataset.reject(source, line, reason),
    }
}

/// The fields of a row, from CSV or JSON alike.
trait Fields {
    /// A text field, `None` when absent or empty.
    fn text(&self, key: &str) -> Result<Option<String>, String>;
    /// A token count, `0` when absent.
    fn tokens(&self, key: &str) -> Result<u64, String>;
    /// An amount, `None` when absent.
    fn money(&self, key: &str) -> Result<Option<Decimal>, String>;
    /// A nested JSON value's text (an object in JSON, a cell holding JSON in CSV).
    fn json(&self, key: &str) -> Result<Option<String>, String>;
}

struct CsvFields<'a>(&'a Row<'a>);

impl Fields for CsvFields<'_> {
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.text(key)?.map(str::to_string))
    }
    fn tokens(&self, key: &str) -> Result<u64, String> {
        self.0.tokens(key)
    }
    fn money(&self, key: &str) -> Result<Option<Decimal>, String> {
        self.0.money(key)
    }
    fn json(&self, key: &str) -> Result<Option<String>, String> {
        self.text(key)
    }
}

struct JsonFields<'a>(Object<'a>);

impl Fields for JsonFields<'_> {
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        self.0.text(key)
    }
    fn tokens(&self, key: &str) -> Result<u64, String> {
        self.0.tokens(key)
    }
    fn money(&self, key: &str) -> Result<Option<Decimal>, String> {
        self.0.money(key)
    }
    fn json(&self, key: &str) -> Result<Option<String>, String> {
        match self.0.raw(key) {
            None => Ok(None),
            Some(raw) if raw.get().trim_start().starts_with('"') => self.0.text(key),
            Some(raw) => Ok(Some(raw.get().to_string())),
        }
    }
}

fn parse(
    row: &dyn Fields,
    line: u64,
    offset: u64,
    spec: &SourceSpec,
    zone: Tz,
) -> Result<UsageRecord, String> {
    let metadata = row.json("metadata")?.unwrap_or_default();
    let metadata = if metadata.trim().starts_with('{') {
        Object::parse(&metadata).map_err(|e| format!("field 'metadata': {e}"))?
    } else {
        Object::default()
    };
    let started = row
        .text("startTime")?
        .ok_or("field 'startTime' is empty: expected when the call started")?;
    let timestamp =
        parse_timestamp(&started, zone).map_err(|e| format!("field 'startTime': {e}"))?;
    let model = match row.text("model")? {
        Some(model) => model,
        None => row
            .text("model_group")?
            .ok_or("fields 'model' and 'model_group' are empty: expected a model name")?,
    };
    let retrieval = is_retrieval(row)?;
    let tokens = if retrieval {
        Tokens::default()
    } else {
        tokens(row, &metadata)?
    };
    let success = match row.text("status")? {
        None => true,
        Some(status) => parse_status(&status)
            .ok_or_else(|| format!("field 'status': unknown status '{status}'"))?,
    };
    Ok(UsageRecord {
        line,
        offset,
        timestamp,
        request_id: row.text("request_id")?,
        caller: caller(row, &metadata, spec)?,
        model,
        tokens,
        calls: 1,
        provider_cost: row.money("spend")?,
        currency: Some("USD".into()),
        success,
    })
}

/// Whether the row only retrieved an earlier response.
fn is_retrieval(row: &dyn Fields) -> Result<bool, String> {
    let cache_hit = row
        .text("cache_hit")?
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let call_type = row.text("call_type")?.unwrap_or_default();
    Ok(cache_hit || RETRIEVAL_PREFIXES.iter().any(|p| call_type.starts_with(p)))
}

/// Disjoint token kinds from `prompt_tokens`, which includes cache reads and writes.
fn tokens(row: &dyn Fields, metadata: &Object<'_>) -> Result<Tokens, String> {
    let prompt = row.tokens("prompt_tokens")?;
    let output = row.tokens("completion_tokens")?;
    let usage = metadata
        .object("usage_object")
        .map_err(|e| format!("metadata: {e}"))?
        .unwrap_or_default();
    let details = usage.object("prompt_tokens_details")?.unwrap_or_default();
    let cached = match usage.tokens("cache_read_input_tokens")? {
        0 => details.tokens("cached_tokens")?,
        n => n,
    };
    let written = usage.tokens("cache_creation_input_tokens")?;
    let split = usage.object("cache_creation")?.unwrap_or_default();
    let written_1h = split.tokens("ephemeral_1h_input_tokens")?.min(written);
    let uncached = prompt.checked_sub(cached + written).ok_or_else(|| {
        format!(
            "{cached} cache-read and {written} cache-write tokens are more than the {prompt} \
             prompt tokens that include them"
        )
    })?;
    Ok(Tokens {
        input: uncached,
        cached_input: cached,
        cache_write: written - written_1h,
        cache_write_1h: written_1h,
        output,
    })
}

fn caller(row: &dyn Fields, metadata: &Object<'_>, spec: &SourceSpec) -> Result<Caller, String> {
    let mut tags = match row.json("request_tags")? {
        Some(list) => split_tags(&list),
        None => Vec::new(),
    };
    if let Some(end_user) = row.text("end_user")? {
        tags.push(format!("end_user:{end_user}"));
    }
    let user = match row.text("user")? {
        Some(user) => Some(user),
        None => metadata.text("user_api_key_user_id")?,
    };
    let team = match row.text("team_id")? {
        Some(team) => Some(team),
        None => metadata.text("user_api_key_team_id")?,
    };
    Ok(Caller {
        api_key: row.text("api_key")?,
        user,
        project: None,
        team,
        tags,
        fallback_department: spec.default_department.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_prompt_tokens_include_cache_reads_and_writes() {
        // 1,000 prompt tokens of which 600 read from the cache and 250 written (100 of them
        // for an hour): 1,000 - 600 - 250 = 150 uncached.
        let text = r#"{"prompt_tokens": 1000, "completion_tokens": 40,
            "metadata": {"usage_object": {"cache_read_input_tokens": 600,
                "cache_creation_input_tokens": 250,
                "cache_creation": {"ephemeral_1h_input_tokens": 100}}}}"#;
        let row = JsonFields(Object::parse(text).unwrap());
        let meta_text = row.json("metadata").unwrap().unwrap();
        let tokens = tokens(&row, &Object::parse(&meta_text).unwrap()).unwrap();
        assert_eq!(
            tokens,
            Tokens {
                input: 150,
                cached_input: 600,
                cache_write: 150,
                cache_write_1h: 100,
                output: 40,
            }
        );
    }

    #[test]
    fn openai_cached_tokens_are_a_subset_of_the_prompt() {
        let text = r#"{"prompt_tokens": 500, "completion_tokens": 10}"#;
        let row = JsonFields(Object::parse(text).unwrap());
        let meta = r#"{"usage_object": {"prompt_tokens_details": {"cached_tokens": 200}}}"#;
        let tokens = tokens(&row, &Object::parse(meta).unwrap()).unwrap();
        assert_eq!((tokens.input, tokens.cached_input), (300, 200));
    }

    #[test]
    fn more_cached_than_prompt_is_refused() {
        let row = JsonFields(Object::parse(r#"{"prompt_tokens": 5}"#).unwrap());
        let meta = r#"{"usage_object": {"cache_read_input_tokens": 6}}"#;
        let error = tokens(&row, &Object::parse(meta).unwrap()).unwrap_err();
        assert!(error.contains("more than the 5 prompt tokens"), "{error}");
    }
}
