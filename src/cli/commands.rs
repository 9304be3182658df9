//! The headless commands over the core.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use super::{Cli, Command, Inputs, ReportArgs, SampleArgs, exit};
use crate::calc::{Attribution, Status, calculate};
use crate::config::{STARTER, Settings};
use crate::load::ledger::Ledger;
use crate::load::{Dataset, Hashing};
use crate::report::policy::Action;
use crate::report::{self, Format};
use crate::review::{Outcome, Store};
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

    /// A review action that failed: an output when a file of the review could not be
    /// written (an unusable data directory), an input otherwise.
    pub(super) fn review(error: crate::review::Error) -> Failure {
        match error {
            crate::review::Error::Unwritable { .. } => Failure::output(error),
            other => Failure::input(other),
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
        Some(Command::Signoff(args)) => signoff(&args),
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
    load_hashing(inputs, |_| Hashing::Sha256)
}

/// Reads the inputs as [`load`] does; `hashing` decides from the settings whether the
/// sources are hashed.
fn load_hashing(
    inputs: &Inputs,
    hashing: impl FnOnce(&Settings) -> Hashing,
) -> Result<Loaded, Failure> {
    let (settings, dataset, ledger) =
        crate::review::Review::load_hashing(sources(inputs), Default::default(), hashing)
            .map_err(Failure::input)?;
    Ok(Loaded {
        settings,
        dataset,
        ledger,
    })
}

/// The review's view of the inputs named on the command line.
pub fn sources(inputs: &Inputs) -> crate::review::Sources {
    crate::review::Sources {
        config: inputs.config.clone(),
        ledger: inputs.ledger.clone(),
        files: inputs.sources.clone(),
        today: inputs.today,
        format: inputs.input_format,
        prices: inputs.prices.clone(),
    }
}

/// The settlement as the month's saved review session leaves it (the raw calculation when
/// there is no session yet), with the checklist, as `report` and `export` show it.
pub fn peek_session(
    inputs: &Inputs,
    loaded: &Loaded,
    today: chrono::NaiveDate,
    data_dir: &std::path::Path,
) -> Result<crate::review::Peek, Failure> {
    let others = sources(inputs)
        .fingerprint_others()
        .map_err(Failure::input)?;
    crate::review::peek(
        &loaded.settings,
        &loaded.dataset,
        loaded.ledger.as_ref(),
        &others,
        today,
        data_dir,
    )
    .map_err(Failure::input)
}

/// A report compares the sources with the month's saved review session when there is one,
/// and needs their fingerprints for that; without a session it shows none.
fn hashing_for_report(settings: &Settings) -> Hashing {
    let organization = &settings.config.organization.name;
    let month = &settings.config.period.month;
    let saved = crate::review::store::data_dir()
        .is_some_and(|dir| Store::new(&dir, organization, month).path().exists());
    match saved {
        true => Hashing::Sha256,
        false => Hashing::SizeOnly,
    }
}

/// The settlement as `report` shows it: with the month's review session applied when the
/// data directory holds one, the calculation's otherwise. `check` judges the same figures.
/// What `check` judges: the settlement, with the saved review session's changes and
/// acknowledgements counted in when there is a data directory.
struct Judged {
    attribution: Attribution,
    /// Why rejected rows are still open, when some are.
    open_rejects: Option<String>,
    /// The fused departments whose fuse both sign-offs lifted.
    lifted: Vec<String>,
}

fn settled(inputs: &Inputs, loaded: &Loaded, today: chrono::NaiveDate) -> Result<Judged, Failure> {
    let Some(dir) = crate::review::store::data_dir() else {
        let attribution = calculate(
            &loaded.settings,
            &loaded.dataset,
            loaded.ledger.as_ref(),
            today,
        );
        let rejected = loaded.dataset.rejects.len();
        return Ok(Judged {
            attribution,
            open_rejects: (rejected > 0).then(|| format!("{rejected} rejected rows")),
            lifted: Vec::new(),
        });
    };

    let peek = peek_session(inputs, loaded, today, &dir)?;
    let open_rejects = peek
        .checklist
        .checks
        .iter()
        .find(|c| c.id == "rejects_acknowledged" && c.outcome != Outcome::Pass)
        .map(|c| c.reason.clone());
    let lifted = peek
        .attribution
        .departments
        .iter()
        .filter(|d| d.status == Status::Fuse)
        .filter(|d| crate::review::signoff::lifted(&peek.session.signoffs, &d.name))
        .map(|d| d.name.clone())
        .collect();
    Ok(Judged {
        attribution: peek.attribution,
        open_rejects,
        lifted,
    })
}

/// Prints the report; when the data directory is known, the figures are those of the
/// month's review session (its changes applied) and the checklist follows.
fn report(args: &ReportArgs) -> Result<u8, Failure> {
    let loaded = load_hashing(&args.inputs, hashing_for_report)?;
    if let Some(path) = &args.rejects {
        write_rejects(path, &loaded.dataset)?;
    }
    let today = sources(&args.inputs).today(&loaded.settings);
    let text = match crate::review::store::data_dir() {
        Some(dir) => {
            let peek = peek_session(&args.inputs, &loaded, today, &dir)?;
            let session = match peek.found {
                true => peek.session_path.display().to_string(),
                false => format!("none yet at {}", peek.session_path.display()),
            };
            let explained = explanations(&args.inputs, &loaded, &peek.attribution);
            let extras = report::json::Extras {
                checklist: Some(&peek.checklist),
                explanations: explained.as_deref(),
            };
            report::render_reviewed(&peek.attribution, args.format, extras, &session)
        }
        None => {
            let attribution = calculate(
                &loaded.settings,
                &loaded.dataset,
                loaded.ledger.as_ref(),
                today,
            );
            let explained = explanations(&args.inputs, &loaded, &attribution);
            match (args.format, explained) {
                (Format::Json, Some(explained)) => report::json::render_with(
                    &attribution,
                    report::json::Extras {
                        checklist: None,
                        explanations: Some(&explained),
                    },
                ),
                (format, _) => report::render(&attribution, format),
            }
        }
    };
    print(&text, "the report")?;
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

/// Runs the review; a data directory it cannot write is an output error, like any file it
/// cannot write.
fn review(inputs: &Inputs) -> Result<u8, Failure> {
    crate::tui::run(sources(inputs)).map_err(|error| match error {
        crate::tui::Error::DataDir { .. } => Failure::output(error),
        _ => Failure::input(error),
    })?;
    Ok(exit::NORMAL)
}

/// Prints one line per department that is not normal, and one for rejected rows not yet
/// acknowledged; the exit code is the worst of them. Rejected rows count as a warning, and
/// so does a fuse that both sign-offs lifted: it no longer stops the month, but it is not
/// normal either.
fn check(inputs: &Inputs) -> Result<u8, Failure> {
    let loaded = load_hashing(inputs, hashing_for_report)?;
    let today = sources(inputs).today(&loaded.settings);
    let judged = settled(inputs, &loaded, today)?;

    let mut out = String::new();
    let mut worst = Status::Normal;
    for d in &judged.attribution.departments {
        let reason = d.reasons.first().map_or("", |r| r.text.as_str());
        let (status, said) = match judged.lifted.contains(&d.name) {
            true => (
                Status::Warning,
                format!("fuse lifted by two sign-offs; {reason}"),
            ),
            false => (d.status, reason.to_string()),
        };
        if status != Status::Normal {
            out.push_str(&format!("{}\t{}\t{said}\n", status.label(), d.name));
        }
        worst = worst.max(status);
    }
    if let Some(reason) = &judged.open_rejects {
        out.push_str(&format!("warning\t(rejected rows)\t{reason}\n"));
        worst = worst.max(Status::Warning);
    }
    print(&out, "the check")?;

    Ok(match worst {
        Status::Normal => exit::NORMAL,
        Status::Warning => exit::WARNING,
        Status::Fuse => exit::FUSE,
    })
}

fn init(path: &Path) -> Result<u8, Failure> {
    crate::write::create_new(path, STARTER.as_bytes())
        .map_err(|e| Failure::output(format!("cannot write '{}': {e}", path.display())))?;
    eprintln!(
        "wrote {}; edit it, then run `apportion report --config {} LOGS.csv`",
        path.display(),
        path.display()
    );
    Ok(exit::NORMAL)
}

fn write_sample(args: &SampleArgs) -> Result<u8, Failure> {
    let names = [sample::CONFIG_NAME, sample::LOGS_NAME, sample::LEDGER_NAME];
    let existing: Vec<String> = names
        .iter()
        .map(|name| args.out.join(name))
        .filter(|path| path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !existing.is_empty() && !args.replace {
        return Err(Failure::output(format!(
            "{} already exist(s); pass --replace to write over them, or choose another --out",
            existing.join(", ")
        )));
    }
    sample::generate::write_month(&args.out, args.rows, args.seed).map_err(|e| {
        let out = args.out.display();
        Failure::output(format!("cannot write the sample month into '{out}': {e}"))
    })?;
    eprintln!(
        "wrote a sample month of {} rows into {}",
        args.rows,
        args.out.display()
    );
    Ok(exit::NORMAL)
}

fn signoff(args: &super::SignoffArgs) -> Result<u8, Failure> {
    let mut review = super::export::open_review(&args.inputs, true)?;
    let now = chrono::Utc::now();
    if args.withdraw {
        review
            .withdraw_sign_off(&args.department, args.role, now)
            .map_err(Failure::review)?;
        eprintln!("withdrew the {} sign-off of {}", args.role, args.department);
        let downgrade = review.policy_path(&args.department, Action::Downgrade);
        if downgrade.exists() {
            eprintln!(
                "the fuse of {} holds; the downgrade policy is {}",
                args.department,
                downgrade.display()
            );
        }
        return Ok(exit::NORMAL);
    }
    let lifted = review
        .sign_off(
            &args.department,
            args.role,
            &args.name,
            args.note.as_deref(),
            now,
        )
        .map_err(Failure::review)?;
    eprintln!(
        "{} signed {} off as {}",
        args.name.trim(),
        args.department,
        args.role
    );
    let downgrade = review.policy_path(&args.department, Action::Downgrade);
    if !lifted && downgrade.exists() {
        eprintln!(
            "the fuse of {} holds until both roles sign; the downgrade policy is {}",
            args.department,
            downgrade.display()
        );
    }
    if lifted {
        let path = review
            .write_restoring_policy(&args.department)
            .map_err(Failure::review)?;
        if let Some(path) = path {
            eprintln!(
                "the fuse of {} is lifted; the restoring policy is {}",
                args.department,
                path.display()
            );
        }
    }
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
    print(&out, "the verification")?;
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
    crate::write::atomic(path, &bytes).map_err(|e| {
        Failure::output(format!(
            "cannot write the rejected rows to '{}': {e}",
            path.display()
        ))
    })
}

/// Prints `what` to stdout; a closed pipe (`| head`) is not an error. A failure names
/// standard output, since the system's reason alone (a full disk) does not say what was
/// being written.
fn print(text: &str, what: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::output(format!(
            "cannot write {what} to standard output: {e}"
        ))),
        Ok(()) => Ok(()),
    }
}
