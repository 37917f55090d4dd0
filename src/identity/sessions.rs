//! Browser sessions of operators and users. The cookie holds a random 256-bit id; the
//! database holds its hash, so a stolen database copy opens no session. A session ends after
//! an idle period or at an absolute lifetime, whichever comes first, and signing in always
//! makes a new one (no fixation).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::secret::{self, Secret};
use crate::storage::StorageError;

/// Who a session (or, later, a token) speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Operator { id: String },
    User { id: String, tenant_id: String },
}

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ends a session nobody has used for this long (seconds).
    pub idle_secs: i64,
    /// Ends any session this long after sign-in (seconds).
    pub lifetime_secs: i64,
}

/// A session just started: the cookie value and the CSRF token, each shown once.
#[derive(Debug, Clone)]
pub struct Started {
    pub cookie: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: i64,
    /// When it was last used, as stored now (after this resumption's touch, if any).
    pub last_seen_at: i64,
}

/// `last_seen_at` is only written when it is this stale, so reads do not all become writes.
const TOUCH_AFTER_SECS: i64 = 60;

/// What a session's times say at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Idle too long or past its lifetime: it has ended.
    Expired,
    /// Live, and `last_seen_at` is due to be written.
    Stale,
    /// Live, and `last_seen_at` is recent enough.
    Fresh,
}

impl Session {
    /// Where this session stands at `at` (unix seconds) under `policy`.
    pub fn freshness(&self, at: i64, policy: SessionPolicy) -> Freshness {
        freshness(at, self.last_seen_at, self.expires_at, policy)
    }
}

fn freshness(at: i64, last_seen: i64, expires_at: i64, policy: SessionPolicy) -> Freshness {
    if at >= expires_at || at >= last_seen + policy.idle_secs {
        Freshness::Expired
    } else if at - last_seen >= TOUCH_AFTER_SECS {
        Freshness::Stale
    } else {
        Freshness::Fresh
    }
}

/// The time sessions are judged by: unix seconds now.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Where a session was started from: the client's address and its browser's user agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    pub address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// The longest user agent kept: enough to tell browsers apart, not a way to fill the disk.
const MAX_USER_AGENT: usize = 300;

/// Starts a session for `principal`.
pub fn start(
    conn: &Connection,
    principal: &Principal,
    origin: Origin<'_>,
    policy: SessionPolicy,
) -> Result<Started, StorageError> {
    let id = Secret::generate();
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let user_agent = origin
        .user_agent
        .map(|ua| ua.chars().take(MAX_USER_AGENT).collect::<String>());
    let csrf = Secret::generate().text;
    let at = now();
    let expires_at = at + policy.lifetime_secs;
    let (operator_id, user_id) = match principal {
        Principal::Operator { id } => (Some(id.as_str()), None),
        Principal::User { id, .. } => (None, Some(id.as_str())),
    };
    conn.execute(
        "INSERT INTO sessions (id_hash, public_id, operator_id, user_id, csrf_token, address, user_agent, created_at, last_seen_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
        params![
            id.hash,
            public_id,
            operator_id,
            user_id,
            csrf,
            origin.address,
            user_agent,
            at,
            expires_at
        ],
    )?;
    Ok(Started {
        cookie: id.text,
        csrf_token: csrf,
        expires_at,
    })
}

/// The live session behind a cookie value, if any. Expired sessions are removed on sight.
/// Only active operators and active users have sessions that resume.
pub fn resume(
    conn: &Connection,
    cookie: &str,
    policy: SessionPolicy,
) -> Result<Option<Session>, StorageError> {
    if !secret::well_formed(cookie) {
        return Ok(None);
    }
    let id_hash = secret::hash(cookie);
    let row = conn
        .query_row(
            "SELECT s.operator_id, s.user_id, u.tenant_id, s.csrf_token, s.last_seen_at, s.expires_at
             FROM sessions s
             LEFT JOIN operators o ON o.id = s.operator_id AND o.status = 'active'
             LEFT JOIN users u ON u.id = s.user_id AND u.status = 'active'
             WHERE s.id_hash = ?1 AND (o.id IS NOT NULL OR u.id IS NOT NULL)",
            [&id_hash],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((operator_id, user_id, tenant_id, csrf_token, last_seen, expires_at)) = row else {
        return Ok(None);
    };
    let at = now();
    let last_seen_at = match freshness(at, last_seen, expires_at, policy) {
        Freshness::Expired => {
            conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [&id_hash])?;
            return Ok(None);
        }
        Freshness::Stale => {
            conn.execute(
                "UPDATE sessions SET last_seen_at = ?1 WHERE id_hash = ?2",
                params![at, id_hash],
            )?;
            at
        }
        Freshness::Fresh => last_seen,
    };
    let principal = match (operator_id, user_id, tenant_id) {
        (Some(id), _, _) => Principal::Operator { id },
        (None, Some(id), Some(tenant_id)) => Principal::User { id, tenant_id },
        _ => return Ok(None),
    };
    Ok(Some(Session {
        principal,
        csrf_token,
        expires_at,
        last_seen_at,
    }))
}

/// Ends the session behind a cookie value (sign-out). Unknown values are fine.
pub fn end(conn: &Connection, cookie: &str) -> Result<(), StorageError> {
    conn.execute(
        "DELETE FROM sessions WHERE id_hash = ?1",
        [secret::hash(cookie)],
    )?;
    Ok(())
}

/// Ends every session of `principal` but the one behind the cookie value `keep`: a password
/// change signs out every other browser.
pub fn end_others(
    conn: &Connection,
    principal: &Principal,
    keep: &str,
) -> Result<(), StorageError> {
    let keep = secret::hash(keep);
    match principal {
        Principal::Operator { id } => conn.execute(
            "DELETE FROM sessions WHERE operator_id = ?1 AND id_hash <> ?2",
            params![id, keep],
        )?,
        Principal::User { id, .. } => conn.execute(
            "DELETE FROM sessions WHERE user_id = ?1 AND id_hash <> ?2",
            params![id, keep],
        )?,
    };
    Ok(())
}

/// A user's session as they see it in their own list: never its secret or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    /// The public id, to end it by.
    pub id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// Is this the session the list was asked from?
    pub current: bool,
}

/// The live sessions of user `user_id`, most recently used first; `current` is the cookie
/// value of the session asking, marked in the list. Sessions past their idle time or
/// lifetime are left out (they end on sight when presented).
pub fn list_of_user(
    conn: &Connection,
    user_id: &str,
    current: &str,
    policy: SessionPolicy,
) -> Result<Vec<SessionInfo>, StorageError> {
    let current = secret::hash(current);
    let at = now();
    let mut stmt = conn.prepare(
        "SELECT public_id, created_at, last_seen_at, expires_at, address, user_agent, id_hash = ?2
         FROM sessions WHERE user_id = ?1 AND public_id IS NOT NULL
         ORDER BY last_seen_at DESC, created_at DESC",
    )?;
    let all = stmt
        .query_map(params![user_id, current], |r| {
            Ok(SessionInfo {
                id: r.get(0)?,
                created_at: r.get(1)?,
                last_seen_at: r.get(2)?,
                expires_at: r.get(3)?,
                address: r.get(4)?,
                user_agent: r.get(5)?,
                current: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(all
        .into_iter()
        .filter(|s| freshness(at, s.last_seen_at, s.expires_at, policy) != Freshness::Expired)
        .collect())
}

/// Ends the session `public_id` of user `user_id`: `false` when they have no such session
/// (another user's id is as unknown as a made-up one).
pub fn end_of_user(
    conn: &Connection,
    user_id: &str,
    public_id: &str,
) -> Result<bool, StorageError> {
    let ended = conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND public_id = ?2",
        params![user_id, public_id],
    )?;
    Ok(ended > 0)
}

/// When each user of `tenant_id` last signed in, as far as their live sessions tell (a
/// session that ended takes its sign-in with it): user id to unix seconds.
pub fn last_sign_ins(
    conn: &Connection,
    tenant_id: &str,
) -> Result<std::collections::HashMap<String, i64>, StorageError> {
    let mut stmt = conn.prepare(
        "SELECT s.user_id, max(s.created_at) FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE u.tenant_id = ?1 GROUP BY s.user_id",
    )?;
    let all = stmt
        .query_map([tenant_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(all)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::identity::{Email, operators};
    use crate::storage::{Schema, migrate_connection};

    const POLICY: SessionPolicy = SessionPolicy {
        idle_secs: 600,
        lifetime_secs: 3600,
    };

    fn with_operator() -> (Connection, String) {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_connection(&mut conn, Schema::Control, Path::new(":memory:")).unwrap();
        let email: Email = "op@example.com".parse().unwrap();
        let op = operators::insert(&conn, &email, "$argon2id$placeholder").unwrap();
        (conn, op.id)
    }

    #[test]
    fn freshness_follows_idle_time_lifetime_and_the_touch_interval() {
        let session = |last_seen_at, expires_at| Session {
            principal: Principal::Operator { id: "op".into() },
            csrf_token: String::new(),
            expires_at,
            last_seen_at,
        };
        let live = session(1000, 5000);
        assert_eq!(live.freshness(1059, POLICY), Freshness::Fresh);
        assert_eq!(live.freshness(1060, POLICY), Freshness::Stale);
        assert_eq!(live.freshness(1599, POLICY), Freshness::Stale);
        assert_eq!(live.freshness(1600, POLICY), Freshness::Expired, "idle");
        let ending = session(1000, 1030);
        assert_eq!(ending.freshness(1029, POLICY), Freshness::Fresh);
        assert_eq!(
            ending.freshness(1030, POLICY),
            Freshness::Expired,
            "lifetime"
        );
    }

    #[test]
    fn a_session_resumes_until_idle_or_lifetime_runs_out_and_is_stored_hashed() {
        let (conn, id) = with_operator();
        let principal = Principal::Operator { id };
        let started = start(
            &conn,
            &principal,
            Origin {
                address: Some("127.0.0.1"),
                user_agent: None,
            },
            POLICY,
        )
        .unwrap();
        let stored: String = conn
            .query_row("SELECT id_hash FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, started.cookie);
        let live = resume(&conn, &started.cookie, POLICY).unwrap().unwrap();
        assert_eq!(live.principal, principal);
        assert_eq!(live.csrf_token, started.csrf_token);
        assert_eq!(live.freshness(now(), POLICY), Freshness::Fresh);
        assert!(resume(&conn, "forged", POLICY).unwrap().is_none());
        assert!(
            resume(&conn, &Secret::generate().text, POLICY)
                .unwrap()
                .is_none()
        );

        conn.execute("UPDATE sessions SET last_seen_at = last_seen_at - 601", [])
            .unwrap();
        assert!(
            resume(&conn, &started.cookie, POLICY).unwrap().is_none(),
            "idle"
        );
        let count: u32 = conn
            .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 0, "an expired session is removed");

        let again = start(&conn, &principal, Origin::default(), POLICY).unwrap();
        conn.execute("UPDATE sessions SET expires_at = 0", [])
            .unwrap();
        assert!(
            resume(&conn, &again.cookie, POLICY).unwrap().is_none(),
            "lifetime"
        );

        let third = start(&conn, &principal, Origin::default(), POLICY).unwrap();
        end(&conn, &third.cookie).unwrap();
        assert!(
            resume(&conn, &third.cookie, POLICY).unwrap().is_none(),
            "signed out"
        );
    }

    /// Two users of one tenant, each with an active account.
    fn with_two_users() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_connection(&mut conn, Schema::Control, Path::new(":memory:")).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ('t', 'acme', 'Acme', 0, 0);
             INSERT INTO users (id, tenant_id, email, role, status, created_at, updated_at)
             VALUES ('ada', 't', 'ada@acme.test', 'admin', 'active', 0, 0),
                    ('bob', 't', 'bob@acme.test', 'member', 'active', 0, 0);",
        )
        .unwrap();
        conn
    }

    fn user(id: &str) -> Principal {
        Principal::User {
            id: id.into(),
            tenant_id: "t".into(),
        }
    }

    #[test]
    fn a_user_lists_their_own_live_sessions_by_public_id_with_the_current_one_marked() {
        let conn = with_two_users();
        let origin = Origin {
            address: Some("10.0.0.1"),
            user_agent: Some("Firefox"),
        };
        let here = start(&conn, &user("ada"), origin, POLICY).unwrap();
        let there = start(&conn, &user("ada"), Origin::default(), POLICY).unwrap();
        start(&conn, &user("bob"), Origin::default(), POLICY).unwrap();
        let listed = list_of_user(&conn, "ada", &here.cookie, POLICY).unwrap();
        assert_eq!(listed.len(), 2, "bob's session is not ada's");
        let mine = listed.iter().find(|s| s.current).unwrap();
        assert_eq!(mine.user_agent.as_deref(), Some("Firefox"));
        assert_eq!(mine.address.as_deref(), Some("10.0.0.1"));
        assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
        for info in &listed {
            assert_ne!(info.id, here.cookie);
            assert_ne!(info.id, there.cookie);
            assert_ne!(info.id, secret::hash(&here.cookie));
            assert_eq!(info.id.len(), 32);
        }

        conn.execute(
            "UPDATE sessions SET last_seen_at = last_seen_at - 601 WHERE id_hash = ?1",
            [secret::hash(&there.cookie)],
        )
        .unwrap();
        let live = list_of_user(&conn, "ada", &here.cookie, POLICY).unwrap();
        assert_eq!(live.len(), 1, "an idle session is not listed");
    }

    #[test]
    fn a_user_ends_only_their_own_sessions() {
        let conn = with_two_users();
        let ada = start(&conn, &user("ada"), Origin::default(), POLICY).unwrap();
        let bob = start(&conn, &user("bob"), Origin::default(), POLICY).unwrap();
        let bobs = list_of_user(&conn, "bob", &bob.cookie, POLICY).unwrap()[0]
            .id
            .clone();
        assert!(!end_of_user(&conn, "ada", &bobs).unwrap(), "not ada's");
        assert!(resume(&conn, &bob.cookie, POLICY).unwrap().is_some());
        assert!(!end_of_user(&conn, "ada", "no-such-id").unwrap());
        assert!(end_of_user(&conn, "bob", &bobs).unwrap());
        assert!(resume(&conn, &bob.cookie, POLICY).unwrap().is_none());
        assert!(resume(&conn, &ada.cookie, POLICY).unwrap().is_some());
        let signed_in = last_sign_ins(&conn, "t").unwrap();
        assert!(signed_in.contains_key("ada") && !signed_in.contains_key("bob"));
    }
}
