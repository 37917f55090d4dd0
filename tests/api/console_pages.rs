//! The operator console's pages over plain HTTP, as a browser without JavaScript uses them.

use crate::helpers::{TestApp, demo_key, set_up};
use crate::pages::{client, operator_signed_in as signed_in};

#[tokio::test]
async fn an_operator_installs_a_key_and_a_refused_one_says_why_and_changes_nothing() {
    let app = TestApp::spawn().await;
    set_up(&app).await;
    let web = client();
    let away = web.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(away.status(), 303);
    assert_eq!(away.headers()["location"], "/admin/sign-in?next=/admin");
    let csrf = signed_in(&app, &web).await;

    let good = demo_key(|p| p.customer = "Acme Ltd".into());
    let installed = web
        .post(app.url("/admin/license"))
        .form(&[("csrf", csrf.as_str()), ("key", good.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status(), 200);
    assert!(
        installed
            .text()
            .await
            .unwrap()
            .contains("Installed: Acme Ltd")
    );

    let expired = demo_key(|p| {
        p.customer = "Other".into();
        p.expires_at = Some(p.issued_at - 3600);
        p.issued_at -= 90 * 86_400;
    });
    for (key, reason) in [("HF1.mangled", "license_"), (expired.as_str(), "license_")] {
        let refused = web
            .post(app.url("/admin/license"))
            .form(&[("csrf", csrf.as_str()), ("key", key)])
            .send()
            .await
            .unwrap();
        assert!(refused.status().is_client_error(), "{}", refused.status());
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("The key was refused") && html.contains(reason),
            "{html}"
        );
        assert!(
            html.contains("Acme Ltd"),
            "the license in force stays: {html}"
        );
    }
    let overview = web
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(overview.contains("Acme Ltd") && overview.contains("id=\"instance-id\""));
}

#[tokio::test]
async fn an_operator_creates_a_tenant_with_its_owner_and_suspends_it() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    crate::helpers::install_license(&mut op, |p| p.max_tenants = 3).await;
    let web = client();
    let csrf = signed_in(&app, &web).await;

    let refused = web
        .post(app.url("/admin/tenants"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Bad"),
            ("slug", "No Spaces"),
            ("owner_email", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("id=\"slug-error\""));

    let made = web
        .post(app.url("/admin/tenants"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Acme"),
            ("slug", "acme"),
            ("owner_email", "owner@acme.test"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let html = made.text().await.unwrap();
    let link = html
        .split("<code class=\"link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(link.contains("/t/acme/accept-invite#token="), "{link}");

    let token = link.split("#token=").nth(1).unwrap();
    crate::helpers::accept_invite(&app, "acme", token).await;
    let mut owner = crate::helpers::sign_in_as(&app, "acme", "owner@acme.test").await;

    let suspended = web
        .post(app.url("/admin/tenants/acme/suspend"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(suspended.status(), 303);
    let (status, body) = owner.get("/t/acme/api/v1/auth/me").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "tenant_suspended");
    let list = web
        .get(app.url("/admin/tenants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("suspended") && list.contains(">Resume<"),
        "{list}"
    );

    web.post(app.url("/admin/tenants/acme/resume"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let (status, _) = owner.get("/t/acme/api/v1/auth/me").await;
    assert_eq!(status, 200);
}

/// A key file uploaded instead of pasted: installed the same way, and a file that is no key
/// is refused with its reason while the license in force stays.
#[tokio::test]
async fn a_license_key_file_is_uploaded_and_a_bad_one_changes_nothing() {
    use reqwest::multipart::{Form, Part};
    let app = TestApp::spawn().await;
    set_up(&app).await;
    let web = client();
    let csrf = signed_in(&app, &web).await;
    let file = |csrf: &str, text: String| {
        Form::new().text("csrf", csrf.to_owned()).part(
            "key_file",
            Part::bytes(text.into_bytes()).file_name("acme.key"),
        )
    };
    let key = demo_key(|p| p.customer = "Uploaded Ltd".into());
    let installed = web
        .post(app.url("/admin/license/file"))
        .multipart(file(&csrf, format!("{key}\n")))
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status(), 200);
    assert!(
        installed
            .text()
            .await
            .unwrap()
            .contains("Installed: Uploaded Ltd")
    );

    let refused = web
        .post(app.url("/admin/license/file"))
        .multipart(file(&csrf, "x".repeat(10_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("license_invalid") && html.contains("Uploaded Ltd"),
        "{html}"
    );
}
