//! Days as the reader lives them: my tasks and the calendar cut days by the zone the reader's
//! browser reports (the `holdfast_tz` cookie the pages' script sets), else by the tenant's
//! zone, which an operator sets. A cookie naming no zone is ignored; a date stays its date.

use reqwest::Method;
use reqwest::cookie::Jar;
use serde_json::json;

use crate::helpers::{Browser, TestApp, install_license, set_up, tenant_with_every_role};
use crate::pages::{client_with_jar, csrf_of, location, sign_in_at};

const API: &str = "/t/acme/api/v1";

async fn page(app: &TestApp, web: &reqwest::Client, path: &str) -> String {
    let answer = web.get(app.url(path)).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    answer.text().await.unwrap()
}

/// Sets the cookie the pages' script keeps the browser's zone in.
fn set_zone(app: &TestApp, jar: &Jar, zone: &str) {
    jar.add_cookie_str(
        &format!("holdfast_tz={zone}; Path=/"),
        &app.url("/").parse().unwrap(),
    );
}

/// A calendar page's day: from its heading to the next day's.
fn day<'a>(html: &'a str, date: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"day-{date}\""))
        .unwrap_or_else(|| panic!("no {date} in {html}"));
    let rest = &html[start..];
    let end = rest[1..].find("id=\"day-").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// Acme with a user of every role; the operator stays signed in.
async fn acme(app: &TestApp) -> (Browser<'_>, Vec<Browser<'_>>) {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| {
        p.max_tenants = 3;
        p.max_seats = 20;
    })
    .await;
    let people = tenant_with_every_role(app, &mut op, "acme").await;
    (op, people.into_iter().map(|(_, b)| b).collect())
}

#[tokio::test]
async fn the_calendar_cuts_days_by_the_readers_zone_across_a_change_of_summer_time() {
    let app = TestApp::spawn().await;
    let (mut op, mut people) = acme(&app).await;
    for body in [
        json!({ "kind": "meeting", "subject": "Tokyo breakfast", "starts_at": "2026-03-04T23:30:00Z" }),
        json!({ "kind": "meeting", "subject": "Sunday owls", "starts_at": "2026-03-28T23:30:00Z" }),
        json!({ "kind": "meeting", "subject": "Monday owls", "starts_at": "2026-03-29T22:30:00Z" }),
        json!({ "kind": "task", "subject": "Due on the fifth", "due_at": "2026-03-05T00:00:00Z" }),
    ] {
        let (status, made) = people[0].post(&format!("{API}/activities"), body).await;
        assert_eq!(status, 201, "{made}");
    }
    let (web, jar) = client_with_jar();
    sign_in_at(&app, &web, "acme", "viewer@acme.test").await;
    let march_5 = "/t/acme/calendar?view=week&date=2026-03-05";

    // No cookie: the tenant's zone, UTC.
    let week = page(&app, &web, march_5).await;
    assert!(week.contains("data-zone=\"UTC\""), "{week}");
    assert!(day(&week, "2026-03-04").contains("Tokyo breakfast"));
    assert!(day(&week, "2026-03-05").contains("Due on the fifth"));

    // Tokyo (UTC+9): the meeting is on the morning of the 5th; a date stays the 5th.
    set_zone(&app, &jar, "Asia/Tokyo");
    let week = page(&app, &web, march_5).await;
    assert!(week.contains("data-zone=\"Asia/Tokyo\""), "{week}");
    let fifth = day(&week, "2026-03-05");
    assert!(
        fifth.contains("Tokyo breakfast") && fifth.contains(">08:30<"),
        "{fifth}"
    );
    assert!(fifth.contains("Due on the fifth"), "{fifth}");
    assert!(!day(&week, "2026-03-04").contains("Tokyo breakfast"));

    // New York (UTC-5): a date is still the 5th, the meeting the evening of the 4th.
    set_zone(&app, &jar, "America/New_York");
    let week = page(&app, &web, march_5).await;
    assert!(
        day(&week, "2026-03-05").contains("Due on the fifth"),
        "{week}"
    );
    assert!(day(&week, "2026-03-04").contains(">18:30<"), "{week}");

    // Berlin, the week summer time begins (Sunday 29 March, 02:00 becomes 03:00): half past
    // midnight is 23:30 UTC on the Sunday and 22:30 UTC on the Monday.
    set_zone(&app, &jar, "Europe/Berlin");
    let week = page(&app, &web, "/t/acme/calendar?view=week&date=2026-03-25").await;
    let sunday = day(&week, "2026-03-29");
    assert!(
        sunday.contains("Sunday owls") && sunday.contains(">00:30<"),
        "{sunday}"
    );
    assert!(!week.contains("Monday owls"), "{week}");
    let next = page(&app, &web, "/t/acme/calendar?view=week&date=2026-03-30").await;
    let monday = day(&next, "2026-03-30");
    assert!(
        monday.contains("Monday owls") && monday.contains(">00:30<"),
        "{monday}"
    );
    let month = page(&app, &web, "/t/acme/calendar?view=month&date=2026-03-01").await;
    assert!(day(&month, "2026-03-30").contains("Monday owls"), "{month}");

    // A cookie that names no zone is ignored: the tenant's zone it is.
    let long = "A".repeat(3000);
    for bad in [
        "Mars/Olympus_Mons",
        "..%2F..%2Fetc%2Flocaltime",
        "Etc%2FUTC%0A",
        &long,
    ] {
        set_zone(&app, &jar, bad);
        let week = page(&app, &web, march_5).await;
        assert!(week.contains("data-zone=\"UTC\""), "{bad}: {week}");
    }

    // The tenant's zone, set by an operator, is for readers whose browser does not say.
    let (status, _, refused) = op
        .send(
            Method::PATCH,
            "/api/v1/admin/tenants/acme",
            Some(json!({ "timezone": "Mars/Olympus_Mons" })),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (422, Some("invalid_input"))
    );
    let (status, _, changed) = op
        .send(
            Method::PATCH,
            "/api/v1/admin/tenants/acme",
            Some(json!({ "timezone": "asia/tokyo" })),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["tenant"]["timezone"], "Asia/Tokyo");
    let (web, _) = client_with_jar();
    sign_in_at(&app, &web, "acme", "viewer@acme.test").await;
    let week = page(&app, &web, march_5).await;
    assert!(week.contains("data-zone=\"Asia/Tokyo\""), "{week}");
    assert!(
        day(&week, "2026-03-05").contains("Tokyo breakfast"),
        "{week}"
    );
}

/// The day it is now in `zone`, as `YYYY-MM-DD`.
fn today_in(zone: &str) -> String {
    jiff::Timestamp::now()
        .in_tz(zone)
        .unwrap()
        .date()
        .to_string()
}

/// At any moment, Kiritimati (UTC+14) or Pago Pago (UTC-11) is on another day than UTC; a
/// task due on that zone's today is in its reader's Today.
#[tokio::test]
async fn my_tasks_say_today_as_it_is_in_the_readers_zone() {
    let app = TestApp::spawn().await;
    let (_op, _people) = acme(&app).await;
    let (web, jar) = client_with_jar();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        set_zone(&app, &jar, zone);
        let tasks = page(&app, &web, "/t/acme/tasks").await;
        assert!(tasks.contains(&format!("data-zone=\"{zone}\"")), "{tasks}");
        let subject = format!("Today in {zone}");
        let today = today_in(zone);
        let added = web
            .post(app.url("/t/acme/tasks"))
            .form(&[
                ("csrf", csrf_of(&tasks).as_str()),
                ("subject", subject.as_str()),
                ("due_at", today.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&added), "/t/acme/tasks");
        let tasks = page(&app, &web, "/t/acme/tasks").await;
        let start = tasks.find("id=\"group-today\"").unwrap();
        let end = start + tasks[start..].find("</section>").unwrap();
        assert!(tasks[start..end].contains(&subject), "{zone}: {tasks}");
    }
}

/// The dashboard counts what is due today as my tasks group it: a date as a date, a moment by
/// the reader's day — the zone asked for in the API, the reader's on the page.
#[tokio::test]
async fn the_dashboard_counts_today_in_the_readers_zone() {
    let app = TestApp::spawn().await;
    let (_op, mut people) = acme(&app).await;
    let kiritimati = "Pacific/Kiritimati";
    let today = today_in(kiritimati);
    // Just after the day began in Kiritimati (UTC+14), which is 10:00 UTC.
    let started = jiff::Timestamp::now()
        .in_tz(kiritimati)
        .unwrap()
        .start_of_day()
        .unwrap()
        .timestamp()
        + jiff::SignedDuration::from_secs(1);
    for body in [
        json!({ "kind": "task", "subject": "A date", "due_at": format!("{today}T00:00:00Z") }),
        json!({ "kind": "task", "subject": "A moment", "due_at": started.to_string() }),
    ] {
        let (status, made) = people[0].post(&format!("{API}/activities"), body).await;
        assert_eq!(status, 201, "{made}");
    }
    let counts = |board: &serde_json::Value| {
        let rows = board["activities_due"].as_array().unwrap();
        let sum = |name: &str| rows.iter().map(|r| r[name].as_i64().unwrap()).sum::<i64>();
        (sum("due_today"), sum("overdue"))
    };
    let (status, board) = people[0]
        .get(&format!("{API}/dashboard?timezone={kiritimati}"))
        .await;
    assert_eq!(status, 200, "{board}");
    assert_eq!(counts(&board), (2, 0), "{board}");
    // In UTC, before 10:00 Kiritimati has today's date and began yesterday: the date is due
    // today and the moment overdue. From 10:00 it is a day ahead: the date is still to come
    // and the moment due today.
    let (_, board) = people[0].get(&format!("{API}/dashboard")).await;
    let same_date = today == today_in("UTC");
    assert_eq!(counts(&board), (1, i64::from(same_date)), "{board}");
    let (status, refused) = people[0]
        .get(&format!("{API}/dashboard?timezone=Mars%2FOlympus_Mons"))
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );

    let (web, jar) = client_with_jar();
    sign_in_at(&app, &web, "acme", "viewer@acme.test").await;
    set_zone(&app, &jar, kiritimati);
    let html = page(&app, &web, "/t/acme/").await;
    assert!(html.contains("<dt>Due today</dt><dd>2</dd>"), "{html}");
    assert!(html.contains("<dt>Overdue</dt><dd>0</dd>"), "{html}");
}

/// The audit log's "from" and "to" are days where the reader is: at any moment, entries made
/// now are in Kiritimati's today (which may start tomorrow in UTC) and in Pago Pago's (which may
/// end yesterday in UTC).
#[tokio::test]
async fn the_audit_logs_days_are_the_readers() {
    let app = TestApp::spawn().await;
    let (_op, mut people) = acme(&app).await;
    let (status, made) = people[0]
        .post(&format!("{API}/contacts"), json!({ "first_name": "Ada" }))
        .await;
    assert_eq!(status, 201, "{made}");
    let (web, jar) = client_with_jar();
    sign_in_at(&app, &web, "acme", "owner@acme.test").await;
    for (zone, bound) in [("Pacific/Kiritimati", "from"), ("Pacific/Pago_Pago", "to")] {
        set_zone(&app, &jar, zone);
        let path = format!("/t/acme/settings/audit?{bound}={}", today_in(zone));
        let html = page(&app, &web, &path).await;
        assert!(html.contains(&format!("data-zone=\"{zone}\"")), "{html}");
        assert!(
            !html.contains("No entries match."),
            "{zone} {bound}: {html}"
        );
    }
}
