//! The operator console in a real browser: sign in, the overview, a refused license key,
//! a new tenant — each page free of console errors and serious accessibility violations.

use fantoccini::Locator;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, install_license, set_up};

#[tokio::test]
async fn an_operator_signs_in_sees_the_overview_refuses_a_key_and_makes_a_tenant() {
    let Some(browser) = Browser::start("console").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    install_license(&mut op, |p| p.max_tenants = 3).await;

    browser.goto(&app.url("/admin")).await;
    assert_eq!(browser.path().await, "/admin/sign-in");
    browser.check_page("console-sign-in").await;
    browser.fill("#email", "op@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#instance-id"))
        .await
        .unwrap();
    assert!(browser.text("main").await.contains("Acme Ltd"));
    browser.check_page("console-overview").await;

    browser.click("nav a[href='/admin/license']").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#key"))
        .await
        .unwrap();
    browser.fill("#key", "HF1.not-a-key").await;
    browser.click("form.record-form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#key-error"))
        .await
        .unwrap();
    assert!(browser.text("#key-error").await.contains("license_invalid"));
    assert!(
        browser.text("main").await.contains("Acme Ltd"),
        "the old license stays"
    );
    browser.check_page("console-license-refused").await;

    browser.click("nav a[href='/admin/tenants']").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#slug"))
        .await
        .unwrap();
    browser.fill("#name", "Globex").await;
    browser.fill("#slug", "globex").await;
    browser.fill("#owner_email", "owner@globex.test").await;
    browser.click("form.record-form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("code.link"))
        .await
        .unwrap();
    assert!(
        browser
            .text("code.link")
            .await
            .contains("/t/globex/accept-invite#token=")
    );
    browser.check_page("console-tenants").await;

    // The tenant's own page, then the rest of the console.
    browser.click("a[href='/admin/tenants/globex']").await;
    browser.wait_for("#confirm").await;
    browser.check_page("console-tenant").await;
    for (path, name) in [
        ("/admin/operators", "console-operators"),
        ("/admin/audit", "console-audit"),
        ("/admin/system", "console-system"),
    ] {
        browser.click(&format!("nav a[href='{path}']")).await;
        browser.wait_for("h1").await;
        assert_eq!(browser.path().await, path);
        browser.check_page(name).await;
    }
}
