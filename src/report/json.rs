//! The attribution as JSON.
//!
//! The document is the serialized [`Attribution`] with a `format_version`; amounts are
//! strings holding exact decimals (settled amounts to the cent, costs with full precision),
//! so that no reader converts money through floating point by accident. Fields are only ever
//! added within a format version.

use serde::Serialize;

use crate::calc::Attribution;
use crate::calc::explain::Explanation;
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
    /// Only when the prior ledger is an archive: without one, the document is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    explanations: Option<&'a [Explanation]>,
}

/// Renders the attribution as pretty-printed JSON.
pub fn render(attribution: &Attribution) -> String {
    render_with(attribution, Extras::default())
}

/// The optional parts of the document.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// The review's checklist.
    pub checklist: Option<&'a Checklist>,
    /// Each department's change against the prior month, when the ledger is an archive.
    pub explanations: Option<&'a [Explanation]>,
}

/// Renders the attribution as pretty-printed JSON with the optional parts given.
pub fn render_with(attribution: &Attribution, extras: Extras<'_>) -> String {
    let document = Document {
        format_version: FORMAT_VERSION,
        generator: format!("apportion {}", env!("CARGO_PKG_VERSION")),
        attribution,
        checklist: extras.checklist,
        explanations: extras.explanations,
    };
    let mut text = serde_json::to_string_pretty(&document)
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
