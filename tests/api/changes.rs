//! A change to who may do what takes effect on the very next request, whoever makes it — the
//! API, or the CLI writing the same data directory while the server runs — even right after
//! requests that read the same tenant, session, token and user, which the server keeps in
//! memory between changes. (Another process's commit is seen within
//! `OTHER_PROCESSES_SEEN_WITHIN` of it, sooner than the CLI can exit; a connection of the
//! test's own that stands for another process waits that long before the next request.)

use holdfast::storage::OTHER_PROCESSES_SEEN_WITHIN;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Browser, Holdfast, PASSWORD, Run, TestApp, accept_invite, install_license, invite_owner,
    set_up, sign_in_as,
};

const BASE: &str = "/t/acme/api/v1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn sign_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    sign_in_as(app, "acme", email).await
}

/// A licensed appliance with tenant acme and, signed in, its owner and an admin.
async fn acme(app: &TestApp) -> (Browser<'_>, Browser<'_>) {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| {
        p.max_seats = 10;
        p.features = vec!["api_tokens".into()];
    })
    .await;
    let token = invite_owner(&mut op, "acme").await;
    accept_invite(app, "acme", &token).await;
    let mut owner = sign_in(app, "owner@acme.test").await;
    let (status, body) = owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "admin@acme.test", "role": "admin", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (owner, sign_in(app, "admin@acme.test").await)
}

/// `GET auth/me`: status, and the error code or the caller's role.
async fn me(browser: &mut Browser<'_>) -> (u16, String) {
    let (status, body) = browser.get(&format!("{BASE}/auth/me")).await;
    let said = body["role"].as_str().unwrap_or_else(|| code(&body));
    (status, said.to_owned())
}

/// Reads as `browser` twice: the first read may go to the database, the second is answered
/// from what the first left in memory. The change that follows must not be missed.
async fn warm(browser: &mut Browser<'_>) {
    for _ in 0..2 {
        assert_eq!(me(browser).await.0, 200);
    }
}

/// `holdfast ARGS --data-dir <the server's>`: the real binary, a process of its own.
async fn cli(app: &TestApp, args: &[&str]) -> Run {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.extend([
        "--data-dir".to_owned(),
        app.data_dir().display().to_string(),
    ]);
    tokio::task::spawn_blocking(move || {
        Holdfast::new().run(&all.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_clis_changes_take_effect_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let (mut owner, mut admin) = acme(&app).await;
    let admin_flags = ["--tenant", "acme", "--email", "admin@acme.test"];

    warm(&mut admin).await;
    cli(&app, &[&["user", "deactivate"][..], &admin_flags].concat())
        .await
        .assert_ok();
    assert_eq!(me(&mut admin).await, (401, "unauthenticated".into()));

    warm(&mut owner).await;
    cli(&app, &["tenant", "suspend", "acme"]).await.assert_ok();
    assert_eq!(me(&mut owner).await, (403, "tenant_suspended".into()));
    cli(&app, &["tenant", "resume", "acme"]).await.assert_ok();
    assert_eq!(me(&mut owner).await, (200, "owner".into()));

    // Demoted by another process: the CLI has no command for it, so a connection of the
    // test's own writes the row, as any other process would.
    cli(&app, &[&["user", "reactivate"][..], &admin_flags].concat())
        .await
        .assert_ok();
    let mut admin = sign_in(&app, "admin@acme.test").await;
    warm(&mut admin).await;
    let tokens = format!("{BASE}/tokens");
    assert_eq!(admin.get(&tokens).await.0, 200);
    rusqlite::Connection::open(app.data_dir().join("holdfast.db"))
        .unwrap()
        .execute(
            "UPDATE users SET role = 'viewer' WHERE email = 'admin@acme.test'",
            [],
        )
        .unwrap();
    tokio::time::sleep(OTHER_PROCESSES_SEEN_WITHIN).await;
    assert_eq!(me(&mut admin).await, (200, "viewer".into()));
    let (status, body) = admin.get(&tokens).await;
    assert_eq!((status, code(&body)), (403, "forbidden"));

    warm(&mut owner).await;
    cli(&app, &["tenant", "delete", "acme", "--yes"])
        .await
        .assert_ok();
    assert_eq!(me(&mut owner).await, (404, "tenant_not_found".into()));
}

#[tokio::test]
async fn a_changed_custom_domain_takes_effect_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let (mut owner, _) = acme(&app).await;
    cli(
        &app,
        &[
            "tenant",
            "update",
            "acme",
            "--custom-domain",
            "crm.acme.example",
        ],
    )
    .await
    .assert_ok();
    let mut there = Browser::new(&app);
    there.host = Some("crm.acme.example".into());
    let (status, body) = there
        .post(
            "/api/v1/auth/login",
            json!({ "email": "owner@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..2 {
        assert_eq!(there.get("/api/v1/auth/me").await.0, 200);
    }
    cli(&app, &["tenant", "update", "acme", "--no-custom-domain"])
        .await
        .assert_ok();
    let (status, body) = there.get("/api/v1/auth/me").await;
    assert_eq!((status, code(&body)), (404, "tenant_not_found"));
    assert_eq!(me(&mut owner).await.0, 200, "the prefix still serves it");
}

/// `GET path` under the bearer token `secret`: status and error code.
async fn with_token(app: &TestApp, secret: &str, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, code(&body).to_owned())
}

/// A token of `maker` with `role`: its id and secret.
async fn token(maker: &mut Browser<'_>, role: &str) -> (String, String) {
    let (status, body) = maker
        .post(
            &format!("{BASE}/tokens"),
            json!({ "name": "script", "role": role }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let text = |key: &str| body[key].as_str().unwrap().to_owned();
    (
        body["token"]["id"].as_str().unwrap().to_owned(),
        text("secret"),
    )
}

#[tokio::test]
async fn a_token_read_a_moment_ago_follows_its_makers_demotion_and_its_revocation() {
    let app = TestApp::spawn().await;
    let (mut owner, mut admin) = acme(&app).await;
    let (_, body) = admin.get(&format!("{BASE}/auth/me")).await;
    let admin_id = body["user"]["id"].as_str().unwrap().to_owned();
    let (id, secret) = token(&mut admin, "admin").await;
    let tokens = format!("{BASE}/tokens");
    for _ in 0..2 {
        assert_eq!(with_token(&app, &secret, &tokens).await.0, 200);
    }

    let (status, _, body) = owner
        .send(
            Method::PATCH,
            &format!("{BASE}/users/{admin_id}"),
            Some(json!({ "role": "member" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        with_token(&app, &secret, &tokens).await,
        (403, "forbidden".into()),
        "capped by its maker's role now"
    );
    let users = format!("{BASE}/users");
    assert_eq!(with_token(&app, &secret, &users).await.0, 200);

    let (status, _, _) = owner
        .send(Method::DELETE, &format!("{BASE}/tokens/{id}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        with_token(&app, &secret, &users).await,
        (401, "unauthenticated".into())
    );
}

/// The value of the session cookie a response set.
fn session_cookie(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find_map(|c| c.strip_prefix("holdfast_session="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_session_read_a_moment_ago_ends_at_sign_out_and_at_a_password_change() {
    let app = TestApp::spawn().await;
    let (mut owner, _) = acme(&app).await;
    let mut elsewhere = sign_in(&app, "owner@acme.test").await;
    let mut leaving = Browser::new(&app);
    let credentials = json!({ "email": "owner@acme.test", "password": PASSWORD });
    let (_, headers, _) = leaving
        .send(
            Method::POST,
            &format!("{BASE}/auth/login"),
            Some(credentials),
        )
        .await;
    let cookie = session_cookie(&headers);

    warm(&mut leaving).await;
    let (status, _) = leaving
        .post(&format!("{BASE}/auth/logout"), json!({}))
        .await;
    assert_eq!(status, 204);
    let mut replay = Browser::new(&app);
    replay.set_cookie("holdfast_session", &cookie);
    assert_eq!(me(&mut replay).await, (401, "unauthenticated".into()));

    warm(&mut elsewhere).await;
    warm(&mut owner).await;
    let (status, body) = owner
        .post(
            &format!("{BASE}/auth/password"),
            json!({ "current_password": PASSWORD, "new_password": "a different horse battery" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me(&mut elsewhere).await, (401, "unauthenticated".into()));
    assert_eq!(me(&mut owner).await.0, 200, "the changing session stays");
}

#[tokio::test]
async fn made_up_cookies_tokens_and_tenants_add_nothing_to_memory() {
    let app = TestApp::spawn().await;
    let (mut owner, _) = acme(&app).await;
    warm(&mut owner).await;
    let callers = app.callers();
    let held = callers.held();
    assert!(held >= 3, "the tenant, the session and the user are held");
    for i in 0..20 {
        let made_up = format!("{i:0>43}");
        let mut stranger = Browser::new(&app);
        stranger.set_cookie("holdfast_session", &made_up);
        assert_eq!(me(&mut stranger).await.0, 401);
        let (status, _) =
            with_token(&app, &format!("hft_{made_up}"), &format!("{BASE}/users")).await;
        assert_eq!(status, 401);
        let (status, _) = stranger.get(&format!("/t/nobody{i}/api/v1/auth/me")).await;
        assert_eq!(status, 404);
    }
    // Fewer, if something else changed the database meanwhile; never more.
    assert!(callers.held() <= held, "{} > {held}", callers.held());
}

#[tokio::test]
async fn an_operator_session_read_a_moment_ago_ends_with_the_operator() {
    let app = TestApp::spawn().await;
    let mut first = set_up(&app).await;
    let mut others = Vec::new();
    for email in ["second@example.com", "third@example.com"] {
        let credentials = json!({ "email": email, "password": PASSWORD });
        let (status, body) = first
            .post("/api/v1/admin/operators", credentials.clone())
            .await;
        assert_eq!(status, 201, "{body}");
        let mut browser = Browser::new(&app);
        let (status, _) = browser.post("/api/v1/admin/auth/login", credentials).await;
        assert_eq!(status, 200);
        others.push((body["operator"]["id"].as_str().unwrap().to_owned(), browser));
    }
    let operators = "/api/v1/admin/operators";
    for (_, browser) in &mut others {
        for _ in 0..2 {
            assert_eq!(browser.get(operators).await.0, 200);
        }
    }
    let [(second, mut by_api), (_, mut by_other_process)] =
        <[_; 2]>::try_from(others).ok().unwrap();

    let (status, _) = first
        .post(&format!("{operators}/{second}/deactivate"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = by_api.get(operators).await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));

    rusqlite::Connection::open(app.data_dir().join("holdfast.db"))
        .unwrap()
        .execute(
            "UPDATE operators SET status = 'deactivated' WHERE email = 'third@example.com'",
            [],
        )
        .unwrap();
    tokio::time::sleep(OTHER_PROCESSES_SEEN_WITHIN).await;
    let (status, body) = by_other_process.get(operators).await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
    assert_eq!(first.get(operators).await.0, 200);
}

#[tokio::test]
async fn a_host_that_becomes_a_tenants_domain_stops_serving_the_console_at_once() {
    let app = TestApp::spawn().await;
    let (mut owner, _) = acme(&app).await;
    // The appliance reached by a name of its own: prefix routes are served there.
    owner.host = Some("crm.acme.example".into());
    for _ in 0..2 {
        assert_eq!(me(&mut owner).await.0, 200);
    }
    cli(
        &app,
        &[
            "tenant",
            "update",
            "acme",
            "--custom-domain",
            "crm.acme.example",
        ],
    )
    .await
    .assert_ok();
    assert_eq!(
        me(&mut owner).await,
        (404, "not_found".into()),
        "a tenant's host serves that tenant's own routes alone"
    );
    let (status, _) = owner.get("/api/v1/auth/me").await;
    assert_eq!(status, 200, "which it now does");
}

/// The tenant's time zone (what its pages cut days by for readers whose browser does not say
/// its own), set from the command line: refused unless the zone exists, in force on the very
/// next page.
#[tokio::test]
async fn a_time_zone_set_by_the_cli_takes_effect_on_the_very_next_page() {
    let app = TestApp::spawn().await;
    let _people = acme(&app).await;
    let web = crate::pages::client();
    crate::pages::sign_in_at(&app, &web, "acme", "owner@acme.test").await;
    let zone_of_tasks = || async {
        let html = web.get(app.url("/t/acme/tasks")).send().await.unwrap();
        crate::pages::quoted_after(&html.text().await.unwrap(), "data-zone=\"")
    };
    assert_eq!(zone_of_tasks().await, "UTC");
    let refused = cli(
        &app,
        &["tenant", "update", "acme", "--timezone", "Europe/Atlantis"],
    )
    .await;
    assert!(
        refused
            .assert_refused()
            .starts_with("error: invalid_input: "),
        "{refused:?}"
    );
    assert_eq!(zone_of_tasks().await, "UTC");
    let changed = cli(
        &app,
        &[
            "tenant",
            "update",
            "acme",
            "--timezone",
            "Asia/Tokyo",
            "--json",
        ],
    )
    .await;
    assert_eq!(changed.assert_ok().json()["timezone"], "Asia/Tokyo");
    assert_eq!(zone_of_tasks().await, "Asia/Tokyo");
}
