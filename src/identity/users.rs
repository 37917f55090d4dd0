//! The users of every tenant, kept in the control database so that seats are counted across
//! the appliance under one write lock. Every path that adds a seat — creating or inviting a
//! user, accepting an invitation, reactivating — goes through [`claim_seat`] inside a
//! `BEGIN IMMEDIATE` transaction, so concurrent additions from any number of processes can
//! never pass the cap.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::password::{self, NewPassword};
use super::secret::{self, Secret};
use super::{Email, Role};
use crate::license::{Effective, Refusal};
use crate::storage::StorageError;
use crate::tenancy::Tenant;

/// How long an invitation link stays valid.
pub const INVITE_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// How long a password reset link stays valid.
pub const RESET_LIFETIME_SECS: i64 = 24 * 3600;

/// Where a user stands. An invited user holds a seat already, so an invitation once sent
/// can always be accepted; deactivating a user (or a pending invitation) frees the seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Invited,
    Active,
    Deactivated,
}

impl UserStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "active" => UserStatus::Active,
            "invited" => UserStatus::Invited,
            _ => UserStatus::Deactivated,
        }
    }
}

/// A user as the API and the CLI show it (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub email: String,
    pub role: Role,
    pub status: UserStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkPurpose {
    Invite,
    Reset,
}

impl LinkPurpose {
    const fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invite => "invite",
            LinkPurpose::Reset => "reset",
        }
    }
}

/// A one-time link's secret, shown once to whoever hands it to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeLink {
    pub token: String,
    pub purpose: LinkPurpose,
    pub expires_at: i64,
}

impl OneTimeLink {
    /// The page where the user sets their password. The token travels in the fragment,
    /// which browsers never send to a server, so it stays out of access logs and proxies.
    pub fn url(&self, base_url: &str, tenant_slug: &str) -> String {
        let page = match self.purpose {
            LinkPurpose::Invite => "accept-invite",
            LinkPurpose::Reset => "reset-password",
        };
        format!("{base_url}/t/{tenant_slug}/{page}#token={}", self.token)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0} is already a user of this tenant")]
    EmailTaken(String),
    #[error("no user {0} in this tenant")]
    NotFound(String),
    #[error("all {cap} seats this tenant may use are taken")]
    TenantSeatsFull { cap: u32 },
    #[error("the tenant must keep at least one active owner")]
    LastOwner,
    #[error("user {0} is deactivated; reactivate them first")]
    Deactivated(String),
    #[error("this link is unknown, used or expired; ask an administrator for a new one")]
    LinkInvalid,
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<rusqlite::Error> for UserError {
    fn from(err: rusqlite::Error) -> Self {
        UserError::Storage(err.into())
    }
}

impl UserError {
    /// The stable error code, as in the API's error table.
    pub fn code(&self) -> &'static str {
        match self {
            UserError::EmailTaken(_) => "user_exists",
            UserError::NotFound(_) => "user_not_found",
            UserError::TenantSeatsFull { .. } => "seat_limit_reached",
            UserError::LastOwner => "last_owner",
            UserError::Deactivated(_) => "user_deactivated",
            UserError::LinkInvalid => "link_invalid",
            UserError::Password(err) => err.code(),
            UserError::Refused(refusal) => refusal.code(),
            UserError::Storage(_) => "internal",
        }
    }
}

const COLUMNS: &str = "id, tenant_id, email, role, status, created_at, updated_at";

fn row_to_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(3)?;
    let status: String = r.get(4)?;
    Ok(User {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        email: r.get(2)?,
        role: role.parse().unwrap_or(Role::Viewer),
        status: UserStatus::parse(&status),
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Seats in use across the appliance: active and invited users of every tenant.
pub fn seats_in_use(conn: &Connection) -> Result<u32, StorageError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE status IN ('invited', 'active')",
        [],
        |r| r.get(0),
    )?)
}

/// Seats taken across the appliance and in tenant `tenant_id`, leaving out `holder`.
fn seat_counts(
    conn: &Connection,
    tenant_id: &str,
    holder: Option<&str>,
) -> Result<(u32, u32), UserError> {
    Ok(conn.query_row(
        "SELECT count(*), count(*) FILTER (WHERE tenant_id = ?1) FROM users
         WHERE status IN ('invited', 'active') AND id <> ?2",
        params![tenant_id, holder.unwrap_or("")],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Seats as a tenant's admins see them: taken and allowed across the appliance (the
/// license's cap) and in their tenant (its own limit, if it has one), counted as the seat
/// check counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Seats {
    pub appliance_used: u32,
    pub appliance_cap: u32,
    pub tenant_used: u32,
    pub tenant_cap: Option<u32>,
}

/// The seats of `tenant` under `license`.
pub fn seats(conn: &Connection, license: &Effective, tenant: &Tenant) -> Result<Seats, UserError> {
    let (appliance_used, tenant_used) = seat_counts(conn, &tenant.id, None)?;
    Ok(Seats {
        appliance_used,
        appliance_cap: license.max_seats,
        tenant_used,
        tenant_cap: tenant.seat_limit,
    })
}

/// The one seat check. Call it inside a `BEGIN IMMEDIATE` transaction, before the write
/// that takes the seat. `holder` is a user who already holds the seat being turned into an
/// active one (an invitation being accepted): they are not counted twice, but the check
/// still runs, so an appliance over its cap refuses them too.
fn claim_seat(
    conn: &Connection,
    license: &Effective,
    tenant: &Tenant,
    holder: Option<&str>,
) -> Result<(), UserError> {
    let (appliance, in_tenant) = seat_counts(conn, &tenant.id, holder)?;
    license.may_add_seat(crate::license::Usage {
        seats: appliance,
        tenants: 0,
    })?;
    if let Some(cap) = tenant.seat_limit
        && in_tenant >= cap
    {
        return Err(UserError::TenantSeatsFull { cap });
    }
    Ok(())
}

fn issue_link(
    conn: &Connection,
    user_id: &str,
    purpose: LinkPurpose,
) -> Result<OneTimeLink, UserError> {
    let lifetime = match purpose {
        LinkPurpose::Invite => INVITE_LIFETIME_SECS,
        LinkPurpose::Reset => RESET_LIFETIME_SECS,
    };
    // A new link replaces any unused one: only the latest link works.
    conn.execute(
        "DELETE FROM user_tokens WHERE user_id = ?1 AND used_at IS NULL",
        [user_id],
    )?;
    let secret = Secret::generate();
    let expires_at = now() + lifetime;
    conn.execute(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![secret.hash, user_id, purpose.as_str(), expires_at],
    )?;
    Ok(OneTimeLink {
        token: secret.text,
        purpose,
        expires_at,
    })
}

/// A new user: active with a password, or invited (with a one-time link) without one.
#[derive(Debug)]
pub struct Created {
    pub user: User,
    pub invite: Option<OneTimeLink>,
}

/// Adds a user to `tenant`, if a seat is free.
pub fn create(
    conn: &mut Connection,
    license: &Effective,
    tenant: &Tenant,
    email: &Email,
    role: Role,
    password: Option<&NewPassword>,
) -> Result<Created, UserError> {
    // Hash before taking the write lock: Argon2 is slow on purpose.
    let password_hash = password.map(password::hash).transpose()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if find(&tx, &tenant.id, email)?.is_some() {
        return Err(UserError::EmailTaken(email.to_string()));
    }
    claim_seat(&tx, license, tenant, None)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let status = if password_hash.is_some() {
        UserStatus::Active
    } else {
        UserStatus::Invited
    };
    let at = now();
    tx.execute(
        "INSERT INTO users (id, tenant_id, email, role, password_hash, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![id, tenant.id, email.as_str(), role.as_str(), password_hash, status.as_str(), at],
    )?;
    let invite = match status {
        UserStatus::Invited => Some(issue_link(&tx, &id, LinkPurpose::Invite)?),
        _ => None,
    };
    let user =
        find(&tx, &tenant.id, email)?.ok_or_else(|| UserError::NotFound(email.to_string()))?;
    tx.commit()?;
    Ok(Created { user, invite })
}

/// The user with `email` in the tenant, whatever their status.
pub fn find(conn: &Connection, tenant_id: &str, email: &Email) -> Result<Option<User>, UserError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 AND email = ?2"),
            params![tenant_id, email.as_str()],
            row_to_user,
        )
        .optional()?)
}

/// The user with `id` in the tenant. A user of another tenant is not found: ids never reach
/// across tenants.
pub fn find_by_id(conn: &Connection, tenant_id: &str, id: &str) -> Result<Option<User>, UserError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2"),
            params![tenant_id, id],
            row_to_user,
        )
        .optional()?)
}

/// The tenant's users, by e-mail address.
pub fn list(conn: &Connection, tenant_id: &str) -> Result<Vec<User>, UserError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM users WHERE tenant_id = ?1 ORDER BY email"
    ))?;
    let users = stmt
        .query_map([tenant_id], row_to_user)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(users)
}

fn set_status(conn: &Connection, id: &str, status: UserStatus) -> Result<(), UserError> {
    conn.execute(
        "UPDATE users SET status = ?1, updated_at = ?2 WHERE id = ?3",
        params![status.as_str(), now(), id],
    )?;
    Ok(())
}

fn active_owners(conn: &Connection, tenant_id: &str) -> Result<u32, UserError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE tenant_id = ?1 AND role = 'owner' AND status = 'active'",
        [tenant_id],
        |r| r.get(0),
    )?)
}

fn existing(conn: &Connection, tenant: &Tenant, email: &Email) -> Result<User, UserError> {
    find(conn, &tenant.id, email)?.ok_or_else(|| UserError::NotFound(email.to_string()))
}

/// Deactivates a user: their seat is freed, their links stop working, their data stays.
/// The tenant's last active owner cannot be deactivated.
pub fn deactivate(
    conn: &mut Connection,
    tenant: &Tenant,
    email: &Email,
) -> Result<User, UserError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let user = existing(&tx, tenant, email)?;
    if user.status == UserStatus::Deactivated {
        return Ok(user);
    }
    if user.role == Role::Owner
        && user.status == UserStatus::Active
        && active_owners(&tx, &tenant.id)? <= 1
    {
        return Err(UserError::LastOwner);
    }
    set_status(&tx, &user.id, UserStatus::Deactivated)?;
    // Their links stop working and their browsers are signed out at once.
    tx.execute(
        "DELETE FROM user_tokens WHERE user_id = ?1 AND used_at IS NULL",
        [&user.id],
    )?;
    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [&user.id])?;
    let user = existing(&tx, tenant, email)?;
    tx.commit()?;
    Ok(user)
}

/// Changes a user's role. The tenant keeps at least one active owner.
pub fn set_role(
    conn: &mut Connection,
    tenant: &Tenant,
    email: &Email,
    role: Role,
) -> Result<User, UserError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let user = existing(&tx, tenant, email)?;
    if user.role == Role::Owner
        && role != Role::Owner
        && user.status == UserStatus::Active
        && active_owners(&tx, &tenant.id)? <= 1
    {
        return Err(UserError::LastOwner);
    }
    tx.execute(
        "UPDATE users SET role = ?1, updated_at = ?2 WHERE id = ?3",
        params![role.as_str(), now(), user.id],
    )?;
    let user = existing(&tx, tenant, email)?;
    tx.commit()?;
    Ok(user)
}

/// Gives a deactivated user their seat back, if one is free. A user who never set a
/// password returns as invited.
pub fn reactivate(
    conn: &mut Connection,
    license: &Effective,
    tenant: &Tenant,
    email: &Email,
) -> Result<User, UserError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let user = existing(&tx, tenant, email)?;
    if user.status != UserStatus::Deactivated {
        return Ok(user);
    }
    claim_seat(&tx, license, tenant, None)?;
    let has_password: bool = tx.query_row(
        "SELECT password_hash IS NOT NULL FROM users WHERE id = ?1",
        [&user.id],
        |r| r.get(0),
    )?;
    let status = if has_password {
        UserStatus::Active
    } else {
        UserStatus::Invited
    };
    set_status(&tx, &user.id, status)?;
    let user = existing(&tx, tenant, email)?;
    tx.commit()?;
    Ok(user)
}

/// A one-time link for the user to set a password: a reset link, or a fresh invitation for
/// a user who has not accepted theirs yet.
pub fn password_link(
    conn: &mut Connection,
    tenant: &Tenant,
    email: &Email,
) -> Result<(User, OneTimeLink), UserError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let user = existing(&tx, tenant, email)?;
    let purpose = match user.status {
        UserStatus::Deactivated => return Err(UserError::Deactivated(user.email)),
        UserStatus::Invited => LinkPurpose::Invite,
        UserStatus::Active => LinkPurpose::Reset,
    };
    let link = issue_link(&tx, &user.id, purpose)?;
    tx.commit()?;
    Ok((user, link))
}

/// The user a live one-time link of `tenant` for `purpose` belongs to: unused, unexpired,
/// of a user who is not deactivated. A link of another tenant, or for the other purpose, is
/// unknown here.
fn link_holder(
    conn: &Connection,
    tenant: &Tenant,
    purpose: LinkPurpose,
    token: &str,
) -> Result<Option<String>, UserError> {
    if !secret::well_formed(token) {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            "SELECT t.user_id FROM user_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = ?1 AND t.purpose = ?2 AND t.used_at IS NULL
               AND t.expires_at > ?3 AND u.tenant_id = ?4 AND u.status <> 'deactivated'",
            params![secret::hash(token), purpose.as_str(), now(), tenant.id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Redeems a one-time link of `tenant` for `purpose`: sets the password, ends every session
/// the user had (whoever held the old password is signed out) and, for an invitation, makes
/// the user active (through the seat check). An unknown, used or expired link is refused
/// before any password is hashed, so junk tokens cost no Argon2 work.
pub fn redeem_link(
    conn: &mut Connection,
    license: &Effective,
    tenant: &Tenant,
    purpose: LinkPurpose,
    token: &str,
    new_password: &str,
) -> Result<User, UserError> {
    let holder = link_holder(conn, tenant, purpose, token)?.ok_or(UserError::LinkInvalid)?;
    // The policy judges a password against its account's address.
    let email = find_by_id(conn, &tenant.id, &holder)?
        .ok_or(UserError::LinkInvalid)?
        .email;
    let password_hash = password::hash(&NewPassword::new(new_password, &email)?)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Checked again under the write lock: two redemptions at once set one password.
    if link_holder(&tx, tenant, purpose, token)?.as_deref() != Some(holder.as_str()) {
        return Err(UserError::LinkInvalid);
    }
    let user = find_by_id(&tx, &tenant.id, &holder)?.ok_or(UserError::LinkInvalid)?;
    if user.status == UserStatus::Invited {
        claim_seat(&tx, license, tenant, Some(&user.id))?;
    }
    let at = now();
    tx.execute(
        "UPDATE users SET password_hash = ?1, status = 'active', updated_at = ?2 WHERE id = ?3",
        params![password_hash, at, user.id],
    )?;
    tx.execute(
        "UPDATE user_tokens SET used_at = ?1 WHERE token_hash = ?2",
        params![at, secret::hash(token)],
    )?;
    tx.execute(
        "DELETE FROM user_tokens WHERE user_id = ?1 AND used_at IS NULL",
        [&user.id],
    )?;
    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [&user.id])?;
    let user = find_by_id(&tx, &tenant.id, &user.id)?.ok_or(UserError::LinkInvalid)?;
    tx.commit()?;
    Ok(user)
}

/// A signed-in user sets a new password (the old one was checked by the caller); every
/// other session of theirs ends, and unused reset links stop working.
pub fn change_password(
    conn: &mut Connection,
    tenant: &Tenant,
    user_id: &str,
    new_password: &str,
    keep_session: &str,
) -> Result<User, UserError> {
    let active = |conn: &Connection| -> Result<User, UserError> {
        find_by_id(conn, &tenant.id, user_id)?
            .filter(|u| u.status == UserStatus::Active)
            .ok_or_else(|| UserError::NotFound(user_id.to_owned()))
    };
    let email = active(conn)?.email;
    let password_hash = password::hash(&NewPassword::new(new_password, &email)?)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let user = active(&tx)?;
    tx.execute(
        "UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3",
        params![password_hash, now(), user.id],
    )?;
    tx.execute(
        "DELETE FROM user_tokens WHERE user_id = ?1 AND used_at IS NULL",
        [&user.id],
    )?;
    let principal = super::sessions::Principal::User {
        id: user.id.clone(),
        tenant_id: tenant.id.clone(),
    };
    super::sessions::end_others(&tx, &principal, keep_session)?;
    tx.commit()?;
    Ok(user)
}

/// The stored password hash of an active user, for sign-in.
pub fn password_hash_of(conn: &Connection, user_id: &str) -> Result<Option<String>, UserError> {
    Ok(conn
        .query_row(
            "SELECT password_hash FROM users WHERE id = ?1 AND status = 'active'",
            [user_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::license::{Effective, evaluate};
    use crate::storage::{Schema, migrate_connection};
    use crate::tenancy::registry;

    fn control_db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_connection(&mut conn, Schema::Control, Path::new(":memory:")).unwrap();
        conn
    }

    fn tenant(conn: &Connection, slug: &str, seat_limit: Option<u32>) -> Tenant {
        let id = crate::tenancy::TenantId::generate();
        conn.execute(
            "INSERT INTO tenants (id, slug, name, seat_limit, created_at, updated_at) VALUES (?1, ?2, ?2, ?3, 0, 0)",
            params![id.as_str(), slug, seat_limit],
        )
        .unwrap();
        registry::find(conn, &slug.parse().unwrap())
            .unwrap()
            .unwrap()
    }

    /// No license: community limits, five seats.
    fn community() -> Effective {
        evaluate(None, None, OffsetDateTime::now_utc())
    }

    fn email(text: &str) -> Email {
        text.parse().unwrap()
    }

    #[test]
    fn an_invitation_holds_a_seat_and_its_link_works_once_in_its_own_tenant() {
        let mut conn = control_db();
        let acme = tenant(&conn, "acme", None);
        let beta = tenant(&conn, "beta", None);
        let created = create(
            &mut conn,
            &community(),
            &acme,
            &email("ada@acme.test"),
            Role::Admin,
            None,
        )
        .unwrap();
        assert_eq!(created.user.status, UserStatus::Invited);
        assert_eq!(seats_in_use(&conn).unwrap(), 1);
        let token = created.invite.unwrap().token;

        let elsewhere = redeem_link(
            &mut conn,
            &community(),
            &beta,
            LinkPurpose::Invite,
            &token,
            "a long password",
        );
        assert!(
            matches!(elsewhere, Err(UserError::LinkInvalid)),
            "another tenant's link"
        );
        let weak = redeem_link(
            &mut conn,
            &community(),
            &acme,
            LinkPurpose::Invite,
            &token,
            "short",
        );
        assert!(matches!(weak, Err(UserError::Password(_))));

        let user = redeem_link(
            &mut conn,
            &community(),
            &acme,
            LinkPurpose::Invite,
            &token,
            "a long password",
        )
        .unwrap();
        assert_eq!(user.status, UserStatus::Active);
        let hash = password_hash_of(&conn, &user.id).unwrap().unwrap();
        assert!(password::verify("a long password", &hash));
        let again = redeem_link(
            &mut conn,
            &community(),
            &acme,
            LinkPurpose::Invite,
            &token,
            "another password",
        );
        assert!(
            matches!(again, Err(UserError::LinkInvalid)),
            "used once only"
        );
        assert_eq!(
            seats_in_use(&conn).unwrap(),
            1,
            "accepting takes no second seat"
        );
    }

    #[test]
    fn expired_or_replaced_links_are_refused() {
        let mut conn = control_db();
        let acme = tenant(&conn, "acme", None);
        let ada = email("ada@acme.test");
        create(
            &mut conn,
            &community(),
            &acme,
            &ada,
            Role::Member,
            Some(&NewPassword::new("a long password", "x@acme.test").unwrap()),
        )
        .unwrap();
        let (_, first) = password_link(&mut conn, &acme, &ada).unwrap();
        assert_eq!(first.purpose, LinkPurpose::Reset);
        let (_, second) = password_link(&mut conn, &acme, &ada).unwrap();
        let replaced = redeem_link(
            &mut conn,
            &community(),
            &acme,
            LinkPurpose::Reset,
            &first.token,
            "new password 1",
        );
        assert!(
            matches!(replaced, Err(UserError::LinkInvalid)),
            "only the latest link works"
        );
        conn.execute("UPDATE user_tokens SET expires_at = 0", [])
            .unwrap();
        let wrong_route = redeem_link(
            &mut conn,
            &community(),
            &acme,
            LinkPurpose::Invite,
            &second.token,
            "new password 1",
        );
        assert!(
            matches!(wrong_route, Err(UserError::LinkInvalid)),
            "a reset link is no invitation"
        );
        let expired = redeem_link(
            &mut conn,
            &community(),
            &acme,
            LinkPurpose::Reset,
            &second.token,
            "new password 1",
        );
        assert!(matches!(expired, Err(UserError::LinkInvalid)));
        let junk = redeem_link(
            &mut conn,
            &community(),
            &acme,
            LinkPurpose::Reset,
            "not a token",
            "new password 1",
        );
        assert!(matches!(junk, Err(UserError::LinkInvalid)));
    }

    #[test]
    fn a_tenant_seat_limit_caps_that_tenant_only() {
        let mut conn = control_db();
        let small = tenant(&conn, "small", Some(1));
        let other = tenant(&conn, "other", None);
        let lic = community();
        create(
            &mut conn,
            &lic,
            &small,
            &email("a@small.test"),
            Role::Owner,
            None,
        )
        .unwrap();
        let full = create(
            &mut conn,
            &lic,
            &small,
            &email("b@small.test"),
            Role::Member,
            None,
        );
        assert!(matches!(full, Err(UserError::TenantSeatsFull { cap: 1 })));
        let counted = seats(&conn, &lic, &small).unwrap();
        assert_eq!((counted.tenant_used, counted.tenant_cap), (1, Some(1)));
        assert_eq!(counted.appliance_cap, lic.max_seats);
        assert_eq!(full.unwrap_err().code(), "seat_limit_reached");
        create(
            &mut conn,
            &lic,
            &other,
            &email("b@small.test"),
            Role::Member,
            None,
        )
        .unwrap();
        assert_eq!(list(&conn, &small.id).unwrap().len(), 1);
    }

    #[test]
    fn deactivating_frees_the_seat_but_never_the_last_owner() {
        let mut conn = control_db();
        let acme = tenant(&conn, "acme", None);
        let lic = community();
        let (owner, member) = (email("o@acme.test"), email("m@acme.test"));
        create(
            &mut conn,
            &lic,
            &acme,
            &owner,
            Role::Owner,
            Some(&NewPassword::new("a long password", "x@acme.test").unwrap()),
        )
        .unwrap();
        create(&mut conn, &lic, &acme, &member, Role::Member, None).unwrap();
        assert!(matches!(
            deactivate(&mut conn, &acme, &owner),
            Err(UserError::LastOwner)
        ));
        let gone = deactivate(&mut conn, &acme, &member).unwrap();
        assert_eq!(gone.status, UserStatus::Deactivated);
        assert_eq!(seats_in_use(&conn).unwrap(), 1);
        assert!(matches!(
            password_link(&mut conn, &acme, &member),
            Err(UserError::Deactivated(_))
        ));
        let back = reactivate(&mut conn, &lic, &acme, &member).unwrap();
        assert_eq!(back.status, UserStatus::Invited, "never set a password");
    }
}
