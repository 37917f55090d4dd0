//! One tracing span per request: request id, method, route template, status, error code and
//! latency.
//!
//! The request id is taken from a well-formed incoming `X-Request-Id` (so a proxy's id carries
//! through) or made fresh, and is returned in the response's `X-Request-Id`. Every request
//! is logged here, once: refusals as `request refused` with their error `code` (so guessed
//! tokens and cross-tenant attempts are visible and countable), failures with their cause
//! chain, which is never sent to the client.

use std::fmt;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::{Instrument, Level, field};

use crate::error::ApiError;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 64;

/// The id of the request being served; handlers can extract it from request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    fn fresh() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Accepts an incoming id only if it is short and plain, so it is safe in logs and headers.
    fn from_incoming(value: &HeaderValue) -> Option<Self> {
        let text = value.to_str().ok()?;
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        (!text.is_empty() && text.len() <= MAX_REQUEST_ID_LEN && text.chars().all(plain))
            .then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Health probes arrive every few seconds; they are logged at debug so they do not drown the
/// log.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(RequestId::from_incoming)
        .unwrap_or_else(RequestId::fresh);
    req.extensions_mut().insert(request_id.clone());
    let probe = is_probe(req.path());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        route = field::Empty,
        status = field::Empty,
        code = field::Empty,
        latency_ms = field::Empty,
        tenant = field::Empty,
        user = field::Empty,
    );
    let started = Instant::now();
    let outcome = next.call(req).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("latency_ms", (latency_ms * 1000.0).round() / 1000.0);

    let mut res = match outcome {
        Ok(res) => res,
        Err(err) => {
            // Layers inside answer with responses (see `refusals`); should one not, the
            // failure is still logged here, though actix alone will make its response.
            span.record("route", "(unanswered)");
            log_outcome(
                &span,
                err.as_response_error().status_code(),
                Some(&err),
                probe,
            );
            return Err(err);
        }
    };
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    span.record("route", route.as_str());
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    log_outcome(&span, res.status(), res.response().error(), probe);
    // Counted only when `/metrics` can be read: otherwise nobody would see the counts.
    if let Some(state) = res
        .request()
        .app_data::<actix_web::web::Data<super::AppState>>()
        .filter(|state| state.config.metrics_token.is_some())
    {
        let code = res
            .response()
            .error()
            .and_then(|e| e.as_error::<ApiError>())
            .map(|api| api.code().as_str());
        state.metrics.observe(
            &route,
            res.request().method().as_str(),
            res.status().as_u16(),
            code,
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}

/// Records the status and the error code on the span and writes its one line: refusals
/// (with their code, so repeated ones can be counted), failures with their cause.
fn log_outcome(span: &tracing::Span, status: StatusCode, error: Option<&Error>, probe: bool) {
    span.record("status", status.as_u16());
    let api = error.and_then(|e| e.as_error::<ApiError>());
    if let Some(api) = api {
        span.record("code", api.code().as_str());
    }
    let _entered = span.enter();
    let cause = api
        .and_then(ApiError::cause)
        .map(|cause| format!("{cause:#}"))
        .or_else(|| error.filter(|_| api.is_none()).map(ToString::to_string));
    match (status, cause) {
        (s, cause) if s.is_server_error() => {
            tracing::error!(cause = cause.as_deref(), "request failed");
        }
        (_, Some(cause)) => tracing::warn!(cause = %cause, "request refused"),
        (s, None) if s.is_client_error() && !probe => tracing::info!("request refused"),
        (_, None) if probe => tracing::event!(Level::DEBUG, "request completed"),
        (_, None) => tracing::info!("request completed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incoming_ids_are_kept_only_when_plain_and_short() {
        let ok = HeaderValue::from_static("abc-123_X.y");
        assert_eq!(
            RequestId::from_incoming(&ok).unwrap().as_str(),
            "abc-123_X.y"
        );
        for bad in ["", "has space", "semi;colon", &"a".repeat(65)] {
            let value = HeaderValue::from_str(bad).unwrap();
            assert!(RequestId::from_incoming(&value).is_none(), "{bad:?}");
        }
    }
}
