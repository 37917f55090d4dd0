//! Operators in the console: who they are, adding one with a first password, deactivating
//! one (their sessions end at once; the last active operator stays). The operator API's
//! functions do the work.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ConsoleChrome;
use crate::error::{ApiError, ErrorCode};
use crate::identity::operators::{self, Operator};
use crate::web::AppState;
use crate::web::admin::{OperatorSession, add_operator, deactivate_operator};
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::ui::{render, see_other};

endpoints! { area: Area::Console;
    GET "/admin/operators" => list, Access::Operator, 200, "The operators page", [];
    POST "/admin/operators" => create, Access::Operator, 303, "Add an operator from the form",
        [InvalidInput, InvalidPassword, OperatorExists];
    POST "/admin/operators/{id}/deactivate" => deactivate, Access::Operator, 303,
        "Deactivate an operator and end their sessions", [OperatorNotFound, LastOperator];
}

#[derive(Template)]
#[template(path = "console_operators.html")]
struct OperatorsPage {
    chrome: ConsoleChrome,
    operators: Vec<Operator>,
    /// The signed-in operator's id: they are marked, not offered deactivation of themselves.
    me: String,
    email: String,
    error: Option<String>,
}

async fn page(
    state: &web::Data<AppState>,
    operator: &OperatorSession,
    email: String,
    refusal: Option<&ApiError>,
) -> Result<HttpResponse, ApiError> {
    let all = state
        .control_db
        .run_as(|conn| operators::list(conn))
        .await?;
    let mut answer = render(&OperatorsPage {
        chrome: ConsoleChrome::new(state, operator, "/admin/operators"),
        operators: all,
        me: operator.operator_id.clone(),
        email,
        error: refusal.map(|e| e.message().to_owned()),
    })?;
    if let Some(err) = refusal {
        *answer.status_mut() = err.code().status();
    }
    Ok(answer)
}

async fn list(
    state: web::Data<AppState>,
    operator: OperatorSession,
) -> Result<HttpResponse, ApiError> {
    page(&state, &operator, String::new(), None).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOperatorForm {
    /// Checked by the gate.
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    email: String,
    password: String,
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: OperatorSession,
    form: web::Form<NewOperatorForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    match add_operator(&req, &state, &form.email, &form.password).await {
        Ok(_) => Ok(see_other("/admin/operators")),
        Err(err) if err.code() != ErrorCode::Internal => {
            page(&state, &operator, form.email, Some(&err)).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct IdParam {
    id: String,
}

async fn deactivate(
    req: HttpRequest,
    state: web::Data<AppState>,
    operator: OperatorSession,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("operator {id}"));
    match deactivate_operator(&state, id).await {
        Ok(_) => Ok(see_other("/admin/operators")),
        Err(err) if err.code() == ErrorCode::LastOperator => {
            page(&state, &operator, String::new(), Some(&err)).await
        }
        Err(err) => Err(err),
    }
}
