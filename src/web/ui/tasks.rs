//! My tasks: the open tasks assigned to the signed-in user, grouped by when they are due
//! (overdue, today, upcoming, no date — today as it is in the reader's zone), each with a form
//! that marks it done, and a form that adds one. The API's list, create and update.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::activity::{self, ActivityView, filter};
use super::reader_zone::ReaderZone;
use super::{Chrome, render, see_other};
use crate::crm::Kind;
use crate::crm::list::Op;
use crate::crm::records;
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession, crm_read as read, crm_write as write};
use crate::zone::Zone;

endpoints! { area: Area::TenantApp;
    GET "/tasks" => page, Access::Tenant(Role::Viewer), 200,
        "My tasks: the open tasks assigned to me, by when they are due", [];
    POST "/tasks" => add, Access::Tenant(Role::Member), 303,
        "Add a task (subject, due date, body) assigned to me; back to my tasks",
        [InvalidInput, ReadOnly];
    POST "/tasks/{id}/done" => done, Access::Tenant(Role::Member), 303,
        "Mark a task done (its version posted); back to my tasks",
        [InvalidInput, BadRequest, VersionMismatch, ReadOnly];
}

/// Most tasks the page lists.
const MOST: usize = 500;

struct Group {
    key: &'static str,
    title: &'static str,
    tasks: Vec<ActivityView>,
}

/// What the form to add a task holds.
#[derive(Debug, Default, Deserialize)]
struct TaskForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    due_at: String,
    #[serde(default)]
    body: String,
}

/// A field of the form to add a task.
struct FormField {
    name: &'static str,
    label: &'static str,
    control: &'static str,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    chrome: Chrome,
    /// The zone "today" is cut by.
    zone: String,
    groups: Vec<Group>,
    /// Subject and due date, with what was typed and their refusals.
    fields: Vec<FormField>,
    body: String,
    /// A refusal that names no field of the form.
    form_error: Option<String>,
}

/// The form's fields as typed, with the refusal next to the field it names.
fn form_fields(
    form: TaskForm,
    refusal: Option<&ApiError>,
) -> (Vec<FormField>, String, Option<String>) {
    let (named, why) = match refusal.map(|e| (e.message(), e.message().split_once(": "))) {
        None => (None, None),
        Some((_, Some((field, why)))) => (Some(field.to_owned()), Some(why.to_owned())),
        Some((message, None)) => (None, Some(message.to_owned())),
    };
    let mut placed = false;
    let mut field = |name, label, control, value| {
        let error = (named.as_deref() == Some(name))
            .then(|| why.clone())
            .flatten();
        placed |= error.is_some();
        FormField {
            name,
            label,
            control,
            value,
            error,
        }
    };
    let fields = vec![
        field("subject", "Subject", "text", form.subject),
        field("due_at", "Due date", "date", form.due_at),
    ];
    let general = if placed {
        None
    } else {
        refusal.map(|e| e.message().to_owned())
    };
    (fields, form.body, general)
}

async fn tasks_page(
    state: &web::Data<AppState>,
    session: &TenantSession,
    zone: &Zone,
    form: TaskForm,
    refusal: Option<&ApiError>,
) -> Result<HttpResponse, ApiError> {
    let filters = vec![
        filter("kind", Op::Eq, json!("task")),
        filter("assignee_id", Op::Eq, json!("me")),
        filter("done_at", Op::Empty, Value::Null),
    ];
    let mine = read(state, session, move |conn, who| {
        let scope = who.visibility.scope(Kind::Activity);
        let me = who.actor.user_id.as_deref();
        activity::select(conn, filters, Some("due_at"), MOST, (&scope, me))
    })
    .await?;
    let today = zone.today();
    let mut groups = [
        ("overdue", "Overdue"),
        ("today", "Today"),
        ("upcoming", "Upcoming"),
        ("undated", "No date"),
    ]
    .map(|(key, title)| Group {
        key,
        title,
        tasks: Vec::new(),
    });
    for task in mine.iter().map(|task| activity::view(task, zone)) {
        let at = match task.due.as_ref().map(|d| d.day) {
            Some(day) if day < today => 0,
            Some(day) if day == today => 1,
            Some(_) => 2,
            None => 3,
        };
        groups[at].tasks.push(task);
    }
    let (fields, body, form_error) = form_fields(form, refusal);
    let mut page = render(&TasksPage {
        chrome: Chrome::new(state, session, "/tasks"),
        zone: zone.name().to_owned(),
        groups: groups.into_iter().collect(),
        fields,
        body,
        form_error,
    })?;
    if let Some(err) = refusal {
        *page.status_mut() = err.code().status();
    }
    Ok(page)
}

async fn page(
    session: TenantSession,
    state: web::Data<AppState>,
    ReaderZone(zone): ReaderZone,
) -> Result<HttpResponse, ApiError> {
    tasks_page(&state, &session, &zone, TaskForm::default(), None).await
}

/// The API's body of a task typed in the form.
fn task_body(form: &TaskForm) -> Result<Map<String, Value>, ApiError> {
    let mut body = Map::new();
    body.insert("kind".into(), json!("task"));
    body.insert("subject".into(), json!(form.subject.trim()));
    if !form.body.trim().is_empty() {
        body.insert("body".into(), json!(form.body.trim()));
    }
    if let Some(due) = activity::typed_day("due_at", &form.due_at)? {
        body.insert("due_at".into(), json!(due));
    }
    Ok(body)
}

async fn add(
    session: TenantSession,
    state: web::Data<AppState>,
    ReaderZone(zone): ReaderZone,
    form: web::Form<TaskForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let made = match task_body(&form) {
        Ok(body) => activity::create(&state, &session, body).await,
        Err(err) => Err(err),
    };
    match made {
        Ok(_) => Ok(see_other(&format!(
            "{}/tasks",
            session.current.pages_base()
        ))),
        Err(err) if err.code() == ErrorCode::InvalidInput => {
            tasks_page(&state, &session, &zone, form, Some(&err)).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct DoneForm {
    version: i64,
}

async fn done(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<DoneForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("activity {id}"));
    let expected = form.version;
    write(&state, &session, move |conn, who| {
        let body = Map::from_iter([("done_at".to_owned(), json!(activity::now_text()))]);
        let input = records::parse(conn, Kind::Activity, &body, false)?;
        let users = HashSet::new();
        records::update(
            conn,
            Kind::Activity,
            &id,
            Some(expected),
            input,
            who.env(&users),
        )
    })
    .await?;
    Ok(see_other(&format!(
        "{}/tasks",
        session.current.pages_base()
    )))
}
