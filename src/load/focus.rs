//! FOCUS billing data (FinOps Open Cost and Usage Specification, versions 1.0 to 1.3), CSV
//! with columns matched by name.
//!
//! Token semantics: each usage row bills one kind of token of one model, so the kinds are
//! disjoint by construction. The kind comes from `SkuPriceDetails` (`TokenCacheAction`
//! Read / Write / Uncached with `TokenDirection`, or `TokenType`), else from the text of
//! `SkuMeter`, else of `ConsumedUnit`; the count is `ConsumedQuantity`. Reasoning tokens
//! are billed as output. The model is `SkuPriceDetails.ModelId`, else `SkuId`.
//!
//! Rows:
//! - `ChargeCategory` = Usage with token counts becomes a usage record dated at
//!   `ChargePeriodStart`; FOCUS does not count requests, so each row counts as one call.
//!   The provider states charge periods in UTC: a period is placed by its own calendar
//!   dates and hours (a charge from 2025-01-01T00:00Z belongs to 1 January in any zone), not
//!   shifted into the organization's zone. A charge covers its whole period: the data reaches
//!   `ChargePeriodEnd`, so a monthly charge is not extrapolated to the close as if it were
//!   one day's usage.
//!   `BilledCost` is kept as the provider's cost and, with `EffectiveCost`, summed as what
//!   the bill charges for usage. A usage row without tokens (compute hours, say) becomes an
//!   invoice line of usage cost.
//! - Tax, Credit, Purchase and Adjustment rows become invoice lines: shared by the
//!   settlement unless their caller fields map them to a department. Negative amounts
//!   (credits, refunds) are kept as they are.
//! - `ChargeClass` = Correction rows for a period before this one are invoice lines of kind
//!   correction, named after the period they correct; so are negative corrections inside
//!   the period (a negative quantity or cost cannot be folded into token counts), which
//!   are kept, never dropped.
//!
//! The caller: `SubAccountName` (else `SubAccountId`) as the project, `PrincipalId` as the
//! user, and as tags every `Tags` entry as `key:value` plus `subaccount:<id>`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::csv_rows::{self, Row};
use super::json::Object;
use super::timestamp::parse_timestamp;
use super::{Caller, Dataset, Input, InvoiceKind, InvoiceLine, LoadError, Tokens, UsageRecord};
use crate::calc::bucket::SourceId;
use crate::config::SourceSpec;

/// The format's name in reports and on the command line.
pub const NAME: &str = "focus";

/// Columns every FOCUS file has and this reader needs.
const REQUIRED: [&str; 4] = [
    "BilledCost",
    "BillingCurrency",
    "ChargeCategory",
    "ChargePeriodStart",
];

/// A kind of token a usage row bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Input,
    CacheRead,
    CacheWrite,
    CacheWrite1h,
    Output,
}

/// What a row becomes.
enum Charge {
    /// A usage record, its effective cost and the last instant its period covers.
    Usage(UsageRecord, Option<Decimal>, Option<DateTime<Utc>>),
    Invoice(InvoiceLine),
}

/// Reads one FOCUS file.
pub fn read(dataset: &mut Dataset, spec: &SourceSpec, input: Input<'_>) -> Result<(), LoadError> {
    let first_day = dataset.window.first_day;
    let zone = dataset.window.zone;
    csv_rows::read(
        dataset,
        input,
        NAME,
        &REQUIRED,
        |dataset, source, row| match charge(row, spec, first_day, zone) {
            Ok(Charge::Usage(record, effective, covered)) => {
                accept_usage(dataset, source, record, effective, covered)
            }
            Ok(Charge::Invoice(line)) => dataset.accept_invoice_line(source, line),
            Err(reason) => dataset.reject(source, row.line, reason),
        },
    )
    .map(|_| ())
}

/// Takes a usage record and, when it was accepted, adds its billed and effective cost to
/// what the source bills for usage, and tells that the data reaches the end of its period.
fn accept_usage(
    dataset: &mut Dataset,
    source: SourceId,
    record: UsageRecord,
    effective: Option<Decimal>,
    covered: Option<DateTime<Utc>>,
) {
    let before = dataset.sources[source as usize].accepted;
    let billed = record.provider_cost.unwrap_or_default();
    let currency = record.currency.clone().unwrap_or_default();
    dataset.accept(source, record);
    if dataset.sources[source as usize].accepted > before {
        let rate = dataset.rate_of(&currency).unwrap_or(Decimal::ONE);
        dataset.add_billed_usage(source, billed * rate, effective.map(|e| e * rate));
        if let Some(covered) = covered {
            let last_day = dataset.window.last_day;
            let within = covered.with_timezone(&dataset.window.zone).date_naive() <= last_day;
            if within {
                dataset.last_timestamp = dataset.last_timestamp.max(Some(covered));
            }
        }
    }
}

fn charge(
    row: &Row<'_>,
    spec: &SourceSpec,
    first_day: chrono::NaiveDate,
    zone: Tz,
) -> Result<Charge, String> {
    let category = row.required("ChargeCategory")?;
    let start_utc = parse_timestamp(row.required("ChargePeriodStart")?, Tz::UTC)
        .map_err(|e| format!("column 'ChargePeriodStart': {e}"))?;
    let start = on_billed_clock(start_utc, zone);
    let end = match row.text("ChargePeriodEnd")? {
        Some(text) => Some(
            parse_timestamp(text, Tz::UTC).map_err(|e| format!("column 'ChargePeriodEnd': {e}"))?,
        ),
        None => None,
    };
    // The last instant the period covers, on the same clock as its start.
    let covered = end
        .filter(|end| *end > start_utc)
        .map(|end| on_billed_clock(end, zone) - Duration::seconds(1));
    let is_correction = row
        .text("ChargeClass")?
        .is_some_and(|c| c.eq_ignore_ascii_case("correction"));
    let earlier = start_utc.date_naive() < first_day;
    if is_correction && (earlier || is_negative(row)?) {
        return invoice_line(row, spec, InvoiceKind::Correction, start).map(|mut line| {
            line.corrects = Some(start_utc.format("%Y-%m").to_string());
            Charge::Invoice(line)
        });
    }
    let kind = match category.to_ascii_lowercase().as_str() {
        "usage" => return usage(row, spec, start, covered),
        "tax" => InvoiceKind::Tax,
        "credit" => InvoiceKind::Credit,
        "purchase" => InvoiceKind::Purchase,
        "adjustment" => InvoiceKind::Adjustment,
        _ => {
            return Err(format!(
                "column 'ChargeCategory': '{category}' is not one of Usage, Purchase, Tax, \
                 Credit, Adjustment"
            ));
        }
    };
    invoice_line(row, spec, kind, start).map(Charge::Invoice)
}

/// The instant whose local date and hour in `zone` are the UTC date and hour of `at`: a
/// charge period stated in UTC keeps its own calendar dates in the organization's zone. A
/// local time skipped by a daylight-saving change moves to the next hour.
fn on_billed_clock(at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    let naive = at.naive_utc();
    zone.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map_or(at, |local| local.with_timezone(&Utc))
}

/// Whether a row's quantity or cost is negative (a correction that takes back a charge).
fn is_negative(row: &Row<'_>) -> Result<bool, String> {
    let quantity = row
        .text("ConsumedQuantity")?
        .is_some_and(|q| q.trim_start().starts_with('-'));
    let cost = row
        .money("BilledCost")?
        .is_some_and(|c| c.is_sign_negative() && !c.is_zero());
    Ok(quantity || cost)
}

fn usage(
    row: &Row<'_>,
    spec: &SourceSpec,
    start: DateTime<Utc>,
    covered: Option<DateTime<Utc>>,
) -> Result<Charge, String> {
    let details = row.text("SkuPriceDetails")?.unwrap_or("{}");
    let details = Object::parse(details).map_err(|e| format!("column 'SkuPriceDetails': {e}"))?;
    let Some(kind) = token_kind(row, &details)? else {
        return invoice_line(row, spec, InvoiceKind::Usage, start).map(Charge::Invoice);
    };
    let quantity = row.tokens("ConsumedQuantity")?;
    let model = match details.text("ModelId")? {
        Some(model) => model,
        None => row
            .text("SkuId")?
            .ok_or("neither SkuPriceDetails.ModelId nor SkuId names the model")?
            .to_string(),
    };
    let billed = row
        .money("BilledCost")?
        .ok_or("column 'BilledCost' is empty")?;
    let record = UsageRecord {
        line: row.line,
        offset: row.offset,
        timestamp: start,
        request_id: None,
        caller: caller(row, spec)?,
        model,
        tokens: tokens_of(kind, quantity),
        calls: 1,
        provider_cost: Some(billed),
        currency: Some(row.required("BillingCurrency")?.to_ascii_uppercase()),
        success: true,
    };
    Ok(Charge::Usage(record, row.money("EffectiveCost")?, covered))
}

fn tokens_of(kind: TokenKind, quantity: u64) -> Tokens {
    let mut tokens = Tokens::default();
    match kind {
        TokenKind::Input => tokens.input = quantity,
        TokenKind::CacheRead => tokens.cached_input = quantity,
        TokenKind::CacheWrite => tokens.cache_write = quantity,
        TokenKind::CacheWrite1h => tokens.cache_write_1h = quantity,
        TokenKind::Output => tokens.output = quantity,
    }
    tokens
}

/// The kind of token a usage row bills, `None` when it bills no tokens.
fn token_kind(row: &Row<'_>, details: &Object<'_>) -> Result<Option<TokenKind>, String> {
    let action = details.text("TokenCacheAction")?.unwrap_or_default();
    let direction = match details.text("TokenDirection")? {
        Some(direction) => direction,
        None => details.text("TokenType")?.unwrap_or_default(),
    };
    let from_details = match (
        action.to_ascii_lowercase().as_str(),
        direction.to_ascii_lowercase(),
    ) {
        ("read", _) => Some(TokenKind::CacheRead),
        ("write", _) => Some(TokenKind::CacheWrite),
        (_, d) if d == "output" => Some(TokenKind::Output),
        (_, d) if d == "input" => Some(TokenKind::Input),
        _ => None,
    };
    if from_details.is_some() {
        return Ok(from_details);
    }
    for column in ["SkuMeter", "ConsumedUnit"] {
        if let Some(kind) = row.text(column)?.and_then(kind_from_text) {
            return Ok(Some(kind));
        }
    }
    Ok(None)
}

/// The kind named by a meter or unit such as `Cache Read Input Tokens`.
fn kind_from_text(text: &str) -> Option<TokenKind> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("token") {
        return None;
    }
    let one_hour = lower.contains("1h") || lower.contains("1 hour") || lower.contains("one hour");
    Some(
        if lower.contains("cache read") || lower.contains("cached") {
            TokenKind::CacheRead
        } else if lower.contains("cache write") || lower.contains("cache creation") {
            if one_hour {
                TokenKind::CacheWrite1h
            } else {
                TokenKind::CacheWrite
            }
        } else if lower.contains("output") || lower.contains("completion") {
            TokenKind::Output
        } else {
            TokenKind::Input
        },
    )
}

fn invoice_line(
    row: &Row<'_>,
    spec: &SourceSpec,
    kind: InvoiceKind,
    start: DateTime<Utc>,
) -> Result<InvoiceLine, String> {
    let amount = row
        .money("BilledCost")?
        .ok_or("column 'BilledCost' is empty")?;
    Ok(InvoiceLine {
        source: 0,
        line: row.line,
        kind,
        description: row.text("ChargeDescription")?.unwrap_or("").to_string(),
        amount,
        effective: row.money("EffectiveCost")?,
        currency: row.required("BillingCurrency")?.to_ascii_uppercase(),
        date: Some(start),
        corrects: (kind == InvoiceKind::Correction).then(|| start.format("%Y-%m").to_string()),
        caller: caller(row, spec)?,
    })
}

fn caller(row: &Row<'_>, spec: &SourceSpec) -> Result<Caller, String> {
    let mut tags = Vec::new();
    if let Some(id) = row.text("SubAccountId")? {
        tags.push(format!("subaccount:{id}"));
    }
    if let Some(text) = row.text("Tags")? {
        let object = Object::parse(text).map_err(|e| format!("column 'Tags': {e}"))?;
        for key in object.keys() {
            let value = object
                .text(key)
                .map_err(|e| format!("column 'Tags': {e}"))?;
            tags.push(format!("{key}:{}", value.unwrap_or_default()));
        }
    }
    let project = match row.text("SubAccountName")? {
        Some(name) => Some(name.to_string()),
        None => row.text("SubAccountId")?.map(str::to_string),
    };
    Ok(Caller {
        api_key: None,
        user: row.text("PrincipalId")?.map(str::to_string),
        project,
        team: None,
        tags,
        fallback_department: spec.default_department.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_kinds_from_meter_text() {
        assert_eq!(kind_from_text("Input Tokens"), Some(TokenKind::Input));
        assert_eq!(
            kind_from_text("Cache Read Input Tokens"),
            Some(TokenKind::CacheRead)
        );
        assert_eq!(
            kind_from_text("Cache Write Input Tokens"),
            Some(TokenKind::CacheWrite)
        );
        assert_eq!(
            kind_from_text("Cache Write 1h Input Tokens"),
            Some(TokenKind::CacheWrite1h)
        );
        assert_eq!(kind_from_text("Output Tokens"), Some(TokenKind::Output));
        assert_eq!(kind_from_text("Hours"), None);
    }

    #[test]
    fn one_row_bills_one_kind() {
        // 8,000,000 cache-read tokens are cached input only.
        let tokens = tokens_of(TokenKind::CacheRead, 8_000_000);
        assert_eq!(tokens.cached_input, 8_000_000);
        assert_eq!(tokens.total(), 8_000_000);
    }
}
