//! What a record's page does besides editing it: move it to the trash (with the version the
//! page showed, so a stale page cannot trash a changed record), and list and add the
//! activities linked to it — a note, a task or a logged call — through the API's list and
//! create.

use std::collections::{BTreeMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, web};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::activity::{self, ActivityView, filter};
use super::reader_zone::ReaderZone;
use super::record::{PageKind, load, record_page};
use super::{Chrome, see_other};
use crate::crm::list::Op;
use crate::crm::records;
use crate::crm::visibility::Scope;
use crate::crm::{CrmError, Kind};
use crate::error::{ApiError, ErrorCode};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::tenant::{IdParam, TenantSession, crm_write as write};
use crate::zone::Zone;

/// Most activities a record's page lists.
const MOST: usize = 100;

/// The kinds of activity a record's page adds, and what the form calls them.
pub const KINDS: &[(&str, &str)] = &[("note", "Note"), ("task", "Task"), ("call", "Logged call")];

/// The form that adds an activity, as typed, and its refusal.
#[derive(Debug, Default, Deserialize)]
pub struct ActivityForm {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub due_at: String,
    #[serde(skip)]
    pub error: Option<String>,
}

/// The activities linked to a record, newest first.
pub fn linked_activities(
    conn: &Connection,
    (scope, me): (&Scope, Option<&str>),
    kind: Kind,
    id: &str,
    zone: &Zone,
) -> Result<Vec<ActivityView>, CrmError> {
    let link = filter("links", Op::Eq, json!({ "kind": kind.as_str(), "id": id }));
    let found = activity::select(conn, vec![link], None, MOST, (scope, me))?;
    Ok(found
        .iter()
        .map(|found| activity::view(found, zone))
        .collect())
}

pub async fn trash<K: PageKind>(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("{} {id}", K::KIND));
    let expected = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| {
            ApiError::with_message(ErrorCode::InvalidInput, "version: the form has no version.")
        })?;
    let record_id = id.clone();
    let trashed = write(&state, &session, move |conn, who| {
        let users = HashSet::new();
        records::trash(conn, K::KIND, &record_id, Some(expected), who.env(&users))
    })
    .await;
    match trashed {
        Ok(()) => Ok(see_other(&format!(
            "{}/{}",
            session.current.pages_base(),
            K::BACK.0
        ))),
        Err(err) if err.code() == ErrorCode::VersionMismatch => {
            let ReaderZone(zone) = ReaderZone::of(&req);
            let loaded = load::<K>(&state, &session, &zone, id).await?;
            let chrome = Chrome::new(&state, &session, &format!("/{}", K::BACK.0));
            let why = ApiError::with_message(
                ErrorCode::VersionMismatch,
                format!(
                    "This {} changed after the page was opened, so it was not moved to the trash. Here it is as it is now.",
                    K::NOUN
                ),
            );
            record_page::<K>(chrome, loaded, None, Some(&why), ActivityForm::default())
        }
        Err(err) => Err(err),
    }
}

/// The API's body of the activity typed in the form, linked to the record.
fn activity_body(
    form: &ActivityForm,
    kind: Kind,
    id: &str,
) -> Result<Map<String, Value>, ApiError> {
    if !KINDS.iter().any(|(k, _)| *k == form.kind) {
        return Err(ApiError::with_message(
            ErrorCode::InvalidInput,
            "type: must be a note, a task or a logged call.",
        ));
    }
    let mut body = Map::new();
    body.insert("kind".into(), json!(form.kind));
    body.insert("subject".into(), json!(form.subject.trim()));
    if !form.body.trim().is_empty() {
        body.insert("body".into(), json!(form.body.trim()));
    }
    match form.kind.as_str() {
        "task" => {
            if let Some(due) = activity::typed_day("due_at", &form.due_at)? {
                body.insert("due_at".into(), json!(due));
            }
        }
        // A logged call happened: it is done when it is logged.
        "call" => {
            body.insert("done_at".into(), json!(activity::now_text()));
        }
        _ => {}
    }
    body.insert("links".into(), json!([{ "kind": kind.as_str(), "id": id }]));
    Ok(body)
}

pub async fn add_activity<K: PageKind>(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<ActivityForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let mut form = form.into_inner();
    let made = match activity_body(&form, K::KIND, &id) {
        Ok(body) => activity::create(&state, &session, body).await,
        Err(err) => Err(err),
    };
    match made {
        Ok(_) => Ok(see_other(&format!(
            "{}/{}/{id}#activities-title",
            session.current.pages_base(),
            K::PLURAL
        ))),
        Err(err) if err.code() == ErrorCode::InvalidInput => {
            let ReaderZone(zone) = ReaderZone::of(&req);
            let loaded = load::<K>(&state, &session, &zone, id).await?;
            let chrome = Chrome::new(&state, &session, &format!("/{}", K::BACK.0));
            form.error = Some(err.message().to_owned());
            let mut page = record_page::<K>(chrome, loaded, None, None, form)?;
            *page.status_mut() = err.code().status();
            Ok(page)
        }
        Err(err) => Err(err),
    }
}
