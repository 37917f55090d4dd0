//! List pages asked for again are answered from memory until the tenant's database changes:
//! a kept answer must never outlive a change — by the API, or by another process writing the
//! file — and never reach a caller it was not read for, or the same caller after their role
//! changed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, TestApp, licensed_tenants, sign_in_as};

const BASE: &str = "/t/acme/api/v1";

fn names(page: &Value) -> Vec<String> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["first_name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Lists contacts twice (the second may come from memory) and answers the names.
async fn contacts_twice(browser: &mut Browser<'_>) -> Vec<String> {
    let path = format!("{BASE}/contacts?sort=first_name");
    let (status, first) = browser.get(&path).await;
    assert_eq!(status, 200, "{first}");
    let (_, second) = browser.get(&path).await;
    assert_eq!(first, second, "the same answer, kept or not");
    names(&second)
}

#[tokio::test]
async fn a_kept_list_never_outlives_a_change_by_the_api_or_another_process() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let (status, body) = owner
        .post(&format!("{BASE}/contacts"), json!({ "first_name": "Ada" }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(contacts_twice(owner).await, ["Ada"]);
    assert!(app.answers().held() >= 1, "the answer is kept");

    let (status, body) = owner
        .post(&format!("{BASE}/contacts"), json!({ "first_name": "Bea" }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        contacts_twice(owner).await,
        ["Ada", "Bea"],
        "the API's write"
    );

    // Another process (the CLI, a script) writes the file while the server runs.
    let slug_id: String = rusqlite::Connection::open(app.data_dir().join("holdfast.db"))
        .unwrap()
        .query_row("SELECT id FROM tenants WHERE slug = 'acme'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let file = app.tenant_dbs().path(&slug_id.parse().unwrap());
    rusqlite::Connection::open(file)
        .unwrap()
        .execute(
            "UPDATE contacts SET first_name = 'Cleo', version = version + 1 WHERE first_name = 'Bea'",
            [],
        )
        .unwrap();
    assert_eq!(
        contacts_twice(owner).await,
        ["Ada", "Cleo"],
        "another process's write"
    );
}

#[tokio::test]
async fn a_kept_list_reaches_only_the_caller_it_was_read_for_in_their_role_now() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let (owner, rest) = people.split_first_mut().unwrap();
    let owner = &mut owner.1;
    let member = &mut rest[1].1;
    let rule = "own_and_team";
    let (status, _, body) = owner
        .send(
            Method::PUT,
            &format!("{BASE}/visibility"),
            Some(json!({ "contact": rule, "company": rule, "deal": rule, "activity": rule })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = member
        .post(&format!("{BASE}/contacts"), json!({ "first_name": "Mine" }))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = owner
        .post(
            &format!("{BASE}/users"),
            json!({ "email": "rival@acme.test", "role": "member", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let rival_id = body["user"]["id"].as_str().unwrap().to_owned();
    let mut rival = sign_in_as(&app, "acme", "rival@acme.test").await;

    // Callers of the same role, one after the other, nothing written in between.
    assert_eq!(contacts_twice(member).await, ["Mine"], "its owner sees it");
    assert!(
        contacts_twice(&mut rival).await.is_empty(),
        "a member of no team sees none of another's contacts"
    );
    assert_eq!(contacts_twice(owner).await, ["Mine"], "admins see all");

    // Promoted: the role lives in the control database (the change is also audited in the
    // tenant's, so either would do).
    let (status, _, body) = owner
        .send(
            Method::PATCH,
            &format!("{BASE}/users/{rival_id}"),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(contacts_twice(&mut rival).await, ["Mine"], "now an admin");
    assert_eq!(contacts_twice(member).await, ["Mine"]);
}
