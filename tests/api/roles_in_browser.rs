//! What each person is offered, in a real browser: a viewer sees no edit controls; an
//! appliance past its license's grace offers nobody any (and says why); a tenant the console
//! suspends refuses its users at once; and the pages fit a 360 px phone without the page
//! itself scrolling sideways.

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, licensed_tenants, licensed_tenants_with, past_grace};

async fn sign_in(browser: &Browser, app: &TestApp, email: &str) {
    browser.goto(&app.url("/t/acme/sign-in")).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("#pipeline-title").await;
}

/// How many elements `css` finds on the page.
async fn count(browser: &Browser, css: &str) -> usize {
    browser
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .unwrap()
        .len()
}

/// The edit controls of the pages a member uses: none may show.
const EDIT_CONTROLS: &str = "form.record-form, form.move, a[href$='/new'], a[href^='/t/acme/contacts/new'], [draggable=true], form[action$='/trash']";

/// A contact, a company and a deal, made through the API by the owner; the contact's id.
async fn records(owner: &mut crate::helpers::Browser<'_>) -> String {
    let (_, contact) = owner
        .post(
            "/t/acme/api/v1/contacts",
            serde_json::json!({"first_name": "Grace", "last_name": "Hopper"}),
        )
        .await;
    owner
        .post(
            "/t/acme/api/v1/deals",
            serde_json::json!({"title": "Cobol"}),
        )
        .await;
    contact["contact"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_viewer_is_offered_nothing_to_change() {
    let Some(browser) = Browser::start("viewer").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let contact = records(&mut tenants[0][0].1).await;
    sign_in(&browser, &app, "viewer@acme.test").await;
    for (path, name) in [
        ("/t/acme/contacts".to_owned(), "viewer-contacts"),
        (format!("/t/acme/contacts/{contact}"), "viewer-contact"),
        ("/t/acme/deals".to_owned(), "viewer-board"),
        ("/t/acme/tasks".to_owned(), "viewer-tasks"),
    ] {
        browser.goto(&app.url(&path)).await;
        browser.wait_for("main h1").await;
        assert_eq!(
            count(&browser, EDIT_CONTROLS).await,
            0,
            "edit controls on {path}"
        );
        browser.check_page(name).await;
    }
    // Nor is anything of the admins' offered.
    assert_eq!(count(&browser, "nav a[href='/t/acme/settings']").await, 0);
    assert_eq!(count(&browser, "nav a[href='/t/acme/imports']").await, 0);
}

#[tokio::test]
async fn past_its_grace_the_appliance_offers_nobody_an_edit_and_says_why() {
    let Some(browser) = Browser::start("read_only").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants_with(&app, &["acme"], |p| {
        p.expires_at = Some(p.issued_at + 10 * 86_400);
        p.grace_days = 5;
    })
    .await;
    let contact = records(&mut tenants[0][0].1).await;
    past_grace(&app).await;
    sign_in(&browser, &app, "owner@acme.test").await;
    assert!(browser.text(".banner-danger").await.contains("read-only"));
    for (path, name) in [
        ("/t/acme/contacts".to_owned(), "read-only-contacts"),
        (format!("/t/acme/contacts/{contact}"), "read-only-contact"),
        ("/t/acme/deals".to_owned(), "read-only-board"),
    ] {
        browser.goto(&app.url(&path)).await;
        browser.wait_for("main h1").await;
        assert_eq!(
            count(&browser, EDIT_CONTROLS).await,
            0,
            "edit controls on {path}"
        );
        browser.check_page(name).await;
    }
}

#[tokio::test]
async fn a_tenant_suspended_in_the_console_refuses_its_users_at_once() {
    let Some(browser) = Browser::start("suspend").await else {
        return;
    };
    let app = TestApp::spawn().await;
    licensed_tenants(&app, &["acme"]).await;
    sign_in(&browser, &app, "member@acme.test").await;

    // The same browser signs in to the console too (its cookie lives under /admin).
    browser.goto(&app.url("/admin/sign-in")).await;
    browser.fill("#email", "op@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("#instance-id").await;
    browser.goto(&app.url("/admin/tenants/acme")).await;
    browser.wait_for("#confirm").await;
    browser
        .click("form[action='/admin/tenants/acme/suspend'] button")
        .await;
    browser.wait_for("table").await;
    assert!(browser.text("main").await.contains("suspended"));

    browser.goto(&app.url("/t/acme/contacts")).await;
    browser.wait_for("main").await;
    let refused = browser.text("main").await;
    assert!(refused.contains("tenant_suspended"), "{refused}");
    browser.check_page("suspended-tenant").await;
}

#[tokio::test]
async fn the_pages_fit_a_phone() {
    let Some(browser) = Browser::start("phone").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let contact = records(&mut tenants[0][0].1).await;
    browser.client.set_window_size(360, 740).await.unwrap();
    sign_in(&browser, &app, "admin@acme.test").await;
    for (path, name) in [
        ("/t/acme/".to_owned(), "phone-dashboard"),
        ("/t/acme/contacts".to_owned(), "phone-contacts"),
        (format!("/t/acme/contacts/{contact}"), "phone-contact"),
        ("/t/acme/deals".to_owned(), "phone-board"),
        ("/t/acme/imports".to_owned(), "phone-import"),
        ("/t/acme/settings/users".to_owned(), "phone-users"),
    ] {
        browser.goto(&app.url(&path)).await;
        browser.wait_for("main h1").await;
        // The page itself must not scroll sideways (a table or the board scrolls in a box of
        // its own); when it does, name what sticks out.
        let wide = browser
            .client
            .execute(
                "if (document.documentElement.scrollWidth <= window.innerWidth) return [];
                 return Array.from(document.querySelectorAll('body *'))
                   .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
                   .map((e) => `${e.tagName.toLowerCase()}.${e.className}`).slice(0, 12);",
                vec![],
            )
            .await
            .unwrap();
        browser.check_page(name).await;
        assert_eq!(wide, serde_json::json!([]), "{path} is wider than 360 px");
    }
}
