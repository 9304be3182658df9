//! Logs go to `apportion.log` in the data directory, never to the screen the review draws on.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// Starts logging to the data directory, filtered by `RUST_LOG` (`info` by default). Keep
/// the guard: dropping it flushes and stops the writer. A data directory that cannot be
/// created or written is an error to report, not a panic: the review saves its session there
/// too.
pub fn init(data_dir: &Path) -> std::io::Result<WorkerGuard> {
    std::fs::create_dir_all(data_dir)?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::NEVER)
        .filename_prefix("apportion.log")
        .build(data_dir)
        .map_err(std::io::Error::other)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second start in the same process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(guard)
}
