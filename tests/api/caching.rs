//! Answers that carry a session, a secret or a signed-in person's data are never stored by a
//! browser or proxy cache (`Cache-Control: no-store`); static assets keep their revalidated
//! caching.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::helpers::{Browser, PASSWORD, TestApp, accept_invite, install_license, set_up};

fn cache_control(headers: &HeaderMap) -> &str {
    headers
        .get("cache-control")
        .map_or("(none)", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn answers_with_sessions_secrets_or_errors_are_not_stored() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    install_license(&mut op, |p| p.features = vec!["api_tokens".into()]).await;
    let mut seen = Vec::new();

    let operator = json!({ "email": "op@example.com", "password": PASSWORD });
    let (status, headers, _) = op
        .send(Method::POST, "/api/v1/admin/auth/login", Some(operator))
        .await;
    seen.push(("operator sign-in", status, headers));
    let (status, headers, _) = op.send(Method::GET, "/api/v1/admin/auth/me", None).await;
    seen.push(("operator auth/me", status, headers));
    let new_tenant = json!({ "slug": "acme", "name": "Acme", "owner_email": "owner@acme.test" });
    let (status, headers, body) = op
        .send(Method::POST, "/api/v1/admin/tenants", Some(new_tenant))
        .await;
    let link = body["owner_invite_link"].as_str().unwrap().to_owned();
    seen.push(("tenant creation with an invite link", status, headers));
    let (status, headers, _) = op.send(Method::GET, "/api/v1/admin/tenants", None).await;
    seen.push(("tenant list", status, headers));

    accept_invite(&app, "acme", link.split("#token=").nth(1).unwrap()).await;
    let mut owner = Browser::new(&app);
    let base = "/t/acme/api/v1";
    let credentials = json!({ "email": "owner@acme.test", "password": PASSWORD });
    let (status, headers, _) = owner
        .send(
            Method::POST,
            &format!("{base}/auth/login"),
            Some(credentials),
        )
        .await;
    seen.push(("user sign-in", status, headers));
    let (status, headers, _) = owner
        .send(Method::GET, &format!("{base}/auth/me"), None)
        .await;
    seen.push(("user auth/me", status, headers));
    let (status, headers, _) = owner
        .send(Method::GET, &format!("{base}/users"), None)
        .await;
    seen.push(("user list", status, headers));
    let token = json!({ "name": "script", "role": "viewer" });
    let (status, headers, _) = owner
        .send(Method::POST, &format!("{base}/tokens"), Some(token))
        .await;
    seen.push(("token creation (its secret)", status, headers));
    let invite = json!({ "email": "new@acme.test", "role": "member" });
    let (status, headers, body) = owner
        .send(Method::POST, &format!("{base}/users"), Some(invite))
        .await;
    let id = body["user"]["id"].as_str().unwrap().to_owned();
    seen.push(("user invitation (its link)", status, headers));
    let (status, headers, _) = owner
        .send(
            Method::POST,
            &format!("{base}/users/{id}/reset-password"),
            Some(json!({})),
        )
        .await;
    seen.push(("reset link", status, headers));
    let (status, headers, _) = Browser::new(&app)
        .send(Method::GET, &format!("{base}/auth/me"), None)
        .await;
    seen.push(("a refusal", status, headers));
    let (status, headers, _) = Browser::new(&app).send(Method::GET, "/nope", None).await;
    seen.push(("an unknown address", status, headers));

    for (what, status, headers) in &seen {
        let refusal = matches!(*what, "a refusal" | "an unknown address");
        assert_eq!(*status >= 400, refusal, "{what}: status {status}");
        assert_eq!(
            cache_control(headers),
            "no-store",
            "{what} (status {status})"
        );
    }

    let asset = app.get("/assets/css/holdfast.css").await;
    assert_eq!(
        cache_control(asset.headers()),
        "public, no-cache",
        "assets are revalidated, not kept from caches"
    );
}
