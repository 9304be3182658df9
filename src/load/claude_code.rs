//! Claude Code session logs: JSON lines, one message per line, as the coding assistant
//! writes them under `projects/<project folder>/`.
//!
//! Token semantics: `input_tokens` is the *uncached* input; `cache_read_input_tokens` and
//! `cache_creation_input_tokens` are separate quantities that add to it (the cache writes
//! split into five-minute and one-hour writes when `cache_creation` gives the split).
//! `output_tokens` is the output, reasoning included. `costUSD`, when present, is kept as the
//! tool's own cost.
//!
//! Rows: only lines carrying `message.usage` are usage rows; user prompts, tool results and
//! summaries hold no tokens and are skipped. A line that cannot be read at all (not JSON, not
//! UTF-8) is a row and is rejected with its line. The same message is written on several
//! lines while it streams: it is identified by `message.id` and `requestId`, counted once,
//! and every repetition is rejected as a duplicate naming the first line.
//!
//! The caller: the project folder (the folder under `projects/`, else the file's folder) as
//! the project and `session:<sessionId>` as a tag; the source's `default_department` maps
//! what no rule does.

use std::path::Path;

use super::json::{self, Object};
use super::timestamp::parse_timestamp;
use super::{Caller, Dataset, Input, LoadError, Tokens, UsageRecord};
use crate::config::SourceSpec;

/// The format's name in reports and on the command line.
pub const NAME: &str = "claude-code";

/// Reads one session log.
pub fn read(dataset: &mut Dataset, spec: &SourceSpec, input: Input<'_>) -> Result<(), LoadError> {
    let name = input.name.clone();
    let project = project_folder(&name);
    let content = json::read_all(input)?;
    let pieces = json::pieces(&content.bytes, &name)?;
    let source = dataset.begin_source(&name, NAME);
    for piece in pieces {
        let parsed = piece
            .text
            .and_then(|text| parse(text, piece.line, piece.offset, &project, spec));
        match parsed {
            Ok(Some(record)) => dataset.accept(source, record),
            Ok(None) => {}
            Err(reason) => dataset.reject(source, piece.line, reason),
        }
    }
    dataset.finish_source(source, content.size, content.sha256);
    Ok(())
}

/// The project a log belongs to: the folder right under `projects`, else the file's folder.
fn project_folder(name: &str) -> Option<String> {
    let path = Path::new(name);
    let folders: Vec<String> = path
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    match folders.iter().rposition(|f| f == "projects") {
        Some(i) => folders.get(i + 1).cloned(),
        None => folders.last().cloned(),
    }
    .filter(|f| !f.is_empty() && f != ".")
}

/// One line as a record; `None` for a line that holds no usage.
fn parse(
    text: &str,
    line: u64,
    offset: u64,
    project: &Option<String>,
    spec: &SourceSpec,
) -> Result<Option<UsageRecord>, String> {
    let object = Object::parse(text)?;
    let message = object.object("message")?.unwrap_or_default();
    let Some(usage) = message.object("usage")? else {
        return Ok(None);
    };
    let stamp = object
        .text("timestamp")?
        .ok_or("field 'timestamp' is empty: expected when the message was written")?;
    let timestamp = parse_timestamp(&stamp, chrono_tz::Tz::UTC)
        .map_err(|e| format!("field 'timestamp': {e}"))?;
    let model = message
        .text("model")?
        .ok_or("field 'message.model' is empty: expected a model name")?;
    let mut tags = Vec::new();
    if let Some(session) = object.text("sessionId")? {
        tags.push(format!("session:{session}"));
    }
    let cost = object.money("costUSD")?;
    Ok(Some(UsageRecord {
        line,
        offset,
        timestamp,
        request_id: message_key(&object, &message)?,
        caller: Caller {
            project: project.clone(),
            tags,
            fallback_department: spec.default_department.clone(),
            ..Caller::default()
        },
        model,
        tokens: tokens(&usage)?,
        calls: 1,
        currency: cost.map(|_| "USD".to_string()),
        provider_cost: cost,
        success: true,
    }))
}

/// What identifies a message across the lines that repeat it.
fn message_key(object: &Object<'_>, message: &Object<'_>) -> Result<Option<String>, String> {
    let id = message.text("id")?;
    let request = object.text("requestId")?;
    Ok(match (id, request) {
        (Some(id), Some(request)) => Some(format!("{id}:{request}")),
        (id, request) => id.or(request),
    })
}

/// Separate token kinds: `input_tokens` holds no cached tokens.
fn tokens(usage: &Object<'_>) -> Result<Tokens, String> {
    let written = usage.tokens("cache_creation_input_tokens")?;
    let split = usage.object("cache_creation")?.unwrap_or_default();
    let written_1h = split.tokens("ephemeral_1h_input_tokens")?.min(written);
    Ok(Tokens {
        input: usage.tokens("input_tokens")?,
        cached_input: usage.tokens("cache_read_input_tokens")?,
        cache_write: written - written_1h,
        cache_write_1h: written_1h,
        output: usage.tokens("output_tokens")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_tokens_are_separate_from_input() {
        // 100 uncached + 10 read + 25 written (5 of them for an hour) + 50 output.
        let usage = Object::parse(
            r#"{"input_tokens": 100, "output_tokens": 50, "cache_creation_input_tokens": 25,
                "cache_read_input_tokens": 10,
                "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 5}}"#,
        )
        .unwrap();
        let tokens = tokens(&usage).unwrap();
        assert_eq!(
            tokens,
            Tokens {
                input: 100,
                cached_input: 10,
                cache_write: 20,
                cache_write_1h: 5,
                output: 50,
            }
        );
        assert_eq!(tokens.total(), 185);
    }

    #[test]
    fn the_project_is_the_folder_under_projects() {
        assert_eq!(
            project_folder("/home/a/.claude/projects/-home-a-shop/abc.jsonl").as_deref(),
            Some("-home-a-shop")
        );
        assert_eq!(
            project_folder("logs/project-alpha/chat.jsonl").as_deref(),
            Some("project-alpha")
        );
        assert_eq!(project_folder("chat.jsonl"), None);
    }

    #[test]
    fn lines_without_usage_are_not_rows() {
        let spec = crate::load::spec_for(&crate::sample::settings().unwrap(), "x.jsonl");
        let user = r#"{"type":"user","message":{"role":"user","content":"hi"},"timestamp":"2026-11-02T10:00:00Z"}"#;
        assert_eq!(parse(user, 1, 0, &None, &spec), Ok(None));
    }
}
