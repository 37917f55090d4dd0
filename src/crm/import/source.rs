//! Reading an import's CSV file as a stream of rows: a byte-order mark is skipped, the
//! delimiter (`,`, `;` or tab) is found from the header line, quoted fields may hold
//! delimiters, quotes and line breaks, and lines may end in CRLF. Memory stays flat: one row
//! is held at a time, and a row longer than [`MAX_ROW_BYTES`] stops the file instead of
//! growing a buffer without end.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// The longest row, in bytes, however many lines it spans.
pub const MAX_ROW_BYTES: u64 = 1024 * 1024;
/// How much of the file's start is looked at to refuse binary files and other encodings.
const SNIFF_BYTES: usize = 64 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a file cannot be imported at all. Each is a fault of the whole file, found before any
/// record changes or, for a fault deep in the file, before the import ends (which then takes
/// back what it wrote).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has a header but no rows")]
    HeaderOnly,
    #[error("the file is not text (it holds NUL bytes): a spreadsheet must be saved as CSV first")]
    Binary,
    #[error("the file is UTF-16; save it as CSV in UTF-8")]
    Utf16,
    #[error("line {line} is not UTF-8 text; save the file as CSV in UTF-8")]
    NotUtf8 { line: u64 },
    #[error("the row at line {line} is longer than {MAX_ROW_BYTES} bytes (an unclosed quote?)")]
    RowTooLong { line: u64 },
    #[error("the header has an empty column name (column {column})")]
    EmptyHeader { column: usize },
    #[error("the header names column \"{name}\" twice")]
    DuplicateHeader { name: String },
    #[error("the header has {0} columns; at most 500 are read")]
    TooManyColumns(usize),
    #[error("the file could not be read: {0}")]
    Io(#[from] io::Error),
}

/// One row of the file.
#[derive(Debug)]
pub struct Row<'a> {
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    pub fields: Vec<&'a str>,
}

/// An open CSV file, its header read.
#[derive(Debug)]
pub struct Source {
    reader: csv::Reader<Windowed<BufReader<File>>>,
    window: Arc<Mutex<Window>>,
    offset: u64,
    header: Vec<String>,
    delimiter: u8,
    record: csv::ByteRecord,
    text: csv::StringRecord,
}

impl Source {
    /// Opens `path`, checks what it is and reads its header.
    pub fn open(path: &Path) -> Result<Self, FileError> {
        let mut file = File::open(path)?;
        let mut start = vec![0; SNIFF_BYTES];
        let mut filled = 0;
        while filled < start.len() {
            match file.read(&mut start[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        start.truncate(filled);
        let offset = if start.starts_with(BOM) { 3 } else { 0 };
        let head = &start[usize::try_from(offset).unwrap_or(0)..];
        check_text(head)?;
        let delimiter = delimiter_of(head);
        file.seek(SeekFrom::Start(offset))?;
        let window = Arc::new(Mutex::new(Window::default()));
        let guarded = Windowed {
            inner: BufReader::with_capacity(SNIFF_BYTES, file),
            window: Arc::clone(&window),
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(guarded);
        let mut source = Self {
            reader,
            window,
            offset,
            header: Vec::new(),
            delimiter,
            record: csv::ByteRecord::new(),
            text: csv::StringRecord::new(),
        };
        let header = match source.next_row()? {
            Some(row) => row.fields.iter().map(|f| f.trim().to_owned()).collect(),
            None => return Err(FileError::Empty),
        };
        source.header = check_header(header)?;
        Ok(source)
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn delimiter(&self) -> char {
        char::from(self.delimiter)
    }

    /// Bytes of the file read so far (for progress).
    pub fn bytes_done(&self) -> u64 {
        self.offset + self.reader.position().byte()
    }

    /// The next row, or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, FileError> {
        let line = || {
            self.window
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .next_line()
        };
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(err) => {
                let line = line();
                return Err(match err.into_kind() {
                    csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::FileTooLarge => {
                        FileError::RowTooLong { line }
                    }
                    csv::ErrorKind::Io(io) => FileError::Io(io),
                    _ => FileError::NotUtf8 { line },
                });
            }
        }
        let line = line();
        let end = self.reader.position().byte();
        self.window
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .consumed(end);
        let record = std::mem::take(&mut self.record);
        match csv::StringRecord::from_byte_record(record) {
            Ok(text) => self.text = text,
            Err(_) => return Err(FileError::NotUtf8 { line }),
        }
        if self.text.iter().any(|f| f.contains('\0')) {
            return Err(FileError::Binary);
        }
        Ok(Some(Row {
            line,
            fields: self.text.iter().collect(),
        }))
    }
}

/// Reads the file's first lines: no NUL bytes, no UTF-16, valid UTF-8 (a character cut at
/// the end of the sample is fine).
fn check_text(head: &[u8]) -> Result<(), FileError> {
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(FileError::Utf16);
    }
    if head.contains(&0) {
        return Err(FileError::Binary);
    }
    match std::str::from_utf8(head) {
        Ok(_) => Ok(()),
        Err(e) if e.error_len().is_none() => Ok(()),
        Err(e) => {
            let line = 1 + head[..e.valid_up_to()].split(|b| *b == b'\n').count() - 1;
            Err(FileError::NotUtf8 {
                line: u64::try_from(line).unwrap_or(u64::MAX),
            })
        }
    }
}

/// The delimiter the header line uses most, outside quotes: `,`, `;` or tab (`,` on a tie).
fn delimiter_of(head: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

fn check_header(header: Vec<String>) -> Result<Vec<String>, FileError> {
    if header.len() > 500 {
        return Err(FileError::TooManyColumns(header.len()));
    }
    // A trailing delimiter makes one empty name at the end: that column is only empty.
    let mut header = header;
    while header.len() > 1 && header.last().is_some_and(String::is_empty) {
        header.pop();
    }
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            return Err(FileError::EmptyHeader { column: i + 1 });
        }
        if header[..i].iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Err(FileError::DuplicateHeader { name: name.clone() });
        }
    }
    Ok(header)
}

/// The bytes read from the file but not yet parsed into rows: enough to say on which line
/// the next row starts (the CSV reader counts a line ending late when it is CRLF, and not
/// the blank lines it skips), and to stop a row that grows past [`MAX_ROW_BYTES`] before
/// the CSV reader's buffer does.
#[derive(Debug, Default)]
struct Window {
    /// The offset of `bytes[0]` in the file (after any byte-order mark).
    start: u64,
    bytes: Vec<u8>,
    /// Line breaks before `start`.
    newlines: u64,
}

impl Window {
    /// The line the next row starts on: past the line breaks and blank lines at the start.
    fn next_line(&self) -> u64 {
        let skipped = self
            .bytes
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .filter(|b| **b == b'\n')
            .count();
        1 + self.newlines + skipped as u64
    }

    /// The rows up to offset `end` have been read: forget their bytes.
    fn consumed(&mut self, end: u64) {
        let n = usize::try_from(end.saturating_sub(self.start))
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        self.newlines += memchr::memchr_iter(b'\n', &self.bytes[..n]).count() as u64;
        self.bytes.drain(..n);
        self.start += n as u64;
    }
}

/// A reader that keeps what it hands out in the shared [`Window`], and fails once the
/// window holds more than a row may.
#[derive(Debug)]
struct Windowed<R> {
    inner: R,
    window: Arc<Mutex<Window>>,
}

impl<R: Read> Read for Windowed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.bytes.len() as u64 > MAX_ROW_BYTES + 2 * SNIFF_BYTES as u64 {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "a row is longer than allowed",
            ));
        }
        let n = self.inner.read(buf)?;
        window.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(bytes).expect("write");
        f
    }

    type Rows = (Vec<String>, Vec<(u64, Vec<String>)>);

    fn rows(bytes: &[u8]) -> Result<Rows, FileError> {
        let f = file(bytes);
        let mut source = Source::open(f.path())?;
        let header = source.header().to_vec();
        let mut all = Vec::new();
        while let Some(row) = source.next_row()? {
            all.push((
                row.line,
                row.fields.iter().map(|s| (*s).to_owned()).collect(),
            ));
        }
        Ok((header, all))
    }

    #[test]
    fn semicolons_bom_crlf_and_quoted_line_breaks_are_read() {
        let (header, all) =
            rows(b"\xEF\xBB\xBFName;Note\r\nAda;\"two\r\nlines; one \"\"quote\"\"\"\r\nBob;x\r\n")
                .expect("reads");
        assert_eq!(header, ["Name", "Note"]);
        assert_eq!(all[0].0, 2);
        assert_eq!(all[0].1, ["Ada", "two\r\nlines; one \"quote\""]);
        assert_eq!(all[1], (4, vec!["Bob".to_owned(), "x".to_owned()]));
    }

    #[test]
    fn rows_are_numbered_by_the_line_they_start_on() {
        let (_, all) = rows(b"a,b\r\n\r\n1,\"x\r\ny\"\r\n\n\n2,z\n3,w").expect("reads");
        let lines: Vec<u64> = all.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [3, 7, 8]);
    }

    #[test]
    fn tabs_are_found_and_commas_inside_quotes_do_not_count() {
        let (header, all) = rows(b"\"a,b,c\"\tsecond\n1\t2\n").expect("reads");
        assert_eq!(header, ["a,b,c", "second"]);
        assert_eq!(all[0].1, ["1", "2"]);
    }

    #[test]
    fn files_that_are_not_csv_text_are_refused_whole() {
        assert!(matches!(rows(b""), Err(FileError::Empty)));
        assert!(matches!(rows(b"PK\x03\x04\0\0zip"), Err(FileError::Binary)));
        assert!(matches!(rows(b"\xFF\xFEa\0b\0"), Err(FileError::Utf16)));
        assert!(matches!(
            rows(b"name\nAda\nJos\xE9\n"),
            Err(FileError::NotUtf8 { line: 3 })
        ));
        assert!(matches!(
            rows(b"name,name\n"),
            Err(FileError::DuplicateHeader { .. })
        ));
    }

    #[test]
    fn a_row_without_end_stops_the_file_instead_of_filling_memory() {
        let mut bytes = b"name,note\nAda,\"".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
        match rows(&bytes) {
            Err(FileError::RowTooLong { line: 2 }) => {}
            other => panic!("expected row_too_long, got {other:?}"),
        }
    }
}
