//! The setup page without JavaScript: the form posts (its token pasted into a field) and
//! answers a page — the form again with the refusal next to its field, or what was set up
//! with the owner's invitation link.

use crate::helpers::{Browser, PASSWORD, TestApp};
use crate::pages::client;

async fn posted(app: &TestApp, form: &[(&str, &str)]) -> (u16, String) {
    let answer = client()
        .post(app.url("/setup"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

#[tokio::test]
async fn setup_by_form_refuses_next_to_the_field_then_answers_what_it_set_up() {
    let app = TestApp::spawn().await;
    let token = app.setup_token.clone().unwrap();
    let page = app.get("/setup").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<form id=\"setup\" class=\"form\" method=\"post\" action=\"/setup\">")
            && html.contains("id=\"token\" name=\"token\""),
        "a plain form with a field for the token: {html}"
    );

    let wrong = "x".repeat(43);
    let (status, html) = posted(
        &app,
        &[
            ("token", &wrong),
            ("email", "op@example.com"),
            ("password", PASSWORD),
            ("slug", "acme"),
        ],
    )
    .await;
    assert_eq!(status, 404);
    assert!(html.contains("id=\"token-error\""), "{html}");
    assert!(
        html.contains("value=\"op@example.com\"") && html.contains("value=\"acme\""),
        "what was typed is kept: {html}"
    );
    assert!(!html.contains(PASSWORD), "never the password");
    assert_eq!(app.get("/setup").await.status(), 200, "nothing set up");

    let (status, html) = posted(
        &app,
        &[
            ("token", &token),
            ("email", "op@example.com"),
            ("password", "aaaaaaaaaa"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"password-error\"") && html.contains("aria-invalid=\"true\""),
        "{html}"
    );
    assert!(!html.contains("aaaaaaaaaa"), "never the password");
    assert_eq!(app.get("/setup").await.status(), 200, "nothing set up");

    let (status, html) = posted(
        &app,
        &[
            ("token", &token),
            ("email", "Op@Example.com"),
            ("password", PASSWORD),
            ("license", ""),
            ("slug", "acme"),
            ("name", "Acme Ltd"),
            ("owner", "owner@acme.test"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{html}");
    assert!(
        html.contains("op@example.com is the first operator"),
        "{html}"
    );
    assert!(html.contains("Acme Ltd (acme)"), "{html}");
    assert!(html.contains("/t/acme/accept-invite#token="), "{html}");
    assert!(html.contains("href=\"/admin/sign-in\">Sign in to the console</a>"));
    assert_eq!(app.get("/setup").await.status(), 404, "setup is closed");
    let (status, body) = Browser::new(&app)
        .post(
            "/api/v1/admin/auth/login",
            serde_json::json!({ "email": "op@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
