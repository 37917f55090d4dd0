//! Guessing is bounded whatever the concurrency: sign-in attempts are reserved before the
//! password is checked, so a burst sent at once gets no more guesses than one sent in turn.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, accept_invite, install_license, invite_owner, set_up};

/// Sends `count` sign-ins with a wrong password all at once; returns the error codes.
async fn burst(app: &TestApp, path: &str, email: &str, count: usize) -> Vec<String> {
    let mut tasks = Vec::new();
    for i in 0..count {
        let (client, url) = (app.client.clone(), app.url(path));
        let body = json!({ "email": email, "password": format!("wrong password {i}") });
        tasks.push(tokio::spawn(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let body: Value = response.json().await.unwrap();
            body["error"]["code"].as_str().unwrap_or("none").to_owned()
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(task.await.unwrap());
    }
    codes
}

async fn sign_in_status(app: &TestApp, path: &str, email: &str) -> u16 {
    app.client
        .post(app.url(path))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn assert_bounded(codes: &[String], budget: usize) {
    let guesses = codes.iter().filter(|c| *c == "invalid_credentials").count();
    let limited = codes.iter().filter(|c| *c == "rate_limited").count();
    assert!(guesses <= budget, "{guesses} guesses checked: {codes:?}");
    assert_eq!(guesses + limited, codes.len(), "{codes:?}");
}

#[tokio::test]
async fn a_concurrent_burst_of_operator_guesses_gets_no_more_than_five() {
    let app = TestApp::spawn().await;
    set_up(&app).await;
    let login = "/api/v1/admin/auth/login";
    let codes = burst(&app, login, "op@example.com", 40).await;
    assert_bounded(&codes, 5);
    assert_eq!(
        sign_in_status(&app, login, "op@example.com").await,
        429,
        "after the burst even the right password waits"
    );
}

#[tokio::test]
async fn a_concurrent_burst_of_user_guesses_gets_no_more_than_five() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    install_license(&mut op, |p| p.max_tenants = 2).await;
    let token = invite_owner(&mut op, "acme").await;
    accept_invite(&app, "acme", &token).await;
    let login = "/t/acme/api/v1/auth/login";
    let codes = burst(&app, login, "owner@acme.test", 40).await;
    assert_bounded(&codes, 5);
    assert_eq!(sign_in_status(&app, login, "owner@acme.test").await, 429);
    // The address's budget (twenty) holds across accounts, bursts included.
    let mut guesses = 5;
    for victim in ["a", "b", "c", "d", "e"] {
        let codes = burst(&app, login, &format!("{victim}@acme.test"), 10).await;
        guesses += codes.iter().filter(|c| *c == "invalid_credentials").count();
    }
    assert!(guesses <= 20, "{guesses} guesses from one address");
}
