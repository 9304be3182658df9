//! Prices and complexity of models, and the list cost of a bucket's tokens.
//!
//! A model name from a source is matched, ignoring case, first against the canonical names
//! and exact aliases, then against the alias globs in configuration order (dated snapshots
//! such as `claude-sonnet-4-*`), then with a provider prefix removed (`openai/gpt-4o`).
//! A name that matches nothing is *unpriced*: it is reported and blocks the settlement, and is
//! never costed at zero silently.
//!
//! Prices come from several lists, consulted in order: the configuration's `[[models]]`, then
//! a `--prices` file, then the bundled table. The first list that knows a name prices it, and
//! its source is recorded on the line. Within a list a model may appear once per
//! `effective_from` date: a call is priced at the version in force on its local day.

use std::collections::HashMap;

use chrono::NaiveDate;
use globset::{GlobBuilder, GlobMatcher};
use rust_decimal::Decimal;

use crate::config::{Model, PriceList};
use crate::load::Tokens;

/// The source recorded for prices of the configuration's `[[models]]`.
pub const CONFIGURATION: &str = "configuration";

/// The compiled price table.
#[derive(Debug, Clone)]
pub struct PriceTable {
    models: Vec<Model>,
    sources: Vec<String>,
    exact: HashMap<String, usize>,
    globs: Vec<(GlobMatcher, usize)>,
    /// Every version of a model (by the index `exact` and `globs` point at), dated.
    versions: HashMap<usize, Vec<usize>>,
}

/// A price in force: the model's entry and the list it came from.
#[derive(Debug, Clone, Copy)]
pub struct Priced<'a> {
    /// The model's prices.
    pub model: &'a Model,
    /// Where they come from.
    pub source: &'a str,
}

/// One million, the unit prices are given per.
const PER: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

impl PriceTable {
    /// The table a configuration prices with: its models, then its price lists.
    pub fn for_settings(settings: &crate::config::Settings) -> PriceTable {
        PriceTable::with_lists(&settings.config.models, &settings.price_lists)
    }

    /// A table of configured models only.
    pub fn new(models: &[Model]) -> PriceTable {
        PriceTable::with_lists(models, &[])
    }

    /// Compiles the configuration's models, then each list for the names not yet priced.
    pub fn with_lists(models: &[Model], lists: &[PriceList]) -> PriceTable {
        let mut table = PriceTable {
            models: Vec::new(),
            sources: Vec::new(),
            exact: HashMap::new(),
            globs: Vec::new(),
            versions: HashMap::new(),
        };
        table.add_list(models, CONFIGURATION);
        for list in lists {
            table.add_list(&list.models, &list.source);
        }
        table
    }

    /// Adds one list. A name an earlier list priced keeps that price; a name listed again in
    /// the same list is another dated version of the same model.
    fn add_list(&mut self, models: &[Model], source: &str) {
        let first_of_list = self.models.len();
        for model in models {
            let index = self.models.len();
            self.models.push(model.clone());
            self.sources.push(source.to_string());
            let known = self.exact.get(&model.name.to_ascii_lowercase()).copied();
            match known {
                Some(primary) if primary >= first_of_list => {
                    self.versions.entry(primary).or_default().push(index);
                    continue;
                }
                Some(_) => continue,
                None => {}
            }
            self.versions.insert(index, vec![index]);
            for name in std::iter::once(&model.name).chain(&model.aliases) {
                if name.contains(['*', '?', '[', '{']) {
                    if let Ok(glob) = GlobBuilder::new(name).case_insensitive(true).build() {
                        self.globs.push((glob.compile_matcher(), index));
                    }
                } else {
                    self.exact.entry(name.to_ascii_lowercase()).or_insert(index);
                }
            }
        }
    }

    /// The model a source's model name refers to (its latest price version).
    pub fn lookup(&self, name: &str) -> Option<&Model> {
        let primary = self.primary(name)?;
        let latest = self.versions[&primary]
            .iter()
            .max_by_key(|&&i| self.models[i].effective_from)?;
        Some(&self.models[*latest])
    }

    /// The price of a model in force on a local day, with its source. `None` when the name is
    /// unknown, or when every version of its price starts after that day.
    pub fn lookup_at(&self, name: &str, day: NaiveDate) -> Option<Priced<'_>> {
        let primary = self.primary(name)?;
        let index = self.versions[&primary]
            .iter()
            .filter(|&&i| self.models[i].effective_from.is_none_or(|from| from <= day))
            .max_by_key(|&&i| self.models[i].effective_from)?;
        Some(Priced {
            model: &self.models[*index],
            source: &self.sources[*index],
        })
    }

    fn primary(&self, name: &str) -> Option<usize> {
        self.find(name.trim()).or_else(|| {
            let (_, bare) = name.trim().rsplit_once('/')?;
            self.find(bare)
        })
    }

    fn find(&self, name: &str) -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        if let Some(&index) = self.exact.get(&lower) {
            return Some(index);
        }
        self.globs
            .iter()
            .find(|(glob, _)| glob.is_match(&lower))
            .map(|(_, index)| *index)
    }
}

/// What the price source says when one-hour cache writes were priced by the provider's rule
/// because the model lists no one-hour rate.
pub const ONE_HOUR_BY_RULE: &str =
    "one-hour cache writes at 2 × the input price (Anthropic's rule; no one-hour rate listed)";

/// The rate of one-hour cache writes (per million tokens), and whether it was derived by the
/// provider's rule rather than listed.
///
/// One-hour cache writes are Anthropic's (its API, Claude Code, and the clouds that resell
/// its models): Anthropic bills them at 2 × the base input price, against 1.25 × for
/// five-minute writes. A model without a listed one-hour rate is priced by that rule, never
/// silently at the cheaper five-minute rate, and the line's price source says so.
pub fn one_hour_write_rate(model: &Model) -> (Decimal, bool) {
    match model.cache_write_1h {
        Some(rate) => (rate.0, false),
        None => (model.input.0 * Decimal::TWO, true),
    }
}

/// The list cost of tokens at a model's prices (per million tokens of each kind).
///
/// Cached input falls back to the input price and cache writes to the input price when the
/// model has no separate rate; one-hour cache writes have their own rate, and without one
/// are priced at 2 × the input price (see [`one_hour_write_rate`]).
pub fn list_cost(tokens: &Tokens, model: &Model) -> Decimal {
    let input = model.input.0;
    let cached = model.cached_input.map_or(input, |p| p.0);
    let write = model.cache_write.map_or(input, |p| p.0);
    let (write_1h, _) = one_hour_write_rate(model);
    let sum = Decimal::from(tokens.input) * input
        + Decimal::from(tokens.cached_input) * cached
        + Decimal::from(tokens.cache_write) * write
        + Decimal::from(tokens.cache_write_1h) * write_1h
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
            cache_write_1h: None,
            effective_from: None,
            output: Dec(d("10")),
            complexity: Dec(d("1.5")),
            tier: Tier::Premium,
        }
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn one_hour_cache_writes_have_their_own_rate() {
        // 1,000,000 five-minute writes at 3.75 + 1,000,000 one-hour writes at 6 = 9.75.
        let mut m = model("m", &[]);
        m.cache_write = Some(Dec(d("3.75")));
        m.cache_write_1h = Some(Dec(d("6")));
        let tokens = Tokens {
            cache_write: 1_000_000,
            cache_write_1h: 1_000_000,
            ..Tokens::default()
        };
        assert_eq!(list_cost(&tokens, &m), d("9.75"));
    }

    #[test]
    fn one_hour_cache_writes_without_a_rate_cost_twice_the_input_price() {
        // Input 3, five-minute writes 3.75 (1.25 × 3), no one-hour rate: 1,000,000 one-hour
        // writes at 2 × 3 = 6, not at the five-minute 3.75.
        let mut m = model("m", &[]);
        m.input = Dec(d("3"));
        m.cache_write = Some(Dec(d("3.75")));
        let tokens = Tokens {
            cache_write: 1_000_000,
            cache_write_1h: 1_000_000,
            ..Tokens::default()
        };
        assert_eq!(list_cost(&tokens, &m), d("9.75"));
        assert_eq!(one_hour_write_rate(&m), (d("6"), true));
        m.cache_write_1h = Some(Dec(d("5")));
        assert_eq!(one_hour_write_rate(&m), (d("5"), false));
    }

    #[test]
    fn a_dated_price_applies_from_its_day() {
        let old = model("m", &[]);
        let mut new = model("m", &[]);
        new.input = Dec(d("5"));
        new.effective_from = Some(day("2026-11-15"));
        let table = PriceTable::new(&[old, new]);
        let before = table.lookup_at("m", day("2026-11-14")).unwrap();
        let after = table.lookup_at("m", day("2026-11-15")).unwrap();
        assert_eq!(before.model.input.0, d("2.50"));
        assert_eq!(after.model.input.0, d("5"));
        assert_eq!(after.source, CONFIGURATION);
        assert_eq!(table.lookup("m").unwrap().input.0, d("5"));
    }

    #[test]
    fn earlier_lists_take_precedence_and_name_their_source() {
        let mut listed = model("gpt-4o", &[]);
        listed.input = Dec(d("9"));
        let list = PriceList {
            source: "bundled".into(),
            models: vec![listed, model("other", &[])],
        };
        let table = PriceTable::with_lists(&[model("gpt-4o", &[])], &[list]);
        let day = day("2026-11-02");
        assert_eq!(
            table.lookup_at("gpt-4o", day).unwrap().source,
            CONFIGURATION
        );
        assert_eq!(
            table.lookup_at("gpt-4o", day).unwrap().model.input.0,
            d("2.50")
        );
        assert_eq!(table.lookup_at("other", day).unwrap().source, "bundled");
        assert!(table.lookup_at("nothing", day).is_none());
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
