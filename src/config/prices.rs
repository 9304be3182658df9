//! Price lists beside the configured models: our own TOML table (the bundled default, or a
//! file given with `--prices`) and LiteLLM's public JSON price map.
//!
//! LiteLLM gives prices in USD per single token as JSON numbers (`3e-06`). Each number is
//! converted from its *text* (`3e-06` → `0.000003` → `3` per million), never through `f64`,
//! so that a price is exactly the one published.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{ConfigError, Dec, Model, Tier, parse_decimal};

/// The bundled default price table (generated from LiteLLM's price map).
pub const BUNDLED: &str = include_str!("../../assets/prices.toml");

/// A named list of model prices; its `source` is recorded on every line it prices.
#[derive(Debug, Clone)]
pub struct PriceList {
    /// Where the prices come from and which version (`LiteLLM price map, litellm 1.110.2`).
    pub source: String,
    /// The models, with per-million prices.
    pub models: Vec<Model>,
}

/// The shape of our TOML price table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    source: String,
    #[serde(default)]
    models: Vec<Model>,
}

/// The bundled table. It is checked by a test, so a parse failure here is a build defect;
/// an empty list is returned rather than stopping the program.
pub fn bundled() -> PriceList {
    from_toml(BUNDLED, Path::new("assets/prices.toml")).unwrap_or_else(|_| PriceList {
        source: "bundled price table (unreadable)".into(),
        models: Vec::new(),
    })
}

/// Reads a price file: LiteLLM's JSON map when it starts with `{`, else our TOML table.
pub fn from_file(path: &Path) -> Result<PriceList, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    if text.trim_start().starts_with('{') {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        from_litellm_json(&text, &format!("LiteLLM price map '{name}'"), path)
    } else {
        from_toml(&text, path)
    }
}

/// Parses our TOML price table.
pub fn from_toml(text: &str, origin: &Path) -> Result<PriceList, ConfigError> {
    let file: PriceFile = toml::from_str(text).map_err(|error| ConfigError::Syntax {
        path: origin.to_path_buf(),
        message: error.to_string(),
    })?;
    Ok(PriceList {
        source: file.source,
        models: file.models,
    })
}

/// One entry of LiteLLM's map, with the numbers kept as their text.
#[derive(Debug, Deserialize)]
struct LiteLlmEntry<'a> {
    #[serde(borrow, default)]
    input_cost_per_token: Option<&'a RawValue>,
    #[serde(borrow, default)]
    output_cost_per_token: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cache_read_input_token_cost: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cache_creation_input_token_cost: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cache_creation_input_token_cost_above_1hr: Option<&'a RawValue>,
    #[serde(default)]
    mode: Option<String>,
}

/// The modes whose prices are per token of text.
const TOKEN_MODES: [&str; 4] = ["chat", "completion", "responses", "embedding"];

/// Parses LiteLLM's JSON map: every entry of a token mode with an input and output price.
pub fn from_litellm_json(
    text: &str,
    source: &str,
    origin: &Path,
) -> Result<PriceList, ConfigError> {
    let entries = litellm_entries(text, origin)?;
    let mut models = Vec::new();
    for (name, raw) in &entries {
        if let Ok(Some(model)) = litellm_model(name, raw) {
            models.push(model);
        }
    }
    Ok(PriceList {
        source: source.to_string(),
        models,
    })
}

fn litellm_entries<'a>(
    text: &'a str,
    origin: &Path,
) -> Result<BTreeMap<&'a str, &'a RawValue>, ConfigError> {
    serde_json::from_str(text).map_err(|error| ConfigError::Syntax {
        path: origin.to_path_buf(),
        message: format!("expected LiteLLM's price map (a JSON object of models): {error}"),
    })
}

/// One LiteLLM entry as a model priced per million tokens; `None` when it is not priced per
/// token of text (images, audio, search, the `sample_spec` documentation entry).
fn litellm_model(name: &str, raw: &RawValue) -> Result<Option<Model>, String> {
    let entry: LiteLlmEntry = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
    if entry
        .mode
        .as_deref()
        .is_some_and(|m| !TOKEN_MODES.contains(&m))
        || name == "sample_spec"
    {
        return Ok(None);
    }
    let (Some(input), Some(output)) = (
        per_million(entry.input_cost_per_token)?,
        per_million(entry.output_cost_per_token)?,
    ) else {
        return Ok(None);
    };
    Ok(Some(Model {
        name: name.to_string(),
        aliases: Vec::new(),
        input: Dec(input),
        cached_input: per_million(entry.cache_read_input_token_cost)?.map(Dec),
        cache_write: per_million(entry.cache_creation_input_token_cost)?.map(Dec),
        cache_write_1h: per_million(entry.cache_creation_input_token_cost_above_1hr)?.map(Dec),
        output: Dec(output),
        complexity: Dec(Decimal::ONE),
        tier: Tier::Standard,
        effective_from: None,
    }))
}

/// A per-token price, written as JSON text, as a price per million tokens.
fn per_million(raw: Option<&RawValue>) -> Result<Option<Decimal>, String> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let text = raw.get().trim_matches('"');
    if text == "null" {
        return Ok(None);
    }
    let per_token = parse_decimal(text)?;
    Ok(Some((per_token * Decimal::from(1_000_000)).normalize()))
}

/// Which LiteLLM entry gives the price of each model of the bundled table: the name we use,
/// the map's key, and aliases the map does not list under the provider's own name. Where the
/// provider's own key is missing from the map (older Claude 4 models), the cloud reseller's
/// key of the same list price stands in.
pub const BUNDLED_MODELS: [(&str, &str, &[&str]); 37] = [
    ("gpt-4o", "gpt-4o", &[]),
    ("gpt-4o-mini", "gpt-4o-mini", &[]),
    ("gpt-4.1", "gpt-4.1", &[]),
    ("gpt-4.1-mini", "gpt-4.1-mini", &[]),
    ("gpt-4.1-nano", "gpt-4.1-nano", &[]),
    ("gpt-5", "gpt-5", &[]),
    ("gpt-5-mini", "gpt-5-mini", &[]),
    ("gpt-5-nano", "gpt-5-nano", &[]),
    ("gpt-5-pro", "gpt-5-pro", &[]),
    ("gpt-5.1", "gpt-5.1", &[]),
    ("gpt-5.2", "gpt-5.2", &[]),
    ("gpt-5.4", "gpt-5.4", &[]),
    ("gpt-5.4-mini", "gpt-5.4-mini", &[]),
    ("gpt-5.4-nano", "gpt-5.4-nano", &[]),
    ("gpt-5.5", "gpt-5.5", &[]),
    ("o1", "o1", &[]),
    ("o3", "o3", &[]),
    ("o3-mini", "o3-mini", &[]),
    ("o3-pro", "o3-pro", &[]),
    ("o4-mini", "o4-mini", &[]),
    ("text-embedding-3-small", "text-embedding-3-small", &[]),
    ("text-embedding-3-large", "text-embedding-3-large", &[]),
    (
        "claude-sonnet-4",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        &["claude-sonnet-4-20250514"],
    ),
    (
        "claude-opus-4",
        "anthropic.claude-opus-4-20250514-v1:0",
        &["claude-opus-4-20250514"],
    ),
    (
        "claude-opus-4-1",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        &["claude-opus-4-1-20250805"],
    ),
    ("claude-haiku-4-5", "claude-haiku-4-5", &[]),
    ("claude-sonnet-4-5", "claude-sonnet-4-5", &[]),
    ("claude-sonnet-4-6", "claude-sonnet-4-6", &[]),
    ("claude-opus-4-5", "claude-opus-4-5", &[]),
    ("claude-opus-4-6", "claude-opus-4-6", &[]),
    ("claude-opus-4-7", "claude-opus-4-7", &[]),
    ("gemini-2.5-pro", "gemini-2.5-pro", &[]),
    ("gemini-2.5-flash", "gemini-2.5-flash", &[]),
    ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite", &[]),
    ("deepseek-chat", "deepseek-chat", &[]),
    ("deepseek-reasoner", "deepseek-reasoner", &[]),
    ("mistral-large-latest", "mistral/mistral-large-latest", &[]),
];

/// Writes the bundled TOML table from LiteLLM's map: the models of [`BUNDLED_MODELS`], each
/// with the map's dated snapshots of the same price as aliases (`gpt-4o-2024-08-06`).
pub fn bundled_table_from_litellm(text: &str, version: &str) -> Result<String, String> {
    let entries =
        litellm_entries(text, Path::new("LiteLLM price map")).map_err(|e| e.to_string())?;
    let mut out = format!(
        "# The default price table: USD per million tokens of each kind.\n\
         #\n\
         # Generated from LiteLLM's model price map (model_prices_and_context_window.json,\n\
         # litellm {version}), converting each per-token number from its text. Prices in\n\
         # [[models]] of the configuration and in a --prices file take precedence.\n\
         #\n\
         # LiteLLM is MIT licensed, Copyright (c) 2023 Berri AI; see prices.LICENSE-litellm.\n\n\
         source = \"bundled LiteLLM price map (litellm {version})\"\n"
    );
    for (name, key, extra) in BUNDLED_MODELS {
        let raw = entries
            .get(key)
            .ok_or_else(|| format!("the map has no entry '{key}'"))?;
        let mut model = litellm_model(name, raw)?
            .ok_or_else(|| format!("entry '{key}' has no per-token input and output price"))?;
        model.aliases = extra.iter().map(|a| a.to_string()).collect();
        model
            .aliases
            .extend(dated_snapshots(&entries, name, &model));
        out.push('\n');
        out.push_str(&model_toml(&model));
    }
    Ok(out)
}

/// Keys without a provider prefix that are `name` plus a date and carry the same prices.
fn dated_snapshots(entries: &BTreeMap<&str, &RawValue>, name: &str, model: &Model) -> Vec<String> {
    let prefix = format!("{name}-20");
    entries
        .iter()
        .filter(|(key, _)| key.starts_with(&prefix) && !key.contains(['/', ':']))
        .filter_map(|(key, raw)| {
            let other = litellm_model(key, raw).ok().flatten()?;
            let same = other.input == model.input
                && other.output == model.output
                && other.cached_input == model.cached_input;
            same.then(|| key.to_string())
        })
        .collect()
}

fn model_toml(model: &Model) -> String {
    let mut out = format!("[[models]]\nname = \"{}\"\n", model.name);
    if !model.aliases.is_empty() {
        let quoted: Vec<String> = model.aliases.iter().map(|a| format!("\"{a}\"")).collect();
        out.push_str(&format!("aliases = [{}]\n", quoted.join(", ")));
    }
    out.push_str(&format!("input = \"{}\"\n", model.input.0));
    let optional = [
        ("cached_input", model.cached_input),
        ("cache_write", model.cache_write),
        ("cache_write_1h", model.cache_write_1h),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out.push_str(&format!("{key} = \"{}\"\n", value.0));
        }
    }
    out.push_str(&format!("output = \"{}\"\n", model.output.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn per_token_text_becomes_an_exact_price_per_million() {
        let map = r#"{
            "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0},
            "m": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                  "cache_read_input_token_cost": 3e-07,
                  "cache_creation_input_token_cost": 3.75e-06,
                  "cache_creation_input_token_cost_above_1hr": 6e-06, "mode": "chat"},
            "odd": {"input_cost_per_token": 1.1e-07, "output_cost_per_token": 4.4e-07},
            "img": {"input_cost_per_image": 0.04, "mode": "image_generation"}
        }"#;
        let list = from_litellm_json(map, "test", Path::new("map.json")).unwrap();
        let names: Vec<&str> = list.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["m", "odd"]);
        let m = &list.models[0];
        assert_eq!(m.input.0, d("3"));
        assert_eq!(m.output.0, d("15"));
        assert_eq!(m.cached_input.unwrap().0, d("0.3"));
        assert_eq!(m.cache_write.unwrap().0, d("3.75"));
        assert_eq!(m.cache_write_1h.unwrap().0, d("6"));
        // 1.1e-07 in f64 is 1.0999999999999999e-07; from its text it is exactly 0.11.
        assert_eq!(list.models[1].input.0, d("0.11"));
    }

    #[test]
    fn the_bundled_table_parses_and_prices_current_models() {
        let list = bundled();
        assert!(list.source.contains("LiteLLM"), "{}", list.source);
        assert_eq!(list.models.len(), BUNDLED_MODELS.len());
        let sonnet = list
            .models
            .iter()
            .find(|m| m.name == "claude-sonnet-4-5")
            .unwrap();
        assert_eq!(sonnet.input.0, d("3"));
        assert_eq!(sonnet.cache_write_1h.unwrap().0, d("6"));
    }

    #[test]
    fn a_broken_map_is_a_clear_error() {
        let error = from_litellm_json("{\"m\": {", "x", Path::new("map.json")).unwrap_err();
        assert!(error.to_string().contains("map.json"), "{error}");
        assert!(error.to_string().contains("price map"), "{error}");
    }
}
