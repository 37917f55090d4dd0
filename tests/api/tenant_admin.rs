//! Tenant admins manage users and API tokens through the tenant API; a lapsed license makes
//! the appliance read-only without locking anyone out.

use serde_json::{Value, json};

use crate::helpers::{
    Browser, PASSWORD, TestApp, accept_invite, install_license, invite_owner, set_up, sign_in_as,
};

const BASE: &str = "/t/acme/api/v1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A licensed appliance with tenant `acme` and its signed-in owner.
async fn acme_owner(
    app: &TestApp,
    change: impl FnOnce(&mut holdfast::license::Payload),
) -> Browser<'_> {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| {
        p.max_tenants = 3;
        p.max_seats = 10;
        p.features = vec!["api_tokens".into()];
        change(p);
    })
    .await;
    let token = invite_owner(&mut op, "acme").await;
    accept_invite(app, "acme", &token).await;
    let mut owner = Browser::new(app);
    let (again, body) = owner
        .post(
            &format!("{BASE}/auth/accept-invite"),
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(
        (again, code(&body)),
        (400, "link_invalid"),
        "a link works once"
    );
    let (status, _) = owner
        .post(
            &format!("{BASE}/auth/login"),
            json!({ "email": "owner@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200);
    owner
}

async fn sign_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    sign_in_as(app, "acme", email).await
}

#[tokio::test]
async fn admins_manage_users_but_only_owners_touch_owners() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    let (status, body) = owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "admin@acme.test", "role": "admin", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["invite_link"].is_null());
    let mut admin = sign_in(&app, "admin@acme.test").await;

    let (status, body) = admin
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "new@acme.test", "role": "member" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(
        body["invite_link"]
            .as_str()
            .unwrap()
            .contains("/t/acme/accept-invite#token=")
    );
    let member_id = body["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = admin
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "boss@acme.test", "role": "owner" }),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (403, "forbidden"),
        "an admin cannot make an owner"
    );
    let (status, body) = admin
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "new@acme.test", "role": "member" }),
        )
        .await;
    assert_eq!((status, code(&body)), (409, "user_exists"));
    let (status, body) = admin
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "bad", "role": "member" }),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "invalid_input"));

    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("{BASE}/users/{member_id}"),
            Some(json!({ "role": "viewer" })),
        )
        .await
        .into_status_body();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "viewer");
    let (status, body) = admin
        .post(
            &format!("{BASE}/users/{member_id}/reset-password"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["link"].as_str().unwrap().contains("accept-invite"),
        "still invited: a fresh invitation"
    );
    let (status, body) = admin
        .post(&format!("{BASE}/users/{member_id}/deactivate"), json!({}))
        .await;
    assert_eq!(
        (status, body["user"]["status"].as_str()),
        (200, Some("deactivated"))
    );
    let (status, body) = admin
        .post(&format!("{BASE}/users/{member_id}/reactivate"), json!({}))
        .await;
    assert_eq!(
        (status, body["user"]["status"].as_str()),
        (200, Some("invited"))
    );
}

#[tokio::test]
async fn owners_are_protected_from_admins_and_the_last_one_stays() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "admin@acme.test", "role": "admin", "password": PASSWORD }),
        )
        .await;
    let mut admin = sign_in(&app, "admin@acme.test").await;
    let (_, me) = owner.get(&format!("{BASE}/auth/me")).await;
    let owner_id = me["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = admin
        .post(&format!("{BASE}/users/{owner_id}/deactivate"), json!({}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (403, "forbidden"),
        "an admin cannot remove an owner"
    );
    let (status, body) = owner
        .send(
            reqwest::Method::PATCH,
            &format!("{BASE}/users/{owner_id}"),
            Some(json!({ "role": "admin" })),
        )
        .await
        .into_status_body();
    assert_eq!((status, code(&body)), (409, "last_owner"));
    let (status, body) = owner.get(&format!("{BASE}/users/{}", "0".repeat(32))).await;
    assert_eq!((status, code(&body)), (404, "user_not_found"));
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_at_once() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    let (_, body) = owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "m@acme.test", "role": "member", "password": PASSWORD }),
        )
        .await;
    let id = body["user"]["id"].as_str().unwrap().to_owned();
    let mut member = sign_in(&app, "m@acme.test").await;
    assert_eq!(member.get(&format!("{BASE}/auth/me")).await.0, 200);
    owner
        .post(&format!("{BASE}/users/{id}/deactivate"), json!({}))
        .await;
    let (status, body) = member.get(&format!("{BASE}/auth/me")).await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
    let (status, body) = Browser::new(&app)
        .post(
            &format!("{BASE}/auth/login"),
            json!({ "email": "m@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!((status, code(&body)), (401, "invalid_credentials"));
}

#[tokio::test]
async fn api_tokens_are_shown_once_scoped_to_a_role_and_revocable() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    let (status, body) = owner
        .post(
            &format!("{BASE}/tokens"),
            json!({ "name": "reports", "role": "viewer", "expires_in_days": 30 }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    let id = body["token"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("hft_"), "{secret}");
    let (_, list) = owner.get(&format!("{BASE}/tokens")).await;
    assert!(
        !list.to_string().contains(&secret[4..]),
        "the secret is never shown again"
    );

    let bearer = |method: reqwest::Method, path: String| {
        app.client
            .request(method, app.url(&path))
            .bearer_auth(&secret)
    };
    let response = bearer(reqwest::Method::GET, format!("{BASE}/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "a viewer token reads without cookies or CSRF"
    );
    let response = bearer(reqwest::Method::POST, format!("{BASE}/users"))
        .json(&json!({ "email": "x@acme.test", "role": "member" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "a viewer token cannot write");
    let response = bearer(reqwest::Method::GET, "/t/other/api/v1/users".into())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    let (status, body) = owner
        .post(
            &format!("{BASE}/tokens"),
            json!({ "name": "x", "role": "viewer", "expires_in_days": 0 }),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "invalid_input"));

    let (status, _, _) = owner
        .send(
            reqwest::Method::DELETE,
            &format!("{BASE}/tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let response = bearer(reqwest::Method::GET, format!("{BASE}/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "revoked at once");
    let response = app
        .client
        .get(app.url(&format!("{BASE}/users")))
        .bearer_auth(format!("hft_{}", "A".repeat(43)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "a forged token opens nothing");
}

#[tokio::test]
async fn tokens_need_the_licensed_feature() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |p| p.features = vec![]).await;
    let (status, body) = owner
        .post(
            &format!("{BASE}/tokens"),
            json!({ "name": "x", "role": "viewer" }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "feature_not_licensed"));
}

#[tokio::test]
async fn after_grace_writes_and_seats_are_refused_while_sign_in_and_reads_work() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |p| {
        p.expires_at = Some(p.issued_at + 10 * 86_400);
        p.grace_days = 5;
    })
    .await;
    let (_, body) = owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "m@acme.test", "role": "member", "password": PASSWORD }),
        )
        .await;
    let member_id = body["user"]["id"].as_str().unwrap().to_owned();

    crate::helpers::past_grace(&app).await;

    let (status, body) = owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "late@acme.test", "role": "member" }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "license_expired"));
    let (status, body) = owner
        .send(
            reqwest::Method::PATCH,
            &format!("{BASE}/users/{member_id}"),
            Some(json!({ "role": "viewer" })),
        )
        .await
        .into_status_body();
    assert_eq!((status, code(&body)), (403, "read_only"));
    let (status, body) = owner
        .post(
            &format!("{BASE}/tokens"),
            json!({ "name": "x", "role": "viewer" }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "read_only"));

    let member = sign_in(&app, "m@acme.test").await;
    drop(member);
    assert_eq!(
        owner.get(&format!("{BASE}/users")).await.0,
        200,
        "reads work"
    );
    let (status, _) = owner
        .post(&format!("{BASE}/users/{member_id}/deactivate"), json!({}))
        .await;
    assert_eq!(status, 200, "taking access away always works");
}

trait IntoStatusBody {
    fn into_status_body(self) -> (u16, Value);
}

impl IntoStatusBody for (u16, reqwest::header::HeaderMap, Value) {
    fn into_status_body(self) -> (u16, Value) {
        (self.0, self.2)
    }
}

#[tokio::test]
async fn the_server_and_the_cli_adding_the_last_seat_at_once_yield_exactly_one() {
    for round in 0..3 {
        let app = TestApp::spawn().await;
        // Two seats: the owner holds one.
        let mut owner = acme_owner(&app, |p| p.max_seats = 2).await;
        let dir = app.data_dir().to_str().unwrap().to_owned();
        let cli = tokio::task::spawn_blocking(move || {
            crate::helpers::Holdfast::new().run(&[
                "user",
                "create",
                "--tenant",
                "acme",
                "--email",
                "cli@acme.test",
                "--role",
                "member",
                "--data-dir",
                &dir,
            ])
        });
        let (status, body) = owner
            .post(
                &format!("{BASE}/users"),
                json!({ "email": "api@acme.test", "role": "member" }),
            )
            .await;
        let cli = cli.await.unwrap();
        let api_won = status == 201;
        let cli_won = cli.code == 0;
        assert!(
            api_won != cli_won,
            "round {round}: exactly one of {status} {body} / {cli:?}"
        );
        if api_won {
            assert!(cli.stderr.contains("seat_limit_reached"), "{}", cli.stderr);
        } else {
            assert_eq!(code(&body), "seat_limit_reached");
        }
        let (_, users) = owner.get(&format!("{BASE}/users")).await;
        assert_eq!(users["users"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn a_suspended_tenant_refuses_its_api_tokens_too() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    let (_, body) = owner
        .post(
            &format!("{BASE}/tokens"),
            json!({ "name": "ci", "role": "viewer" }),
        )
        .await;
    let secret = body["secret"].as_str().unwrap().to_owned();
    let get = || {
        app.client
            .get(app.url(&format!("{BASE}/users")))
            .bearer_auth(&secret)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 200);

    let mut op = Browser::new(&app);
    op.post(
        "/api/v1/admin/auth/login",
        json!({ "email": "op@example.com", "password": PASSWORD }),
    )
    .await;
    let (status, _) = op
        .post("/api/v1/admin/tenants/acme/suspend", json!({}))
        .await;
    assert_eq!(status, 200);
    let refused = get().await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(code(&body), "tenant_suspended");
}

/// Sends `method path` with `body` under the bearer token `secret`.
async fn with_token(
    app: &TestApp,
    secret: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(secret);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_token_never_has_more_authority_than_its_maker_has_now() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    for (email, role) in [("second@acme.test", "owner"), ("admin@acme.test", "admin")] {
        let (status, body) = owner
            .post(
                &format!("{BASE}/users"),
                json!({ "email": email, "role": role, "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, body) = owner.get(&format!("{BASE}/auth/me")).await;
    let owner_id = body["user"]["id"].as_str().unwrap().to_owned();
    let (_, body) = owner
        .post(
            &format!("{BASE}/tokens"),
            json!({ "name": "owner script", "role": "owner" }),
        )
        .await;
    let owner_token = body["secret"].as_str().unwrap().to_owned();

    // The second owner demotes the first, whose owner token must not restore them.
    let mut second = sign_in(&app, "second@acme.test").await;
    let (status, body) = second
        .send(
            reqwest::Method::PATCH,
            &format!("{BASE}/users/{owner_id}"),
            Some(json!({ "role": "member" })),
        )
        .await
        .into_status_body();
    assert_eq!(status, 200, "{body}");
    let (status, body) = with_token(
        &app,
        &owner_token,
        reqwest::Method::PATCH,
        &format!("{BASE}/users/{owner_id}"),
        Some(json!({ "role": "owner" })),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    let (status, _) = with_token(
        &app,
        &owner_token,
        reqwest::Method::GET,
        &format!("{BASE}/users"),
        None,
    )
    .await;
    assert_eq!(status, 200, "the token still reads, as a member may");

    // A deactivated admin's token does nothing at all, and works again on reactivation.
    let mut admin = sign_in(&app, "admin@acme.test").await;
    let (_, body) = admin
        .post(
            &format!("{BASE}/tokens"),
            json!({ "name": "admin script", "role": "admin" }),
        )
        .await;
    let admin_token = body["secret"].as_str().unwrap().to_owned();
    let (_, body) = admin.get(&format!("{BASE}/auth/me")).await;
    let admin_id = body["user"]["id"].as_str().unwrap().to_owned();
    let (status, _) = second
        .post(&format!("{BASE}/users/{admin_id}/deactivate"), json!({}))
        .await;
    assert_eq!(status, 200);
    for (method, path, body) in [
        (reqwest::Method::GET, format!("{BASE}/users"), None),
        (
            reqwest::Method::POST,
            format!("{BASE}/users/{owner_id}/reset-password"),
            Some(json!({})),
        ),
        (
            reqwest::Method::POST,
            format!("{BASE}/users"),
            Some(json!({ "email": "backdoor@acme.test", "role": "admin", "password": PASSWORD })),
        ),
    ] {
        let (status, body) = with_token(&app, &admin_token, method, &path, body).await;
        assert_eq!((status, code(&body)), (401, "unauthenticated"), "{path}");
    }
    let (status, _) = second
        .post(&format!("{BASE}/users/{admin_id}/reactivate"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = with_token(
        &app,
        &admin_token,
        reqwest::Method::GET,
        &format!("{BASE}/users"),
        None,
    )
    .await;
    assert_eq!(status, 200, "back with its maker");
}

#[tokio::test]
async fn only_owners_revoke_the_tokens_of_owners() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    let (status, _) = owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "admin@acme.test", "role": "admin", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201);
    let mut admin = sign_in(&app, "admin@acme.test").await;
    let make = async |browser: &mut Browser<'_>, name: &str| {
        let (status, body) = browser
            .post(
                &format!("{BASE}/tokens"),
                json!({ "name": name, "role": "member" }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"]["id"].as_str().unwrap().to_owned()
    };
    let owners = make(&mut owner, "owner's").await;
    let admins = make(&mut admin, "admin's").await;
    let revoke = async |browser: &mut Browser<'_>, id: &str| {
        let (status, _, body) = browser
            .send(
                reqwest::Method::DELETE,
                &format!("{BASE}/tokens/{id}"),
                None,
            )
            .await;
        (status, code(&body).to_owned())
    };
    assert_eq!(
        revoke(&mut admin, &owners).await,
        (403, "forbidden".to_owned()),
        "an owner's token is the owner's"
    );
    assert_eq!(revoke(&mut admin, &admins).await.0, 204);
    assert_eq!(revoke(&mut owner, &owners).await.0, 204);
}

#[tokio::test]
async fn guessable_passwords_are_refused_saying_why() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    let users = format!("{BASE}/users");
    for (password, why) in [
        ("aaaaaaaaaa", "one of the most common passwords"),
        ("1234567890", "one of the most common passwords"),
        ("Password123", "one of the most common passwords"),
        ("bbbbbbbbbbbb", "a repeated or sequential pattern"),
        (
            "Ada@Acme.test",
            "made of your e-mail address or the product's name",
        ),
        (
            "acme-ada-2025",
            "made of your e-mail address or the product's name",
        ),
        (
            "Holdfast2025!",
            "made of your e-mail address or the product's name",
        ),
    ] {
        let (status, body) = owner
            .post(
                &users,
                json!({ "email": "ada@acme.test", "role": "member", "password": password }),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (422, "invalid_password"),
            "{password}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{password}: {message}");
    }

    // An invitation is accepted under the same policy, judged against the invitee's address.
    let (status, body) = owner
        .post(
            &users,
            json!({ "email": "ada@acme.test", "role": "member" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = body["invite_link"]
        .as_str()
        .unwrap()
        .split("#token=")
        .nth(1)
        .unwrap();
    let (status, body) = Browser::new(&app)
        .post(
            &format!("{BASE}/auth/accept-invite"),
            json!({ "token": token, "password": "ada.acme.test1" }),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "invalid_password"), "{body}");
    accept_invite(&app, "acme", token).await;
}

#[tokio::test]
async fn a_look_alike_address_is_the_same_user_and_hidden_characters_are_refused() {
    let app = TestApp::spawn().await;
    let mut owner = acme_owner(&app, |_| {}).await;
    let users = format!("{BASE}/users");
    // A full-width look-alike is the same address; a bidi override is no address at all.
    let (status, body) = owner
        .post(
            &users,
            json!({ "email": "ＯＷＮＥＲ＠ａｃｍｅ．ｔｅｓｔ", "role": "member" }),
        )
        .await;
    assert_eq!((status, code(&body)), (409, "user_exists"), "{body}");
    for hidden in ["owner\u{202e}@acme.test", "own\u{200b}er@acme.test"] {
        let (status, body) = owner
            .post(&users, json!({ "email": hidden, "role": "member" }))
            .await;
        assert_eq!((status, code(&body)), (422, "invalid_input"), "{hidden:?}");
    }
    let look_alike = sign_in(&app, "ｏｗｎｅｒ@ａｃｍｅ.test").await;
    drop(look_alike);
}
