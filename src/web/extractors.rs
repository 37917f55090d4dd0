//! Extractor failures (bad JSON, oversized bodies, bad paths and queries) answered through the
//! same error table as everything else.

use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::{HttpRequest, web};

use crate::error::{ApiError, ErrorCode};

/// Registers the body limit and the error mapping for every extractor.
pub fn configure(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(max_body_bytes)
            .error_handler(|err, req| json_error(&err, req)),
    )
    .app_data(web::PayloadConfig::new(max_body_bytes))
    .app_data(
        web::FormConfig::default()
            .limit(max_body_bytes)
            .error_handler(|err, _| {
                ApiError::with_message(ErrorCode::BadRequest, "The form could not be read.")
                    .caused_by(anyhow::anyhow!(err.to_string()))
                    .into()
            }),
    )
    .app_data(web::PathConfig::default().error_handler(|err, req| path_error(&err, req)))
    .app_data(web::QueryConfig::default().error_handler(|err, req| query_error(&err, req)));
}

fn json_error(err: &JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match err {
        JsonPayloadError::OverflowKnownLength { .. }
        | JsonPayloadError::Overflow { .. }
        | JsonPayloadError::Payload(PayloadError::Overflow) => {
            ApiError::new(ErrorCode::PayloadTooLarge)
        }
        JsonPayloadError::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType),
        JsonPayloadError::Deserialize(de) => ApiError::with_message(
            ErrorCode::InvalidJson,
            format!("The request body is not valid JSON for this call: {de}."),
        ),
        _ => ApiError::new(ErrorCode::InvalidJson),
    };
    api.caused_by(anyhow::anyhow!(err.to_string())).into()
}

fn path_error(err: &PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidPath)
        .caused_by(anyhow::anyhow!(err.to_string()))
        .into()
}

fn query_error(err: &QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    invalid_query(err).into()
}

/// The refusal of a query string that does not fit the call (also for handlers that parse
/// their query themselves).
pub fn invalid_query(err: &QueryPayloadError) -> ApiError {
    ApiError::with_message(
        ErrorCode::InvalidQuery,
        format!("The query string is not valid for this call: {err}."),
    )
}

#[cfg(test)]
mod tests {
    //! No route of this foundation takes a body yet, so the extractor mapping is exercised
    //! here on a throwaway route with the real configuration.

    use actix_web::{App, HttpResponse, test};
    use serde::Deserialize;
    use serde_json::Value;

    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Query {
        page: u32,
    }

    async fn call(req: test::TestRequest) -> (u16, String) {
        let app = test::init_service(
            App::new()
                .configure(|cfg| configure(cfg, 1024))
                .route(
                    "/echo/{id}",
                    web::post().to(|_: web::Path<u32>, _: web::Json<Body>| async {
                        HttpResponse::NoContent().finish()
                    }),
                )
                .route(
                    "/list",
                    web::get()
                        .to(|_: web::Query<Query>| async { HttpResponse::NoContent().finish() }),
                ),
        )
        .await;
        let res = test::call_service(&app, req.to_request()).await;
        let status = res.status().as_u16();
        let body: Value = test::read_body_json(res).await;
        (
            status,
            body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    fn post(path: &str) -> test::TestRequest {
        test::TestRequest::post().uri(path)
    }

    #[actix_web::test]
    async fn each_extractor_failure_has_its_code() {
        let cases = [
            (
                post("/echo/1")
                    .insert_header(("content-type", "application/json"))
                    .set_payload("{"),
                (400, "invalid_json"),
            ),
            (
                post("/echo/1").set_json(serde_json::json!({ "nom": "x" })),
                (400, "invalid_json"),
            ),
            (
                post("/echo/1")
                    .insert_header(("content-type", "text/plain"))
                    .set_payload("{}"),
                (415, "unsupported_media_type"),
            ),
            (
                post("/echo/1").set_json(serde_json::json!({ "name": "x".repeat(2000) })),
                (413, "payload_too_large"),
            ),
            (
                post("/echo/abc").set_json(serde_json::json!({ "name": "x" })),
                (404, "invalid_path"),
            ),
            (
                test::TestRequest::get().uri("/list?page=minus"),
                (400, "invalid_query"),
            ),
        ];
        for (req, (status, code)) in cases {
            assert_eq!(call(req).await, (status, code.to_owned()));
        }
    }
}
