//! One-time links (invitations and password resets): each works once, on its own route, in
//! its own tenant; junk tokens cost no password hashing and are throttled per address; using
//! a reset link signs the user out everywhere.

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
    for route in ["accept-invite", "reset-password"]
        .iter()
        .cycle()
        .take(19)
    {
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
