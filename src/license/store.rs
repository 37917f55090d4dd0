//! The installed keys in the control database: the key in force (`current`), a renewal
//! waiting for its not-before date (`next`), and the history of every install.
//!
//! An install is check-and-write in one `BEGIN IMMEDIATE` transaction, so two installs at once
//! (CLI and server, or two CLIs) are judged one after the other against what is stored.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::engine::{InstallDecision, NewestIssue};
use crate::storage::StorageError;

/// One accepted install, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installed {
    pub key: String,
    pub license_id: String,
    pub installed_at: i64,
    pub installed_by: String,
}

/// The stored keys and the install counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub current: Option<Installed>,
    pub next: Option<Installed>,
    pub generation: i64,
}

const SLOT_QUERY: &str = "SELECT i.key, i.license_id, i.installed_at, i.installed_by
    FROM license_slots s JOIN license_installs i ON i.id = s.install_id WHERE s.slot = ?1";

fn row_to_installed(r: &rusqlite::Row<'_>) -> rusqlite::Result<Installed> {
    Ok(Installed {
        key: r.get(0)?,
        license_id: r.get(1)?,
        installed_at: r.get(2)?,
        installed_by: r.get(3)?,
    })
}

fn slot(conn: &Connection, name: &str) -> Result<Option<Installed>, StorageError> {
    Ok(conn
        .query_row(SLOT_QUERY, [name], row_to_installed)
        .optional()?)
}

/// Bumped by every change to the stored keys; a running server reloads when it moves.
pub fn generation(conn: &Connection) -> Result<i64, StorageError> {
    let value: String = conn.query_row(
        "SELECT value FROM appliance_meta WHERE key = 'license_generation'",
        [],
        |r| r.get(0),
    )?;
    Ok(value.parse().unwrap_or(0))
}

pub fn load(conn: &Connection) -> Result<Stored, StorageError> {
    Ok(Stored {
        current: slot(conn, "current")?,
        next: slot(conn, "next")?,
        generation: generation(conn)?,
    })
}

/// What an install records besides the key.
#[derive(Debug, Clone)]
pub struct NewInstall<'a> {
    pub key: &'a str,
    pub license_id: &'a str,
    pub issued_at: i64,
    pub not_before: Option<i64>,
    pub installed_at: i64,
    pub installed_by: &'a str,
}

fn bump_generation(conn: &Connection) -> Result<(), StorageError> {
    conn.execute(
        "UPDATE appliance_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)
          WHERE key = 'license_generation'",
        [],
    )?;
    Ok(())
}

/// Runs `decide` on the stored keys (and the connection, for the history) while holding the
/// write lock; if it accepts, stores the
/// key in the slot it chose. A key that becomes current replaces any pending renewal it was
/// judged against. Returns `decide`'s refusal untouched.
pub fn install_with<'a, E>(
    conn: &mut Connection,
    decide: impl FnOnce(&Connection, &Stored) -> Result<(InstallDecision, NewInstall<'a>), E>,
) -> Result<Result<InstallDecision, E>, StorageError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored = load(&tx)?;
    let (decision, new) = match decide(&tx, &stored) {
        Ok(accepted) => accepted,
        Err(refusal) => return Ok(Err(refusal)),
    };
    tx.execute(
        "INSERT INTO license_installs
             (key, license_id, issued_at, not_before, installed_at, installed_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            new.key,
            new.license_id,
            new.issued_at,
            new.not_before,
            new.installed_at,
            new.installed_by
        ],
    )?;
    let id = tx.last_insert_rowid();
    let slot = match decision {
        InstallDecision::Current => "current",
        InstallDecision::Next => "next",
    };
    tx.execute(
        "INSERT INTO license_slots (slot, install_id) VALUES (?1, ?2)
         ON CONFLICT (slot) DO UPDATE SET install_id = excluded.install_id",
        params![slot, id],
    )?;
    if decision == InstallDecision::Current {
        tx.execute("DELETE FROM license_slots WHERE slot = 'next'", [])?;
    }
    bump_generation(&tx)?;
    tx.commit()?;
    Ok(Ok(decision))
}

/// Moves a renewal whose time has come into the `current` slot. It already governed from its
/// not-before second (the engine sees to that); this keeps the stored slots in step.
pub fn promote_next(conn: &mut Connection) -> Result<(), StorageError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let moved = tx.execute(
        "INSERT INTO license_slots (slot, install_id)
         SELECT 'current', install_id FROM license_slots WHERE slot = 'next' AND true
         ON CONFLICT (slot) DO UPDATE SET install_id = excluded.install_id",
        [],
    )?;
    if moved > 0 {
        tx.execute("DELETE FROM license_slots WHERE slot = 'next'", [])?;
        bump_generation(&tx)?;
    }
    tx.commit()?;
    Ok(())
}

/// The newest issue of `license_id` ever accepted here, whatever was installed since: every
/// accepted key stays in the install history.
pub fn newest_issue(
    conn: &Connection,
    license_id: &str,
) -> Result<Option<NewestIssue>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT issued_at, key FROM license_installs
          WHERE license_id = ?1
            AND issued_at = (SELECT max(issued_at) FROM license_installs WHERE license_id = ?1)",
    )?;
    let rows = stmt
        .query_map([license_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let Some(&(issued_at, _)) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(NewestIssue {
        issued_at,
        payloads: rows
            .iter()
            .map(|(_, key)| super::key::payload_part(key).to_owned())
            .collect(),
    }))
}

/// Every accepted install, newest first.
pub fn history(conn: &Connection) -> Result<Vec<Installed>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT key, license_id, installed_at, installed_by FROM license_installs ORDER BY id DESC",
    )?;
    let rows = stmt
        .query_map([], row_to_installed)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
