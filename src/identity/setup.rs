//! The one-time setup of a fresh appliance. Until the first operator exists, `serve` makes a
//! setup token (printed once, stored hashed) that lets `POST /setup` create that operator.
//! Once any operator exists — by setup or by `holdfast admin create` — setup is closed for
//! good and the token is gone.

use rusqlite::{Connection, OptionalExtension, params};

use super::operators;
use super::secret::{self, Secret};
use crate::storage::StorageError;

const TOKEN_KEY: &str = "setup_token_hash";

/// A fresh setup token, replacing any earlier one, while setup is open; `None` once an
/// operator exists.
pub fn issue_token(conn: &Connection) -> Result<Option<String>, StorageError> {
    if operators::any_exist(conn)? {
        close(conn)?;
        return Ok(None);
    }
    let token = Secret::generate();
    conn.execute(
        "INSERT INTO appliance_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![TOKEN_KEY, token.hash],
    )?;
    Ok(Some(token.text))
}

/// Is setup still open?
pub fn is_open(conn: &Connection) -> Result<bool, StorageError> {
    Ok(!operators::any_exist(conn)?)
}

/// Checks `token` inside the caller's write transaction. True when setup is open and the
/// token is the current one; the caller then creates the first operator in the same
/// transaction, which closes setup.
pub fn accepts(conn: &Connection, token: &str) -> Result<bool, StorageError> {
    if operators::any_exist(conn)? || !secret::well_formed(token) {
        return Ok(false);
    }
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM appliance_meta WHERE key = ?1",
            [TOKEN_KEY],
            |r| r.get(0),
        )
        .optional()?;
    Ok(
        stored
            .is_some_and(|hash| constant_time_eq(hash.as_bytes(), secret::hash(token).as_bytes())),
    )
}

/// Forgets the setup token.
pub fn close(conn: &Connection) -> Result<(), StorageError> {
    conn.execute("DELETE FROM appliance_meta WHERE key = ?1", [TOKEN_KEY])?;
    Ok(())
}

/// Compares without an early exit, so timing does not reveal how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
