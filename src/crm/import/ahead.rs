//! Rows read from the file and checked on a thread of their own, ahead of the one that
//! writes them: reading the CSV and checking each cell take a tenth of an import's time,
//! which the machine's other core can do while SQLite writes.
//!
//! The reader runs at most a few thousand rows ahead (a bounded channel), so memory stays
//! flat whatever the file's size. It says when the file ended; a reader that stopped without
//! saying so (it panicked) is a failure of the run, never a short file.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::columns::Target;
use super::convert::{self, Context, Prepared, Reject};
use super::source::{FileError, Source};

/// Rows handed over at a time.
const CHUNK_ROWS: usize = 256;
/// Chunks read ahead at most.
const CHUNKS_AHEAD: usize = 4;

/// One row of the file, checked: what it would write or why not, and its fields as they
/// were (for the rejected rows' file).
#[derive(Debug)]
pub struct CheckedRow {
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    pub outcome: Result<Prepared, Reject>,
    pub fields: Vec<String>,
}

#[derive(Debug)]
enum Message {
    Rows {
        rows: Vec<CheckedRow>,
        /// How far into the file the reader was after these rows.
        bytes_done: u64,
    },
    End,
    Failed(FileError),
}

/// The rows of a file, read and checked by another thread.
#[derive(Debug)]
pub struct Ahead {
    messages: Option<Receiver<Message>>,
    reader: Option<JoinHandle<()>>,
    rows: std::vec::IntoIter<CheckedRow>,
    bytes_done: u64,
    ended: bool,
}

impl Ahead {
    /// Starts reading `source` (its header already read) and checking each row against
    /// `targets` as `cx` says.
    pub fn start(source: Source, cx: Arc<Context>, targets: Arc<Vec<Target>>) -> Self {
        let (sender, messages) = sync_channel(CHUNKS_AHEAD);
        let reader = std::thread::Builder::new()
            .name("import-reader".into())
            .spawn(move || read(source, &cx, &targets, &sender))
            .ok();
        Self {
            messages: reader.is_some().then_some(messages),
            reader,
            rows: Vec::new().into_iter(),
            bytes_done: 0,
            ended: false,
        }
    }

    /// The next row with something in it, or none at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<CheckedRow>, FileError> {
        loop {
            if let Some(row) = self.rows.next() {
                return Ok(Some(row));
            }
            if self.ended {
                return Ok(None);
            }
            let message = self.messages.as_ref().and_then(|m| m.recv().ok());
            match message {
                Some(Message::Rows { rows, bytes_done }) => {
                    self.rows = rows.into_iter();
                    self.bytes_done = bytes_done;
                }
                Some(Message::End) => self.ended = true,
                Some(Message::Failed(err)) => return Err(err),
                None => return Err(FileError::Io(std::io::Error::other("the reader stopped"))),
            }
        }
    }

    /// How much of the file the rows handed out so far cover, in bytes (about: up to a
    /// chunk more).
    pub fn bytes_done(&self) -> u64 {
        self.bytes_done
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        // A reader waiting to hand over rows nobody will take sees the channel closed.
        self.messages = None;
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The reader's side: chunks of checked rows until the file ends, fails, or the writer
/// stops listening.
fn read(mut source: Source, cx: &Context, targets: &[Target], sender: &SyncSender<Message>) {
    let header = source.header().to_vec();
    loop {
        let mut rows = Vec::with_capacity(CHUNK_ROWS);
        let mut last = None;
        while rows.len() < CHUNK_ROWS {
            match source.next_row() {
                Ok(Some(row)) => {
                    if row.fields.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    rows.push(CheckedRow {
                        line: row.line,
                        outcome: convert::prepare(cx, &header, targets, &row.fields),
                        fields: row.fields.iter().map(|f| (*f).to_owned()).collect(),
                    });
                }
                Ok(None) => {
                    last = Some(Message::End);
                    break;
                }
                Err(err) => {
                    last = Some(Message::Failed(err));
                    break;
                }
            }
        }
        let bytes_done = source.bytes_done();
        if !rows.is_empty() && sender.send(Message::Rows { rows, bytes_done }).is_err() {
            return;
        }
        if let Some(last) = last {
            let _ = sender.send(last);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::io::Write as _;

    use super::*;
    use crate::crm::Kind;
    use crate::crm::import::matching::MatchOn;

    fn start(bytes: &[u8]) -> (tempfile::NamedTempFile, Ahead) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        let source = Source::open(file.path()).unwrap();
        let cx = Context {
            kind: Kind::Contact,
            defs: Vec::new(),
            users_by_email: HashMap::new(),
            user_ids: HashSet::new(),
            pipelines: Vec::new(),
            default_currency: "EUR".into(),
            match_on: MatchOn::Email,
        };
        let first_name = Kind::Contact.field("first_name").unwrap();
        let ahead = Ahead::start(
            source,
            Arc::new(cx),
            Arc::new(vec![Target::Field(first_name)]),
        );
        (file, ahead)
    }

    #[test]
    fn every_row_comes_in_order_and_then_the_fault_that_stopped_the_reading() {
        // More rows than the file's first look checks, so the fault is met while reading.
        let mut bytes = b"First name\n".to_vec();
        for i in 0..10_000 {
            bytes.extend_from_slice(format!("Ada {i}\n\n").as_bytes());
        }
        bytes.extend_from_slice(b"Gr\xffce\nAlan\n");
        let (_file, mut ahead) = start(&bytes);
        for i in 0..10_000_u64 {
            let row = ahead.next_row().unwrap().expect("a row");
            assert_eq!(row.line, 2 + 2 * i, "blank lines are passed over");
            assert_eq!(row.fields, [format!("Ada {i}")]);
            let prepared = row.outcome.expect("checked");
            assert!(prepared.value("first_name").is_some());
        }
        let fault = ahead.next_row().unwrap_err();
        assert!(
            matches!(fault, FileError::NotUtf8 { line: 20_002 }),
            "{fault}"
        );
        assert!(ahead.bytes_done() > 0);
    }

    #[test]
    fn a_writer_that_stops_early_stops_the_reader() {
        let mut bytes = b"First name\n".to_vec();
        for i in 0..100_000 {
            bytes.extend_from_slice(format!("Ada {i}\n").as_bytes());
        }
        let (_file, mut ahead) = start(&bytes);
        assert!(ahead.next_row().unwrap().is_some());
        // The reader is blocked on a full channel: dropping must end it, not wait forever.
        drop(ahead);
    }
}
