//! Teams, who sees which records, and the tenant's CRM settings.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::schemas::{SettingsAnswer, TeamAnswer, TeamsAnswer, VisibilityAnswer};
use super::{all_users, read, write};
use crate::crm::settings::{self, SettingsChange};
use crate::crm::teams::{self, Rules, TeamInput};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    GET "/teams" => list, Access::Tenant(Role::Viewer), 200, "Every team with its members", [], out: TeamsAnswer;
    POST "/teams" => create, Access::Tenant(Role::Admin), 201, "Make a team of users",
        [InvalidInput, Conflict, ReadOnly], in: TeamInput, out: TeamAnswer;
    PATCH "/teams/{id}" => change, Access::Tenant(Role::Admin), 200,
        "Rename a team or replace its members", [InvalidInput, Conflict, ReadOnly], in: TeamInput, out: TeamAnswer;
    DELETE "/teams/{id}" => remove, Access::Tenant(Role::Admin), 204,
        "Remove a team; its members' records stay theirs", [ReadOnly];
    GET "/visibility" => show_rules, Access::Tenant(Role::Viewer), 200,
        "Who sees each kind of record: all, or own_and_team", [], out: VisibilityAnswer;
    PUT "/visibility" => set_rules, Access::Tenant(Role::Admin), 200,
        "Set who sees each kind of record (admins and owners always see all)",
        [ReadOnly], in: Rules, out: VisibilityAnswer;
    GET "/settings" => show_settings, Access::Tenant(Role::Viewer), 200, "The tenant's CRM settings", [], out: SettingsAnswer;
    PATCH "/settings" => change_settings, Access::Tenant(Role::Owner), 200,
        "Change the default currency, the trash's retention or the largest attachment",
        [InvalidInput, ReadOnly], in: SettingsChange, out: SettingsAnswer;
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let all = read(&state, &session, |conn, _| teams::list(conn)).await?;
    Ok(HttpResponse::Ok().json(TeamsAnswer { teams: all }))
}

async fn create(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<TeamInput>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    note_target(
        &req,
        format!("team {:?}", input.name.as_deref().unwrap_or_default()),
    );
    let users = all_users(&state, &session).await?;
    let team = write(&state, &session, move |conn, _| {
        teams::create(conn, &input, &|id| users.contains(id))
    })
    .await?;
    Ok(HttpResponse::Created().json(TeamAnswer { team }))
}

async fn change(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<TeamInput>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("team {id}"));
    let input = body.into_inner();
    let users = all_users(&state, &session).await?;
    let team = write(&state, &session, move |conn, _| {
        teams::change(conn, &id, &input, &|user| users.contains(user))
    })
    .await?;
    Ok(HttpResponse::Ok().json(TeamAnswer { team }))
}

async fn remove(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("team {id}"));
    write(&state, &session, move |conn, _| teams::remove(conn, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn show_rules(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rules = read(&state, &session, |conn, _| teams::rules(conn)).await?;
    Ok(HttpResponse::Ok().json(VisibilityAnswer { visibility: rules }))
}

async fn set_rules(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Rules>,
) -> Result<HttpResponse, ApiError> {
    let rules = body.into_inner();
    note_target(&req, format!("visibility {}", json!(rules)));
    let rules = write(&state, &session, move |conn, _| {
        teams::set_rules(conn, &rules)?;
        teams::rules(conn)
    })
    .await?;
    Ok(HttpResponse::Ok().json(VisibilityAnswer { visibility: rules }))
}

async fn show_settings(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let current = read(&state, &session, |conn, _| settings::get(conn)).await?;
    Ok(HttpResponse::Ok().json(SettingsAnswer { settings: current }))
}

async fn change_settings(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SettingsChange>,
) -> Result<HttpResponse, ApiError> {
    let change = body.into_inner();
    note_target(&req, "crm settings");
    let current = write(&state, &session, move |conn, _| {
        settings::change(conn, &change)
    })
    .await?;
    Ok(HttpResponse::Ok().json(SettingsAnswer { settings: current }))
}
