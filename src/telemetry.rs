//! Logging: every event goes to stdout and to daily rolling files under the log directory,
//! in the configured format, with old files pruned after the retention period. An event is
//! one line: a field holding a line break or an escape sequence (a JSON key from a request,
//! an e-mail typed at sign-in) is written escaped, so it can neither forge a line nor reach
//! the terminal that tails the log.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::Context;
use tracing::Metadata;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

use crate::config::{Config, LogFormat};
use crate::text::{escape, escape_json};

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
    let json = matches!(config.log_format, LogFormat::Json);
    let writer = OneLine {
        inner: io::stdout.and(file_writer),
        json,
    };
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

/// Writes each formatted event with its unsafe characters escaped, keeping only its final
/// line break. The fmt layer formats a whole event into one buffer, ending in a line break,
/// and hands it over in one `write_all` (`fmt_layer::Layer::on_event` in
/// tracing-subscriber), which reaches [`OneLineWriter::write`] once since it takes the whole
/// buffer; so every other line break in it came from a field. JSON events keep their value:
/// their encoder escapes C0 controls and [`escape_json`] the rest.
#[derive(Debug)]
struct OneLine<M> {
    inner: M,
    json: bool,
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for OneLine<M> {
    type Writer = OneLineWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        OneLineWriter {
            inner: self.inner.make_writer(),
            json: self.json,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        OneLineWriter {
            inner: self.inner.make_writer_for(meta),
            json: self.json,
        }
    }
}

#[derive(Debug)]
struct OneLineWriter<W> {
    inner: W,
    json: bool,
}

impl<W: io::Write> io::Write for OneLineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (&*text, ""),
        };
        let body = if self.json {
            escape_json(body)
        } else {
            escape(body)
        };
        // One write for the line and its end, so lines of other threads cannot fall between.
        self.inner.write_all(format!("{body}{end}").as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt;

    use super::*;

    /// Everything the writers wrote, and how many writes it took.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<(Vec<u8>, usize)>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut seen = self.0.lock().unwrap();
            seen.0.extend_from_slice(buf);
            seen.1 += 1;
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_event_is_one_line_whatever_its_fields_hold() {
        let capture = Capture::default();
        let sink = capture.clone();
        let layer = fmt::layer().with_ansi(false).with_writer(OneLine {
            inner: move || sink.clone(),
            json: false,
        });
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let cause = "unknown field `evil\nFORGED line \u{1b}[2J\u{202e}`";
            tracing::warn!(cause = %cause, "request refused");
            tracing::info!("second\r\nevent");
        });
        let (bytes, writes) = capture.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(writes, 2, "one write per event: {text}");
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("evil\\nFORGED line"), "{text}");
        assert!(text.contains("second\\r\\nevent"), "{text}");
        assert!(!text.contains(['\u{1b}', '\r', '\u{202e}']), "{text:?}");
        assert!(text.ends_with('\n'));
    }
}
