//! Importing CSV files of contacts, companies or deals into a tenant: `source` reads the
//! file as a stream, `columns` matches its header to fields, `convert` checks each row as
//! the API would (`ahead` reads and checks rows on a thread of their own), `job` writes the
//! rows in batches (or checks them, changing nothing), `ledger` keeps each import's state
//! and what undoes it, and `undo` takes back a failed or cancelled run and reverts an
//! import that is done; `staging` holds a batch's new records until they are written
//! together, and `checkpoints` copies what they wrote into the database file on another
//! thread meanwhile.
//!
//! An import's file waits in `<data>/imports/<tenant-id>/<import-id>.csv` (the CLI reads
//! the operator's file where it is). While a run goes on, its runner holds a lock on
//! `<import-id>.lock` there: a run whose lock is free has lost its runner (a crash, a
//! restart), and [`recover`] takes it back.

mod ahead;
mod checkpoints;
pub mod columns;
pub mod convert;
mod job;
pub mod ledger;
mod matching;
mod source;
mod staging;
mod undo;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::Serialize;

pub use job::{RunError, Runner, run};
pub use ledger::{Duplicates, Import, Plan, State};
pub use source::{FileError, MAX_ROW_BYTES, Source};
pub use undo::revert;

use crate::crm::{Actor, CrmError, Kind, custom};
use crate::identity::Role;

/// Where one tenant's import files and locks are.
#[derive(Debug, Clone)]
pub struct Files {
    dir: PathBuf,
}

impl Files {
    pub fn new(data_dir: &Path, tenant_id: &str) -> Self {
        Self {
            dir: data_dir.join("imports").join(tenant_id),
        }
    }

    /// Creates the directory (only its owner may read it: it holds customers' data).
    pub fn create_dir(&self) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for dir in [self.dir.as_path(), self.dir.parent().unwrap_or(&self.dir)] {
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
            }
        }
        Ok(())
    }

    /// The uploaded file of import `id`.
    pub fn csv(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.csv"))
    }

    fn lock(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.lock"))
    }

    /// Takes the run lock of import `id`: `None` if a runner holds it already.
    pub fn hold(&self, id: &str) -> std::io::Result<Option<Held>> {
        self.create_dir()?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.lock(id))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Held {
                _file: file,
                path: self.lock(id),
            })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(err)) => Err(err),
        }
    }

    /// Removes what import `id` left on disk (its file, once the import is over).
    pub fn remove(&self, id: &str) {
        // Gone already is fine: a removal is only ever tidying up.
        let _ = fs::remove_file(self.csv(id));
    }
}

/// A run lock, released when dropped (and by the system if the process dies).
#[derive(Debug)]
pub struct Held {
    _file: File,
    path: PathBuf,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Best effort: a lock file left behind is free, and reused.
        let _ = fs::remove_file(&self.path);
    }
}

/// Who takes back a run that lost its runner.
pub fn system_actor() -> Actor {
    Actor {
        name: "holdfast".into(),
        user_id: None,
        role: Role::Owner,
    }
}

/// Takes back every run of the tenant that says it is running but whose runner is gone,
/// and marks it failed. Answers how many there were.
pub fn recover(conn: &mut Connection, files: &Files) -> Result<usize, CrmError> {
    let mut recovered = 0;
    for import in ledger::running(conn)? {
        let Ok(Some(_held)) = files.hold(&import.id) else {
            continue; // Its runner is alive (or the lock cannot be read: leave it be).
        };
        // Read again under the lock: the run may have ended just now.
        if ledger::get(conn, &import.id)?.state != State::Running {
            continue;
        }
        let outcome = if import.dry_run {
            serde_json::Map::new()
        } else {
            undo::take_back(conn, &import, &system_actor())?
        };
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ledger::finish(
            &tx,
            import.seq,
            if import.dry_run {
                State::Uploaded
            } else {
                State::Failed
            },
            Some("Holdfast stopped while the import ran; nothing of it was kept"),
            &outcome,
        )?;
        tx.commit()?;
        if !import.dry_run {
            files.remove(&import.id);
        }
        recovered += 1;
    }
    Ok(recovered)
}

/// How long an uploaded file waits to be imported before it is forgotten.
pub const WAITING_SECS: i64 = 24 * 60 * 60;

/// Forgets imports uploaded (or checked) more than [`WAITING_SECS`] ago and never started,
/// and their files. Answers how many.
pub fn expire_waiting(conn: &Connection, files: &Files) -> Result<usize, CrmError> {
    let ids: Vec<String> = conn
        .prepare(
            "SELECT id FROM imports WHERE state IN ('uploaded', 'checked') AND created_at < ?1",
        )?
        .query_map([crate::crm::now() - WAITING_SECS], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in &ids {
        conn.execute(
            "DELETE FROM imports WHERE id = ?1 AND state IN ('uploaded', 'checked')",
            [id],
        )?;
        files.remove(id);
    }
    Ok(ids.len())
}

/// A file's first look: its header, delimiter, first rows, and the fields its columns
/// would fill.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Preview {
    pub header: Vec<String>,
    pub delimiter: String,
    /// The field each column fills (`null`: ignored), as matched from the header.
    pub columns: Vec<Option<String>>,
    /// Up to 5 rows, as read.
    pub sample: Vec<Vec<String>>,
}

/// Reads the start of the file at `path` for an import of `kind`.
pub fn preview(conn: &Connection, path: &Path, kind: Kind) -> Result<Preview, PreviewError> {
    let mut source = Source::open(path)?;
    let defs = custom::live(conn, kind)?;
    let header = source.header().to_vec();
    let columns = columns::targets(kind, &header, &defs, &columns::Mapping::default())?
        .iter()
        .map(columns::Target::name)
        .collect();
    let delimiter = source.delimiter().to_string();
    let mut sample = Vec::new();
    while sample.len() < 5 {
        match source.next_row()? {
            Some(row) => sample.push(row.fields.iter().map(|f| (*f).to_owned()).collect()),
            None => break,
        }
    }
    if sample.is_empty() {
        return Err(FileError::HeaderOnly.into());
    }
    Ok(Preview {
        header,
        delimiter,
        columns,
        sample,
    })
}

/// The columns a file of rejected rows adds to the file's own; an import ignores them, so
/// the file can be fixed and imported again as it is.
pub const REJECT_COLUMNS: [&str; 2] = ["Rejected at line", "Why rejected"];

/// Rows read from the database per page of rejected rows.
pub const REJECTS_PAGE: i64 = 1_000;

/// Writes `rejected` rows as CSV under `header` (the file's own, then [`REJECT_COLUMNS`]);
/// with the header when `with_header`.
pub fn write_rejected<W: std::io::Write>(
    out: W,
    header: &[String],
    rejected: &[ledger::Rejected],
    with_header: bool,
) -> Result<W, csv::Error> {
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(out);
    if with_header {
        writer.write_record(header.iter().map(String::as_str).chain(REJECT_COLUMNS))?;
    }
    for row in rejected {
        let why = match &row.column {
            Some(column) => format!("column {column}: {}", row.reason),
            None => row.reason.clone(),
        };
        let mut fields = row.fields.clone();
        fields.resize(header.len().max(fields.len()), String::new());
        let line = row.line.to_string();
        writer.write_record(
            fields
                .iter()
                .map(String::as_str)
                .chain([line.as_str(), why.as_str()]),
        )?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Crm(#[from] CrmError),
}
