//! The CSRF token of a page's form, which travels in the form's body: a field `csrf` of an
//! url-encoded form, or the first part of a multipart one (a file upload). The gate checks
//! it once the caller is authenticated, so the body of an anonymous post is never read.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::HttpMessage as _;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt as _;

use crate::error::{ApiError, ErrorCode};
use crate::identity::setup::constant_time_eq;

/// How much of a multipart body may be read to find its first part, the token: enough for
/// its headers and value, far too little to make the check itself costly.
const MULTIPART_PEEK: usize = 16 * 1024;

/// Checks the CSRF token a page's form posted against `expected`, the authenticated
/// session's, and puts the body back for the handler. Callers with an API token (`expected`
/// is `None`) need no token: nothing of theirs is ambient.
pub async fn check_form_csrf(
    req: &mut ServiceRequest,
    expected: Option<&str>,
) -> Result<(), actix_web::Error> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let sent = if content_type.starts_with("application/x-www-form-urlencoded") {
        urlencoded_token(req).await?
    } else if content_type.starts_with("multipart/form-data") {
        multipart_token(req).await?
    } else {
        None
    };
    match sent {
        Some(sent) if constant_time_eq(sent.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(ErrorCode::CsrfFailed).into()),
    }
}

/// The `csrf` field of an url-encoded body, read whole (up to `max_body_bytes`).
async fn urlencoded_token(req: &mut ServiceRequest) -> Result<Option<String>, actix_web::Error> {
    let limit = req
        .app_data::<actix_web::web::Data<crate::web::AppState>>()
        .map_or(1024 * 1024, |s| s.config.max_body_bytes);
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge).into());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let sent = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value.into_owned());
    req.set_payload(Payload::from(body));
    Ok(sent)
}

/// The first part of a multipart body, if it is the field `csrf`. Only the start of the body
/// is read (at most [`MULTIPART_PEEK`] bytes); the handler gets all of it, the bytes read
/// here first and then the rest as it arrives, so a large file is never held in memory.
async fn multipart_token(req: &mut ServiceRequest) -> Result<Option<String>, actix_web::Error> {
    let rest = Rc::new(RefCell::new(req.take_payload()));
    let read = Rc::new(RefCell::new(Vec::<Bytes>::new()));
    let peeked = {
        let (rest, read) = (Rc::clone(&rest), Rc::clone(&read));
        let mut total = 0_usize;
        futures_util::stream::poll_fn(move |cx| {
            if total > MULTIPART_PEEK {
                return std::task::Poll::Ready(None);
            }
            let polled = rest.borrow_mut().poll_next_unpin(cx);
            if let std::task::Poll::Ready(Some(Ok(chunk))) = &polled {
                total += chunk.len();
                read.borrow_mut().push(chunk.clone());
            }
            polled
        })
    };
    let mut parts = actix_multipart::Multipart::new(req.headers(), peeked);
    let sent = first_field_token(&mut parts).await;
    drop(parts);
    let read = std::mem::take(&mut *read.borrow_mut());
    let rest = std::mem::replace(&mut *rest.borrow_mut(), Payload::None);
    let replay = futures_util::stream::iter(read.into_iter().map(Ok::<_, PayloadError>));
    req.set_payload(Payload::Stream {
        payload: Box::pin(replay.chain(rest)),
    });
    Ok(sent)
}

async fn first_field_token(parts: &mut actix_multipart::Multipart) -> Option<String> {
    let mut field = parts.next().await?.ok()?;
    if field.name() != Some("csrf") {
        return None;
    }
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
        value.extend_from_slice(&chunk.ok()?);
        if value.len() > 256 {
            return None;
        }
    }
    String::from_utf8(value).ok()
}
