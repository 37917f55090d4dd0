//! Erasing one person: a contact's data goes for good, at once, not through the trash — the
//! answer to "delete everything you hold about me". With the contact go its tags, timeline,
//! attachments and its place on deals; activities about no one but them; the values an
//! import kept to undo a change of them; the rejected import rows that carry one of their
//! addresses; and their words in the search index, which is told to drop them from its pages
//! (FTS5 `secure-delete`) rather than only mark them deleted. Pages SQLite frees are zeroed
//! (`secure_delete`). Activities that are also about other records stay, without the link.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{CrmError, Kind, trash};

/// What an erasure removed.
#[derive(Debug, Clone, Copy, Default, Serialize, schemars::JsonSchema)]
pub struct Erased {
    /// Whether there was such a contact: erasing one that is gone already is no error, as
    /// its data is not here either way.
    pub contact: bool,
    /// Activities about the contact alone, erased with it.
    pub activities: usize,
    /// Activities about others too, kept without the contact.
    pub activities_unlinked: usize,
    pub attachments: usize,
    /// Deals the contact was taken off.
    pub deals_unlinked: usize,
    /// Rejected import rows that named one of the contact's addresses.
    pub import_rows: usize,
}

/// Erases contact `id` (live or in the trash); the caller's transaction commits.
pub fn contact(conn: &Connection, id: &str) -> Result<Erased, CrmError> {
    if !super::is_id(id) {
        return Err(CrmError::NotFound(Kind::Contact));
    }
    let Some(emails) = conn
        .query_row("SELECT emails FROM contacts WHERE id = ?1", [id], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    else {
        return Ok(Erased::default());
    };
    let was_secure: i64 = conn.query_row("PRAGMA secure_delete", [], |r| r.get(0))?;
    conn.execute_batch(
        "PRAGMA secure_delete = ON;
         INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('secure-delete', 1);
         INSERT INTO activities_fts (activities_fts, rank) VALUES ('secure-delete', 1);",
    )?;
    let erased = erase(conn, id, &emails);
    // Back as they were, whatever happened: a refusal rolls the index settings back too, but
    // the connection's pragma is not part of the transaction.
    conn.execute_batch(&format!(
        "PRAGMA secure_delete = {was_secure};
         INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('secure-delete', 0);
         INSERT INTO activities_fts (activities_fts, rank) VALUES ('secure-delete', 0);"
    ))?;
    erased
}

fn erase(conn: &Connection, id: &str, emails: &str) -> Result<Erased, CrmError> {
    let mut erased = Erased {
        contact: true,
        ..Erased::default()
    };
    let activities: Vec<(String, i64)> = conn
        .prepare(
            "SELECT activity_id, (SELECT count(*) FROM activity_links AS other
                                  WHERE other.activity_id = mine.activity_id)
             FROM activity_links AS mine WHERE record_kind = 'contact' AND record_id = ?1",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (activity, links) in activities {
        if links == 1 {
            erased.activities += trash::purge(conn, Kind::Activity, &activity)?;
        } else {
            erased.activities_unlinked += conn.execute(
                "DELETE FROM activity_links
                 WHERE activity_id = ?1 AND record_kind = 'contact' AND record_id = ?2",
                params![activity, id],
            )?;
        }
    }
    erased.deals_unlinked =
        conn.execute("DELETE FROM deal_contacts WHERE contact_id = ?1", [id])?;
    erased.attachments = conn.execute(
        "DELETE FROM attachments WHERE record_kind = 'contact' AND record_id = ?1",
        [id],
    )?;
    conn.execute(
        "DELETE FROM import_changes WHERE record_kind = 'contact' AND record_id = ?1",
        [id],
    )?;
    erased.import_rows = conn.execute(
        "DELETE FROM import_rejects
         WHERE EXISTS (SELECT 1 FROM json_each(import_rejects.fields) AS cell, json_each(?1) AS mail
                       WHERE lower(trim(cell.value)) = mail.value)",
        [emails],
    )?;
    trash::purge(conn, Kind::Contact, id)?;
    Ok(erased)
}
