//! Activities as pages, over plain HTTP: my tasks (add one, mark it done), the calendar of a
//! week, and the notes and tasks of a record's page.

use serde_json::json;

use crate::helpers::{TestApp, licensed_tenants};
use crate::pages::{client, csrf_of, follow, location, sign_in_at};

const API: &str = "/t/acme/api/v1";

async fn get(app: &TestApp, web: &reqwest::Client, path: &str) -> (u16, String) {
    let answer = web.get(app.url(path)).send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

/// The part of `html` from the element with `id` to the end of its section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\"")).unwrap();
    let end = html[start..].find("</section>").unwrap();
    &html[start..start + end]
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

#[tokio::test]
async fn a_task_is_added_and_marked_done_on_my_tasks() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let (status, page) = get(&app, &web, "/t/acme/tasks").await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&page);

    let refused = web
        .post(app.url("/t/acme/tasks"))
        .form(&[("csrf", csrf.as_str()), ("subject", " "), ("due_at", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("id=\"task-subject-error\""), "{html}");

    for (subject, due) in [("Call Ada", today()), ("Old thing", "2020-01-02".into())] {
        let added = web
            .post(app.url("/t/acme/tasks"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("subject", subject),
                ("due_at", due.as_str()),
                ("body", "About the offer"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&added), "/t/acme/tasks");
    }
    let (_, page) = get(&app, &web, "/t/acme/tasks").await;
    assert!(section(&page, "group-today").contains("Call Ada"), "{page}");
    assert!(section(&page, "group-overdue").contains("Old thing"));

    // Done: the form of the task in today's group.
    let today_group = section(&page, "group-today");
    let action = today_group
        .split("action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let version = today_group
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let id = action.split('/').nth(4).unwrap().to_owned();
    let done = web
        .post(app.url(action))
        .form(&[("csrf", csrf.as_str()), ("version", version)])
        .send()
        .await
        .unwrap();
    let page = follow(&app, &web, done).await;
    assert!(!page.contains("Call Ada"), "{page}");
    let member = &mut tenants[0][2].1;
    let (_, task) = member.get(&format!("{API}/activities/{id}")).await;
    assert!(task["activity"]["done_at"].is_string(), "{task}");

    // A viewer sees the page, without its forms.
    let viewer = client();
    sign_in_at(&app, &viewer, "acme", "viewer@acme.test").await;
    let (status, page) = get(&app, &viewer, "/t/acme/tasks").await;
    assert_eq!(status, 200);
    assert!(!page.contains("Add a task") && !page.contains("/done"));
}

#[tokio::test]
async fn a_note_added_on_a_contact_page_shows_in_its_panel_and_timeline() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let member = &mut tenants[0][2].1;
    let (_, made) = member
        .post(&format!("{API}/contacts"), json!({ "first_name": "Ada" }))
        .await;
    let id = made["contact"]["id"].as_str().unwrap().to_owned();
    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let path = format!("/t/acme/contacts/{id}");
    let (_, page) = get(&app, &web, &path).await;
    assert!(section(&page, "activities-title").contains("Nothing yet."));
    let csrf = csrf_of(&page);
    let add = |fields: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields);
        web.post(app.url(&format!("{path}/activities")))
            .form(&form)
            .send()
    };
    let refused = add(vec![("type", "note"), ("subject", "")]).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("subject: may not be empty")
    );

    let added = add(vec![
        ("type", "note"),
        ("subject", "Met at the fair"),
        ("body", "Wants a demo"),
    ])
    .await
    .unwrap();
    assert!(location(&added).starts_with(&path));
    let page = follow(&app, &web, added).await;
    let panel = section(&page, "activities-title");
    assert!(
        panel.contains("Met at the fair") && panel.contains("Wants a demo"),
        "{panel}"
    );
    assert!(
        section(&page, "timeline-title").contains("activity linked"),
        "{page}"
    );

    // A task with its due date, on the same record; the API lists both by the link.
    let added = add(vec![
        ("type", "task"),
        ("subject", "Send the demo"),
        ("due_at", "2030-05-06"),
    ])
    .await
    .unwrap();
    let page = follow(&app, &web, added).await;
    assert!(section(&page, "activities-title").contains("datetime=\"2030-05-06\""));
    let filters =
        json!([{ "field": "links", "op": "eq", "value": { "kind": "contact", "id": id } }]);
    let (_, listed) = member
        .get(&format!(
            "{API}/activities?filters={}",
            urlencoding(&filters.to_string())
        ))
        .await;
    assert_eq!(listed["records"].as_array().unwrap().len(), 2, "{listed}");
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_calendar_shows_a_meeting_in_its_week_and_not_the_next() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let owner = &mut tenants[0][0].1;
    for body in [
        json!({ "kind": "meeting", "subject": "Quarterly review", "starts_at": "2026-03-04T10:00:00Z" }),
        json!({ "kind": "task", "subject": "Send the minutes", "due_at": "2026-03-06T00:00:00Z" }),
    ] {
        let (status, made) = owner.post(&format!("{API}/activities"), body).await;
        assert_eq!(status, 201, "{made}");
    }
    let web = client();
    sign_in_at(&app, &web, "acme", "viewer@acme.test").await;
    let (status, week) = get(&app, &web, "/t/acme/calendar?view=week&date=2026-03-05").await;
    assert_eq!(status, 200);
    let wednesday = week.split("id=\"day-2026-03-04\"").nth(1).unwrap();
    let wednesday = wednesday.split("id=\"day-2026-03-05\"").next().unwrap();
    assert!(wednesday.contains("Quarterly review"), "{week}");
    assert!(week.contains("Send the minutes"));
    assert!(week.contains("date=2026-03-09"), "a link to the next week");
    let (_, next) = get(&app, &web, "/t/acme/calendar?view=week&date=2026-03-09").await;
    assert!(!next.contains("Quarterly review"), "{next}");
    let (_, month) = get(&app, &web, "/t/acme/calendar?view=month&date=2026-03-20").await;
    assert!(month.contains("Quarterly review") && month.contains("day-2026-03-31"));
    let (status, _) = get(&app, &web, "/t/acme/calendar?date=tomorrow").await;
    assert_eq!(status, 400);
}

/// The forms of activities refuse a viewer and a forged token, and change nothing.
#[tokio::test]
async fn activity_forms_refuse_a_viewer_and_a_forged_token() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let member = &mut tenants[0][2].1;
    let (_, made) = member
        .post(&format!("{API}/contacts"), json!({ "first_name": "Ada" }))
        .await;
    let contact = made["contact"]["id"].as_str().unwrap().to_owned();
    let (_, task) = member
        .post(
            &format!("{API}/activities"),
            json!({ "kind": "task", "subject": "Call Ada" }),
        )
        .await;
    let task = task["activity"]["id"].as_str().unwrap().to_owned();

    let member_web = client();
    sign_in_at(&app, &member_web, "acme", "member@acme.test").await;
    let forged = member_web
        .post(app.url(&format!("/t/acme/tasks/{task}/done")))
        .form(&[("csrf", "forged"), ("version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("csrf_failed"));

    let viewer = client();
    sign_in_at(&app, &viewer, "acme", "viewer@acme.test").await;
    let (_, page) = get(&app, &viewer, &format!("/t/acme/contacts/{contact}")).await;
    assert!(
        !page.contains("Add a note") && !page.contains("Move to trash"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    for (path, form) in [
        (
            format!("/t/acme/contacts/{contact}/activities"),
            vec![("type", "note"), ("subject", "Hi")],
        ),
        (format!("/t/acme/tasks/{task}/done"), vec![("version", "1")]),
        ("/t/acme/tasks".to_owned(), vec![("subject", "More")]),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let refused = viewer
            .post(app.url(&path))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{path}");
    }
    let (_, listed) = member.get(&format!("{API}/activities")).await;
    let records = listed["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{listed}");
    assert!(records[0]["done_at"].is_null());
}
