//! The tenant app in a real browser: sign in, the dashboard, the contacts table, sign out —
//! each page free of console errors and of serious accessibility violations.

use fantoccini::Locator;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, licensed_tenants};

#[tokio::test]
async fn a_user_signs_in_sees_the_dashboard_and_contacts_and_signs_out() {
    let Some(browser) = Browser::start("tenant_app").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let (status, body) = owner
        .post(
            "/t/acme/api/v1/contacts",
            serde_json::json!({"first_name": "Grace", "last_name": "Hopper", "emails": ["grace@example.com"], "lifecycle_stage": "customer"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    browser.goto(&app.url("/t/acme/contacts")).await;
    assert_eq!(browser.path().await, "/t/acme/sign-in");
    browser.check_page("sign-in").await;

    browser.fill("#email", "member@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("table"))
        .await
        .unwrap();
    assert_eq!(browser.path().await, "/t/acme/contacts");
    let table = browser.text("table").await;
    assert!(
        table.contains("Grace Hopper") && table.contains("customer"),
        "{table}"
    );
    browser.check_page("contacts").await;

    // Filtering by stage is a plain GET form.
    browser
        .client
        .find(Locator::Css("#stage option[value=lead]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.click(".toolbar button").await;
    browser
        .client
        .wait()
        .for_element(Locator::XPath("//p[contains(., 'No contacts match')]"))
        .await
        .unwrap();

    // A new contact through its form, then its page.
    browser.click("a[href='/t/acme/contacts/new']").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#first_name"))
        .await
        .unwrap();
    browser.check_page("contact-new").await;
    browser.fill("#first_name", "Alan").await;
    browser.fill("#last_name", "Turing").await;
    browser.fill("#emails", "alan@example.com").await;
    browser.click("form.record-form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::XPath("//h1[. = 'Alan Turing']"))
        .await
        .unwrap();
    assert!(browser.path().await.starts_with("/t/acme/contacts/"));
    assert!(browser.text(".timeline").await.contains("created"));
    browser.check_page("contact").await;

    browser.click("nav a[href='/t/acme/']").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#pipeline-title"))
        .await
        .unwrap();
    assert!(
        browser.text("main").await.contains("Grace Hopper"),
        "recent changes"
    );
    browser.check_page("dashboard").await;

    browser.click(".who button").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#email"))
        .await
        .unwrap();
    assert_eq!(browser.path().await, "/t/acme/sign-in");
    browser.goto(&app.url("/t/acme/contacts")).await;
    assert_eq!(browser.path().await, "/t/acme/sign-in", "signed out");
}

/// The page checks can fail: a field without a label and a script error are caught.
#[tokio::test]
async fn the_page_checks_catch_a_missing_label_and_a_script_error() {
    let Some(browser) = Browser::start("page_checks").await else {
        return;
    };
    browser
        .goto("data:text/html,<!doctype html><html lang=en><title>t</title><main><input type=text></main><script>throw new Error('boom')</script>")
        .await;
    let console = browser.console().await;
    assert!(
        console
            .iter()
            .any(|e| e["level"] == "SEVERE"
                && e["message"].as_str().is_some_and(|m| m.contains("boom"))),
        "{console:?}"
    );
    let violations = browser.accessibility_violations().await;
    assert!(
        violations.iter().any(|v| v.contains("label")),
        "{violations:?}"
    );
}
