//! The command line: arguments, and one function per headless command.

mod commands;
mod export;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;

pub use commands::run;
pub use export::ExportArgs;

/// Turns a month of AI/LLM API usage exports into a traceable cost settlement across
/// departments.
#[derive(Debug, Parser)]
#[command(
    name = "apportion",
    version,
    about,
    long_about = None,
    after_help = "Without a command, apportion opens the review of the bundled sample month in the \
                  terminal; when standard output is not a terminal (a pipe, a script), it prints \
                  the sample month's report instead."
)]
pub struct Cli {
    /// What to do; without a command, the review of the bundled sample month.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the review of a month in the terminal (the bundled sample month without sources).
    Review(Inputs),
    /// Print the attribution of a month (table, CSV, JSON or Markdown).
    Report(ReportArgs),
    /// Exit 0 when every department is normal and no rejected row is left open, 1 on a
    /// warning, open rejected rows or a lifted fuse, 2 on a fuse not lifted, 3+ on errors.
    Check(Inputs),
    /// Write the commented starter configuration.
    Init {
        /// Where to write it.
        #[arg(default_value = "apportion.toml")]
        path: PathBuf,
    },
    /// Generate a synthetic month (configuration, gateway log, prior ledger) into a folder.
    Sample(SampleArgs),
    /// Check an archive: exit 0 when its body and the given sources are unchanged, 1 when
    /// something changed (and say what), 3 when it cannot be read.
    Verify {
        /// The archive (JSON).
        archive: PathBuf,
        /// Source files to compare with the inputs the archive records.
        sources: Vec<PathBuf>,
    },
    /// Write the settlement outputs: the approved archive, routing table, accounting
    /// journal, alerts.
    Export(ExportArgs),
    /// Sign a fused department off (finance or technical director) in the month's review
    /// session; two sign-offs by two different people lift the fuse.
    Signoff(SignoffArgs),
}

/// The inputs of a calculation; with none, the bundled sample month is used.
#[derive(Debug, Clone, Args, Default)]
pub struct Inputs {
    /// The configuration file (TOML).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The prior ledger: a ledger CSV, or last month's archive (JSON).
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// The day to judge the period from (YYYY-MM-DD); today by default.
    #[arg(long, value_name = "DATE")]
    pub today: Option<chrono::NaiveDate>,
    /// Read every source in this format instead of detecting it from the content:
    /// generic-csv, litellm, openai-usage, openai-costs, openai-cost-csv, anthropic-usage,
    /// anthropic-cost, focus or claude-code.
    #[arg(long, value_name = "NAME")]
    pub input_format: Option<crate::load::Format>,
    /// A price list for models the configuration does not price: our TOML table or
    /// LiteLLM's JSON price map (model_prices_and_context_window.json).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Usage exports to read.
    pub sources: Vec<PathBuf>,
}

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write every rejected row (file, line, reason) to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
}

/// Arguments of `signoff`.
#[derive(Debug, Args)]
pub struct SignoffArgs {
    /// The inputs.
    #[command(flatten)]
    pub inputs: Inputs,
    /// The fused department.
    #[arg(long)]
    pub department: String,
    /// The role signed in: finance or technical-director.
    #[arg(long)]
    pub role: crate::review::Role,
    /// Who signs.
    #[arg(long)]
    pub name: String,
    /// What the signer says.
    #[arg(long)]
    pub note: Option<String>,
    /// Take the sign-off in this role back instead.
    #[arg(long)]
    pub withdraw: bool,
}

/// Arguments of `sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Folder to write into (created if missing).
    #[arg(long, default_value = "sample-month")]
    pub out: PathBuf,
    /// Number of log rows.
    #[arg(long, default_value_t = crate::sample::DEFAULT_ROWS)]
    pub rows: u64,
    /// Seed of the generator; the same seed gives the same files.
    #[arg(long, default_value_t = crate::sample::DEFAULT_SEED)]
    pub seed: u64,
    /// Replace the files of an earlier sample in the folder (they are refused otherwise).
    #[arg(long)]
    pub replace: bool,
}

/// Exit codes of `check` and of errors.
pub mod exit {
    /// Every department normal, every rejected row acknowledged.
    pub const NORMAL: u8 = 0;
    /// At least one warning, or rejected rows not acknowledged in the review.
    pub const WARNING: u8 = 1;
    /// At least one fuse.
    pub const FUSE: u8 = 2;
    /// Bad configuration or input.
    pub const INPUT_ERROR: u8 = 3;
    /// Could not write an output.
    pub const OUTPUT_ERROR: u8 = 4;
}

/// Parses the arguments and runs the command. A command line that cannot be parsed exits
/// as bad input (3), not with the parser's usual 2, which `check` gives a fuse.
pub fn main() -> ExitCode {
    match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(error) => {
            let _ = error.print();
            match error.use_stderr() {
                true => ExitCode::from(exit::INPUT_ERROR),
                // Help and version are what was asked for.
                false => ExitCode::SUCCESS,
            }
        }
    }
}
