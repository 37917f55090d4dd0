//! Refusals leave as responses, whichever layer raises them.
//!
//! A middleware that answers `Err` instead of a response skips every layer above it: the
//! request span, the security headers, `Cache-Control`. actix makes the response only at the
//! very top, where the request id is gone. Middleware below the router (the route gate) is
//! therefore wrapped in [`answered`], which turns its `Err` into the error's response while
//! the request is still at hand; App-level middleware answers with responses itself.
//!
//! The conversion cannot live in one App-level layer: keeping a handle on the request across
//! the router would make actix's routing (which needs the request to itself) panic.

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Turns an `Err` from the inner service into its response. Use it only below the router
/// (on a resource), where holding the request is safe.
pub async fn answered<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let request = req.request().clone();
    match next.call(req).await {
        Ok(response) => Ok(response.map_into_left_body()),
        Err(err) => Ok(ServiceResponse::from_err(err, request).map_into_right_body()),
    }
}

/// [`answered`] for a route of `area`: the tenant app's pages answer refusals with pages.
pub async fn answered_in<B: MessageBody>(
    area: crate::web::endpoint::Area,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if area.is_pages() {
        crate::web::ui::answered(req, next).await
    } else {
        answered(req, next).await
    }
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::{DefaultHeaders, from_fn};
    use actix_web::{App, HttpResponse, test, web};

    use super::*;
    use crate::error::{ApiError, ErrorCode};

    async fn refuse(
        _req: ServiceRequest,
        _next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, Error> {
        Err::<ServiceResponse, _>(ApiError::new(ErrorCode::Unauthenticated).into())
    }

    #[actix_web::test]
    async fn a_refusing_middleware_below_the_router_still_passes_the_layers_above() {
        let app = test::init_service(
            App::new()
                .service(
                    web::resource("/guarded")
                        .wrap(from_fn(refuse))
                        .wrap(from_fn(answered))
                        .route(web::get().to(|| async { HttpResponse::Ok().finish() })),
                )
                .wrap(DefaultHeaders::new().add(("X-Seen-By-Outer-Layer", "yes"))),
        )
        .await;
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/guarded").to_request()).await;
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers().get("x-seen-by-outer-layer").unwrap(), "yes");
        let code = res
            .response()
            .error()
            .and_then(|e| e.as_error::<ApiError>())
            .map(ApiError::code);
        assert_eq!(
            code,
            Some(ErrorCode::Unauthenticated),
            "the error is kept for the log"
        );
    }
}
