//! Files attached to records, kept in the tenant's own database (so backups and the
//! tenant's export carry them, and its storage counts them), capped by a setting, and read
//! back in chunks so a download never holds a whole file in memory.

use rusqlite::{Connection, MAIN_DB, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::records::{self, Env};
use super::visibility::Visibility;
use super::{CrmError, Kind, settings, timeline, values};
use crate::identity::Role;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Attachment {
    pub id: String,
    pub record_kind: Kind,
    pub record_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: String,
    pub created_by: String,
    /// Where its bytes are (the rowid of `attachment_data`), for reading in chunks.
    #[serde(skip)]
    pub data_row: i64,
}

const COLUMNS: &str =
    "a.id, a.record_kind, a.record_id, a.file_name, a.content_type, a.size, a.sha256,
     a.created_at, a.created_by, d.rowid";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attachment> {
    let kind: String = r.get(1)?;
    Ok(Attachment {
        id: r.get(0)?,
        record_kind: Kind::parse(&kind).unwrap_or(Kind::Contact),
        record_id: r.get(2)?,
        file_name: r.get(3)?,
        content_type: r.get(4)?,
        size: r.get(5)?,
        sha256: r.get(6)?,
        created_at: values::rfc3339(r.get(7)?),
        created_by: r.get(8)?,
        data_row: r.get(9)?,
    })
}

/// A file name fit to keep and to offer back: its last path component, one line, at most 255
/// characters; `file` if nothing is left.
pub fn clean_name(given: &str) -> Result<String, CrmError> {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let name = values::line("file_name", &serde_json::json!(last))?;
    let name: String = name.chars().take(255).collect();
    Ok(if name.is_empty() || name == "." || name == ".." {
        "file".to_owned()
    } else {
        name
    })
}

/// A media type such as `application/pdf`, lower-cased; anything else becomes
/// `application/octet-stream`.
pub fn clean_type(given: Option<&str>) -> String {
    let essence = given
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) && essence.len() <= 100 => essence,
        _ => "application/octet-stream".to_owned(),
    }
}

/// The attachments of a record the caller sees.
pub fn list(
    conn: &Connection,
    kind: Kind,
    record_id: &str,
    visibility: &Visibility,
) -> Result<Vec<Attachment>, CrmError> {
    records::find(conn, kind, record_id, visibility, false)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM attachments a JOIN attachment_data d ON d.attachment_id = a.id
         WHERE a.record_kind = ?1 AND a.record_id = ?2 AND a.deleted_at IS NULL ORDER BY a.seq DESC"
    ))?;
    let all = stmt
        .query_map(params![kind.as_str(), record_id], read)?
        .collect::<Result<_, _>>()?;
    Ok(all)
}

/// An attachment of a live record the caller sees.
pub fn find(conn: &Connection, id: &str, visibility: &Visibility) -> Result<Attachment, CrmError> {
    let found = conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM attachments a JOIN attachment_data d ON d.attachment_id = a.id
                 WHERE a.id = ?1 AND a.deleted_at IS NULL"
            ),
            [id],
            read,
        )
        .optional()?
        .ok_or(CrmError::Missing("attachment"))?;
    records::find(conn, found.record_kind, &found.record_id, visibility, false)
        .map_err(|_| CrmError::Missing("attachment"))?;
    Ok(found)
}

/// The largest attachment the tenant allows.
pub fn max_bytes(conn: &Connection) -> Result<i64, CrmError> {
    Ok(settings::get(conn)?.attachment_max_bytes)
}

/// Attaches `data` to a record the caller sees.
pub fn add(
    conn: &Connection,
    kind: Kind,
    record_id: &str,
    file_name: &str,
    content_type: &str,
    data: &[u8],
    env: Env<'_>,
) -> Result<Attachment, CrmError> {
    records::find(conn, kind, record_id, env.visibility, false)?;
    let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
    let cap = max_bytes(conn)?;
    if size > cap {
        return Err(CrmError::TooLarge(cap));
    }
    let id = super::new_id();
    let sha256 = crate::license::hex(&Sha256::digest(data));
    conn.execute(
        "INSERT INTO attachments (id, record_kind, record_id, file_name, content_type, size, sha256, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![id, kind.as_str(), record_id, file_name, content_type, size, sha256, super::now(), env.actor.name],
    )?;
    conn.execute(
        "INSERT INTO attachment_data (attachment_id, data) VALUES (?1, ?2)",
        params![id, data],
    )?;
    timeline::record(
        conn,
        kind,
        record_id,
        &env.actor.name,
        "attachment_added",
        &serde_json::json!({ "attachment_id": id, "file_name": file_name, "size": size }),
    )?;
    find(conn, &id, env.visibility)
}

/// Removes an attachment (its bytes go at once): its maker, or an admin. Removing it again
/// is done already.
pub fn remove(conn: &Connection, id: &str, env: Env<'_>) -> Result<(), CrmError> {
    let removed: Option<(String, String)> = conn
        .query_row(
            "SELECT record_kind, record_id FROM attachments WHERE id = ?1 AND deleted_at IS NOT NULL",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((kind, record)) = removed {
        let kind = Kind::parse(&kind).unwrap_or(Kind::Contact);
        records::find(conn, kind, &record, env.visibility, false)
            .map_err(|_| CrmError::Missing("attachment"))?;
        return Ok(());
    }
    let found = find(conn, id, env.visibility)?;
    if found.created_by != env.actor.name && !env.actor.role.at_least(Role::Admin) {
        return Err(CrmError::NotYours);
    }
    conn.execute(
        "UPDATE attachments SET deleted_at = ?2 WHERE id = ?1",
        params![id, super::now()],
    )?;
    conn.execute("DELETE FROM attachment_data WHERE attachment_id = ?1", [id])?;
    timeline::record(
        conn,
        found.record_kind,
        &found.record_id,
        &env.actor.name,
        "attachment_removed",
        &serde_json::json!({ "attachment_id": id, "file_name": found.file_name }),
    )?;
    Ok(())
}

/// Up to `len` bytes of an attachment's data from `offset`.
pub fn read_chunk(
    conn: &Connection,
    data_row: i64,
    offset: usize,
    len: usize,
) -> Result<Vec<u8>, CrmError> {
    let blob = conn.blob_open(MAIN_DB, c"attachment_data", c"data", data_row, true)?;
    let end = blob.len().min(offset.saturating_add(len));
    let mut buffer = vec![0; end.saturating_sub(offset)];
    blob.read_at_exact(&mut buffer, offset)?;
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types_are_made_safe_to_keep_and_offer_back() {
        assert_eq!(clean_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(
            clean_name("C:\\Users\\ada\\report.pdf").unwrap(),
            "report.pdf"
        );
        assert_eq!(clean_name("..").unwrap(), "file");
        assert!(clean_name("a\nb.txt").is_err());
        assert_eq!(
            clean_type(Some("Application/PDF; charset=x")),
            "application/pdf"
        );
        assert_eq!(
            clean_type(Some("text/html\r\nX: y")),
            "application/octet-stream"
        );
        assert_eq!(clean_type(None), "application/octet-stream");
    }
}
