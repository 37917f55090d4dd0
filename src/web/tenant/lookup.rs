//! What a tenant route's gate reads about a request — the tenant it addresses and, with the
//! signed-in user, the session or API token it presents — from the callers' cache when that
//! holds all of it, else in one trip to the control database, whose rows then join the cache.
//! Either way the answer is the same: the cache only holds rows as the database has them now
//! (see `web::callers`), and times are judged against the clock on every request.

use actix_web::HttpRequest;

use crate::error::{ApiError, ErrorCode};
use crate::identity::sessions::{self, Freshness, Principal, Session, SessionPolicy};
use crate::identity::tokens::{self, TokenHolder};
use crate::identity::{User, secret, users};
use crate::tenancy::{Slug, Tenant, TenantStatus, registry};
use crate::web::AppState;
use crate::web::callers::{Entries, TenantKey};

/// How a request names its tenant: a slug from the prefix, or a host (a slug under the
/// base domain, or a custom domain). Worked out without the database.
pub(super) enum Addressed {
    Slug(Slug),
    Host(String),
}

impl Addressed {
    /// What the request addresses and where that tenant's cookies live; `Err(tenant_not_found)`
    /// for a prefix that is no slug.
    pub(super) fn of(
        req: &HttpRequest,
        config: &crate::config::Config,
    ) -> Result<(Self, String), ApiError> {
        if let Some(text) = req.match_info().get("tenant") {
            let slug = text
                .parse::<Slug>()
                .map_err(|_| ApiError::new(ErrorCode::TenantNotFound))?;
            return Ok((Addressed::Slug(slug), format!("/t/{text}")));
        }
        // The request's host name, lower-case, without port (forwarded only by a trusted
        // proxy).
        let host = crate::web::forwarded::host(req).unwrap_or_default();
        let slug = config.base_domain.as_deref().and_then(|base| {
            host.strip_suffix(base)
                .and_then(|rest| rest.strip_suffix('.'))
                .and_then(|label| label.parse::<Slug>().ok())
        });
        let addressed = slug.map_or(Addressed::Host(host), Addressed::Slug);
        Ok((addressed, "/".to_owned()))
    }

    fn key(&self) -> TenantKey {
        match self {
            Addressed::Slug(slug) => TenantKey::Slug(slug.as_str().to_owned()),
            Addressed::Host(host) => TenantKey::Host(host.clone()),
        }
    }

    /// The tenant it names, if any. Blocking.
    fn find(&self, conn: &rusqlite::Connection) -> Result<Option<Tenant>, ApiError> {
        Ok(match self {
            Addressed::Slug(slug) => registry::find(conn, slug)?,
            Addressed::Host(host) => registry::find_by_domain(conn, host)?,
        })
    }
}

/// What a caller presented, with the hash it is looked up by: none for junk, which is refused
/// without a lookup.
pub(super) enum Credential {
    Nothing,
    Token { text: String, hash: Option<String> },
    Cookie { text: String, hash: Option<String> },
}

impl Credential {
    pub(super) fn token(text: String) -> Self {
        let hash = tokens::well_formed(&text).then(|| secret::hash(&text));
        Credential::Token { text, hash }
    }

    pub(super) fn cookie(text: String) -> Self {
        let hash = secret::well_formed(&text).then(|| secret::hash(&text));
        Credential::Cookie { text, hash }
    }
}

/// Who the credential speaks for, if anyone.
pub(super) enum Presented {
    Nothing,
    Token(Option<TokenHolder>),
    /// A live session, with its user when that is a user of the addressed tenant.
    Session(Option<(Session, Option<User>)>),
}

/// The tenant a request addresses and, unless it is suspended, what its caller presented.
pub(super) struct Found {
    pub tenant: Tenant,
    pub presented: Option<Presented>,
}

/// The tenant `addressed` names, if any.
pub(super) async fn tenant(
    state: &AppState,
    addressed: Addressed,
) -> Result<Option<Tenant>, ApiError> {
    let key = addressed.key();
    let (generation, cached) = state.callers.look(|entries| entries.tenant(&key));
    if cached.is_some() {
        return Ok(cached);
    }
    let found = state
        .control_db
        .run_as(move |conn| addressed.find(conn))
        .await?;
    if let Some(tenant) = &found {
        let tenant = tenant.clone();
        state
            .callers
            .fill(generation, |entries| entries.put_tenant(key, tenant));
    }
    Ok(found)
}

/// The tenant `addressed` names and who `credential` speaks for; `None` if no such tenant.
pub(super) async fn caller(
    state: &AppState,
    addressed: Addressed,
    credential: Credential,
    policy: SessionPolicy,
) -> Result<Option<Found>, ApiError> {
    let key = addressed.key();
    let at = sessions::now();
    let (generation, cached) = state
        .callers
        .look(|entries| cached(entries, &key, &credential, at, policy));
    if cached.is_some() {
        return Ok(cached);
    }
    let (found, credential) = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            Ok((read(conn, &addressed, &credential, policy)?, credential))
        })
        .await?;
    if let Some(found) = &found {
        state.callers.fill(generation, |entries| {
            remember(entries, key, &credential, found);
        });
    }
    Ok(found)
}

/// What the cache knows, if it knows all of it and every time in it still holds at `at`;
/// otherwise the database decides (and records a use, or ends an expired session).
fn cached(
    entries: &mut Entries,
    key: &TenantKey,
    credential: &Credential,
    at: i64,
    policy: SessionPolicy,
) -> Option<Found> {
    let tenant = entries.tenant(key)?;
    if tenant.status == TenantStatus::Suspended {
        return Some(Found {
            tenant,
            presented: None,
        });
    }
    let presented = match credential {
        Credential::Nothing => Presented::Nothing,
        Credential::Token { hash: None, .. } => Presented::Token(None),
        Credential::Token {
            hash: Some(hash), ..
        } => Presented::Token(Some(entries.token(hash).filter(|h| h.fresh_at(at))?)),
        Credential::Cookie { hash: None, .. } => Presented::Session(None),
        Credential::Cookie {
            hash: Some(hash), ..
        } => {
            let session = entries
                .session(hash)
                .filter(|s| s.freshness(at, policy) == Freshness::Fresh)?;
            let user = match &session.principal {
                Principal::User { id, tenant_id } if *tenant_id == tenant.id => {
                    Some(entries.user(tenant_id, id)?)
                }
                _ => None,
            };
            Presented::Session(Some((session, user)))
        }
    };
    Some(Found {
        tenant,
        presented: Some(presented),
    })
}

/// The same, from the database. Blocking.
fn read(
    conn: &rusqlite::Connection,
    addressed: &Addressed,
    credential: &Credential,
    policy: SessionPolicy,
) -> Result<Option<Found>, ApiError> {
    let Some(tenant) = addressed.find(conn)? else {
        return Ok(None);
    };
    if tenant.status == TenantStatus::Suspended {
        return Ok(Some(Found {
            tenant,
            presented: None,
        }));
    }
    let presented = match credential {
        Credential::Nothing => Presented::Nothing,
        Credential::Token { text, .. } => Presented::Token(tokens::authenticate(conn, text)?),
        Credential::Cookie { text, .. } => {
            Presented::Session(match sessions::resume(conn, text, policy)? {
                Some(session) => {
                    let user = match &session.principal {
                        Principal::User { id, tenant_id } if *tenant_id == tenant.id => {
                            users::find_by_id(conn, &tenant.id, id)?
                        }
                        _ => None,
                    };
                    Some((session, user))
                }
                None => None,
            })
        }
    };
    Ok(Some(Found {
        tenant,
        presented: Some(presented),
    }))
}

/// Adds to the cache the rows `read` found (never what it did not find).
fn remember(entries: &mut Entries, key: TenantKey, credential: &Credential, found: &Found) {
    entries.put_tenant(key, found.tenant.clone());
    match (&found.presented, credential) {
        (
            Some(Presented::Token(Some(holder))),
            Credential::Token {
                hash: Some(hash), ..
            },
        ) => entries.put_token(hash.clone(), holder.clone()),
        (
            Some(Presented::Session(Some((session, user)))),
            Credential::Cookie {
                hash: Some(hash), ..
            },
        ) => {
            entries.put_session(hash.clone(), session.clone());
            if let Some(user) = user {
                entries.put_user(user.clone());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;
    use crate::identity::{Role, UserStatus};

    const POLICY: SessionPolicy = SessionPolicy {
        idle_secs: 600,
        lifetime_secs: 3600,
    };
    const AT: i64 = 1_000_000;
    const COOKIE: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn key() -> TenantKey {
        TenantKey::Slug("acme".into())
    }

    fn tenant(status: TenantStatus) -> Tenant {
        Tenant {
            id: "t1".into(),
            slug: "acme".into(),
            name: "Acme".into(),
            status,
            custom_domain: None,
            seat_limit: None,
            timezone: "UTC".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    /// A cache holding acme, a session of its user `u1` last seen `idle` seconds ago, and
    /// (if `with_user`) that user.
    fn entries(idle: i64, expires_at: i64, with_user: bool) -> Entries {
        let mut entries = Entries::new(NonZeroUsize::new(8).unwrap());
        entries.put_tenant(key(), tenant(TenantStatus::Active));
        let principal = Principal::User {
            id: "u1".into(),
            tenant_id: "t1".into(),
        };
        let session = Session {
            principal,
            csrf_token: "csrf".into(),
            expires_at,
            last_seen_at: AT - idle,
        };
        entries.put_session(secret::hash(COOKIE), session);
        if with_user {
            entries.put_user(User {
                id: "u1".into(),
                tenant_id: "t1".into(),
                email: "u1@acme.test".into(),
                role: Role::Member,
                status: UserStatus::Active,
                created_at: 0,
                updated_at: 0,
            });
        }
        entries
    }

    fn look(entries: &mut Entries, credential: &Credential) -> Option<Found> {
        cached(entries, &key(), credential, AT, POLICY)
    }

    #[test]
    fn a_fresh_session_and_its_user_are_answered_from_memory() {
        let found = look(
            &mut entries(30, AT + 100, true),
            &Credential::cookie(COOKIE.into()),
        );
        assert!(matches!(
            found.and_then(|f| f.presented),
            Some(Presented::Session(Some((_, Some(user))))) if user.id == "u1"
        ));
    }

    #[test]
    fn the_clock_sends_expired_and_stale_sessions_to_the_database() {
        let cookie = Credential::cookie(COOKIE.into());
        for (idle, expires_at, why) in [
            (60, AT + 100, "due for a touch"),
            (600, AT + 100, "idle"),
            (30, AT, "past its lifetime"),
        ] {
            assert!(
                look(&mut entries(idle, expires_at, true), &cookie).is_none(),
                "{why}"
            );
        }
        assert!(
            look(&mut entries(30, AT + 100, false), &cookie).is_none(),
            "a user not in memory"
        );
    }

    #[test]
    fn tokens_are_judged_by_the_clock_too() {
        let text = format!("{}{COOKIE}", tokens::TOKEN_PREFIX);
        let credential = Credential::token(text.clone());
        let holder = |expires_at, last_used_at| TokenHolder {
            id: "k1".into(),
            tenant_id: "t1".into(),
            role: Role::Viewer,
            expires_at,
            last_used_at,
        };
        let mut entries = entries(30, AT + 100, true);
        entries.put_token(secret::hash(&text), holder(None, AT - 10));
        assert!(matches!(
            look(&mut entries, &credential).and_then(|f| f.presented),
            Some(Presented::Token(Some(_)))
        ));
        for (expires_at, last_used_at) in [(Some(AT), AT - 10), (None, AT - 60)] {
            entries.put_token(secret::hash(&text), holder(expires_at, last_used_at));
            assert!(look(&mut entries, &credential).is_none());
        }
    }

    #[test]
    fn junk_is_refused_and_a_suspended_tenant_is_answered_without_a_lookup() {
        let mut entries = entries(30, AT + 100, true);
        let junk = Credential::cookie("not a cookie".into());
        assert!(matches!(
            look(&mut entries, &junk).and_then(|f| f.presented),
            Some(Presented::Session(None))
        ));
        entries.put_tenant(key(), tenant(TenantStatus::Suspended));
        let found = look(&mut entries, &Credential::cookie(COOKIE.into())).unwrap();
        assert!(found.presented.is_none());
        assert_eq!(found.tenant.status, TenantStatus::Suspended);
    }
}
