//! Pipelines, their stages, the board, and moving a deal between stages.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::records::Deals;
use super::records::one;
use super::schemas::{AnswerOf, BoardAnswer, PipelineAnswer, PipelinesAnswer, StageAnswer};
use super::{read, write};
use crate::crm::pipelines::{self, NewPipeline, NewStage, PipelineChange, StageChange};
use crate::crm::{Kind, board};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    GET "/pipelines" => list, Access::Tenant(Role::Viewer), 200, "Every pipeline with its stages, in order", [], out: PipelinesAnswer;
    POST "/pipelines" => create, Access::Tenant(Role::Admin), 201, "Add a pipeline with its stages",
        [InvalidInput, Conflict, ReadOnly], in: NewPipeline, out: PipelineAnswer;
    PATCH "/pipelines/{id}" => change, Access::Tenant(Role::Admin), 200,
        "Rename a pipeline or re-order its stages", [InvalidInput, ReadOnly], in: PipelineChange, out: PipelineAnswer;
    DELETE "/pipelines/{id}" => remove, Access::Tenant(Role::Admin), 204,
        "Remove a pipeline; its deals move to the stage `move_to` of another pipeline",
        [InvalidInput, InvalidQuery, Conflict, ReadOnly];
    POST "/pipelines/{id}/stages" => add_stage, Access::Tenant(Role::Admin), 201,
        "Add a stage at the end of a pipeline", [InvalidInput, Conflict, ReadOnly], in: NewStage, out: StageAnswer;
    PATCH "/stages/{id}" => change_stage, Access::Tenant(Role::Admin), 200,
        "Rename a stage, or change its probability or kind (its deals' status follows)",
        [InvalidInput, ReadOnly], in: StageChange, out: StageAnswer;
    DELETE "/stages/{id}" => remove_stage, Access::Tenant(Role::Admin), 204,
        "Remove a stage; its deals move to the stage `move_to` of the same pipeline",
        [InvalidInput, InvalidQuery, Conflict, ReadOnly];
    GET "/pipelines/{id}/board" => show_board, Access::Tenant(Role::Viewer), 200,
        "The board: each stage with counts, value and weighted value per currency, and its first deals (`owner`: a user's id or `me`, only their deals)",
        [InvalidQuery, InvalidInput], out: BoardAnswer;
    POST "/deals/{id}/move" => move_deal, Access::Tenant(Role::Member), 200,
        "Move a deal to a stage (of its pipeline or another); its status follows the stage",
        [InvalidInput, VersionMismatch, BadRequest, ReadOnly], in: Move, out: AnswerOf<Deals>;
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let all = read(&state, &session, |conn, _| pipelines::list(conn)).await?;
    Ok(HttpResponse::Ok().json(PipelinesAnswer { pipelines: all }))
}

async fn create(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewPipeline>,
) -> Result<HttpResponse, ApiError> {
    let new = body.into_inner();
    note_target(&req, format!("pipeline {:?}", new.name));
    let pipeline = write(&state, &session, move |conn, _| {
        pipelines::create(conn, &new)
    })
    .await?;
    Ok(HttpResponse::Created().json(PipelineAnswer { pipeline }))
}

async fn change(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<PipelineChange>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("pipeline {id}"));
    let change = body.into_inner();
    let pipeline = write(&state, &session, move |conn, _| {
        pipelines::change(conn, &id, &change)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PipelineAnswer { pipeline }))
}

/// Where the deals of a removed stage or pipeline go.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveTo {
    move_to: Option<String>,
}

async fn remove(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    target: web::Query<MoveTo>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("pipeline {id}"));
    let move_to = target.into_inner().move_to;
    write(&state, &session, move |conn, who| {
        pipelines::remove(conn, &id, move_to.as_deref(), &who.actor.name)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn add_stage(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<NewStage>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("pipeline {id}"));
    let new = body.into_inner();
    let changed = write(&state, &session, move |conn, _| {
        pipelines::add_stage(conn, &id, &new)
    })
    .await?;
    Ok(HttpResponse::Created().json(StageAnswer { stage: changed }))
}

async fn change_stage(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<StageChange>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("stage {id}"));
    let change = body.into_inner();
    let changed = write(&state, &session, move |conn, who| {
        pipelines::change_stage(conn, &id, &change, &who.actor.name)
    })
    .await?;
    Ok(HttpResponse::Ok().json(StageAnswer { stage: changed }))
}

async fn remove_stage(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    target: web::Query<MoveTo>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("stage {id}"));
    let move_to = target.into_inner().move_to;
    write(&state, &session, move |conn, who| {
        pipelines::remove_stage(conn, &id, move_to.as_deref(), &who.actor.name)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// How much of each stage the board shows.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardParams {
    /// Deals shown per stage (default 20, at most 100).
    per_stage: Option<u32>,
    /// Won and lost stages show deals closed within this many days (default 30).
    closed_within_days: Option<u32>,
    /// Only the deals of this owner (a user's id, or `me`).
    owner: Option<String>,
}

async fn show_board(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    params: web::Query<BoardParams>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let BoardParams {
        per_stage,
        closed_within_days,
        owner,
    } = params.into_inner();
    let days = i64::from(closed_within_days.unwrap_or(30).min(3650));
    let since = crate::crm::now() - days * 86_400;
    let columns = read(&state, &session, move |conn, who| {
        let owner = match owner.as_deref() {
            Some("me") => Some(who.actor.user_id.clone().unwrap_or_default()),
            other => other.map(str::to_owned),
        };
        board::board(
            conn,
            &id,
            &who.visibility.scope(Kind::Deal),
            per_stage.unwrap_or(20),
            since,
            owner.as_deref(),
        )
    })
    .await?;
    let totals = board::by_currency(&columns);
    Ok(HttpResponse::Ok().json(BoardAnswer {
        stages: columns,
        totals,
    }))
}

/// Where a deal goes.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    stage_id: String,
    lost_reason: Option<String>,
}

async fn move_deal(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<Move>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("deal {id}"));
    let expected = super::if_match(&req)?.version();
    let Move {
        stage_id,
        lost_reason,
    } = body.into_inner();
    let users = std::collections::HashSet::new();
    let deal = write(&state, &session, move |conn, who| {
        pipelines::move_deal(conn, &id, &stage_id, lost_reason, expected, who.env(&users))
    })
    .await?;
    Ok(one(actix_web::http::StatusCode::OK, &deal))
}
