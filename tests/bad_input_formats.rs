//! Bad input in every format: each problem is a clear error naming the file (and line), or a
//! rejection of that one row with its line and reason, and nothing else is lost.

use std::path::Path;

use apportion::config::Settings;
use apportion::load::{Dataset, LoadError, load_files_as};

fn settings() -> Settings {
    let text = r#"
[organization]
name = "Test"
time_zone = "UTC"

[period]
month = "2026-11"
"#;
    Settings::from_toml(text, Path::new("test.toml")).unwrap()
}

/// Writes `bytes` to a file called `name` in a fresh folder and reads it.
fn read(name: &str, bytes: &[u8]) -> Result<Dataset, LoadError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    load_files_as(&settings(), &[path], None)
}

/// The rejects as (line, reason), after checking that every row is accounted for.
fn rejects(dataset: &Dataset) -> Vec<(u64, String)> {
    for source in &dataset.sources {
        assert_eq!(
            source.rows_read,
            source.accepted + source.invoice_rows + source.rejected,
            "{}",
            source.name
        );
    }
    dataset
        .rejects
        .iter()
        .map(|r| (r.line, r.reason.clone()))
        .collect()
}

const LITELLM_HEADER: &str =
    "request_id,spend,prompt_tokens,completion_tokens,startTime,model,team_id\n";

#[test]
fn litellm_truncated_json_array_names_the_file_and_line() {
    let text = b"[\n  {\"request_id\": \"a\", \"spend\": 0.1, \"prompt_tokens\": 5,\n   \"completion_tokens\": ";
    let error = read("spend.json", text).unwrap_err();
    assert!(error.path.ends_with("spend.json"));
    assert_eq!(error.line, Some(3));
    assert!(
        error.message.contains("not a complete JSON document"),
        "{error}"
    );
}

#[test]
fn litellm_json_lines_keep_every_good_line() {
    let text = concat!(
        "{\"request_id\": \"a\", \"spend\": 0.1, \"prompt_tokens\": 5, \"completion_tokens\": 1, \"startTime\": \"2026-11-02T10:00:00Z\", \"model\": \"gpt-4o\"}\n",
        "{\"request_id\": \"b\", \"spend\": 0.1, \"prompt_tokens\": \"many\", \"completion_tokens\": 1, \"startTime\": \"2026-11-02T10:00:00Z\", \"model\": \"gpt-4o\"}\n",
        "{\"request_id\": \"c\", \"spend\": 0.1, \"prompt_tokens\": 5, \"completion_tokens\": 1, \"startTime\": \"2026-11-02T10:00:00Z\", \"model\": \"gpt-4o\"}\n",
        "{\"request_id\": \"d\", \"spend\": 0.1, \"prompt_t",
    );
    let dataset = read("spend.jsonl", text.as_bytes()).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].accepted, 2);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].0, 2);
    assert!(
        found[0].1.contains("'many' is not a whole number"),
        "{}",
        found[0].1
    );
    assert_eq!(found[1].0, 4);
    assert!(found[1].1.contains("not a JSON object"), "{}", found[1].1);
}

#[test]
fn litellm_csv_missing_column_is_named() {
    let text = "request_id,spend,prompt_tokens,startTime,model\nr,0.1,5,2026-11-02T10:00:00Z,m\n";
    let error = read("spend.csv", text.as_bytes()).unwrap_err();
    assert_eq!(error.line, Some(1));
    assert!(error.message.contains("'completion_tokens'"), "{error}");
}

#[test]
fn litellm_csv_bad_rows_are_rejected_with_their_lines() {
    let text = format!(
        "{LITELLM_HEADER}\
         a,0.1,5,1,2026-11-02T10:00:00Z,gpt-4o,t\n\
         b,0.1,-5,1,2026-11-02T10:00:00Z,gpt-4o,t\n\
         c,0.1,5,1,2026-10-31T10:00:00Z,gpt-4o,t\n\
         a,0.1,5,1,2026-11-02T10:00:00Z,gpt-4o,t\n\
         e,lots,5,1,2026-11-02T10:00:00Z,gpt-4o,t\n"
    );
    let mut bytes = text.into_bytes();
    bytes.extend(b"f,0.1,5,1,2026-11-02T10:00:00Z,gpt-4o,\xff\n");
    let dataset = read("spend.csv", &bytes).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].rows_read, 6);
    assert_eq!(dataset.sources[0].accepted, 1);
    let lines: Vec<u64> = found.iter().map(|r| r.0).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7]);
    assert!(
        found[0].1.contains("negative token count"),
        "{}",
        found[0].1
    );
    assert!(found[1].1.contains("outside the period"), "{}", found[1].1);
    assert!(
        found[2].1.contains("duplicate of request 'a'"),
        "{}",
        found[2].1
    );
    assert!(found[2].1.contains("spend.csv:2"), "{}", found[2].1);
    assert!(
        found[3].1.contains("'lots' is not a decimal amount"),
        "{}",
        found[3].1
    );
    assert!(found[4].1.contains("not valid UTF-8"), "{}", found[4].1);
}

#[test]
fn claude_code_repeated_message_outside_period_and_broken_bytes() {
    let line = |id: &str, day: &str| {
        format!(
            "{{\"timestamp\":\"{day}T10:00:00Z\",\"sessionId\":\"s\",\"requestId\":\"req-{id}\",\
             \"message\":{{\"id\":\"msg-{id}\",\"model\":\"claude-sonnet-4-5\",\
             \"usage\":{{\"input_tokens\":10,\"output_tokens\":5}}}}}}\n"
        )
    };
    let mut bytes = Vec::new();
    bytes.extend(line("1", "2026-11-02").as_bytes());
    bytes.extend(line("1", "2026-11-02").as_bytes());
    bytes.extend(line("2", "2026-12-01").as_bytes());
    bytes.extend(b"{\"type\":\"user\",\"sessionId\":\"s\",\"message\":{\"content\":\"\xff\"}}\n");
    bytes.extend(b"{\"type\":\"user\",\"sessionId\":\"s\",\"message\":{\"content\":\"hi\"}}\n");
    let dataset = read("chat.jsonl", &bytes).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].format, "claude-code");
    assert_eq!(dataset.sources[0].accepted, 1);
    let lines: Vec<u64> = found.iter().map(|r| r.0).collect();
    assert_eq!(lines, [2, 3, 4], "{found:?}");
    assert!(found[0].1.contains("chat.jsonl:1"), "{}", found[0].1);
    assert!(found[1].1.contains("outside the period"), "{}", found[1].1);
    assert!(found[2].1.contains("not UTF-8"), "{}", found[2].1);
}

#[test]
fn openai_usage_negative_tokens_and_truncated_page() {
    let page = r#"{"object": "page", "data": [{"start_time": 1793577600, "results": [
        {"input_tokens": 10, "output_tokens": 1, "num_model_requests": 1, "model": "gpt-4o"},
        {"input_tokens": -10, "output_tokens": 1, "num_model_requests": 1, "model": "gpt-4o"}
    ]}]}"#;
    let dataset = read("usage.json", page.as_bytes()).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].accepted, 1);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 3);
    assert!(
        found[0].1.contains("field 'input_tokens': negative"),
        "{}",
        found[0].1
    );

    let truncated = &page[..page.len() - 40];
    let error = read("usage.json", truncated.as_bytes()).unwrap_err();
    assert!(
        error.message.contains("not a complete JSON document"),
        "{error}"
    );
}

#[test]
fn anthropic_cost_in_an_unknown_currency_is_rejected() {
    let page = r#"{"data": [{"starting_at": "2026-11-02T00:00:00Z", "results": [
        {"currency": "USD", "amount": "150", "workspace_id": "w"},
        {"currency": "XYZ", "amount": "150", "workspace_id": "w"},
        {"currency": "USD", "amount": "a lot", "workspace_id": "w"}
    ]}]}"#;
    let dataset = read("cost.json", page.as_bytes()).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].invoice_rows, 1);
    assert_eq!(dataset.invoice_lines[0].amount.to_string(), "1.50");
    assert_eq!(found.len(), 2);
    assert!(found[0].1.contains("'XYZ'"), "{}", found[0].1);
    assert!(
        found[1].1.contains("'a lot' is not a decimal amount"),
        "{}",
        found[1].1
    );
}

#[test]
fn focus_missing_column_and_bad_rows() {
    let error = read(
        "bill.csv",
        b"BilledCost,ChargeCategory,BillingCurrency\n1,Usage,USD\n",
    )
    .unwrap_err();
    assert!(error.message.contains("'ChargePeriodStart'"), "{error}");

    let mut bytes = b"BilledCost,BillingCurrency,ChargeCategory,ChargePeriodStart,ConsumedQuantity,SkuMeter,SkuId\n".to_vec();
    bytes.extend(b"1.00,USD,Usage,2026-11-02T00:00:00Z,1000,Input Tokens,m-in\n");
    bytes.extend(b"1.00,USD,Usage,2026-11-02T00:00:00Z,ten,Input Tokens,m-in\n");
    bytes.extend(b"1.00,USD,Usage,2026-11-02T00:00:00Z,1000,Input Tokens,m-\xff\n");
    bytes.extend(b"1.00,USD,Usage\n");
    let dataset = read("bill.csv", &bytes).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].accepted, 1);
    let lines: Vec<u64> = found.iter().map(|r| r.0).collect();
    assert_eq!(lines, [3, 4, 5], "{found:?}");
    assert!(found[0].1.contains("'ten'"), "{}", found[0].1);
    assert!(found[1].1.contains("not valid UTF-8"), "{}", found[1].1);
    assert!(found[2].1.contains("expected 7 fields"), "{}", found[2].1);
}

#[test]
fn openai_costs_pages_bad_results_and_truncation() {
    // One page per line: line 2 is cut off in a bad byte, the others keep their results.
    let mut bytes = Vec::new();
    bytes.extend(
        br#"{"data": [{"start_time": 1793577600, "results": [{"amount": {"value": 3.1, "currency": "usd"}, "line_item": "gpt-4o, input", "project_id": "p"}, {"amount": {"value": "lots", "currency": "usd"}, "line_item": "gpt-4o, output", "project_id": "p"}]}]}"#,
    );
    bytes.extend(b"\n{\"data\": [{\"start_time\": 1793577600, \"results\": [{\"amount\": {\"value\": 1, \"currency\": \"usd\"}, \"line_item\": \"m-\xff\"}]}]}\n");
    bytes.extend(
        br#"{"data": [{"start_time": 1793404800, "results": [{"amount": {"value": 0.5, "currency": "usd"}, "line_item": "gpt-4o, input"}]}, {"start_time": 1793577600, "results": [{"amount": {"value": 0.5, "currency": "xyz"}, "line_item": "gpt-4o, input"}, {"line_item": "gpt-4o, input"}, {"amount": {"value": 0.25, "currency": "usd"}, "line_item": "gpt-4o-mini, input"}]}]}"#,
    );
    bytes.push(b'\n');
    let dataset = read("costs.json", &bytes).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].format, "openai-costs");
    assert_eq!(dataset.sources[0].rows_read, 7);
    assert_eq!(dataset.sources[0].invoice_rows, 2);
    let amounts: Vec<String> = dataset
        .invoice_lines
        .iter()
        .map(|l| l.amount.to_string())
        .collect();
    assert_eq!(amounts, ["3.1", "0.25"]);
    let lines: Vec<u64> = found.iter().map(|r| r.0).collect();
    assert_eq!(lines, [1, 2, 3, 3, 3], "{found:?}");
    assert!(
        found[0].1.contains("'lots' is not a decimal amount"),
        "{}",
        found[0].1
    );
    assert!(found[1].1.contains("not UTF-8"), "{}", found[1].1);
    assert!(found[2].1.contains("outside the period"), "{}", found[2].1);
    assert!(found[3].1.contains("'XYZ'"), "{}", found[3].1);
    assert!(found[4].1.contains("no 'amount'"), "{}", found[4].1);

    let page = "{\"data\": [{\"start_time\": 1793577600,\n \"results\": [{\"amount\": {\"value\": 3.1, \"currency\": \"usd\"},\n \"line_item\": \"gpt-4o, in";
    let error = read("costs.json", page.as_bytes()).unwrap_err();
    assert!(error.path.ends_with("costs.json"));
    assert_eq!(error.line, Some(3));
    assert!(
        error.message.contains("not a complete JSON document"),
        "{error}"
    );
}

const COST_CSV_HEADER: &str = "start_time,end_time,amount_value,amount_currency,line_item,project_id,project_name,organization_id,organization_name\n";

#[test]
fn openai_cost_csv_missing_column_is_named() {
    let text = "start_time,end_time,amount_value,line_item,project_id\n\
                2026-11-02T00:00:00Z,2026-11-03T00:00:00Z,2.0,\"gpt-4o, input\",p\n";
    let error = read("costs.csv", text.as_bytes()).unwrap_err();
    assert!(error.path.ends_with("costs.csv"));
    assert_eq!(error.line, Some(1));
    assert!(error.message.contains("'amount_currency'"), "{error}");
}

#[test]
fn openai_cost_csv_bad_rows_are_rejected_with_their_lines() {
    let day = "2026-11-02T00:00:00Z,2026-11-03T00:00:00Z";
    let text = format!(
        "{COST_CSV_HEADER}\
         {day},2.0,usd,\"gpt-4o, input\",p,Research,org,Org\n\
         {day},ten,usd,\"gpt-4o, output\",p,Research,org,Org\n\
         {day},1.0,xyz,\"gpt-4o, input\",p,Research,org,Org\n\
         2026-10-31T00:00:00Z,2026-11-01T00:00:00Z,1.0,usd,\"gpt-4o, input\",p,Research,org,Org\n\
         {day},1.0,usd,\"gpt-4o, input\"\n\
         yesterday,2026-11-03T00:00:00Z,1.0,usd,\"gpt-4o, input\",p,Research,org,Org\n"
    );
    let mut bytes = text.into_bytes();
    bytes.extend(format!("{day},1.0,usd,\"gpt-4o, in").as_bytes());
    bytes.extend(b"\xffput\",p,Research,org,Org\n");
    bytes.extend(format!("{day},-0.5,usd,\"gpt-4o, credit\",p,Research,org,Org\n").as_bytes());
    let dataset = read("costs.csv", &bytes).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].format, "openai-cost-csv");
    assert_eq!(dataset.sources[0].rows_read, 8);
    assert_eq!(dataset.sources[0].invoice_rows, 2);
    let amounts: Vec<String> = dataset
        .invoice_lines
        .iter()
        .map(|l| l.amount.to_string())
        .collect();
    // A negative amount is a credit: kept, never dropped.
    assert_eq!(amounts, ["2", "-0.5"]);
    assert_eq!(dataset.invoice_lines[0].description, "gpt-4o, input");
    let lines: Vec<u64> = found.iter().map(|r| r.0).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8], "{found:?}");
    assert!(
        found[0].1.contains("'ten' is not a decimal amount"),
        "{}",
        found[0].1
    );
    assert!(found[1].1.contains("'XYZ'"), "{}", found[1].1);
    assert!(found[2].1.contains("outside the period"), "{}", found[2].1);
    assert!(found[3].1.contains("expected 9 fields"), "{}", found[3].1);
    assert!(found[4].1.contains("'start_time'"), "{}", found[4].1);
    assert!(found[5].1.contains("not valid UTF-8"), "{}", found[5].1);
}

#[test]
fn anthropic_usage_bad_results_duplicates_and_truncation() {
    let result = |input: &str, model: &str, key: &str| {
        format!(
            "{{\"uncached_input_tokens\": {input}, \"cache_read_input_tokens\": 0, \
             \"cache_creation\": {{\"ephemeral_5m_input_tokens\": 0, \"ephemeral_1h_input_tokens\": 0}}, \
             \"output_tokens\": 10, \"api_key_id\": \"{key}\", \"workspace_id\": \"w\"{model}}}"
        )
    };
    let model = ", \"model\": \"claude-sonnet-4-5\"";
    let page = |start: &str, results: &[String]| {
        format!(
            "{{\"data\": [{{\"starting_at\": \"{start}\", \"results\": [{}]}}]}}\n",
            results.join(", ")
        )
    };
    let mut bytes = Vec::new();
    // Line 1: a good result, negative tokens, words for tokens, no model.
    bytes.extend(
        page(
            "2026-11-02T00:00:00Z",
            &[
                result("100", model, "k1"),
                result("-100", model, "k2"),
                result("\"many\"", model, "k3"),
                result("100", "", "k4"),
            ],
        )
        .as_bytes(),
    );
    // Line 2: the first result again (the same page read twice) and a new one.
    bytes.extend(
        page(
            "2026-11-02T00:00:00Z",
            &[result("100", model, "k1"), result("50", model, "k5")],
        )
        .as_bytes(),
    );
    // Line 3: a bucket of October.
    bytes.extend(page("2026-10-31T00:00:00Z", &[result("100", model, "k1")]).as_bytes());
    // Line 4: a bad byte loses that page only.
    bytes.extend(b"{\"data\": [{\"starting_at\": \"2026-11-03T00:00:00Z\", \"results\": [{\"model\": \"m\xff\"}]}]}\n");
    // Line 5: a good page after it.
    bytes.extend(page("2026-11-04T00:00:00Z", &[result("70", model, "k1")]).as_bytes());
    let dataset = read("usage.json", &bytes).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].format, "anthropic-usage");
    assert_eq!(dataset.sources[0].rows_read, 9);
    assert_eq!(dataset.sources[0].accepted, 3);
    let lines: Vec<u64> = found.iter().map(|r| r.0).collect();
    assert_eq!(lines, [1, 1, 1, 2, 3, 4], "{found:?}");
    assert!(
        found[0].1.contains("'uncached_input_tokens': negative"),
        "{}",
        found[0].1
    );
    assert!(
        found[1].1.contains("'many' is not a whole number"),
        "{}",
        found[1].1
    );
    assert!(found[2].1.contains("no model"), "{}", found[2].1);
    assert!(
        found[3].1.contains("duplicate of request"),
        "{}",
        found[3].1
    );
    assert!(found[3].1.contains("usage.json:1"), "{}", found[3].1);
    assert!(found[4].1.contains("outside the period"), "{}", found[4].1);
    assert!(found[5].1.contains("not UTF-8"), "{}", found[5].1);

    let truncated = "{\"data\": [{\"starting_at\": \"2026-11-02T00:00:00Z\",\n\"results\": [{\"uncached_input_tokens\": 1";
    let error = read("usage.json", truncated.as_bytes()).unwrap_err();
    assert!(error.path.ends_with("usage.json"));
    assert_eq!(error.line, Some(2));
    assert!(
        error.message.contains("not a complete JSON document"),
        "{error}"
    );
}

#[test]
fn generic_csv_duplicate_request_is_rejected_naming_the_first() {
    let text = "timestamp,request_id,user,model,input_tokens,output_tokens\n\
                2026-11-02T10:00:00Z,r1,ana,gpt-4o,100,10\n\
                2026-11-02T11:00:00Z,r2,ana,gpt-4o,200,20\n\
                2026-11-02T12:00:00Z,r1,ana,gpt-4o,100,10\n\
                2026-11-02T13:00:00Z,r3,ana,gpt-4o,300,30\n";
    let dataset = read("calls.csv", text.as_bytes()).unwrap();
    let found = rejects(&dataset);
    assert_eq!(dataset.sources[0].format, "generic-csv");
    assert_eq!(dataset.sources[0].rows_read, 4);
    assert_eq!(dataset.sources[0].accepted, 3);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 4);
    assert!(
        found[0].1.contains("duplicate of request 'r1'"),
        "{}",
        found[0].1
    );
    assert!(found[0].1.contains("calls.csv:2"), "{}", found[0].1);
}
