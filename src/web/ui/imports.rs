//! The import wizard: upload a CSV file (a plain multipart form), see how its columns map
//! onto fields and change that, check it (a dry run), import it with a progress bar, then
//! download the rejected rows or revert it. Every step is the API's (`tenant::crm::imports`
//! and `crm::import`) behind a form; with JavaScript the progress bar moves by itself.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt as _;

use super::import_plan::{
    Choice, ColumnRow, column_rows, duplicate_choices, match_choices, plan_of,
};
use super::{Chrome, render, see_other};
use crate::crm::import::{self, Files, Import, State, ledger};
use crate::crm::{CrmError, Kind, custom};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession, crm_read as read, crm_write as write};
use crate::web::tenant::{launch_import as launch, receive_import as receive};

endpoints! { area: Area::TenantApp;
    GET "/imports" => list, Access::Tenant(Role::Admin), 200,
        "The imports, and the form to upload a file", [];
    POST "/imports" => upload, Access::Tenant(Role::Admin), 303,
        "Upload a file to import (multipart: csrf, record_kind, file)",
        [InvalidQuery, InvalidFile, PayloadTooLarge, Conflict, ReadOnly];
    GET "/imports/{id}" => show, Access::Tenant(Role::Admin), 200,
        "One import: its columns and plan, progress, counts and rejected rows", [];
    POST "/imports/{id}/check" => check, Access::Tenant(Role::Admin), 303,
        "Check the file with the plan in the form (a dry run)", [InvalidInput, Conflict, ReadOnly];
    POST "/imports/{id}/start" => start, Access::Tenant(Role::Admin), 303,
        "Import the file with the plan in the form", [InvalidInput, Conflict, ReadOnly];
    POST "/imports/{id}/cancel" => cancel, Access::Tenant(Role::Admin), 303,
        "Stop a running import", [Conflict, ReadOnly];
    POST "/imports/{id}/revert" => revert, Access::Tenant(Role::Admin), 303,
        "Revert an import that is done", [Conflict, ReadOnly];
}

/// The kinds of record a file can hold, as the upload form offers them.
const KINDS: &[(&str, &str)] = &[
    ("contact", "Contacts"),
    ("company", "Companies"),
    ("deal", "Deals"),
];

/// Rejected rows shown on the page; the download has them all.
const REJECTS_SHOWN: i64 = 20;

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    chrome: Chrome,
    kinds: Vec<Choice>,
    imports: Vec<Import>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    import: Import,
    /// The API's address of this import (polled for progress) and its rejected rows.
    api: String,
    /// The plan's form: shown while the file can still be checked or imported.
    columns: Vec<ColumnRow>,
    duplicates: Vec<Choice>,
    match_on: Vec<Choice>,
    rejected: Vec<ledger::Rejected>,
    error: Option<String>,
}

impl ImportPage {
    fn plannable(&self) -> bool {
        matches!(self.import.state, State::Uploaded | State::Checked)
    }

    fn running(&self) -> bool {
        self.import.state == State::Running
    }

    fn revertible(&self) -> bool {
        self.import.state == State::Done
            && self
                .import
                .revertible_until
                .as_deref()
                .is_some_and(|until| {
                    until > crate::crm::values::rfc3339(crate::crm::now()).as_str()
                })
    }

    fn percent(&self) -> String {
        format!("{:.0}", self.import.progress.percent)
    }
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    imports_page(&session, &state, None).await
}

async fn imports_page(
    session: &TenantSession,
    state: &web::Data<AppState>,
    error: Option<ApiError>,
) -> Result<HttpResponse, ApiError> {
    let imports = read(state, session, |conn, _| ledger::list(conn, 50)).await?;
    let status = error.as_ref().map(|e| e.code().status());
    let page = ImportsPage {
        chrome: Chrome::new(state, session, "/imports"),
        kinds: KINDS
            .iter()
            .map(|(value, label)| Choice::new(*value, *label, false))
            .collect(),
        imports,
        error: error.map(|e| e.message().to_owned()),
    };
    let mut response = render(&page)?;
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    Ok(response)
}

/// The upload: the fields come in the form's order, the token first (the gate read it),
/// then the kind, then the file, which is streamed to disk as it arrives.
async fn upload(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    mut parts: Multipart,
) -> Result<HttpResponse, ApiError> {
    let broken = |e: actix_multipart::MultipartError| {
        ApiError::with_message(ErrorCode::BadRequest, format!("The upload is broken: {e}"))
    };
    let mut kind = None;
    let mut received = None;
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(broken)?;
        match field.name() {
            Some("record_kind") => {
                let value = field.bytes(64).await.ok().and_then(Result::ok);
                kind = value
                    .and_then(|v| std::str::from_utf8(&v).ok().and_then(Kind::parse))
                    .filter(|k| *k != Kind::Activity);
            }
            Some("file") if received.is_none() => {
                let name = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .unwrap_or_default()
                    .to_owned();
                let Some(kind) = kind else {
                    let err = ApiError::with_message(
                        ErrorCode::InvalidQuery,
                        "Choose what the file holds: contacts, companies or deals.",
                    );
                    return imports_page(&session, &state, Some(err)).await;
                };
                if name.is_empty() {
                    let err =
                        ApiError::with_message(ErrorCode::InvalidFile, "Choose a file to import.");
                    return imports_page(&session, &state, Some(err)).await;
                }
                let body = (&mut field).map(|chunk| chunk.map_err(|e| e.to_string()));
                received = Some(receive(&state, &session, &req, kind, &name, None, body).await);
            }
            _ => while field.next().await.is_some() {},
        }
    }
    match received {
        Some(Ok((import, _))) => Ok(see_other(&format!(
            "{}/imports/{}",
            session.current.pages_base(),
            import.id
        ))),
        Some(Err(err)) if err.code().status().is_client_error() => {
            imports_page(&session, &state, Some(err)).await
        }
        Some(Err(err)) => Err(err),
        None => {
            let err = ApiError::with_message(ErrorCode::InvalidFile, "Choose a file to import.");
            imports_page(&session, &state, Some(err)).await
        }
    }
}

async fn show(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    import_page(&session, &state, &path.into_inner().id, None).await
}

/// The page of one import; with `error`, the answer to a plan the server refused.
async fn import_page(
    session: &TenantSession,
    state: &web::Data<AppState>,
    id: &str,
    error: Option<ApiError>,
) -> Result<HttpResponse, ApiError> {
    let files = Files::new(&state.config.data_dir, &session.current.tenant.id);
    let id = id.to_owned();
    let (import, preview, defs, rejected) = read(state, session, move |conn, _| {
        let import = ledger::get(conn, &id)?;
        let preview = if matches!(import.state, State::Uploaded | State::Checked) {
            Some(
                import::preview(conn, &files.csv(&id), import.record_kind).map_err(
                    |e| match e {
                        import::PreviewError::File(file) => {
                            CrmError::Invalid(format!("file: {file}"))
                        }
                        import::PreviewError::Crm(crm) => crm,
                    },
                )?,
            )
        } else {
            None
        };
        let defs = custom::live(conn, import.record_kind)?;
        let rejected = ledger::rejected(conn, import.seq, 0, REJECTS_SHOWN)?;
        Ok((import, preview, defs, rejected))
    })
    .await?;
    let base = session.current.pages_base();
    let columns = preview
        .map(|p| column_rows(&import, &p, &defs))
        .unwrap_or_default();
    let status = error.as_ref().map(|e| e.code().status());
    let page = ImportPage {
        chrome: Chrome::new(state, session, "/imports"),
        api: format!("{base}/api/v1/imports/{}", import.id),
        duplicates: duplicate_choices(import.plan.duplicates),
        match_on: match_choices(import.record_kind, &defs, import.plan.match_on.as_deref()),
        columns,
        rejected,
        import,
        error: error.map(|e| e.message().to_owned()),
    };
    let mut response = render(&page)?;
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    Ok(response)
}

async fn check(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    run(
        session,
        req,
        state,
        path.into_inner().id,
        form.into_inner(),
        true,
    )
    .await
}

async fn start(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    run(
        session,
        req,
        state,
        path.into_inner().id,
        form.into_inner(),
        false,
    )
    .await
}

/// A check or the import, with the plan the form says; a plan the server refuses comes back
/// on the import's page with the reason.
async fn run(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: String,
    form: Vec<(String, String)>,
    dry_run: bool,
) -> Result<HttpResponse, ApiError> {
    let wanted = id.clone();
    let import = read(&state, &session, move |conn, _| ledger::get(conn, &wanted)).await?;
    let launched = match plan_of(&import, &form) {
        Ok(plan) => launch(&session, &req, &state, id.clone(), plan, dry_run).await,
        Err(err) => Err(err.into()),
    };
    match launched {
        Ok(_) => Ok(see_other(&format!(
            "{}/imports/{id}",
            session.current.pages_base()
        ))),
        Err(err) if err.code().status().is_client_error() => {
            import_page(&session, &state, &id, Some(err)).await
        }
        Err(err) => Err(err),
    }
}

async fn cancel(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let wanted = id.clone();
    write(&state, &session, move |conn, _| {
        ledger::ask_cancel(conn, &wanted)
    })
    .await?;
    Ok(see_other(&format!(
        "{}/imports/{id}",
        session.current.pages_base()
    )))
}

async fn revert(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let wanted = id.clone();
    let reverted = write(&state, &session, move |conn, who| {
        import::revert(conn, &wanted, &who.actor)
    })
    .await;
    match reverted {
        Ok(_) => Ok(see_other(&format!(
            "{}/imports/{id}",
            session.current.pages_base()
        ))),
        Err(err) if err.code() == ErrorCode::Conflict => {
            import_page(&session, &state, &id, Some(err)).await
        }
        Err(err) => Err(err),
    }
}
