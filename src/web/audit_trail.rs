//! Writing the audit log from the API. The route gate records every state-changing call it
//! let through (and every refusal of an identified caller), so a route added later is
//! audited without anyone remembering to: tenant routes in the tenant's database, the rest in
//! the control database. Handlers may name the call's target more precisely than its path.
//!
//! A tenant call that changes the tenant's database hands its entry to its own write
//! transaction ([`EntryInTransaction`]): the change and its entry commit together, so no
//! change is ever left without its entry, and the tenant's writer is taken once, not twice.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::ServiceResponse;
use actix_web::{HttpMessage as _, HttpRequest, web};

use super::AppState;
use super::admin::OperatorSession;
use super::auth::client_address;
use super::tenant::{CurrentTenant, TenantSession};
use crate::audit::{self, NewEntry, Outcome};
use crate::error::ApiError;
use crate::identity::throttle::{ThrottlePolicy, address_key};

/// What a call acted on, as a handler names it.
#[derive(Debug, Clone)]
struct AuditTarget(String);

/// Names the target of this call in the audit log (default: the request path).
pub fn note_target(req: &HttpRequest, target: impl Into<String>) {
    let target = target.into();
    if let Some(handoff) = req
        .extensions()
        .get::<TenantSession>()
        .and_then(|s| s.audit.as_ref())
    {
        handoff.name_target(target.clone());
    }
    req.extensions_mut().insert(AuditTarget(target));
}

/// A tenant call's entry, waiting for the call's write transaction to append it. The gate
/// makes one for each call that may change state; the first write transaction of the call
/// that commits holds the entry, and the gate writes it itself only if none did.
#[derive(Debug, Clone)]
pub struct EntryInTransaction(Arc<Mutex<Handoff>>);

#[derive(Debug)]
struct Handoff {
    entry: NewEntry,
    /// A committed transaction holds the entry.
    written: bool,
}

impl EntryInTransaction {
    fn new(entry: NewEntry) -> Self {
        Self(Arc::new(Mutex::new(Handoff {
            entry,
            written: false,
        })))
    }

    fn handoff(&self) -> std::sync::MutexGuard<'_, Handoff> {
        // The state is a plain value: whatever a panicking holder left is still readable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Names what the call acts on, for a target known only inside its transaction (the id
    /// of a record it creates).
    pub fn name_target(&self, target: String) {
        self.handoff().entry.target = target;
    }

    /// Appends the entry, as a success, to the transaction `conn` is in, unless a committed
    /// transaction of this call already holds it. Answers whether it appended: then
    /// [`Self::committed`] must follow once the transaction commits.
    pub fn append(
        &self,
        conn: &rusqlite::Connection,
    ) -> Result<bool, crate::storage::StorageError> {
        let handoff = self.handoff();
        if handoff.written {
            return Ok(false);
        }
        audit::append(conn, &handoff.entry)?;
        Ok(true)
    }

    /// The transaction that appended the entry has committed.
    pub fn committed(&self) {
        self.handoff().written = true;
    }

    fn written(&self) -> bool {
        self.handoff().written
    }

    fn target(&self) -> String {
        self.handoff().entry.target.clone()
    }
}

/// The entry a tenant call's write transaction appends for it, if the call may change
/// state (`None` for reads, which are not recorded).
pub fn entry_in_transaction(
    req: &HttpRequest,
    session: &TenantSession,
    action: &str,
) -> Option<EntryInTransaction> {
    if !changes_state(req) {
        return None;
    }
    Some(EntryInTransaction::new(NewEntry {
        actor: session.actor(),
        action: action.to_owned(),
        target: req.path().to_owned(),
        address: Some(client_address(req)),
        outcome: Outcome::Success,
    }))
}

fn changes_state(req: &HttpRequest) -> bool {
    !matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS")
}

/// How the log names a caller nobody has authenticated.
const ANONYMOUS: &str = "anonymous";

/// Refusals of anonymous callers that are not recorded: they change nothing, come before any
/// decision about an account, and would let anyone grow the log at the rate they can send
/// requests (after twenty failed sign-ins an address only gets `rate_limited`).
const UNRECORDED_ANONYMOUS: &[&str] = &[
    "rate_limited",
    "invalid_json",
    "payload_too_large",
    "unsupported_media_type",
];

/// Anonymous refusals already bounded per address by their own throttle (twenty failures,
/// then `rate_limited`): each is evidence about an account, so each is recorded.
const THROTTLED_ANONYMOUS: &[&str] = &["invalid_credentials", "link_invalid"];

/// How many other anonymous refusals one address may add to the logs in a while. Anyone can
/// repeat them at will (a closed setup, a guessed path), so past this they are not written
/// one row each: the last row written says so, and the request log keeps every one.
pub const ANONYMOUS_REFUSAL_BUDGET: ThrottlePolicy = ThrottlePolicy {
    max_failures: 20,
    window: Duration::from_secs(15 * 60),
    first_lock: Duration::from_secs(15 * 60),
    max_lock: Duration::from_secs(15 * 60),
};

/// Whether an anonymous refusal may be written, within its address's budget; the last one
/// the budget allows gets a note that the rest are not.
fn within_budget(state: &AppState, entry: &mut NewEntry, code: &str) -> bool {
    if UNRECORDED_ANONYMOUS.contains(&code) {
        return false;
    }
    if THROTTLED_ANONYMOUS.contains(&code) {
        return true;
    }
    let key = address_key(entry.address.as_deref().unwrap_or("unknown"));
    let Ok(slot) = state.anonymous_refusals.reserve(&key, Instant::now()) else {
        return false;
    };
    if let Some(pause) = slot.fail(Instant::now()) {
        let minutes = pause.as_secs() / 60;
        entry.target = format!(
            "{} (further anonymous refusals from this address are not recorded for {minutes} minutes)",
            entry.target
        );
    }
    true
}

/// Where an entry goes.
enum Log {
    Control,
    Tenant(crate::tenancy::TenantId),
}

fn outcome<B>(response: &ServiceResponse<B>) -> Outcome {
    if let Some(error) = response.response().error() {
        return match error.as_error::<ApiError>() {
            Some(api) if api.code().status().is_client_error() => {
                Outcome::Refused(api.code().as_str())
            }
            _ => Outcome::Failed,
        };
    }
    if response.status().is_success() {
        Outcome::Success
    } else if response.status().is_client_error() {
        Outcome::Refused("bad_request")
    } else {
        Outcome::Failed
    }
}

/// Records a finished call, if it changed (or tried to change) state.
pub async fn record_call<B>(action: String, response: &ServiceResponse<B>) {
    let req = response.request();
    if !changes_state(req) {
        return;
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return;
    };
    let Some((log, mut entry)) = describe(req, response) else {
        return;
    };
    let in_transaction = req
        .extensions()
        .get::<TenantSession>()
        .and_then(|s| s.audit.as_ref().map(EntryInTransaction::written))
        .unwrap_or(false);
    if in_transaction && entry.outcome == Outcome::Success {
        // Committed with the change it records.
        return;
    }
    if let (ANONYMOUS, Outcome::Refused(code)) = (entry.actor.as_str(), entry.outcome)
        && !within_budget(&state, &mut entry, code)
    {
        return;
    }
    entry.action = action;
    write(&state, log, entry).await;
}

/// Where the entry for this call goes, and what it says.
fn describe<B>(req: &HttpRequest, response: &ServiceResponse<B>) -> Option<(Log, NewEntry)> {
    let extensions = req.extensions();
    let handoff = extensions
        .get::<TenantSession>()
        .and_then(|s| s.audit.as_ref());
    let (actor, log) = if let Some(session) = extensions.get::<TenantSession>() {
        (session.actor(), tenant_log(&session.current))
    } else if let Some(current) = extensions.get::<CurrentTenant>() {
        (ANONYMOUS.to_owned(), tenant_log(current))
    } else if let Some(operator) = extensions.get::<OperatorSession>() {
        (operator.actor(), Some(Log::Control))
    } else {
        (ANONYMOUS.to_owned(), Some(Log::Control))
    };
    let entry = NewEntry {
        actor,
        action: String::new(),
        // A tenant call's entry holds the latest target named, from inside its transaction
        // or by `note_target`.
        target: match (handoff, extensions.get::<AuditTarget>()) {
            (Some(handoff), _) => handoff.target(),
            (None, Some(noted)) => noted.0.clone(),
            (None, None) => req.path().to_owned(),
        },
        address: Some(client_address(req)),
        outcome: outcome(response),
    };
    log.map(|log| (log, entry))
}

fn tenant_log(current: &CurrentTenant) -> Option<Log> {
    current.tenant.id.parse().ok().map(Log::Tenant)
}

async fn write(state: &web::Data<AppState>, log: Log, entry: NewEntry) {
    let written: anyhow::Result<()> = match log {
        Log::Control => state
            .control_db
            .run(move |conn| audit::record(conn, &entry).map(|_| ()))
            .await
            .map_err(anyhow::Error::from),
        Log::Tenant(id) => {
            let databases = Arc::clone(&state.tenant_dbs);
            web::block(move || -> anyhow::Result<()> {
                let db = databases.get(&id)?;
                audit::record(&mut *db.writer()?, &entry)?;
                Ok(())
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|r| r)
        }
    };
    if let Err(err) = written {
        // The change itself has happened; losing its record is an operator's concern.
        tracing::error!("could not write the audit log: {err:#}");
    }
}
