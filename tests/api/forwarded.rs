//! Forwarded headers (`X-Forwarded-Host`, `Forwarded: host=`) say which host the client asked
//! for only when a trusted proxy sends them; from anyone else they choose nothing.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, accept_invite, invite_owner, set_up};

/// Ways a request can claim to be for `acme.crm.test` while addressing the appliance itself.
const FORWARDED_TO_ACME: &[(&str, &str)] = &[
    ("x-forwarded-host", "acme.crm.test"),
    ("forwarded", "host=acme.crm.test"),
    (
        "forwarded",
        "for=192.0.2.1;host=\"acme.crm.test:443\";proto=https",
    ),
];

/// An appliance at `crm.test` with tenant acme and its owner, trusting `trusted_proxies`.
async fn appliance(trusted_proxies: &str) -> TestApp {
    let app = TestApp::spawn_with(|s| {
        s.base_domain = Some("crm.test".into());
        s.trusted_proxies = trusted_proxies.into();
    })
    .await;
    let mut op = set_up(&app).await;
    let token = invite_owner(&mut op, "acme").await;
    accept_invite(&app, "acme", &token).await;
    app
}

/// POSTs `path` to the appliance's own address (127.0.0.1) with `header` added.
async fn post(app: &TestApp, path: &str, header: (&str, &str), body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(path))
        .header(header.0, header.1)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn acme_owner() -> Value {
    json!({ "email": "owner@acme.test", "password": PASSWORD })
}

#[tokio::test]
async fn forwarded_hosts_from_an_untrusted_peer_choose_no_tenant() {
    let app = appliance("").await;
    for &header in FORWARDED_TO_ACME {
        let (status, body) = post(&app, "/api/v1/auth/login", header, acme_owner()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("tenant_not_found")),
            "{header:?}: {body}"
        );
    }
    // The tenant is there, by its real host name.
    let (status, body) = post(
        &app,
        "/api/v1/auth/login",
        ("host", "acme.crm.test"),
        acme_owner(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_host_the_client_asked_for() {
    let app = appliance("127.0.0.1").await;
    for &header in FORWARDED_TO_ACME {
        let (status, body) = post(&app, "/api/v1/auth/login", header, acme_owner()).await;
        assert_eq!(status, 200, "{header:?}: {body}");
        assert_eq!(body["tenant"]["slug"], "acme", "{header:?}");
        // A forwarded tenant's host is a tenant's host: no console there.
        let (status, body) = post(
            &app,
            "/api/v1/admin/auth/login",
            header,
            json!({ "email": "op@example.com", "password": PASSWORD }),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{header:?}: {body}"
        );
    }
}
