//! Attachments: uploaded as the raw request body, downloaded in chunks.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use serde::Deserialize;

use super::schemas::{AttachmentAnswer, AttachmentsAnswer};
use super::{read, write};
use crate::crm::Kind;
use crate::crm::attachments::{self, Attachment};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    GET "/attachments" => list, Access::Tenant(Role::Viewer), 200,
        "The files attached to a record (`record_kind`, `record_id`)", [InvalidQuery], out: AttachmentsAnswer;
    POST "/attachments" => upload, Access::Tenant(Role::Member), 201,
        "Attach the request body, as it is, to a record (`record_kind`, `record_id`, `file_name`); its Content-Type is kept",
        [InvalidQuery, InvalidInput, ReadOnly], out: AttachmentAnswer;
    GET "/attachments/{id}" => download, Access::Tenant(Role::Viewer), 200,
        "Download an attachment (always as a download, never shown inline)", [];
    DELETE "/attachments/{id}" => remove, Access::Tenant(Role::Member), 204,
        "Remove an attachment (its uploader, or an admin)", [NotYourRecord, ReadOnly];
}

/// Bytes read from the database per chunk of a download.
const CHUNK: usize = 64 * 1024;

/// Types a browser shows without running anything; every other file is sent as bytes.
const INERT_TYPES: &[&str] = &[
    "application/pdf",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
    "text/csv",
    "text/plain",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Of {
    record_kind: Kind,
    record_id: String,
}

async fn list(
    session: TenantSession,
    state: web::Data<AppState>,
    of: web::Query<Of>,
) -> Result<HttpResponse, ApiError> {
    let Of {
        record_kind,
        record_id,
    } = of.into_inner();
    let all = read(&state, &session, move |conn, who| {
        attachments::list(conn, record_kind, &record_id, &who.visibility)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AttachmentsAnswer { attachments: all }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    record_kind: Kind,
    record_id: String,
    file_name: String,
}

/// Reads the body up to `cap` bytes: `payload_too_large` as soon as it says or shows it is
/// larger, so an oversized upload is never held in memory.
async fn body_within(
    req: &HttpRequest,
    mut payload: web::Payload,
    cap: i64,
) -> Result<Vec<u8>, ApiError> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let too_large = || {
        ApiError::with_message(
            ErrorCode::PayloadTooLarge,
            format!("Attachments of this tenant are at most {cap} bytes."),
        )
    };
    let declared = super::declared_length(req).and_then(|n| usize::try_from(n).ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let mut data = Vec::with_capacity(declared.unwrap_or(0).min(cap));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::with_message(ErrorCode::BadRequest, "The upload was cut short.")
                .caused_by(anyhow::anyhow!(e.to_string()))
        })?;
        if data.len() + chunk.len() > cap {
            return Err(too_large());
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

async fn upload(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    target: web::Query<Upload>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Upload {
        record_kind,
        record_id,
        file_name,
    } = target.into_inner();
    note_target(&req, format!("{record_kind} {record_id}"));
    let file_name = attachments::clean_name(&file_name)?;
    let content_type = attachments::clean_type(
        req.headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    // The record must be there, and the cap known, before a byte of the body is read.
    let cap = {
        let record_id = record_id.clone();
        read(&state, &session, move |conn, who| {
            crate::crm::records::find(conn, record_kind, &record_id, &who.visibility, false)?;
            attachments::max_bytes(conn)
        })
        .await?
    };
    let data = body_within(&req, payload, cap).await?;
    let users = std::collections::HashSet::new();
    let made = write(&state, &session, move |conn, who| {
        attachments::add(
            conn,
            record_kind,
            &record_id,
            &file_name,
            &content_type,
            &data,
            who.env(&users),
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(AttachmentAnswer { attachment: made }))
}

/// `attachment; filename="…"` with an ASCII stand-in, and the real name in `filename*`.
pub(crate) fn disposition(name: &str) -> ContentDisposition {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

async fn download(
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    let found: Attachment = read(&state, &session, move |conn, who| {
        attachments::find(conn, &id, &who.visibility)
    })
    .await?;
    let tenant: crate::tenancy::TenantId = session
        .current
        .tenant
        .id
        .parse()
        .map_err(ApiError::internal)?;
    let databases = std::sync::Arc::clone(&state.tenant_dbs);
    let size = usize::try_from(found.size).unwrap_or(0);
    let row = found.data_row;
    let chunks = futures_util::stream::unfold(0_usize, move |offset| {
        let databases = std::sync::Arc::clone(&databases);
        let tenant = tenant.clone();
        async move {
            if offset >= size {
                return None;
            }
            let chunk = web::block(move || -> Result<Vec<u8>, ApiError> {
                let db = databases.get(&tenant).map_err(ApiError::internal)?;
                let conn = db.conn().map_err(ApiError::internal)?;
                attachments::read_chunk(&conn, row, offset, CHUNK).map_err(ApiError::from)
            })
            .await;
            match chunk {
                Ok(Ok(bytes)) if !bytes.is_empty() => {
                    let next = offset + bytes.len();
                    Some((Ok::<_, actix_web::Error>(web::Bytes::from(bytes)), next))
                }
                // Removed meanwhile, or unreadable: end the body short rather than hang.
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some((Err(e.into()), size)),
                Err(e) => Some((Err(ApiError::internal(e).into()), size)),
            }
        }
    });
    let content_type = if INERT_TYPES.contains(&found.content_type.as_str()) {
        found.content_type.clone()
    } else {
        "application/octet-stream".to_owned()
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition(&found.file_name))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        ))
        .insert_header(("X-Content-SHA256", found.sha256.clone()))
        .no_chunking(u64::try_from(size).unwrap_or(0))
        .streaming(chunks))
}

async fn remove(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("attachment {id}"));
    let users = std::collections::HashSet::new();
    write(&state, &session, move |conn, who| {
        attachments::remove(conn, &id, who.env(&users))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
