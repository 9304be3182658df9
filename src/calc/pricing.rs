//! Prices and complexity of models, and the list cost of a bucket's tokens.
//!
//! A model name from a source is matched, ignoring case, first against the canonical names
//! and exact aliases, then against the alias globs in configuration order (dated snapshots
//! such as `claude-sonnet-4-*`), then with a provider prefix removed (`openai/gpt-4o`).
//! A name that matches nothing is *unpriced*: it is reported and blocks the settlement, and is
//! never costed at zero silently.

use std::collections::HashMap;

use globset::{GlobBuilder, GlobMatcher};
use rust_decimal::Decimal;

use crate::config::Model;
use crate::load::Tokens;

/// The compiled price table.
#[derive(Debug, Clone)]
pub struct PriceTable {
    models: Vec<Model>,
    exact: HashMap<String, usize>,
    globs: Vec<(GlobMatcher, usize)>,
}

/// One million, the unit prices are given per.
const PER: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

impl PriceTable {
    /// Compiles the models of a configuration.
    pub fn new(models: &[Model]) -> PriceTable {
        let mut exact = HashMap::new();
        let mut globs = Vec::new();
        for (index, model) in models.iter().enumerate() {
            for name in std::iter::once(&model.name).chain(&model.aliases) {
                if name.contains(['*', '?', '[', '{']) {
                    if let Ok(glob) = GlobBuilder::new(name).case_insensitive(true).build() {
                        globs.push((glob.compile_matcher(), index));
                    }
                } else {
                    exact.entry(name.to_ascii_lowercase()).or_insert(index);
                }
            }
        }
        PriceTable {
            models: models.to_vec(),
            exact,
            globs,
        }
    }

    /// The model a source's model name refers to.
    pub fn lookup(&self, name: &str) -> Option<&Model> {
        self.find(name.trim()).or_else(|| {
            let (_, bare) = name.trim().rsplit_once('/')?;
            self.find(bare)
        })
    }

    fn find(&self, name: &str) -> Option<&Model> {
        let lower = name.to_ascii_lowercase();
        if let Some(&index) = self.exact.get(&lower) {
            return Some(&self.models[index]);
        }
        self.globs
            .iter()
            .find(|(glob, _)| glob.is_match(&lower))
            .map(|(_, index)| &self.models[*index])
    }
}

/// The list cost of tokens at a model's prices (per million tokens of each kind).
///
/// Cached input falls back to the input price and cache writes to the input price when the
/// model has no separate rate; one-hour cache writes are priced as cache writes here, since
/// the configuration format has one cache-write rate.
pub fn list_cost(tokens: &Tokens, model: &Model) -> Decimal {
    let input = model.input.0;
    let cached = model.cached_input.map_or(input, |p| p.0);
    let write = model.cache_write.map_or(input, |p| p.0);
    let sum = Decimal::from(tokens.input) * input
        + Decimal::from(tokens.cached_input) * cached
        + Decimal::from(tokens.cache_write + tokens.cache_write_1h) * write
        + Decimal::from(tokens.output) * model.output.0;
    sum / PER
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Dec, Tier};
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn model(name: &str, aliases: &[&str]) -> Model {
        Model {
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            input: Dec(d("2.50")),
            cached_input: Some(Dec(d("1.25"))),
            cache_write: None,
            output: Dec(d("10")),
            complexity: Dec(d("1.5")),
            tier: Tier::Premium,
        }
    }

    #[test]
    fn names_aliases_globs_and_prefixes() {
        let table = PriceTable::new(&[
            model("gpt-4o", &["gpt-4o-2024-*"]),
            model("gpt-4o-mini", &[]),
        ]);
        assert_eq!(table.lookup("GPT-4o").unwrap().name, "gpt-4o");
        assert_eq!(table.lookup("gpt-4o-2024-08-06").unwrap().name, "gpt-4o");
        assert_eq!(table.lookup("gpt-4o-mini").unwrap().name, "gpt-4o-mini");
        assert_eq!(
            table.lookup("openai/gpt-4o-mini").unwrap().name,
            "gpt-4o-mini"
        );
        assert!(table.lookup("o1-preview").is_none());
    }

    #[test]
    fn list_cost_by_kind() {
        // 1,000,000 input at 2.50 + 200,000 cached at 1.25 + 100,000 written at 2.50 (input
        // price, no write rate) + 50,000 output at 10 = 2.5 + 0.25 + 0.25 + 0.5 = 3.50
        let tokens = Tokens {
            input: 1_000_000,
            cached_input: 200_000,
            cache_write: 100_000,
            cache_write_1h: 0,
            output: 50_000,
        };
        assert_eq!(list_cost(&tokens, &model("m", &[])), d("3.5"));
    }
}
