//! The one-time setup of a fresh appliance, and the headless alternative.

use serde_json::json;

use crate::helpers::{Browser, Holdfast, PASSWORD, TestApp, demo_key};

#[tokio::test]
async fn setup_creates_the_first_operator_license_and_tenant_then_closes_for_good() {
    let app = TestApp::spawn().await;
    let token = app
        .setup_token
        .clone()
        .expect("a fresh appliance offers setup");
    let mut browser = Browser::new(&app);

    let (status, body) = browser
        .post("/setup", json!({ "token": "x".repeat(43), "operator": { "email": "op@example.com", "password": PASSWORD } }))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found")),
        "a wrong token finds nothing"
    );

    // Bad input anywhere is refused before anything changes.
    let bad_inputs = [
        (
            json!({ "email": "nope", "password": PASSWORD }),
            None,
            "invalid_input",
        ),
        (
            json!({ "email": "op@example.com", "password": "short" }),
            None,
            "invalid_password",
        ),
        (
            json!({ "email": "op@example.com", "password": "aaaaaaaaaa" }),
            None,
            "invalid_password",
        ),
        (
            json!({ "email": "op@example.com", "password": "Op@Example.com2025" }),
            None,
            "invalid_password",
        ),
        (
            json!({ "email": "op@example.com", "password": PASSWORD }),
            Some("HF1.garbage"),
            "license_invalid",
        ),
    ];
    for (operator, license, code) in bad_inputs {
        let (status, body) = browser
            .post(
                "/setup",
                json!({ "token": token, "operator": operator, "license": license }),
            )
            .await;
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!((400..500).contains(&status));
    }
    let (status, _) = browser
        .post(
            "/api/v1/admin/auth/login",
            json!({ "email": "op@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(
        status, 401,
        "no operator was created by the refused attempts"
    );

    let key = demo_key(|p| {
        p.max_tenants = 3;
        p.max_seats = 10;
    });
    let (status, body) = browser
        .post(
            "/setup",
            json!({
                "token": token,
                "operator": { "email": "Op@Example.com", "password": PASSWORD },
                "license": key,
                "tenant": { "slug": "acme", "name": "Acme Ltd", "owner_email": "owner@acme.test" },
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["operator"]["email"], "op@example.com");
    assert_eq!(body["tenant"]["slug"], "acme");
    assert_eq!(body["license"], "valid");
    let link = body["owner_invite_link"].as_str().unwrap();
    assert!(link.contains("/t/acme/accept-invite#token="), "{link}");

    let (status, _) = browser
        .post("/setup", json!({ "token": token, "operator": { "email": "second@example.com", "password": PASSWORD } }))
        .await;
    assert_eq!(status, 404, "setup is closed once an operator exists");
    assert_eq!(app.get("/setup").await.status(), 404, "and so is its page");
    let (status, body) = browser
        .post(
            "/api/v1/admin/auth/login",
            json!({ "email": "op@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// What `serve` printed until it was listening.
async fn served_startup(holdfast: &Holdfast) -> String {
    let served = crate::shutdown::serve(holdfast, &[]);
    let startup = served.startup.join("\n");
    assert_eq!(served.stop(nix::sys::signal::Signal::SIGTERM).await, 0);
    startup
}

#[tokio::test]
async fn serve_prints_a_setup_address_until_an_operator_exists() {
    let holdfast = Holdfast::new();
    let dir = holdfast.data_dir().to_str().unwrap().to_owned();
    let first = served_startup(&holdfast).await;
    assert!(first.contains("/setup#token="), "{first}");

    let admin_create = |password: &str| {
        holdfast.run_with_stdin(
            &[
                "admin",
                "create",
                "--email",
                "op@example.com",
                "--password-stdin",
                "--data-dir",
                &dir,
            ],
            &format!("{password}\n"),
        )
    };
    let weak = admin_create("example-op-2025");
    let line = weak.assert_refused();
    assert!(
        line.contains("invalid_password: the password is made of your e-mail address"),
        "{line}"
    );

    let created = admin_create(PASSWORD);
    created.assert_ok();
    let again = admin_create(PASSWORD);
    assert!(again.assert_refused().contains("operator_exists"));
    let listed = holdfast
        .run(&["admin", "list", "--json", "--data-dir", &dir])
        .assert_ok()
        .json();
    assert_eq!(listed[0]["email"], "op@example.com");

    let second = served_startup(&holdfast).await;
    assert!(!second.contains("/setup"), "{second}");
}

#[tokio::test]
async fn invitation_and_reset_links_open_a_page_of_their_tenant() {
    let app = TestApp::spawn().await;
    let mut op = crate::helpers::set_up(&app).await;
    let (status, _) = op
        .post(
            "/api/v1/admin/tenants",
            json!({ "slug": "acme", "name": "Acme <Ltd>" }),
        )
        .await;
    assert_eq!(status, 201);
    for page in ["accept-invite", "reset-password"] {
        let response = app.get(&format!("/t/acme/{page}")).await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Acme &lt;Ltd&gt;") || html.contains("Acme &#60;Ltd&#62;"),
            "the tenant's name, escaped: {html}"
        );
        assert!(html.contains("/assets/js/app.js"));
        let unknown = app.get(&format!("/t/nobody/{page}")).await;
        assert_eq!(unknown.status(), 404);
        assert!(unknown.text().await.unwrap().contains("tenant_not_found"));
    }
    op.post("/api/v1/admin/tenants/acme/suspend", json!({}))
        .await;
    let suspended = app.get("/t/acme/accept-invite").await;
    assert_eq!(suspended.status(), 403);
    assert!(suspended.text().await.unwrap().contains("tenant_suspended"));
}
