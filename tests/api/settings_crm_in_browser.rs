//! The settings that shape the CRM and the brand, in a real browser: pipelines, custom
//! fields and branding pass the page checks, and a brand colour set on its page reaches
//! every page through its stylesheet (under the same content security policy).

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, licensed_tenants_with};

#[tokio::test]
async fn an_admin_shapes_pipelines_fields_and_the_brand() {
    let Some(browser) = Browser::start("settings_crm").await else {
        return;
    };
    let app = TestApp::spawn().await;
    licensed_tenants_with(&app, &["acme"], |p| p.features.push("branding".to_owned())).await;
    browser.goto(&app.url("/t/acme/sign-in")).await;
    browser.fill("#email", "admin@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("#pipeline-title").await;

    browser.goto(&app.url("/t/acme/settings/pipelines")).await;
    browser.wait_for("ol.stages").await;
    browser.check_page("settings-pipelines").await;
    browser.fill("input[id^='new-stage-']", "Pilot").await;
    browser.click("form[action$='/stages'] button").await;
    browser.wait_for("input[value='Pilot']").await;

    browser.goto(&app.url("/t/acme/settings/fields")).await;
    browser.wait_for("#label").await;
    browser.check_page("settings-fields").await;

    browser.goto(&app.url("/t/acme/settings/branding")).await;
    browser.wait_for("#accent").await;
    browser.check_page("settings-branding").await;
    browser.fill("#accent", "#5b2a86").await;
    browser
        .click("form[action$='/settings/branding'] button[type=submit]")
        .await;
    browser.wait_for("button[name=reset]").await;
    browser.goto(&app.url("/t/acme/contacts")).await;
    browser.wait_for("a.button").await;
    let colour = browser
        .client
        .execute(
            "return getComputedStyle(document.querySelector('a.button:not(.secondary)')).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(colour, "rgb(91, 42, 134)", "the brand colour is worn");
    browser.check_page("branded-contacts").await;
}
