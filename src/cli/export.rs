//! `apportion export`: writes the settlement outputs the rest of the company uses: the
//! routing table, the accounting journal and the alerts.
//!
//! Each flag names one output and where it goes. The outputs are planned from the flags
//! before the month is read, so that a wrong extension fails at once; then the month is
//! calculated once and every output is written from that same attribution. Another output is
//! one more [`outputs::Output`] variant, one line in [`plan`] and one arm in
//! [`outputs::write`].

use std::path::{Path, PathBuf};

use clap::Args;

use super::Inputs;
use super::commands::{Failure, attribution};
use super::exit;
use crate::outputs::{self, Settlement, TableFormat};
use crate::report::checks;

/// Arguments of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// Write the settlement routing table, one row per department: `.csv` or `.xlsx`
    /// (a workbook with the departments, the line items and the checklist).
    #[arg(long, value_name = "FILE")]
    pub routing_table: Option<PathBuf>,
    /// Write the settlement as a plain-text accounting journal (hledger, ledger).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Write an alert message (.eml with a chart) into this folder for every department in
    /// warning or fuse; they are also sent when the configuration has an [alerts.smtp] server.
    #[arg(long, value_name = "DIR")]
    pub alerts: Option<PathBuf>,
    /// Write the approved archive (JSON and a CSV of the lines, with the fuse policies) into
    /// this folder, from the month's saved review session, when its checklist allows it. With
    /// it, every other output is written from the reviewed settlement too.
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// The note the archive records when a check allows one (today outside the review window).
    #[arg(long, value_name = "TEXT", requires = "archive")]
    pub note: Option<String>,
}

/// One output to write: the archive from the review session, or a settlement output.
#[derive(Debug)]
enum Output {
    Archive(PathBuf),
    Settlement(outputs::Output),
}

/// Turns the flags into the outputs to write, checking what can be checked before reading.
fn plan(args: &ExportArgs) -> Result<Vec<Output>, Failure> {
    let mut outputs = Vec::new();
    if let Some(path) = &args.routing_table {
        let format = table_format(path)?;
        outputs.push(Output::Settlement(outputs::Output::RoutingTable(
            path.clone(),
            format,
        )));
    }
    if let Some(path) = &args.journal {
        outputs.push(Output::Settlement(outputs::Output::Journal(path.clone())));
    }
    if let Some(dir) = &args.alerts {
        outputs.push(Output::Settlement(outputs::Output::Alerts(dir.clone())));
    }
    if let Some(dir) = &args.archive {
        outputs.insert(0, Output::Archive(dir.clone()));
    }
    if outputs.is_empty() {
        return Err(Failure::input(
            "nothing to export: name at least one output: --archive DIR, --routing-table FILE.csv|FILE.xlsx, --journal FILE or --alerts DIR",
        ));
    }
    Ok(outputs)
}

fn table_format(path: &Path) -> Result<TableFormat, Failure> {
    TableFormat::of(path).ok_or_else(|| {
        Failure::input(format!(
            "--routing-table '{}': expected a file name ending in .csv or .xlsx",
            path.display()
        ))
    })
}

/// Runs `export`.
pub fn run(args: &ExportArgs) -> Result<u8, Failure> {
    let outputs = plan(args)?;
    if args.archive.is_some() {
        return run_reviewed(args, &outputs);
    }
    let (loaded, attribution) = attribution(&args.inputs)?;
    let checks = checks::attribution_checks(&attribution);
    let settlement = Settlement {
        settings: &loaded.settings,
        attribution: &attribution,
        checks: &checks,
    };
    for output in &outputs {
        let done = write(output, &settlement)?;
        eprintln!("{done}");
    }
    Ok(exit::NORMAL)
}

/// Exports from the month's review session: the archive first (which the checklist gates),
/// then the other outputs from the same reviewed settlement, the workbook listing the
/// review's checklist.
fn run_reviewed(args: &ExportArgs, outputs: &[Output]) -> Result<u8, Failure> {
    let review = open_review(&args.inputs)?;
    let checks = review.checklist().map_err(Failure::input)?.report_checks();
    let settlement = Settlement {
        settings: &review.settings,
        attribution: &review.attribution,
        checks: &checks,
    };
    for output in outputs {
        let done = match output {
            Output::Archive(dir) => archive(&review, dir, args.note.as_deref())?,
            other => write(other, &settlement)?,
        };
        eprintln!("{done}");
    }
    Ok(exit::NORMAL)
}

/// Opens the month's review session headless (a new one when none was saved).
pub fn open_review(inputs: &Inputs) -> Result<crate::review::Review, Failure> {
    use crate::review::{Review, store};
    let sources = super::commands::sources(inputs);
    let data_dir = store::data_dir()
        .ok_or_else(|| Failure::input("no data directory: set APPORTION_DATA to a folder"))?;
    let loaded = Review::load(sources.clone(), Default::default()).map_err(Failure::input)?;
    let reviewer = std::env::var("USER").unwrap_or_default();
    Review::open(sources, loaded, &data_dir, &reviewer, chrono::Utc::now()).map_err(Failure::input)
}

fn archive(
    review: &crate::review::Review,
    dir: &Path,
    note: Option<&str>,
) -> Result<String, Failure> {
    let exported = review.export(dir, note).map_err(Failure::input)?;
    let mut said = format!("wrote the archive {}", exported.archive.display());
    if let Some(path) = exported.policies {
        said.push_str(&format!("\nwrote the fuse policies {}", path.display()));
    }
    Ok(said)
}

/// Writes one settlement output and says what was written.
fn write(output: &Output, settlement: &Settlement<'_>) -> Result<String, Failure> {
    match output {
        Output::Settlement(output) => outputs::write(output, settlement).map_err(|e| match e {
            outputs::Error::Input(message) => Failure::input(message),
            outputs::Error::Output(message) => Failure::output(message),
        }),
        Output::Archive(_) => Err(Failure::input(
            "the archive is written from the review session",
        )),
    }
}
