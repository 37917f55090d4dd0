//! A contact's page (its details, an edit form for those who may edit, its timeline) and
//! the form that makes a new one. The forms post and redirect; a refused value comes back
//! next to its field, and a change made meanwhile by someone else is shown with both
//! versions rather than overwritten.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Chrome, render, see_other};
use crate::crm::fields::LIFECYCLE_STAGES;
use crate::crm::records::{self, Record};
use crate::crm::{CrmError, Kind, timeline};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession, crm_read as read, crm_write as write};

endpoints! { area: Area::TenantApp;
    GET "/contacts/new" => new_form, Access::Tenant(Role::Member), 200, "The form of a new contact", [];
    POST "/contacts" => create, Access::Tenant(Role::Member), 303,
        "Make a contact from the form; on to its page", [InvalidInput, ReadOnly];
    GET "/contacts/{id}" => page, Access::Tenant(Role::Viewer), 200,
        "A contact: details, edit form, timeline", [];
    POST "/contacts/{id}" => update, Access::Tenant(Role::Member), 303,
        "Change a contact from its form; back to its page",
        [InvalidInput, VersionMismatch, ReadOnly];
}

/// What the form posts. E-mails and phones are one field each, comma-separated, so that a
/// contact with several keeps them all.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ContactForm {
    csrf: String,
    version: Option<i64>,
    first_name: String,
    last_name: String,
    emails: String,
    phones: String,
    title: String,
    lifecycle_stage: String,
}

impl ContactForm {
    fn of(record: &Record) -> Self {
        let text = |name: &str| {
            record
                .body
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let list = |name: &str| {
            record
                .body
                .get(name)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default()
        };
        Self {
            csrf: String::new(),
            version: Some(record.version),
            first_name: text("first_name"),
            last_name: text("last_name"),
            emails: list("emails"),
            phones: list("phones"),
            title: text("title"),
            lifecycle_stage: text("lifecycle_stage"),
        }
    }

    /// The record's fields as the API takes them: an empty field clears its value.
    fn body(&self) -> Map<String, Value> {
        let text = |value: &str| {
            let value = value.trim();
            if value.is_empty() {
                Value::Null
            } else {
                json!(value)
            }
        };
        let list = |value: &str| {
            json!(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
            )
        };
        let mut body = Map::new();
        body.insert("first_name".into(), text(&self.first_name));
        body.insert("last_name".into(), text(&self.last_name));
        body.insert("emails".into(), list(&self.emails));
        body.insert("phones".into(), list(&self.phones));
        body.insert("title".into(), text(&self.title));
        if !self.lifecycle_stage.is_empty() {
            body.insert("lifecycle_stage".into(), json!(self.lifecycle_stage));
        }
        body
    }

    fn values(&self) -> [(&'static str, &'static str, &str); 6] {
        [
            ("first_name", "First name", &self.first_name),
            ("last_name", "Last name", &self.last_name),
            ("emails", "E-mail addresses", &self.emails),
            ("phones", "Phone numbers", &self.phones),
            ("title", "Title", &self.title),
            ("lifecycle_stage", "Lifecycle stage", &self.lifecycle_stage),
        ]
    }
}

/// One field of the form as the template shows it.
struct FieldView {
    name: &'static str,
    label: &'static str,
    input_type: &'static str,
    value: String,
    required: bool,
    choices: &'static [&'static str],
    error: Option<String>,
}

/// The form's fields with `form`'s values; a refusal that names one of them goes next to
/// it (the rest is returned, for the top of the form).
fn fields(form: &ContactForm, refusal: Option<&ApiError>) -> (Vec<FieldView>, Option<String>) {
    let (named, message) = match refusal {
        Some(err) => match err.message().split_once(": ") {
            Some((field, why)) => (Some(field.to_owned()), why.to_owned()),
            None => (None, err.message().to_owned()),
        },
        None => (None, String::new()),
    };
    let mut placed = false;
    let views = form
        .values()
        .into_iter()
        .map(|(name, label, value)| {
            let error = (named.as_deref() == Some(name)).then(|| {
                placed = true;
                message.clone()
            });
            FieldView {
                name,
                label,
                input_type: "text",
                value: value.to_owned(),
                required: false,
                choices: if name == "lifecycle_stage" {
                    LIFECYCLE_STAGES
                } else {
                    &[]
                },
                error,
            }
        })
        .collect();
    let general = refusal
        .filter(|_| !placed)
        .map(|err| err.message().to_owned());
    (views, general)
}

#[derive(Template)]
#[template(path = "contact_new.html")]
struct NewPage {
    chrome: Chrome,
    fields: Vec<FieldView>,
    error: Option<String>,
}

async fn new_form(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let form = ContactForm {
        lifecycle_stage: "lead".to_owned(),
        ..ContactForm::default()
    };
    let (fields, error) = fields(&form, None);
    render(&NewPage {
        chrome: Chrome::new(&state, &session, "/contacts"),
        fields,
        error,
    })
}

async fn create(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    form: web::Form<ContactForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let body = form.body();
    let made = write(&state, &session, move |conn, who| {
        let input = records::parse(conn, Kind::Contact, &body, true)?;
        records::create(conn, Kind::Contact, input, who.env(&HashSet::new()))
    })
    .await;
    match made {
        Ok(record) => {
            note_target(&req, format!("contact {}", record.id));
            let chrome = Chrome::new(&state, &session, "/contacts");
            Ok(see_other(&format!(
                "{}/contacts/{}",
                chrome.base, record.id
            )))
        }
        Err(err) if err.code() == ErrorCode::InvalidInput => {
            let (fields, error) = fields(&form, Some(&err));
            let mut page = render(&NewPage {
                chrome: Chrome::new(&state, &session, "/contacts"),
                fields,
                error,
            })?;
            *page.status_mut() = err.code().status();
            Ok(page)
        }
        Err(err) => Err(err),
    }
}

struct EntryView {
    at: String,
    actor: String,
    event: String,
    changes: Vec<String>,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    chrome: Chrome,
    id: String,
    name: String,
    version: i64,
    fields: Vec<FieldView>,
    timeline: Vec<EntryView>,
    error: Option<String>,
    /// After a stale edit: each field that differs, theirs and yours.
    conflict: Option<Vec<(&'static str, String, String)>>,
}

fn display_name(form: &ContactForm) -> String {
    let name = format!("{} {}", form.first_name, form.last_name);
    let name = name.trim();
    if name.is_empty() {
        "Unnamed contact".to_owned()
    } else {
        name.to_owned()
    }
}

fn entry_view(entry: timeline::Entry) -> EntryView {
    let shown = |v: &Value| match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let changes = entry
        .detail
        .as_object()
        .map(|changes| {
            changes
                .iter()
                .filter_map(|(field, change)| {
                    let [old, new] = change.as_array()?.as_slice() else {
                        return None;
                    };
                    Some(format!("{field}: {} → {}", shown(old), shown(new)))
                })
                .collect()
        })
        .unwrap_or_default();
    EntryView {
        at: entry.at,
        actor: entry.actor,
        event: entry.event.replace('_', " "),
        changes,
    }
}

/// The record and its newest timeline entries, as the caller may see them.
async fn load(
    state: &web::Data<AppState>,
    session: &TenantSession,
    id: String,
) -> Result<(Record, Vec<EntryView>), ApiError> {
    let (record, entries) = read(state, session, move |conn, who| {
        let record = records::get(conn, Kind::Contact, &id, &who.visibility)?;
        let entries = timeline::page(conn, Kind::Contact, &id, None, 50)?;
        Ok::<_, CrmError>((record, entries))
    })
    .await?;
    Ok((record, entries.into_iter().map(entry_view).collect()))
}

async fn page(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let (record, timeline) = load(&state, &session, path.into_inner().id).await?;
    let form = ContactForm::of(&record);
    let (fields, error) = fields(&form, None);
    render(&ContactPage {
        chrome: Chrome::new(&state, &session, "/contacts"),
        id: record.id.clone(),
        name: display_name(&form),
        version: record.version,
        fields,
        timeline,
        error,
        conflict: None,
    })
}

async fn update(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<ContactForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("contact {id}"));
    let form = form.into_inner();
    let expected = form.version.ok_or_else(|| {
        ApiError::with_message(ErrorCode::InvalidInput, "version: the form has no version.")
    })?;
    let body = form.body();
    let record_id = id.clone();
    let changed = write(&state, &session, move |conn, who| {
        let input = records::parse(conn, Kind::Contact, &body, false)?;
        records::update(
            conn,
            Kind::Contact,
            &record_id,
            Some(expected),
            input,
            who.env(&HashSet::new()),
        )
    })
    .await;
    let err = match changed {
        Ok(record) => {
            let chrome = Chrome::new(&state, &session, "/contacts");
            return Ok(see_other(&format!(
                "{}/contacts/{}",
                chrome.base, record.id
            )));
        }
        Err(err)
            if matches!(
                err.code(),
                ErrorCode::InvalidInput | ErrorCode::VersionMismatch
            ) =>
        {
            err
        }
        Err(err) => return Err(err),
    };
    // The page again: the form with what was posted, and why it was not saved.
    let (current, timeline) = load(&state, &session, id).await?;
    let theirs = ContactForm::of(&current);
    let conflict = (err.code() == ErrorCode::VersionMismatch).then(|| {
        theirs
            .values()
            .into_iter()
            .zip(form.values())
            .filter(|((_, _, a), (_, _, b))| a.trim() != b.trim())
            .map(|((_, label, a), (_, _, b))| (label, a.to_owned(), b.to_owned()))
            .collect()
    });
    let refusal = (err.code() == ErrorCode::InvalidInput).then_some(&err);
    let (fields, error) = fields(&form, refusal);
    let mut page = render(&ContactPage {
        chrome: Chrome::new(&state, &session, "/contacts"),
        id: current.id.clone(),
        name: display_name(&theirs),
        version: current.version,
        fields,
        timeline,
        error,
        conflict,
    })?;
    *page.status_mut() = err.code().status();
    Ok(page)
}
