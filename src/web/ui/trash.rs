//! The trash as a page: what the caller may restore (members: their own records; admins:
//! everything), newest first, with who deleted it and until when it can come back; a button
//! to restore each, and for admins a form that empties the trash once its word is typed.
//! The API's functions throughout: the same list, `records::restore`, `trash::empty`.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, render, see_other};
use crate::crm::{Kind, settings, trash};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{
    TenantSession, crm_read as read, crm_write as write, trashed, user_emails,
};

endpoints! { area: Area::TenantApp;
    GET "/trash" => page, Access::Tenant(Role::Member), 200,
        "The trash: what you may restore, newest first, and until when", [];
    POST "/trash/restore" => restore, Access::Tenant(Role::Member), 303,
        "Take a record (`kind`, `id`) out of the trash; back to the trash",
        [InvalidInput, BadRequest, NotYourRecord, ReadOnly];
    POST "/trash/empty" => empty, Access::Tenant(Role::Admin), 303,
        "Empty the trash when `confirm` holds the word shown; back to the trash",
        [InvalidInput, ReadOnly];
}

/// The word an admin types to empty the trash.
const WORD: &str = "empty";

/// Most records of each kind the page lists.
const LIMIT: u32 = 200;

struct Row {
    kind: Kind,
    id: String,
    title: String,
    deleted_at: String,
    deleted_by: String,
    purge_at: String,
}

#[derive(Template)]
#[template(path = "trash.html")]
struct TrashPage {
    chrome: Chrome,
    rows: Vec<Row>,
    retention_days: i64,
    word: &'static str,
    /// The refusal of an emptying, next to its field.
    confirm_error: Option<String>,
}

async fn trash_page(
    state: &web::Data<AppState>,
    session: &TenantSession,
    confirm_error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let all = trashed(state, session, LIMIT).await?;
    let retention_days = read(state, session, |conn, _| settings::get(conn))
        .await?
        .trash_retention_days;
    // Who deleted it, by e-mail address where a user did.
    let emails: HashMap<String, String> = user_emails(state, session)
        .await?
        .into_iter()
        .map(|(id, email)| (format!("user:{id}"), email))
        .collect();
    let rows = all
        .into_iter()
        .map(|t| Row {
            kind: t.kind,
            title: if t.title.trim().is_empty() {
                format!("Untitled {}", t.kind)
            } else {
                t.title
            },
            id: t.id,
            deleted_at: t.deleted_at,
            deleted_by: t
                .deleted_by
                .map(|by| emails.get(&by).cloned().unwrap_or(by))
                .unwrap_or_default(),
            purge_at: t.purge_at,
        })
        .collect();
    render(&TrashPage {
        chrome: Chrome::new(state, session, "/trash"),
        rows,
        retention_days,
        word: WORD,
        confirm_error,
    })
}

async fn page(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    trash_page(&state, &session, None).await
}

#[derive(Debug, Deserialize)]
struct RestoreForm {
    kind: String,
    id: String,
}

async fn restore(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    form: web::Form<RestoreForm>,
) -> Result<HttpResponse, ApiError> {
    let RestoreForm { kind, id } = form.into_inner();
    let kind = Kind::parse(&kind).ok_or_else(|| {
        ApiError::with_message(ErrorCode::InvalidInput, "kind: not a kind of record.")
    })?;
    note_target(&req, format!("{kind} {id}"));
    write(&state, &session, move |conn, who| {
        crate::crm::records::restore(conn, kind, &id, who.env(&HashSet::new()))
    })
    .await?;
    Ok(see_other(&format!(
        "{}/trash",
        session.current.pages_base()
    )))
}

#[derive(Debug, Deserialize)]
struct EmptyForm {
    #[serde(default)]
    confirm: String,
}

async fn empty(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    form: web::Form<EmptyForm>,
) -> Result<HttpResponse, ApiError> {
    if form.confirm.trim() != WORD {
        let why = format!("Type {WORD} to empty the trash; nothing was purged.");
        let mut page = trash_page(&state, &session, Some(why)).await?;
        *page.status_mut() = ErrorCode::InvalidInput.status();
        return Ok(page);
    }
    note_target(&req, "trash");
    write(&state, &session, |conn, _| trash::empty(conn)).await?;
    Ok(see_other(&format!(
        "{}/trash",
        session.current.pages_base()
    )))
}
