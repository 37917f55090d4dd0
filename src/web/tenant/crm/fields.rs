//! Custom field definitions (admins) and the tenant's tags.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::schemas::{FieldAnswer, FieldsAnswer, TagsAnswer};
use super::{read, write};
use crate::crm::custom::{self, FieldDefChange, NewFieldDef};
use crate::crm::{Kind, tags};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    GET "/fields" => list, Access::Tenant(Role::Viewer), 200,
        "Custom field definitions, of one kind of record (`record_kind`) or all", [InvalidQuery], out: FieldsAnswer;
    POST "/fields" => create, Access::Tenant(Role::Admin), 201,
        "Define a custom field: text, long_text, number, money, date, checkbox, select, multi_select, url, email or phone",
        [InvalidInput, Conflict, ReadOnly], in: NewFieldDef, out: FieldAnswer;
    PATCH "/fields/{id}" => change, Access::Tenant(Role::Admin), 200,
        "Rename a custom field, change a select's choices or its place; records are untouched",
        [InvalidInput, ReadOnly], in: FieldDefChange, out: FieldAnswer;
    DELETE "/fields/{id}" => remove, Access::Tenant(Role::Admin), 204,
        "Remove a custom field; values stay in the records, unread, and its key stays taken",
        [ReadOnly];
    GET "/tags" => list_tags, Access::Tenant(Role::Viewer), 200, "Every tag, with how many records carry it", [], out: TagsAnswer;
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Which {
    record_kind: Option<Kind>,
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
    which: web::Query<Which>,
) -> Result<HttpResponse, ApiError> {
    let kinds: Vec<Kind> = which
        .into_inner()
        .record_kind
        .map_or(Kind::ALL.to_vec(), |k| vec![k]);
    let defs = read(&state, &session, move |conn, _| {
        let mut all = Vec::new();
        for kind in kinds {
            all.extend(custom::live(conn, kind)?);
        }
        Ok(all)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FieldsAnswer { fields: defs }))
}

async fn create(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewFieldDef>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    note_target(
        &req,
        format!("custom field {} of {}", new.key, new.record_kind),
    );
    let def = write(&state, &session, move |conn, _| custom::create(conn, &new)).await?;
    Ok(HttpResponse::Created().json(FieldAnswer { field: def }))
}

async fn change(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<FieldDefChange>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("custom field {id}"));
    let change = body.into_inner();
    let def = write(&state, &session, move |conn, _| {
        custom::change(conn, &id, &change)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FieldAnswer { field: def }))
}

async fn remove(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("custom field {id}"));
    write(&state, &session, move |conn, _| custom::remove(conn, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_tags(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let all = read(&state, &session, |conn, _| tags::list(conn)).await?;
    Ok(HttpResponse::Ok().json(TagsAnswer { tags: all }))
}
