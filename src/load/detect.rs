//! Which format a source is in, told from its content: the header of a CSV file, or the
//! field names of a JSON file.
//!
//! Only the first 64 KiB are looked at; they are then put back in front of the rest, so the
//! loader (and the hash of the input) still sees every byte.

use std::io::{Cursor, Read};

use super::{Dataset, Input, LoadError};
use super::{anthropic, claude_code, focus, generic, litellm, openai};
use crate::config::SourceSpec;

/// How much of an input is looked at.
const HEAD: u64 = 64 * 1024;

/// A source format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV read through the configured column map.
    GenericCsv,
    /// LiteLLM proxy spend logs (CSV, JSON array or JSON lines).
    Litellm,
    /// OpenAI organization usage API pages (completions).
    OpenaiUsage,
    /// OpenAI organization costs API pages.
    OpenaiCosts,
    /// OpenAI dashboard cost export (CSV).
    OpenaiCostCsv,
    /// Anthropic admin usage report (messages).
    AnthropicUsage,
    /// Anthropic admin cost report.
    AnthropicCost,
    /// FOCUS 1.0 to 1.3 billing data (CSV).
    Focus,
    /// Claude Code session logs (JSON lines).
    ClaudeCode,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 9] = [
        Format::Focus,
        Format::Litellm,
        Format::OpenaiCostCsv,
        Format::ClaudeCode,
        Format::OpenaiUsage,
        Format::OpenaiCosts,
        Format::AnthropicUsage,
        Format::AnthropicCost,
        Format::GenericCsv,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::GenericCsv => generic::NAME,
            Format::Litellm => litellm::NAME,
            Format::OpenaiUsage => openai::USAGE,
            Format::OpenaiCosts => openai::COSTS,
            Format::OpenaiCostCsv => openai::COST_CSV,
            Format::AnthropicUsage => anthropic::USAGE,
            Format::AnthropicCost => anthropic::COST,
            Format::Focus => focus::NAME,
            Format::ClaudeCode => claude_code::NAME,
        }
    }

    /// What a file of the format looks like, for the message when nothing matches.
    pub fn signature(self) -> &'static str {
        match self {
            Format::GenericCsv => "a CSV header with the configured timestamp column",
            Format::Litellm => "'request_id', 'spend' and 'prompt_tokens' (CSV or JSON)",
            Format::OpenaiUsage => "JSON pages whose results have 'num_model_requests'",
            Format::OpenaiCosts => "JSON pages whose results have 'amount' and 'line_item'",
            Format::OpenaiCostCsv => "a CSV header with 'amount_value' and 'line_item'",
            Format::AnthropicUsage => "JSON pages whose results have 'uncached_input_tokens'",
            Format::AnthropicCost => "JSON pages whose results have 'amount' and 'currency'",
            Format::Focus => "a CSV header with 'ChargeCategory' and 'BilledCost'",
            Format::ClaudeCode => "JSON lines with 'sessionId' and 'message'",
        }
    }

    /// The format of a name (`litellm`), if any.
    pub fn from_name(name: &str) -> Option<Format> {
        let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
        Format::ALL.into_iter().find(|f| f.name() == wanted)
    }

    /// Every name, for messages and `--help`.
    pub fn names() -> Vec<&'static str> {
        Format::ALL.iter().map(|f| f.name()).collect()
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Format, String> {
        Format::from_name(name).ok_or_else(|| {
            format!(
                "'{name}' is not a format (expected one of {})",
                Format::names().join(", ")
            )
        })
    }
}

/// Reads one input in the format given, or in the one its content shows.
pub fn read(
    dataset: &mut Dataset,
    spec: &SourceSpec,
    input: Input<'_>,
    forced: Option<Format>,
) -> Result<(), LoadError> {
    let (head, input) = peek(input)?;
    if let Some(encoding) = utf16(&head) {
        return Err(LoadError::new(
            &input.name,
            None,
            format!(
                "the file is {encoding} text; expected UTF-8: save it as UTF-8 (\"CSV UTF-8\" \
                 in a spreadsheet) and load it again"
            ),
        ));
    }
    let format = match forced {
        Some(format) => format,
        None => detect(&head, spec).ok_or_else(|| unknown(&input.name, &head))?,
    };
    match format {
        Format::GenericCsv => generic::read(dataset, spec, input),
        Format::Litellm => litellm::read(dataset, spec, input),
        Format::OpenaiUsage => openai::read_usage(dataset, spec, input),
        Format::OpenaiCosts => openai::read_costs(dataset, spec, input),
        Format::OpenaiCostCsv => openai::read_cost_csv(dataset, spec, input),
        Format::AnthropicUsage => anthropic::read_usage(dataset, spec, input),
        Format::AnthropicCost => anthropic::read_cost(dataset, spec, input),
        Format::Focus => focus::read(dataset, spec, input),
        Format::ClaudeCode => claude_code::read(dataset, spec, input),
    }
}

/// The UTF-16 encoding a head is in, by its byte-order mark or, without one, by the zero
/// bytes that UTF-16 puts beside every ASCII character. Spreadsheets save "Unicode text" so;
/// read as UTF-8 it would give a header of garbled names.
fn utf16(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xFF, 0xFE, ..] => return Some("UTF-16 (little-endian)"),
        [0xFE, 0xFF, ..] => return Some("UTF-16 (big-endian)"),
        _ => {}
    }
    let pairs: Vec<&[u8]> = head.chunks_exact(2).take(32).collect();
    let all = |test: fn(&[u8]) -> bool| pairs.len() >= 4 && pairs.iter().all(|p| test(p));
    if all(|p| p[0] != 0 && p[1] == 0) {
        Some("UTF-16 (little-endian)")
    } else if all(|p| p[0] == 0 && p[1] != 0) {
        Some("UTF-16 (big-endian)")
    } else {
        None
    }
}

/// Reads the head of an input and gives back an input that still starts at its first byte.
fn peek(input: Input<'_>) -> Result<(Vec<u8>, Input<'_>), LoadError> {
    let Input { name, reader, .. } = input;
    let mut head = Vec::new();
    let mut reader = reader;
    (&mut reader)
        .take(HEAD)
        .read_to_end(&mut head)
        .map_err(|error| LoadError::new(&name, None, format!("cannot read: {error}")))?;
    let whole = Cursor::new(head.clone()).chain(reader);
    Ok((
        head,
        Input {
            name,
            reader: Box::new(whole),
            reopen: None,
        },
    ))
}

/// The format the head of an input shows, if any.
pub fn detect(head: &[u8], spec: &SourceSpec) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if text.starts_with(['{', '[']) {
        detect_json(&json_keys(text))
    } else {
        detect_csv(&csv_header(text), spec)
    }
}

fn detect_csv(header: &[String], spec: &SourceSpec) -> Option<Format> {
    let has = |name: &str| header.iter().any(|h| h == name);
    if has("chargecategory") && has("billedcost") {
        Some(Format::Focus)
    } else if has("requestid") && has("spend") && has("prompttokens") {
        Some(Format::Litellm)
    } else if has("amountvalue") && has("lineitem") {
        Some(Format::OpenaiCostCsv)
    } else if has(&normalize(&spec.columns.timestamp)) {
        Some(Format::GenericCsv)
    } else {
        None
    }
}

fn detect_json(keys: &[String]) -> Option<Format> {
    let has = |name: &str| keys.iter().any(|k| k == name);
    if has("sessionId") && has("message") {
        Some(Format::ClaudeCode)
    } else if has("spend") && (has("request_id") || has("prompt_tokens")) {
        Some(Format::Litellm)
    } else if has("num_model_requests") || has("input_cached_tokens") {
        Some(Format::OpenaiUsage)
    } else if has("uncached_input_tokens") {
        Some(Format::AnthropicUsage)
    } else if has("amount") && has("line_item") {
        Some(Format::OpenaiCosts)
    } else if has("amount") && has("currency") {
        Some(Format::AnthropicCost)
    } else {
        None
    }
}

/// Header names compare without case, spaces, underscores or hyphens.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn csv_header(text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or("");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(first.as_bytes());
    reader
        .records()
        .next()
        .and_then(Result::ok)
        .map(|record| record.iter().map(normalize).collect())
        .unwrap_or_default()
}

/// The object keys in a piece of JSON text (which may be cut off): each string followed by
/// a colon.
fn json_keys(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut keys = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        let mut next = end + 1;
        while next < bytes.len() && bytes[next].is_ascii_whitespace() {
            next += 1;
        }
        if next < bytes.len() && bytes[next] == b':' {
            keys.push(String::from_utf8_lossy(&bytes[start..end.min(bytes.len())]).into_owned());
        }
        i = end + 1;
    }
    keys
}

/// The error for an input no format matches.
fn unknown(name: &str, head: &[u8]) -> LoadError {
    let mut message = String::from("the format is not recognised");
    let text = String::from_utf8_lossy(head);
    // Control characters and bytes that are not text are shown escaped, so that a binary
    // file does not garble the terminal.
    let first: String = text
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(120)
        .flat_map(|c| {
            if c.is_control() || c == '\u{fffd}' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if head.iter().all(u8::is_ascii_whitespace) {
        message.push_str(" (the file is empty)");
    } else if text.trim() == "[]" {
        message.push_str(" (an empty JSON array: no rows to tell the format by)");
    } else if !first.trim().is_empty() {
        message.push_str(&format!(" (it starts with '{}')", first.trim()));
    }
    message.push_str("; expected one of:");
    for format in Format::ALL {
        message.push_str(&format!("\n  {:<17} {}", format.name(), format.signature()));
    }
    message.push_str(
        "\nName the format with --input-format, or map the columns of a generic CSV in the \
         configuration's [[sources]]",
    );
    LoadError::new(name, None, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16_le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn utf16_is_told_by_its_mark_or_its_zero_bytes() {
        let header = "timestamp,api_key,model,input_tokens,output_tokens\n";
        let marked = [&[0xFF, 0xFE][..], &utf16_le(header)].concat();
        assert_eq!(utf16(&marked), Some("UTF-16 (little-endian)"));
        assert_eq!(utf16(&utf16_le(header)), Some("UTF-16 (little-endian)"));
        let big: Vec<u8> = header.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(utf16(&big), Some("UTF-16 (big-endian)"));
        assert_eq!(utf16(header.as_bytes()), None);
        assert_eq!(utf16("zoë,Müller,東京\n".as_bytes()), None);
        assert_eq!(utf16(b"a"), None);
    }

    #[test]
    fn an_empty_json_array_says_it_has_no_rows_to_tell_the_format_by() {
        let error = unknown("usage.json", b"[]\n").to_string();
        assert!(
            error.starts_with(
                "usage.json: the format is not recognised (an empty JSON array: no rows"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_utf16_file_is_refused_with_its_encoding() {
        let settings = crate::sample::settings().unwrap();
        let text = utf16_le("timestamp,api_key,model,input_tokens,output_tokens\n");
        let input = Input::from_bytes("logs.csv", &text);
        let error = crate::load::load_inputs(&settings, vec![input]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("logs.csv: the file is UTF-16 (little-endian) text; expected UTF-8"),
            "{error}"
        );
    }

    fn spec() -> SourceSpec {
        SourceSpec {
            pattern: "*".into(),
            time_zone: None,
            default_department: None,
            format: None,
            columns: Default::default(),
        }
    }

    fn detected(text: &str) -> Option<&'static str> {
        detect(text.as_bytes(), &spec()).map(Format::name)
    }

    #[test]
    fn csv_headers() {
        assert_eq!(
            detected("\u{feff}BilledCost,ChargeCategory,x\n1,Usage,2"),
            Some("focus")
        );
        assert_eq!(
            detected("request_id,call_type,api_key,spend,prompt_tokens\n"),
            Some("litellm")
        );
        assert_eq!(
            detected("start_time,end_time,amount_value,amount_currency,line_item\n"),
            Some("openai-cost-csv")
        );
        assert_eq!(
            detected("timestamp,model,input_tokens\n"),
            Some("generic-csv")
        );
        assert_eq!(detected("when,what\n"), None);
    }

    #[test]
    fn json_shapes_even_when_cut_off() {
        assert_eq!(
            detected(r#"{"timestamp":"x","sessionId":"s","message":{"usage":{"#),
            Some("claude-code")
        );
        assert_eq!(
            detected(r#"[{"request_id": "r", "spend": 0.1, "prompt_tokens": "#),
            Some("litellm")
        );
        assert_eq!(
            detected(r#"{"object":"page","data":[{"results":[{"num_model_requests":"#),
            Some("openai-usage")
        );
        assert_eq!(
            detected(r#"{"data":[{"results":[{"amount":{"value":1},"line_item":null"#),
            Some("openai-costs")
        );
        assert_eq!(
            detected(r#"{"data":[{"results":[{"uncached_input_tokens":1"#),
            Some("anthropic-usage")
        );
        assert_eq!(
            detected(r#"{"data":[{"results":[{"currency":"USD","amount":"12.5"}]}]}"#),
            Some("anthropic-cost")
        );
        assert_eq!(detected(r#"{"hello": "world"}"#), None);
    }

    #[test]
    fn names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
        assert_eq!(Format::from_name("CLAUDE_CODE"), Some(Format::ClaudeCode));
        assert!("nope".parse::<Format>().unwrap_err().contains("litellm"));
    }

    #[test]
    fn an_unknown_file_lists_the_formats() {
        let error = unknown("logs.txt", b"hello,world\n");
        let text = error.to_string();
        assert!(
            text.starts_with("logs.txt: the format is not recognised"),
            "{text}"
        );
        assert!(text.contains("'hello,world'"));
        for format in Format::ALL {
            assert!(text.contains(format.name()), "{text}");
        }
    }
}
