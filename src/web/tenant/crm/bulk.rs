//! Bulk changes on the route table: admins change or trash many records of a kind at once,
//! by id or by a list's filters, in one transaction with one audit entry.

use actix_web::{HttpResponse, web};

use super::{all_users, write};
use crate::crm::Kind;
use crate::crm::bulk::{self, Bulk, Outcome};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::TenantSession;

endpoints! { area: Area::Tenant;
    POST "/bulk/contacts" => contacts, Access::Tenant(Role::Admin), 200,
        "Change or trash many contacts at once: `ids` or `filters`; `set` (fields, as a change of one record), `add_tags`, `remove_tags`, or `delete`. All or nothing; answers how many were chosen and changed",
        [InvalidJson, InvalidInput, ReadOnly], in: Bulk, out: Outcome;
    POST "/bulk/companies" => companies, Access::Tenant(Role::Admin), 200,
        "Change or trash many companies at once (as /bulk/contacts)", [InvalidJson, InvalidInput, ReadOnly], in: Bulk, out: Outcome;
    POST "/bulk/deals" => deals, Access::Tenant(Role::Admin), 200,
        "Change or trash many deals at once (as /bulk/contacts; `set.stage_id` moves them)", [InvalidJson, InvalidInput, ReadOnly], in: Bulk, out: Outcome;
    POST "/bulk/activities" => activities, Access::Tenant(Role::Admin), 200,
        "Change or trash many activities at once (as /bulk/contacts)", [InvalidJson, InvalidInput, ReadOnly], in: Bulk, out: Outcome;
}

async fn contacts(
    s: TenantSession,
    st: web::Data<AppState>,
    b: web::Json<Bulk>,
) -> Result<HttpResponse, ApiError> {
    change(Kind::Contact, s, st, b.into_inner()).await
}

async fn companies(
    s: TenantSession,
    st: web::Data<AppState>,
    b: web::Json<Bulk>,
) -> Result<HttpResponse, ApiError> {
    change(Kind::Company, s, st, b.into_inner()).await
}

async fn deals(
    s: TenantSession,
    st: web::Data<AppState>,
    b: web::Json<Bulk>,
) -> Result<HttpResponse, ApiError> {
    change(Kind::Deal, s, st, b.into_inner()).await
}

async fn activities(
    s: TenantSession,
    st: web::Data<AppState>,
    b: web::Json<Bulk>,
) -> Result<HttpResponse, ApiError> {
    change(Kind::Activity, s, st, b.into_inner()).await
}

async fn change(
    kind: Kind,
    session: TenantSession,
    state: web::Data<AppState>,
    bulk: Bulk,
) -> Result<HttpResponse, ApiError> {
    let outcome = apply(&state, &session, kind, bulk).await?;
    Ok(HttpResponse::Ok().json(outcome))
}

/// Applies `bulk` to records of `kind` as the caller, in one transaction with its audit
/// entry (which says what was chosen and changed): the route's work, shared with the
/// tables' bulk form so both follow the same rules.
pub(crate) async fn apply(
    state: &web::Data<AppState>,
    session: &TenantSession,
    kind: Kind,
    bulk: Bulk,
) -> Result<Outcome, ApiError> {
    let users = all_users(state, session).await?;
    write(state, session, move |conn, who| {
        let outcome = bulk::apply(conn, kind, &bulk, who.env(&users))?;
        let what = if bulk.delete { "trash" } else { "change" };
        who.note_target(format!(
            "bulk {what} of {}: {} chosen, {} changed",
            kind.table(),
            outcome.matched,
            outcome.changed
        ));
        Ok(outcome)
    })
    .await
}
