//! The console's pages for running the appliance, without JavaScript: one tenant's page
//! (settings, archive, a delete that asks for the slug), operators, the audit log and the
//! system page — and every console page answering only operators.

use crate::helpers::{TestApp, install_license, invite_owner, set_up};
use crate::pages::{client, operator_signed_in};

async fn page(app: &TestApp, web: &reqwest::Client, path: &str) -> (u16, String) {
    let answer = web.get(app.url(path)).send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

/// Every console page: 200 for an operator, the sign-in page for anyone else.
#[tokio::test]
async fn every_console_page_answers_operators_only() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    install_license(&mut op, |p| p.max_tenants = 3).await;
    invite_owner(&mut op, "acme").await;
    let web = client();
    operator_signed_in(&app, &web).await;
    let anonymous = client();
    let pages: Vec<_> = holdfast::web::console_endpoints()
        .into_iter()
        .filter(|e| e.method == "GET" && !e.path.ends_with("/sign-in"))
        .collect();
    assert!(pages.len() >= 7, "{pages:?}");
    for endpoint in pages {
        let path = endpoint.path.replace("{slug}", "acme");
        assert_eq!(page(&app, &web, &path).await.0, 200, "{path}");
        let refused = anonymous.get(app.url(&path)).send().await.unwrap();
        assert_eq!(refused.status(), 303, "{path}");
        assert!(
            refused.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/admin/sign-in")
        );
    }
}

#[tokio::test]
async fn a_tenant_is_renamed_limited_exported_and_deleted_only_once_its_slug_is_typed() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    install_license(&mut op, |p| p.max_tenants = 3).await;
    invite_owner(&mut op, "acme").await;
    let web = client();
    let csrf = operator_signed_in(&app, &web).await;
    let post = |path: &str, form: Vec<(&str, &str)>| {
        let mut form = form;
        form.push(("csrf", csrf.as_str()));
        web.post(app.url(path)).form(&form).send()
    };

    let (_, html) = page(&app, &web, "/admin/tenants/acme").await;
    assert!(
        html.contains("owner@acme.test") && html.contains("/archive"),
        "{html}"
    );
    let refused = post(
        "/admin/tenants/acme",
        vec![
            ("name", "Acme Two"),
            ("seat_limit", "many"),
            ("custom_domain", ""),
        ],
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("whole number") && html.contains("value=\"many\""),
        "{html}"
    );
    let (_, tenant) = op.get("/api/v1/admin/tenants/acme").await;
    assert_eq!(tenant["tenant"]["name"], "acme", "nothing changed");

    let refused = post(
        "/admin/tenants/acme",
        vec![("name", "Acme Two"), ("timezone", "Europe/Atlantis")],
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("not a time zone") && html.contains("value=\"Europe/Atlantis\""),
        "{html}"
    );
    let (_, tenant) = op.get("/api/v1/admin/tenants/acme").await;
    assert_eq!(tenant["tenant"]["name"], "acme", "nothing changed");

    let saved = post(
        "/admin/tenants/acme",
        vec![
            ("name", "Acme Two"),
            ("seat_limit", "4"),
            ("custom_domain", "crm.acme.example"),
            ("timezone", "Europe/Berlin"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(saved.status(), 303);
    let (_, tenant) = op.get("/api/v1/admin/tenants/acme").await;
    assert_eq!(tenant["tenant"]["name"], "Acme Two");
    assert_eq!(tenant["tenant"]["seat_limit"], 4);
    assert_eq!(tenant["tenant"]["custom_domain"], "crm.acme.example");
    assert_eq!(tenant["tenant"]["timezone"], "Europe/Berlin");

    // The archive link downloads with the operator's session.
    let archive = web
        .get(app.url("/api/v1/admin/tenants/acme/archive"))
        .send()
        .await
        .unwrap();
    assert_eq!(archive.status(), 200);
    assert!(!archive.bytes().await.unwrap().is_empty());

    let refused = post("/admin/tenants/acme/delete", vec![("confirm", "acm")])
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("id=\"delete-error\"")
    );
    assert_eq!(
        op.get("/api/v1/admin/tenants/acme").await.0,
        200,
        "still there"
    );
    let deleted = post("/admin/tenants/acme/delete", vec![("confirm", "acme")])
        .await
        .unwrap();
    assert_eq!(deleted.status(), 303);
    assert_eq!(op.get("/api/v1/admin/tenants/acme").await.0, 404);
}

#[tokio::test]
async fn operators_are_added_and_deactivated_but_never_the_last() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    let web = client();
    let csrf = operator_signed_in(&app, &web).await;
    let weak = web
        .post(app.url("/admin/operators"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "two@example.com"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 422);
    assert!(
        weak.text()
            .await
            .unwrap()
            .contains("value=\"two@example.com\"")
    );
    let added = web
        .post(app.url("/admin/operators"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "two@example.com"),
            ("password", crate::helpers::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let (_, all) = op.get("/api/v1/admin/operators").await;
    let ids: Vec<(String, String)> = all["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["email"].as_str().unwrap().to_owned(),
                o["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(ids.len(), 2);
    let (_, html) = page(&app, &web, "/admin/operators").await;
    let two = &ids.iter().find(|(e, _)| e == "two@example.com").unwrap().1;
    let me = &ids.iter().find(|(e, _)| e == "op@example.com").unwrap().1;
    assert!(html.contains(&format!("/admin/operators/{two}/deactivate")));
    assert!(
        !html.contains(&format!("/admin/operators/{me}/deactivate")),
        "not oneself"
    );

    let gone = web
        .post(app.url(&format!("/admin/operators/{two}/deactivate")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 303);
    // Oneself, the last active operator: refused on the page, nothing changed.
    let last = web
        .post(app.url(&format!("/admin/operators/{me}/deactivate")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 409);
    assert_eq!(
        op.get("/api/v1/admin/operators").await.0,
        200,
        "still signed in"
    );

    let (_, audit) = page(&app, &web, "/admin/audit").await;
    assert!(audit.contains("two@example.com"), "{audit}");
    let (_, system) = page(&app, &web, "/admin/system").await;
    assert!(system.contains(env!("CARGO_PKG_VERSION")) && system.contains("holdfast.db"));
    assert!(
        system.contains(&app.data_dir().display().to_string()),
        "{system}"
    );
}

/// A smaller license leaves usage over its caps: nothing is removed, and those who can act
/// on it (operators, the tenant's admins) see a banner saying so; members do not.
#[tokio::test]
async fn usage_over_a_smaller_license_is_shown_to_operators_and_admins() {
    let app = TestApp::spawn().await;
    crate::helpers::licensed_tenants(&app, &["acme"]).await;
    let web = client();
    operator_signed_in(&app, &web).await;
    let (_, html) = page(&app, &web, "/admin").await;
    assert!(!html.contains("the license allows"), "{html}");

    let mut op = crate::helpers::Browser::new(&app);
    let (status, _) = op
        .post(
            "/api/v1/admin/auth/login",
            serde_json::json!({ "email": "op@example.com", "password": crate::helpers::PASSWORD }),
        )
        .await;
    assert_eq!(status, 200);
    install_license(&mut op, |p| {
        p.license_id = "smaller-license".to_owned();
        p.max_seats = 2;
    })
    .await;
    app.license().refresh(false).unwrap();

    let (_, html) = page(&app, &web, "/admin").await;
    assert!(
        html.contains("uses 4 seat(s) and 1 tenant(s); the license allows 2 and 5"),
        "{html}"
    );
    let admin = client();
    crate::pages::sign_in_at(&app, &admin, "acme", "admin@acme.test").await;
    let (_, html) = page(&app, &admin, "/t/acme/contacts").await;
    assert!(html.contains("the license allows 2"), "{html}");
    let member = client();
    crate::pages::sign_in_at(&app, &member, "acme", "member@acme.test").await;
    let (_, html) = page(&app, &member, "/t/acme/contacts").await;
    assert!(!html.contains("the license allows"), "{html}");
}
