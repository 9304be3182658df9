//! The headless commands over the core.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use chrono::NaiveDate;

use super::{Cli, Command, Inputs, ReportArgs, SampleArgs, exit};
use crate::calc::{Attribution, Status, calculate};
use crate::config::{STARTER, Settings};
use crate::load::ledger::Ledger;
use crate::load::{Dataset, Input, load_files_as, load_inputs};
use crate::report::{self, Format};
use crate::sample;

/// A failure of a command, with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    pub(super) fn input(error: impl std::fmt::Display) -> Failure {
        Failure {
            code: exit::INPUT_ERROR,
            message: error.to_string(),
        }
    }

    pub(super) fn output(error: impl std::fmt::Display) -> Failure {
        Failure {
            code: exit::OUTPUT_ERROR,
            message: error.to_string(),
        }
    }
}

/// Runs a parsed command line; errors are printed to stderr with their exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        None if std::io::stdout().is_terminal() => review(&Inputs::default()),
        None => report(&ReportArgs {
            inputs: Inputs::default(),
            format: Format::Table,
            rejects: None,
        }),
        Some(Command::Review(inputs)) => review(&inputs),
        Some(Command::Report(args)) => report(&args),
        Some(Command::Check(inputs)) => check(&inputs),
        Some(Command::Init { path }) => init(&path),
        Some(Command::Sample(args)) => write_sample(&args),
        Some(Command::Verify { archive, sources }) => verify(&archive, &sources),
        Some(Command::Export(args)) => super::export::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// A calculation's inputs, read and checked.
pub struct Loaded {
    /// The configuration.
    pub settings: Settings,
    /// What the sources held.
    pub dataset: Dataset,
    /// The prior ledger.
    pub ledger: Option<Ledger>,
}

/// Reads the inputs: the files named, or the bundled sample month when no source is given
/// (with the sample's configuration and ledger unless others are named).
pub fn load(inputs: &Inputs) -> Result<Loaded, Failure> {
    let use_sample = inputs.sources.is_empty();
    let mut settings = match &inputs.config {
        Some(path) => Settings::from_file(path).map_err(Failure::input)?,
        None if use_sample => sample::settings().map_err(Failure::input)?,
        None => {
            return Err(Failure::input(
                "sources were given without --config; write a configuration with `apportion init` and pass it with --config",
            ));
        }
    };
    if let Some(path) = &inputs.prices {
        let list = crate::config::prices::from_file(path).map_err(Failure::input)?;
        settings.price_lists.insert(0, list);
    }
    let dataset = if use_sample {
        load_inputs(
            &settings,
            vec![Input::from_bytes(sample::LOGS_NAME, sample::LOGS)],
        )
    } else {
        load_files_as(&settings, &inputs.sources, inputs.input_format)
    }
    .map_err(Failure::input)?;
    let currency = &settings.config.organization.currency;
    let ledger = match &inputs.ledger {
        Some(path) => Some(crate::archive::read_ledger(path, currency).map_err(Failure::input)?),
        None if use_sample => Some(
            Ledger::from_bytes(sample::LEDGER_NAME, sample::LEDGER, currency)
                .map_err(Failure::input)?,
        ),
        None => None,
    };
    Ok(Loaded {
        settings,
        dataset,
        ledger,
    })
}

/// The day to judge from: the one given, else the sample's fixed day for the sample month
/// (so that its report does not change with the calendar), else today in the organization's zone.
fn today(inputs: &Inputs, settings: &Settings) -> NaiveDate {
    inputs.today.unwrap_or_else(|| {
        if inputs.sources.is_empty() && inputs.config.is_none() {
            sample::TODAY
        } else {
            chrono::Utc::now()
                .with_timezone(&settings.zone)
                .date_naive()
        }
    })
}

/// Loads and calculates.
pub fn attribution(inputs: &Inputs) -> Result<(Loaded, Attribution), Failure> {
    let loaded = load(inputs)?;
    let day = today(inputs, &loaded.settings);
    let attribution = calculate(
        &loaded.settings,
        &loaded.dataset,
        loaded.ledger.as_ref(),
        day,
    );
    Ok((loaded, attribution))
}

fn report(args: &ReportArgs) -> Result<u8, Failure> {
    let (loaded, attribution) = attribution(&args.inputs)?;
    if let Some(path) = &args.rejects {
        write_rejects(path, &loaded.dataset)?;
    }
    let text = match (
        args.format,
        explanations(&args.inputs, &loaded, &attribution),
    ) {
        (Format::Json, Some(explained)) => {
            report::json::render_explained(&attribution, Some(&explained))
        }
        (format, _) => report::render(&attribution, format),
    };
    print(&text)?;
    Ok(exit::NORMAL)
}

/// Each department's change against the prior month, when the ledger is last month's
/// archive; a CSV ledger holds only amounts, too little to explain a change.
fn explanations(
    inputs: &Inputs,
    loaded: &Loaded,
    attribution: &Attribution,
) -> Option<Vec<crate::calc::explain::Explanation>> {
    let document = crate::archive::read(inputs.ledger.as_ref()?).ok()?;
    crate::calc::explain::explain_against_archive(
        &loaded.settings,
        &loaded.dataset,
        attribution,
        &document["body"],
    )
}

fn review(inputs: &Inputs) -> Result<u8, Failure> {
    let sources = crate::review::Sources {
        config: inputs.config.clone(),
        ledger: inputs.ledger.clone(),
        files: inputs.sources.clone(),
        today: inputs.today,
    };
    crate::tui::run(sources).map_err(Failure::input)?;
    Ok(exit::NORMAL)
}

fn check(inputs: &Inputs) -> Result<u8, Failure> {
    let (_, attribution) = attribution(inputs)?;
    let mut out = String::new();
    for d in attribution
        .departments
        .iter()
        .filter(|d| d.status != Status::Normal)
    {
        let reason = d.reasons.first().map_or("", |r| r.text.as_str());
        out.push_str(&format!("{}\t{}\t{}\n", d.status.label(), d.name, reason));
    }
    print(&out)?;
    Ok(match attribution.worst_status() {
        Status::Normal => exit::NORMAL,
        Status::Warning => exit::WARNING,
        Status::Fuse => exit::FUSE,
    })
}

fn init(path: &Path) -> Result<u8, Failure> {
    crate::write::create_new(path, STARTER.as_bytes()).map_err(Failure::output)?;
    eprintln!(
        "wrote {}; edit it, then run `apportion report --config {} LOGS.csv`",
        path.display(),
        path.display()
    );
    Ok(exit::NORMAL)
}

fn write_sample(args: &SampleArgs) -> Result<u8, Failure> {
    sample::generate::write_month(&args.out, args.rows, args.seed).map_err(Failure::output)?;
    eprintln!(
        "wrote a sample month of {} rows into {}",
        args.rows,
        args.out.display()
    );
    Ok(exit::NORMAL)
}

fn verify(archive: &Path, sources: &[std::path::PathBuf]) -> Result<u8, Failure> {
    let verification = crate::archive::verify::verify(archive, sources).map_err(Failure::input)?;
    let mut out = verification.findings.join("\n");
    out.push_str(if verification.intact {
        "\nintact\n"
    } else {
        "\nCHANGED\n"
    });
    print(&out)?;
    Ok(if verification.intact {
        exit::NORMAL
    } else {
        exit::WARNING
    })
}

fn write_rejects(path: &Path, dataset: &Dataset) -> Result<(), Failure> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(["file", "line", "reason"]);
    for reject in &dataset.rejects {
        let _ = writer.write_record([
            dataset.source_name(reject.source),
            &reject.line.to_string(),
            &reject.reason,
        ]);
    }
    let bytes = writer.into_inner().map_err(Failure::output)?;
    crate::write::atomic(path, &bytes).map_err(Failure::output)
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> Result<(), Failure> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(Failure::output),
    }
}
