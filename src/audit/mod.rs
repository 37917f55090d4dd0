//! The audit log: every state change, with who (actor), what (action), to what (target),
//! when, from where (address) and how it ended (outcome). Tenant actions go to the tenant's
//! own database, appliance actions to the control database; both use the same hash-chained
//! `audit_log` table.

mod chain;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use time::OffsetDateTime;

use crate::storage::StorageError;

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Refused, with the stable error code.
    Refused(&'static str),
    Failed,
}

impl Outcome {
    fn text(self) -> String {
        match self {
            Outcome::Success => "success".to_owned(),
            Outcome::Refused(code) => format!("refused:{code}"),
            Outcome::Failed => "failed".to_owned(),
        }
    }
}

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub address: Option<String>,
    pub outcome: Outcome,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub address: Option<String>,
    pub outcome: String,
    pub hash: String,
}

/// The longest text kept in a field; longer input is cut (the log must not be a way to fill
/// the disk).
const MAX_FIELD: usize = 500;

fn cut(text: &str) -> &str {
    match text.char_indices().nth(MAX_FIELD) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Appends an entry. Inside the caller's write transaction it joins it (the change and its
/// entry commit together); on a connection in autocommit mode it takes its own
/// `BEGIN IMMEDIATE`. Either way the last hash is read under the write lock, so concurrent
/// writers, in this process or another, cannot fork the chain.
pub fn record(conn: &mut Connection, entry: &NewEntry) -> Result<i64, StorageError> {
    if conn.is_autocommit() {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq = append(&tx, entry)?;
        tx.commit()?;
        Ok(seq)
    } else {
        append(conn, entry)
    }
}

/// Appends within the caller's write transaction.
pub fn append(conn: &Connection, entry: &NewEntry) -> Result<i64, StorageError> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, chain::GENESIS.to_owned()),
    };
    let outcome = entry.outcome.text();
    let fields = chain::Fields {
        seq,
        at: OffsetDateTime::now_utc().unix_timestamp(),
        actor: cut(&entry.actor),
        action: cut(&entry.action),
        target: cut(&entry.target),
        address: entry.address.as_deref().map(cut),
        outcome: &outcome,
    };
    let hash = chain::hash(&prev_hash, &fields);
    conn.execute(
        "INSERT INTO audit_log (seq, at, actor, action, target, address, outcome, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            seq,
            fields.at,
            fields.actor,
            fields.action,
            fields.target,
            fields.address,
            fields.outcome,
            prev_hash,
            hash
        ],
    )?;
    Ok(seq)
}

/// The most entries one page holds.
pub const MAX_PAGE: u32 = 500;

/// Which entries to list: each field given narrows the list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The actor, exactly (`user:<id>`, `token:<id>`, `operator:<id>`).
    pub actor: Option<String>,
    /// Text the action contains (`users`, `POST`), case-insensitively.
    pub action: Option<String>,
    /// From this moment on (unix seconds, inclusive).
    pub from: Option<i64>,
    /// Before this moment (unix seconds, exclusive).
    pub to: Option<i64>,
}

/// Entries newest first, before the `before` cursor (a `seq`) if given.
pub fn list(
    conn: &Connection,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Entry>, StorageError> {
    search(conn, &Filter::default(), before, limit)
}

/// Entries that pass `filter`, newest first, before the `before` cursor (a `seq`) if given.
pub fn search(
    conn: &Connection,
    filter: &Filter,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<Entry>, StorageError> {
    // `instr` on lowered text: a plain substring, with no `LIKE` wildcards to escape.
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, target, address, outcome, hash FROM audit_log
         WHERE seq < ?1
           AND (?3 IS NULL OR actor = ?3)
           AND (?4 IS NULL OR instr(lower(action), lower(?4)) > 0)
           AND (?5 IS NULL OR at >= ?5)
           AND (?6 IS NULL OR at < ?6)
         ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(
            params![
                before.unwrap_or(i64::MAX),
                limit.clamp(1, MAX_PAGE),
                filter.actor,
                filter.action,
                filter.from,
                filter.to
            ],
            |r| {
                Ok(Entry {
                    seq: r.get(0)?,
                    at: OffsetDateTime::from_unix_timestamp(r.get(1)?)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    address: r.get(5)?,
                    outcome: r.get(6)?,
                    hash: r.get(7)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The first place a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chain broken at entry {seq}: {reason}")]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: &'static str,
}

/// Checks every link from the first entry; returns how many entries hold.
pub fn verify(conn: &Connection) -> Result<Result<u64, BrokenLink>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, target, address, outcome, prev_hash, hash
         FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = chain::GENESIS.to_owned();
    let mut expected_seq = 1;
    let mut count = 0;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let (actor, action, target): (String, String, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
        let address: Option<String> = r.get(5)?;
        let outcome: String = r.get(6)?;
        let (prev_hash, hash): (String, String) = (r.get(7)?, r.get(8)?);
        if seq != expected_seq {
            return Ok(Err(BrokenLink {
                seq: expected_seq,
                reason: "the entry is missing",
            }));
        }
        if prev_hash != expected_prev {
            return Ok(Err(BrokenLink {
                seq,
                reason: "it does not follow the entry before it",
            }));
        }
        let fields = chain::Fields {
            seq,
            at: r.get(1)?,
            actor: &actor,
            action: &action,
            target: &target,
            address: address.as_deref(),
            outcome: &outcome,
        };
        if chain::hash(&prev_hash, &fields) != hash {
            return Ok(Err(BrokenLink {
                seq,
                reason: "its hash does not match its contents",
            }));
        }
        expected_prev = hash;
        expected_seq += 1;
        count += 1;
    }
    Ok(Ok(count))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::storage::{Schema, migrate_connection};

    fn log_with(entries: usize) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_connection(&mut conn, Schema::Tenant, Path::new(":memory:")).unwrap();
        for i in 0..entries {
            let entry = NewEntry {
                actor: format!("user:{i}"),
                action: "user.create".into(),
                target: format!("u{i}@example.com"),
                address: (i % 2 == 0).then(|| "127.0.0.1".to_owned()),
                outcome: if i == 2 {
                    Outcome::Refused("seat_limit_reached")
                } else {
                    Outcome::Success
                },
            };
            record(&mut conn, &entry).unwrap();
        }
        conn
    }

    #[test]
    fn a_filter_narrows_by_actor_action_and_time() {
        let mut conn = log_with(4);
        record(
            &mut conn,
            &NewEntry {
                actor: "user:1".into(),
                action: "DELETE /api/v1/tokens/{id}".into(),
                target: "token".into(),
                address: None,
                outcome: Outcome::Success,
            },
        )
        .unwrap();
        let by = |filter: Filter| {
            search(&conn, &filter, None, 50)
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        };
        let actor = Filter {
            actor: Some("user:1".into()),
            ..Filter::default()
        };
        assert_eq!(by(actor.clone()), [5, 2]);
        let action = Filter {
            action: Some("TOKENS".into()),
            ..actor
        };
        assert_eq!(by(action), [5], "contains, case-insensitively");
        let wildcard = Filter {
            action: Some("%".into()),
            ..Filter::default()
        };
        assert!(by(wildcard).is_empty(), "no LIKE wildcards");
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let future = Filter {
            from: Some(now + 60),
            ..Filter::default()
        };
        assert!(by(future).is_empty());
        let until = Filter {
            to: Some(now + 60),
            ..Filter::default()
        };
        assert_eq!(by(until).len(), 5);
        assert_eq!(
            search(&conn, &Filter::default(), Some(3), 50)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn an_intact_chain_verifies_and_lists_newest_first() {
        let conn = log_with(5);
        assert_eq!(verify(&conn).unwrap(), Ok(5));
        let page = list(&conn, None, 2).unwrap();
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 4]);
        let next = list(&conn, Some(4), 10).unwrap();
        assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(next[0].outcome, "refused:seat_limit_reached");
    }

    #[test]
    fn any_edit_removal_or_reordering_is_found_at_its_entry() {
        let edits = [
            (
                "UPDATE audit_log SET target = 'someone else' WHERE seq = 3",
                3,
            ),
            ("UPDATE audit_log SET at = at + 1 WHERE seq = 2", 2),
            ("UPDATE audit_log SET address = NULL WHERE seq = 1", 1),
            ("UPDATE audit_log SET outcome = 'success' WHERE seq = 3", 3),
            ("DELETE FROM audit_log WHERE seq = 2", 2),
            ("UPDATE audit_log SET seq = 10 - seq WHERE seq IN (4, 5)", 4),
        ];
        for (sql, seq) in edits {
            let conn = log_with(5);
            conn.execute(sql, []).unwrap();
            let broken = verify(&conn).unwrap().unwrap_err();
            assert_eq!(broken.seq, seq, "{sql}: {broken}");
        }
        let conn = log_with(5);
        conn.execute("DELETE FROM audit_log WHERE seq = 5", [])
            .unwrap();
        assert_eq!(
            verify(&conn).unwrap(),
            Ok(4),
            "cutting the tail is only found by counting"
        );
    }

    #[test]
    fn two_writers_on_one_file_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let (db, _) = crate::storage::Database::open(&path, Schema::Tenant, 4).unwrap();
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut conn = db.conn().unwrap();
                    for i in 0..50 {
                        let entry = NewEntry {
                            actor: format!("writer:{w}"),
                            action: "test".into(),
                            target: i.to_string(),
                            address: None,
                            outcome: Outcome::Success,
                        };
                        record(&mut conn, &entry).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(verify(&db.conn().unwrap()).unwrap(), Ok(100));
    }
}
