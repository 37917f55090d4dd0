//! Running an import: the file is read row by row and written in batches, each one
//! transaction that also records the import's progress, so other writers of the tenant wait
//! at most one batch. A check (dry run) is the very same run with each batch rolled back: it
//! answers what the import would do. (Companies an earlier batch of the check made are made
//! again for the rows that name them; a row matching a record an earlier batch made counts
//! as an update, since what that record held is gone.) A run that is cancelled or fails
//! takes back what its earlier batches wrote (`undo`), so an import is all or nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde_json::{Map, Value, json};

use super::ahead::Ahead;
use super::checkpoints;
use super::columns::{self, Target};
use super::convert::{self, CompanyRef, Context, Prepared};
use super::ledger::{self, Counts, Duplicates, Import, Rejected, State};
use super::matching::{self, MatchOn};
use super::source::{FileError, Source};
use super::staging;
use super::undo;
use crate::crm::custom::{self, CustomKind, NewFieldDef};
use crate::crm::fields::FieldType;
use crate::crm::records::{self, Input, Note};
use crate::crm::visibility::Visibility;
use crate::crm::{Actor, CrmError, Kind, pipelines, tags};

/// Most rows written in one transaction.
const BATCH_ROWS: usize = 50_000;
/// Longest a batch holds the tenant's write lock, about. Each batch writes the pages it
/// changed (the search index's above all) once: longer batches write less in all, shorter
/// ones keep other writers waiting less.
const BATCH_TIME: Duration = Duration::from_secs(1);
/// The import's page cache: what a batch changes stays in memory until its commit. 24 MiB
/// imported as fast as 32 did (the rows read ahead and the checkpoints took the difference
/// in memory), within an import's budget of 100 MiB.
const CACHE_KIB: i64 = 24 * 1024;
/// The page cache of its temporary tables (a batch's staged records, a check's keys).
const TEMP_CACHE_KIB: i64 = 8 * 1024;
/// The pause after each batch, for other writers of the tenant.
const YIELD: Duration = Duration::from_millis(3);
/// Most bytes of rejected rows held before they are written.
const BATCH_REJECT_BYTES: usize = 8 * 1024 * 1024;

/// The live contact with an e-mail address, the oldest first.
const CONTACT_BY_EMAIL: &str =
    "SELECT id FROM contacts WHERE email = ?1 AND deleted_at IS NULL ORDER BY seq LIMIT 1";
/// The live company with a domain, the oldest first.
const COMPANY_BY_DOMAIN: &str =
    "SELECT id FROM companies WHERE domain = ?1 AND deleted_at IS NULL ORDER BY seq LIMIT 1";
/// The live company of exactly this name, the oldest first. Names are indexed ignoring case,
/// so the lookup asks the index for the name in any case and keeps the exact one: a plain
/// `name = ?1` cannot use that index and reads every company, once per name in the file.
const COMPANY_BY_NAME: &str = "SELECT id FROM companies
     WHERE name = ?1 COLLATE NOCASE AND name = ?1 AND deleted_at IS NULL ORDER BY seq LIMIT 1";
/// Skipped rows whose reasons are kept in the outcome.
const SKIP_EXAMPLES: usize = 20;

/// Why a run stopped before the end of its file.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{0}")]
    Plan(CrmError),
    #[error("the import was cancelled")]
    Cancelled,
    #[error("the import stopped: {0}")]
    Refused(String),
    #[error("the import stopped: {0}")]
    Storage(#[from] CrmError),
}

impl From<rusqlite::Error> for RunError {
    fn from(err: rusqlite::Error) -> Self {
        RunError::Storage(err.into())
    }
}

/// Who runs the import, the tenant's users (ids and e-mail addresses) to read owners
/// against, and what says, before each batch, whether the import may still write: a
/// license can pass its grace and an admin can lose the role while a long import runs.
pub struct Runner {
    pub actor: Actor,
    pub users: Vec<(String, String)>,
    pub authority: Box<dyn Fn() -> Result<(), String> + Send>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("actor", &self.actor)
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

/// Runs the import `id` (already `running`, see [`ledger::begin`]) over the file at `path`,
/// to its end; returns the import as it ended. Blocking, and long: call it on a thread of
/// its own with a connection of its own.
pub fn run(
    conn: &mut Connection,
    id: &str,
    path: &Path,
    runner: &Runner,
) -> Result<Import, CrmError> {
    run_in_batches(conn, id, path, runner, BATCH_ROWS)
}

/// [`run`], with batches of at most `batch_rows` rows (tests make them small).
fn run_in_batches(
    conn: &mut Connection,
    id: &str,
    path: &Path,
    runner: &Runner,
    batch_rows: usize,
) -> Result<Import, CrmError> {
    let import = ledger::get(conn, id)?;
    let result = checkpoints::alongside(conn, |conn| {
        Run::new(conn, &import, path, runner, batch_rows).and_then(|mut run| {
            run.all()?;
            Ok((run.writer.counts, std::mem::take(&mut run.writer.skips)))
        })
    });
    let (state, failure, mut outcome) = match result {
        Ok((counts, skips)) => {
            let state = if import.dry_run {
                State::Checked
            } else {
                State::Done
            };
            let mut outcome = Map::new();
            outcome.insert("skipped_examples".into(), json!(skips));
            if !import.dry_run && counts.created + counts.updated >= 1_000 {
                // The planner's picture of a table that grew a lot is wrong until refreshed.
                crate::tenancy::statistics::refresh(conn)?;
            }
            (state, None, outcome)
        }
        Err(err) => {
            let state = match &err {
                RunError::Cancelled if import.dry_run => State::Uploaded,
                RunError::Cancelled => State::Cancelled,
                _ => State::Failed,
            };
            if !matches!(
                err,
                RunError::File(_) | RunError::Plan(_) | RunError::Cancelled
            ) {
                tracing::error!(import = %import.id, error = %err, "import failed");
            }
            let outcome = if import.dry_run {
                Map::new()
            } else {
                undo::take_back(conn, &import, &runner.actor)?
            };
            (state, Some(err.to_string()), outcome)
        }
    };
    if state == State::Uploaded {
        outcome.clear();
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    ledger::finish(&tx, import.seq, state, failure.as_deref(), &outcome)?;
    let ended = ledger::get(&tx, id)?;
    if !ended.dry_run {
        crate::audit::append(&tx, &audit_entry(&ended, &runner.actor))?;
    }
    tx.commit()?;
    Ok(ended)
}

/// The tenant audit log's entry for an import that ended.
fn audit_entry(import: &Import, actor: &Actor) -> crate::audit::NewEntry {
    let c = import.counts;
    crate::audit::NewEntry {
        actor: actor.name.clone(),
        action: "import".into(),
        target: format!(
            "import {} of {}s from \"{}\": {} rows, {} created, {} updated, {} skipped, {} rejected, {} companies created",
            import.id,
            import.record_kind,
            import.file_name,
            c.rows,
            c.created,
            c.updated,
            c.skipped,
            c.rejected,
            c.companies_created
        ),
        address: None,
        outcome: if import.state == State::Done {
            crate::audit::Outcome::Success
        } else {
            crate::audit::Outcome::Failed
        },
    }
}

/// A run under way: the connection, the file, and what writes the rows.
struct Run<'a> {
    conn: &'a mut Connection,
    rows: Ahead,
    writer: Writer,
    authority: &'a (dyn Fn() -> Result<(), String> + Send),
    batch_rows: usize,
}

/// What one row needs to be written, and what the run has done so far.
struct Writer {
    cx: Arc<Context>,
    actor: Actor,
    match_on: MatchOn,
    duplicates: Duplicates,
    seq: i64,
    dry_run: bool,
    ids: IdMaker,
    now: i64,
    /// The timeline entry's detail of every record the import creates or changes.
    detail: Map<String, Value>,
    detail_text: String,
    counts: Counts,
    skips: Vec<String>,
    /// The keys of the records made in this batch (kept after it where later batches need
    /// them: see `forget_written`).
    made: HashMap<String, String>,
    /// Within a batch: tag ids and company ids by name, read once.
    tag_ids: HashMap<String, String>,
    company_ids: HashMap<String, String>,
    /// Whether the run's table of keys holds any (most imports keep none there, and need
    /// not ask it for each row).
    keys_kept: bool,
    staging: staging::Staging,
}

/// A row not imported: the column at fault (if one is) and why.
type Refused = convert::Reject;

fn refused(err: CrmError) -> Result<Refused, CrmError> {
    match err {
        CrmError::Storage(_) => Err(err),
        other => Ok(Refused {
            column: None,
            reason: other.to_string(),
        }),
    }
}

impl<'a> Run<'a> {
    fn new(
        conn: &'a mut Connection,
        import: &Import,
        path: &Path,
        runner: &'a Runner,
        batch_rows: usize,
    ) -> Result<Self, RunError> {
        let source = Source::open(path)?;
        let kind = import.record_kind;
        let mut defs = custom::live(conn, kind)?;
        let targets = columns::targets(kind, source.header(), &defs, &import.plan.mapping)
            .map_err(RunError::Plan)?;
        new_custom_fields(
            conn,
            kind,
            source.header(),
            &targets,
            &mut defs,
            import.dry_run,
        )?;
        let match_on = matching::match_on(kind, import.plan.match_on.as_deref(), &defs)
            .map_err(RunError::Plan)?;
        let cx = Context {
            kind,
            defs,
            users_by_email: runner
                .users
                .iter()
                .map(|(id, email)| (email.clone(), id.clone()))
                .collect(),
            user_ids: runner.users.iter().map(|(id, _)| id.clone()).collect(),
            pipelines: pipelines::list(conn)?,
            default_currency: pipelines::default_currency(conn)?,
            match_on: match_on.clone(),
        };
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{CACHE_KIB}; PRAGMA temp.cache_size = -{TEMP_CACHE_KIB}"
        ))?;
        let staging = staging::open(conn)?;
        conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS import_keys (key TEXT PRIMARY KEY, id TEXT NOT NULL);
             DELETE FROM temp.import_keys;",
        )?;
        let mut keys_kept = false;
        if let MatchOn::Custom(key) = &match_on {
            keys_kept = true;
            conn.execute(
                &format!(
                    "INSERT OR IGNORE INTO temp.import_keys (key, id)
                     SELECT 'k' || CAST(custom ->> ?1 AS TEXT), id FROM {}
                     WHERE deleted_at IS NULL AND custom ->> ?1 IS NOT NULL ORDER BY seq",
                    kind.table()
                ),
                [format!("$.\"{key}\"")],
            )?;
        }
        let detail = json!({ "import_id": import.id, "file": import.file_name });
        let cx = Arc::new(cx);
        Ok(Self {
            conn,
            rows: Ahead::start(source, Arc::clone(&cx), Arc::new(targets)),
            authority: &*runner.authority,
            batch_rows,
            writer: Writer {
                cx,
                actor: runner.actor.clone(),
                match_on,
                duplicates: import.plan.duplicates,
                seq: import.seq,
                dry_run: import.dry_run,
                ids: IdMaker::new(),
                now: crate::crm::now(),
                detail_text: detail.to_string(),
                detail: detail.as_object().cloned().unwrap_or_default(),
                counts: Counts::default(),
                skips: Vec::new(),
                made: HashMap::new(),
                tag_ids: HashMap::new(),
                company_ids: HashMap::new(),
                keys_kept,
                staging,
            },
        })
    }

    /// Every batch to the end of the file.
    fn all(&mut self) -> Result<(), RunError> {
        while self.batch()? {}
        if self.writer.counts.rows == 0 {
            return Err(FileError::HeaderOnly.into());
        }
        Ok(())
    }

    /// One batch: rows up to the batch's limits in one transaction, then its progress.
    /// Answers whether rows remain.
    fn batch(&mut self) -> Result<bool, RunError> {
        (self.authority)().map_err(RunError::Refused)?;
        let w = &mut self.writer;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if ledger::cancel_asked(&tx, w.seq)? {
            return Err(RunError::Cancelled);
        }
        if w.dry_run {
            tx.execute_batch("SAVEPOINT check_only")?;
        }
        // Read again each batch: another writer may have changed them in between.
        w.tag_ids.clear();
        w.company_ids.clear();
        let started = Instant::now();
        let mut rejects: Vec<Rejected> = Vec::new();
        let mut reject_bytes = 0;
        let mut more = true;
        for n in 0.. {
            if n == self.batch_rows
                || reject_bytes > BATCH_REJECT_BYTES
                || (n % 256 == 255 && started.elapsed() > BATCH_TIME)
            {
                break;
            }
            let Some(row) = self.rows.next_row()? else {
                more = false;
                break;
            };
            w.counts.rows += 1;
            let line = i64::try_from(row.line).unwrap_or(i64::MAX);
            let outcome = match row.outcome {
                Ok(prepared) => w.row(&tx, prepared, line)?,
                Err(reject) => Some(reject),
            };
            if let Some(reject) = outcome {
                w.counts.rejected += 1;
                let fields = row.fields;
                reject_bytes += fields.iter().map(String::len).sum::<usize>() + reject.reason.len();
                rejects.push(Rejected {
                    line,
                    column: reject.column,
                    reason: reject.reason,
                    fields,
                });
            }
        }
        w.flush(&tx)?;
        if w.dry_run {
            tx.execute_batch("ROLLBACK TO check_only; RELEASE check_only")?;
        }
        w.forget_written(&tx)?;
        for rejected in &rejects {
            ledger::add_rejected(&tx, w.seq, rejected)?;
        }
        ledger::progress(&tx, w.seq, &w.counts, self.rows.bytes_done())?;
        tx.commit()?;
        // Let writers that waited for this batch in before the next one (they look every
        // millisecond: see `storage::configure_connection`).
        std::thread::sleep(YIELD);
        Ok(more)
    }
}

impl Writer {
    /// Writes one row: creates, updates or skips its record. Answers the row's refusal, if
    /// it is refused; an `Err` stops the run.
    fn row(
        &mut self,
        conn: &Connection,
        mut prepared: Prepared,
        line: i64,
    ) -> Result<Option<Refused>, CrmError> {
        let kind = self.cx.kind;
        let key = prepared.key.take();
        let existing = match (&key, self.duplicates) {
            (Some(key), Duplicates::Skip | Duplicates::Update) => self.find(conn, key)?,
            _ => None,
        };
        if existing.is_some() && self.duplicates == Duplicates::Skip {
            self.counts.skipped += 1;
            self.skipped(format!(
                "line {line}: matches {kind} {}",
                existing.unwrap_or_default()
            ));
            return Ok(None);
        }
        match prepared.company.take() {
            Some(CompanyRef::Id(id)) => {
                if !records::is_visible(conn, Kind::Company, &id, &Visibility::all())? {
                    return Ok(Some(Refused {
                        column: None,
                        reason: format!("company_id: there is no company {id}"),
                    }));
                }
                self.set(&mut prepared, "company_id", Sql::Text(id))?;
            }
            Some(CompanyRef::Name(name)) => {
                let id = self.company_named(conn, &name)?;
                self.set(&mut prepared, "company_id", Sql::Text(id))?;
            }
            None => {}
        }
        if let Some(found) = existing {
            if self.dry_run && self.ids.taken_back(&found) {
                // Made by an earlier batch of this check, which took it back. The import
                // will fill it from this row; whether the row holds anything new can no
                // longer be told, so the check counts an update.
                self.counts.updated += 1;
                return Ok(None);
            }
            let names_unwritten = matches!(
                prepared.value("company_id"),
                Some(Sql::Text(company)) if self.ids.unwritten(company)
            );
            if self.ids.unwritten(&found) || names_unwritten {
                // Made by an earlier row of this batch (the record, or the company the row
                // names): written before the record is changed.
                self.flush(conn)?;
            }
            return match self.update(conn, &found, prepared) {
                Ok(true) => {
                    self.counts.updated += 1;
                    Ok(None)
                }
                Ok(false) => {
                    self.counts.skipped += 1;
                    self.skipped(format!("line {line}: {kind} {found} holds it already"));
                    Ok(None)
                }
                Err(err) => refused(err).map(Some),
            };
        }
        if let Err(err) = records::check_whole(kind, &|name| prepared.value(name).cloned()) {
            return refused(err).map(Some);
        }
        let id = match self.insert(conn, kind, prepared) {
            Ok(id) => id,
            Err(err) => return refused(err).map(Some),
        };
        if let Some(key) = key {
            self.remember(key, id);
        }
        self.counts.created += 1;
        Ok(None)
    }

    /// Keeps a new record's key where later rows of the run look for it (records staged are
    /// not in the tenant's indexes yet; a check's are rolled back with each batch).
    fn remember(&mut self, key: String, id: String) {
        self.made.entry(key).or_insert(id);
    }

    /// The record a key names among those this run made: in this batch, or (kept in the
    /// run's table) before.
    fn known(&self, conn: &Connection, key: &str) -> Result<Option<String>, CrmError> {
        if let Some(id) = self.made.get(key) {
            return Ok(Some(id.clone()));
        }
        if !self.keys_kept {
            return Ok(None);
        }
        Ok(conn
            .prepare_cached("SELECT id FROM temp.import_keys WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// The live record a key matches: by the tenant's index, or among the records this run
    /// made (staged in this batch, or a check's), or by a custom field's value.
    fn find(&self, conn: &Connection, key: &str) -> Result<Option<String>, CrmError> {
        let value = &key[1..];
        let sql = match &self.match_on {
            MatchOn::Email => Some(CONTACT_BY_EMAIL.to_owned()),
            MatchOn::Domain => Some(COMPANY_BY_DOMAIN.to_owned()),
            MatchOn::Id => Some(format!(
                "SELECT id FROM {} WHERE id = ?1 AND deleted_at IS NULL",
                self.cx.kind.table()
            )),
            MatchOn::Custom(_) => None,
        };
        if let Some(sql) = sql {
            let found: Option<String> = conn
                .prepare_cached(&sql)?
                .query_row([value], |r| r.get(0))
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        self.known(conn, key)
    }

    /// What the run's keys hold after a batch: a check keeps them all (its records are
    /// gone); an import only the custom field's (the tenant has no index on it), never the
    /// companies' (another writer may remove one between batches).
    fn forget_written(&mut self, conn: &Connection) -> Result<(), CrmError> {
        let custom = matches!(self.match_on, MatchOn::Custom(_));
        let mut keep = conn
            .prepare_cached("INSERT OR IGNORE INTO temp.import_keys (key, id) VALUES (?1, ?2)")?;
        for (key, id) in self.made.drain() {
            if self.dry_run || (custom && key.starts_with('k')) {
                keep.execute([key, id])?;
                self.keys_kept = true;
            }
        }
        Ok(())
    }

    fn skipped(&mut self, why: String) {
        if self.skips.len() < SKIP_EXAMPLES {
            self.skips.push(why);
        }
    }

    fn set(&self, prepared: &mut Prepared, name: &str, value: Sql) -> Result<(), CrmError> {
        let field = self.cx.kind.field(name).ok_or(CrmError::Missing("field"))?;
        prepared.values.retain(|(f, _)| f.name != name);
        prepared.values.push((field, value));
        Ok(())
    }

    /// The live company called `name`, made if there is none (and counted).
    fn company_named(&mut self, conn: &Connection, name: &str) -> Result<String, CrmError> {
        if let Some(id) = self.company_ids.get(name) {
            return Ok(id.clone());
        }
        let id = self.find_or_make_company(conn, name)?;
        if self.company_ids.len() < 100_000 {
            self.company_ids.insert(name.to_owned(), id.clone());
        }
        Ok(id)
    }

    fn find_or_make_company(&mut self, conn: &Connection, name: &str) -> Result<String, CrmError> {
        let found: Option<String> = conn
            .prepare_cached(COMPANY_BY_NAME)?
            .query_row([name], |r| r.get(0))
            .optional()?;
        if let Some(id) = found {
            return Ok(id);
        }
        let key = format!("c{name}");
        let mut prepared = Prepared::default();
        let field = Kind::Company
            .field("name")
            .ok_or(CrmError::Missing("field"))?;
        prepared.values.push((field, Sql::Text(name.to_owned())));
        if let Some(id) = self.known(conn, &key)? {
            if self.dry_run && self.ids.taken_back(&id) {
                // Made by an earlier batch of this check, which took it back: made again
                // (and not counted again) for the rows of this batch that name it.
                self.stage(conn, Kind::Company, &id, prepared)?;
                self.ids.staged_again(&id);
                self.remember(key, id.clone());
            }
            return Ok(id);
        }
        let id = self.insert(conn, Kind::Company, prepared)?;
        self.remember(key, id.clone());
        self.counts.companies_created += 1;
        Ok(id)
    }

    /// Fills record `id` with a row's values; notes what it held before. Answers whether
    /// anything changed.
    fn update(&self, conn: &Connection, id: &str, prepared: Prepared) -> Result<bool, CrmError> {
        let kind = self.cx.kind;
        let all = Visibility::all();
        let current = records::get(conn, kind, id, &all)?;
        let mut before = Map::new();
        let mut input = Input::default();
        for (field, value) in prepared.values {
            // A deal changes stage by a move (on the board, or a bulk change), which its
            // timeline records as one: a row that would move it is refused, not dropped.
            if matches!(field.ty, FieldType::Pipeline | FieldType::Stage) {
                let now = current.body.get(field.name).and_then(Value::as_str);
                match (&value, now) {
                    (Sql::Text(given), Some(now)) if given == now => continue,
                    _ => {
                        return Err(CrmError::invalid(
                            field.name,
                            "an import does not move deals; move them on the board or with a bulk change",
                        ));
                    }
                }
            }
            before.insert(
                field.name.into(),
                current.body.get(field.name).cloned().unwrap_or(Value::Null),
            );
            input.values.push((field, value));
        }
        if !prepared.custom.is_empty() {
            let old = current.body.get("custom").cloned().unwrap_or_default();
            for key in prepared.custom.keys() {
                before.insert(
                    format!("custom.{key}"),
                    old.get(key).cloned().unwrap_or(Value::Null),
                );
            }
            input.custom = Some(prepared.custom);
        }
        if let Some(mut names) = prepared.tags {
            // An import adds tags; it takes none away.
            let old: Vec<String> = current
                .body
                .get("tags")
                .and_then(|t| serde_json::from_value(t.clone()).ok())
                .unwrap_or_default();
            before.insert("tags".into(), json!(old));
            names.extend(old);
            names.sort_by_key(|n| n.to_lowercase());
            names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
            input.tags = Some(names);
        }
        let env = records::Env {
            actor: &self.actor,
            visibility: &all,
            users: &self.cx.user_ids,
        };
        let note = Note {
            event: Some("import_updated"),
            extra: self.detail.clone(),
        };
        if !records::change_noting(conn, kind, id, None, input, env, &note)? {
            return Ok(false);
        }
        let version = records::version(conn, kind, id)?;
        ledger::note_change(conn, self.seq, kind, id, version, &before)?;
        Ok(true)
    }

    /// Writes a new record of `kind` with its timeline entry; answers its id.
    fn insert(
        &mut self,
        conn: &Connection,
        kind: Kind,
        prepared: Prepared,
    ) -> Result<String, CrmError> {
        let id = self.ids.next();
        self.stage(conn, kind, &id, prepared)?;
        Ok(id)
    }

    /// Holds a record of `kind` with id `id` until the batch's records are written.
    fn stage(
        &mut self,
        conn: &Connection,
        kind: Kind,
        id: &str,
        mut prepared: Prepared,
    ) -> Result<(), CrmError> {
        if kind == Kind::Deal {
            self.deal_defaults(conn, &mut prepared)?;
        }
        let owner = kind.owner_column();
        if prepared.value(owner).is_none()
            && let (Some(user), Some(field)) = (&self.actor.user_id, kind.field(owner))
        {
            prepared.values.push((field, Sql::Text(user.clone())));
        }
        if let Some(names) = &prepared.tags {
            tags::ensure(conn, names, &mut self.tag_ids)?;
        }
        self.staging.stage(
            conn,
            kind,
            id,
            &prepared.values,
            &prepared.custom,
            prepared.tags.as_deref(),
        )
    }

    /// Writes the records the batch made so far (see `staging`).
    fn flush(&mut self, conn: &Connection) -> Result<(), CrmError> {
        if !self.ids.any_unwritten() {
            return Ok(());
        }
        staging::flush(
            conn,
            &staging::Maker {
                import_seq: self.seq,
                now: self.now,
                actor: &self.actor.name,
                detail: &self.detail_text,
            },
        )?;
        self.ids.all_written();
        Ok(())
    }

    /// A new deal's currency (the tenant's), pipeline and stage (the first pipeline's first
    /// stage) when the row leaves them out; its status from its stage.
    fn deal_defaults(&self, conn: &Connection, prepared: &mut Prepared) -> Result<(), CrmError> {
        if prepared.value("currency").is_none() {
            self.set(
                prepared,
                "currency",
                Sql::Text(self.cx.default_currency.clone()),
            )?;
        }
        let text = |v: Option<&Sql>| match v {
            Some(Sql::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let stage = pipelines::stage_for(
            conn,
            text(prepared.value("pipeline_id")).as_deref(),
            text(prepared.value("stage_id")).as_deref(),
        )?;
        self.set(
            prepared,
            "pipeline_id",
            Sql::Text(stage.pipeline_id.clone()),
        )?;
        self.set(prepared, "stage_id", Sql::Text(stage.id.clone()))?;
        self.set(prepared, "status", Sql::Text(stage.kind.clone()))?;
        self.set(prepared, "stage_entered_at", Sql::Integer(self.now))?;
        if stage.kind != "open" {
            self.set(prepared, "closed_at", Sql::Integer(self.now))?;
        }
        Ok(())
    }
}

/// Makes the text custom fields that columns were mapped to but do not exist yet. A check
/// makes nothing: it reads those columns as text, as the import would.
fn new_custom_fields(
    conn: &Connection,
    kind: Kind,
    header: &[String],
    targets: &[Target],
    defs: &mut Vec<custom::FieldDef>,
    dry_run: bool,
) -> Result<(), RunError> {
    for (column, target) in header.iter().zip(targets) {
        let Target::Custom(key) = target else {
            continue;
        };
        if defs.iter().any(|d| &d.key == key) {
            continue;
        }
        let new = NewFieldDef {
            record_kind: kind,
            key: key.clone(),
            label: column.clone(),
            kind: CustomKind::Text,
            choices: Vec::new(),
            currency: None,
        };
        let made = if dry_run {
            let tx = conn.unchecked_transaction()?;
            let made = custom::create(&tx, &new);
            drop(tx); // rolled back
            made
        } else {
            custom::create(conn, &new)
        };
        defs.push(made.map_err(|e| {
            RunError::Plan(CrmError::invalid(
                "mapping",
                format!("column \"{column}\" cannot become custom field {key}: {e}"),
            ))
        })?);
    }
    Ok(())
}

/// Ids for one import's records: a random prefix of the import, then a count. They are as
/// unique as any record id, and, being in order, go to the end of every index on them
/// instead of to a random page of it. The count also tells which records are staged and
/// not yet written: those made since the last flush.
#[derive(Debug)]
struct IdMaker {
    prefix: String,
    next: u64,
    written: u64,
    /// Records of earlier batches of a check staged again in this one (see
    /// `find_or_make_company`).
    again: HashSet<String>,
}

impl IdMaker {
    fn new() -> Self {
        let random = crate::crm::new_id();
        Self {
            prefix: random[..20].to_owned(),
            next: 0,
            written: 0,
            again: HashSet::new(),
        }
    }

    fn next(&mut self) -> String {
        self.next += 1;
        format!("{}{:012x}", self.prefix, self.next)
    }

    /// The count of `id`, if it is one of this import's records.
    fn count(&self, id: &str) -> Option<u64> {
        id.strip_prefix(self.prefix.as_str())
            .and_then(|count| u64::from_str_radix(count, 16).ok())
    }

    /// Whether `id` is one of this import's records that is staged and not yet written.
    fn unwritten(&self, id: &str) -> bool {
        self.count(id).is_some_and(|count| count > self.written) || self.again.contains(id)
    }

    /// Whether `id` is one of this import's records written by an earlier batch (which a
    /// check took back) and not staged again.
    fn taken_back(&self, id: &str) -> bool {
        self.count(id).is_some_and(|count| count <= self.written) && !self.again.contains(id)
    }

    fn staged_again(&mut self, id: &str) {
        self.again.insert(id.to_owned());
    }

    fn any_unwritten(&self) -> bool {
        self.next > self.written || !self.again.is_empty()
    }

    fn all_written(&mut self) {
        self.written = self.next;
        self.again.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{query_plan, scratch_tenant_db};

    /// Each lookup a row makes goes straight to its record through an index: a lookup that
    /// scans is paid once per row, and a million-row import slows by orders of magnitude.
    #[test]
    fn the_lookups_of_each_row_search_an_index_rather_than_scan() {
        let (_dir, db) = scratch_tenant_db(1);
        let conn = db.conn().unwrap();
        for (sql, index) in [
            (CONTACT_BY_EMAIL, "contacts_by_email"),
            (COMPANY_BY_DOMAIN, "companies_by_domain"),
            (COMPANY_BY_NAME, "companies_by_name"),
        ] {
            let plan = query_plan(&conn, sql);
            assert!(
                plan.starts_with("SEARCH") && plan.contains(index) && !plan.contains("TEMP B-TREE"),
                "{sql}: {plan}"
            );
        }
    }

    /// A tenant database and a CSV file of `text`.
    fn tenant_and_file(text: &str) -> (tempfile::TempDir, Connection, std::path::PathBuf) {
        let (dir, db) = scratch_tenant_db(1);
        let conn = crate::storage::open_connection(db.path()).unwrap();
        let path = dir.path().join("contacts.csv");
        std::fs::write(&path, text).unwrap();
        (dir, conn, path)
    }

    /// Runs the file as a check or an import, `duplicates` as the plan says, in batches of
    /// `batch_rows`.
    fn import(
        conn: &mut Connection,
        path: &Path,
        duplicates: Duplicates,
        dry_run: bool,
        batch_rows: usize,
    ) -> Import {
        let id = crate::crm::new_id();
        let header = vec!["email".to_owned()];
        let tx = conn.transaction().unwrap();
        ledger::create(
            &tx,
            &ledger::NewImport {
                id: &id,
                kind: Kind::Contact,
                file_name: "contacts.csv",
                file_bytes: 1,
                header: &header,
                delimiter: ',',
                actor: "test",
            },
        )
        .unwrap();
        let plan = ledger::Plan {
            duplicates,
            ..ledger::Plan::default()
        };
        ledger::begin(&tx, &id, &plan, dry_run).unwrap();
        tx.commit().unwrap();
        let runner = Runner {
            actor: super::super::system_actor(),
            users: Vec::new(),
            authority: Box::new(|| Ok(())),
        };
        run_in_batches(conn, &id, path, &runner, batch_rows).unwrap()
    }

    /// The state and created, updated, skipped, rejected, companies created.
    fn counts(import: &Import) -> (State, [i64; 5]) {
        let c = import.counts;
        (
            import.state,
            [
                c.created,
                c.updated,
                c.skipped,
                c.rejected,
                c.companies_created,
            ],
        )
    }

    /// A check takes back each batch. Rows of a later batch that name a company an earlier
    /// batch made, or match a record it made, must still be answered as the import will
    /// do them (they once failed the whole check on the company's foreign key).
    #[test]
    fn a_check_answers_rows_that_need_what_its_earlier_batches_made() {
        let text = "email,first name,title,company\n\
                    ada@example.org,Ada,,NewCo\n\
                    bob@example.org,Bob,,NewCo\n\
                    ada@example.org,,CEO,NewCo\n";
        for duplicates in [Duplicates::Update, Duplicates::Skip] {
            let (_dir, mut conn, path) = tenant_and_file(text);
            let checked = import(&mut conn, &path, duplicates, true, 1);
            let done = import(&mut conn, &path, duplicates, false, 1);
            assert_eq!(checked.state, State::Checked, "{duplicates:?}: {checked:?}");
            assert_eq!(counts(&checked).1, counts(&done).1, "{duplicates:?}");
            let updated = i64::from(duplicates == Duplicates::Update);
            assert_eq!(
                counts(&done),
                (State::Done, [2, updated, 1 - updated, 0, 1]),
                "{duplicates:?}"
            );
        }
    }

    /// A row that updates a record and names a company an earlier row of the same batch
    /// made: the company is written before the record is changed to name it.
    #[test]
    fn an_update_can_name_a_company_made_earlier_in_its_batch() {
        let (_dir, mut conn, path) = tenant_and_file("email,first name\nnia@example.org,Nia\n");
        import(&mut conn, &path, Duplicates::Update, false, BATCH_ROWS);
        std::fs::write(
            &path,
            "email,first name,company\nzed@example.org,Zed,NewCo\nnia@example.org,,NewCo\n",
        )
        .unwrap();
        let done = import(&mut conn, &path, Duplicates::Update, false, BATCH_ROWS);
        assert_eq!(counts(&done), (State::Done, [1, 1, 0, 0, 1]), "{done:?}");
        let (nia, zed): (String, String) = conn
            .query_row(
                "SELECT (SELECT company_id FROM contacts WHERE email = 'nia@example.org'),
                        (SELECT company_id FROM contacts WHERE email = 'zed@example.org')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(nia, zed);
    }
}
