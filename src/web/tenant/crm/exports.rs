//! Exports: every record of a list (its filters, sort or saved view, the caller's
//! visibility) as CSV or JSON, streamed from one snapshot of the tenant's database. The body
//! never holds more than a few chunks; a client that stops reading for a minute ends it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{actor_of, read};
use crate::crm::export::{self, CHUNK, Names};
use crate::crm::list::{self, Filter, Query};
use crate::crm::visibility::Visibility;
use crate::crm::{Actor, CrmError, Kind, pipelines, teams, views};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::TenantSession;

endpoints! { area: Area::Tenant;
    GET "/export/contacts" => contacts, Access::Tenant(Role::Viewer), 200,
        "Every contact of a list as a file: `format` csv (the default) or json; `filters`, `sort` or `view` as for the list; `columns` (CSV, comma-separated names). Streamed", [InvalidQuery, InvalidInput];
    GET "/export/companies" => companies, Access::Tenant(Role::Viewer), 200,
        "Every company of a list as a file (as /export/contacts)", [InvalidQuery, InvalidInput];
    GET "/export/deals" => deals, Access::Tenant(Role::Viewer), 200,
        "Every deal of a list as a file (as /export/contacts)", [InvalidQuery, InvalidInput];
    GET "/export/activities" => activities, Access::Tenant(Role::Viewer), 200,
        "Every activity of a list as a file (as /export/contacts)", [InvalidQuery, InvalidInput];
    GET "/export/archive" => archive, Access::Tenant(Role::Owner), 200,
        "The tenant's whole data as one tar of JSON and CSV files with a manifest (sizes, counts, SHA-256)", [];
}

async fn archive(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tenant = session.current.tenant.clone();
    crate::web::archive_download::respond(&state, tenant, session.actor()).await
}

/// Bytes gathered before they are sent on.
const SEND_AT: usize = 64 * 1024;
/// How long a client may leave the export unread before it ends.
const STALLED: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    format: Option<String>,
    filters: Option<String>,
    view: Option<String>,
    sort: Option<String>,
    columns: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

async fn contacts(
    s: TenantSession,
    st: web::Data<AppState>,
    r: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    export(Kind::Contact, s, st, r).await
}

async fn companies(
    s: TenantSession,
    st: web::Data<AppState>,
    r: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    export(Kind::Company, s, st, r).await
}

async fn deals(
    s: TenantSession,
    st: web::Data<AppState>,
    r: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    export(Kind::Deal, s, st, r).await
}

async fn activities(
    s: TenantSession,
    st: web::Data<AppState>,
    r: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    export(Kind::Activity, s, st, r).await
}

/// The list's query: its filters and sort, or the saved view's where those are not given.
fn query_of(
    conn: &rusqlite::Connection,
    kind: Kind,
    actor: &Actor,
    params: &Params,
) -> Result<Query, CrmError> {
    let mut query = Query {
        filters: match params.filters.as_deref() {
            None | Some("") => Vec::new(),
            Some(text) => serde_json::from_str::<Vec<Filter>>(text).map_err(|e| {
                CrmError::invalid(
                    "filters",
                    format!(r#"must be a JSON list of {{"field", "op", "value"}} ({e})"#),
                )
            })?,
        },
        sort: params.sort.clone(),
        limit: Some(1),
        cursor: None,
    };
    if let Some(id) = &params.view {
        let view = views::get(conn, actor, id)?;
        if view.record_kind != kind {
            return Err(CrmError::invalid(
                "view",
                "is a view of another kind of record",
            ));
        }
        if params.filters.is_none() {
            query.filters = view.filters;
        }
        if query.sort.is_none() {
            query.sort = view.sort;
        }
    }
    Ok(query)
}

async fn export(
    kind: Kind,
    session: TenantSession,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = web::Query::<Params>::from_query(req.query_string())
        .map_err(|e| crate::web::extractors::invalid_query(&e))?
        .into_inner();
    let format = match params.format.as_deref() {
        None | Some("csv") => Format::Csv,
        Some("json") => Format::Json,
        Some(_) => {
            return Err(ApiError::with_message(
                ErrorCode::InvalidQuery,
                "format must be csv or json.",
            ));
        }
    };
    // Refusals (a bad filter, sort, view or column) before a byte of the file.
    let params = std::sync::Arc::new(params);
    {
        let params = std::sync::Arc::clone(&params);
        read(&state, &session, move |conn, who| {
            let query = query_of(conn, kind, &who.actor, &params)?;
            export::columns(
                kind,
                &crate::crm::custom::live(conn, kind)?,
                params.columns.as_deref(),
            )?;
            list::page(
                conn,
                kind,
                &query,
                &who.visibility.scope(kind),
                who.actor.user_id.as_deref(),
            )
            .map(|_| ())
        })
        .await?;
    }
    let user_emails: HashMap<String, String> = super::user_emails(&state, &session)
        .await?
        .into_iter()
        .collect();
    let db = super::tenant_db(&state, &session)?;
    let actor = actor_of(&session);
    let (tx, mut rx) = mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = Sender::new(tx);
        let result = write_all(
            db.path(),
            kind,
            format,
            &actor,
            &params,
            Names::new(user_emails, Vec::new()),
            &mut out,
        );
        match result {
            Ok(rows) => {
                out.finish();
                note(db.path(), &actor, kind, format, rows);
            }
            Err(err) => out.fail(err),
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let (content_type, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let date = crate::crm::values::rfc3339(crate::crm::now());
    let name = format!("{}-{}.{ext}", kind.table(), &date[..10]);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(super::files::disposition(&name))
        .streaming(body))
}

/// Writes the file to `out` from one read transaction; answers how many records it held.
fn write_all(
    path: &std::path::Path,
    kind: Kind,
    format: Format,
    actor: &Actor,
    params: &Params,
    mut names: Names,
    out: &mut Sender,
) -> Result<u64, ApiError> {
    let mut conn = crate::storage::open_connection(path).map_err(ApiError::internal)?;
    let tx = conn.transaction().map_err(ApiError::internal)?;
    let visibility: Visibility = teams::visibility_of(&tx, actor)?;
    let query = query_of(&tx, kind, actor, params)?;
    let defs = crate::crm::custom::live(&tx, kind)?;
    let columns = export::columns(kind, &defs, params.columns.as_deref())?;
    names.pipelines = pipelines::list(&tx)?;
    match format {
        Format::Csv => {
            let header: Vec<String> = columns.iter().map(export::Column::header).collect();
            out.push(&csv_rows(std::iter::once(header)).map_err(ApiError::internal)?);
        }
        Format::Json => out.push(b"["),
    }
    let mut rows = 0_u64;
    list::each(
        &tx,
        kind,
        &query,
        &visibility.scope(kind),
        actor.user_id.as_deref(),
        CHUNK,
        |records| {
            match format {
                Format::Csv => {
                    names.companies_of(&tx, records)?;
                    let bytes = csv_rows(records.iter().map(|r| export::row(r, &columns, &names)))
                        .map_err(|e| CrmError::Invalid(e.to_string()))?;
                    out.push(&bytes);
                    rows += records.len() as u64;
                }
                Format::Json => {
                    for record in records.iter() {
                        if rows > 0 {
                            out.push(b",");
                        }
                        out.push(b"\n");
                        out.push(&serde_json::to_vec(&record.body).unwrap_or_default());
                        rows += 1;
                    }
                }
            }
            Ok(out.flush_if_full())
        },
    )?;
    if format == Format::Json {
        out.push(b"\n]\n");
    }
    tx.commit().map_err(ApiError::internal)?;
    Ok(rows)
}

/// Rows as CSV.
fn csv_rows(rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        writer.write_record(&row)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// The tenant's audit log notes every export: what, as what, how many records.
fn note(path: &std::path::Path, actor: &Actor, kind: Kind, format: Format, rows: u64) {
    let entry = crate::audit::NewEntry {
        actor: actor.name.clone(),
        action: "export".into(),
        target: format!(
            "{rows} {} as {}",
            kind.table(),
            if format == Format::Csv { "CSV" } else { "JSON" }
        ),
        address: None,
        outcome: crate::audit::Outcome::Success,
    };
    let written = crate::storage::open_connection(path)
        .map_err(crate::storage::StorageError::from)
        .and_then(|mut conn| crate::audit::record(&mut conn, &entry));
    if let Err(err) = written {
        tracing::warn!("cannot write the export's audit entry: {err}");
    }
}

/// Gathers bytes and sends them on in slices, waiting for a slow reader at most
/// [`STALLED`]; once the reader is gone it only drops what it is given.
struct Sender {
    tx: mpsc::Sender<Result<web::Bytes, std::io::Error>>,
    buffer: Vec<u8>,
    gone: bool,
}

impl Sender {
    fn new(tx: mpsc::Sender<Result<web::Bytes, std::io::Error>>) -> Self {
        Self {
            tx,
            buffer: Vec::with_capacity(SEND_AT * 2),
            gone: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if !self.gone {
            self.buffer.extend_from_slice(bytes);
        }
    }

    /// Sends what is gathered once it is a slice's worth; answers whether to go on.
    fn flush_if_full(&mut self) -> bool {
        if self.buffer.len() >= SEND_AT {
            self.send(Ok(()));
        }
        !self.gone
    }

    fn send(&mut self, outcome: Result<(), ApiError>) {
        if self.gone {
            return;
        }
        let mut item = match outcome {
            Ok(()) => Ok(web::Bytes::from(std::mem::take(&mut self.buffer))),
            // The body ends short; the cause goes to the log.
            Err(err) => {
                tracing::error!(error = %err, "export failed");
                Err(std::io::Error::other("the export failed"))
            }
        };
        let started = Instant::now();
        loop {
            match self.tx.try_send(item) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Closed(_)) => break,
                Err(mpsc::error::TrySendError::Full(back)) => {
                    if started.elapsed() > STALLED {
                        break;
                    }
                    item = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        self.gone = true;
    }

    fn finish(mut self) {
        if !self.buffer.is_empty() {
            self.send(Ok(()));
        }
    }

    fn fail(mut self, err: ApiError) {
        self.buffer.clear();
        self.send(Err(err));
    }
}
