//! The configuration: who the departments are, how callers map to them, what models cost and
//! weigh, which thresholds raise a status, and how each source file is read.
//!
//! It is read from TOML ([`Config::from_toml`]) and then checked as a whole
//! ([`validate::validate`]), so that a user sees every problem of a file at once, each with
//! the key path and what was expected.

mod number;
pub mod prices;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use number::{Dec, parse_decimal};
pub use prices::PriceList;
pub use validate::{ConfigError, Problem, UNATTRIBUTED};

/// The commented starter configuration that `apportion init` writes.
pub const STARTER: &str = include_str!("../../assets/apportion.toml");

/// The whole configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Who is settling, in which zone and currency.
    pub organization: Organization,
    /// The month being settled.
    pub period: Period,
    /// Alert thresholds that apply unless a department overrides them.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// The departments that carry cost.
    #[serde(default)]
    pub departments: Vec<Department>,
    /// Ordered rules from a caller to a department; the first match wins.
    #[serde(default)]
    pub mapping: Vec<MappingRule>,
    /// Prices, complexity and tier of every model.
    #[serde(default)]
    pub models: Vec<Model>,
    /// Weights by local weekday and hour.
    #[serde(default)]
    pub time_weights: TimeWeights,
    /// The provider's invoice for the month, when it is known.
    #[serde(default)]
    pub invoice: Invoice,
    /// API keys that must no longer be used; any call with one is illegal.
    #[serde(default)]
    pub revoked_keys: Vec<String>,
    /// How source files are read, by file name pattern.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    /// Explicit rates for amounts in other currencies; without one such a row is rejected.
    #[serde(default)]
    pub exchange_rates: Vec<ExchangeRate>,
    /// Which price lists back the configured models.
    #[serde(default)]
    pub prices: PriceOptions,
    /// Who alert messages come from, and the mail server that sends them, if any.
    #[serde(default)]
    pub alerts: Option<Alerts>,
}

/// An explicit exchange rate into the settlement currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRate {
    /// ISO 4217 code of the other currency.
    pub currency: String,
    /// Units of the settlement currency that one unit of the other currency is worth.
    pub rate: Dec,
    /// Where the rate comes from (a central bank's fixing of a day), shown in reports.
    #[serde(default)]
    pub note: String,
}

/// Price lists used for models that `[[models]]` does not price.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriceOptions {
    /// Whether the bundled default price table is used (after `[[models]]` and `--prices`).
    pub bundled: bool,
}

impl Default for PriceOptions {
    fn default() -> Self {
        PriceOptions { bundled: true }
    }
}

/// The organization whose bill is settled.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// Display name.
    pub name: String,
    /// IANA time zone name; it decides days, hours, months and the close date.
    pub time_zone: String,
    /// ISO 4217 code of the settlement currency.
    #[serde(default = "default_currency")]
    pub currency: String,
}

fn default_currency() -> String {
    "USD".to_string()
}

/// The settlement period.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// The month as `YYYY-MM`.
    pub month: String,
    /// The day the books close; the month's last day when absent.
    #[serde(default)]
    pub close_date: Option<NaiveDate>,
    /// How many days before the close the review window opens.
    #[serde(default = "default_review_window")]
    pub review_window_days: u32,
}

fn default_review_window() -> u32 {
    5
}

/// Thresholds of the statuses and the tolerance of mismatches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Budget usage above which a department is in warning.
    pub warning: Dec,
    /// How far above the full budget a department may go before its fuse blows.
    pub fuse_margin: Dec,
    /// Growth (month over month, or a day over its trailing median) that counts as a spike.
    pub spike: Dec,
    /// A daily spike counts only when the day's excess over its trailing median is at least
    /// this fraction of the department's daily budget (budget / days in the month), so that
    /// the noise of a small department's few calls a day is not reported as a spike.
    pub spike_materiality: Dec,
    /// Extra run rate assumed by the stress projection.
    pub stress_factor: Dec,
    /// A difference below this absolute amount is not a mismatch.
    pub tolerance_absolute: Dec,
    /// A difference below this fraction of the larger amount is not a mismatch.
    pub tolerance_relative: Dec,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warning: Dec(Decimal::new(80, 2)),
            fuse_margin: Dec(Decimal::new(10, 2)),
            spike: Dec(Decimal::new(50, 2)),
            spike_materiality: Dec(Decimal::new(50, 2)),
            stress_factor: Dec(Decimal::new(5, 1)),
            tolerance_absolute: Dec(Decimal::new(1, 2)),
            tolerance_relative: Dec(Decimal::new(5, 3)),
        }
    }
}

/// Per-department overrides of the thresholds; what is absent falls back to the global value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOverrides {
    /// Overrides [`Thresholds::warning`].
    pub warning: Option<Dec>,
    /// Overrides [`Thresholds::fuse_margin`].
    pub fuse_margin: Option<Dec>,
    /// Overrides [`Thresholds::spike`].
    pub spike: Option<Dec>,
}

/// A department that carries cost.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Unique name, used in mapping rules and reports.
    pub name: String,
    /// Monthly budget in the settlement currency.
    pub budget: Dec,
    /// The head who decides on a warning.
    #[serde(default)]
    pub owner: String,
    /// Where alerts go.
    #[serde(default)]
    pub contact: String,
    /// The cost center that books the settled amount.
    #[serde(default)]
    pub cost_center: String,
    /// Model names or globs this department may call; empty allows every model.
    #[serde(default)]
    pub allowed_models: Vec<String>,
    /// The model a fused department is downgraded to.
    #[serde(default)]
    pub baseline_model: Option<String>,
    /// Threshold overrides for this department.
    #[serde(default)]
    pub thresholds: ThresholdOverrides,
}

/// One mapping rule: when the caller's field matches the pattern, the call is the department's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingRule {
    /// The department the call is attributed to.
    pub department: String,
    /// Pattern on the API key id.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Pattern on the user.
    #[serde(default)]
    pub user: Option<String>,
    /// Pattern on the project.
    #[serde(default)]
    pub project: Option<String>,
    /// Pattern on the team.
    #[serde(default)]
    pub team: Option<String>,
    /// Pattern on any one of the call's tags.
    #[serde(default)]
    pub tag: Option<String>,
}

/// Which caller field a mapping rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerField {
    /// The API key id.
    ApiKey,
    /// The user.
    User,
    /// The project.
    Project,
    /// The team.
    Team,
    /// Any tag.
    Tag,
}

impl CallerField {
    /// The name used in configuration and messages.
    pub fn name(self) -> &'static str {
        match self {
            CallerField::ApiKey => "api_key",
            CallerField::User => "user",
            CallerField::Project => "project",
            CallerField::Team => "team",
            CallerField::Tag => "tag",
        }
    }
}

impl MappingRule {
    /// The fields this rule sets, with their patterns.
    pub fn patterns(&self) -> Vec<(CallerField, &str)> {
        [
            (CallerField::ApiKey, &self.api_key),
            (CallerField::User, &self.user),
            (CallerField::Project, &self.project),
            (CallerField::Team, &self.team),
            (CallerField::Tag, &self.tag),
        ]
        .into_iter()
        .filter_map(|(field, pattern)| pattern.as_deref().map(|p| (field, p)))
        .collect()
    }
}

/// Price tier of a model; a fused department loses its premium models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Frontier or reasoning models.
    Premium,
    /// General-purpose models.
    #[default]
    Standard,
    /// Small, cheap models a department can always fall back to.
    Baseline,
}

/// A model with its prices (per million tokens) and complexity coefficient.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// The canonical name reports use.
    pub name: String,
    /// Other names and globs (dated snapshots such as `gpt-4o-2024-*`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Price per million uncached input tokens.
    pub input: Dec,
    /// Price per million cached input tokens read; the input price when absent.
    #[serde(default)]
    pub cached_input: Option<Dec>,
    /// Price per million tokens written to the cache; the input price when absent.
    #[serde(default)]
    pub cache_write: Option<Dec>,
    /// Price per million tokens written to the cache with a one-hour lifetime; when absent,
    /// 2 × the input price (Anthropic's rule), which the line's price source then names.
    #[serde(default)]
    pub cache_write_1h: Option<Dec>,
    /// The first local day this price applies to; a model may be listed once per date, so
    /// that a price change in the middle of a month reprices only the later calls. Without a
    /// date the price applies from the beginning.
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    /// Price per million output tokens (reasoning tokens included).
    pub output: Dec,
    /// Complexity coefficient, 1 for an ordinary model.
    #[serde(default = "one")]
    pub complexity: Dec,
    /// Price tier.
    #[serde(default)]
    pub tier: Tier,
}

fn one() -> Dec {
    Dec(Decimal::ONE)
}

/// Time-of-day weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWeights {
    /// Weight of an hour no window covers.
    #[serde(default = "one")]
    pub default: Dec,
    /// Windows, the first that covers an hour gives its weight.
    #[serde(default)]
    pub windows: Vec<TimeWindow>,
}

impl Default for TimeWeights {
    fn default() -> Self {
        TimeWeights {
            default: one(),
            windows: Vec::new(),
        }
    }
}

/// A window of local weekdays and hours with its weight.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// A label for reports (`peak`, `night`).
    #[serde(default)]
    pub name: String,
    /// Weekdays as `mon` … `sun`.
    pub days: Vec<String>,
    /// First local hour covered, 0 to 23.
    pub start_hour: u32,
    /// First local hour no longer covered, 1 to 24.
    pub end_hour: u32,
    /// The weight of the covered hours.
    pub weight: Dec,
}

/// How a shared invoice line is split across departments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// By each department's proportion of converted amount.
    #[default]
    Proportional,
    /// Equally between the departments that have usage.
    Even,
    /// By fixed percentages that sum to 100.
    Fixed,
}

/// The provider's invoice.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invoice {
    /// The invoice total; without it the amount to settle is the computed cost.
    #[serde(default)]
    pub total: Option<Dec>,
    /// How the gap between the invoice's usage and the computed list cost is split.
    #[serde(default)]
    pub gap_strategy: Strategy,
    /// Lines other than usage: platform fee, support, tax, credits.
    #[serde(default)]
    pub shared: Vec<SharedLine>,
    /// How usage that no rule maps is settled: left on `UNATTRIBUTED` when absent, or
    /// shared among the departments as a line of its own with this strategy (`proportional`
    /// or `even`); the shared lines then leave `UNATTRIBUTED` out too.
    #[serde(default)]
    pub unattributed: Option<Strategy>,
}

/// A non-usage line of the invoice.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedLine {
    /// What the line is (`Platform fee`, `Tax`).
    pub name: String,
    /// Its amount; negative for a credit.
    pub amount: Dec,
    /// How it is split.
    #[serde(default)]
    pub strategy: Strategy,
    /// Percentages by department for the fixed strategy.
    #[serde(default)]
    pub shares: BTreeMap<String, Dec>,
}

/// How files whose name matches a pattern are read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// A glob on the file name (`gateway-*.csv`).
    pub pattern: String,
    /// The zone of timestamps written without an offset; UTC when absent.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The department of every call in the file whose caller no rule maps.
    #[serde(default)]
    pub default_department: Option<String>,
    /// The format of these files, when detection from the content should not decide
    /// (a name as `--input-format` takes it).
    #[serde(default)]
    pub format: Option<String>,
    /// Column names of the generic CSV format.
    #[serde(default, deserialize_with = "column_map")]
    pub columns: ColumnMap,
}

/// Reads a column map and remembers which keys the configuration wrote, so that a column it
/// names can be required while the columns left at their defaults stay optional.
fn column_map<'de, D>(deserializer: D) -> Result<ColumnMap, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let table = toml::Table::deserialize(deserializer)?;
    let written: std::collections::BTreeSet<String> = table.keys().cloned().collect();
    let mut map = ColumnMap::deserialize(toml::Value::Table(table)).map_err(D::Error::custom)?;
    map.written = written;
    Ok(map)
}

/// Which column of a generic CSV holds what; names are matched ignoring case and spaces.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ColumnMap {
    /// When the call happened.
    pub timestamp: String,
    /// The provider's or gateway's request id, used to find duplicates.
    pub request_id: Option<String>,
    /// The API key id.
    pub api_key: Option<String>,
    /// The user.
    pub user: Option<String>,
    /// The project.
    pub project: Option<String>,
    /// The team.
    pub team: Option<String>,
    /// Tags, separated by `;` or `|`.
    pub tags: Option<String>,
    /// The model name.
    pub model: Option<String>,
    /// Input tokens.
    pub input_tokens: Option<String>,
    /// Cached input tokens.
    pub cached_input_tokens: Option<String>,
    /// Whether cached input is already counted in input tokens (`true` for most gateways).
    pub cached_included_in_input: bool,
    /// Cache-write tokens.
    pub cache_write_tokens: Option<String>,
    /// Output tokens.
    pub output_tokens: Option<String>,
    /// The provider's own cost of the call.
    pub cost: Option<String>,
    /// The currency of that cost.
    pub currency: Option<String>,
    /// The call's status; failed calls are counted but not charged.
    pub status: Option<String>,
    /// The model of every row when the file has no model column.
    pub default_model: Option<String>,
    /// The keys the configuration wrote (the others are at their defaults).
    #[serde(skip)]
    pub written: std::collections::BTreeSet<String>,
}

impl Default for ColumnMap {
    fn default() -> Self {
        ColumnMap {
            timestamp: "timestamp".into(),
            request_id: Some("request_id".into()),
            api_key: Some("api_key".into()),
            user: Some("user".into()),
            project: Some("project".into()),
            team: Some("team".into()),
            tags: Some("tags".into()),
            model: Some("model".into()),
            input_tokens: Some("input_tokens".into()),
            cached_input_tokens: Some("cached_input_tokens".into()),
            cached_included_in_input: true,
            cache_write_tokens: Some("cache_write_tokens".into()),
            output_tokens: Some("output_tokens".into()),
            cost: Some("cost".into()),
            currency: Some("currency".into()),
            status: Some("status".into()),
            default_model: None,
            written: Default::default(),
        }
    }
}

/// Alert messages: their sender, who receives the alerts no department head can take, and
/// optionally the mail server. Without a server, alerts are only written as files.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// The sender (`Name <address>` or an address).
    pub from: String,
    /// The settlement owner's address: receives the alerts of departments without a contact,
    /// such as unattributed usage.
    #[serde(default)]
    pub settlement_contact: Option<String>,
    /// The mail server; absent, nothing is sent.
    #[serde(default)]
    pub smtp: Option<Smtp>,
}

/// The mail server alerts are sent through.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Host name or address.
    pub host: String,
    /// Port; 587 (submission with STARTTLS) when absent.
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// How the connection is protected.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The user to log in as; without it, no login.
    #[serde(default)]
    pub username: Option<String>,
    /// The environment variable holding the password, so that no password sits in the file.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Seconds to wait for the server before giving up.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_seconds: u64,
}

fn default_smtp_port() -> u16 {
    587
}

fn default_smtp_timeout() -> u64 {
    30
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed.
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a test server.
    None,
}

/// A configuration that was read and validated, with the values derived from it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration as written.
    pub config: Config,
    /// Where it was read from, for messages.
    pub origin: PathBuf,
    /// The organization's time zone.
    pub zone: Tz,
    /// First day of the month.
    pub month_start: NaiveDate,
    /// Last day of the month.
    pub month_end: NaiveDate,
    /// The close date.
    pub close_date: NaiveDate,
    /// Price lists consulted after `[[models]]`, in order: a `--prices` file, then the
    /// bundled table.
    pub price_lists: Vec<PriceList>,
}

impl Settings {
    /// Reads and validates a configuration file.
    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
        Settings::from_toml(&text, path)
    }

    /// Parses and validates configuration text; `origin` names it in messages.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Settings, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|error| ConfigError::Syntax {
            path: origin.to_path_buf(),
            message: error.to_string(),
        })?;
        validate::validate(config, origin)
    }

    /// The first day of the review window.
    pub fn review_window_start(&self) -> NaiveDate {
        let days = i64::from(self.config.period.review_window_days.saturating_sub(1));
        self.close_date - chrono::Duration::days(days)
    }

    /// The number of days in the month.
    pub fn days_in_month(&self) -> u32 {
        self.month_end.day()
    }

    /// The department with this name.
    pub fn department(&self, name: &str) -> Option<&Department> {
        self.config.departments.iter().find(|d| d.name == name)
    }

    /// Thresholds in force for a department (its overrides over the global values).
    pub fn thresholds_for(&self, department: &str) -> Thresholds {
        let mut thresholds = self.config.thresholds.clone();
        if let Some(d) = self.department(department) {
            let o = &d.thresholds;
            thresholds.warning = o.warning.unwrap_or(thresholds.warning);
            thresholds.fuse_margin = o.fuse_margin.unwrap_or(thresholds.fuse_margin);
            thresholds.spike = o.spike.unwrap_or(thresholds.spike);
        }
        thresholds
    }
}
