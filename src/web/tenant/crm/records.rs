//! Contacts, companies, deals and activities: the same calls for each kind, by its field
//! descriptions — list, read, create, change (with `If-Match`), trash, restore, timeline —
//! and converting a lead.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::schemas::{AnswerOf, InputOf, PageOf, TimelineAnswer};
use super::{read, read_stamped, required_version, users_named, write};
use crate::crm::list::{self, Filter, Query};
use crate::crm::records::{self, Record};
use crate::crm::{CrmError, Kind, timeline, views};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::audit_trail::note_target;
use crate::web::tenant::{IdParam, TenantSession};
use crate::web::{AppState, answers};

/// A kind of record, as a type, so that one handler serves each kind's routes.
pub trait RecordKind {
    const KIND: Kind;
}

macro_rules! record_routes {
    ($module:ident, $marker:ident, $kind:expr, $base:literal, $id:literal, $timeline:literal, $restore:literal) => {
        pub struct $marker;
        impl RecordKind for $marker {
            const KIND: Kind = $kind;
        }
        pub mod $module {
            use super::*;
            use crate::web::endpoint::{Access, Area, endpoints};
            endpoints! { area: Area::Tenant;
                GET $base => list::<$marker>, Access::Tenant(Role::Viewer), 200,
                    "A page of records: filters (a JSON list), sort, limit, cursor",
                    [InvalidQuery, InvalidInput, InvalidCursor], out: PageOf<$marker>;
                POST $base => create::<$marker>, Access::Tenant(Role::Member), 201,
                    "Create a record", [InvalidInput, ReadOnly],
                    in: InputOf<$marker>, out: AnswerOf<$marker>;
                GET $id => show::<$marker>, Access::Tenant(Role::Viewer), 200,
                    "One record, with its ETag", [], out: AnswerOf<$marker>;
                PATCH $id => update::<$marker>, Access::Tenant(Role::Member), 200,
                    "Change the fields given; If-Match (the ETag) is required",
                    [InvalidInput, IfMatchRequired, VersionMismatch, BadRequest, ReadOnly],
                    in: InputOf<$marker>, out: AnswerOf<$marker>;
                DELETE $id => remove::<$marker>, Access::Tenant(Role::Member), 204,
                    "Move to the trash (members: their own records; admins: any)",
                    [NotYourRecord, VersionMismatch, BadRequest, ReadOnly];
                POST $restore => restore::<$marker>, Access::Tenant(Role::Member), 200,
                    "Take out of the trash", [NotYourRecord, ReadOnly], out: AnswerOf<$marker>;
                GET $timeline => history::<$marker>, Access::Tenant(Role::Viewer), 200,
                    "What happened to the record, newest first", [InvalidQuery],
                    out: TimelineAnswer;
            }
        }
    };
}

record_routes!(
    contacts,
    Contacts,
    Kind::Contact,
    "/contacts",
    "/contacts/{id}",
    "/contacts/{id}/timeline",
    "/contacts/{id}/restore"
);
record_routes!(
    companies,
    Companies,
    Kind::Company,
    "/companies",
    "/companies/{id}",
    "/companies/{id}/timeline",
    "/companies/{id}/restore"
);
record_routes!(
    deals,
    Deals,
    Kind::Deal,
    "/deals",
    "/deals/{id}",
    "/deals/{id}/timeline",
    "/deals/{id}/restore"
);
record_routes!(
    activities,
    Activities,
    Kind::Activity,
    "/activities",
    "/activities/{id}",
    "/activities/{id}/timeline",
    "/activities/{id}/restore"
);

pub const CONTACTS: crate::web::endpoint::Module = contacts::MODULE;
pub const COMPANIES: crate::web::endpoint::Module = companies::MODULE;
pub const DEALS: crate::web::endpoint::Module = deals::MODULE;
pub const ACTIVITIES: crate::web::endpoint::Module = activities::MODULE;

/// The query of a list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// A JSON list of `{"field", "op", "value"}`.
    pub filters: Option<String>,
    /// A saved view whose filters and sort apply where these are not given.
    pub view: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn query(&self) -> Result<Query, ApiError> {
        let filters: Vec<Filter> = match self.filters.as_deref() {
            None | Some("") => Vec::new(),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                ApiError::with_message(
                    ErrorCode::InvalidInput,
                    format!(r#"filters: must be a JSON list of {{"field", "op", "value"}} ({e})."#),
                )
            })?,
        };
        Ok(Query {
            filters,
            sort: self.sort.clone(),
            limit: self.limit,
            cursor: self.cursor.clone(),
        })
    }
}

/// A record with its ETag.
pub fn one(status: actix_web::http::StatusCode, record: &Record) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, record.etag()))
        .json(json!({ record.kind.as_str(): record.body }))
}

async fn list<K: RecordKind>(
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let tenant_id = session.current.tenant.id.clone();
    let key = answers::key(
        &tenant_id,
        &session.actor(),
        &session.role.to_string(),
        &req,
    );
    let open = tenant_id
        .parse()
        .ok()
        .and_then(|id| state.tenant_dbs.get_open(&id));
    if let Some(body) = open.and_then(|db| state.answers.get(&db, &key)) {
        return Ok(json_body(body));
    }
    // Parsed only when not answered from the cache (filters are JSON).
    let params = web::Query::<ListParams>::from_query(req.query_string())
        .map_err(|e| crate::web::extractors::invalid_query(&e))?
        .into_inner();
    let mut query = params.query()?;
    let (page, generation) = read_stamped(&state, &session, move |conn, who| {
        if let Some(id) = &params.view {
            let view = views::get(conn, &who.actor, id)?;
            if view.record_kind != K::KIND {
                return Err(CrmError::invalid(
                    "view",
                    "is a view of another kind of record",
                ));
            }
            if params.filters.is_none() {
                query.filters = view.filters;
            }
            if query.sort.is_none() {
                query.sort = view.sort;
            }
        }
        list::page(
            conn,
            K::KIND,
            &query,
            &who.visibility.scope(K::KIND),
            who.actor.user_id.as_deref(),
        )
    })
    .await?;
    let body = Bytes::from(serde_json::to_vec(&PageAnswer::of(&page)).map_err(ApiError::internal)?);
    if let Some(generation) = generation {
        state.answers.put(key, generation, body.clone());
    }
    Ok(json_body(body))
}

/// A page as clients get it, serialised straight from the records.
#[derive(serde::Serialize)]
struct PageAnswer<'a> {
    records: Vec<&'a Map<String, Value>>,
    next_cursor: Option<&'a str>,
}

impl<'a> PageAnswer<'a> {
    fn of(page: &'a list::Page) -> Self {
        Self {
            records: page.records.iter().map(|r| &r.body).collect(),
            next_cursor: page.next_cursor.as_deref(),
        }
    }
}

fn json_body(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .body(body)
}

async fn show<K: RecordKind>(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let record = read(&state, &session, move |conn, who| {
        records::get(conn, K::KIND, &id, &who.visibility)
    })
    .await?;
    Ok(one(actix_web::http::StatusCode::OK, &record))
}

async fn create<K: RecordKind>(
    session: TenantSession,
    state: web::Data<AppState>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let users = users_named(&state, &session, K::KIND, &body).await?;
    let record = write(&state, &session, move |conn, who| {
        who.create(conn, K::KIND, &body, &users)
    })
    .await?;
    Ok(one(actix_web::http::StatusCode::CREATED, &record))
}

async fn update<K: RecordKind>(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("{} {id}", K::KIND));
    let expected = required_version(&req)?;
    let body = body.into_inner();
    let users = users_named(&state, &session, K::KIND, &body).await?;
    let record = write(&state, &session, move |conn, who| {
        let input = records::parse(conn, K::KIND, &body, false)?;
        records::update(conn, K::KIND, &id, expected, input, who.env(&users))
    })
    .await?;
    Ok(one(actix_web::http::StatusCode::OK, &record))
}

async fn remove<K: RecordKind>(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("{} {id}", K::KIND));
    let expected = super::if_match(&req)?.version();
    let users = std::collections::HashSet::new();
    write(&state, &session, move |conn, who| {
        records::trash(conn, K::KIND, &id, expected, who.env(&users))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn restore<K: RecordKind>(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("{} {id}", K::KIND));
    let users = std::collections::HashSet::new();
    let record = write(&state, &session, move |conn, who| {
        records::restore(conn, K::KIND, &id, who.env(&users))
    })
    .await?;
    Ok(one(actix_web::http::StatusCode::OK, &record))
}

/// A page of a timeline: entries older than `before`, at most `limit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimelinePage {
    before: Option<i64>,
    limit: Option<u32>,
}

async fn history<K: RecordKind>(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    page: web::Query<TimelinePage>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let TimelinePage { before, limit } = page.into_inner();
    let limit = limit.unwrap_or(50).clamp(1, 200);
    let entries = read(&state, &session, move |conn, who| {
        // The record must be one the caller sees (in the trash too).
        records::find(conn, K::KIND, &id, &who.visibility, false)
            .or_else(|_| records::find(conn, K::KIND, &id, &who.visibility, true))?;
        timeline::page(conn, K::KIND, &id, before, limit)
    })
    .await?;
    let next_before = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(HttpResponse::Ok().json(TimelineAnswer {
        entries,
        next_before,
    }))
}
