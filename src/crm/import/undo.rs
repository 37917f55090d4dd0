//! Undoing an import. A run that was cancelled or failed is taken back: the records it made
//! are purged, as if it never ran. An import that is done can be reverted for
//! [`REVERT_DAYS`](super::ledger::REVERT_DAYS): the records it made go to the trash (they can
//! be restored). Either way the records it changed get their values from before — unless
//! someone changed them since: such an edit is kept, never overwritten, and reported.

use std::collections::HashSet;

use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::{Map, Value, json};

use super::ledger::{self, Import, REVERT_DAYS, State};
use crate::crm::records::{self, Note};
use crate::crm::visibility::Visibility;
use crate::crm::{Actor, CrmError, Kind};

/// Most record ids listed in an outcome.
const LISTED: usize = 20;

/// The kinds an import of `kind` makes: its own, and companies named by its rows.
fn kinds_made(kind: Kind) -> Vec<Kind> {
    if kind == Kind::Company {
        vec![Kind::Company]
    } else {
        vec![kind, Kind::Company]
    }
}

/// Takes back what a cancelled or failed run wrote, in one transaction.
pub fn take_back(
    conn: &mut Connection,
    import: &Import,
    actor: &Actor,
) -> Result<Map<String, Value>, CrmError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcome = Map::new();
    let mut kept = 0;
    for kind in kinds_made(import.record_kind) {
        purge_untouched(&tx, kind, import.seq)?;
        kept += still_there(&tx, kind, import.seq)?;
    }
    if kept > 0 {
        outcome.insert("created_kept".into(), json!(kept));
        outcome.insert(
            "created_kept_why".into(),
            json!("records the import made were changed or linked by someone while it ran; they are kept"),
        );
    }
    restore_changes(&tx, import, actor, "import_taken_back", &mut outcome)?;
    tx.commit()?;
    Ok(outcome)
}

/// Reverts an import that is done, in the caller's write transaction; answers it as it is
/// now.
pub fn revert(tx: &Connection, id: &str, actor: &Actor) -> Result<Import, CrmError> {
    let import = ledger::get(tx, id)?;
    if import.state != State::Done || import.dry_run {
        return Err(CrmError::Conflict(format!(
            "the import is {}; only an import that is done can be reverted",
            import.state.as_str()
        )));
    }
    let finished: i64 = tx.query_row(
        "SELECT finished_at FROM imports WHERE seq = ?1",
        [import.seq],
        |r| r.get(0),
    )?;
    if crate::crm::now() > finished + REVERT_DAYS * 86_400 {
        return Err(CrmError::Conflict(format!(
            "the import ended more than {REVERT_DAYS} days ago and can no longer be reverted"
        )));
    }
    let mut outcome = Map::new();
    let mut trashed = 0;
    for kind in kinds_made(import.record_kind) {
        trashed += trash_made(tx, kind, import.seq, &actor.name, &import.id)?;
    }
    outcome.insert("trashed".into(), json!(trashed));
    restore_changes(tx, &import, actor, "import_reverted", &mut outcome)?;
    ledger::reverted(tx, import.seq, &actor.name, &outcome)?;
    let c = import.counts;
    crate::audit::append(
        tx,
        &crate::audit::NewEntry {
            actor: actor.name.clone(),
            action: "import revert".into(),
            target: format!(
                "import {} of \"{}\": {trashed} records to the trash, {} changed back",
                import.id,
                import.file_name,
                outcome
                    .get("restored")
                    .and_then(Value::as_i64)
                    .unwrap_or_default()
                    .min(c.updated)
            ),
            address: None,
            outcome: crate::audit::Outcome::Success,
        },
    )?;
    ledger::get(tx, id)
}

/// Purges the records of `kind` the import made that nobody has touched since: still at
/// version 1, with no activity, attachment or deal linked, and (companies) named by no
/// record of another import or none.
fn purge_untouched(conn: &Connection, kind: Kind, seq: i64) -> Result<(), CrmError> {
    let table = kind.table();
    let mut untouched = format!(
        "SELECT id FROM {table} t WHERE import_seq = ?1 AND version = 1
           AND NOT EXISTS (SELECT 1 FROM activity_links l
                           WHERE l.record_kind = ?2 AND l.record_id = t.id)
           AND NOT EXISTS (SELECT 1 FROM attachments a
                           WHERE a.record_kind = ?2 AND a.record_id = t.id)"
    );
    match kind {
        Kind::Contact => {
            untouched.push_str(
                " AND NOT EXISTS (SELECT 1 FROM deal_contacts d WHERE d.contact_id = t.id)",
            );
        }
        Kind::Company => untouched.push_str(
            " AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.company_id = t.id)
              AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.company_id = t.id)",
        ),
        Kind::Deal | Kind::Activity => {}
    }
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS import_gone (id TEXT PRIMARY KEY);
         DELETE FROM temp.import_gone;",
    )?;
    conn.execute(
        &format!("INSERT INTO temp.import_gone (id) {untouched}"),
        params![seq, kind.as_str()],
    )?;
    for sql in [
        "DELETE FROM record_tags WHERE record_kind = ?1 AND record_id IN (SELECT id FROM temp.import_gone)",
        "DELETE FROM timeline WHERE record_kind = ?1 AND record_id IN (SELECT id FROM temp.import_gone)",
    ] {
        conn.execute(sql, [kind.as_str()])?;
    }
    conn.execute(
        &format!("DELETE FROM {table} WHERE id IN (SELECT id FROM temp.import_gone)"),
        [],
    )?;
    Ok(())
}

fn still_there(conn: &Connection, kind: Kind, seq: i64) -> Result<i64, CrmError> {
    Ok(conn.query_row(
        &format!(
            "SELECT count(*) FROM {} WHERE import_seq = ?1",
            kind.table()
        ),
        [seq],
        |r| r.get(0),
    )?)
}

/// Moves the live records of `kind` the import made to the trash, each with its timeline
/// entry; answers how many.
fn trash_made(
    conn: &Connection,
    kind: Kind,
    seq: i64,
    actor: &str,
    import_id: &str,
) -> Result<i64, CrmError> {
    let table = kind.table();
    let now = crate::crm::now();
    let detail = json!({ "import_reverted": import_id }).to_string();
    conn.execute(
        &format!(
            "INSERT INTO timeline (record_kind, record_id, at, actor, event, detail)
             SELECT ?1, id, ?2, ?3, 'deleted', ?4 FROM {table}
             WHERE import_seq = ?5 AND deleted_at IS NULL ORDER BY seq"
        ),
        params![kind.as_str(), now, actor, detail, seq],
    )?;
    let trashed = conn.execute(
        &format!(
            "UPDATE {table} SET deleted_at = ?1, deleted_by = ?2, updated_at = ?1,
                    updated_by = ?2, version = version + 1
             WHERE import_seq = ?3 AND deleted_at IS NULL"
        ),
        params![now, actor, seq],
    )?;
    Ok(i64::try_from(trashed).unwrap_or(i64::MAX))
}

/// Gives the records the import changed their values from before, where nobody changed
/// them since; notes the others in `outcome`.
fn restore_changes(
    conn: &Connection,
    import: &Import,
    actor: &Actor,
    event: &'static str,
    outcome: &mut Map<String, Value>,
) -> Result<(), CrmError> {
    let all = Visibility::all();
    let users: HashSet<String> = HashSet::new();
    let mut restored = 0;
    let mut kept: Vec<String> = Vec::new();
    let mut kept_count = 0;
    for change in ledger::changes(conn, import.seq)? {
        let current = match records::get(conn, change.kind, &change.record_id, &all) {
            Ok(record) => record,
            Err(CrmError::NotFound(_)) => {
                kept_count += 1;
                if kept.len() < LISTED {
                    kept.push(change.record_id);
                }
                continue;
            }
            Err(err) => return Err(err),
        };
        if current.version != change.version {
            kept_count += 1;
            if kept.len() < LISTED {
                kept.push(change.record_id);
            }
            continue;
        }
        let mut body = Map::new();
        let mut custom = Map::new();
        for (name, value) in change.before {
            match name.strip_prefix("custom.") {
                Some(key) => {
                    custom.insert(key.to_owned(), value);
                }
                None => {
                    body.insert(name, value);
                }
            }
        }
        if !custom.is_empty() {
            body.insert("custom".into(), Value::Object(custom));
        }
        let input = records::parse(conn, change.kind, &body, false)?;
        // The users named were the tenant's when the import read them.
        let named: HashSet<String> = input
            .values
            .iter()
            .filter(|(f, _)| f.ty == crate::crm::fields::FieldType::User)
            .filter_map(|(_, v)| match v {
                rusqlite::types::Value::Text(id) => Some(id.clone()),
                _ => None,
            })
            .chain(users.iter().cloned())
            .collect();
        let env = records::Env {
            actor,
            visibility: &all,
            users: &named,
        };
        let note = Note {
            event: Some(event),
            extra: [("import_id".to_owned(), json!(import.id))]
                .into_iter()
                .collect(),
        };
        records::update_noting(
            conn,
            change.kind,
            &change.record_id,
            None,
            input,
            env,
            &note,
        )?;
        restored += 1;
    }
    outcome.insert("restored".into(), json!(restored));
    if kept_count > 0 {
        outcome.insert("changed_since".into(), json!(kept_count));
        outcome.insert("changed_since_ids".into(), json!(kept));
    }
    Ok(())
}
