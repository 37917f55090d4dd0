//! Bulk changes: many records at once, by id or by filter, all or nothing, one audit entry.

use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";

async fn contacts(browser: &mut Browser<'_>) -> Vec<Value> {
    let (status, body) = browser
        .get(&format!("{BASE}/contacts?limit=100&sort=first_name"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["records"].as_array().unwrap().clone()
}

#[tokio::test]
async fn one_change_reaches_every_record_chosen_or_none() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let (_, me) = people[2].1.get(&format!("{BASE}/auth/me")).await;
    let member_id = me["user"]["id"].as_str().unwrap().to_owned();
    let admin = &mut people[1].1;
    let mut ids = Vec::new();
    for (name, stage) in [
        ("Ada", "lead"),
        ("Bob", "lead"),
        ("Cy", "customer"),
        ("Dee", "lead"),
    ] {
        let (status, body) = admin
            .post(
                &format!("{BASE}/contacts"),
                json!({ "first_name": name, "lifecycle_stage": stage, "tags": ["old", "keep"] }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["contact"]["id"].as_str().unwrap().to_owned());
    }
    // By filter: every lead gets the member as owner, a tag more and one less.
    let (status, body) = admin
        .post(
            &format!("{BASE}/bulk/contacts"),
            json!({
                "filters": [{ "field": "lifecycle_stage", "op": "eq", "value": "lead" }],
                "set": { "owner_id": member_id, "lifecycle_stage": "qualified" },
                "add_tags": ["Spring campaign"],
                "remove_tags": ["old"],
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "matched": 3, "changed": 3 }));
    let all = contacts(admin).await;
    for c in &all {
        let lead = c["first_name"] != "Cy";
        assert_eq!(
            c["lifecycle_stage"],
            if lead { "qualified" } else { "customer" },
            "{c}"
        );
        let tags = if lead {
            json!(["keep", "Spring campaign"])
        } else {
            json!(["keep", "old"])
        };
        assert_eq!(c["tags"], tags, "{c}");
        assert_eq!(c["owner_id"] == json!(member_id), lead, "{c}");
    }
    let (_, timeline) = admin
        .get(&format!("{BASE}/contacts/{}/timeline", ids[0]))
        .await;
    assert_eq!(timeline["entries"][0]["detail"]["bulk"], true, "{timeline}");

    // One bad value, or one id that is not there: nothing changes.
    let before = contacts(admin).await;
    for body in [
        json!({ "ids": [ids[0], ids[1]], "set": { "lifecycle_stage": "nonsense" } }),
        json!({ "ids": [ids[0], "0123456789abcdef0123456789abcdef"], "delete": true }),
        json!({ "ids": [ids[0]], "filters": [], "delete": true }),
        json!({ "ids": [ids[0]] }),
        json!({ "ids": [ids[0]], "set": { "owner_id": "0123456789abcdef0123456789abcdef" } }),
    ] {
        let (status, answer) = admin
            .post(&format!("{BASE}/bulk/contacts"), body.clone())
            .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some("invalid_input")),
            "{body}: {answer}"
        );
    }
    assert_eq!(contacts(admin).await, before);

    // By id, to the trash.
    let (status, body) = admin
        .post(
            &format!("{BASE}/bulk/contacts"),
            json!({ "ids": [ids[0], ids[1], ids[0]], "delete": true }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "matched": 2, "changed": 2 }));
    assert_eq!(contacts(admin).await.len(), 2);
    let (_, audit) = admin.get(&format!("{BASE}/audit")).await;
    let targets: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "success")
        .filter_map(|e| e["target"].as_str())
        .filter(|t| t.starts_with("bulk"))
        .collect();
    assert_eq!(
        targets,
        [
            "bulk trash of contacts: 2 chosen, 2 changed",
            "bulk change of contacts: 3 chosen, 3 changed"
        ]
    );
}

#[tokio::test]
async fn a_write_that_waited_out_a_long_change_is_told_to_try_again() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let db = std::fs::read_dir(app.data_dir().join("tenants"))
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "db"))
        .unwrap()
        .path();
    // Another connection holds the write lock longer than a writer waits (a large change).
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, headers, body) = people[1]
        .1
        .send(
            reqwest::Method::POST,
            &format!("{BASE}/contacts"),
            Some(json!({ "first_name": "Ada" })),
        )
        .await;
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("not_ready")),
        "{body}"
    );
    assert_eq!(headers["retry-after"], "2");
}

/// A change of fields alone goes to all the records at once; it must make what changing
/// each one in turn makes: a version more and one timeline entry with just the fields that
/// changed for each record that changes, nothing for a record that holds the values.
#[tokio::test]
async fn a_change_of_fields_to_many_records_is_what_changing_each_would_be() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let (_, me) = people[2].1.get(&format!("{BASE}/auth/me")).await;
    let member = me["user"]["id"].as_str().unwrap().to_owned();
    let admin = &mut people[1].1;
    let mut ids = Vec::new();
    for (name, stage, owner) in [
        ("Ada", "lead", None),
        ("Bob", "lead", Some(&member)),
        ("Cy", "qualified", Some(&member)),
    ] {
        let (status, body) = admin
            .post(
                &format!("{BASE}/contacts"),
                json!({ "first_name": name, "lifecycle_stage": stage, "owner_id": owner }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["contact"]["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = admin
        .post(
            &format!("{BASE}/bulk/contacts"),
            json!({ "ids": ids, "set": { "owner_id": member, "lifecycle_stage": "qualified" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "matched": 3, "changed": 2 }));
    let expected = [
        (
            2,
            Some(
                json!({ "owner_id": [null, member], "lifecycle_stage": ["lead", "qualified"], "bulk": true }),
            ),
        ),
        (
            2,
            Some(json!({ "lifecycle_stage": ["lead", "qualified"], "bulk": true })),
        ),
        (1, None),
    ];
    for (id, (version, detail)) in ids.iter().zip(expected) {
        let (_, record) = admin.get(&format!("{BASE}/contacts/{id}")).await;
        assert_eq!(record["contact"]["version"], version, "{record}");
        assert_eq!(record["contact"]["owner_id"], json!(member), "{record}");
        assert_eq!(
            record["contact"]["lifecycle_stage"], "qualified",
            "{record}"
        );
        let (_, timeline) = admin.get(&format!("{BASE}/contacts/{id}/timeline")).await;
        let newest = &timeline["entries"][0];
        match detail {
            Some(detail) => {
                assert_eq!(newest["event"], "updated", "{timeline}");
                assert_eq!(newest["detail"], detail, "{timeline}");
                assert_eq!(timeline["entries"].as_array().unwrap().len(), 2);
            }
            None => assert_eq!(newest["event"], "created", "{timeline}"),
        }
    }
}
