//! Every failure answers `{"error": {"code", "message"}}` with a fitting status, and every
//! response carries the security headers.

use reqwest::Method;

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn unknown_routes_answer_not_found() {
    let app = TestApp::spawn().await;
    for path in ["/nope", "/api/v1/nothing", "/assets", "/healthz/extra"] {
        assert_error(app.get(path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn a_known_route_with_the_wrong_method_answers_method_not_allowed() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::POST, "/healthz"),
        (Method::DELETE, "/readyz"),
        (Method::PUT, "/assets/css/holdfast.css"),
        (Method::POST, "/"),
    ] {
        assert_error(app.request(method, path).await, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn security_headers_are_on_successes_and_errors_alike() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/nope", "/assets/css/holdfast.css", "/"] {
        let response = app.get(path).await;
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "no HSTS over plain HTTP"
        );
    }
}

#[tokio::test]
async fn an_oversized_request_line_is_refused_without_reaching_a_handler() {
    // The body limit is checked by the extractors (see the unit tests of `web::extractors`);
    // here the server must stay up after a hostile request.
    let app = TestApp::spawn().await;
    let long = format!("/{}", "a".repeat(64 * 1024));
    let response = app.client.get(app.url(&long)).send().await;
    if let Ok(response) = response {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    assert_eq!(app.get("/healthz").await.status(), 200);
}
