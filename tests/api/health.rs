//! Probes: the process answers, and the control database answers.

use crate::helpers::{TestApp, assert_error};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_queries_the_control_database() {
    let app = TestApp::spawn().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["control_db"], "ok");
}

#[tokio::test]
async fn readyz_fails_when_the_control_database_cannot_answer() {
    let app = TestApp::spawn().await;
    let conn = rusqlite::Connection::open(app.data_dir().join("holdfast.db")).unwrap();
    conn.execute_batch("DROP TABLE appliance_meta").unwrap();
    let message = assert_error(app.get("/readyz").await, 503, "not_ready").await;
    assert!(
        !message.contains("appliance_meta"),
        "no database text: {message}"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_a_plain_incoming_one() {
    let app = TestApp::spawn().await;
    let fresh = app.get("/healthz").await;
    let id = fresh.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let kept = app
        .client
        .get(app.url("/nope"))
        .header("X-Request-Id", "proxy-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "proxy-abc-123");

    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "bad id; with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "bad id; with spaces");
}
