//! Duplicates on the route table: members look for them among the records they see; admins
//! merge them into one record (the others go to the trash), with one audit entry.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::records::{Companies, Contacts, RecordKind, one};
use super::schemas::AnswerOf;
use super::{all_users, if_match, read, write};
use crate::crm::duplicates::{self, Duplicates};
use crate::crm::is_id;
use crate::crm::merge::{self, Merge};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    GET "/duplicates/contacts" => contact_duplicates, Access::Tenant(Role::Member), 200,
        "Contacts that look alike, grouped: `by` email (any address shared) or name (the same name at the same company); both unless given. At most `limit` groups (default 50), with the total",
        [InvalidQuery, InvalidInput], out: Duplicates;
    GET "/duplicates/companies" => company_duplicates, Access::Tenant(Role::Member), 200,
        "Companies that look alike, grouped: `by` domain or name (case, accents, punctuation and legal form aside)",
        [InvalidQuery, InvalidInput], out: Duplicates;
    POST "/contacts/{id}/merge" => merge_contacts, Access::Tenant(Role::Admin), 200,
        "Merge the contacts `ids` into this one: it keeps its values and takes what it lacks, every address, phone, tag, deal, activity and attachment; the others go to the trash. If-Match optional",
        [InvalidJson, InvalidInput, VersionMismatch, BadRequest, ReadOnly],
        in: Merge, out: AnswerOf<Contacts>;
    POST "/companies/{id}/merge" => merge_companies, Access::Tenant(Role::Admin), 200,
        "Merge the companies `ids` into this one (as for contacts; their contacts and deals move to it)",
        [InvalidJson, InvalidInput, VersionMismatch, BadRequest, ReadOnly],
        in: Merge, out: AnswerOf<Companies>;
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DuplicateParams {
    by: Option<String>,
    limit: Option<usize>,
}

async fn contact_duplicates(
    s: TenantSession,
    st: web::Data<AppState>,
    p: web::Query<DuplicateParams>,
) -> Result<HttpResponse, ApiError> {
    look::<Contacts>(s, st, p.into_inner()).await
}

async fn company_duplicates(
    s: TenantSession,
    st: web::Data<AppState>,
    p: web::Query<DuplicateParams>,
) -> Result<HttpResponse, ApiError> {
    look::<Companies>(s, st, p.into_inner()).await
}

async fn look<K: RecordKind>(
    session: TenantSession,
    state: web::Data<AppState>,
    params: DuplicateParams,
) -> Result<HttpResponse, ApiError> {
    let reasons = duplicates::reasons(K::KIND, params.by.as_deref())?;
    let limit = duplicates::limit(params.limit)?;
    let found = read(&state, &session, move |conn, who| {
        duplicates::find(conn, K::KIND, &reasons, limit, &who.visibility)
    })
    .await?;
    Ok(HttpResponse::Ok().json(found))
}

async fn merge_contacts(
    s: TenantSession,
    st: web::Data<AppState>,
    r: HttpRequest,
    p: web::Path<IdParam>,
    b: web::Json<Merge>,
) -> Result<HttpResponse, ApiError> {
    merge_into::<Contacts>(s, st, r, p.into_inner().id, b.into_inner()).await
}

async fn merge_companies(
    s: TenantSession,
    st: web::Data<AppState>,
    r: HttpRequest,
    p: web::Path<IdParam>,
    b: web::Json<Merge>,
) -> Result<HttpResponse, ApiError> {
    merge_into::<Companies>(s, st, r, p.into_inner().id, b.into_inner()).await
}

async fn merge_into<K: RecordKind>(
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
    survivor: String,
    body: Merge,
) -> Result<HttpResponse, ApiError> {
    // Only ids reach the audit log: anything else a client sent is counted, not copied.
    let merged = if body.ids.len() <= merge::MAX_MERGED && body.ids.iter().all(|id| is_id(id)) {
        body.ids.join(", ")
    } else {
        format!("{} records", body.ids.len())
    };
    note_target(
        &req,
        format!("merge of {merged} into {} {survivor}", K::KIND),
    );
    let expected = if_match(&req)?.version();
    let users = all_users(&state, &session).await?;
    let record = write(&state, &session, move |conn, who| {
        merge::merge(
            conn,
            K::KIND,
            &survivor,
            expected,
            &body.ids,
            who.env(&users),
        )
    })
    .await?;
    Ok(one(actix_web::http::StatusCode::OK, &record))
}
