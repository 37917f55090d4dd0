//! Imports on the route table: a CSV file is uploaded (streamed to disk, never held in
//! memory), previewed, checked (a dry run) and imported as a job whose progress the UI
//! polls; a running import can be cancelled, a finished one reverted, and its rejected rows
//! downloaded as CSV.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};

use super::{actor_of, read, write};
use crate::crm::import::{self, Files, Import, Plan, Preview, Runner, State, ledger};
use crate::crm::{CrmError, Kind};
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Role, tokens, users};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{Caller, IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    GET "/imports" => list, Access::Tenant(Role::Admin), 200,
        "The tenant's imports, newest first", [], out: ImportsAnswer;
    POST "/imports" => upload, Access::Tenant(Role::Admin), 201,
        "Upload a CSV file to import (`record_kind`: contact, company or deal; `file_name`): the raw body, up to `max_import_bytes`; answers the import and a preview of the file (header, delimiter, the field each column fills, the first rows)",
        [InvalidQuery, InvalidFile, PayloadTooLarge, Conflict, ReadOnly], out: ImportAnswer;
    GET "/imports/{id}" => show, Access::Tenant(Role::Admin), 200,
        "One import: its state, counts and progress (rows per second, seconds left)", [], out: ImportAnswer;
    POST "/imports/{id}/check" => check, Access::Tenant(Role::Admin), 202,
        "Check the file with a plan (`mapping`, `duplicates`: skip, update or create, `match_on`), changing nothing: the counts say what the import would do",
        [InvalidJson, InvalidInput, Conflict, ReadOnly], in: Plan, out: ImportAnswer;
    POST "/imports/{id}/start" => start, Access::Tenant(Role::Admin), 202,
        "Import the file with a plan; poll the import for its progress. All of it, or (failed, cancelled) nothing",
        [InvalidJson, InvalidInput, Conflict, ReadOnly], in: Plan, out: ImportAnswer;
    POST "/imports/{id}/cancel" => cancel, Access::Tenant(Role::Admin), 200,
        "Stop a running import; what it wrote is taken back", [Conflict, ReadOnly], out: ImportAnswer;
    POST "/imports/{id}/revert" => revert, Access::Tenant(Role::Admin), 200,
        "Revert an import that is done (for 7 days): the records it made go to the trash, the ones it changed get their values back unless changed since (those are reported)",
        [Conflict, ReadOnly], out: ImportAnswer;
    GET "/imports/{id}/rejected" => rejected, Access::Tenant(Role::Admin), 200,
        "The rows not imported, with their line, column and reason (`after`: a line, `limit`)", [InvalidQuery], out: RejectedAnswer;
    GET "/imports/{id}/rejected.csv" => rejected_csv, Access::Tenant(Role::Admin), 200,
        "The rows not imported as CSV: the file's columns, then the line and the reason (fix them and import this file)", [];
    DELETE "/imports/{id}" => remove, Access::Tenant(Role::Admin), 204,
        "Forget an import that is not running and not done, and its file (one already gone: done, as asked)", [Conflict, ReadOnly];
}

/// Imports of a tenant waiting to be started at once (each holds a file on disk).
const MAX_WAITING: i64 = 5;

/// An import, and (after an upload) a first look at its file.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImportAnswer {
    import: Import,
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<Preview>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImportsAnswer {
    imports: Vec<Import>,
}

/// A page of rejected rows; `next_after` continues it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RejectedAnswer {
    rejected: Vec<ledger::Rejected>,
    next_after: Option<i64>,
}

fn answer(import: Import) -> ImportAnswer {
    ImportAnswer {
        import,
        preview: None,
    }
}

fn files(state: &AppState, session: &TenantSession) -> Files {
    Files::new(&state.config.data_dir, &session.current.tenant.id)
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let imports = read(&state, &session, |conn, _| ledger::list(conn, 100)).await?;
    Ok(HttpResponse::Ok().json(ImportsAnswer { imports }))
}

async fn show(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let import = read(&state, &session, move |conn, _| ledger::get(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(answer(import)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    record_kind: Kind,
    file_name: String,
}

async fn upload(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Upload>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Upload {
        record_kind,
        file_name,
    } = query.into_inner();
    let declared = super::declared_length(&req);
    let (import, preview) = receive(
        &state,
        &session,
        &req,
        record_kind,
        &file_name,
        declared,
        payload,
    )
    .await?;
    Ok(HttpResponse::Created().json(ImportAnswer {
        import,
        preview: Some(preview),
    }))
}

/// Takes a file to import of `kind` from `body` (streamed to disk, never held in memory)
/// and answers the new import and a first look at the file: the API's upload and the import
/// page's both. `declared` is the size the caller announced, refused before a byte is read
/// when over the cap.
pub(crate) async fn receive<S, E>(
    state: &web::Data<AppState>,
    session: &TenantSession,
    req: &HttpRequest,
    kind: Kind,
    file_name: &str,
    declared: Option<u64>,
    body: S,
) -> Result<(Import, Preview), ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if kind == Kind::Activity {
        return Err(ApiError::with_message(
            ErrorCode::InvalidQuery,
            "record_kind must be contact, company or deal.",
        ));
    }
    let file_name = crate::crm::attachments::clean_name(file_name)?;
    let id = crate::crm::new_id();
    note_target(req, format!("import {id} of \"{file_name}\""));
    let files = files(state, session);
    recover(state, session, &files).await?;
    // Refused before a byte is read when too many wait already (each holds a file).
    read(state, session, |conn, _| waiting_room(conn)).await?;
    let path = files.csv(&id);
    let cap = state.config.max_import_bytes;
    let bytes = match save_body(declared, body, &files, &path, cap).await {
        Ok(bytes) => bytes,
        Err(err) => {
            files.remove(&id);
            return Err(err);
        }
    };
    let actor = actor_of(session);
    let made = {
        let id = id.clone();
        write(state, session, move |conn, _| {
            waiting_room(conn)?;
            let preview = import::preview(conn, &path, kind).map_err(|e| match e {
                import::PreviewError::File(file) => CrmError::Invalid(format!("file: {file}")),
                import::PreviewError::Crm(crm) => crm,
            })?;
            let made = ledger::create(
                conn,
                &ledger::NewImport {
                    id: &id,
                    kind,
                    file_name: &file_name,
                    file_bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
                    header: &preview.header,
                    delimiter: preview.delimiter.chars().next().unwrap_or(','),
                    actor: &actor.name,
                },
            )?;
            Ok((made, preview))
        })
        .await
    };
    made.map_err(|err| {
        files.remove(&id);
        as_file_error(err)
    })
}

/// A file Holdfast cannot read is `invalid_file`, not a field's `invalid_input`.
fn as_file_error(err: ApiError) -> ApiError {
    if err.code() == ErrorCode::InvalidInput && err.message().starts_with("file: ") {
        let message = err.message().trim_start_matches("file: ").to_owned();
        ApiError::with_message(
            ErrorCode::InvalidFile,
            format!("The file cannot be imported: {message}"),
        )
    } else {
        err
    }
}

/// Takes back runs of the tenant that lost their runner, so that a new one may start.
async fn recover(
    state: &web::Data<AppState>,
    session: &TenantSession,
    files: &Files,
) -> Result<(), ApiError> {
    let db = super::tenant_db(state, session)?;
    let files = files.clone();
    db.run_as(move |conn| {
        import::recover(conn, &files)
            .map(|_| ())
            .map_err(ApiError::from)
    })
    .await
}

fn waiting_room(conn: &rusqlite::Connection) -> Result<(), CrmError> {
    let waiting: i64 = conn.query_row(
        "SELECT count(*) FROM imports WHERE state IN ('uploaded', 'checked', 'running')",
        [],
        |r| r.get(0),
    )?;
    if waiting >= MAX_WAITING {
        return Err(CrmError::Conflict(format!(
            "{waiting} imports of this tenant are waiting or running; start or delete one first"
        )));
    }
    Ok(())
}

/// Streams the request body to `path`, refusing it as soon as it says or shows it is
/// larger than `cap` bytes; answers its size.
async fn save_body<S, E>(
    declared: Option<u64>,
    mut body: S,
    files: &Files,
    path: &std::path::Path,
    cap: u64,
) -> Result<u64, ApiError>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let too_large = || {
        ApiError::with_message(
            ErrorCode::PayloadTooLarge,
            format!("Files to import are at most {cap} bytes (max_import_bytes)."),
        )
    };
    if declared.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    files.create_dir().map_err(ApiError::internal)?;
    let mut file = Some(std::fs::File::create_new(path).map_err(ApiError::internal)?);
    let mut size = 0_u64;
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = body.next().await;
        let end = chunk.is_none();
        if let Some(chunk) = chunk {
            let chunk = chunk.map_err(|e| {
                ApiError::with_message(ErrorCode::BadRequest, "The upload was cut short.")
                    .caused_by(anyhow::anyhow!(e.to_string()))
            })?;
            size += chunk.len() as u64;
            if size > cap {
                return Err(too_large());
            }
            pending.extend_from_slice(&chunk);
        }
        // Written in slices of a few MiB on the blocking pool, never on the executor.
        if pending.len() >= 4 * 1024 * 1024 || (end && !pending.is_empty()) {
            let bytes = std::mem::take(&mut pending);
            let mut open = file
                .take()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the upload file is gone")))?;
            open = web::block(move || {
                use std::io::Write as _;
                open.write_all(&bytes).map(|()| open)
            })
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
            file = Some(open);
        }
        if end {
            break;
        }
    }
    Ok(size)
}

async fn remove(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("import {id}"));
    let files = files(&state, &session);
    let gone = id.clone();
    write(&state, &session, move |conn, _| {
        let import = match ledger::get(conn, &id) {
            Err(CrmError::Missing(_)) => return Ok(()),
            found => found?,
        };
        if matches!(import.state, State::Running | State::Done) {
            return Err(CrmError::Conflict(format!(
                "the import is {}; only one that is not running and not done can be deleted",
                import.state.as_str()
            )));
        }
        conn.execute("DELETE FROM imports WHERE seq = ?1", [import.seq])?;
        Ok(())
    })
    .await?;
    files.remove(&gone);
    Ok(HttpResponse::NoContent().finish())
}

async fn check(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    plan: web::Json<Plan>,
) -> Result<HttpResponse, ApiError> {
    let import = launch(
        &session,
        &req,
        &state,
        path.into_inner().id,
        plan.into_inner(),
        true,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(answer(import)))
}

async fn start(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    plan: web::Json<Plan>,
) -> Result<HttpResponse, ApiError> {
    let import = launch(
        &session,
        &req,
        &state,
        path.into_inner().id,
        plan.into_inner(),
        false,
    )
    .await?;
    Ok(HttpResponse::Accepted().json(answer(import)))
}

/// Starts a run on a thread of its own: it takes the run's lock, moves the import to
/// running (so no recovery can take it for abandoned in between), answers the import as it
/// began, and goes on: a check (`dry_run`) or the import itself, for the API and the pages.
pub(crate) async fn launch(
    session: &TenantSession,
    req: &HttpRequest,
    state: &web::Data<AppState>,
    id: String,
    plan: Plan,
    dry_run: bool,
) -> Result<Import, ApiError> {
    note_target(req, format!("import {id}"));
    let users = super::user_emails(state, session).await?;
    let runner = Runner {
        actor: actor_of(session),
        users,
        authority: authority(state, session),
    };
    let files = files(state, session);
    recover(state, session, &files).await?;
    let db = super::tenant_db(state, session)?;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Result<Import, ApiError>>();
    tokio::task::spawn_blocking(move || {
        let begun = (|| -> Result<(rusqlite::Connection, import::Held, Import), ApiError> {
            let held = files
                .hold(&id)
                .map_err(ApiError::internal)?
                .ok_or_else(|| CrmError::Conflict("the import is running".into()))?;
            let mut conn =
                crate::storage::open_connection(db.path()).map_err(ApiError::internal)?;
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(ApiError::internal)?;
            let import = ledger::begin(&tx, &id, &plan, dry_run)?;
            tx.commit().map_err(ApiError::internal)?;
            Ok((conn, held, import))
        })();
        let (mut conn, held, import) = match begun {
            Ok(begun) => begun,
            Err(err) => {
                let _ = started_tx.send(Err(err));
                return;
            }
        };
        let _ = started_tx.send(Ok(import));
        let path = files.csv(&id);
        match import::run(&mut conn, &id, &path, &runner) {
            Ok(ended) if ended.state.is_final() => files.remove(&id),
            Ok(_) => {}
            Err(err) => tracing::error!(import = %id, error = %err, "import could not end"),
        }
        drop(held);
    });
    started_rx.await.map_err(ApiError::internal)?
}

/// What a run asks before each batch: the license still lets data change, the tenant is
/// not suspended, and the caller is still an admin of it (a user active in the role; a
/// token not revoked or expired, and its maker still an admin).
fn authority(
    state: &AppState,
    session: &TenantSession,
) -> Box<dyn Fn() -> Result<(), String> + Send> {
    let license = Arc::clone(&state.license);
    let control = state.control_db.clone();
    let tenant = session.current.tenant.clone();
    let caller = session.caller.clone();
    Box::new(move || {
        license
            .effective()
            .may_write()
            .map_err(|e| format!("the license no longer allows changes ({e})"))?;
        let conn = control.conn().map_err(|e| e.to_string())?;
        let slug = tenant.slug.parse().map_err(|_| "no tenant".to_owned())?;
        let now = crate::tenancy::registry::find(&conn, &slug).map_err(|e| e.to_string())?;
        if now.is_none_or(|t| t.status != crate::tenancy::TenantStatus::Active) {
            return Err("the tenant was suspended".into());
        }
        let admin = match &caller {
            Caller::User { id } => users::find_by_id(&conn, &tenant.id, id)
                .map_err(|e| e.to_string())?
                .is_some_and(|u| {
                    u.status == users::UserStatus::Active && u.role.at_least(Role::Admin)
                }),
            Caller::Token { id } => {
                match tokens::find(&conn, &tenant.id, id).map_err(|e| e.to_string())? {
                    Some(token) => {
                        !token.revoked
                            && token.expires_at.is_none_or(|e| e > crate::crm::now())
                            && token.role.at_least(Role::Admin)
                            && tokens::maker_role(&conn, &token)
                                .map_err(|e| e.to_string())?
                                .is_some_and(|r| r.at_least(Role::Admin))
                    }
                    None => false,
                }
            }
        };
        if admin {
            Ok(())
        } else {
            Err("whoever started it is no longer an admin of this tenant".into())
        }
    })
}

async fn cancel(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("import {id}"));
    let import = write(&state, &session, move |conn, _| {
        ledger::ask_cancel(conn, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer(import)))
}

async fn revert(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("import {id}"));
    let import = write(&state, &session, move |conn, who| {
        import::revert(conn, &id, &who.actor)
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer(import)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

async fn rejected(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let Page { after, limit } = page.into_inner();
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    let rows = read(&state, &session, move |conn, _| {
        let import = ledger::get(conn, &id)?;
        ledger::rejected(conn, import.seq, after, limit)
    })
    .await?;
    let next_after = (rows.len() == usize::try_from(limit).unwrap_or(0))
        .then(|| rows.last().map(|r| r.line))
        .flatten();
    Ok(HttpResponse::Ok().json(RejectedAnswer {
        rejected: rows,
        next_after,
    }))
}

async fn rejected_csv(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let import = read(&state, &session, move |conn, _| ledger::get(conn, &id)).await?;
    let tenant: crate::tenancy::TenantId = session
        .current
        .tenant
        .id
        .parse()
        .map_err(ApiError::internal)?;
    let databases = Arc::clone(&state.tenant_dbs);
    let header = import.header.clone();
    let seq = import.seq;
    // Each page is one trip to the database; the body never holds more than a page.
    let pages = futures_util::stream::unfold(Some(0_i64), move |after| {
        let databases = Arc::clone(&databases);
        let tenant = tenant.clone();
        let header = header.clone();
        async move {
            let after = after?;
            let page = web::block(move || -> Result<(Vec<u8>, Option<i64>), ApiError> {
                let db = databases.get(&tenant).map_err(ApiError::internal)?;
                let conn = db.conn().map_err(ApiError::internal)?;
                let rows = ledger::rejected(&conn, seq, after, import::REJECTS_PAGE)?;
                let next = (rows.len() == usize::try_from(import::REJECTS_PAGE).unwrap_or(0))
                    .then(|| rows.last().map(|r| r.line))
                    .flatten();
                let bytes = import::write_rejected(Vec::new(), &header, &rows, after == 0)
                    .map_err(ApiError::internal)?;
                Ok((bytes, next))
            })
            .await;
            match page {
                Ok(Ok((bytes, next))) => {
                    Some((Ok::<_, actix_web::Error>(web::Bytes::from(bytes)), next))
                }
                Ok(Err(e)) => Some((Err(e.into()), None)),
                Err(e) => Some((Err(ApiError::internal(e).into()), None)),
            }
        }
    });
    let name = format!("{}.rejected.csv", import.file_name.trim_end_matches(".csv"));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(super::files::disposition(&name))
        .streaming(pages))
}
