//! The attribution as JSON.
//!
//! The document is the serialized [`Attribution`] with a `format_version`; amounts are
//! strings holding exact decimals (settled amounts to the cent, costs with full precision),
//! so that no reader converts money through floating point by accident. Fields are only ever
//! added within a format version.

use serde::Serialize;

use crate::calc::Attribution;
use crate::review::Checklist;

/// Version of the JSON layout.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    generator: String,
    #[serde(flatten)]
    attribution: &'a Attribution,
    #[serde(skip_serializing_if = "Option::is_none")]
    checklist: Option<&'a Checklist>,
}

/// Renders the attribution as pretty-printed JSON.
pub fn render(attribution: &Attribution) -> String {
    render_with(attribution, None)
}

/// Renders the attribution as pretty-printed JSON, with the review's checklist when given.
pub fn render_with(attribution: &Attribution, checklist: Option<&Checklist>) -> String {
    let document = Document {
        format_version: FORMAT_VERSION,
        generator: format!("apportion {}", env!("CARGO_PKG_VERSION")),
        attribution,
        checklist,
    };
    let mut text = serde_json::to_string_pretty(&document)
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
