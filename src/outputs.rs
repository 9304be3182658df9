//! The settlement outputs the rest of the company reads, written from one attribution: the
//! routing table (CSV or workbook), the accounting journal and the alerts.
//!
//! The command line and the review in the terminal both write through [`write`], so that an
//! output looks the same whichever front end made it. Every file is written atomically.

use std::path::{Path, PathBuf};

use crate::alert;
use crate::calc::Attribution;
use crate::config::Settings;
use crate::report::checks::Check;
use crate::report::{journal, routing, xlsx};

/// The formats of the routing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated values.
    Csv,
    /// An `.xlsx` workbook with the departments, the line items and the checklist.
    Xlsx,
}

impl TableFormat {
    /// The format a file name asks for by its extension.
    pub fn of(path: &Path) -> Option<TableFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(TableFormat::Csv),
            "xlsx" => Some(TableFormat::Xlsx),
            _ => None,
        }
    }
}

/// One output and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The routing table, in the format of the file's extension.
    RoutingTable(PathBuf, TableFormat),
    /// The accounting journal.
    Journal(PathBuf),
    /// The alert messages, into this outbox folder (and sent when a server is configured).
    Alerts(PathBuf),
}

impl Output {
    /// Checks that this output can be written, creating its folder when missing, so that a
    /// command writing several outputs can refuse before the first rather than stop after it.
    pub fn prepare(&self) -> Result<(), Error> {
        let (path, prepared) = match self {
            Output::RoutingTable(path, _) | Output::Journal(path) => {
                (path, crate::write::prepare_file(path, true))
            }
            Output::Alerts(dir) => (dir, crate::write::prepare_folder(dir)),
        };
        prepared.map_err(|e| Error::Output(format!("cannot write '{}': {e}", path.display())))
    }
}

/// Why an output was not written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The inputs do not allow it (an alert configuration that cannot be used).
    #[error("{0}")]
    Input(String),
    /// Writing or sending failed.
    #[error("{0}")]
    Output(String),
}

/// What the outputs are written from: the settlement and the checks the workbook lists.
#[derive(Debug, Clone, Copy)]
pub struct Settlement<'a> {
    /// The configuration.
    pub settings: &'a Settings,
    /// The settled month.
    pub attribution: &'a Attribution,
    /// The checklist sheet of the workbook: the review's checklist when there is one.
    pub checks: &'a [Check],
}

/// Writes one output and says what was written, in a line or a few.
pub fn write(output: &Output, settlement: &Settlement<'_>) -> Result<String, Error> {
    let Settlement {
        settings,
        attribution: a,
        checks,
    } = *settlement;
    match output {
        Output::RoutingTable(path, TableFormat::Csv) => {
            save(path, routing::render_csv(settings, a).as_bytes())?;
            Ok(format!("wrote the routing table to {}", path.display()))
        }
        Output::RoutingTable(path, TableFormat::Xlsx) => {
            let bytes =
                xlsx::render(settings, a, checks).map_err(|e| Error::Output(e.to_string()))?;
            save(path, &bytes)?;
            Ok(format!("wrote the routing workbook to {}", path.display()))
        }
        Output::Journal(path) => {
            save(path, journal::render(settings, a).as_bytes())?;
            Ok(format!("wrote the journal to {}", path.display()))
        }
        Output::Alerts(dir) => alerts(dir, settings, a),
    }
}

/// Writes one output of a settlement that is not approved: the journal and the routing table
/// say that it is a draft and `why`; the alerts are written as always.
pub fn write_draft(
    output: &Output,
    settlement: &Settlement<'_>,
    why: &str,
) -> Result<String, Error> {
    let Settlement {
        settings,
        attribution: a,
        checks,
    } = *settlement;
    let (path, bytes, what) = match output {
        Output::Journal(path) => (
            path,
            journal::render_draft(settings, a, why).into_bytes(),
            "the journal",
        ),
        Output::RoutingTable(path, TableFormat::Csv) => (
            path,
            routing::render_csv_draft(settings, a, why).into_bytes(),
            "the routing table",
        ),
        Output::RoutingTable(path, TableFormat::Xlsx) => (
            path,
            xlsx::render_draft(settings, a, checks, why)
                .map_err(|e| Error::Output(e.to_string()))?,
            "the routing workbook",
        ),
        Output::Alerts(_) => return write(output, settlement),
    };
    save(path, &bytes)?;
    Ok(format!(
        "wrote {what} to {} as a draft, not approved: {why}",
        path.display()
    ))
}

/// Writes the alerts into the outbox, then sends them when a server is configured.
fn alerts(dir: &Path, settings: &Settings, a: &Attribution) -> Result<String, Error> {
    let outbox = alert::prepare(settings, a).map_err(|e| Error::Input(e.to_string()))?;
    let written = alert::write_outbox(dir, &outbox).map_err(|e| Error::Output(e.to_string()))?;
    let mut said = format!("wrote {} alert(s) into {}", written.len(), dir.display());
    for alert in &outbox.alerts {
        said.push_str(&format!(
            "\n  {} ({})",
            alert.file_name,
            alert.status.label()
        ));
    }
    for department in &outbox.unaddressed {
        said.push_str(&format!(
            "\n  no alert for {department}: it has no contact; set alerts.settlement_contact"
        ));
    }
    if let Some(smtp) = settings
        .config
        .alerts
        .as_ref()
        .and_then(|c| c.smtp.as_ref())
    {
        let sent = alert::send(smtp, &outbox).map_err(|e| Error::Output(e.to_string()))?;
        said.push_str(&format!(
            "\nsent {sent} alert(s) through {}:{}",
            smtp.host, smtp.port
        ));
    }
    Ok(said)
}

fn save(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::write::atomic(path, bytes)
        .map_err(|e| Error::Output(format!("cannot write '{}': {e}", path.display())))
}
