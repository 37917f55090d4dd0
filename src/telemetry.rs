//! Logging: every event goes to stdout and to daily rolling files under the log directory,
//! in the configured format, with old files pruned after the retention period.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

use crate::config::{Config, LogFormat};

/// File name prefix of the log files: `holdfast.YYYY-MM-DD.log`.
pub const LOG_FILE_PREFIX: &str = "holdfast";

/// Keeps the background log writer alive; dropping it flushes the files.
#[derive(Debug)]
pub struct LogGuard {
    _file_writer: WorkerGuard,
}

/// Installs the global subscriber for a long-running command (`serve`). One-shot commands
/// print to the terminal and do not log to files.
pub fn init(config: &Config) -> anyhow::Result<LogGuard> {
    crate::fsutil::create_private_dir(&config.log_dir)
        .with_context(|| format!("cannot create log directory {}", config.log_dir.display()))?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(config.log_retention_days as usize)
        .build(&config.log_dir)
        .with_context(|| format!("cannot open log files in {}", config.log_dir.display()))?;
    let (file_writer, guard) = tracing_appender::non_blocking(appender);

    let filter = EnvFilter::try_new(&config.log_level).context("invalid log_level")?;
    // One formatting layer writing to both sinks: two layers would each append the span's
    // fields to the same span storage and print them twice. Colour codes would end up in the
    // files too, so lines are plain.
    let writer = io::stdout.and(file_writer);
    let layer = match config.log_format {
        LogFormat::Text => fmt::layer().with_writer(writer).with_ansi(false).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init()
        .context("logging was already initialised")?;
    Ok(LogGuard {
        _file_writer: guard,
    })
}

/// The log files currently in `dir`, oldest first (for tests and `config show`).
pub fn log_files(dir: &Path) -> io::Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(LOG_FILE_PREFIX))
        .collect();
    names.sort();
    Ok(names)
}
