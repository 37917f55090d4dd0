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

    make_contact_and_find_it(&browser, &app).await;

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

/// A new contact through its form; then found by type-ahead from the top bar and on the
/// search page.
async fn make_contact_and_find_it(browser: &Browser, app: &TestApp) {
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

    // Type-ahead from the top bar ("/" focuses it), then the search page.
    browser.goto(&app.url("/t/acme/contacts")).await;
    let body = browser.client.find(Locator::Css("body")).await.unwrap();
    body.send_keys("/").await.unwrap();
    let search = browser.client.active_element().await.unwrap();
    assert_eq!(search.attr("id").await.unwrap().as_deref(), Some("top-q"));
    search.send_keys("turi").await.unwrap();
    browser
        .client
        .wait()
        .for_element(Locator::Css("#top-q-results a"))
        .await
        .unwrap();
    assert!(browser.text("#top-q-results").await.contains("Alan Turing"));
    search
        .send_keys(&fantoccini::key::Key::Down.to_string())
        .await
        .unwrap();
    search
        .send_keys(&fantoccini::key::Key::Enter.to_string())
        .await
        .unwrap();
    browser
        .client
        .wait()
        .for_element(Locator::XPath("//h1[. = 'Alan Turing']"))
        .await
        .unwrap();
    browser.goto(&app.url("/t/acme/search?q=turing")).await;
    assert!(browser.text("mark").await.eq_ignore_ascii_case("turing"));
    browser.check_page("search").await;
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

/// The stage a deal is in, through the API.
async fn stage_of(owner: &mut crate::helpers::Browser<'_>, id: &str) -> String {
    let (_, deal) = owner.get(&format!("/t/acme/api/v1/deals/{id}")).await;
    deal["deal"]["stage_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_deal_moves_on_the_board_by_drag_and_drop_and_by_keyboard() {
    use fantoccini::key::Key;
    let Some(browser) = Browser::start("board").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let (_, owner) = &mut tenants[0][0];
    let (status, body) = owner
        .post(
            "/t/acme/api/v1/deals",
            serde_json::json!({"title": "Lighthouse", "amount": 500_000}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["deal"]["id"].as_str().unwrap().to_owned();
    let (_, pipelines) = owner.get("/t/acme/api/v1/pipelines").await;
    let stages: Vec<String> = pipelines["pipelines"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stage_of(owner, &id).await, stages[0]);

    browser.goto(&app.url("/t/acme/sign-in")).await;
    browser.fill("#email", "member@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#pipeline-title"))
        .await
        .unwrap();
    browser.goto(&app.url("/t/acme/deals")).await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("[data-board]"))
        .await
        .unwrap();
    browser.check_page("board").await;

    // Drag the card onto the third column. WebDriver's pointer actions do not start an HTML5
    // drag in Chromium, so the test dispatches the drag events a mouse would.
    browser
        .client
        .execute(
            "const card = document.querySelector(`[data-deal='${arguments[0]}']`);
             const column = document.querySelector(`[data-stage='${arguments[1]}']`);
             const data = new DataTransfer();
             card.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: data }));
             column.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: data }));
             column.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data }));",
            vec![serde_json::json!(id), serde_json::json!(stages[2])],
        )
        .await
        .unwrap();
    for _ in 0..50 {
        if stage_of(owner, &id).await == stages[2] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        stage_of(owner, &id).await,
        stages[2],
        "moved by drag and drop"
    );
    browser
        .client
        .wait()
        .for_element(Locator::Css("[data-board]"))
        .await
        .unwrap();

    // By keyboard: focus the card's "Move to" list, one stage back, then its button.
    let select = browser
        .client
        .find(Locator::Css(&format!("#move-{id}")))
        .await
        .unwrap();
    select.send_keys(&Key::Up.to_string()).await.unwrap();
    select.send_keys(&Key::Tab.to_string()).await.unwrap();
    let active = browser.client.active_element().await.unwrap();
    active.send_keys(&Key::Enter.to_string()).await.unwrap();
    for _ in 0..50 {
        if stage_of(owner, &id).await == stages[1] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(stage_of(owner, &id).await, stages[1], "moved by keyboard");
}
