//! The trash as pages, over plain HTTP: a record moved to the trash from its page (with its
//! version, so a stale page changes nothing) and restored from the trash's page; members
//! restore and trash only their own records; emptying the trash needs its word typed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants, licensed_tenants_with, past_grace};
use crate::pages::{client, csrf_of, follow, location, sign_in_at};

const API: &str = "/t/acme/api/v1";

/// A contact made through the API by `who`; its id.
async fn contact(who: &mut Browser<'_>, name: &str) -> String {
    let (status, made) = who
        .post(&format!("{API}/contacts"), json!({ "first_name": name }))
        .await;
    assert_eq!(status, 201, "{made}");
    made["contact"]["id"].as_str().unwrap().to_owned()
}

/// The `version` the page's forms post.
fn version_of(html: &str) -> String {
    crate::pages::quoted_after(html, "name=\"version\" value=\"")
}

async fn get(app: &TestApp, web: &reqwest::Client, path: &str) -> (u16, String) {
    let answer = web.get(app.url(path)).send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

async fn post(
    app: &TestApp,
    web: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    web.post(app.url(path)).form(form).send().await.unwrap()
}

#[tokio::test]
async fn a_record_moved_to_the_trash_on_its_page_comes_back_from_the_trash_page() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let member = &mut tenants[0][2].1;
    let id = contact(member, "Ada").await;
    let web = client();
    assert_eq!(
        sign_in_at(&app, &web, "acme", "member@acme.test")
            .await
            .status(),
        303
    );
    let (_, page) = get(&app, &web, &format!("/t/acme/contacts/{id}")).await;
    assert!(page.contains("Move to trash"), "{page}");
    let (csrf, version) = (csrf_of(&page), version_of(&page));
    let moved = post(
        &app,
        &web,
        &format!("/t/acme/contacts/{id}/trash"),
        &[("csrf", &csrf), ("version", &version)],
    )
    .await;
    assert_eq!(location(&moved), "/t/acme/contacts");
    let list = follow(&app, &web, moved).await;
    assert!(!list.contains("Ada"), "{list}");

    let (status, trash) = get(&app, &web, "/t/acme/trash").await;
    assert_eq!(status, 200);
    assert!(trash.contains("<th scope=\"row\">Ada</th>"), "{trash}");
    assert!(
        trash.contains("<td>member@acme.test</td>"),
        "who deleted it: {trash}"
    );
    assert!(
        !trash.contains("Empty the trash"),
        "members may not empty it"
    );
    let restored = post(
        &app,
        &web,
        "/t/acme/trash/restore",
        &[("csrf", &csrf), ("kind", "contact"), ("id", &id)],
    )
    .await;
    assert_eq!(location(&restored), "/t/acme/trash");
    let trash = follow(&app, &web, restored).await;
    assert!(trash.contains("The trash is empty."), "{trash}");
    let (status, back) = member.get(&format!("{API}/contacts/{id}")).await;
    assert_eq!(status, 200, "{back}");
}

#[tokio::test]
async fn a_member_neither_trashes_nor_restores_someone_elses_record() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let owner = &mut tenants[0][0].1;
    let id = contact(owner, "Grace").await;
    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let (_, page) = get(&app, &web, &format!("/t/acme/contacts/{id}")).await;
    assert!(!page.contains("Move to trash"), "not offered: {page}");
    let csrf = csrf_of(&page);
    let refused = post(
        &app,
        &web,
        &format!("/t/acme/contacts/{id}/trash"),
        &[("csrf", &csrf), ("version", &version_of(&page))],
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("not_your_record"));
    let (status, _) = owner.get(&format!("{API}/contacts/{id}")).await;
    assert_eq!(status, 200, "still there");

    let (status, _, _) = owner
        .send_with(
            Method::DELETE,
            &format!("{API}/contacts/{id}"),
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, 204);
    let (_, trash) = get(&app, &web, "/t/acme/trash").await;
    assert!(!trash.contains("Grace"), "not offered: {trash}");
    let refused = post(
        &app,
        &web,
        "/t/acme/trash/restore",
        &[("csrf", &csrf), ("kind", "contact"), ("id", &id)],
    )
    .await;
    assert_eq!(refused.status(), 403);
    let (status, _) = owner.get(&format!("{API}/contacts/{id}")).await;
    assert_eq!(status, 404, "still in the trash");
}

#[tokio::test]
async fn emptying_the_trash_needs_its_word_typed() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let admin = &mut tenants[0][1].1;
    let id = contact(admin, "Linus").await;
    let (status, _, _) = admin
        .send_with(
            Method::DELETE,
            &format!("{API}/contacts/{id}"),
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, 204);
    let web = client();
    sign_in_at(&app, &web, "acme", "admin@acme.test").await;
    let (_, trash) = get(&app, &web, "/t/acme/trash").await;
    assert!(trash.contains("Empty the trash"), "{trash}");
    let csrf = csrf_of(&trash);
    let trashed = |body: &Value| body["records"].as_array().unwrap().len();

    let wrong = post(
        &app,
        &web,
        "/t/acme/trash/empty",
        &[("csrf", &csrf), ("confirm", "yes")],
    )
    .await;
    assert_eq!(wrong.status(), 422);
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains("id=\"confirm-error\"") && html.contains("aria-invalid=\"true\""),
        "{html}"
    );
    let (_, body) = admin.get(&format!("{API}/trash")).await;
    assert_eq!(trashed(&body), 1, "nothing purged: {body}");

    let emptied = post(
        &app,
        &web,
        "/t/acme/trash/empty",
        &[("csrf", &csrf), ("confirm", "empty")],
    )
    .await;
    assert_eq!(location(&emptied), "/t/acme/trash");
    let (_, body) = admin.get(&format!("{API}/trash")).await;
    assert_eq!(trashed(&body), 0, "{body}");

    // A member may not empty it, word or not.
    let member = client();
    sign_in_at(&app, &member, "acme", "member@acme.test").await;
    let (_, page) = get(&app, &member, "/t/acme/trash").await;
    let refused = post(
        &app,
        &member,
        "/t/acme/trash/empty",
        &[("csrf", &csrf_of(&page)), ("confirm", "empty")],
    )
    .await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn a_stale_move_to_the_trash_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let member = &mut tenants[0][2].1;
    let id = contact(member, "Ada").await;
    let web = client();
    sign_in_at(&app, &web, "acme", "member@acme.test").await;
    let (_, page) = get(&app, &web, &format!("/t/acme/contacts/{id}")).await;
    let (csrf, version) = (csrf_of(&page), version_of(&page));

    let etag = format!("\"{version}\"");
    let (status, _, _) = member
        .send_with(
            Method::PATCH,
            &format!("{API}/contacts/{id}"),
            Some(json!({ "title": "Countess" })),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(status, 200);
    let stale = post(
        &app,
        &web,
        &format!("/t/acme/contacts/{id}/trash"),
        &[("csrf", &csrf), ("version", &version)],
    )
    .await;
    assert_eq!(stale.status(), 412);
    let html = stale.text().await.unwrap();
    assert!(html.contains("was not moved to the trash"), "{html}");
    assert!(html.contains("Countess"), "shown as it is now");
    let (status, body) = member.get(&format!("{API}/contacts/{id}")).await;
    assert_eq!(status, 200, "not in the trash: {body}");
    assert_eq!(body["contact"]["title"], "Countess");
}

/// Read-only (the license past its grace): the pages show what is there, offer no change,
/// and the gate refuses the forms anyway.
#[tokio::test]
async fn read_only_pages_offer_no_changes_and_refuse_them() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants_with(&app, &["acme"], |p| {
        p.expires_at = Some(p.issued_at + 10 * 86_400);
        p.grace_days = 5;
    })
    .await;
    let admin = &mut tenants[0][1].1;
    let id = contact(admin, "Ada").await;
    let (_, task) = admin
        .post(
            &format!("{API}/activities"),
            json!({ "kind": "task", "subject": "Call Ada" }),
        )
        .await;
    let task = task["activity"]["id"].as_str().unwrap().to_owned();
    let web = client();
    sign_in_at(&app, &web, "acme", "admin@acme.test").await;
    past_grace(&app).await;

    let (_, page) = get(&app, &web, &format!("/t/acme/contacts/{id}")).await;
    assert!(
        !page.contains("Move to trash") && !page.contains("/activities\""),
        "{page}"
    );
    let (_, tasks) = get(&app, &web, "/t/acme/tasks").await;
    assert!(
        tasks.contains("Call Ada") && !tasks.contains("/done"),
        "{tasks}"
    );
    let (status, trash) = get(&app, &web, "/t/acme/trash").await;
    assert_eq!(status, 200);
    assert!(!trash.contains("Empty the trash"), "{trash}");
    let csrf = csrf_of(&page);
    for (path, form) in [
        (
            format!("/t/acme/contacts/{id}/trash"),
            vec![("version", "1")],
        ),
        (
            format!("/t/acme/contacts/{id}/activities"),
            vec![("type", "note"), ("subject", "Hi")],
        ),
        (format!("/t/acme/tasks/{task}/done"), vec![("version", "1")]),
        ("/t/acme/tasks".to_owned(), vec![("subject", "More")]),
        (
            "/t/acme/trash/restore".to_owned(),
            vec![("kind", "contact"), ("id", id.as_str())],
        ),
        ("/t/acme/trash/empty".to_owned(), vec![("confirm", "empty")]),
    ] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(form);
        let refused = post(&app, &web, &path, &fields).await;
        assert_eq!(refused.status(), 403, "{path}");
        assert!(
            refused.text().await.unwrap().contains("read_only"),
            "{path}"
        );
    }
    let (status, _) = admin.get(&format!("{API}/contacts/{id}")).await;
    assert_eq!(status, 200, "still there");
}
