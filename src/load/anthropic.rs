//! Anthropic's admin reports: the messages usage report and the cost report.
//!
//! Token semantics (usage report): `uncached_input_tokens`, `cache_read_input_tokens` and the
//! cache writes `cache_creation.ephemeral_5m_input_tokens` and
//! `cache_creation.ephemeral_1h_input_tokens` are *disjoint* and add up to the input; the
//! one-hour writes are priced at their own rate. `output_tokens` includes any reasoning.
//! Each result aggregates one bucket (RFC 3339 bounds) and is dated at its start; the report
//! does not count requests, so each result counts as one call. Results are identified by
//! their bucket and grouping, so the same page read twice is not counted twice.
//!
//! The cost report's `amount` is a decimal string in *cents* of `currency`; each result
//! becomes an invoice line of usage cost in currency units (see [`super::invoice`]).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::json::Object;
use super::pages;
use super::timestamp::parse_timestamp;
use super::{Caller, Dataset, Input, InvoiceKind, InvoiceLine, LoadError, Tokens, UsageRecord};
use crate::config::SourceSpec;

/// The usage report format's name.
pub const USAGE: &str = "anthropic-usage";
/// The cost report format's name.
pub const COST: &str = "anthropic-cost";

/// Reads usage report pages.
pub fn read_usage(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    input: Input<'_>,
) -> Result<(), LoadError> {
    pages::read_usage(dataset, input, USAGE, |result| usage_record(result, spec))
}

/// Reads cost report pages.
pub fn read_cost(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    input: Input<'_>,
) -> Result<(), LoadError> {
    pages::read_costs(dataset, input, COST, |result| cost_line(result, spec))
}

fn bucket_start(bucket: &Object<'_>) -> Result<DateTime<Utc>, String> {
    let start = bucket
        .text("starting_at")?
        .ok_or("the bucket has no 'starting_at'")?;
    parse_timestamp(&start, Tz::UTC).map_err(|e| format!("bucket 'starting_at': {e}"))
}

fn caller(r: &Object<'_>, spec: &SourceSpec) -> Result<Caller, String> {
    let mut tags = Vec::new();
    if let Some(tier) = r.text("service_tier")? {
        tags.push(format!("service_tier:{tier}"));
    }
    Ok(Caller {
        api_key: r.text("api_key_id")?,
        project: r.text("workspace_id")?,
        tags,
        fallback_department: spec.default_department.clone(),
        ..Caller::default()
    })
}

fn usage_record(result: &pages::Result<'_>, spec: &SourceSpec) -> Result<UsageRecord, String> {
    let r = &result.fields;
    let start = bucket_start(result.bucket)?;
    let model = r
        .text("model")?
        .ok_or("the result has no model: request the report grouped by model (group_by[]=model)")?;
    let caller = caller(r, spec)?;
    let id = format!(
        "{USAGE}:{}:{}:{}:{model}:{}:{}",
        start.timestamp(),
        caller.project.as_deref().unwrap_or(""),
        caller.api_key.as_deref().unwrap_or(""),
        caller.tags.join(","),
        r.text("context_window")?.unwrap_or_default()
    );
    Ok(UsageRecord {
        line: result.line,
        offset: result.offset,
        timestamp: start,
        request_id: Some(id),
        caller,
        model,
        tokens: usage_tokens(r)?,
        calls: 1,
        provider_cost: None,
        currency: None,
        success: true,
    })
}

/// The report's disjoint token kinds.
fn usage_tokens(r: &Object<'_>) -> Result<Tokens, String> {
    let writes = r.object("cache_creation")?.unwrap_or_default();
    Ok(Tokens {
        input: r.tokens("uncached_input_tokens")?,
        cached_input: r.tokens("cache_read_input_tokens")?,
        cache_write: writes.tokens("ephemeral_5m_input_tokens")?,
        cache_write_1h: writes.tokens("ephemeral_1h_input_tokens")?,
        output: r.tokens("output_tokens")?,
    })
}

fn cost_line(result: &pages::Result<'_>, spec: &SourceSpec) -> Result<InvoiceLine, String> {
    let r = &result.fields;
    let cents = r.money("amount")?.ok_or("the result has no 'amount'")?;
    let currency = r
        .text("currency")?
        .ok_or("the result has no 'currency'")?
        .to_ascii_uppercase();
    let description = match r.text("description")? {
        Some(text) => text,
        None => [
            r.text("model")?,
            r.text("token_type")?,
            r.text("cost_type")?,
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
    };
    Ok(InvoiceLine {
        source: 0,
        line: result.line,
        kind: InvoiceKind::Usage,
        description,
        amount: cents / Decimal::ONE_HUNDRED,
        effective: None,
        currency,
        date: Some(bucket_start(result.bucket)?),
        corrects: None,
        caller: caller(r, spec)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_kinds_are_disjoint() {
        // 1,500 uncached + 200 read + 500 five-minute + 1,000 one-hour writes + 500 output.
        let r = Object::parse(
            r#"{"uncached_input_tokens": 1500, "cache_read_input_tokens": 200,
                "cache_creation": {"ephemeral_5m_input_tokens": 500,
                                   "ephemeral_1h_input_tokens": 1000},
                "output_tokens": 500}"#,
        )
        .unwrap();
        let tokens = usage_tokens(&r).unwrap();
        assert_eq!(
            tokens,
            Tokens {
                input: 1500,
                cached_input: 200,
                cache_write: 500,
                cache_write_1h: 1000,
                output: 500,
            }
        );
        assert_eq!(tokens.total(), 3700);
    }
}
