//! Refusals made by the HTTP/1 layer itself (actix-http's parser), before any of Holdfast's
//! code runs: they cannot carry the JSON error body or the security headers, and actix offers
//! no hook to shape them. These tests pin what a client gets today, as the README says, so
//! that an actix upgrade that changes them is noticed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// Sends `request` as raw bytes and returns the response head (status line and headers) and
/// body as the server wrote them before closing.
async fn raw(app: &TestApp, request: &[u8]) -> (String, Vec<u8>) {
    let addr = app.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes at once")
        .unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    (head.to_ascii_lowercase(), body.as_bytes().to_vec())
}

fn assert_bare(head: &str, body: &[u8], status: &str) {
    assert!(head.starts_with(&format!("http/1.1 {status}")), "{head}");
    assert!(body.is_empty(), "no body: {body:?}");
    assert!(head.contains("content-length: 0"), "{head}");
    assert!(
        !head.contains("x-content-type-options"),
        "no security headers: {head}"
    );
    assert!(
        !head.contains("x-request-id"),
        "never reached Holdfast: {head}"
    );
}

#[tokio::test]
async fn a_uri_beyond_64_kib_is_refused_400_with_an_empty_body() {
    let app = TestApp::spawn().await;
    let request = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let (head, body) = raw(&app, request.as_bytes()).await;
    assert_bare(&head, &body, "400");
}

#[tokio::test]
async fn more_than_96_headers_are_refused_431_with_an_empty_body() {
    let app = TestApp::spawn().await;
    let headers = "X-Filler: v\r\n".repeat(100);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    let (head, body) = raw(&app, request.as_bytes()).await;
    assert_bare(&head, &body, "431");
}

#[tokio::test]
async fn conflicting_or_missing_framing_headers_are_refused_400_with_an_empty_body() {
    let app = TestApp::spawn().await;
    for request in [
        // Both lengths: a request-smuggling shape.
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        // Two Content-Length headers, different or not.
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        // HTTP/1.1 without Host.
        "GET /healthz HTTP/1.1\r\n\r\n",
    ] {
        let (head, body) = raw(&app, request.as_bytes()).await;
        assert_bare(&head, &body, "400");
    }
    // The same server answers a well-formed request through Holdfast, security headers and all.
    let (head, _) = raw(
        &app,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
}
