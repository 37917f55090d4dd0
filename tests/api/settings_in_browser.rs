//! The settings and the account page in a real browser: the hub, users and roles, API tokens
//! (the page with a new secret, its copy button shown by the script), the audit log and the
//! account — each free of console errors and of serious accessibility violations.

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, licensed_tenants};

#[tokio::test]
async fn an_admin_walks_the_settings_and_their_account() {
    let Some(browser) = Browser::start("settings").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let _tenants = licensed_tenants(&app, &["acme"]).await;
    browser
        .goto(&app.url("/t/acme/sign-in?next=/t/acme/settings"))
        .await;
    browser.fill("#email", "admin@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for(".settings-sections").await;
    assert_eq!(browser.path().await, "/t/acme/settings");
    browser.check_page("settings").await;

    browser.click("a[href='/t/acme/settings/users']").await;
    browser.wait_for("#invite-email").await;
    browser.fill("#invite-email", "grace@acme.test").await;
    browser.click("form.form button[type=submit]").await;
    browser.wait_for("#made-link").await;
    assert!(
        browser
            .text("#made-link")
            .await
            .contains("accept-invite#token=")
    );
    browser.check_page("settings-users").await;

    browser.goto(&app.url("/t/acme/settings/tokens")).await;
    browser.wait_for("#token-name").await;
    browser.check_page("settings-tokens").await;
    browser.fill("#token-name", "nightly export").await;
    browser.click("form.form button[type=submit]").await;
    browser.wait_for("#token-secret").await;
    assert!(browser.text("#token-secret").await.starts_with("hft_"));
    assert_eq!(
        browser.text("button[data-copy='token-secret']").await,
        "Copy"
    );
    browser.check_page("settings-token-made").await;

    browser
        .goto(&app.url("/t/acme/settings/audit?action=tokens"))
        .await;
    browser.wait_for("table").await;
    assert!(
        browser
            .text("table")
            .await
            .contains("POST /settings/tokens")
    );
    browser.check_page("settings-audit").await;

    browser.click(".who a").await;
    browser.wait_for("#current-password").await;
    assert_eq!(browser.path().await, "/t/acme/account");
    assert!(browser.text("main").await.contains("This session"));
    browser.check_page("account").await;
}
