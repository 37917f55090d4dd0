//! Refusals of the route gate (no session, no CSRF token, another tenant's session, no such
//! tenant) leave like any other answer: with the JSON error, the request id and the security
//! headers, and as a line of the request log that names their code, so that guessed tokens
//! and cross-tenant attempts are on the record and can be counted.

use nix::sys::signal::Signal;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, Holdfast, PASSWORD, demo_key};
use crate::shutdown::serve;

/// A signed-in browser of `owner@<slug>.test`.
async fn owner_of(client: &reqwest::Client, base: &str, slug: &str) -> Browser<'static> {
    let mut browser = Browser::at(client.clone(), base);
    let (status, body) = browser
        .post(
            &format!("/t/{slug}/api/v1/auth/login"),
            json!({ "email": format!("owner@{slug}.test"), "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser
}

/// Sets up an appliance at `base` with tenants acme (from setup) and beta; returns their
/// owners' signed-in browsers.
async fn two_tenants(
    client: &reqwest::Client,
    base: &str,
    setup_token: &str,
) -> (Browser<'static>, Browser<'static>) {
    let mut op = Browser::at(client.clone(), base);
    let (status, body) = op
        .post(
            "/setup",
            json!({
                "token": setup_token,
                "operator": { "email": "op@example.com", "password": PASSWORD },
                "license": demo_key(|p| p.max_tenants = 5),
                "tenant": { "slug": "acme", "name": "Acme", "owner_email": "owner@acme.test",
                            "owner_password": PASSWORD },
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = op
        .post(
            "/api/v1/admin/auth/login",
            json!({ "email": "op@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = op
        .post(
            "/api/v1/admin/tenants",
            json!({ "slug": "beta", "name": "Beta", "owner_email": "owner@beta.test" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let invite = body["owner_invite_link"].as_str().unwrap();
    let (status, body) = Browser::at(client.clone(), base)
        .post(
            "/t/beta/api/v1/auth/accept-invite",
            json!({ "token": invite.split("#token=").nth(1).unwrap(), "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (
        owner_of(client, base, "acme").await,
        owner_of(client, base, "beta").await,
    )
}

/// The JSON lines of the served binary's log file.
fn log_lines(holdfast: &Holdfast) -> Vec<Value> {
    let log_dir = holdfast.data_dir().join("logs");
    let files = holdfast::telemetry::log_files(&log_dir).unwrap();
    let text = std::fs::read_to_string(log_dir.join(&files[0])).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

#[tokio::test]
async fn refusals_of_the_route_gate_carry_the_headers_and_are_logged_with_their_code() {
    let holdfast = Holdfast::new();
    let served = serve(&holdfast, &["--log-format", "json"]);
    let base = format!("http://{}", served.addr);
    let client = reqwest::Client::new();
    let setup_token = served
        .startup
        .iter()
        .find_map(|line| line.split("#token=").nth(1))
        .expect("a fresh appliance prints its setup address")
        .trim()
        .to_owned();
    let (mut acme, mut beta) = two_tenants(&client, &base, &setup_token).await;
    acme.csrf = None;

    let mut stranger = Browser::at(client.clone(), &base);
    let new_user = json!({ "email": "x@acme.test", "role": "member" });
    let attempts = [
        (
            stranger
                .send(Method::GET, "/t/acme/api/v1/auth/me", None)
                .await,
            (401, "unauthenticated"),
        ),
        (
            stranger
                .send(Method::GET, "/api/v1/admin/tenants", None)
                .await,
            (401, "unauthenticated"),
        ),
        (
            acme.send(Method::POST, "/t/acme/api/v1/users", Some(new_user))
                .await,
            (403, "csrf_failed"),
        ),
        (
            beta.send(Method::GET, "/t/acme/api/v1/users", None).await,
            (404, "not_found"),
        ),
        (
            stranger
                .send(Method::GET, "/t/nobody/api/v1/auth/me", None)
                .await,
            (404, "tenant_not_found"),
        ),
    ];
    let mut logged = Vec::new();
    for ((status, headers, body), (expected_status, code)) in attempts {
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (expected_status, Some(code))
        );
        assert!(body["error"]["message"].is_string(), "{body}");
        let header = |name: &str| {
            headers.get(name).map_or_else(
                || panic!("{code}: no {name}"),
                |v| v.to_str().unwrap().to_owned(),
            )
        };
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(header("x-content-type-options"), "nosniff", "{code}");
        assert_eq!(header("cache-control"), "no-store", "{code}");
        logged.push((header("x-request-id"), expected_status, code));
    }
    // Guessed API tokens, again and again: each is a line with its code.
    for guess in ["hft_guess1", "hft_guess2", "hft_guess3"] {
        let response = client
            .get(format!("{base}/t/acme/api/v1/users"))
            .bearer_auth(guess)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        logged.push((id, 401, "unauthenticated"));
    }

    assert_eq!(served.stop(Signal::SIGTERM).await, 0);
    let lines = log_lines(&holdfast);
    for (id, status, code) in &logged {
        let line = lines
            .iter()
            .find(|l| l["span"]["request_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{code} ({id}) is in the log"));
        assert_eq!(line["message"], "request refused", "{line}");
        assert_eq!(line["span"]["code"], *code, "{line}");
        assert_eq!(line["span"]["status"], *status, "{line}");
    }
    let unauthenticated = lines
        .iter()
        .filter(|l| l["span"]["code"] == "unauthenticated")
        .count();
    assert_eq!(unauthenticated, 5, "repeated refusals can be counted");
}
