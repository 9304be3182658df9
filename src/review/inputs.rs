//! The files a review reads, and how to read them again (to reload, or to show the rows
//! behind a figure).

use std::path::PathBuf;

use chrono::NaiveDate;

use super::session::Fingerprint;
use crate::config::Settings;
use crate::load::hashing::HashingReader;
use crate::load::ledger::Ledger;
use crate::load::{Dataset, Format, Input, LoadError, read_into_as};
use crate::sample;

/// The inputs of a review; with no source files, the bundled sample month.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The configuration file.
    pub config: Option<PathBuf>,
    /// The prior ledger.
    pub ledger: Option<PathBuf>,
    /// The usage exports.
    pub files: Vec<PathBuf>,
    /// The day to judge from, when not today.
    pub today: Option<NaiveDate>,
    /// The format every export is read in, instead of detecting it.
    pub format: Option<Format>,
    /// A price list (our TOML table or LiteLLM's JSON map) used before the bundled one.
    pub prices: Option<PathBuf>,
}

impl Sources {
    /// Whether this is the bundled sample month.
    pub fn is_sample(&self) -> bool {
        self.files.is_empty()
    }

    /// The configuration: the file named, else the sample's; with the price list named
    /// put before the configuration's other lists.
    pub fn settings(&self) -> super::Result<Settings> {
        let mut settings = match (&self.config, self.is_sample()) {
            (Some(path), true) => {
                // The sample's logs under another organization's configuration would be a
                // settlement of fictional calls under a real name.
                return Err(super::Error::Invalid(format!(
                    "--config {} was given without sources: name the usage exports to settle \
                     after the options (the bundled sample month runs without --config)",
                    path.display()
                )));
            }
            (Some(path), false) => Settings::from_file(path)?,
            (None, true) => sample::settings()?,
            (None, false) => {
                return Err(super::Error::Invalid(
                    "sources were given without --config; write a configuration with \
                     `apportion init` and pass it with --config"
                        .into(),
                ));
            }
        };
        if let Some(path) = &self.prices {
            let list = crate::config::prices::from_file(path)
                .map_err(|e| super::Error::Invalid(e.to_string()))?;
            settings.price_lists.insert(0, list);
        }
        Ok(settings)
    }

    /// Reads the usage exports into a dataset prepared by the caller (with its progress or
    /// capture set), in the format named or detected.
    pub fn read(&self, dataset: Dataset, settings: &Settings) -> Result<Dataset, LoadError> {
        read_into_as(dataset, settings, self.open()?, self.format)
    }

    /// The usage exports, opened for reading. A file named twice is refused: every row of
    /// the second naming would be rejected as a repeat of the first, which is never meant.
    pub fn open(&self) -> Result<Vec<Input<'static>>, LoadError> {
        if self.is_sample() {
            return Ok(vec![Input::from_bytes(sample::LOGS_NAME, sample::LOGS)]);
        }
        self.refuse_a_file_named_twice()?;
        self.files.iter().map(|p| Input::open(p)).collect()
    }

    fn refuse_a_file_named_twice(&self) -> Result<(), LoadError> {
        let mut seen: Vec<(std::path::PathBuf, &std::path::PathBuf)> = Vec::new();
        for path in &self.files {
            let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            if let Some((_, first)) = seen.iter().find(|(known, _)| *known == real) {
                return Err(LoadError::new(
                    path,
                    None,
                    format!(
                        "is named twice among the sources (also as {}): name each file once",
                        first.display()
                    ),
                ));
            }
            seen.push((real, path));
        }
        Ok(())
    }

    /// The prior ledger: the file named (a CSV ledger or last month's archive), else the
    /// sample's for the sample month.
    pub fn ledger(&self, currency: &str) -> Result<Option<Ledger>, LoadError> {
        match (&self.ledger, self.is_sample()) {
            (Some(path), _) => crate::archive::read_ledger(path, currency).map(Some),
            (None, true) => {
                Ledger::from_bytes(sample::LEDGER_NAME, sample::LEDGER, currency).map(Some)
            }
            (None, false) => Ok(None),
        }
    }

    /// The files besides the usage exports that the figures depend on, as named: the prior
    /// ledger (`ledger`) and the price list (`prices`). The bundled sample's ledger is part
    /// of the program, not a file.
    pub fn other_files(&self) -> Vec<(&'static str, &PathBuf)> {
        let ledger = self.ledger.iter().map(|p| ("ledger", p));
        let prices = self.prices.iter().map(|p| ("prices", p));
        ledger.chain(prices).collect()
    }

    /// The name, size and SHA-256 of the prior ledger and the price list named, with their
    /// kind, so that a change to them is seen as a change of the sources.
    pub fn fingerprint_others(&self) -> super::Result<Vec<(&'static str, Fingerprint)>> {
        self.other_files()
            .into_iter()
            .map(|(kind, path)| {
                let name = path.display().to_string();
                let file = std::fs::File::open(path)
                    .map_err(|e| super::Error::Invalid(format!("{name}: cannot open: {e}")))?;
                let (size, sha256) = HashingReader::new(file)
                    .finish()
                    .map_err(|e| super::Error::Invalid(format!("{name}: cannot read: {e}")))?;
                Ok((kind, Fingerprint { name, size, sha256 }))
            })
            .collect()
    }

    /// The body of last month's archive when the ledger is one; `None` for a CSV ledger,
    /// which holds only amounts, not the figures an explanation of the change needs.
    pub fn prior_archive(&self) -> Option<serde_json::Value> {
        let path = self.ledger.as_ref()?;
        let mut document = crate::archive::read(path).ok()?;
        Some(document["body"].take())
    }

    /// The day to judge from: the one given, the sample's fixed day for the sample month
    /// (so that it looks the same whatever the calendar says), else today in the zone.
    pub fn today(&self, settings: &Settings) -> NaiveDate {
        self.today.unwrap_or_else(|| {
            if self.is_sample() && self.config.is_none() {
                sample::TODAY
            } else {
                chrono::Utc::now()
                    .with_timezone(&settings.zone)
                    .date_naive()
            }
        })
    }
}
