//! A tenant's whole data as one archive, readable without Holdfast: a tar file of JSON and
//! CSV files — every record of every kind (those in the trash too), the timeline,
//! pipelines, custom field definitions, tags, teams, saved views, settings, exchange rates,
//! imports, the tenant's users (no secrets) and its audit log — every attached file as it was
//! uploaded, and a manifest first with the schema version, each file's size, record count
//! and SHA-256. This is the answer to a data-protection request for a whole tenant.
//!
//! Each list is written to an unnamed temporary file beside the data (never held in
//! memory), hashed as it is written, then copied into the archive. Attached files stream
//! straight from the database into the archive; their manifest entries are the size and
//! SHA-256 taken when they were uploaded, so a file damaged since shows as a mismatch.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::crm::export::{self, Names};
use crate::crm::records::{self, Record};
use crate::crm::{CrmError, Kind, custom, pipelines, tags, teams, values};
use crate::identity::users::User;
use crate::tenancy::Tenant;

/// What the archive holds, as its `manifest.json` says.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub format_version: u32,
    pub holdfast_version: &'static str,
    /// The tenant database's schema version (SQLite `user_version`).
    pub schema_version: u32,
    pub created_at: String,
    pub tenant: TenantInfo,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Serialize)]
pub struct TenantInfo {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// One file of the archive.
#[derive(Debug, Serialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
    /// How many entries its list holds (records, users, entries…).
    pub records: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Crm(#[from] CrmError),
    #[error("cannot write the archive: {0}")]
    Io(#[from] io::Error),
    #[error("cannot write a CSV file: {0}")]
    Csv(#[from] csv::Error),
}

impl From<rusqlite::Error> for ArchiveError {
    fn from(err: rusqlite::Error) -> Self {
        ArchiveError::Crm(err.into())
    }
}

/// A file being written: to a temporary file, hashed and counted as it goes.
struct Member {
    name: String,
    file: File,
    hasher: Sha256,
    bytes: u64,
    records: u64,
}

impl Member {
    fn new(scratch: &Path, name: &str) -> io::Result<Self> {
        Ok(Self {
            name: name.to_owned(),
            file: tempfile::tempfile_in(scratch)?,
            hasher: Sha256::new(),
            bytes: 0,
            records: 0,
        })
    }
}

impl Write for Member {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A JSON array written one item at a time.
fn json_list<T: Serialize>(
    scratch: &Path,
    name: &str,
    items: impl IntoIterator<Item = T>,
) -> Result<Member, ArchiveError> {
    let mut member = Member::new(scratch, name)?;
    member.write_all(b"[")?;
    for item in items {
        if member.records > 0 {
            member.write_all(b",")?;
        }
        member.write_all(b"\n")?;
        serde_json::to_writer(&mut member, &item).map_err(io::Error::other)?;
        member.records += 1;
    }
    member.write_all(b"\n]\n")?;
    Ok(member)
}

/// Every record of `kind`, the trashed ones too, oldest first, in decorated chunks.
fn each_record(
    conn: &Connection,
    kind: Kind,
    mut each: impl FnMut(&mut [Record]) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    let defs = custom::live(conn, kind)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM {} ORDER BY seq",
        records::columns(kind),
        kind.table()
    ))?;
    let mut rows = stmt.query([])?;
    let mut chunk: Vec<Record> = Vec::with_capacity(export::CHUNK);
    loop {
        let done = match rows.next()? {
            Some(row) => {
                chunk.push(records::read(kind, &defs, row)?);
                false
            }
            None => true,
        };
        if (done || chunk.len() >= export::CHUNK) && !chunk.is_empty() {
            records::decorate(conn, &mut chunk)?;
            each(&mut chunk)?;
            chunk.clear();
        }
        if done {
            return Ok(());
        }
    }
}

/// The records of `kind` as JSON (as the API shows them) and as CSV (as an export writes
/// them, with `deleted_at`).
fn records_of(
    conn: &Connection,
    scratch: &Path,
    kind: Kind,
    names: &mut Names,
) -> Result<[Member; 2], ArchiveError> {
    let mut json_file = Member::new(scratch, &format!("{}.json", kind.table()))?;
    let mut csv_file = Member::new(scratch, &format!("{}.csv", kind.table()))?;
    let defs = custom::live(conn, kind)?;
    let mut columns = export::columns(kind, &defs, None)?;
    columns.push(export::Column::System("deleted_at"));
    let mut csv = csv::WriterBuilder::new().from_writer(&mut csv_file);
    csv.write_record(columns.iter().map(export::Column::header))?;
    json_file.write_all(b"[")?;
    let mut count = 0_u64;
    each_record(conn, kind, |records| {
        names.companies_of(conn, records)?;
        for record in records.iter() {
            csv.write_record(export::row(record, &columns, names))?;
            if count > 0 {
                json_file.write_all(b",")?;
            }
            json_file.write_all(b"\n")?;
            serde_json::to_writer(&mut json_file, &record.body).map_err(io::Error::other)?;
            count += 1;
        }
        Ok(())
    })?;
    csv.flush()?;
    drop(csv);
    json_file.write_all(b"\n]\n")?;
    json_file.records = count;
    csv_file.records = count;
    Ok([json_file, csv_file])
}

/// Every row of `sql` as a JSON object by column name; the columns named in `json` hold JSON
/// as text, which stays JSON.
fn rows_as_json(conn: &Connection, sql: &str, json: &[&str]) -> Result<Vec<Value>, ArchiveError> {
    let mut stmt = conn.prepare(sql)?;
    let names: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    let rows = stmt.query_map([], |row| {
        let mut object = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get::<_, rusqlite::types::Value>(i)? {
                rusqlite::types::Value::Null | rusqlite::types::Value::Blob(_) => Value::Null,
                rusqlite::types::Value::Integer(n) => json!(n),
                rusqlite::types::Value::Real(x) => json!(x),
                rusqlite::types::Value::Text(t) => {
                    if json.contains(&name.as_str()) {
                        serde_json::from_str(&t).unwrap_or(Value::String(t))
                    } else {
                        Value::String(t)
                    }
                }
            };
            object.insert(name.clone(), value);
        }
        Ok(Value::Object(object))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every list of the archive but the attachments', each in its temporary file.
fn lists(conn: &Connection, users: &[User], scratch: &Path) -> Result<Vec<Member>, ArchiveError> {
    let user_emails = users
        .iter()
        .map(|u| (u.id.clone(), u.email.clone()))
        .collect();
    let mut names = Names::new(user_emails, pipelines::list(conn)?);
    let mut members: Vec<Member> = Vec::new();
    for kind in Kind::ALL {
        members.extend(records_of(conn, scratch, kind, &mut names)?);
    }
    members.push(json_list(
        scratch,
        "timeline.json",
        rows_as_json(
            conn,
            "SELECT seq, record_kind, record_id, at, actor, event, detail FROM timeline ORDER BY seq",
            &["detail"],
        )?,
    )?);
    members.push(json_list(
        scratch,
        "pipelines.json",
        pipelines::list(conn)?,
    )?);
    let mut defs = Vec::new();
    for kind in Kind::ALL {
        defs.extend(custom::live(conn, kind)?);
    }
    members.push(json_list(scratch, "custom_fields.json", defs)?);
    members.push(json_list(scratch, "tags.json", tags::list(conn)?)?);
    members.push(json_list(scratch, "teams.json", teams::list(conn)?)?);
    members.push(json_list(
        scratch,
        "users.json",
        users.iter().map(|u| {
            json!({
                "id": u.id, "email": u.email, "role": u.role, "status": u.status.as_str(),
                "created_at": values::rfc3339(u.created_at),
            })
        }),
    )?);
    members.push(json_list(
        scratch,
        "audit_log.json",
        rows_as_json(
            conn,
            "SELECT seq, at, actor, action, target, address, outcome, prev_hash, hash
             FROM audit_log ORDER BY seq",
            &[],
        )?,
    )?);
    for (name, sql, json) in SETTINGS_AND_HISTORY {
        members.push(json_list(scratch, name, rows_as_json(conn, sql, json)?)?);
    }
    Ok(members)
}

/// Writes the archive of `tenant` to `out`: `conn` is the tenant's database (read in one
/// transaction by the caller), `users` the tenant's users; temporary files go to `scratch`.
pub fn write(
    conn: &Connection,
    tenant: &Tenant,
    users: &[User],
    scratch: &Path,
    out: impl Write,
) -> Result<Manifest, ArchiveError> {
    let mut members = lists(conn, users, scratch)?;
    let files = attached_files(conn)?;
    let mut listed = rows_as_json(conn, ATTACHMENTS, &[])?;
    for (row, file) in listed.iter_mut().zip(&files) {
        row["path"] = json!(file.path);
    }
    members.push(json_list(scratch, "attachments.json", listed)?);
    let schema_version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let created = crate::crm::now();
    let manifest = Manifest {
        format: "holdfast-tenant-archive",
        format_version: 1,
        holdfast_version: crate::build_info::VERSION,
        schema_version,
        created_at: values::rfc3339(created),
        tenant: TenantInfo {
            id: tenant.id.clone(),
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
        },
        files: members
            .iter_mut()
            .map(|m| FileEntry {
                name: m.name.clone(),
                bytes: m.bytes,
                sha256: crate::license::hex(&std::mem::take(&mut m.hasher).finalize()),
                records: m.records,
            })
            .chain(files.iter().map(|f| FileEntry {
                name: f.path.clone(),
                bytes: f.bytes,
                sha256: f.sha256.clone(),
                records: 0,
            }))
            .collect(),
    };
    let folder = format!("holdfast-{}-{}", tenant.slug, &manifest.created_at[..10]);
    let mut tar = tar::Builder::new(out);
    let mtime = u64::try_from(created).unwrap_or(0);
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    append(
        &mut tar,
        &format!("{folder}/manifest.json"),
        manifest_bytes.len() as u64,
        mtime,
        &manifest_bytes[..],
    )?;
    for member in &mut members {
        member.file.seek(SeekFrom::Start(0))?;
        let name = format!("{folder}/{}", member.name);
        append(&mut tar, &name, member.bytes, mtime, &mut member.file)?;
    }
    for file in &files {
        let blob = conn.blob_open(
            rusqlite::MAIN_DB,
            "attachment_data",
            "data",
            file.rowid,
            true,
        )?;
        let size = blob.len() as u64;
        append(
            &mut tar,
            &format!("{folder}/{}", file.path),
            size,
            mtime,
            blob,
        )?;
    }
    tar.into_inner()?.flush()?;
    Ok(manifest)
}

/// Lists kept as they are stored: `(file, query, columns holding JSON)`.
const SETTINGS_AND_HISTORY: &[(&str, &str, &[&str])] = &[
    (
        "settings.json",
        "SELECT key, value FROM crm_settings ORDER BY key",
        &["value"],
    ),
    (
        "saved_views.json",
        "SELECT id, record_kind, name, owner_id, shared, filters, sort, columns, version,
                created_at, updated_at FROM saved_views ORDER BY seq",
        &["filters", "sort", "columns"],
    ),
    (
        "exchange_rates.json",
        "SELECT currency, rate, updated_at FROM exchange_rates ORDER BY currency",
        &[],
    ),
    (
        "imports.json",
        "SELECT * FROM imports ORDER BY seq",
        &["header", "plan", "outcome"],
    ),
    (
        "import_rejects.json",
        "SELECT imports.id AS import_id, line, column, reason, fields
         FROM import_rejects JOIN imports ON imports.seq = import_rejects.import_seq
         ORDER BY import_seq, line",
        &["fields"],
    ),
];

/// Attachments' details, in the order of [`attached_files`].
const ATTACHMENTS: &str =
    "SELECT attachments.id, record_kind, record_id, file_name, content_type, size, sha256,
            created_at, created_by, deleted_at
     FROM attachments JOIN attachment_data ON attachment_data.attachment_id = attachments.id
     ORDER BY attachments.seq";

/// An attached file: where it goes in the archive, and what its upload measured.
struct AttachedFile {
    path: String,
    rowid: i64,
    bytes: u64,
    sha256: String,
}

fn attached_files(conn: &Connection) -> Result<Vec<AttachedFile>, ArchiveError> {
    let mut stmt = conn.prepare(
        "SELECT attachments.id, file_name, attachment_data.rowid, size, sha256
         FROM attachments JOIN attachment_data ON attachment_data.attachment_id = attachments.id
         ORDER BY attachments.seq",
    )?;
    let files = stmt.query_map([], |r| {
        let id: String = r.get(0)?;
        let name: String = r.get(1)?;
        Ok(AttachedFile {
            path: format!("attachments/{id}/{}", safe_file_name(&name)),
            rowid: r.get(2)?,
            bytes: r.get::<_, i64>(3)?.try_into().unwrap_or(0),
            sha256: r.get(4)?,
        })
    })?;
    Ok(files.collect::<Result<_, _>>()?)
}

/// A file name any unpacking tool writes where it should: letters, digits, `.`, `-`, `_` and
/// spaces kept, anything else `_`, no leading dot, at most 100 characters.
fn safe_file_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let kept: String = kept.trim_start_matches('.').chars().take(100).collect();
    if kept.trim().is_empty() {
        "file".to_owned()
    } else {
        kept
    }
}

/// Appends a regular file `path` of `size` bytes, readable by its owner only, to `tar`.
pub(crate) fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    mtime: u64,
    data: impl io::Read,
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, path, data)
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn attached_file_names_cannot_leave_their_folder() {
        assert_eq!(safe_file_name("report 2026.pdf"), "report 2026.pdf");
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name(".."), "file");
        assert_eq!(safe_file_name("a\u{202e}b\nc"), "a_b_c");
        assert_eq!(safe_file_name(&"x".repeat(300)).len(), 100);
    }
}
