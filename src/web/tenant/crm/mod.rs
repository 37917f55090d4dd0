//! The CRM on the route table: records of every kind, pipelines and the board, custom
//! fields, tags, search and the trash. Handlers read the caller from the gate, run their
//! work in one transaction on the tenant's own database, and leave the rules to `crate::crm`.

pub(crate) mod bulk;
mod erase;
mod exports;
mod fields;
mod files;
pub(crate) mod imports;
mod leads;
mod merge;
mod pipelines;
mod records;
mod reports;
pub(crate) mod saved;
mod schemas;
mod search;
mod teams;

use std::collections::HashSet;

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use rusqlite::{Connection, TransactionBehavior};

use super::{Caller, TenantSession};
use crate::crm::records::Env;
use crate::crm::visibility::Visibility;
use crate::crm::{Actor, CrmError};
use crate::error::{ApiError, ErrorCode};
use crate::identity::users;
use crate::web::AppState;
use crate::web::audit_trail::EntryInTransaction;

pub use bulk::MODULE as BULK;
pub use erase::MODULE as ERASE;
pub use exports::MODULE as EXPORTS;
pub use fields::MODULE as FIELDS;
pub use files::MODULE as FILES;
pub(crate) use files::disposition;
pub use imports::MODULE as IMPORTS;
pub use leads::MODULE as LEADS;
pub use merge::MODULE as MERGE;
pub use pipelines::MODULE as PIPELINES;
pub use records::{ACTIVITIES, COMPANIES, CONTACTS, DEALS};
pub use reports::MODULE as REPORTS;
pub use saved::MODULE as SAVED;
pub use search::MODULE as SEARCH;
pub use teams::MODULE as TEAMS;

/// Who acts, and what they may see (worked out in the request's own transaction).
#[derive(Debug)]
pub struct Who {
    pub actor: Actor,
    pub visibility: Visibility,
    audit: Option<EntryInTransaction>,
}

impl Who {
    /// Names what the call acts on in its audit entry, from inside its transaction (the
    /// id of a record it creates).
    pub fn note_target(&self, target: String) {
        if let Some(audit) = &self.audit {
            audit.name_target(target);
        }
    }

    /// Creates a record of `kind` from a request's `body` (which may name `users`), and
    /// names it as the call's audit target: what every form and route that creates one does.
    pub fn create(
        &self,
        conn: &Connection,
        kind: crate::crm::Kind,
        body: &serde_json::Map<String, serde_json::Value>,
        users: &HashSet<String>,
    ) -> Result<crate::crm::records::Record, CrmError> {
        let input = crate::crm::records::parse(conn, kind, body, true)?;
        let record = crate::crm::records::create(conn, kind, input, self.env(users))?;
        self.note_target(format!("{kind} {}", record.id));
        Ok(record)
    }

    /// What record writes need: who, what they see, which users exist.
    pub fn env<'a>(&'a self, users: &'a HashSet<String>) -> Env<'a> {
        Env {
            actor: &self.actor,
            visibility: &self.visibility,
            users,
        }
    }
}

/// The caller as the CRM names them.
pub fn actor_of(session: &TenantSession) -> Actor {
    Actor {
        name: session.actor(),
        user_id: match &session.caller {
            Caller::User { id } => Some(id.clone()),
            Caller::Token { .. } => None,
        },
        role: session.role,
    }
}

/// What [`in_tenant`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Txn {
    /// `BEGIN IMMEDIATE`, so it never has to be retried halfway.
    Write,
    /// One snapshot.
    Read,
    /// One snapshot, and the database's generation taken before it (what a kept answer is
    /// stamped with; asking opens the tenant's watch, so only reads that keep answers do).
    StampedRead,
}

/// Runs `work` in one transaction on the tenant's database, on the blocking pool.
async fn in_tenant<T, F>(
    state: &web::Data<AppState>,
    session: &TenantSession,
    txn: Txn,
    work: F,
) -> Result<(T, Option<u64>), ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Who) -> Result<T, ApiError> + Send + 'static,
{
    let actor = actor_of(session);
    let audit = session.audit.clone();
    let id = session
        .current
        .tenant
        .id
        .parse()
        .map_err(ApiError::internal)?;
    let databases = std::sync::Arc::clone(&state.tenant_dbs);
    web::block(move || -> Result<(T, Option<u64>), ApiError> {
        let db = databases.get(&id).map_err(ApiError::internal)?;
        let generation = if txn == Txn::StampedRead {
            // A watch that cannot open costs the cache, never the read.
            db.generations().now(db.path()).ok()
        } else {
            None
        };
        // Every connection busy for the pool's whole wait: overloaded, not broken.
        let conn = if txn == Txn::Write {
            db.writer()
        } else {
            db.conn()
        };
        let mut conn = conn.map_err(|e| {
            ApiError::with_message(
                ErrorCode::NotReady,
                "This tenant's database is busy; try again shortly.",
            )
            .caused_by(e)
            .retry_after(1)
        })?;
        let behavior = if txn == Txn::Write {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        };
        let tx = conn.transaction_with_behavior(behavior).map_err(|e| {
            // Another writer held the tenant's lock for the whole busy timeout (a long
            // import batch or bulk change): busy, not broken.
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
                ApiError::with_message(
                    ErrorCode::NotReady,
                    "This tenant's database is busy with a large change; try again shortly.",
                )
                .caused_by(e)
                .retry_after(2)
            } else {
                ApiError::internal(e)
            }
        })?;
        let visibility = crate::crm::teams::visibility_of(&tx, &actor)?;
        let who = Who {
            actor,
            visibility,
            audit: audit.clone(),
        };
        let out = work(&tx, &who)?;
        // The call's audit entry commits with its change.
        let appended = match audit.as_ref().filter(|_| txn == Txn::Write) {
            Some(audit) => audit.append(&tx).map_err(ApiError::internal)?,
            None => false,
        };
        tx.commit().map_err(ApiError::internal)?;
        if appended && let Some(audit) = &audit {
            audit.committed();
        }
        Ok((out, generation))
    })
    .await
    .map_err(ApiError::internal)?
}

/// Reads in one snapshot of the tenant's database.
pub async fn read<T, F>(
    state: &web::Data<AppState>,
    session: &TenantSession,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Who) -> Result<T, CrmError> + Send + 'static,
{
    Ok(in_tenant(state, session, Txn::Read, move |conn, who| {
        Ok(work(conn, who)?)
    })
    .await?
    .0)
}

/// Reads in one snapshot of the tenant's database; also answers the generation the snapshot
/// is at least as new as (`None` if it could not be had).
pub async fn read_stamped<T, F>(
    state: &web::Data<AppState>,
    session: &TenantSession,
    work: F,
) -> Result<(T, Option<u64>), ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Who) -> Result<T, CrmError> + Send + 'static,
{
    in_tenant(state, session, Txn::StampedRead, move |conn, who| {
        Ok(work(conn, who)?)
    })
    .await
}

/// Writes in one transaction of the tenant's database: all of it, or (on any refusal)
/// nothing.
pub async fn write<T, F>(
    state: &web::Data<AppState>,
    session: &TenantSession,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &Who) -> Result<T, CrmError> + Send + 'static,
{
    Ok(in_tenant(state, session, Txn::Write, move |conn, who| {
        Ok(work(conn, who)?)
    })
    .await?
    .0)
}

/// The ids of the tenant's users.
pub async fn all_users(
    state: &web::Data<AppState>,
    session: &TenantSession,
) -> Result<HashSet<String>, ApiError> {
    Ok(user_emails(state, session)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

/// The tenant's users as (id, e-mail address).
pub async fn user_emails(
    state: &web::Data<AppState>,
    session: &TenantSession,
) -> Result<Vec<(String, String)>, ApiError> {
    let tenant_id = session.current.tenant.id.clone();
    let all = state
        .control_db
        .run_as(move |conn| users::list(conn, &tenant_id))
        .await?;
    Ok(all.into_iter().map(|u| (u.id, u.email)).collect())
}

/// The tenant's database (opened if it is not: blocking on first use, as every handler's
/// first trip to it is).
pub fn tenant_db(
    state: &AppState,
    session: &TenantSession,
) -> Result<crate::storage::Database, ApiError> {
    let id = session
        .current
        .tenant
        .id
        .parse()
        .map_err(ApiError::internal)?;
    state.tenant_dbs.get(&id).map_err(ApiError::internal)
}

/// The size a request body says it has (`Content-Length`), if it says.
pub fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The ids of the tenant's users if a write of `kind` names one (only then is the control
/// database asked).
pub async fn users_named(
    state: &web::Data<AppState>,
    session: &TenantSession,
    kind: crate::crm::Kind,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<HashSet<String>, ApiError> {
    if !crate::crm::records::names_a_user(kind, body) {
        return Ok(HashSet::new());
    }
    all_users(state, session).await
}

/// What `If-Match` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`.
    Absent,
    /// `*`: whatever version is current.
    Any,
    /// The version an ETag names.
    Version(i64),
}

impl Precondition {
    /// The version asked for, if any.
    pub fn version(self) -> Option<i64> {
        match self {
            Precondition::Version(v) => Some(v),
            Precondition::Absent | Precondition::Any => None,
        }
    }
}

/// Reads `If-Match`: an ETag of a record (`"3"`, or weak `W/"3"`) or `*`.
pub fn if_match(req: &HttpRequest) -> Result<Precondition, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(Precondition::Absent);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(Precondition::Any);
    }
    text.trim_start_matches("W/")
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map(Precondition::Version)
        .ok_or_else(|| {
            ApiError::with_message(
                ErrorCode::BadRequest,
                "If-Match must be the record's ETag, such as \"3\".",
            )
        })
}

/// The version `If-Match` names, which a change requires (`*` takes whatever is current).
pub fn required_version(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    match if_match(req)? {
        Precondition::Absent => Err(ApiError::new(ErrorCode::IfMatchRequired)),
        other => Ok(other.version()),
    }
}
