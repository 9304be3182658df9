//! OpenAI's organization usage and costs: the completions usage API pages, the costs API
//! pages, and the dashboard's cost export (CSV).
//!
//! Token semantics (usage API): `input_cached_tokens` is a *subset* of `input_tokens` and is
//! subtracted to get the uncached input; `output_tokens` includes reasoning tokens. Each
//! result is an aggregate of `num_model_requests` calls in one time bucket (Unix seconds,
//! start inclusive, end exclusive), dated at the bucket's start. A result without a model
//! (usage not grouped by model) cannot be priced and is rejected. Results are identified by
//! their bucket and grouping, so the same page read twice is not counted twice.
//!
//! Costs (API pages and CSV) are amounts in dollars per line item and project: they carry no
//! tokens, so each row becomes an invoice line of usage cost (see [`super::invoice`]).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::csv_rows;
use super::json::Object;
use super::pages;
use super::timestamp::parse_timestamp;
use super::{Caller, Dataset, Input, InvoiceKind, InvoiceLine, LoadError, Tokens, UsageRecord};
use crate::config::SourceSpec;

/// The usage API format's name.
pub const USAGE: &str = "openai-usage";
/// The costs API format's name.
pub const COSTS: &str = "openai-costs";
/// The dashboard cost export's name.
pub const COST_CSV: &str = "openai-cost-csv";

/// Reads completions usage pages.
pub fn read_usage(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    input: Input<'_>,
) -> Result<(), LoadError> {
    pages::read_usage(dataset, input, USAGE, |result| usage_record(result, spec))
}

/// Reads costs API pages.
pub fn read_costs(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    input: Input<'_>,
) -> Result<(), LoadError> {
    pages::read_costs(dataset, input, COSTS, |result| cost_line(result, spec))
}

/// Reads the dashboard's cost export.
pub fn read_cost_csv(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    input: Input<'_>,
) -> Result<(), LoadError> {
    let required = ["start_time", "amount_value", "amount_currency", "line_item"];
    csv_rows::read(
        dataset,
        input,
        COST_CSV,
        &required,
        |dataset, source, row| match cost_csv_line(row, spec) {
            Ok(line) => dataset.accept_invoice_line(source, line),
            Err(reason) => dataset.reject(source, row.line, reason),
        },
    )
    .map(|_| ())
}

/// A bucket bound in Unix seconds.
fn bucket_start(bucket: &Object<'_>) -> Result<DateTime<Utc>, String> {
    let start = bucket
        .text("start_time")?
        .ok_or("the bucket has no 'start_time'")?;
    parse_timestamp(&start, Tz::UTC).map_err(|e| format!("bucket 'start_time': {e}"))
}

fn usage_record(result: &pages::Result<'_>, spec: &SourceSpec) -> Result<UsageRecord, String> {
    let r = &result.fields;
    let start = bucket_start(result.bucket)?;
    let model = r
        .text("model")?
        .ok_or("the result has no model: request the usage grouped by model (group_by=model)")?;
    let calls = r.tokens("num_model_requests")?;
    let caller = Caller {
        api_key: r.text("api_key_id")?,
        user: r.text("user_id")?,
        project: r.text("project_id")?,
        team: None,
        tags: usage_tags(r)?,
        fallback_department: spec.default_department.clone(),
    };
    let id = format!(
        "{USAGE}:{}:{}:{}:{}:{model}:{}",
        start.timestamp(),
        caller.project.as_deref().unwrap_or(""),
        caller.user.as_deref().unwrap_or(""),
        caller.api_key.as_deref().unwrap_or(""),
        caller.tags.join(",")
    );
    Ok(UsageRecord {
        line: result.line,
        offset: result.offset,
        timestamp: start,
        request_id: Some(id),
        caller,
        model,
        tokens: usage_tokens(r)?,
        calls,
        provider_cost: None,
        currency: None,
        success: true,
    })
}

/// `batch` and `service_tier` as tags, so that mapping rules and reports can see them.
fn usage_tags(r: &Object<'_>) -> Result<Vec<String>, String> {
    let mut tags = Vec::new();
    if r.flag("batch")? == Some(true) {
        tags.push("batch".to_string());
    }
    if let Some(tier) = r.text("service_tier")? {
        tags.push(format!("service_tier:{tier}"));
    }
    Ok(tags)
}

/// Disjoint kinds from input tokens that include the cached ones.
fn usage_tokens(r: &Object<'_>) -> Result<Tokens, String> {
    let input = r.tokens("input_tokens")?;
    let cached = r.tokens("input_cached_tokens")?;
    let uncached = input.checked_sub(cached).ok_or_else(|| {
        format!(
            "{cached} cached input tokens are more than the {input} input tokens that include them"
        )
    })?;
    Ok(Tokens {
        input: uncached,
        cached_input: cached,
        output: r.tokens("output_tokens")?,
        ..Tokens::default()
    })
}

fn cost_line(result: &pages::Result<'_>, spec: &SourceSpec) -> Result<InvoiceLine, String> {
    let r = &result.fields;
    let amount = r.object("amount")?.ok_or("the result has no 'amount'")?;
    let value = amount.money("value")?.ok_or("'amount.value' is empty")?;
    let currency = amount
        .text("currency")?
        .ok_or("'amount.currency' is empty")?
        .to_ascii_uppercase();
    Ok(InvoiceLine {
        source: 0,
        line: result.line,
        kind: InvoiceKind::Usage,
        description: r
            .text("line_item")?
            .unwrap_or_else(|| "OpenAI usage".into()),
        amount: value,
        effective: None,
        currency,
        date: Some(bucket_start(result.bucket)?),
        corrects: None,
        caller: project_caller(r.text("project_id")?, spec),
    })
}

fn cost_csv_line(row: &csv_rows::Row<'_>, spec: &SourceSpec) -> Result<InvoiceLine, String> {
    let start = parse_timestamp(row.required("start_time")?, Tz::UTC)
        .map_err(|e| format!("column 'start_time': {e}"))?;
    let amount = row
        .money("amount_value")?
        .ok_or("column 'amount_value' is empty")?;
    let project = match row.text("project_id")? {
        Some(id) => Some(id.to_string()),
        None => row.text("project_name")?.map(str::to_string),
    };
    Ok(InvoiceLine {
        source: 0,
        line: row.line,
        kind: InvoiceKind::Usage,
        description: row.text("line_item")?.unwrap_or("OpenAI usage").to_string(),
        amount,
        effective: None,
        currency: row.required("amount_currency")?.to_ascii_uppercase(),
        date: Some(start),
        corrects: None,
        caller: project_caller(project, spec),
    })
}

fn project_caller(project: Option<String>, spec: &SourceSpec) -> Caller {
    Caller {
        project,
        fallback_department: spec.default_department.clone(),
        ..Caller::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_input_is_a_subset_of_input() {
        // 1,000 input of which 800 cached: 200 uncached + 800 cached; 500 output.
        let r = Object::parse(
            r#"{"input_tokens": 1000, "input_cached_tokens": 800, "output_tokens": 500}"#,
        )
        .unwrap();
        let tokens = usage_tokens(&r).unwrap();
        assert_eq!(
            (tokens.input, tokens.cached_input, tokens.output),
            (200, 800, 500)
        );
        assert_eq!(tokens.total(), 1500);
    }

    #[test]
    fn more_cached_than_input_is_refused() {
        let r = Object::parse(r#"{"input_tokens": 10, "input_cached_tokens": 11}"#).unwrap();
        assert!(usage_tokens(&r).unwrap_err().contains("more than the 10"));
    }
}
