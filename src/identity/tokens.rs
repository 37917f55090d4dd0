//! API tokens: bearer secrets a tenant admin makes for scripts and integrations. Each is
//! scoped to one tenant and a role, shown once, stored hashed, optionally expiring, and
//! revocable at any time.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::Role;
use super::secret::{self, Secret};
use crate::storage::StorageError;

/// Every token starts with this, so secret scanners and people can tell what leaked.
pub const TOKEN_PREFIX: &str = "hft_";
/// The longest token name accepted.
pub const MAX_NAME_LEN: usize = 100;

/// A token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

/// A token that authenticated a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    pub id: String,
    pub tenant_id: String,
    /// The lower of the token's own role and its maker's when it was read.
    pub role: Role,
    pub expires_at: Option<i64>,
    /// When it was last used, as stored now (after this use's record, if any).
    pub last_used_at: i64,
}

/// `last_used_at` is only written when it is this stale, so busy scripts do not turn reads
/// into writes.
const TOUCH_AFTER_SECS: i64 = 60;

impl TokenHolder {
    /// Whether this holder, as read before, may be taken as it is at `at` (unix seconds):
    /// not expired, and not due to have its use recorded. Anything else is for
    /// [`authenticate`] to decide.
    pub fn fresh_at(&self, at: i64) -> bool {
        self.expires_at.is_none_or(|e| e > at) && at - self.last_used_at < TOUCH_AFTER_SECS
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token name must be 1 to {MAX_NAME_LEN} printable characters")]
    BadName,
    #[error("no such token")]
    NotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for TokenError {
    fn from(err: rusqlite::Error) -> Self {
        TokenError::Storage(err.into())
    }
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::BadName => "invalid_input",
            TokenError::NotFound => "not_found",
            TokenError::Storage(_) => "internal",
        }
    }
}

const COLUMNS: &str =
    "id, name, role, created_by, created_at, expires_at, last_used_at, revoked_at IS NOT NULL";

fn row_to_token(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiToken> {
    let role: String = r.get(2)?;
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        role: role.parse().unwrap_or(Role::Viewer),
        created_by: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        last_used_at: r.get(6)?,
        revoked: r.get(7)?,
    })
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Makes a token; returns it with its secret, which is never available again.
pub fn create(
    conn: &Connection,
    tenant_id: &str,
    name: &str,
    role: Role,
    created_by: Option<&str>,
    expires_at: Option<i64>,
) -> Result<(ApiToken, String), TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(TokenError::BadName);
    }
    let secret = Secret::generate();
    let text = format!("{TOKEN_PREFIX}{}", secret.text);
    let id = uuid::Uuid::new_v4().simple().to_string();
    conn.execute(
        "INSERT INTO api_tokens (id, tenant_id, name, role, token_hash, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id, tenant_id, name, role.as_str(), secret::hash(&text), created_by, now(), expires_at],
    )?;
    let token = find(conn, tenant_id, &id)?.ok_or(TokenError::NotFound)?;
    Ok((token, text))
}

/// The token `id` of the tenant, if any.
pub fn find(conn: &Connection, tenant_id: &str, id: &str) -> Result<Option<ApiToken>, TokenError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = ?1 AND id = ?2"),
            params![tenant_id, id],
            row_to_token,
        )
        .optional()?)
}

/// The tenant's tokens, newest first.
pub fn list(conn: &Connection, tenant_id: &str) -> Result<Vec<ApiToken>, TokenError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = ?1 ORDER BY created_at DESC, id"
    ))?;
    let all = stmt
        .query_map([tenant_id], row_to_token)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(all)
}

/// The current role of the token's maker, while they are an active user of its tenant.
pub fn maker_role(conn: &Connection, token: &ApiToken) -> Result<Option<Role>, TokenError> {
    let Some(maker) = &token.created_by else {
        return Ok(None);
    };
    let role: Option<String> = conn
        .query_row(
            "SELECT u.role FROM users u JOIN api_tokens t ON t.created_by = u.id
             WHERE t.id = ?1 AND u.id = ?2 AND u.tenant_id = t.tenant_id AND u.status = 'active'",
            params![token.id, maker],
            |r| r.get(0),
        )
        .optional()?;
    Ok(role.and_then(|r| r.parse().ok()))
}

/// Revokes a token of the tenant; it stops working at once.
pub fn revoke(conn: &Connection, tenant_id: &str, id: &str) -> Result<ApiToken, TokenError> {
    let changed = conn.execute(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?1) WHERE tenant_id = ?2 AND id = ?3",
        params![now(), tenant_id, id],
    )?;
    if changed == 0 {
        return Err(TokenError::NotFound);
    }
    find(conn, tenant_id, id)?.ok_or(TokenError::NotFound)
}

/// Does `presented` look like a token we made? Junk is refused before any lookup.
pub fn well_formed(presented: &str) -> bool {
    presented
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(secret::well_formed)
}

/// Who a presented token speaks for, if it is live. A token never has more authority than
/// its maker has now: its role is the lower of its own and its maker's current role, and it
/// does nothing while its maker is not an active user of the token's tenant (deactivated,
/// demoted out of the tenant, or gone).
pub fn authenticate(
    conn: &Connection,
    presented: &str,
) -> Result<Option<TokenHolder>, StorageError> {
    if !well_formed(presented) {
        return Ok(None);
    }
    let at = now();
    let found = conn
        .query_row(
            "SELECT t.id, t.tenant_id, t.role, u.role, t.last_used_at, t.expires_at
             FROM api_tokens t
             JOIN users u ON u.id = t.created_by AND u.tenant_id = t.tenant_id AND u.status = 'active'
             WHERE t.token_hash = ?1 AND t.revoked_at IS NULL
               AND (t.expires_at IS NULL OR t.expires_at > ?2)",
            params![secret::hash(presented), at],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((id, tenant_id, own_role, maker_role, last_used, expires_at)) = found else {
        return Ok(None);
    };
    let last_used_at = match last_used {
        Some(t) if at - t < TOUCH_AFTER_SECS => t,
        _ => {
            conn.execute(
                "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
                params![at, id],
            )?;
            at
        }
    };
    let parse = |text: &str| text.parse().unwrap_or(Role::Viewer);
    Ok(Some(TokenHolder {
        id,
        tenant_id,
        role: parse(&own_role).lower(parse(&maker_role)),
        expires_at,
        last_used_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_read_before_is_fresh_until_it_expires_or_its_use_is_due_to_be_recorded() {
        let holder = |expires_at| TokenHolder {
            id: "t".into(),
            tenant_id: "acme".into(),
            role: Role::Member,
            expires_at,
            last_used_at: 1000,
        };
        assert!(holder(None).fresh_at(1059));
        assert!(!holder(None).fresh_at(1060), "use due to be recorded");
        assert!(holder(Some(1030)).fresh_at(1029));
        assert!(!holder(Some(1030)).fresh_at(1030), "expired");
    }

    #[test]
    fn only_tokens_of_our_shape_are_well_formed() {
        let text = format!("{TOKEN_PREFIX}{}", Secret::generate().text);
        assert!(well_formed(&text));
        assert!(!well_formed(&text[TOKEN_PREFIX.len()..]), "no prefix");
        assert!(!well_formed(&format!("{text}x")));
        assert!(!well_formed("hft_"));
    }
}
