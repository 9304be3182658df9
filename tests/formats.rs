//! Each source format read end to end, on the real files in `tests/data/fixtures/` and on
//! small files made from the documented shapes, with totals computed by hand.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use apportion::calc::{Attribution, calculate};
use apportion::config::Settings;
use apportion::load::{Dataset, Format, load_files_as};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A configuration for a month with two departments and whatever else the test adds.
fn settings(month: &str, extra: &str) -> Settings {
    let text = format!(
        r#"
[organization]
name = "Test"
time_zone = "UTC"
currency = "USD"

[period]
month = "{month}"

[[departments]]
name = "Research"
budget = 1000

[[departments]]
name = "Sales"
budget = 1000

{extra}
"#
    );
    Settings::from_toml(&text, Path::new("test.toml")).unwrap()
}

fn load(settings: &Settings, files: &[&str]) -> Dataset {
    let paths: Vec<PathBuf> = files.iter().map(|f| data(f)).collect();
    load_files_as(settings, &paths, None).unwrap()
}

fn attribution(settings: &Settings, dataset: &Dataset) -> Attribution {
    let today = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    calculate(settings, dataset, None, today)
}

/// Checks rows read = attributed + unattributed + rejected for every source.
fn assert_conserved(a: &Attribution) {
    assert!(a.conservation.holds(), "{}", a.conservation.line());
    for line in &a.conservation_by_source {
        assert!(line.holds(), "{}: {}", line.source, line.line());
    }
    assert_eq!(a.settled, a.amount_to_settle);
}

fn department<'a>(a: &'a Attribution, name: &str) -> &'a apportion::calc::DepartmentSummary {
    a.department(name)
        .unwrap_or_else(|| panic!("no department {name}"))
}

fn reasons(dataset: &Dataset) -> Vec<(u64, String)> {
    dataset
        .rejects
        .iter()
        .map(|r| (r.line, r.reason.clone()))
        .collect()
}

#[test]
fn azure_trace_through_the_generic_csv_with_a_source_default() {
    let s = settings(
        "2023-11",
        r#"
[[models]]
name = "azure-conv"
input = 1
output = 2

[[sources]]
pattern = "AzureLLMInferenceTrace_*.csv"
default_department = "Research"

[sources.columns]
timestamp = "TIMESTAMP"
input_tokens = "ContextTokens"
output_tokens = "GeneratedTokens"
default_model = "azure-conv"
"#,
    );
    let dataset = load(
        &s,
        &["fixtures/azure-llm-trace-2023/AzureLLMInferenceTrace_conv.csv"],
    );
    assert_eq!(dataset.sources[0].format, "generic-csv");
    let a = attribution(&s, &dataset);
    assert_conserved(&a);

    // 19,366 rows; the context and generated tokens of the file sum to 22,361,870 and
    // 4,088,665: 22.36187 × 1 + 4.088665 × 2 = 30.5392 per million.
    assert_eq!(a.conservation.rows_read, 19_366);
    assert_eq!(a.conservation.attributed, 19_366);
    let research = department(&a, "Research");
    assert_eq!(research.calls, 19_366);
    assert_eq!(research.tokens.input, 22_361_870);
    assert_eq!(research.tokens.output, 4_088_665);
    assert_eq!(a.list_cost, d("30.5392"));
    assert_eq!(a.amount_to_settle, d("30.54"));
    // Seven fractional digits, read as UTC.
    assert_eq!(a.period.data_through, NaiveDate::from_ymd_opt(2023, 11, 16));
}

#[test]
fn litellm_csv_json_and_json_lines_give_the_same_totals() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
team = "team-research"

[[mapping]]
department = "Sales"
team = "team-sales"
"#,
    );
    for file in [
        "litellm-2026-11.csv",
        "litellm-2026-11.json",
        "litellm-2026-11.jsonl",
    ] {
        let dataset = load(&s, &[file]);
        assert_eq!(dataset.sources[0].format, "litellm", "{file}");
        let a = attribution(&s, &dataset);
        assert_conserved(&a);
        assert_eq!(a.conservation.rows_read, 5, "{file}");
        assert_eq!(
            a.conservation.rejected,
            0,
            "{file}: {:?}",
            reasons(&dataset)
        );

        // Research: 1,000,000 prompt tokens of which 600,000 cache reads and 200,000 cache
        // writes, so 200,000 uncached; claude-sonnet-4-5 at 3 / 0.3 / 3.75 / 15:
        // 0.6 + 0.18 + 0.75 + 3.0 = 4.53.
        let research = department(&a, "Research");
        assert_eq!(research.tokens.input, 200_000, "{file}");
        assert_eq!(research.tokens.cached_input, 600_000);
        assert_eq!(research.tokens.cache_write, 200_000);
        assert_eq!(research.list_cost, d("4.53"), "{file}");

        // Sales: 2,000,000 prompt tokens of which 1,000,000 cached, 100,000 output; gpt-4o at
        // 2.5 / 1.25 / 10: 2.5 + 1.25 + 1.0 = 4.75. The retrieval and the cache hit are calls
        // without tokens; the failed call is counted, not charged.
        let sales = department(&a, "Sales");
        assert_eq!((sales.calls, sales.failed_calls), (3, 1), "{file}");
        assert_eq!(sales.tokens.total(), 2_100_000, "{file}");
        assert_eq!(sales.list_cost, d("4.75"), "{file}");
        assert_eq!(a.amount_to_settle, d("9.28"));
        assert!(
            a.mismatches.is_empty(),
            "{file}: spend equals the list cost: {:?}",
            a.mismatches
        );
    }
}

#[test]
fn the_same_request_in_two_files_is_counted_once() {
    let s = settings("2026-11", "");
    let dataset = load(&s, &["litellm-2026-11.csv", "litellm-2026-11.jsonl"]);
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    assert_eq!(a.conservation.rows_read, 10);
    assert_eq!(a.conservation.rejected, 5);
    let (line, reason) = &reasons(&dataset)[0];
    assert_eq!(*line, 1);
    assert!(
        reason.contains("duplicate of request 'chatcmpl-a1' first seen at")
            && reason.contains("litellm-2026-11.csv:2"),
        "{reason}"
    );
    assert_eq!(a.list_cost, d("9.28"));
}

#[test]
fn openai_usage_buckets_count_their_requests() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
project = "proj_research"

[[mapping]]
department = "Sales"
project = "proj_sales"
"#,
    );
    let dataset = load(&s, &["openai-usage-2026-11.json"]);
    assert_eq!(dataset.sources[0].format, "openai-usage");
    let a = attribution(&s, &dataset);
    assert_conserved(&a);

    // gpt-4o-2024-08-06 (a dated gpt-4o): 1,000,000 input of which 400,000 cached,
    // 100,000 output: 0.6 × 2.5 + 0.4 × 1.25 + 0.1 × 10 = 3.00, in 20 requests.
    let research = department(&a, "Research");
    assert_eq!(research.calls, 20);
    assert_eq!(research.tokens.input, 600_000);
    assert_eq!(research.list_cost, d("3.00"));
    // gpt-4o-mini: 0.2 × 0.15 + 0.05 × 0.6 = 0.06 in 5 requests.
    let sales = department(&a, "Sales");
    assert_eq!(sales.calls, 5);
    assert_eq!(sales.list_cost, d("0.06"));

    // The result without a model cannot be priced: rejected with its line.
    assert_eq!(a.conservation.rejected, 1);
    let (line, reason) = &reasons(&dataset)[0];
    assert_eq!(*line, 46, "the line where the result's object opens");
    assert!(reason.contains("group_by=model"), "{reason}");
}

#[test]
fn openai_costs_are_the_invoice_usage() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
project = "proj_research"

[[mapping]]
department = "Sales"
project = "proj_sales"
"#,
    );
    let dataset = load(
        &s,
        &["openai-usage-2026-11.json", "openai-costs-2026-11.json"],
    );
    assert_eq!(dataset.sources[1].format, "openai-costs");
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    // The costs API bills 3.10 + 0.06 = 3.16 against a list cost of 3.06: a gap of 0.10.
    assert_eq!(a.billed_usage, Some(d("3.16")));
    assert_eq!(a.amount_to_settle, d("3.16"));
    assert_eq!(a.gap, d("0.10"));
    assert!(a.from_invoice);
    // Both cost rows map by project: attributed.
    assert_eq!(a.conservation_by_source[1].attributed, 2);
}

#[test]
fn openai_cost_csv_with_commas_in_line_items_and_another_currency() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
project = "proj_research"
"#,
    );
    let dataset = load(&s, &["openai-costs-2026-11.csv"]);
    assert_eq!(dataset.sources[0].format, "openai-cost-csv");
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    // 2.00 + 1.10 + 0.06 in dollars; the row in euros has no rate and is rejected.
    assert_eq!(a.billed_usage, Some(d("3.16")));
    assert_eq!(
        dataset.invoice_lines[0].description,
        "gpt-4o-2024-08-06, input"
    );
    assert_eq!(a.conservation.attributed, 2);
    assert_eq!(a.conservation.unattributed, 1);
    let (line, reason) = &reasons(&dataset)[0];
    assert_eq!(*line, 5);
    assert!(
        reason.contains("'EUR'") && reason.contains("exchange rate"),
        "{reason}"
    );

    // With an explicit rate the row is converted and the rate is reported.
    let with_rate = settings(
        "2026-11",
        r#"
[[exchange_rates]]
currency = "EUR"
rate = "1.10"
"#,
    );
    let dataset = load(&with_rate, &["openai-costs-2026-11.csv"]);
    let a = attribution(&with_rate, &dataset);
    assert_conserved(&a);
    // 3.16 + 5.00 × 1.10 = 8.66.
    assert_eq!(a.billed_usage, Some(d("8.66")));
    assert_eq!(a.exchange_rates.len(), 1);
    assert_eq!(a.exchange_rates[0].rate, d("1.10"));
    assert_eq!(a.exchange_rates[0].rows, 1);
}

#[test]
fn cost_lines_mapped_by_project_are_settled_to_their_department() {
    let mapping = r#"
[[mapping]]
department = "Research"
project = "proj_research"

[[mapping]]
department = "Sales"
project = "proj_sales"

[[exchange_rates]]
currency = "EUR"
rate = "1.10"
"#;
    let s = settings("2026-11", mapping);
    let dataset = load(&s, &["openai-costs-2026-11.csv"]);
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    // Research: 2.00 + 1.10 = 3.10; Sales: 0.06 + 5.00 × 1.10 = 5.56. No logs, so no list
    // cost: each department pays exactly what its projects were billed.
    assert_eq!(a.amount_to_settle, d("8.66"));
    assert_eq!(department(&a, "Research").settled, d("3.10"));
    assert_eq!(department(&a, "Sales").settled, d("5.56"));
    assert!(
        a.shared
            .iter()
            .all(|l| l.name != apportion::calc::settle::GAP_LINE),
        "nothing is left to share"
    );

    // With only Research mapped, the Sales rows are unmapped: that part is shared, and with
    // no usage to weigh by, the proportional split is an even one and is labelled so.
    let s = settings(
        "2026-11",
        &mapping.replace(
            "department = \"Sales\"\nproject = \"proj_sales\"",
            "department = \"Sales\"\nproject = \"nothing\"",
        ),
    );
    let dataset = load(&s, &["openai-costs-2026-11.csv"]);
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    let gap = a
        .shared
        .iter()
        .find(|l| l.name == apportion::calc::settle::GAP_LINE)
        .expect("the unmapped part is shared");
    assert_eq!(gap.amount, d("5.56"));
    assert_eq!(gap.strategy, apportion::config::Strategy::Even);
    assert_eq!(gap.by_department.get("Research"), Some(&d("2.78")));
    assert_eq!(gap.by_department.get("Sales"), Some(&d("2.78")));
    assert_eq!(department(&a, "Research").settled, d("5.88"));
}

#[test]
fn openai_usage_and_costs_give_each_department_its_own_gap() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
project = "proj_research"

[[mapping]]
department = "Sales"
project = "proj_sales"
"#,
    );
    let dataset = load(
        &s,
        &["openai-usage-2026-11.json", "openai-costs-2026-11.json"],
    );
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    // Research is billed 3.10 for a list cost of 3.00, Sales 0.06 for 0.06: the 0.10 gap
    // is Research's alone.
    let research_gap = a
        .shared
        .iter()
        .find(|l| l.name == apportion::calc::settle::department_gap_name("Research"))
        .expect("Research's part of the gap");
    assert_eq!(research_gap.amount, d("0.10"));
    assert_eq!(research_gap.by_department.get("Research"), Some(&d("0.10")));
    assert!(
        a.shared
            .iter()
            .all(|l| l.name != apportion::calc::settle::GAP_LINE)
    );
}

#[test]
fn anthropic_usage_and_cost_report() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
project = "wrkspc_research"
"#,
    );
    let dataset = load(
        &s,
        &[
            "anthropic-usage-2026-11.json",
            "anthropic-cost-2026-11.json",
        ],
    );
    assert_eq!(dataset.sources[0].format, "anthropic-usage");
    assert_eq!(dataset.sources[1].format, "anthropic-cost");
    let a = attribution(&s, &dataset);
    assert_conserved(&a);

    // claude-sonnet-4-5 at 3 / 0.3 / 3.75 (5 min) / 6 (1 h) / 15 per million:
    // 1.0 × 3 + 2.0 × 0.3 + 0.4 × 3.75 + 0.2 × 6 + 0.1 × 15 = 3 + 0.6 + 1.5 + 1.2 + 1.5 = 7.80.
    let research = department(&a, "Research");
    assert_eq!(research.tokens.cache_write, 400_000);
    assert_eq!(research.tokens.cache_write_1h, 200_000);
    assert_eq!(research.list_cost, d("7.80"));
    // The cost report's 780.5 cents are 7.805 dollars, 7.81 to the cent: a gap of 0.01.
    assert_eq!(a.billed_usage, Some(d("7.805")));
    assert_eq!(a.amount_to_settle, d("7.81"));
    assert_eq!(research.settled, d("7.81"));
    let price = &a.lines[0].price.as_ref().unwrap();
    assert_eq!(price.cache_write_1h, d("6"));
    assert!(price.source.contains("LiteLLM"), "{}", price.source);
}

#[test]
fn one_hour_cache_writes_without_a_one_hour_rate_follow_the_provider_rule() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
project = "wrkspc_research"

[[models]]
name = "claude-sonnet-4-5"
aliases = ["claude-sonnet-4-5-*"]
input = "3"
cached_input = "0.3"
cache_write = "3.75"
output = "15"
"#,
    );
    let dataset = load(&s, &["anthropic-usage-2026-11.json"]);
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    // No one-hour rate listed: the 200,000 one-hour writes are priced at 2 × 3 = 6, as
    // Anthropic bills them, not at the five-minute 3.75:
    // 1.0 × 3 + 2.0 × 0.3 + 0.4 × 3.75 + 0.2 × 6 + 0.1 × 15 = 7.80.
    assert_eq!(department(&a, "Research").list_cost, d("7.80"));
    let price = a.lines[0].price.as_ref().unwrap();
    assert_eq!(price.cache_write_1h, d("6"));
    assert!(
        price
            .source
            .contains(apportion::calc::pricing::ONE_HOUR_BY_RULE),
        "{}",
        price.source
    );
}

#[test]
fn focus_prompt_caching_fixture() {
    let s = settings(
        "2025-01",
        r#"
[[models]]
name = "solora-reasoning-pro"
input = "3.0"
cached_input = "0.3"
cache_write = "3.75"
output = "15.0"

[[sources]]
pattern = "focus_*"
default_department = "Research"
"#,
    );
    let dataset = load(&s, &["fixtures/focus/focus_ai_prompt_caching_a.csv"]);
    assert_eq!(dataset.sources[0].format, "focus");
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    let research = department(&a, "Research");
    // One kind per row: 500,000 input, 8,000,000 read, 2,000,000 written, 1,500,000 output.
    assert_eq!(research.tokens.input, 500_000);
    assert_eq!(research.tokens.cached_input, 8_000_000);
    assert_eq!(research.tokens.cache_write, 2_000_000);
    assert_eq!(research.tokens.output, 1_500_000);
    // 0.5 × 3 + 8 × 0.3 + 2 × 3.75 + 1.5 × 15 = 1.5 + 2.4 + 7.5 + 22.5 = 33.90, which is
    // exactly what the bill charges (1.5 + 7.5 + 2.4 + 22.5).
    assert_eq!(research.list_cost, d("33.9"));
    assert_eq!(a.billed_usage, Some(d("33.9")));
    assert_eq!(a.gap, Decimal::ZERO);
    assert_eq!(dataset.sources[0].effective_usage, Some(d("33.9")));
}

#[test]
fn focus_periods_keep_their_utc_dates_and_monthly_charges_are_not_extrapolated() {
    // The same January bill as above, for an organization in New York: its periods start at
    // 2025-01-01T00:00Z, which is still 31 December in New York, but a billing period is
    // placed by its own dates.
    let text = r#"
[organization]
name = "Test"
time_zone = "America/New_York"
currency = "USD"

[period]
month = "2025-01"

[[departments]]
name = "Research"
budget = 40

[[models]]
name = "solora-reasoning-pro"
input = "3.0"
cached_input = "0.3"
cache_write = "3.75"
output = "15.0"

[[sources]]
pattern = "focus_*"
default_department = "Research"
"#;
    let s = Settings::from_toml(text, Path::new("test.toml")).unwrap();
    let dataset = load(&s, &["fixtures/focus/focus_ai_prompt_caching_a.csv"]);
    assert_eq!(reasons(&dataset), []);
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    let research = department(&a, "Research");
    assert_eq!(research.list_cost, d("33.9"));
    // The charges cover the whole month: the data reaches its end and nothing is projected
    // (33.90 on a budget of 40 stays 33.90 at close, not 33.90 × 31).
    assert_eq!(a.period.data_through, NaiveDate::from_ymd_opt(2025, 1, 31));
    assert_eq!(a.period.days_without_data, 0);
    assert_eq!(research.projection.at_close, d("33.90"));
}

#[test]
fn focus_negative_correction_inside_the_period_is_kept() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
project = "research"
"#,
    );
    let dataset = load(&s, &["focus-correction-2026-11.csv"]);
    assert_eq!(reasons(&dataset), []);
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    assert_eq!(a.conservation.attributed, 2);
    // 1,000,000 gpt-4o input at 2.50, then a correction of -0.50 for tokens billed twice.
    let correction = a
        .shared
        .iter()
        .find(|l| l.name == "Correction of 2026-11: Input tokens billed twice")
        .expect("the correction is kept as a line");
    assert_eq!(correction.amount, d("-0.50"));
    assert_eq!(correction.by_department.get("Research"), Some(&d("-0.50")));
    assert_eq!(a.amount_to_settle, d("2.00"));
    assert_eq!(department(&a, "Research").settled, d("2.00"));
}

#[test]
fn focus_fixtures_map_by_principal() {
    let s = settings(
        "2025-05",
        r#"
[[mapping]]
department = "Research"
user = "person1@example.com"

[[mapping]]
department = "Sales"
user = "cto@acmecorp.example"

[[models]]
name = "solora-neptune-5.0"
input = "1.0"
cached_input = "0.2"
cache_write = "2.5"
output = "5.0"

[[models]]
name = "solora-saturn-4.8"
input = "5.0"
output = "25.0"
"#,
    );
    let dataset = load(
        &s,
        &[
            "fixtures/focus/focus_cached_tokens_via_csp_marketplace.csv",
            "fixtures/focus/focus_per_token_foundation_model_api.csv",
        ],
    );
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    // Marketplace: 50M read × 0.2 + 15M written × 2.5 = 10 + 37.5 = 47.50.
    assert_eq!(department(&a, "Sales").list_cost, d("47.5"));
    // Direct: 8.4M input × 5 + 2.1M output × 25 = 42 + 52.5 = 94.50.
    assert_eq!(department(&a, "Research").list_cost, d("94.5"));
    assert_eq!(a.billed_usage, Some(d("142.00")));
    assert_eq!(a.amount_to_settle, d("142.00"));
}

#[test]
fn focus_charges_taxes_credits_and_corrections() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Research"
project = "research"

[[mapping]]
department = "Sales"
project = "sales"

[[mapping]]
department = "Research"
tag = "team:research"

[[exchange_rates]]
currency = "EUR"
rate = "1.10"
note = "ECB reference rate of 2026-11-30"
"#,
    );
    let dataset = load(&s, &["focus-charges-2026-11.csv"]);
    let a = attribution(&s, &dataset);
    assert_conserved(&a);

    // 11 rows: 2 usage rows attributed; the support plan maps by its tag (attributed);
    // VAT, the credit, the correction and the euro adjustment are shared (unattributed);
    // the pound tax, the unknown category, the negative tokens and December's row are
    // rejected.
    let c = &a.conservation;
    assert_eq!(
        (c.rows_read, c.attributed, c.unattributed, c.rejected),
        (11, 3, 4, 4)
    );
    let rejected: Vec<u64> = dataset.rejects.iter().map(|r| r.line).collect();
    assert_eq!(rejected, [9, 10, 11, 12]);
    let text = reasons(&dataset);
    assert!(text[0].1.contains("'GBP'"), "{}", text[0].1);
    assert!(text[1].1.contains("'Refund'"), "{}", text[1].1);
    assert!(text[2].1.contains("negative"), "{}", text[2].1);
    assert!(text[3].1.contains("outside the period"), "{}", text[3].1);

    // Usage: Research 2.50, Sales 1.00 (proportions 5/7 and 2/7); billed 3.50.
    // Shared: VAT 0.70 → 0.50 / 0.20; credit -0.50 → -0.36 / -0.14; correction -0.40 →
    // -0.29 / -0.11; adjustment 1.00 EUR × 1.10 = 1.10 → 0.79 / 0.31; support plan 3.00 to
    // Research. Amount: 3.50 + 0.70 - 0.50 - 0.40 + 1.10 + 3.00 = 7.40.
    assert_eq!(a.amount_to_settle, d("7.40"));
    assert_eq!(department(&a, "Research").settled, d("6.14"));
    assert_eq!(department(&a, "Sales").settled, d("1.26"));
    let names: Vec<&str> = a.shared.iter().map(|l| l.name.as_str()).collect();
    assert!(names.contains(&"Credit: Promotional credit"), "{names:?}");
    assert!(
        names.contains(&"Correction of 2026-10: Correction of October usage"),
        "{names:?}"
    );
    let credit = a
        .shared
        .iter()
        .find(|l| l.name.starts_with("Credit"))
        .unwrap();
    assert_eq!(credit.amount, d("-0.50"));
    assert_eq!(a.exchange_rates[0].currency, "EUR");
    assert_eq!(a.exchange_rates[0].rows, 1);
    // EffectiveCost is kept beside BilledCost: 2.25 + 0.90.
    assert_eq!(dataset.sources[0].effective_usage, Some(d("3.15")));
}

#[test]
fn claude_code_session_fixture() {
    let s = settings(
        "2026-01",
        r#"
[[mapping]]
department = "Research"
project = "project-alpha"
"#,
    );
    let dataset = load(
        &s,
        &["fixtures/ccusage/projects/project-alpha/session-alpha/chat.jsonl"],
    );
    assert_eq!(dataset.sources[0].format, "claude-code");
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    assert_eq!(a.conservation.attributed, 3);

    // claude-sonnet-4 (two messages): 400 input, 50 read, 25 written, 175 output at
    // 3 / 0.3 / 3.75 / 15: (1,200 + 15 + 93.75 + 2,625) / 10^6 = 0.00393375.
    // claude-opus-4: 200 input, 20 read, 50 written, 75 output at 15 / 1.5 / 18.75 / 75:
    // (3,000 + 30 + 937.5 + 5,625) / 10^6 = 0.0095925.
    let by_model = |m: &str| a.lines.iter().find(|l| l.model == m).unwrap();
    assert_eq!(by_model("claude-sonnet-4").list_cost, d("0.00393375"));
    assert_eq!(by_model("claude-opus-4").list_cost, d("0.0095925"));
    // The tool's own costs (0.12 + 0.56 and 0.34) are kept and compared.
    assert_eq!(by_model("claude-sonnet-4").provider_cost, Some(d("0.68")));
    assert_eq!(by_model("claude-opus-4").provider_cost, Some(d("0.34")));
}

#[test]
fn forced_format_and_unknown_files() {
    let s = settings("2026-11", "");
    let error = load_files_as(&s, &[data("fixtures/README.md")], None).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("README.md: the format is not recognised"),
        "{text}"
    );
    for format in Format::ALL {
        assert!(text.contains(format.name()), "{text}");
    }

    // A LiteLLM export forced through the generic reader fails on its columns, by name.
    let forced = load_files_as(
        &s,
        &[data("litellm-2026-11.csv")],
        Some(Format::OpenaiCostCsv),
    )
    .unwrap_err();
    assert!(forced.to_string().contains("'amount_value'"), "{forced}");
}

#[test]
fn a_mid_month_price_change_reprices_only_later_calls() {
    let s = settings(
        "2026-11",
        r#"
[[mapping]]
department = "Sales"
team = "team-sales"

[[models]]
name = "gpt-4o"
input = "2.5"
cached_input = "1.25"
output = "10"

[[models]]
name = "gpt-4o"
input = "5"
cached_input = "2.5"
output = "20"
effective_from = "2026-11-03"
"#,
    );
    let dataset = load(&s, &["litellm-2026-11.csv"]);
    let a = attribution(&s, &dataset);
    // Sales' only charged call is on the 3rd: 1.0 × 5 + 1.0 × 2.5 + 0.1 × 20 = 9.50.
    assert_eq!(department(&a, "Sales").list_cost, d("9.5"));
    let line = a.lines.iter().find(|l| l.model == "gpt-4o").unwrap();
    let price = line.price.as_ref().unwrap();
    assert_eq!(price.source, "configuration from 2026-11-03");
    // Research's claude-sonnet-4-5 is priced by the bundled table and says so.
    let claude = a
        .lines
        .iter()
        .find(|l| l.model == "claude-sonnet-4-5")
        .unwrap();
    assert!(
        claude
            .price
            .as_ref()
            .unwrap()
            .source
            .starts_with("bundled LiteLLM")
    );

    // Moved after the call, the new price leaves it at the old one: 4.75.
    let later = settings(
        "2026-11",
        r#"
[[models]]
name = "gpt-4o"
input = "2.5"
cached_input = "1.25"
output = "10"

[[models]]
name = "gpt-4o"
input = "5"
output = "20"
effective_from = "2026-11-04"
"#,
    );
    let a = attribution(&later, &load(&later, &["litellm-2026-11.csv"]));
    let line = a.lines.iter().find(|l| l.model == "gpt-4o").unwrap();
    assert_eq!(line.list_cost, d("4.75"));
}

#[test]
fn unpriced_models_stay_a_mismatch() {
    let s = settings(
        "2025-01",
        r#"
[prices]
bundled = false

[[sources]]
pattern = "focus_*"
default_department = "Research"
"#,
    );
    let dataset = load(&s, &["fixtures/focus/focus_ai_prompt_caching_a.csv"]);
    let a = attribution(&s, &dataset);
    assert_conserved(&a);
    assert_eq!(a.unpriced.len(), 1);
    assert_eq!(a.unpriced[0].model, "solora-reasoning-pro");
    assert_eq!(a.unpriced[0].tokens.total(), 12_000_000);
    assert_eq!(a.list_cost, Decimal::ZERO);
    assert!(a.mismatches.iter().any(|m| m.text.contains("has no price")));
    // The department whose calls are unpriced is not normal, and its line is marked.
    let research = department(&a, "Research");
    assert_eq!(research.status, apportion::calc::Status::Warning);
    assert!(
        research
            .reasons
            .iter()
            .any(|r| r.kind == "unpriced_model" && r.text.contains("solora-reasoning-pro")),
        "{:?}",
        research.reasons
    );
    assert!(
        a.lines
            .iter()
            .all(|l| l.mismatches.contains(&apportion::calc::MismatchKind::Price))
    );
}

#[test]
fn exchange_rates_are_validated() {
    let text = r#"
[organization]
name = "Test"
time_zone = "UTC"

[period]
month = "2026-11"

[[exchange_rates]]
currency = "usd"
rate = 1

[[exchange_rates]]
currency = "USD"
rate = 1

[[exchange_rates]]
currency = "EUR"
rate = "-1.1"

[[sources]]
pattern = "*.json"
format = "parquet"
"#;
    let error = Settings::from_toml(text, Path::new("t.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("exchange_rates[0].currency: expected a three-letter"),
        "{error}"
    );
    assert!(
        error.contains("exchange_rates[1].currency: 'USD' is the settlement currency"),
        "{error}"
    );
    assert!(
        error.contains("exchange_rates[2].rate: expected more than zero"),
        "{error}"
    );
    assert!(
        error.contains("sources[0].format: 'parquet' is not a known format"),
        "{error}"
    );
}
