//! Operators and users sign in: sessions in `HttpOnly` cookies, CSRF on cookie writes, the same
//! answer for unknown and wrong, throttling, tenants reached by prefix or host and walled off
//! from each other.

use serde_json::{Value, json};

use crate::helpers::{
    Browser, PASSWORD, TestApp, accept_invite, install_license, invite_owner, set_up, sign_in_as,
};

const LOGIN: &str = "/api/v1/admin/auth/login";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn operators_sign_in_with_an_httponly_cookie_and_writes_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;

    let (status, headers, _) = op
        .send(
            reqwest::Method::POST,
            LOGIN,
            Some(json!({ "email": "op@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, 200);
    let cookie = headers.get("set-cookie").unwrap().to_str().unwrap();
    for attribute in ["holdfast_admin=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let (status, me) = op.get("/api/v1/admin/auth/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["operator"]["email"], "op@example.com");

    let csrf = op.csrf.take();
    let (status, body) = op
        .post(
            "/api/v1/admin/tenants",
            json!({ "slug": "acme", "name": "Acme" }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "csrf_failed"));
    op.csrf = Some("wrong".repeat(9));
    let (status, _) = op
        .post(
            "/api/v1/admin/tenants",
            json!({ "slug": "acme", "name": "Acme" }),
        )
        .await;
    assert_eq!(status, 403);
    op.csrf = csrf;
    let (status, body) = op
        .post(
            "/api/v1/admin/tenants",
            json!({ "slug": "acme", "name": "Acme" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let (status, _) = op.post("/api/v1/admin/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    let (status, body) = op.get("/api/v1/admin/auth/me").await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));

    let mut stranger = Browser::new(&app);
    stranger.set_cookie("holdfast_admin", &"A".repeat(43));
    let (status, _) = stranger.get("/api/v1/admin/tenants").await;
    assert_eq!(status, 401, "a forged cookie opens nothing");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer_and_failures_are_throttled() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    let mut browser = Browser::new(&app);
    let (s1, unknown) = browser
        .post(
            LOGIN,
            json!({ "email": "nobody@example.com", "password": PASSWORD }),
        )
        .await;
    let (s2, wrong) = browser
        .post(
            LOGIN,
            json!({ "email": "op@example.com", "password": "wrong password!" }),
        )
        .await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(unknown, wrong, "the same body for both");
    assert_eq!(code(&wrong), "invalid_credentials");

    for _ in 0..4 {
        browser
            .post(
                LOGIN,
                json!({ "email": "op@example.com", "password": "wrong password!" }),
            )
            .await;
    }
    let (status, headers, body) = browser
        .send(
            reqwest::Method::POST,
            LOGIN,
            Some(json!({ "email": "op@example.com", "password": PASSWORD })),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (429, "rate_limited"),
        "locked even with the right password"
    );
    let retry: u64 = headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);

    // Failed attempts are on the record; the lock's refusals, which anyone can repeat at
    // will, are not.
    let (_, log) = op.get("/api/v1/admin/audit").await;
    let outcomes: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    let failed = outcomes
        .iter()
        .filter(|o| **o == "refused:invalid_credentials")
        .count();
    assert_eq!(failed, 6, "{outcomes:?}");
    assert!(!outcomes.contains(&"refused:rate_limited"), "{outcomes:?}");
}

/// An appliance with tenants `acme` and `beta`, each with an active owner, and the operator.
async fn two_tenants(app: &TestApp) -> Browser<'_> {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| {
        p.max_tenants = 5;
        p.max_seats = 10;
    })
    .await;
    for slug in ["acme", "beta"] {
        let token = invite_owner(&mut op, slug).await;
        let accepted = accept_invite(app, slug, &token).await;
        assert_eq!(accepted["user"]["status"], "active");
    }
    op
}

trait StatusBody {
    fn clone_status_body(self) -> (u16, Value);
}

impl StatusBody for (u16, reqwest::header::HeaderMap, Value) {
    fn clone_status_body(self) -> (u16, Value) {
        (self.0, self.2)
    }
}

async fn sign_in<'a>(app: &'a TestApp, slug: &str) -> Browser<'a> {
    sign_in_as(app, slug, &format!("owner@{slug}.test")).await
}

#[tokio::test]
async fn users_sign_in_by_prefix_or_host_and_never_reach_another_tenant() {
    let app = TestApp::spawn_with(|s| s.base_domain = Some("crm.test".into())).await;
    let _op = two_tenants(&app).await;

    let mut acme = Browser::new(&app);
    let (status, headers, body) = acme
        .send(
            reqwest::Method::POST,
            "/t/acme/api/v1/auth/login",
            Some(json!({ "email": "owner@acme.test", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let cookie = headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        cookie.contains("Path=/t/acme") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let (status, me) = acme.get("/t/acme/api/v1/auth/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["user"]["email"], "owner@acme.test");
    assert_eq!(me["tenant"]["slug"], "acme");

    // The same routes by host name.
    acme.host = Some("acme.crm.test".into());
    let (status, me) = acme.get("/api/v1/auth/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["tenant"]["slug"], "acme");

    // acme's session addressed to beta, by host or by prefix: nothing is there.
    acme.host = Some("beta.crm.test".into());
    let (status, _) = acme.get("/api/v1/auth/me").await;
    assert_eq!(status, 404);
    acme.host = None;
    let (status, _) = acme.get("/t/beta/api/v1/auth/me").await;
    assert_eq!(status, 404);
    let (status, _) = acme.post("/t/beta/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, 404, "and changes nothing there");

    // beta's owner cannot sign in at acme.
    let mut beta = Browser::new(&app);
    let (status, body) = beta
        .post(
            "/t/acme/api/v1/auth/login",
            json!({ "email": "owner@beta.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!((status, code(&body)), (401, "invalid_credentials"));

    let (status, body) = beta.get("/t/nobody/api/v1/auth/me").await;
    assert_eq!((status, code(&body)), (404, "tenant_not_found"));
    beta.host = Some("nobody.crm.test".into());
    let (status, body) = beta.get("/api/v1/auth/me").await;
    assert_eq!((status, code(&body)), (404, "tenant_not_found"));
}

#[tokio::test]
async fn a_suspended_tenant_refuses_sign_in_and_live_sessions_at_once() {
    let app = TestApp::spawn().await;
    let mut op = two_tenants(&app).await;
    let mut acme = sign_in(&app, "acme").await;
    let (status, body) = op
        .post("/api/v1/admin/tenants/acme/suspend", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = acme.get("/t/acme/api/v1/auth/me").await;
    assert_eq!((status, code(&body)), (403, "tenant_suspended"));
    let mut again = Browser::new(&app);
    let (status, body) = again
        .post(
            "/t/acme/api/v1/auth/login",
            json!({ "email": "owner@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "tenant_suspended"));
    let mut beta = sign_in(&app, "beta").await;
    assert_eq!(
        beta.get("/t/beta/api/v1/auth/me").await.0,
        200,
        "other tenants carry on"
    );

    op.post("/api/v1/admin/tenants/acme/resume", json!({}))
        .await;
    assert_eq!(
        acme.get("/t/acme/api/v1/auth/me").await.0,
        200,
        "the session survives a suspension"
    );
}

#[tokio::test]
async fn operator_api_manages_the_license_tenants_and_operators() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    let (status, license) = op.get("/api/v1/admin/license").await;
    assert_eq!(status, 200);
    assert_eq!(license["state"], "unlicensed");
    assert_eq!(license["tenants_cap"], 1);

    let (status, headers, body) = op
        .send(
            reqwest::Method::PUT,
            "/api/v1/admin/license",
            Some(json!({ "key": "HF1.nope" })),
        )
        .await;
    let _ = headers;
    assert_eq!((status, code(&body)), (422, "license_invalid"));

    let (status, _) = op
        .post(
            "/api/v1/admin/tenants",
            json!({ "slug": "one", "name": "One" }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = op
        .post(
            "/api/v1/admin/tenants",
            json!({ "slug": "two", "name": "Two" }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "tenant_limit_reached"));
    let (status, body) = op
        .post(
            "/api/v1/admin/tenants",
            json!({ "slug": "One!", "name": "x" }),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "invalid_input"));

    let (status, list) = op.get("/api/v1/admin/tenants").await;
    assert_eq!(status, 200);
    assert_eq!(list["tenants"].as_array().unwrap().len(), 1);
    let (status, body) = op
        .send(reqwest::Method::DELETE, "/api/v1/admin/tenants/one", None)
        .await
        .clone_status_body();
    assert_eq!(
        (status, code(&body)),
        (422, "invalid_input"),
        "deleting needs confirmation"
    );
    let (status, _, _) = op
        .send(
            reqwest::Method::DELETE,
            "/api/v1/admin/tenants/one?confirm=one",
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = op.get("/api/v1/admin/tenants/one").await;
    assert_eq!((status, code(&body)), (404, "tenant_not_found"));

    let (status, body) = op
        .post(
            "/api/v1/admin/operators",
            json!({ "email": "second@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, list) = op.get("/api/v1/admin/operators").await;
    let ids: Vec<String> = list["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    let (status, body) = op
        .post(
            &format!("/api/v1/admin/operators/{}/deactivate", ids[1]),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = op
        .post(
            &format!("/api/v1/admin/operators/{}/deactivate", ids[0]),
            json!({}),
        )
        .await;
    assert_eq!((status, code(&body)), (409, "last_operator"));
}

#[tokio::test]
async fn a_tenant_is_reached_at_its_custom_domain() {
    let app = TestApp::spawn_with(|s| s.base_domain = Some("crm.test".into())).await;
    let mut op = two_tenants(&app).await;
    let patch = |body: Value| {
        (
            reqwest::Method::PATCH,
            "/api/v1/admin/tenants/acme",
            Some(body),
        )
    };
    let (m, p, b) = patch(json!({ "custom_domain": "crm.acme.example", "seat_limit": 5 }));
    let (status, body) = op.send(m, p, b).await.clone_status_body();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tenant"]["custom_domain"], "crm.acme.example");
    assert_eq!(body["tenant"]["seat_limit"], 5);
    let (m, p, b) = patch(json!({ "custom_domain": "x.crm.test" }));
    let (status, body) = op.send(m, p, b).await.clone_status_body();
    assert_eq!(
        (status, code(&body)),
        (422, "invalid_input"),
        "not under the base domain"
    );

    let mut browser = Browser::new(&app);
    browser.host = Some("crm.acme.example".into());
    let (status, body) = browser
        .post(
            "/api/v1/auth/login",
            json!({ "email": "owner@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tenant"]["slug"], "acme");

    let (m, p, b) = patch(json!({ "custom_domain": null, "seat_limit": null }));
    let (status, body) = op.send(m, p, b).await.clone_status_body();
    assert!(
        body["tenant"]["custom_domain"].is_null() && body["tenant"]["seat_limit"].is_null(),
        "{status} {body}"
    );
    let (status, body) = browser.get("/api/v1/auth/me").await;
    assert_eq!((status, code(&body)), (404, "tenant_not_found"));
}
