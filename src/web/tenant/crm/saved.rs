//! Saved views and the trash.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::schemas::{PurgedAnswer, TrashAnswer, ViewAnswer, ViewsAnswer};
use super::{read, write};
use crate::crm::views::{self, ViewInput};
use crate::crm::{Kind, trash};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    GET "/views" => list_views, Access::Tenant(Role::Viewer), 200,
        "Your saved views and the shared ones, of `record_kind` or all", [InvalidQuery], out: ViewsAnswer;
    POST "/views" => create_view, Access::Tenant(Role::Viewer), 201,
        "Save a view: name, filters, sort, columns; `shared` (admins) for the whole tenant",
        [InvalidInput, Conflict, ReadOnly], in: ViewInput, out: ViewAnswer;
    PATCH "/views/{id}" => change_view, Access::Tenant(Role::Viewer), 200,
        "Change a view of yours (admins: a shared one)", [InvalidInput, NotYourRecord, ReadOnly], in: ViewInput, out: ViewAnswer;
    DELETE "/views/{id}" => remove_view, Access::Tenant(Role::Viewer), 204,
        "Remove a view of yours (admins: a shared one)", [NotYourRecord, ReadOnly];
    GET "/trash" => list_trash, Access::Tenant(Role::Member), 200,
        "What you may restore from the trash (admins: everything), with when it goes for good",
        [InvalidQuery], out: TrashAnswer;
    DELETE "/trash" => empty_trash, Access::Tenant(Role::Admin), 200,
        "Empty the trash: its records are purged for good", [ReadOnly], out: PurgedAnswer;
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Which {
    record_kind: Option<Kind>,
}

async fn list_views(
    session: TenantSession,
    state: web::Data<AppState>,
    which: web::Query<Which>,
) -> Result<HttpResponse, ApiError> {
    let kind = which.into_inner().record_kind;
    let all = read(&state, &session, move |conn, who| {
        views::list(conn, &who.actor, kind)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ViewsAnswer { views: all }))
}

async fn create_view(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ViewInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    note_target(
        &req,
        format!("view {:?}", input.name.as_deref().unwrap_or_default()),
    );
    let view = write(&state, &session, move |conn, who| {
        views::create(conn, &who.actor, input)
    })
    .await?;
    Ok(HttpResponse::Created().json(ViewAnswer { view }))
}

async fn change_view(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<ViewInput>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("view {id}"));
    let input = body.into_inner();
    let view = write(&state, &session, move |conn, who| {
        views::change(conn, &who.actor, &id, input)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ViewAnswer { view }))
}

async fn remove_view(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("view {id}"));
    write(&state, &session, move |conn, who| {
        views::remove(conn, &who.actor, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrashPage {
    /// Most records of each kind (default 50, at most 200).
    limit: Option<u32>,
}

/// Listing purges what is past its time, so it runs as a write.
async fn list_trash(
    session: TenantSession,
    state: web::Data<AppState>,
    page: web::Query<TrashPage>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.into_inner().limit.unwrap_or(50).clamp(1, 200);
    let all = trashed(&state, &session, limit).await?;
    Ok(HttpResponse::Ok().json(TrashAnswer { records: all }))
}

/// What the caller may restore from the trash, at most `limit` per kind; purges what is past
/// its time first unless the appliance is read-only (the trash's page shares this).
pub(crate) async fn trashed(
    state: &web::Data<AppState>,
    session: &TenantSession,
    limit: u32,
) -> Result<Vec<trash::Trashed>, ApiError> {
    let frozen = state.license.effective().may_write().is_err();
    if frozen {
        read(state, session, move |conn, who| {
            trash::list(conn, &who.actor, &who.visibility, limit, false)
        })
        .await
    } else {
        write(state, session, move |conn, who| {
            trash::list(conn, &who.actor, &who.visibility, limit, true)
        })
        .await
    }
}

async fn empty_trash(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    note_target(&req, "trash");
    let purged = write(&state, &session, |conn, _| trash::empty(conn)).await?;
    Ok(HttpResponse::Ok().json(PurgedAnswer { purged }))
}
