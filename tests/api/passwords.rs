//! Setting passwords. One-time links (invitations and resets) each work once, on their own
//! route, in their own tenant; junk tokens cost no password hashing and are throttled per
//! address. A new password, from a reset link or a change, signs the other browsers out.

use serde_json::{Value, json};

use crate::helpers::{
    Browser, PASSWORD, TestApp, accept_invite, install_license, invite_owner, set_up,
};

const BASE: &str = "/t/acme/api/v1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A licensed appliance with tenant `acme`; returns the operator and the owner's invitation.
async fn acme(app: &TestApp) -> (Browser<'_>, String) {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| p.max_tenants = 2).await;
    let token = invite_owner(&mut op, "acme").await;
    (op, token)
}

async fn signed_in_owner(app: &TestApp) -> Browser<'_> {
    let mut owner = Browser::new(app);
    let (status, body) = owner
        .post(
            &format!("{BASE}/auth/login"),
            json!({ "email": "owner@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    owner
}

/// A reset link for the owner of acme, made by the owner; returns its token.
async fn reset_token(owner: &mut Browser<'_>) -> String {
    let (_, me) = owner.get(&format!("{BASE}/auth/me")).await;
    let id = me["user"]["id"].as_str().unwrap();
    let (status, body) = owner
        .post(&format!("{BASE}/users/{id}/reset-password"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let link = body["link"].as_str().unwrap();
    assert!(link.contains("/reset-password#token="), "{link}");
    link.split("#token=").nth(1).unwrap().to_owned()
}

async fn redeem(app: &TestApp, route: &str, token: &str, password: &str) -> (u16, Value) {
    Browser::new(app)
        .post(
            &format!("{BASE}/auth/{route}"),
            json!({ "token": token, "password": password }),
        )
        .await
}

#[tokio::test]
async fn a_link_works_only_on_the_route_of_its_purpose() {
    let app = TestApp::spawn().await;
    let (_, invitation) = acme(&app).await;
    let (status, body) = redeem(&app, "reset-password", &invitation, PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (400, "link_invalid"),
        "an invitation is no reset"
    );
    accept_invite(&app, "acme", &invitation).await;
    let mut owner = signed_in_owner(&app).await;
    let reset = reset_token(&mut owner).await;
    let (status, body) = redeem(&app, "accept-invite", &reset, PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (400, "link_invalid"),
        "a reset is no invitation"
    );
    let (status, body) = redeem(&app, "reset-password", &reset, "a brand new passphrase").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn using_a_reset_link_ends_every_session_of_the_user() {
    let app = TestApp::spawn().await;
    let (_, invitation) = acme(&app).await;
    accept_invite(&app, "acme", &invitation).await;
    let mut owner = signed_in_owner(&app).await;
    let mut elsewhere = signed_in_owner(&app).await;
    let reset = reset_token(&mut owner).await;
    let (status, body) = redeem(&app, "reset-password", &reset, "a brand new passphrase").await;
    assert_eq!(status, 200, "{body}");
    for browser in [&mut owner, &mut elsewhere] {
        let (status, body) = browser.get(&format!("{BASE}/auth/me")).await;
        assert_eq!((status, code(&body)), (401, "unauthenticated"));
    }
}

#[tokio::test]
async fn junk_tokens_are_refused_before_any_hashing_and_throttled_per_address() {
    let app = TestApp::spawn().await;
    let (_, invitation) = acme(&app).await;
    // A password too short to hash shows the order: the token is refused first.
    let junk = "A".repeat(43);
    let (status, body) = redeem(&app, "accept-invite", &junk, "short").await;
    assert_eq!((status, code(&body)), (400, "link_invalid"), "{body}");
    for route in ["accept-invite", "reset-password"].iter().cycle().take(19) {
        let (status, body) = redeem(&app, route, &junk, PASSWORD).await;
        assert_eq!((status, code(&body)), (400, "link_invalid"), "{body}");
    }
    let response = app
        .client
        .post(app.url(&format!("{BASE}/auth/accept-invite")))
        .json(&json!({ "token": invitation, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429, "twenty failures lock the address");
    assert!(response.headers().get("retry-after").is_some());
}

async fn change(browser: &mut Browser<'_>, path: &str, current: &str, new: &str) -> (u16, Value) {
    browser
        .post(
            path,
            json!({ "current_password": current, "new_password": new }),
        )
        .await
}

#[tokio::test]
async fn changing_your_password_ends_your_other_sessions_only() {
    let app = TestApp::spawn().await;
    let (_, invitation) = acme(&app).await;
    accept_invite(&app, "acme", &invitation).await;
    let mut here = signed_in_owner(&app).await;
    let mut elsewhere = signed_in_owner(&app).await;
    let path = format!("{BASE}/auth/password");
    let (status, body) = change(
        &mut here,
        &path,
        "not my password",
        "a brand new passphrase",
    )
    .await;
    assert_eq!((status, code(&body)), (401, "invalid_credentials"));
    let (status, body) = change(&mut here, &path, PASSWORD, "a brand new passphrase").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        here.get(&format!("{BASE}/auth/me")).await.0,
        200,
        "this one stays"
    );
    let (status, body) = elsewhere.get(&format!("{BASE}/auth/me")).await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
    let (status, _) = Browser::new(&app)
        .post(
            &format!("{BASE}/auth/login"),
            json!({ "email": "owner@acme.test", "password": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn operators_change_their_password_and_their_other_sessions_end() {
    let app = TestApp::spawn().await;
    let mut here = set_up(&app).await;
    let mut elsewhere = Browser::new(&app);
    let (status, _) = elsewhere
        .post(
            "/api/v1/admin/auth/login",
            json!({ "email": "op@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200);
    let path = "/api/v1/admin/auth/password";
    let (status, body) = change(&mut here, path, PASSWORD, "a brand new passphrase").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(here.get("/api/v1/admin/auth/me").await.0, 200);
    assert_eq!(elsewhere.get("/api/v1/admin/auth/me").await.0, 401);
}
