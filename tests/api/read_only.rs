//! After a license's grace the appliance is read-only: data is frozen (`read_only`) and
//! nothing takes a new seat or tenant (`license_expired`), but its customer can still get in,
//! take access away and renew. The route table holds every write route to one of the three.

use serde_json::{Value, json};

use crate::helpers::{
    Browser, Holdfast, PASSWORD, TestApp, accept_invite, install_license, invite_owner, past_grace,
    set_up,
};

const BASE: &str = "/t/acme/api/v1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn send(browser: &mut Browser<'_>, method: &str, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = browser
        .send(method.parse().unwrap(), path, Some(body))
        .await;
    (status, body)
}

async fn rename_from_the_command_line(app: &TestApp) -> crate::helpers::Run {
    let dir = app.data_dir().to_str().unwrap().to_owned();
    tokio::task::spawn_blocking(move || {
        Holdfast::new().run(&[
            "tenant",
            "update",
            "acme",
            "--name",
            "New name",
            "--data-dir",
            &dir,
        ])
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn an_expired_appliance_freezes_data_but_lets_its_customer_get_in_and_renew() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    install_license(&mut op, |p| {
        p.max_tenants = 3;
        p.expires_at = Some(p.issued_at + 10 * 86_400);
        p.grace_days = 5;
    })
    .await;
    let invitation = invite_owner(&mut op, "acme").await;
    accept_invite(&app, "acme", &invitation).await;
    let mut owner = Browser::new(&app);
    let (status, me) = owner
        .post(
            &format!("{BASE}/auth/login"),
            json!({ "email": "owner@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200);
    let owner_id = me["user"]["id"].as_str().unwrap().to_owned();
    past_grace(&app).await;

    // Data is frozen, over HTTP and from the command line alike.
    let (status, body) = send(
        &mut op,
        "PATCH",
        "/api/v1/admin/tenants/acme",
        json!({ "name": "New name" }),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "read_only"), "{body}");
    let cli = rename_from_the_command_line(&app).await;
    assert!(
        cli.assert_refused().contains("read_only:"),
        "{}",
        cli.stderr
    );

    // Getting in, taking access away and renewing keep working.
    let (status, body) = owner
        .post(
            &format!("{BASE}/users/{owner_id}/reset-password"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["link"]
        .as_str()
        .unwrap()
        .split("#token=")
        .nth(1)
        .unwrap()
        .to_owned();
    let (status, body) = Browser::new(&app)
        .post(
            &format!("{BASE}/auth/reset-password"),
            json!({ "token": token, "password": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for (method, path, body, expected) in [
        ("POST", "/api/v1/admin/tenants/acme/suspend", json!({}), 200),
        ("POST", "/api/v1/admin/tenants/acme/resume", json!({}), 200),
        (
            "POST",
            "/api/v1/admin/operators",
            json!({ "email": "renewer@example.com", "password": "renewal passphrase" }),
            201,
        ),
        (
            "POST",
            "/api/v1/admin/auth/password",
            json!({ "current_password": PASSWORD, "new_password": "another operator passphrase" }),
            200,
        ),
    ] {
        let (status, body) = send(&mut op, method, path, body).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
    }
    // The renewal: a later issue of the same license.
    let key = crate::helpers::demo_key(|p| {
        p.issued_at += 30;
        p.max_tenants = 3;
    });
    let (status, body) = send(
        &mut op,
        "PUT",
        "/api/v1/admin/license",
        json!({ "key": key }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &mut op,
        "PATCH",
        "/api/v1/admin/tenants/acme",
        json!({ "name": "New name" }),
    )
    .await;
    assert_eq!(status, 200, "renewed: {body}");
}
