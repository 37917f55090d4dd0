//! Saved views, and the trash's retention and emptying.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_saved_view_lists_as_it_was_left_private_or_shared_by_admins() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let member = &mut people[2].1;
    for (title, amount) in [("Small", 100), ("Big", 90_000), ("Huge", 500_000)] {
        let (status, _) = member
            .post(
                &format!("{BASE}/deals"),
                json!({ "title": title, "amount": amount }),
            )
            .await;
        assert_eq!(status, 201);
    }
    let filters = json!([{ "field": "amount", "op": "range", "value": { "from": 50_000 } }]);
    let (status, body) = member
        .post(&format!("{BASE}/views"), json!({ "record_kind": "deal", "name": "Big ones", "filters": filters, "sort": "-amount", "columns": ["title", "amount"] }))
        .await;
    assert_eq!(status, 201, "{body}");
    let view = body["view"]["id"].as_str().unwrap().to_owned();
    let (_, listed) = member.get(&format!("{BASE}/deals?view={view}")).await;
    let titles: Vec<&str> = listed["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Huge", "Big"]);
    let (status, body) = member.get(&format!("{BASE}/contacts?view={view}")).await;
    assert_eq!(
        (status, code(&body)),
        (422, "invalid_input"),
        "a deal view on contacts"
    );

    // Private: another person neither sees nor uses it.
    let viewer = &mut people[3].1;
    let (_, theirs) = viewer.get(&format!("{BASE}/views")).await;
    assert_eq!(theirs["views"], json!([]));
    let (status, _) = viewer.get(&format!("{BASE}/deals?view={view}")).await;
    assert_eq!(status, 404);

    // Only admins share, and bad filters are refused when saved, not when used.
    let member = &mut people[2].1;
    let (status, body) = member
        .post(
            &format!("{BASE}/views"),
            json!({ "record_kind": "deal", "name": "All", "shared": true }),
        )
        .await;
    assert_eq!((status, code(&body)), (422, "invalid_input"), "{body}");
    let (status, body) = member
        .post(&format!("{BASE}/views"), json!({ "record_kind": "deal", "name": "Bad", "filters": [{ "field": "secret", "op": "eq", "value": 1 }] }))
        .await;
    assert_eq!((status, code(&body)), (422, "invalid_input"), "{body}");
    let admin = &mut people[1].1;
    let (status, body) = admin
        .post(
            &format!("{BASE}/views"),
            json!({ "record_kind": "deal", "name": "Everyone's", "shared": true }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, theirs) = people[3].1.get(&format!("{BASE}/views")).await;
    assert_eq!(theirs["views"].as_array().unwrap().len(), 1, "{theirs}");
}

#[tokio::test]
async fn the_trash_keeps_records_for_its_retention_then_they_are_gone() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let mut ids = Vec::new();
    for name in ["Old", "Recent"] {
        let (_, body) = owner
            .post(
                &format!("{BASE}/companies"),
                json!({ "name": name, "tags": ["t"] }),
            )
            .await;
        let id = body["company"]["id"].as_str().unwrap().to_owned();
        let (status, _, _) = owner
            .send(Method::DELETE, &format!("{BASE}/companies/{id}"), None)
            .await;
        assert_eq!(status, 204);
        ids.push(id);
    }
    let (status, trash) = owner.get(&format!("{BASE}/trash")).await;
    assert_eq!(
        (status, trash["records"].as_array().unwrap().len()),
        (200, 2),
        "{trash}"
    );

    // "Old" was deleted 31 days ago, past the default retention of 30.
    let file = std::fs::read_dir(app.data_dir().join("tenants"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "db"))
        .unwrap();
    let db = rusqlite::Connection::open(file).unwrap();
    db.execute(
        "UPDATE companies SET deleted_at = unixepoch() - 31 * 86400 WHERE id = ?1",
        [&ids[0]],
    )
    .unwrap();
    let owner = &mut people[0].1;
    let (status, body) = owner
        .post(&format!("{BASE}/companies/{}/restore", ids[0]), json!({}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (404, "not_found"),
        "past its time: {body}"
    );
    let (_, trash) = owner.get(&format!("{BASE}/trash")).await;
    assert_eq!(trash["records"].as_array().unwrap().len(), 1, "{trash}");
    let gone: i64 = db
        .query_row(
            "SELECT count(*) FROM companies WHERE id = ?1",
            [&ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gone, 0, "purged for good");
    let timeline: i64 = db
        .query_row(
            "SELECT count(*) FROM timeline WHERE record_id = ?1",
            [&ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(timeline, 0);

    let (status, _, body) = people[2]
        .1
        .send(Method::DELETE, &format!("{BASE}/trash"), None)
        .await;
    assert_eq!(
        (status, code(&body)),
        (403, "forbidden"),
        "members do not empty the trash"
    );
    let (status, _, body) = people[1]
        .1
        .send(Method::DELETE, &format!("{BASE}/trash"), None)
        .await;
    assert_eq!((status, body["purged"].as_i64()), (200, Some(1)), "{body}");
    let (_, trash) = people[1].1.get(&format!("{BASE}/trash")).await;
    assert_eq!(trash["records"], json!([]));
    let tags: i64 = db
        .query_row("SELECT count(*) FROM record_tags", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tags, 0, "their tags went with them");
}
