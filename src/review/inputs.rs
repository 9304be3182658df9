//! The files a review reads, and how to read them again (to reload, or to show the rows
//! behind a figure).

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::config::Settings;
use crate::load::ledger::Ledger;
use crate::load::{Input, LoadError};
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
}

impl Sources {
    /// Whether this is the bundled sample month.
    pub fn is_sample(&self) -> bool {
        self.files.is_empty()
    }

    /// The configuration: the file named, else the sample's.
    pub fn settings(&self) -> super::Result<Settings> {
        match (&self.config, self.is_sample()) {
            (Some(path), _) => Ok(Settings::from_file(path)?),
            (None, true) => Ok(sample::settings()?),
            (None, false) => Err(super::Error::Invalid(
                "sources were given without --config; write a configuration with \
                 `apportion init` and pass it with --config"
                    .into(),
            )),
        }
    }

    /// The usage exports, opened for reading.
    pub fn open(&self) -> Result<Vec<Input<'static>>, LoadError> {
        if self.is_sample() {
            return Ok(vec![Input::from_bytes(sample::LOGS_NAME, sample::LOGS)]);
        }
        self.files.iter().map(|p| Input::open(p)).collect()
    }

    /// The prior ledger: the file named (a CSV ledger or last month's archive), else the
    /// sample's for the sample month.
    pub fn ledger(&self, currency: &str) -> Result<Option<Ledger>, LoadError> {
        match (&self.ledger, self.is_sample()) {
            (Some(path), _) => crate::archive::read_ledger(path, currency)
                .map(Some)
                .map_err(|message| LoadError::new(path, None, message)),
            (None, true) => {
                Ledger::from_bytes(sample::LEDGER_NAME, sample::LEDGER, currency).map(Some)
            }
            (None, false) => Ok(None),
        }
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
