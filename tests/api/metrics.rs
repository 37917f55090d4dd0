//! `GET /metrics`: off without a token, hidden from a wrong one, and counting what the server
//! does in the Prometheus text format.

use serde_json::json;

use crate::helpers::{Browser, TestApp, set_up};

const TOKEN: &str = "scrape-me-0123456789";

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_answer_only_their_token_and_count_requests_refusals_and_backups() {
    let off = TestApp::spawn().await;
    assert_eq!(
        scrape(&off, Some(TOKEN)).await.0,
        404,
        "off without a token"
    );

    let app = TestApp::spawn_with(|s| s.metrics_token = Some(TOKEN.into())).await;
    for wrong in [None, Some("scrape-me-0123456780"), Some("short")] {
        let (status, body) = scrape(&app, wrong).await;
        assert_eq!(status, 404, "{wrong:?}");
        assert!(body.contains("not_found"), "{body}");
    }
    let (status, text) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, 200);
    for line in [
        "holdfast_license_state{state=\"unlicensed\"} 1",
        "holdfast_license_state{state=\"valid\"} 0",
        "holdfast_seats{of=\"cap\"} 5",
        "holdfast_tenants{of=\"used\"} 0",
        "holdfast_last_backup_success 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    assert!(text.contains("holdfast_build_info{commit="), "{text}");

    let mut op = set_up(&app).await;
    let mut stranger = Browser::new(&app);
    let (status, _) = stranger
        .post(
            "/api/v1/admin/auth/login",
            json!({ "email": "op@example.com", "password": "not the password at all" }),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = op.post("/api/v1/admin/backups", json!({})).await;
    assert_eq!(status, 201);
    // A method nobody uses is counted, never a label of its own.
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    app.client
        .request(brew, app.url("/healthz"))
        .send()
        .await
        .unwrap();
    let (_, text) = scrape(&app, Some(TOKEN)).await;
    assert!(!text.contains("BREW"), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");
    for line in [
        "holdfast_http_refusals_total{code=\"invalid_credentials\"} 1",
        "holdfast_http_requests_total{method=\"POST\",route=\"/api/v1/admin/auth/login\",status=\"401\"} 1",
        "holdfast_http_requests_total{method=\"POST\",route=\"/api/v1/admin/backups\",status=\"201\"} 1",
        "holdfast_last_backup_success 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    assert!(
        text.lines().any(|l| l.starts_with(
            "holdfast_http_request_duration_seconds_count{method=\"POST\",route=\"/setup\"}"
        )),
        "{text}"
    );
}
