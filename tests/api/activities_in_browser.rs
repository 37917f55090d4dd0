//! My tasks, the calendar, the trash and a record's activities in a real browser: each page
//! free of console errors and of serious accessibility violations.

use fantoccini::Locator;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, licensed_tenants};

#[tokio::test]
async fn tasks_calendar_trash_and_a_records_activities_pass_the_checks() {
    let Some(browser) = Browser::start("activities").await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let admin = &mut tenants[0][1].1;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let (_, made) = admin
        .post(
            "/t/acme/api/v1/contacts",
            json!({ "first_name": "Grace", "last_name": "Hopper" }),
        )
        .await;
    let contact = made["contact"]["id"].as_str().unwrap().to_owned();
    for body in [
        json!({ "kind": "task", "subject": "Call Grace", "due_at": format!("{today}T00:00:00Z"),
                "links": [{ "kind": "contact", "id": contact }] }),
        json!({ "kind": "meeting", "subject": "Review", "starts_at": format!("{today}T10:00:00Z") }),
        json!({ "kind": "note", "subject": "Old note" }),
    ] {
        let (status, made) = admin.post("/t/acme/api/v1/activities", body).await;
        assert_eq!(status, 201, "{made}");
    }
    let (_, note) = admin
        .get("/t/acme/api/v1/activities?filters=%5B%7B%22field%22%3A%22kind%22%2C%22op%22%3A%22eq%22%2C%22value%22%3A%22note%22%7D%5D")
        .await;
    let note = note["records"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, _) = admin
        .send_with(
            reqwest::Method::DELETE,
            &format!("/t/acme/api/v1/activities/{note}"),
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, 204);

    browser.goto(&app.url("/t/acme/sign-in")).await;
    browser.fill("#email", "admin@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("table").await;

    browser.goto(&app.url("/t/acme/tasks")).await;
    browser.wait_for("#group-today").await;
    assert!(browser.text("main").await.contains("Call Grace"));
    browser.check_page("tasks").await;

    browser.goto(&app.url("/t/acme/calendar")).await;
    browser.wait_for(".calendar").await;
    assert!(browser.text(".calendar").await.contains("Review"));
    browser.check_page("calendar-week").await;
    browser.goto(&app.url("/t/acme/calendar?view=month")).await;
    browser.wait_for(".calendar-month").await;
    browser.check_page("calendar-month").await;

    browser.goto(&app.url("/t/acme/trash")).await;
    browser.wait_for("#empty-title").await;
    assert!(browser.text("table").await.contains("Old note"));
    browser.check_page("trash").await;

    browser
        .goto(&app.url(&format!("/t/acme/contacts/{contact}")))
        .await;
    browser.wait_for("#activities-title").await;
    browser.fill("#activity-subject", "Met at the fair").await;
    browser
        .click("form[action$='/activities'] button[type=submit]")
        .await;
    browser
        .client
        .wait()
        .for_element(Locator::XPath(
            "//ol[@class='activities']//span[contains(., 'Met at the fair')]",
        ))
        .await
        .unwrap();
    let panel = browser
        .text("section[aria-labelledby=activities-title]")
        .await;
    assert!(
        panel.contains("Met at the fair") && panel.contains("Call Grace"),
        "{panel}"
    );
    browser.check_page("record-activities").await;
}

/// Chromium in Tokyo: the script tells the server the browser's zone, and the calendar puts a
/// meeting at 23:30 UTC on the next morning. A visit without the cookie is cut by the tenant's
/// zone (UTC) at first, and loaded again once in the browser's.
#[tokio::test]
async fn the_calendar_follows_the_browsers_time_zone() {
    let Some(browser) = Browser::start_in_zone("activities-zone", Some("Asia/Tokyo")).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let admin = &mut tenants[0][1].1;
    let meeting = json!({ "kind": "meeting", "subject": "Tokyo breakfast", "starts_at": "2026-03-04T23:30:00Z" });
    let (status, made) = admin.post("/t/acme/api/v1/activities", meeting).await;
    assert_eq!(status, 201, "{made}");

    browser.goto(&app.url("/t/acme/sign-in")).await;
    browser.fill("#email", "admin@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for("table").await;

    let week = app.url("/t/acme/calendar?view=week&date=2026-03-05");
    let fifth = "li.day:has(#day-2026-03-05)";
    browser.goto(&week).await;
    browser.wait_for("[data-zone='Asia/Tokyo']").await;
    let day = browser.text(fifth).await;
    assert!(
        day.contains("Tokyo breakfast") && day.contains("8:30"),
        "{day}"
    );

    browser.client.delete_cookie("holdfast_tz").await.unwrap();
    browser.goto(&week).await;
    browser.wait_for("[data-zone='Asia/Tokyo']").await;
    assert!(browser.text(fifth).await.contains("Tokyo breakfast"));
    browser.check_page("calendar-zone").await;
}
