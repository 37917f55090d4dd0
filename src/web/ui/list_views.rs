//! Saved views from a table: save what the table shows (its filters, sort and columns, or the
//! view it shows) under a name — shared with the tenant if an admin asks —, rename or delete
//! a view. The API's functions (`crm::views`) and so its rules: a view is its owner's, and
//! only admins share views or change shared ones. Back to the table with a word of what
//! happened.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::chrome::query_escape;
use super::list_query::{State, Table, resolve, table_of};
use super::see_other;
use crate::crm::Kind;
use crate::crm::views::{self, ViewInput};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession, crm_write as write};

endpoints! { area: Area::TenantApp;
    POST "/views" => save, Access::Tenant(Role::Viewer), 303,
        "Save what a table shows (`kind`, `back`: its query) as a view named `name`; `shared` (admins) for everyone; on to the view",
        [InvalidInput, Conflict, ReadOnly];
    POST "/views/{id}/rename" => rename, Access::Tenant(Role::Viewer), 303,
        "Rename a view of yours (admins: a shared one); back to the table",
        [InvalidInput, NotFound, NotYourRecord, ReadOnly];
    POST "/views/{id}/delete" => delete, Access::Tenant(Role::Viewer), 303,
        "Delete a view of yours (admins: a shared one); back to the table",
        [InvalidInput, NotFound, NotYourRecord, ReadOnly];
}

#[derive(Debug, Deserialize)]
struct ViewForm {
    kind: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    name: String,
    shared: Option<String>,
}

fn table(kind: &str) -> Result<&'static Table, ApiError> {
    Kind::parse(kind)
        .and_then(table_of)
        .ok_or_else(|| ApiError::with_message(ErrorCode::InvalidInput, "kind: no such table."))
}

/// To `table` with `query` and the word `done`.
fn back_to(session: &TenantSession, table: &Table, query: &str, done: &str) -> HttpResponse {
    let sep = if query.is_empty() { "" } else { "&" };
    see_other(&format!(
        "{}{}?{query}{sep}done={}",
        session.current.pages_base(),
        table.path,
        query_escape(done)
    ))
}

async fn save(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    form: web::Form<ViewForm>,
) -> Result<HttpResponse, ApiError> {
    let ViewForm {
        kind,
        back,
        name,
        shared,
    } = form.into_inner();
    let table = table(&kind)?;
    let asked = State::from_back(&back)?;
    note_target(&req, format!("view {name:?}"));
    let view = write(&state, &session, move |conn, who| {
        // Saved from an applied view: a copy of it.
        let applied = match &asked.view {
            Some(id) => Some(views::get(conn, &who.actor, id)?),
            None => None,
        };
        let resolved = resolve(table, &asked, applied.as_ref());
        let input = ViewInput {
            record_kind: Some(table.kind),
            name: Some(name),
            shared: Some(shared.is_some()),
            filters: Some(resolved.filters),
            sort: Some(resolved.sort),
            columns: Some(resolved.columns),
        };
        views::create(conn, &who.actor, input)
    })
    .await?;
    let query = format!("view={}", query_escape(&view.id));
    Ok(back_to(
        &session,
        table,
        &query,
        &format!("Saved the view {}.", view.name),
    ))
}

async fn rename(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<ViewForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let ViewForm {
        kind, back, name, ..
    } = form.into_inner();
    let table = table(&kind)?;
    let query = State::from_back(&back)?.query();
    note_target(&req, format!("view {id}"));
    let view = write(&state, &session, move |conn, who| {
        let input = ViewInput {
            record_kind: None,
            name: Some(name),
            shared: None,
            filters: None,
            sort: None,
            columns: None,
        };
        views::change(conn, &who.actor, &id, input)
    })
    .await?;
    Ok(back_to(
        &session,
        table,
        &query,
        &format!("Renamed the view to {}.", view.name),
    ))
}

async fn delete(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<ViewForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let table = table(&form.kind)?;
    note_target(&req, format!("view {id}"));
    write(&state, &session, move |conn, who| {
        views::remove(conn, &who.actor, &id)
    })
    .await?;
    Ok(back_to(&session, table, "", "Deleted the view."))
}
