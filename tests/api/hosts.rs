//! A tenant's host (`<slug>.<base_domain>`) or custom domain serves that tenant alone: its
//! host-routed API, assets and probes, never the console, the setup or another tenant's
//! prefix. The console answers on the appliance's own addresses: `appliance_hosts` when set,
//! else any host that is not a tenant's.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Browser, PASSWORD, TestApp, accept_invite, install_license, invite_owner, set_up,
};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn credentials(who: &str) -> Value {
    json!({ "email": who, "password": PASSWORD })
}

/// An appliance at `crm.test`, set up, licensed, with tenants acme and beta and their owners.
async fn two_tenants(app: &TestApp) -> Browser<'_> {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| p.max_tenants = 5).await;
    for slug in ["acme", "beta"] {
        let token = invite_owner(&mut op, slug).await;
        accept_invite(app, slug, &token).await;
    }
    op
}

/// What `host` answers to the console, the setup and the prefix routes (acme's own too): each
/// must be refused as if nothing were there.
async fn assert_no_console_or_prefixes(app: &TestApp, host: &str) {
    let mut browser = Browser::new(app);
    browser.host = Some(host.to_owned());
    let attempts = [
        (
            Method::POST,
            "/api/v1/admin/auth/login",
            Some(credentials("op@example.com")),
        ),
        (Method::GET, "/api/v1/admin/tenants", None),
        (Method::GET, "/setup", None),
        (
            Method::POST,
            "/t/beta/api/v1/auth/login",
            Some(credentials("owner@beta.test")),
        ),
        (
            Method::POST,
            "/t/acme/api/v1/auth/login",
            Some(credentials("owner@acme.test")),
        ),
        (Method::GET, "/t/acme/accept-invite", None),
        (Method::GET, "/admin", None),
        (Method::GET, "/admin/sign-in", None),
    ];
    for (method, path, body) in attempts {
        let (status, _, answer) = browser.send(method.clone(), path, body).await;
        assert_eq!(
            (status, code(&answer)),
            (404, "not_found"),
            "{method} {path} on {host}: {answer}"
        );
    }
}

/// What every host serves: the tenant's host-routed sign-in (for `owner`), assets, probes.
async fn assert_tenant_site(app: &TestApp, host: &str, owner: &str) {
    let mut browser = Browser::new(app);
    browser.host = Some(host.to_owned());
    let (status, body) = browser.post("/api/v1/auth/login", credentials(owner)).await;
    assert_eq!(status, 200, "{host}: {body}");
    for path in [
        "/healthz",
        "/readyz",
        "/assets/css/holdfast.css",
        "/api/v1/openapi.json",
    ] {
        let (status, _, _) = browser.send(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path} on {host}");
    }
}

#[tokio::test]
async fn a_tenant_host_serves_that_tenant_alone() {
    let app = TestApp::spawn_with(|s| s.base_domain = Some("crm.test".into())).await;
    // Not even the one-time setup on a tenant's host, whether or not the tenant exists yet.
    let mut early = Browser::new(&app);
    early.host = Some("acme.crm.test".into());
    let (status, _, body) = early.send(Method::GET, "/setup", None).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    let setup = json!({
        "token": app.setup_token.clone().unwrap(),
        "operator": credentials("intruder@example.com"),
    });
    let (status, body) = early.post("/setup", setup).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");

    let _op = two_tenants(&app).await;
    assert_no_console_or_prefixes(&app, "acme.crm.test").await;
    assert_no_console_or_prefixes(&app, "nobody.crm.test").await;
    assert_tenant_site(&app, "acme.crm.test", "owner@acme.test").await;

    // The appliance's own addresses keep the console and the prefixes: its address, the
    // base domain, reserved names under it.
    for host in [None, Some("crm.test"), Some("www.crm.test")] {
        let mut browser = Browser::new(&app);
        browser.host = host.map(str::to_owned);
        let (status, body) = browser
            .post("/api/v1/admin/auth/login", credentials("op@example.com"))
            .await;
        assert_eq!(status, 200, "{host:?}: {body}");
        let (status, body) = browser
            .post("/t/beta/api/v1/auth/login", credentials("owner@beta.test"))
            .await;
        assert_eq!(status, 200, "{host:?}: {body}");
    }
}

#[tokio::test]
async fn a_custom_domain_serves_that_tenant_alone() {
    let app = TestApp::spawn_with(|s| s.base_domain = Some("crm.test".into())).await;
    let mut op = two_tenants(&app).await;
    let (status, _, body) = op
        .send(
            Method::PATCH,
            "/api/v1/admin/tenants/acme",
            Some(json!({ "custom_domain": "crm.acme.example" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_no_console_or_prefixes(&app, "crm.acme.example").await;
    assert_tenant_site(&app, "crm.acme.example", "owner@acme.test").await;
}

#[tokio::test]
async fn with_appliance_hosts_the_console_answers_only_there() {
    let app = TestApp::spawn_with(|s| {
        s.base_domain = Some("crm.test".into());
        s.appliance_hosts = "console.test, 10.9.8.7".into();
    })
    .await;
    let mut op = Browser::new(&app);
    op.host = Some("console.test".into());
    let setup = json!({
        "token": app.setup_token.clone().unwrap(),
        "operator": credentials("op@example.com"),
    });
    let (status, body) = op.post("/setup", setup).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = op
        .post("/api/v1/admin/auth/login", credentials("op@example.com"))
        .await;
    assert_eq!(status, 200, "{body}");
    let token = invite_owner(&mut op, "acme").await;
    let accept = json!({ "token": token, "password": PASSWORD });
    for host in ["console.test", "10.9.8.7:8080", "[::1]"] {
        let listed = host != "[::1]";
        let mut browser = Browser::new(&app);
        browser.host = Some(host.to_owned());
        let (status, body) = browser
            .post("/api/v1/admin/auth/login", credentials("op@example.com"))
            .await;
        assert_eq!(status == 200, listed, "{host}: {status} {body}");
        let (status, body) = browser
            .post("/t/acme/api/v1/auth/accept-invite", accept.clone())
            .await;
        if listed {
            assert_ne!(code(&body), "not_found", "{host}: {body}");
        } else {
            assert_eq!((status, code(&body)), (404, "not_found"), "{host}");
        }
    }
    // Unlisted: the address the tests reach the server at.
    let mut unlisted = Browser::new(&app);
    let (status, body) = unlisted
        .post("/api/v1/admin/auth/login", credentials("op@example.com"))
        .await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "probes answer anywhere"
    );
}

#[tokio::test]
async fn a_custom_domain_is_a_dns_name_never_an_address_or_localhost() {
    let app = TestApp::spawn_with(|s| {
        s.base_domain = Some("crm.test".into());
        s.appliance_hosts = "127.0.0.1, console.example.com".into();
    })
    .await;
    let mut op = two_tenants(&app).await;
    let mut patch = async |domain: &str| {
        op.send(
            Method::PATCH,
            "/api/v1/admin/tenants/acme",
            Some(json!({ "custom_domain": domain })),
        )
        .await
    };
    for bad in [
        "10.0.0.1",
        "::1",
        "[::1]",
        "[2001:db8::1]",
        "localhost",
        "crm.localhost",
        "acme",
        ".acme.example",
        "acme.example.",
        "acme.example:8443",
        "https://acme.example",
        "1.2.3",
        "x.crm.test",
        "console.example.com",
    ] {
        let (status, _, body) = patch(bad).await;
        assert_eq!(
            (status, code(&body)),
            (422, "invalid_input"),
            "{bad:?}: {body}"
        );
    }
    let (status, _, body) = patch("CRM.Acme.example").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tenant"]["custom_domain"], "crm.acme.example");
}

/// The tenant app on the tenant's own host: `/` leads to its dashboard, its pages ask for a
/// sign-in there, and the form signs in with a cookie for that host.
#[tokio::test]
async fn a_tenant_host_serves_its_app_at_its_root() {
    let app = TestApp::spawn_with(|s| s.base_domain = Some("crm.test".into())).await;
    let _op = two_tenants(&app).await;
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| {
        web.get(app.url(path))
            .header("host", "acme.crm.test")
            .send()
    };
    let root = get("/").await.unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/dashboard");
    let dashboard = get("/dashboard").await.unwrap();
    assert_eq!(dashboard.status(), 303);
    assert_eq!(dashboard.headers()["location"], "/sign-in?next=/dashboard");
    let form = get("/sign-in").await.unwrap().text().await.unwrap();
    assert!(form.contains("Sign in to acme"), "{form}");
    let csrf = form
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let signed_in = web
        .post(app.url("/sign-in"))
        .header("host", "acme.crm.test")
        .form(&[
            ("csrf", csrf),
            ("next", "/dashboard"),
            ("email", "owner@acme.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/dashboard");
    let page = get("/dashboard").await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Open pipeline"));
    // The appliance's own address still shows the welcome page at its root.
    let welcome = web.get(app.url("/")).send().await.unwrap();
    assert_eq!(welcome.status(), 200);
}
