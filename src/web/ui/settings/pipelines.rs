//! Pipelines and their stages as admins shape them: rename, add, re-order, change a stage's
//! win probability and kind, remove a stage or a pipeline — whose deals move to a stage
//! chosen in the same form, so no deal is ever orphaned. Each form is one call of
//! `crm::pipelines`, as the API's routes are.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::crm::CrmError;
use crate::crm::pipelines::{self, NewPipeline, NewStage, Pipeline, PipelineChange, StageChange};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession, crm_read as read, crm_write as write};
use crate::web::ui::{Chrome, render};

endpoints! { area: Area::TenantApp;
    GET "/settings/pipelines" => show, Access::Tenant(Role::Admin), 200,
        "Pipelines and their stages", [];
    POST "/settings/pipelines" => create, Access::Tenant(Role::Admin), 303,
        "Add a pipeline with its stages (one per line)", [InvalidInput, Conflict, ReadOnly];
    POST "/settings/pipelines/{id}" => rename, Access::Tenant(Role::Admin), 303,
        "Rename a pipeline", [InvalidInput, ReadOnly];
    POST "/settings/pipelines/{id}/delete" => remove, Access::Tenant(Role::Admin), 303,
        "Remove a pipeline, its deals moved to a stage of another", [InvalidInput, Conflict, ReadOnly];
    POST "/settings/pipelines/{id}/stages" => add_stage, Access::Tenant(Role::Admin), 303,
        "Add a stage at the end of a pipeline", [InvalidInput, Conflict, ReadOnly];
    POST "/settings/stages/{id}" => change_stage, Access::Tenant(Role::Admin), 303,
        "Change a stage's name, probability and kind", [InvalidInput, ReadOnly];
    POST "/settings/stages/{id}/move" => move_stage, Access::Tenant(Role::Admin), 303,
        "Move a stage one place up or down", [InvalidInput, ReadOnly];
    POST "/settings/stages/{id}/delete" => remove_stage, Access::Tenant(Role::Admin), 303,
        "Remove a stage, its deals moved to another stage", [InvalidInput, Conflict, ReadOnly];
}

/// A stage a removed stage's or pipeline's deals may go to.
struct Target {
    id: String,
    label: String,
}

#[derive(Template)]
#[template(path = "settings_pipelines.html")]
struct PipelinesPage {
    chrome: Chrome,
    pipelines: Vec<Pipeline>,
    error: Option<String>,
}

impl PipelinesPage {
    /// Where the deals of a removed `stage` may go: the other stages of its pipeline.
    fn siblings(pipeline: &Pipeline, stage: &str) -> Vec<Target> {
        pipeline
            .stages
            .iter()
            .filter(|s| s.id != stage)
            .map(|s| Target {
                id: s.id.clone(),
                label: s.name.clone(),
            })
            .collect()
    }

    /// Where the deals of a removed pipeline may go: the stages of every other pipeline.
    fn elsewhere(&self, pipeline: &str) -> Vec<Target> {
        self.pipelines
            .iter()
            .filter(|p| p.id != pipeline)
            .flat_map(|p| {
                p.stages.iter().map(|s| Target {
                    id: s.id.clone(),
                    label: format!("{} — {}", p.name, s.name),
                })
            })
            .collect()
    }
}

async fn page(
    session: &TenantSession,
    state: &web::Data<AppState>,
    refusal: Option<ApiError>,
) -> Result<HttpResponse, ApiError> {
    let all = read(state, session, |conn, _| pipelines::list(conn)).await?;
    let status = refusal.as_ref().map(|e| e.code().status());
    let answer = render(&PipelinesPage {
        chrome: Chrome::new(state, session, "/settings"),
        pipelines: all,
        error: refusal.map(|e| e.message().to_owned()),
    })?;
    Ok(super::with_status(answer, status))
}

async fn show(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    page(&session, &state, None).await
}

/// Does one change in a write transaction; back to the page, or the page with the refusal.
async fn change<F>(
    session: &TenantSession,
    state: &web::Data<AppState>,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&rusqlite::Connection, &str) -> Result<(), CrmError> + Send + 'static,
{
    let done = write(state, session, move |conn, who| work(conn, &who.actor.name)).await;
    super::after_form(session, done, "/settings/pipelines", |err| {
        page(session, state, Some(err))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPipelineForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    name: String,
    /// One stage per line; the last ones named "won" and "lost" are of those kinds.
    stages: String,
}

/// The stages typed one per line: a line "Won" or "Lost" makes a stage of that kind.
fn stages_of(lines: &str) -> Vec<NewStage> {
    lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|name| NewStage {
            name: name.to_owned(),
            probability: None,
            kind: match name.to_lowercase().as_str() {
                "won" | "closed won" => "won",
                "lost" | "closed lost" => "lost",
                _ => "open",
            }
            .to_owned(),
        })
        .collect()
}

async fn create(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<NewPipelineForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    note_target(&req, format!("pipeline {:?}", form.name));
    let new = NewPipeline {
        stages: stages_of(&form.stages),
        name: form.name,
    };
    change(&session, &state, move |conn, _| {
        pipelines::create(conn, &new).map(|_| ())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    name: String,
}

async fn rename(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("pipeline {id}"));
    let renamed = PipelineChange {
        name: Some(form.into_inner().name),
        stage_order: None,
    };
    change(&session, &state, move |conn, _| {
        pipelines::change(conn, &id, &renamed).map(|_| ())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveToForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    #[serde(default)]
    move_to: String,
}

async fn remove(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<MoveToForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("pipeline {id}"));
    let move_to = Some(form.into_inner().move_to).filter(|m| !m.is_empty());
    change(&session, &state, move |conn, actor| {
        pipelines::remove(conn, &id, move_to.as_deref(), actor)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    name: String,
    #[serde(default)]
    probability: String,
    #[serde(default)]
    kind: String,
}

impl StageForm {
    fn probability(&self) -> Result<Option<i64>, CrmError> {
        match self.probability.trim().trim_end_matches('%').trim() {
            "" => Ok(None),
            text => text.parse().map(Some).map_err(|_| {
                CrmError::invalid("probability", "must be a whole number from 0 to 100")
            }),
        }
    }
}

async fn add_stage(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<StageForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("pipeline {id}"));
    let form = form.into_inner();
    change(&session, &state, move |conn, _| {
        let new = NewStage {
            probability: form.probability()?,
            kind: if form.kind.is_empty() {
                "open".to_owned()
            } else {
                form.kind.clone()
            },
            name: form.name,
        };
        pipelines::add_stage(conn, &id, &new).map(|_| ())
    })
    .await
}

async fn change_stage(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<StageForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("stage {id}"));
    let form = form.into_inner();
    change(&session, &state, move |conn, actor| {
        let changed = StageChange {
            probability: form.probability()?,
            kind: Some(form.kind.clone()).filter(|k| !k.is_empty()),
            name: Some(form.name),
        };
        pipelines::change_stage(conn, &id, &changed, actor).map(|_| ())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectionForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    direction: String,
}

async fn move_stage(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<DirectionForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("stage {id}"));
    let up = form.into_inner().direction == "up";
    change(&session, &state, move |conn, _| {
        let moved = pipelines::stage(conn, &id)?;
        let mut order: Vec<String> = pipelines::stages(conn, &moved.pipeline_id)?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let at = order.iter().position(|s| *s == id).unwrap_or(0);
        let other = if up {
            at.checked_sub(1)
        } else {
            Some(at + 1).filter(|i| *i < order.len())
        };
        let Some(other) = other else {
            return Ok(());
        };
        order.swap(at, other);
        let reordered = PipelineChange {
            name: None,
            stage_order: Some(order),
        };
        pipelines::change(conn, &moved.pipeline_id, &reordered).map(|_| ())
    })
    .await
}

async fn remove_stage(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<MoveToForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("stage {id}"));
    let move_to = Some(form.into_inner().move_to).filter(|m| !m.is_empty());
    change(&session, &state, move |conn, actor| {
        pipelines::remove_stage(conn, &id, move_to.as_deref(), actor)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::stages_of;

    #[test]
    fn stages_are_typed_one_per_line_and_won_and_lost_are_closed() {
        let stages = stages_of("Lead\n  Demo \n\nWon\nclosed lost\n");
        let kinds: Vec<(&str, &str)> = stages
            .iter()
            .map(|s| (s.name.as_str(), s.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Lead", "open"),
                ("Demo", "open"),
                ("Won", "won"),
                ("closed lost", "lost")
            ]
        );
    }
}
