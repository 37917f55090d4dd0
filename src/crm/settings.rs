//! The tenant's CRM settings, changed by its owners: the default currency, how long the
//! trash keeps records, the largest attachment.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{CrmError, currency};

/// Largest attachment a tenant may allow (the server's body limit caps it too).
pub const MAX_ATTACHMENT_BYTES: i64 = 1 << 30;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Settings {
    pub default_currency: String,
    pub trash_retention_days: i64,
    pub attachment_max_bytes: i64,
}

/// What an owner changes: only what is given.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    pub default_currency: Option<String>,
    pub trash_retention_days: Option<i64>,
    pub attachment_max_bytes: Option<i64>,
}

fn value(conn: &Connection, key: &str) -> Result<Value, CrmError> {
    let text: String = conn
        .prepare_cached("SELECT value FROM crm_settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))?;
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub fn get(conn: &Connection) -> Result<Settings, CrmError> {
    Ok(Settings {
        default_currency: value(conn, "default_currency")?
            .as_str()
            .unwrap_or("USD")
            .to_owned(),
        trash_retention_days: value(conn, "trash_retention_days")?.as_i64().unwrap_or(30),
        attachment_max_bytes: value(conn, "attachment_max_bytes")?
            .as_i64()
            .unwrap_or(25 << 20),
    })
}

fn put(conn: &Connection, key: &str, value: &Value) -> Result<(), CrmError> {
    conn.execute(
        "INSERT INTO crm_settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value.to_string()],
    )?;
    Ok(())
}

/// Changes what is given, each value checked first: all of it, or nothing.
pub fn change(conn: &Connection, change: &SettingsChange) -> Result<Settings, CrmError> {
    if change
        .default_currency
        .as_deref()
        .is_some_and(|code| currency::minor_digits(code).is_none())
    {
        return Err(CrmError::invalid(
            "default_currency",
            "must be an ISO 4217 currency code such as EUR",
        ));
    }
    if change
        .trash_retention_days
        .is_some_and(|d| !(1..=3650).contains(&d))
    {
        return Err(CrmError::invalid(
            "trash_retention_days",
            "must be 1 to 3650",
        ));
    }
    if change
        .attachment_max_bytes
        .is_some_and(|b| !(1..=MAX_ATTACHMENT_BYTES).contains(&b))
    {
        return Err(CrmError::invalid(
            "attachment_max_bytes",
            format!("must be 1 to {MAX_ATTACHMENT_BYTES}"),
        ));
    }
    if let Some(code) = &change.default_currency {
        put(conn, "default_currency", &json!(code))?;
    }
    if let Some(days) = change.trash_retention_days {
        put(conn, "trash_retention_days", &json!(days))?;
    }
    if let Some(bytes) = change.attachment_max_bytes {
        put(conn, "attachment_max_bytes", &json!(bytes))?;
    }
    get(conn)
}
