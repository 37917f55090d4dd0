//! Custom fields as admins define them, per kind of record: add one (its type, and the
//! choices of a select), rename it or change its choices, remove it (values stay in the
//! records, unread, and its key stays taken). Each form is one call of `crm::custom`, as the
//! API's routes are.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::crm::custom::{self, CustomKind, FieldDef, FieldDefChange, NewFieldDef};
use crate::crm::import::columns::key_for;
use crate::crm::{CrmError, Kind};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession, crm_read as read, crm_write as write};
use crate::web::ui::{Chrome, render};

endpoints! { area: Area::TenantApp;
    GET "/settings/fields" => show, Access::Tenant(Role::Admin), 200,
        "Custom fields of every kind of record", [];
    POST "/settings/fields" => create, Access::Tenant(Role::Admin), 303,
        "Define a custom field", [InvalidInput, Conflict, ReadOnly];
    POST "/settings/fields/{id}" => change, Access::Tenant(Role::Admin), 303,
        "Rename a custom field or change its choices", [InvalidInput, ReadOnly];
    POST "/settings/fields/{id}/delete" => remove, Access::Tenant(Role::Admin), 303,
        "Remove a custom field (values stay in the records, unread)", [ReadOnly];
}

/// The kinds of record, as the page groups them.
const KINDS: &[(Kind, &str)] = &[
    (Kind::Contact, "Contacts"),
    (Kind::Company, "Companies"),
    (Kind::Deal, "Deals"),
    (Kind::Activity, "Activities"),
];

struct Group {
    kind: &'static str,
    title: &'static str,
    fields: Vec<FieldDef>,
}

#[derive(Template)]
#[template(path = "settings_fields.html")]
struct FieldsPage {
    chrome: Chrome,
    groups: Vec<Group>,
    types: Vec<&'static str>,
    error: Option<String>,
}

impl FieldsPage {
    fn choices(field: &FieldDef) -> String {
        field.choices().join("\n")
    }

    fn has_choices(field: &FieldDef) -> bool {
        matches!(field.kind, CustomKind::Select | CustomKind::MultiSelect)
    }

    /// `multi_select` → "multi select".
    fn type_label(kind: &str) -> String {
        kind.replace('_', " ")
    }
}

async fn page(
    session: &TenantSession,
    state: &web::Data<AppState>,
    refusal: Option<ApiError>,
) -> Result<HttpResponse, ApiError> {
    let groups = read(state, session, |conn, _| {
        KINDS
            .iter()
            .map(|(kind, title)| {
                Ok(Group {
                    kind: kind.as_str(),
                    title,
                    fields: custom::live(conn, *kind)?,
                })
            })
            .collect::<Result<Vec<_>, CrmError>>()
    })
    .await?;
    let status = refusal.as_ref().map(|e| e.code().status());
    let answer = render(&FieldsPage {
        chrome: Chrome::new(state, session, "/settings"),
        groups,
        types: CustomKind::ALL.iter().map(|k| k.as_str()).collect(),
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
async fn change_with<F>(
    session: &TenantSession,
    state: &web::Data<AppState>,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&rusqlite::Connection) -> Result<(), CrmError> + Send + 'static,
{
    let done = write(state, session, move |conn, _| work(conn)).await;
    super::after_form(session, done, "/settings/fields", |err| {
        page(session, state, Some(err))
    })
    .await
}

/// Lines of a textarea, trimmed, without the empty ones.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFieldForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    record_kind: String,
    label: String,
    #[serde(default)]
    key: String,
    kind: String,
    #[serde(default)]
    choices: String,
    #[serde(default)]
    currency: String,
}

impl NewFieldForm {
    fn definition(self) -> Result<NewFieldDef, CrmError> {
        let record_kind = Kind::parse(&self.record_kind)
            .ok_or_else(|| CrmError::invalid("record_kind", "must be a kind of record"))?;
        let kind: CustomKind = serde_json::from_value(serde_json::Value::String(self.kind))
            .map_err(|_| CrmError::invalid("kind", "must be one of the types offered"))?;
        let key = match self.key.trim() {
            "" => key_for(&self.label),
            key => key.to_owned(),
        };
        Ok(NewFieldDef {
            record_kind,
            key,
            label: self.label,
            kind,
            choices: lines(&self.choices),
            currency: Some(self.currency.trim().to_uppercase()).filter(|c| !c.is_empty()),
        })
    }
}

async fn create(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<NewFieldForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    note_target(&req, format!("field {:?}", form.label));
    change_with(&session, &state, move |conn| {
        custom::create(conn, &form.definition()?).map(|_| ())
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeForm {
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    label: String,
    /// Only a select's form has its choices.
    choices: Option<String>,
}

async fn change(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("field {id}"));
    let form = form.into_inner();
    let changed = FieldDefChange {
        label: Some(form.label),
        choices: form.choices.as_deref().map(lines),
        position: None,
    };
    change_with(&session, &state, move |conn| {
        custom::change(conn, &id, &changed).map(|_| ())
    })
    .await
}

async fn remove(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("field {id}"));
    change_with(&session, &state, move |conn| custom::remove(conn, &id)).await
}
