//! What every source format is turned into: one usage record per call (or per aggregate
//! bucket of calls, for sources that report buckets).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// Token counts of a record, by kind. The kinds are disjoint: `input` holds only the input
/// tokens that were neither read from nor written to the cache, so that each kind is priced
/// once. Loaders whose source counts cached tokens inside the input subtract them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Tokens {
    /// Input tokens neither read from nor written to the cache.
    pub input: u64,
    /// Input tokens read from the cache.
    pub cached_input: u64,
    /// Input tokens written to the cache (five-minute lifetime, or unspecified).
    pub cache_write: u64,
    /// Input tokens written to the cache with a one-hour lifetime.
    pub cache_write_1h: u64,
    /// Output tokens, reasoning tokens included.
    pub output: u64,
}

impl Tokens {
    /// All tokens of every kind.
    pub fn total(&self) -> u64 {
        self.input + self.cached_input + self.cache_write + self.cache_write_1h + self.output
    }

    /// Adds another record's tokens.
    pub fn add(&mut self, other: &Tokens) {
        self.input += other.input;
        self.cached_input += other.cached_input;
        self.cache_write += other.cache_write;
        self.cache_write_1h += other.cache_write_1h;
        self.output += other.output;
    }

    /// Takes tokens that were added back out.
    pub fn subtract(&mut self, other: &Tokens) {
        self.input -= other.input;
        self.cached_input -= other.cached_input;
        self.cache_write -= other.cache_write;
        self.cache_write_1h -= other.cache_write_1h;
        self.output -= other.output;
    }
}

/// Who made a call, as far as the source tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Caller {
    /// The API key id (never the secret itself; shown masked).
    pub api_key: Option<String>,
    /// The user.
    pub user: Option<String>,
    /// The project or workspace.
    pub project: Option<String>,
    /// The team.
    pub team: Option<String>,
    /// Free tags such as `team:research`.
    pub tags: Vec<String>,
    /// The department the source's configuration gives calls that no rule maps.
    pub fallback_department: Option<String>,
}

impl Caller {
    /// A short label for reports: the masked key, else the user, project or team.
    pub fn label(&self) -> String {
        if let Some(key) = &self.api_key {
            return mask_key(key);
        }
        let named = [
            ("user", &self.user),
            ("project", &self.project),
            ("team", &self.team),
        ];
        for (kind, value) in named {
            if let Some(value) = value {
                return format!("{kind}:{value}");
            }
        }
        match self.tags.first() {
            Some(tag) => format!("tag:{tag}"),
            None => "(no caller)".to_string(),
        }
    }
}

/// Masks an API key for display: its prefix (up to the last `-` or `_` within the first eight
/// characters, else three characters) and its last four characters.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return format!("{}…", chars.iter().take(2).collect::<String>());
    }
    let head: String = chars.iter().take(8).collect();
    let prefix_len = head
        .rfind(['-', '_'])
        .map(|i| head[..=i].chars().count())
        .unwrap_or(3);
    let prefix: String = chars.iter().take(prefix_len.min(chars.len() - 4)).collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}…{tail}")
}

/// One call, or one aggregate bucket of calls, read from a source.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// The line of the source where the record starts (1-based).
    pub line: u64,
    /// Byte offset of the record in the source, for reading it back.
    pub offset: u64,
    /// When the call happened (the start of the bucket for aggregates).
    pub timestamp: DateTime<Utc>,
    /// The request id, used to count a call seen twice only once.
    pub request_id: Option<String>,
    /// Who made the call.
    pub caller: Caller,
    /// The model as the source names it.
    pub model: String,
    /// Tokens by kind.
    pub tokens: Tokens,
    /// How many calls the record stands for (1 for a single call).
    pub calls: u64,
    /// The provider's or gateway's own cost, when the source carries one.
    pub provider_cost: Option<Decimal>,
    /// The currency of that cost, when the source says.
    pub currency: Option<String>,
    /// Failed calls are counted but not charged.
    pub success: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_masked_to_prefix_and_last_four() {
        assert_eq!(mask_key("sk-proj-abcdefghijklmnop"), "sk-proj-…mnop");
        assert_eq!(mask_key("key_research_0042"), "key_…0042");
        assert_eq!(mask_key("abcdefghijkl"), "abc…ijkl");
        assert_eq!(mask_key("short"), "sh…");
    }

    #[test]
    fn a_masked_key_never_shows_the_middle() {
        let key = "sk-ant-api03-SECRETSECRETSECRET-1234";
        let masked = mask_key(key);
        assert!(!masked.contains("SECRET"));
        assert!(masked.ends_with("1234"));
    }

    #[test]
    fn tokens_add_up_by_kind() {
        let mut a = Tokens {
            input: 1,
            cached_input: 2,
            cache_write: 3,
            cache_write_1h: 4,
            output: 5,
        };
        a.add(&a.clone());
        assert_eq!(a.total(), 30);
        assert_eq!(a.cache_write_1h, 8);
    }
}
