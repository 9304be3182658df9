//! The bundled sample month: a fictional company's November 2026, embedded in the binary so
//! that `apportion` runs from any directory and after `cargo install`.
//!
//! The files in `sample-data/` are written by [`generate::write_month`] with the default row
//! count and seed; a test checks that they are exactly what the generator makes.

pub mod generate;

use std::path::Path;

use chrono::NaiveDate;

use crate::config::{ConfigError, Settings};

/// Rows of the bundled month.
pub const DEFAULT_ROWS: u64 = 24_000;
/// Seed of the bundled month.
pub const DEFAULT_SEED: u64 = 20_261_101;

/// File names inside a sample folder.
pub const CONFIG_NAME: &str = "apportion.toml";
/// The gateway log.
pub const LOGS_NAME: &str = "gateway-2026-11.csv";
/// The prior ledger.
pub const LEDGER_NAME: &str = "ledger-2026-10.csv";

/// The sample's configuration.
pub const CONFIG: &str = include_str!("../../sample-data/apportion.toml");
/// The sample's gateway log.
pub const LOGS: &[u8] = include_bytes!("../../sample-data/gateway-2026-11.csv");
/// The sample's prior ledger.
pub const LEDGER: &[u8] = include_bytes!("../../sample-data/ledger-2026-10.csv");

/// The day the sample month is judged from: the first day of its review window, the day
/// after its logs end.
pub const TODAY: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 26) {
    Some(day) => day,
    None => panic!("invalid date"),
};

/// The sample's configuration, validated.
pub fn settings() -> Result<Settings, ConfigError> {
    Settings::from_toml(CONFIG, Path::new("sample-data/apportion.toml"))
}

/// The sample month's log read into a dataset.
pub fn dataset(settings: &Settings) -> Result<crate::load::Dataset, crate::load::LoadError> {
    crate::load::load_inputs(
        settings,
        vec![crate::load::Input::from_bytes(LOGS_NAME, LOGS)],
    )
}

/// The sample month's configuration, dataset and attribution as of [`TODAY`], without its
/// ledger: what tests and examples start from.
pub fn month() -> Result<(Settings, crate::load::Dataset, crate::calc::Attribution), String> {
    let settings = settings().map_err(|e| e.to_string())?;
    let dataset = dataset(&settings).map_err(|e| e.to_string())?;
    let attribution = crate::calc::calculate(&settings, &dataset, None, TODAY);
    Ok((settings, dataset, attribution))
}
