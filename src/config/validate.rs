//! Checks a configuration as a whole and derives the values the calculator needs.
//!
//! Every problem is collected rather than stopping at the first, because a user fixing a
//! configuration wants the whole list in one run.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use globset::Glob;
use rust_decimal::Decimal;

use super::{Config, Settings, Strategy};

/// The department that receives calls no rule maps.
pub const UNATTRIBUTED: &str = "UNATTRIBUTED";

/// The weekday names a time window accepts.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The largest magnitude a configured number may have: far above any real invoice, budget,
/// price or weight, and far enough inside the range of exact decimal arithmetic that the
/// sums and products of a month's figures cannot overflow.
pub const LARGEST: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// The highest price per million tokens (and complexity) a model may have, so that a month
/// of tokens times its prices stays inside exact decimal arithmetic.
pub const MOST_PER_MILLION: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// One thing wrong in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the file, as a key path (`departments[2].budget`).
    pub key: String,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration '{}': {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("configuration '{}' is not valid: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the line and the key.
        message: String,
    },
    /// The file parsed but its values do not fit together.
    #[error("{}", describe_problems(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

fn describe_problems(path: &Path, problems: &[Problem]) -> String {
    let mut text = format!(
        "configuration '{}' has {} problem{}:",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        text.push_str(&format!("\n  {}: {}", problem.key, problem.message));
    }
    text
}

/// Collects problems while walking the configuration.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, key: impl fmt::Display, message: impl Into<String>) {
        self.0.push(Problem {
            key: key.to_string(),
            message: message.into(),
        });
    }

    fn glob(&mut self, key: impl fmt::Display, pattern: &str) {
        if let Err(error) = Glob::new(pattern) {
            self.add(
                key,
                format!("'{pattern}' is not a valid glob pattern ({})", error.kind()),
            );
        }
    }

    fn not_negative(&mut self, key: impl fmt::Display, value: Decimal) {
        if value.is_sign_negative() && !value.is_zero() {
            self.add(key, format!("expected zero or more, found '{value}'"));
        } else {
            self.not_huge(key, value);
        }
    }

    /// An amount of the invoice is paid in the currency's smallest unit: a finer figure
    /// would be rounded without a word.
    fn whole_minor_units(&mut self, key: impl fmt::Display, value: Decimal, currency: &str) {
        let digits = crate::calc::allocate::minor_unit_digits(currency);
        if value.normalize().scale() > digits {
            self.add(
                key,
                format!(
                    "expected an amount in whole units of {currency} ({digits} decimal places), \
                     found '{value}'"
                ),
            );
        }
    }

    fn not_huge(&mut self, key: impl fmt::Display, value: Decimal) {
        if value.abs() > LARGEST {
            self.add(
                key,
                format!("expected at most {LARGEST} in size, found '{value}'"),
            );
        }
    }
}

/// Validates a parsed configuration; `origin` names the file in messages.
pub fn validate(config: Config, origin: &Path) -> Result<Settings, ConfigError> {
    let mut problems = Problems::default();

    let zone = check_organization(&config, &mut problems);
    let dates = check_period(&config, &mut problems);
    check_thresholds(&config, &mut problems);
    let departments = check_departments(&config, &mut problems);
    check_mapping(&config, &departments, &mut problems);
    check_models(&config, &mut problems);
    check_time_weights(&config, &mut problems);
    check_invoice(&config, &departments, &mut problems);
    check_sources(&config, &departments, &mut problems);
    check_exchange_rates(&config, &mut problems);
    check_alerts(&config, &mut problems);

    match (zone, dates, problems.0.is_empty()) {
        (Some(zone), Some((month_start, month_end, close_date)), true) => Ok(Settings {
            origin: origin.to_path_buf(),
            zone,
            month_start,
            month_end,
            close_date,
            price_lists: if config.prices.bundled {
                vec![super::prices::bundled()]
            } else {
                Vec::new()
            },
            config,
        }),
        _ => Err(ConfigError::Invalid {
            path: origin.to_path_buf(),
            problems: problems.0,
        }),
    }
}

fn check_organization(config: &Config, problems: &mut Problems) -> Option<Tz> {
    let org = &config.organization;
    if org.name.trim().is_empty() {
        problems.add(
            "organization.name",
            "expected a name, found an empty string",
        );
    }
    let currency_ok =
        org.currency.len() == 3 && org.currency.chars().all(|c| c.is_ascii_uppercase());
    if !currency_ok {
        problems.add(
            "organization.currency",
            format!(
                "expected a three-letter ISO 4217 code such as 'USD', found '{}'",
                org.currency
            ),
        );
    }
    parse_zone(&org.time_zone, "organization.time_zone", problems)
}

fn parse_zone(name: &str, key: &str, problems: &mut Problems) -> Option<Tz> {
    match name.parse::<Tz>() {
        Ok(zone) => Some(zone),
        Err(_) => {
            problems.add(
                key,
                format!("'{name}' is not an IANA time zone name (expected e.g. 'Europe/Berlin' or 'UTC')"),
            );
            None
        }
    }
}

/// Parses `YYYY-MM` into the month's first and last day.
pub fn month_bounds(month: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (year, month) = month.trim().split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let start = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?;
    let next = start.checked_add_months(chrono::Months::new(1))?;
    Some((start, next.pred_opt()?))
}

fn check_period(
    config: &Config,
    problems: &mut Problems,
) -> Option<(NaiveDate, NaiveDate, NaiveDate)> {
    let period = &config.period;
    if period.review_window_days == 0 {
        problems.add("period.review_window_days", "expected at least 1 day");
    }
    let Some((start, end)) = month_bounds(&period.month) else {
        problems.add(
            "period.month",
            format!("expected a month as YYYY-MM, found '{}'", period.month),
        );
        return None;
    };
    let close = period.close_date.unwrap_or(end);
    if close < start {
        problems.add(
            "period.close_date",
            format!(
                "expected a date on or after {start}, the first day of the month, found {close}"
            ),
        );
        return None;
    }
    debug_assert!(end.day() >= 28);
    Some((start, end, close))
}

fn check_thresholds(config: &Config, problems: &mut Problems) {
    let t = &config.thresholds;
    let values = [
        ("warning", t.warning),
        ("fuse_margin", t.fuse_margin),
        ("spike", t.spike),
        ("spike_materiality", t.spike_materiality),
        ("stress_factor", t.stress_factor),
        ("tolerance_absolute", t.tolerance_absolute),
        ("tolerance_relative", t.tolerance_relative),
    ];
    for (name, value) in values {
        problems.not_negative(format!("thresholds.{name}"), value.0);
    }
}

fn check_departments(config: &Config, problems: &mut Problems) -> HashSet<String> {
    let mut names = HashSet::new();
    for (i, department) in config.departments.iter().enumerate() {
        let key = format!("departments[{i}]");
        let name = department.name.trim();
        if name.is_empty() {
            problems.add(
                format!("{key}.name"),
                "expected a name, found an empty string",
            );
        } else if name == UNATTRIBUTED {
            problems.add(
                format!("{key}.name"),
                format!("'{UNATTRIBUTED}' is reserved for calls no rule maps"),
            );
        } else if !names.insert(department.name.clone()) {
            problems.add(
                format!("{key}.name"),
                format!("department '{name}' is defined twice"),
            );
        }
        problems.not_negative(format!("{key}.budget"), department.budget.0);
        let budget = department.budget.0;
        if budget > Decimal::ZERO && budget < Decimal::new(1, 2) {
            problems.add(
                format!("{key}.budget"),
                format!("expected zero (no budget) or at least 0.01, found '{budget}'"),
            );
        }
        for (j, pattern) in department.allowed_models.iter().enumerate() {
            problems.glob(format!("{key}.allowed_models[{j}]"), pattern);
        }
        if let Some(baseline) = &department.baseline_model {
            if !config.models.iter().any(|m| &m.name == baseline) {
                problems.add(
                    format!("{key}.baseline_model"),
                    format!("'{baseline}' is not the name of a model in [[models]]"),
                );
            }
        }
        let o = &department.thresholds;
        for (name, value) in [
            ("warning", o.warning),
            ("fuse_margin", o.fuse_margin),
            ("spike", o.spike),
        ] {
            if let Some(value) = value {
                problems.not_negative(format!("{key}.thresholds.{name}"), value.0);
            }
        }
    }
    names
}

fn check_department_name(
    name: &str,
    key: String,
    departments: &HashSet<String>,
    problems: &mut Problems,
) {
    if !departments.contains(name) {
        problems.add(
            key,
            format!("'{name}' is not a department defined in [[departments]]"),
        );
    }
}

fn check_mapping(config: &Config, departments: &HashSet<String>, problems: &mut Problems) {
    for (i, rule) in config.mapping.iter().enumerate() {
        let key = format!("mapping[{i}]");
        check_department_name(
            &rule.department,
            format!("{key}.department"),
            departments,
            problems,
        );
        let patterns = rule.patterns();
        if patterns.is_empty() {
            problems.add(
                &key,
                "expected one of api_key, user, project, team or tag to match on, found none",
            );
        }
        for (field, pattern) in patterns {
            problems.glob(format!("{key}.{}", field.name()), pattern);
        }
    }
}

fn check_models(config: &Config, problems: &mut Problems) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, model) in config.models.iter().enumerate() {
        let key = format!("models[{i}]");
        if model.name.trim().is_empty() {
            problems.add(
                format!("{key}.name"),
                "expected a model name, found an empty string",
            );
        }
        let names = std::iter::once(&model.name).chain(model.aliases.iter());
        for (j, name) in names.enumerate() {
            let at = if j == 0 {
                format!("{key}.name")
            } else {
                format!("{key}.aliases[{}]", j - 1)
            };
            // A model may be listed again with another effective date: a price change.
            let lower = format!(
                "{}@{}",
                name.to_ascii_lowercase(),
                model
                    .effective_from
                    .map_or(String::new(), |d| d.to_string())
            );
            if let Some(first) = seen.get(&lower) {
                problems.add(
                    &at,
                    format!("model '{name}' is priced twice (first at {first})"),
                );
            } else {
                seen.insert(lower, at.clone());
            }
            problems.glob(&at, name);
        }
        let prices = [
            ("input", Some(model.input)),
            ("output", Some(model.output)),
            ("cached_input", model.cached_input),
            ("cache_write", model.cache_write),
        ];
        for (name, price) in prices.into_iter().filter_map(|(n, p)| p.map(|p| (n, p))) {
            if price.0 > MOST_PER_MILLION {
                problems.add(
                    format!("{key}.{name}"),
                    format!("expected a price per million tokens of at most {MOST_PER_MILLION}, found '{}'", price.0),
                );
            }
        }
        if model.complexity.0 > MOST_PER_MILLION {
            problems.add(
                format!("{key}.complexity"),
                format!(
                    "expected at most {MOST_PER_MILLION}, found '{}'",
                    model.complexity.0
                ),
            );
        }
        problems.not_negative(format!("{key}.input"), model.input.0);
        problems.not_negative(format!("{key}.output"), model.output.0);
        if let Some(price) = model.cached_input {
            problems.not_negative(format!("{key}.cached_input"), price.0);
        }
        if let Some(price) = model.cache_write {
            problems.not_negative(format!("{key}.cache_write"), price.0);
        }
        if let Some(price) = model.cache_write_1h {
            problems.not_negative(format!("{key}.cache_write_1h"), price.0);
        }
        if model.complexity.0 <= Decimal::ZERO {
            problems.add(
                format!("{key}.complexity"),
                format!("expected more than zero, found '{}'", model.complexity.0),
            );
        }
    }
}

fn check_time_weights(config: &Config, problems: &mut Problems) {
    let weights = &config.time_weights;
    problems.not_negative("time_weights.default", weights.default.0);
    for (i, window) in weights.windows.iter().enumerate() {
        let key = format!("time_weights.windows[{i}]");
        for (j, day) in window.days.iter().enumerate() {
            if !WEEKDAYS.contains(&day.to_ascii_lowercase().as_str()) {
                problems.add(
                    format!("{key}.days[{j}]"),
                    format!("expected one of mon, tue, wed, thu, fri, sat, sun, found '{day}'"),
                );
            }
        }
        if window.start_hour > 23 || window.end_hour > 24 || window.start_hour >= window.end_hour {
            problems.add(
                &key,
                format!(
                    "expected 0 <= start_hour < end_hour <= 24, found start_hour = {} and end_hour = {}",
                    window.start_hour, window.end_hour
                ),
            );
        }
        problems.not_negative(format!("{key}.weight"), window.weight.0);
    }
}

fn check_invoice(config: &Config, departments: &HashSet<String>, problems: &mut Problems) {
    let invoice = &config.invoice;
    if invoice.gap_strategy == Strategy::Fixed {
        problems.add(
            "invoice.gap_strategy",
            "expected 'proportional' or 'even' (the gap has no fixed shares)",
        );
    }
    if invoice.unattributed == Some(Strategy::Fixed) {
        problems.add(
            "invoice.unattributed",
            "expected 'proportional' or 'even' (unattributed usage has no fixed shares)",
        );
    }
    let currency = &config.organization.currency;
    if let Some(total) = invoice.total {
        // A month's invoice is owed, not credited: a negative total would settle every
        // department below zero.
        problems.not_negative("invoice.total", total.0);
        problems.whole_minor_units("invoice.total", total.0, currency);
    }
    for (i, line) in invoice.shared.iter().enumerate() {
        let key = format!("invoice.shared[{i}]");
        problems.not_huge(format!("{key}.amount"), line.amount.0);
        problems.whole_minor_units(format!("{key}.amount"), line.amount.0, currency);
        match line.strategy {
            Strategy::Fixed => check_fixed_shares(line, &key, departments, problems),
            _ if !line.shares.is_empty() => problems.add(
                format!("{key}.shares"),
                "shares are only used with strategy = \"fixed\"; remove them or change the strategy",
            ),
            _ => {}
        }
    }
}

fn check_fixed_shares(
    line: &super::SharedLine,
    key: &str,
    departments: &HashSet<String>,
    problems: &mut Problems,
) {
    let mut sum = Decimal::ZERO;
    for (department, share) in &line.shares {
        if department != UNATTRIBUTED {
            check_department_name(
                department,
                format!("{key}.shares.{department}"),
                departments,
                problems,
            );
        }
        problems.not_negative(format!("{key}.shares.{department}"), share.0);
        sum += share.0;
    }
    if sum != Decimal::ONE_HUNDRED {
        problems.add(
            format!("{key}.shares"),
            format!(
                "fixed shares must sum to 100 (percent), they sum to {}",
                sum.normalize()
            ),
        );
    }
}

fn check_sources(config: &Config, departments: &HashSet<String>, problems: &mut Problems) {
    for (i, source) in config.sources.iter().enumerate() {
        let key = format!("sources[{i}]");
        problems.glob(format!("{key}.pattern"), &source.pattern);
        if let Some(zone) = &source.time_zone {
            parse_zone(zone, &format!("{key}.time_zone"), problems);
        }
        if let Some(department) = &source.default_department {
            check_department_name(
                department,
                format!("{key}.default_department"),
                departments,
                problems,
            );
        }
        if let Some(format) = &source.format {
            if crate::load::Format::from_name(format).is_none() {
                problems.add(
                    format!("{key}.format"),
                    format!(
                        "'{format}' is not a known format (expected one of {})",
                        crate::load::Format::names().join(", ")
                    ),
                );
            }
        }
        if source.columns.timestamp.trim().is_empty() {
            problems.add(
                format!("{key}.columns.timestamp"),
                "expected the name of the timestamp column",
            );
        }
    }
}

fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())
}

fn check_exchange_rates(config: &Config, problems: &mut Problems) {
    let mut seen = HashSet::new();
    for (i, rate) in config.exchange_rates.iter().enumerate() {
        let key = format!("exchange_rates[{i}]");
        if !is_currency_code(&rate.currency) {
            problems.add(
                format!("{key}.currency"),
                format!(
                    "expected a three-letter ISO 4217 code such as 'EUR', found '{}'",
                    rate.currency
                ),
            );
        } else if rate.currency == config.organization.currency {
            problems.add(
                format!("{key}.currency"),
                format!(
                    "'{}' is the settlement currency itself; remove this rate",
                    rate.currency
                ),
            );
        } else if !seen.insert(rate.currency.clone()) {
            problems.add(
                format!("{key}.currency"),
                format!("a rate for '{}' is given twice", rate.currency),
            );
        }
        if rate.rate.0 <= Decimal::ZERO {
            problems.add(
                format!("{key}.rate"),
                format!("expected more than zero, found '{}'", rate.rate.0),
            );
        }
    }
}

/// Whether text is a mail address, alone or as `Name <address>`.
pub fn is_mailbox(text: &str) -> bool {
    text.parse::<lettre::message::Mailbox>().is_ok()
}

fn check_alerts(config: &Config, problems: &mut Problems) {
    let Some(alerts) = &config.alerts else {
        return;
    };
    let mut address = |key: String, text: &str| {
        if !is_mailbox(text) {
            problems.add(
                key,
                format!("expected a mail address such as 'finops@example.com', found '{text}'"),
            );
        }
    };
    address("alerts.from".into(), &alerts.from);
    if let Some(contact) = &alerts.settlement_contact {
        address("alerts.settlement_contact".into(), contact);
    }
    // Alerts go to the departments' contacts, so with alerts configured they must be addresses.
    for (i, department) in config.departments.iter().enumerate() {
        if !department.contact.trim().is_empty() {
            address(format!("departments[{i}].contact"), &department.contact);
        }
    }
    if let Some(smtp) = &alerts.smtp {
        check_smtp(smtp, problems);
    }
}

fn check_smtp(smtp: &super::Smtp, problems: &mut Problems) {
    if smtp.host.trim().is_empty() {
        problems.add("alerts.smtp.host", "expected the mail server's host name");
    }
    if smtp.port == 0 {
        problems.add(
            "alerts.smtp.port",
            "expected a port from 1 to 65535, found 0",
        );
    }
    if smtp.timeout_seconds == 0 {
        problems.add("alerts.smtp.timeout_seconds", "expected at least 1 second");
    }
    match (&smtp.username, &smtp.password_env) {
        (Some(_), None) => problems.add(
            "alerts.smtp.password_env",
            "a username needs the name of the environment variable that holds its password",
        ),
        (None, Some(_)) => problems.add(
            "alerts.smtp.username",
            "password_env is set but no username to log in with",
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::ConfigError;
    use crate::config::Settings;

    fn problems_of(text: &str) -> String {
        match Settings::from_toml(text, Path::new("month.toml")) {
            Err(error @ ConfigError::Invalid { .. }) => error.to_string(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn invoice_amounts_finer_than_the_cent_are_refused() {
        let text = crate::sample::CONFIG
            .replace("total = \"1362.19\"", "total = \"1362.199\"")
            .replace("amount = \"150.00\"", "amount = \"150.005\"");
        let problems = problems_of(&text);
        assert!(
            problems.contains(
                "invoice.total: expected an amount in whole units of USD (2 decimal places), \
                 found '1362.199'"
            ),
            "{problems}"
        );
        assert!(problems.contains("invoice.shared[0].amount"), "{problems}");
    }

    #[test]
    fn a_negative_invoice_total_is_refused() {
        let text = crate::sample::CONFIG.replace("total = \"1362.19\"", "total = \"-5\"");
        let problems = problems_of(&text);
        assert!(
            problems.contains("invoice.total: expected zero or more, found '-5'"),
            "{problems}"
        );
    }

    #[test]
    fn trailing_zeros_and_the_currency_own_unit_are_accepted() {
        let text = crate::sample::CONFIG.replace("total = \"1362.19\"", "total = \"1362.1900\"");
        assert!(Settings::from_toml(&text, Path::new("month.toml")).is_ok());

        let yen = crate::sample::CONFIG
            .replace("currency = \"USD\"", "currency = \"JPY\"")
            .replace("total = \"1362.19\"", "total = \"1362.5\"");
        let problems = problems_of(&yen);
        assert!(
            problems.contains("whole units of JPY (0 decimal places)"),
            "{problems}"
        );
    }
}
