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
use super::commands::Failure;
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

/// Runs `export`. Without `--archive`, the outputs are written from the same settlement as
/// `report` shows, the month's saved review session applied, and the journal and routing
/// table say that the settlement is a draft, not approved, and why.
pub fn run(args: &ExportArgs) -> Result<u8, Failure> {
    let outputs = plan(args)?;
    if args.archive.is_some() {
        return run_reviewed(args, &outputs);
    }
    let draft = draft(&args.inputs)?;
    let settlement = Settlement {
        settings: &draft.settings,
        attribution: &draft.attribution,
        checks: &draft.checks,
    };
    prepare(&outputs)?;
    for output in &outputs {
        let done = write_draft(output, &settlement, &draft.why)?;
        eprintln!("{done}");
    }
    Ok(exit::NORMAL)
}

/// A settlement that is not (or not yet) approved, as `report` shows it.
struct Draft {
    settings: crate::config::Settings,
    attribution: crate::calc::Attribution,
    checks: Vec<checks::Check>,
    why: String,
}

/// The month's settlement with its saved review session applied (its recalculations, as
/// `report` applies them), and why it is not approved; without a data directory there is
/// no session, and the figures are the calculation's.
fn draft(inputs: &Inputs) -> Result<Draft, Failure> {
    let loaded = super::commands::load(inputs)?;
    let today = super::commands::sources(inputs).today(&loaded.settings);
    let Some(dir) = crate::review::store::data_dir() else {
        let attribution = crate::calc::calculate(
            &loaded.settings,
            &loaded.dataset,
            loaded.ledger.as_ref(),
            today,
        );
        return Ok(Draft {
            checks: checks::attribution_checks(&attribution),
            settings: loaded.settings,
            attribution,
            why: "there is no review session (no data directory; set APPORTION_DATA)".into(),
        });
    };
    let peek = super::commands::peek_session(inputs, &loaded, today, &dir)?;
    let open = peek.checklist.draft_reason();
    let why = match peek.found {
        true => open,
        false => format!("the month has no review session yet; {open}"),
    };
    Ok(Draft {
        settings: peek.settings,
        checks: peek.checklist.report_checks(),
        attribution: peek.attribution,
        why,
    })
}

/// Writes one output of a draft settlement: the journal and the routing table say it is a
/// draft and why; the alerts are written as always.
fn write_draft(output: &Output, settlement: &Settlement<'_>, why: &str) -> Result<String, Failure> {
    match output {
        Output::Settlement(output) => {
            outputs::write_draft(output, settlement, why).map_err(output_failure)
        }
        other => write(other, settlement),
    }
}

/// Exports from the month's review session: the archive first (which the checklist gates),
/// then the other outputs from the same reviewed settlement, the workbook listing the
/// review's checklist.
fn run_reviewed(args: &ExportArgs, outputs: &[Output]) -> Result<u8, Failure> {
    let review = open_review(&args.inputs, false)?;
    let checks = review.checklist().map_err(Failure::input)?.report_checks();
    let settlement = Settlement {
        settings: &review.settings,
        attribution: &review.attribution,
        checks: &checks,
    };
    if let Some(dir) = &args.archive {
        prepare_archive(&review, dir)?;
    }
    prepare(outputs)?;
    for output in outputs {
        let done = match output {
            Output::Archive(dir) => archive(&review, dir, args.note.as_deref())?,
            other => write(other, &settlement)?,
        };
        eprintln!("{done}");
    }
    Ok(exit::NORMAL)
}

/// Opens the month's review session headless (a new one when none was saved); `save` says
/// whether the command changes it (a sign-off) or only reads it (an export). Refused when the
/// sources changed since the session was saved: the recalculation that follows must be seen
/// in the review before anything is approved or archived.
pub fn open_review(inputs: &Inputs, save: bool) -> Result<crate::review::Review, Failure> {
    use crate::review::{Review, store};
    let sources = super::commands::sources(inputs);
    let data_dir = store::data_dir()
        .ok_or_else(|| Failure::input("no data directory: set APPORTION_DATA to a folder"))?;
    let loaded = Review::load(sources.clone(), Default::default()).map_err(Failure::input)?;
    let reviewer = std::env::var("USER").unwrap_or_default();
    let now = chrono::Utc::now();
    let mut review =
        Review::resume(sources, loaded, &data_dir, &reviewer, now).map_err(Failure::input)?;
    let changed = review.sources_changed_since_saved();
    if !changed.is_empty() {
        return Err(Failure::input(format!(
            "the sources changed since the month's review session was saved ({}): open the \
             review with `apportion review` and the same files, which recalculates and sends \
             the lines that moved back to pending, before signing off or writing the archive",
            changed.join(", ")
        )));
    }
    if save {
        review.persist().map_err(Failure::review)?;
    }
    Ok(review)
}

/// Makes sure every settlement output can be written before the first is: its folder is
/// created when missing, as the review's export menu creates it, and an unusable place (a
/// file where a folder is needed, a read-only folder) refuses the export with nothing
/// written. The archive is prepared by [`prepare_archive`].
fn prepare(outputs: &[Output]) -> Result<(), Failure> {
    for output in outputs {
        if let Output::Settlement(output) = output {
            output.prepare().map_err(output_failure)?;
        }
    }
    Ok(())
}

/// Makes sure the archive can be written into `dir` before anything is: the folder usable
/// (created when missing) and none of the archive's files there yet. An export that wrote the
/// archive and then stopped on another output could never be completed, since an archive is
/// never overwritten.
fn prepare_archive(review: &crate::review::Review, dir: &Path) -> Result<(), Failure> {
    crate::write::prepare_folder(dir).map_err(|e| {
        Failure::output(format!(
            "cannot write the archive into '{}': {e}",
            dir.display()
        ))
    })?;
    for path in review.archive_files(dir) {
        if path.exists() {
            return Err(Failure::output(format!(
                "cannot write '{}': an archive already exists here; archives are never \
                 overwritten",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Writes the approved archive, which the checklist gates, with the fuse policies beside it.
fn archive(
    review: &crate::review::Review,
    dir: &Path,
    note: Option<&str>,
) -> Result<String, Failure> {
    let exported = review.export(dir, note).map_err(Failure::review)?;
    let mut said = format!("wrote the archive {}", exported.archive.display());
    if let Some(path) = exported.policies {
        said.push_str(&format!("\nwrote the fuse policies {}", path.display()));
    }
    Ok(said)
}

/// Writes one settlement output and says what was written.
fn write(output: &Output, settlement: &Settlement<'_>) -> Result<String, Failure> {
    match output {
        Output::Settlement(output) => outputs::write(output, settlement).map_err(output_failure),
        Output::Archive(_) => Err(Failure::input(
            "the archive is written from the review session",
        )),
    }
}

/// The failure of an output, by whose side it is.
fn output_failure(error: outputs::Error) -> Failure {
    match error {
        outputs::Error::Input(message) => Failure::input(message),
        outputs::Error::Output(message) => Failure::output(message),
    }
}
