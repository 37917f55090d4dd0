//! The whole path a new customer takes, in a real browser, through pages alone: set up the
//! appliance, install the license, make a tenant with an invited owner, accept the
//! invitation, sign in, make a company, a contact and a deal, move the deal on the board by
//! drag and drop and by keyboard, find it, import a file with a bad row and download that
//! row, export the contacts, sign out. Every page on the way passes the page checks.

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, demo_key};

const OWNER: &str = "owner@globex.test";

#[tokio::test]
async fn a_new_customer_goes_from_setup_to_an_export_in_the_browser() {
    let Some(browser) = Browser::start("customer_path").await else {
        return;
    };
    let app = TestApp::spawn().await;
    set_up(&browser, &app).await;
    let invitation = license_and_tenant(&browser).await;
    accept_and_sign_in(&browser, &app, &invitation).await;
    make_records(&browser).await;
    move_on_the_board(&browser).await;
    find_it(&browser).await;
    import_a_file_with_a_bad_row(&browser).await;
    export_and_sign_out(&browser, &app).await;
}

/// The setup page (its token in the address, as `serve` prints it), then the console.
async fn set_up(browser: &Browser, app: &TestApp) {
    let token = app
        .setup_token
        .clone()
        .expect("a fresh appliance offers setup");
    browser
        .goto(&app.url(&format!("/setup#token={token}")))
        .await;
    browser.check_page("path-setup").await;
    browser.fill("#email", "op@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for(".message.ok").await;
    browser.click("a[href='/admin/sign-in']").await;
    browser.wait_for("#email").await;
    browser.fill("#email", "op@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("#instance-id").await;
}

/// The license pasted on its page, then a tenant with its owner invited; answers the path of
/// the invitation link the console shows.
async fn license_and_tenant(browser: &Browser) -> String {
    browser.click("nav a[href='/admin/license']").await;
    browser.wait_for("#key").await;
    let key = demo_key(|p| {
        "Globex Corporation".clone_into(&mut p.customer);
        p.max_tenants = 2;
        p.max_seats = 10;
    });
    browser.fill("#key", &key).await;
    browser.click("form.record-form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(fantoccini::Locator::XPath(
            "//main[contains(., 'Globex Corporation')]",
        ))
        .await
        .unwrap();
    browser.check_page("path-license").await;

    browser.click("nav a[href='/admin/tenants']").await;
    browser.wait_for("#slug").await;
    browser.fill("#name", "Globex").await;
    browser.fill("#slug", "globex").await;
    browser.fill("#owner_email", OWNER).await;
    browser.click("form.record-form button[type=submit]").await;
    browser.wait_for("code.link").await;
    let link = browser.text("code.link").await;
    let at = link.find("/t/globex/").expect("an invitation link");
    link[at..].to_owned()
}

/// The invitation accepted with a new password, then the sign-in form it leads to.
async fn accept_and_sign_in(browser: &Browser, app: &TestApp, invitation: &str) {
    browser.goto(&app.url(invitation)).await;
    browser.wait_for("#confirm").await;
    browser.check_page("path-accept-invite").await;
    browser.fill("#password", PASSWORD).await;
    browser.fill("#confirm", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("#email").await;
    assert_eq!(browser.path().await, "/t/globex/sign-in");
    assert_eq!(browser.attr("#email", "value").await, OWNER);
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("#pipeline-title").await;
}

/// A company, a contact and a deal, each through its "New" form.
async fn make_records(browser: &Browser) {
    for (plural, new_link, fields, title) in [
        (
            "companies",
            "a[href='/t/globex/companies/new']",
            &[("#name", "Initech"), ("#domain", "initech.example")][..],
            "Initech",
        ),
        (
            "contacts",
            "a[href='/t/globex/contacts/new']",
            &[
                ("#first_name", "Peter"),
                ("#last_name", "Gibbons"),
                ("#emails", "peter@initech.example"),
            ][..],
            "Peter Gibbons",
        ),
        (
            "deals",
            "a[href^='/t/globex/deals/new']",
            &[("#title", "Initech rollout"), ("#amount", "12000")][..],
            "Initech rollout",
        ),
    ] {
        browser
            .click(&format!("nav a[href='/t/globex/{plural}']"))
            .await;
        browser.wait_for(new_link).await;
        browser.check_page(&format!("path-{plural}")).await;
        browser.click(new_link).await;
        browser.wait_for("form.record-form").await;
        browser.check_page(&format!("path-{plural}-new")).await;
        for (css, value) in fields {
            browser.fill(css, value).await;
        }
        browser.click("form.record-form button[type=submit]").await;
        browser
            .client
            .wait()
            .for_element(fantoccini::Locator::XPath(&format!("//h1[. = '{title}']")))
            .await
            .unwrap();
        browser.check_page(&format!("path-{plural}-record")).await;
    }
}

/// The stage column the deal's card is in, on the board as it is now.
async fn column_of_card(browser: &Browser) -> String {
    browser.wait_for("[data-board] [data-deal]").await;
    let answer = browser
        .client
        .execute(
            "return document.querySelector('[data-deal]').closest('[data-stage]').dataset.stage;",
            vec![],
        )
        .await
        .unwrap();
    answer.as_str().unwrap().to_owned()
}

/// Waits until the board, reloaded after a move, shows the card in column `stage`.
async fn card_reaches(browser: &Browser, stage: &str) {
    for _ in 0..50 {
        if column_of_card(browser).await == stage {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the deal never reached stage {stage}");
}

/// Drag the card two stages on (the drag events a mouse makes: the `WebDriver` pointer actions
/// start no HTML5 drag in Chromium), then one stage back with the keyboard.
async fn move_on_the_board(browser: &Browser) {
    use fantoccini::key::Key;
    browser.click("nav a[href='/t/globex/deals']").await;
    browser.wait_for("[data-board] [data-deal]").await;
    browser.check_page("path-board").await;
    let stages = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('[data-stage]'), (c) => c.dataset.stage);",
            vec![],
        )
        .await
        .unwrap();
    let stages: Vec<String> = serde_json::from_value(stages).unwrap();
    assert_eq!(column_of_card(browser).await, stages[0]);
    browser
        .client
        .execute(
            "const card = document.querySelector('[data-deal]');
             const column = document.querySelector(`[data-stage='${arguments[0]}']`);
             const data = new DataTransfer();
             card.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: data }));
             column.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: data }));
             column.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data }));",
            vec![serde_json::json!(stages[2])],
        )
        .await
        .unwrap();
    card_reaches(browser, &stages[2]).await;

    let deal = browser.attr("[data-deal]", "data-deal").await;
    let select = browser
        .client
        .find(fantoccini::Locator::Css(&format!("#move-{deal}")))
        .await
        .unwrap();
    select.send_keys(&Key::Up.to_string()).await.unwrap();
    select.send_keys(&Key::Tab.to_string()).await.unwrap();
    let button = browser.client.active_element().await.unwrap();
    button.send_keys(&Key::Enter.to_string()).await.unwrap();
    card_reaches(browser, &stages[1]).await;
}

/// Type-ahead from the top bar, then the search page.
async fn find_it(browser: &Browser) {
    browser.fill("#top-q", "initech").await;
    browser.wait_for("#top-q-results a").await;
    let found = browser.text("#top-q-results").await;
    assert!(
        found.contains("Initech rollout") && found.contains("Initech"),
        "{found}"
    );
    // Enter with no result chosen opens the search page.
    browser
        .client
        .find(fantoccini::Locator::Css("#top-q"))
        .await
        .unwrap()
        .send_keys(&fantoccini::key::Key::Enter.to_string())
        .await
        .unwrap();
    browser.wait_for(".hits mark").await;
    assert!(browser.text("main").await.contains("Peter Gibbons"));
}

/// A file of three people, one with a broken e-mail address: mapped, checked, imported; the
/// broken row downloads with its reason.
async fn import_a_file_with_a_bad_row(browser: &Browser) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        "Name,Surname,Email\nMichael,Bolton,michael@initech.example\n\
         Samir,Nagheenanajar,samir-at-initech\nMilton,Waddams,milton@initech.example\n",
    )
    .unwrap();
    browser.click("nav a[href='/t/globex/imports']").await;
    browser.wait_for("#file").await;
    browser.check_page("path-import-upload").await;
    browser
        .client
        .find(fantoccini::Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    browser.click("form.upload button[type=submit]").await;
    browser.wait_for("table.mapping").await;
    browser.check_page("path-import-map").await;
    browser.click("button[formaction$='/check']").await;
    browser
        .client
        .wait()
        .for_element(fantoccini::Locator::XPath(
            "//p[contains(., 'A check changed nothing')]",
        ))
        .await
        .unwrap();
    browser.click("form.plan button:not([formaction])").await;
    browser
        .client
        .wait()
        .for_element(fantoccini::Locator::XPath(
            "//h2[contains(., 'import: done')]",
        ))
        .await
        .unwrap();
    browser.check_page("path-import-done").await;
    let counts = browser.text(".figures").await;
    assert!(counts.contains("Created\n2"), "{counts}");
    assert!(counts.contains("Rejected\n1"), "{counts}");
    let link = browser.attr("a[href$='/rejected.csv']", "href").await;
    let rejected = browser.fetch(&link).await;
    assert!(
        rejected.contains("Samir,Nagheenanajar,samir-at-initech,3,"),
        "{rejected}"
    );
    assert_eq!(rejected.lines().count(), 2, "{rejected}");
}

/// The contacts table's export link gives every contact; signing out ends the session.
async fn export_and_sign_out(browser: &Browser, app: &TestApp) {
    browser.click("nav a[href='/t/globex/contacts']").await;
    browser.wait_for("table").await;
    browser.check_page("path-contacts").await;
    let link = browser.attr("a[href*='format=csv']", "href").await;
    let exported = browser.fetch(&link).await;
    for name in ["Gibbons", "Bolton", "Waddams"] {
        assert!(exported.contains(name), "{name} in {exported}");
    }
    assert!(!exported.contains("Nagheenanajar"), "{exported}");

    browser.click(".who button").await;
    browser.wait_for("#email").await;
    assert_eq!(browser.path().await, "/t/globex/sign-in");
    browser.goto(&app.url("/t/globex/contacts")).await;
    assert_eq!(browser.path().await, "/t/globex/sign-in", "signed out");
}
