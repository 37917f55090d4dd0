//! The `imports` table: each import's file, plan, state, progress and outcome; the rows it
//! rejected; the records it changed, with their values before.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::columns::Mapping;
use crate::crm::{CrmError, Kind, values};

/// How long after it ended an import can be reverted.
pub const REVERT_DAYS: i64 = 7;

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The file is here; it can be checked (a dry run) or imported.
    Uploaded,
    /// A check or the import is under way (`dry_run` says which).
    Running,
    /// A check finished: its counts say what an import would do.
    Checked,
    /// Imported.
    Done,
    /// It stopped on a fault of the file or of the server; what it had written is gone.
    Failed,
    /// Cancelled while running; what it had written is gone.
    Cancelled,
    /// Imported, then reverted.
    Reverted,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Uploaded => "uploaded",
            State::Running => "running",
            State::Checked => "checked",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
            State::Reverted => "reverted",
        }
    }

    fn parse(text: &str) -> State {
        [
            State::Uploaded,
            State::Running,
            State::Checked,
            State::Done,
            State::Failed,
            State::Cancelled,
            State::Reverted,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
        .unwrap_or(State::Failed)
    }

    /// Whether the import is over for good (its file is no longer needed).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Done | State::Failed | State::Cancelled | State::Reverted
        )
    }
}

/// What to do with a row that matches an existing record.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Duplicates {
    /// Leave the record as it is; the row is counted as skipped.
    #[default]
    Skip,
    /// Fill the record with the row's non-empty values.
    Update,
    /// Make a new record all the same.
    Create,
}

/// How an import reads its file: the columns' fields, and what a duplicate is and gets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(default)]
    pub mapping: Mapping,
    #[serde(default)]
    pub duplicates: Duplicates,
    /// The field rows match existing records on: `email` (contacts), `domain` (companies),
    /// `id`, or `custom.<key>`. Without it: e-mail for contacts, domain for companies, id
    /// for deals.
    #[serde(default)]
    pub match_on: Option<String>,
}

/// The counts of an import (or of its check).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Counts {
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub rejected: i64,
    pub companies_created: i64,
}

/// One import, as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Import {
    pub id: String,
    #[serde(skip)]
    pub seq: i64,
    pub record_kind: Kind,
    pub file_name: String,
    pub file_bytes: i64,
    pub header: Vec<String>,
    pub delimiter: String,
    pub plan: Plan,
    pub dry_run: bool,
    pub state: State,
    pub cancel_asked: bool,
    pub counts: Counts,
    pub progress: Progress,
    /// Why it failed.
    pub failure: Option<String>,
    /// What taking it back or reverting it found: records changed since, kept as they are.
    pub outcome: Map<String, Value>,
    pub created_at: String,
    pub created_by: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub reverted_at: Option<String>,
    pub reverted_by: Option<String>,
    /// Until when it can be reverted (imports that are done).
    pub revertible_until: Option<String>,
}

/// How far along a running import is.
#[derive(Debug, Clone, Copy, Default, Serialize, schemars::JsonSchema)]
pub struct Progress {
    pub bytes_done: i64,
    /// 0 to 100, by bytes of the file read.
    pub percent: f64,
    pub rows_per_second: f64,
    /// While running: the seconds left at the pace so far.
    pub seconds_left: Option<f64>,
}

/// A new import of a file.
#[derive(Debug)]
pub struct NewImport<'a> {
    pub id: &'a str,
    pub kind: Kind,
    pub file_name: &'a str,
    pub file_bytes: i64,
    pub header: &'a [String],
    pub delimiter: char,
    pub actor: &'a str,
}

const COLUMNS: &str = "seq, id, record_kind, file_name, file_bytes, header, delimiter, plan, \
    dry_run, state, cancel_asked, bytes_done, rows_done, created, updated, skipped, rejected, \
    companies_created, failure, outcome, created_at, created_by, started_at, finished_at, \
    reverted_at, reverted_by";

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Import> {
    let json = |i: usize| -> rusqlite::Result<Value> {
        let text: String = row.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    let time = |i: usize| -> rusqlite::Result<Option<String>> {
        Ok(row.get::<_, Option<i64>>(i)?.map(values::rfc3339))
    };
    let state = State::parse(&row.get::<_, String>(9)?);
    let file_bytes: i64 = row.get(4)?;
    let bytes_done: i64 = row.get(11)?;
    let rows: i64 = row.get(12)?;
    let started: Option<i64> = row.get(22)?;
    let finished: Option<i64> = row.get(23)?;
    let elapsed = finished.unwrap_or_else(crate::crm::now) - started.unwrap_or_default();
    #[allow(clippy::cast_precision_loss)] // Counts and sizes far below 2^52.
    let progress = {
        let fraction = if file_bytes > 0 {
            (bytes_done as f64 / file_bytes as f64).min(1.0)
        } else {
            1.0
        };
        let seconds = elapsed.max(1) as f64;
        Progress {
            bytes_done,
            percent: (fraction * 1000.0).round() / 10.0,
            rows_per_second: if started.is_some() {
                (rows as f64 / seconds).round()
            } else {
                0.0
            },
            seconds_left: (state == State::Running && fraction > 0.0)
                .then(|| (seconds * (1.0 - fraction) / fraction).round()),
        }
    };
    Ok(Import {
        seq: row.get(0)?,
        id: row.get(1)?,
        record_kind: Kind::parse(&row.get::<_, String>(2)?).unwrap_or(Kind::Contact),
        file_name: row.get(3)?,
        file_bytes,
        header: serde_json::from_value(json(5)?).unwrap_or_default(),
        delimiter: row.get(6)?,
        plan: serde_json::from_value(json(7)?).unwrap_or_default(),
        dry_run: row.get(8)?,
        state,
        cancel_asked: row.get(10)?,
        counts: Counts {
            rows,
            created: row.get(13)?,
            updated: row.get(14)?,
            skipped: row.get(15)?,
            rejected: row.get(16)?,
            companies_created: row.get(17)?,
        },
        progress,
        failure: row.get(18)?,
        outcome: serde_json::from_value(json(19)?).unwrap_or_default(),
        created_at: values::rfc3339(row.get(20)?),
        created_by: row.get(21)?,
        started_at: time(22)?,
        finished_at: time(23)?,
        reverted_at: time(24)?,
        reverted_by: row.get(25)?,
        revertible_until: match (state, finished) {
            (State::Done, Some(at)) => Some(values::rfc3339(at + REVERT_DAYS * 86_400)),
            _ => None,
        },
    })
}

/// Records a new import of a file that is here, not yet run.
pub fn create(conn: &Connection, new: &NewImport<'_>) -> Result<Import, CrmError> {
    conn.execute(
        "INSERT INTO imports (id, record_kind, file_name, file_bytes, header, delimiter, state,
                              created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'uploaded', ?7, ?8)",
        params![
            new.id,
            new.kind.as_str(),
            new.file_name,
            new.file_bytes,
            serde_json::to_string(new.header).unwrap_or_else(|_| "[]".into()),
            new.delimiter.to_string(),
            crate::crm::now(),
            new.actor,
        ],
    )?;
    get(conn, new.id)
}

/// One import by id.
pub fn get(conn: &Connection, id: &str) -> Result<Import, CrmError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM imports WHERE id = ?1"))?
        .query_row([id], read)
        .optional()?
        .ok_or(CrmError::Missing("import"))
}

/// The newest imports first, at most `limit`.
pub fn list(conn: &Connection, limit: i64) -> Result<Vec<Import>, CrmError> {
    let all = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM imports ORDER BY seq DESC LIMIT ?1"
        ))?
        .query_map([limit], read)?
        .collect::<Result<_, _>>()?;
    Ok(all)
}

/// Imports that say they are running (some may have lost their runner).
pub fn running(conn: &Connection) -> Result<Vec<Import>, CrmError> {
    let all = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM imports WHERE state = 'running' ORDER BY seq"
        ))?
        .query_map([], read)?
        .collect::<Result<_, _>>()?;
    Ok(all)
}

/// Moves an uploaded or checked import to running, with `plan`; in the caller's write
/// transaction, so two starts cannot both succeed. One import of a tenant runs at a time.
pub fn begin(conn: &Connection, id: &str, plan: &Plan, dry_run: bool) -> Result<Import, CrmError> {
    let import = get(conn, id)?;
    if !matches!(import.state, State::Uploaded | State::Checked) {
        return Err(CrmError::Conflict(format!(
            "the import is {}; only an uploaded or checked import can be started",
            import.state.as_str()
        )));
    }
    let busy: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM imports WHERE state = 'running')",
        [],
        |r| r.get(0),
    )?;
    if busy {
        return Err(CrmError::Conflict(
            "another import of this tenant is running; wait for it, or cancel it".into(),
        ));
    }
    conn.execute(
        "DELETE FROM import_rejects WHERE import_seq = ?1",
        [import.seq],
    )?;
    conn.execute(
        "UPDATE imports SET state = 'running', dry_run = ?2, plan = ?3, cancel_asked = 0,
                bytes_done = 0, rows_done = 0, created = 0, updated = 0, skipped = 0,
                rejected = 0, companies_created = 0, failure = NULL, started_at = ?4,
                finished_at = NULL
         WHERE seq = ?1",
        params![
            import.seq,
            dry_run,
            serde_json::to_string(plan).unwrap_or_else(|_| "{}".into()),
            crate::crm::now()
        ],
    )?;
    get(conn, id)
}

/// Writes how far a running import is.
pub fn progress(
    conn: &Connection,
    seq: i64,
    counts: &Counts,
    bytes_done: u64,
) -> Result<(), CrmError> {
    conn.prepare_cached(
        "UPDATE imports SET bytes_done = ?2, rows_done = ?3, created = ?4, updated = ?5,
                skipped = ?6, rejected = ?7, companies_created = ?8
         WHERE seq = ?1",
    )?
    .execute(params![
        seq,
        i64::try_from(bytes_done).unwrap_or(i64::MAX),
        counts.rows,
        counts.created,
        counts.updated,
        counts.skipped,
        counts.rejected,
        counts.companies_created
    ])?;
    Ok(())
}

/// Ends a run in `state`.
pub fn finish(
    conn: &Connection,
    seq: i64,
    state: State,
    failure: Option<&str>,
    outcome: &Map<String, Value>,
) -> Result<(), CrmError> {
    conn.execute(
        "UPDATE imports SET state = ?2, failure = ?3, outcome = ?4, finished_at = ?5
         WHERE seq = ?1",
        params![
            seq,
            state.as_str(),
            failure,
            Value::Object(outcome.clone()).to_string(),
            crate::crm::now()
        ],
    )?;
    Ok(())
}

/// Marks an import reverted by `actor`.
pub fn reverted(
    conn: &Connection,
    seq: i64,
    actor: &str,
    outcome: &Map<String, Value>,
) -> Result<(), CrmError> {
    conn.execute(
        "UPDATE imports SET state = 'reverted', reverted_at = ?2, reverted_by = ?3, outcome = ?4
         WHERE seq = ?1",
        params![
            seq,
            crate::crm::now(),
            actor,
            Value::Object(outcome.clone()).to_string()
        ],
    )?;
    Ok(())
}

/// Asks a running import to stop (at the end of the rows it is on).
pub fn ask_cancel(conn: &Connection, id: &str) -> Result<Import, CrmError> {
    let import = get(conn, id)?;
    if import.state != State::Running {
        return Err(CrmError::Conflict(format!(
            "the import is {}, not running",
            import.state.as_str()
        )));
    }
    conn.execute(
        "UPDATE imports SET cancel_asked = 1 WHERE seq = ?1",
        [import.seq],
    )?;
    get(conn, id)
}

pub fn cancel_asked(conn: &Connection, seq: i64) -> Result<bool, CrmError> {
    Ok(conn
        .prepare_cached("SELECT cancel_asked FROM imports WHERE seq = ?1")?
        .query_row([seq], |r| r.get(0))?)
}

/// A row that was not imported.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Rejected {
    pub line: i64,
    pub column: Option<String>,
    pub reason: String,
    pub fields: Vec<String>,
}

pub fn add_rejected(conn: &Connection, seq: i64, rejected: &Rejected) -> Result<(), CrmError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO import_rejects (import_seq, line, column, reason, fields)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        seq,
        rejected.line,
        rejected.column,
        rejected.reason,
        serde_json::to_string(&rejected.fields).unwrap_or_else(|_| "[]".into())
    ])?;
    Ok(())
}

/// The rejected rows, in the file's order, from line `after` on, at most `limit`.
pub fn rejected(
    conn: &Connection,
    seq: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<Rejected>, CrmError> {
    let all = conn
        .prepare_cached(
            "SELECT line, column, reason, fields FROM import_rejects
             WHERE import_seq = ?1 AND line > ?2 ORDER BY line LIMIT ?3",
        )?
        .query_map(params![seq, after, limit], |r| {
            let fields: String = r.get(3)?;
            Ok(Rejected {
                line: r.get(0)?,
                column: r.get(1)?,
                reason: r.get(2)?,
                fields: serde_json::from_str(&fields).unwrap_or_default(),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(all)
}

/// Notes the values a record had before the import first changed it, and the version the
/// import left it at.
pub fn note_change(
    conn: &Connection,
    seq: i64,
    kind: Kind,
    record_id: &str,
    version: i64,
    before: &Map<String, Value>,
) -> Result<(), CrmError> {
    conn.prepare_cached(
        "INSERT INTO import_changes (import_seq, record_kind, record_id, version, before)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (import_seq, record_kind, record_id) DO UPDATE SET version = excluded.version",
    )?
    .execute(params![
        seq,
        kind.as_str(),
        record_id,
        version,
        Value::Object(before.clone()).to_string()
    ])?;
    Ok(())
}

/// A record an import changed.
#[derive(Debug)]
pub struct Change {
    pub kind: Kind,
    pub record_id: String,
    pub version: i64,
    pub before: Map<String, Value>,
}

pub fn changes(conn: &Connection, seq: i64) -> Result<Vec<Change>, CrmError> {
    let all = conn
        .prepare_cached(
            "SELECT record_kind, record_id, version, before FROM import_changes
             WHERE import_seq = ?1",
        )?
        .query_map([seq], |r| {
            let before: String = r.get(3)?;
            Ok(Change {
                kind: Kind::parse(&r.get::<_, String>(0)?).unwrap_or(Kind::Contact),
                record_id: r.get(1)?,
                version: r.get(2)?,
                before: serde_json::from_str(&before).unwrap_or_default(),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(all)
}
