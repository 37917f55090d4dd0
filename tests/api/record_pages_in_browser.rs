//! Record pages and setup in a real browser: a field edited in place (saved through the API,
//! and refused without overwriting when someone changed the record meanwhile), the company
//! field's type-ahead, and the setup page with its token taken from the address. Each page
//! free of console errors and of serious accessibility violations.

use fantoccini::Locator;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, licensed_tenants};

const API: &str = "/t/acme/api/v1";
const ENTER: &str = "\u{e007}";

/// What a form's control holds now (its property, not the attribute it was made with).
async fn value_of(browser: &Browser, css: &str) -> String {
    let control = browser.client.find(Locator::Css(css)).await.unwrap();
    control.prop("value").await.unwrap().unwrap_or_default()
}

#[tokio::test]
async fn a_field_is_edited_in_place_and_a_company_is_chosen_from_suggestions() {
    let Some(browser) = Browser::start("record-pages").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let admin = &mut tenants[0][1].1;
    let (_, made) = admin
        .post(&format!("{API}/companies"), json!({ "name": "Globex" }))
        .await;
    let globex = made["company"]["id"].as_str().unwrap().to_owned();
    let (_, made) = admin
        .post(
            &format!("{API}/contacts"),
            json!({ "first_name": "Ada", "title": "Engineer" }),
        )
        .await;
    let ada = made["contact"]["id"].as_str().unwrap().to_owned();

    browser.goto(&app.url("/t/acme/sign-in")).await;
    browser.fill("#email", "admin@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("table").await;

    browser
        .goto(&app.url(&format!("/t/acme/contacts/{ada}")))
        .await;
    browser.wait_for("[data-field=title] .edit-field").await;
    browser.click("[data-field=title] .edit-field").await;
    browser.fill("#inline-title", "CTO").await;
    let field = browser
        .client
        .find(Locator::Css("#inline-title"))
        .await
        .unwrap();
    field.send_keys(ENTER).await.unwrap();
    browser.wait_for(".inline-status.ok").await;
    assert_eq!(browser.text("[data-field=title] .value").await, "CTO");
    let (_, body) = admin.get(&format!("{API}/contacts/{ada}")).await;
    assert_eq!(body["contact"]["title"], "CTO", "{body}");
    browser.check_page("record-inline-edit").await;

    // Someone changes the contact meanwhile: the page's next edit is refused, not saved.
    let version = body["contact"]["version"].to_string();
    let (status, _, _) = admin
        .send_with(
            reqwest::Method::PATCH,
            &format!("{API}/contacts/{ada}"),
            Some(json!({ "title": "CEO" })),
            &[("if-match", &format!("\"{version}\""))],
        )
        .await;
    assert_eq!(status, 200);
    browser.click("[data-field=title] .edit-field").await;
    browser.fill("#inline-title", "COO").await;
    browser
        .click("[data-field=title] .inline-editor button")
        .await;
    browser.wait_for(".inline-status.error button").await;
    let said = browser.text(".inline-status").await;
    assert!(said.contains("Someone else changed this contact"), "{said}");
    let (_, body) = admin.get(&format!("{API}/contacts/{ada}")).await;
    assert_eq!(body["contact"]["title"], "CEO", "never overwritten");
    let logged = browser.console().await;
    assert!(
        logged
            .iter()
            .all(|e| e["message"].as_str().unwrap_or_default().contains("412")),
        "only the refusal: {logged:#?}"
    );

    browser.goto(&app.url("/t/acme/contacts/new")).await;
    browser.wait_for("#company").await;
    browser.fill("#first_name", "Zed").await;
    browser.fill("#company", "Glob").await;
    browser.wait_for("#company-options [role=option]").await;
    browser.check_page("contact-new-company-suggestions").await;
    browser.click("#company-options [role=option]").await;
    assert_eq!(value_of(&browser, "#company").await, "Globex");
    assert_eq!(value_of(&browser, "input[name=company_ref]").await, globex);
    browser.click("form.record-form button[type=submit]").await;
    browser.wait_for("#links-title").await;
    let linked = browser.text("section[aria-labelledby=links-title]").await;
    assert!(linked.contains("Globex"), "{linked}");
    browser.check_page("contact-with-company").await;
}

#[tokio::test]
async fn setup_in_the_browser_takes_its_token_from_the_address() {
    let Some(browser) = Browser::start("setup-page").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let token = app.setup_token.clone().unwrap();
    browser
        .goto(&app.url(&format!("/setup#token={token}")))
        .await;
    browser.wait_for("#setup").await;
    assert_eq!(value_of(&browser, "#token").await, token);
    let hidden = browser.attr(".token-field", "hidden").await;
    assert!(
        !hidden.is_empty() && hidden != "false",
        "the token field is hidden"
    );
    browser.check_page("setup").await;
    browser.fill("#email", "op@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.fill("#slug", "acme").await;
    browser.fill("#owner", "owner@acme.test").await;
    browser.click("#setup button[type=submit]").await;
    browser.wait_for("#invite-link").await;
    assert!(
        browser
            .text("#invite-link")
            .await
            .contains("/t/acme/accept-invite#token=")
    );
    browser.check_page("setup-done").await;
}
