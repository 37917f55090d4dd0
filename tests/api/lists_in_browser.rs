//! The tables in a real browser: columns chosen, every row of a page checked with the
//! header's checkbox, a bulk change, a saved view applied, the deals as a table — each page
//! free of console errors and of serious accessibility violations.

use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, licensed_tenants};

#[tokio::test]
async fn a_table_with_chosen_columns_a_bulk_change_and_a_saved_view() {
    let Some(browser) = Browser::start("lists").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    for name in ["Ada", "Bob", "Cy"] {
        let body = json!({"first_name": name, "last_name": "Fairfax", "source": "Fair", "lifecycle_stage": "lead"});
        let (status, made) = owner.post("/t/acme/api/v1/contacts", body).await;
        assert_eq!(status, 201, "{made}");
    }
    let deal = json!({"title": "Big", "amount": 1_250_000, "currency": "EUR"});
    let (status, made) = owner.post("/t/acme/api/v1/deals", deal).await;
    assert_eq!(status, 201, "{made}");

    browser.goto(&app.url("/t/acme/contacts")).await;
    browser.fill("#email", "admin@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("table").await;

    browser
        .goto(&app.url("/t/acme/contacts?columns=source,lifecycle_stage"))
        .await;
    browser.wait_for("#pick-all").await;
    let table = browser.text("table").await;
    assert!(
        table.contains("Fair") && !table.contains("Updated"),
        "{table}"
    );
    browser.check_page("contacts-columns").await;

    // The header's checkbox checks every row of the page.
    browser.click("#pick-all").await;
    let checked = browser
        .client
        .execute(
            "return [...document.querySelectorAll('input[name=ids]')].filter((b) => b.checked).length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(checked, json!(3));
    browser
        .click("#bulk-lifecycle option[value=customer]")
        .await;
    browser.click("button[value=lifecycle_stage]").await;
    browser.wait_for("p[role=status]").await;
    assert_eq!(
        browser.text("p[role=status]").await,
        "Changed 3 of 3 contacts."
    );
    assert_eq!(browser.text("table").await.matches("customer").count(), 3);
    browser.check_page("contacts-bulk-changed").await;

    // Saved as a view, which the table then shows.
    browser.click(".save-view summary").await;
    browser.fill("#view-name", "Fair customers").await;
    browser.click(".save-view button[type=submit]").await;
    browser.wait_for("#view option[selected]").await;
    assert_eq!(
        browser.text("p[role=status]").await,
        "Saved the view Fair customers."
    );
    assert!(browser.text("table").await.contains("Fair"));
    browser.check_page("saved-view").await;

    browser.goto(&app.url("/t/acme/deals/table")).await;
    browser.wait_for("table").await;
    assert!(browser.text("table").await.contains("12,500.00 EUR"));
    browser.check_page("deals-table").await;
}
