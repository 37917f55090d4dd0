//! Operators: the people who run the appliance from `/admin`. They hold no seat.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::Email;
use super::password::{self, NewPassword};
use crate::storage::StorageError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub id: String,
    pub email: String,
    pub active: bool,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("{0} is already an operator")]
    EmailTaken(String),
    #[error("no operator {0}")]
    NotFound(String),
    #[error("the appliance must keep at least one active operator")]
    LastOperator,
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for OperatorError {
    fn from(err: rusqlite::Error) -> Self {
        OperatorError::Storage(err.into())
    }
}

impl OperatorError {
    pub fn code(&self) -> &'static str {
        match self {
            OperatorError::EmailTaken(_) => "operator_exists",
            OperatorError::NotFound(_) => "operator_not_found",
            OperatorError::LastOperator => "last_operator",
            OperatorError::Password(err) => err.code(),
            OperatorError::Storage(_) => "internal",
        }
    }
}

const COLUMNS: &str = "id, email, status = 'active', created_at";

fn row_to_operator(r: &rusqlite::Row<'_>) -> rusqlite::Result<Operator> {
    Ok(Operator {
        id: r.get(0)?,
        email: r.get(1)?,
        active: r.get(2)?,
        created_at: r.get(3)?,
    })
}

/// Is there any operator at all? Until there is, the appliance offers its one-time setup.
pub fn any_exist(conn: &Connection) -> Result<bool, StorageError> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM operators)", [], |r| r.get(0))?)
}

/// Adds an operator inside the caller's transaction (setup adds the first one together
/// with closing setup). `password_hash` comes from [`password::hash`], made before the lock.
pub fn insert(
    conn: &Connection,
    email: &Email,
    password_hash: &str,
) -> Result<Operator, OperatorError> {
    if find(conn, email)?.is_some() {
        return Err(OperatorError::EmailTaken(email.to_string()));
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    conn.execute(
        "INSERT INTO operators (id, email, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![id, email.as_str(), password_hash, now],
    )?;
    find(conn, email)?.ok_or_else(|| OperatorError::NotFound(email.to_string()))
}

/// Adds an operator in its own write transaction.
pub fn create(
    conn: &mut Connection,
    email: &Email,
    new_password: &NewPassword,
) -> Result<Operator, OperatorError> {
    let hash = password::hash(new_password)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let operator = insert(&tx, email, &hash)?;
    tx.commit()?;
    Ok(operator)
}

pub fn find(conn: &Connection, email: &Email) -> Result<Option<Operator>, OperatorError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM operators WHERE email = ?1"),
            [email.as_str()],
            row_to_operator,
        )
        .optional()?)
}

pub fn find_by_id(conn: &Connection, id: &str) -> Result<Option<Operator>, OperatorError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM operators WHERE id = ?1"),
            [id],
            row_to_operator,
        )
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Operator>, OperatorError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM operators ORDER BY email"))?;
    let all = stmt
        .query_map([], row_to_operator)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(all)
}

/// The stored hash of an active operator, for sign-in.
pub fn password_hash_of(conn: &Connection, id: &str) -> Result<Option<String>, OperatorError> {
    Ok(conn
        .query_row(
            "SELECT password_hash FROM operators WHERE id = ?1 AND status = 'active'",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

/// A signed-in operator sets a new password (the old one was checked by the caller); every
/// other session of theirs ends.
pub fn change_password(
    conn: &mut Connection,
    id: &str,
    new_password: &str,
    keep_session: &str,
) -> Result<Operator, OperatorError> {
    let email = find_by_id(conn, id)?
        .ok_or_else(|| OperatorError::NotFound(id.to_owned()))?
        .email;
    let hash = password::hash(&NewPassword::new(new_password, &email)?)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let operator = find_by_id(&tx, id)?
        .filter(|o| o.active)
        .ok_or_else(|| OperatorError::NotFound(id.to_owned()))?;
    tx.execute(
        "UPDATE operators SET password_hash = ?1, updated_at = ?2 WHERE id = ?3",
        params![hash, OffsetDateTime::now_utc().unix_timestamp(), id],
    )?;
    let principal = super::sessions::Principal::Operator { id: id.to_owned() };
    super::sessions::end_others(&tx, &principal, keep_session)?;
    tx.commit()?;
    Ok(operator)
}

/// Deactivates an operator and ends their sessions; the last active one stays.
pub fn deactivate(conn: &mut Connection, id: &str) -> Result<Operator, OperatorError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let operator = find_by_id(&tx, id)?.ok_or_else(|| OperatorError::NotFound(id.to_owned()))?;
    if operator.active {
        let active: u32 = tx.query_row(
            "SELECT count(*) FROM operators WHERE status = 'active'",
            [],
            |r| r.get(0),
        )?;
        if active <= 1 {
            return Err(OperatorError::LastOperator);
        }
        tx.execute(
            "UPDATE operators SET status = 'deactivated', updated_at = ?1 WHERE id = ?2",
            params![OffsetDateTime::now_utc().unix_timestamp(), id],
        )?;
        tx.execute("DELETE FROM sessions WHERE operator_id = ?1", [id])?;
    }
    let operator = find_by_id(&tx, id)?.ok_or_else(|| OperatorError::NotFound(id.to_owned()))?;
    tx.commit()?;
    Ok(operator)
}
