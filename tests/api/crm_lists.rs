//! Lists, filters, sorting, cursors and search over the CRM, through the API.

use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// `GET /contacts` with these filters, sort, limit and cursor.
async fn page(
    browser: &mut Browser<'_>,
    filters: &Value,
    sort: &str,
    limit: u32,
    cursor: Option<&str>,
) -> (u16, Value) {
    let mut query = format!(
        "filters={}&sort={sort}&limit={limit}",
        urlencode(&filters.to_string())
    );
    if let Some(cursor) = cursor {
        query = format!("{query}&cursor={cursor}");
    }
    browser.get(&format!("{BASE}/contacts?{query}")).await
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn names(body: &Value) -> Vec<String> {
    body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["last_name"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page of a list, following cursors; adds a record between pages.
async fn walk(browser: &mut Browser<'_>, filters: &Value, sort: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (status, body) = page(browser, filters, sort, 7, cursor.as_deref()).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(names(&body));
        // Someone adds a contact while the list is read: the pages stay stable.
        let (status, _) = browser
            .post(
                &format!("{BASE}/contacts"),
                json!({ "last_name": format!("Late {}", seen.len()) }),
            )
            .await;
        assert_eq!(status, 201);
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

/// A number custom field `score`, and 24 contacts: `Name 00`…`Name 23` in a shuffled order,
/// every third a customer, every fourth tagged `vip`, every sixth a chief executive.
async fn seed(owner: &mut Browser<'_>) {
    let (status, body) = owner
        .post(
            &format!("{BASE}/fields"),
            json!({ "record_kind": "contact", "key": "score", "label": "Score", "kind": "number" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let stages = ["lead", "qualified", "customer"];
    for i in 0..24 {
        let mut contact = json!({
            "first_name": format!("P{i}"),
            "last_name": format!("Name {:02}", (i * 7) % 24),
            "lifecycle_stage": stages[i % 3],
            "custom": { "score": (i % 5) * 10 },
            "tags": if i % 4 == 0 { json!(["vip"]) } else { json!([]) },
        });
        if i % 6 == 0 {
            contact["title"] = json!("Chief Executive");
        }
        let (status, body) = owner.post(&format!("{BASE}/contacts"), contact).await;
        assert_eq!(status, 201, "{body}");
    }
}

#[tokio::test]
async fn lists_filter_sort_and_page_stably_on_any_field() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    seed(owner).await;
    let customers = json!([{ "field": "lifecycle_stage", "op": "eq", "value": "customer" }]);
    let seen = walk(owner, &customers, "last_name").await;
    let mut expected: Vec<String> = (0..24)
        .filter(|i| i % 3 == 2)
        .map(|i| format!("Name {:02}", (i * 7) % 24))
        .collect();
    expected.sort();
    assert_eq!(
        seen, expected,
        "every customer once, in order, none added meanwhile"
    );

    let by_score = walk(
        owner,
        &json!([{ "field": "custom.score", "op": "range", "value": { "from": 20, "to": 30 } }]),
        "-custom.score",
    )
    .await;
    assert_eq!(by_score.len(), 10, "{by_score:?}");

    for (filters, count) in [
        (
            json!([{ "field": "lifecycle_stage", "op": "in", "value": ["lead", "qualified"] }]),
            16,
        ),
        (json!([{ "field": "tags", "op": "eq", "value": "vip" }]), 6),
        (json!([{ "field": "tags", "op": "empty" }]), 24 - 6),
        (
            json!([{ "field": "title", "op": "contains", "value": "exec" }]),
            4,
        ),
        (json!([{ "field": "title", "op": "empty" }]), 20),
        (
            json!([{ "field": "owner_id", "op": "eq", "value": "me" }, { "field": "first_name", "op": "eq", "value": "P3" }]),
            1,
        ),
        (
            json!([{ "field": "title", "op": "contains", "value": "100%_" }]),
            0,
        ),
    ] {
        // Only the 24 made above, not those added while paging.
        let mut filters = filters;
        filters
            .as_array_mut()
            .unwrap()
            .push(json!({ "field": "first_name", "op": "not_empty" }));
        let (status, body) = page(owner, &filters, "last_name", 100, None).await;
        assert_eq!(status, 200, "{filters}: {body}");
        assert_eq!(
            body["records"].as_array().unwrap().len(),
            count,
            "{filters}"
        );
    }

    // A cursor belongs to its list, unaltered.
    let (_, first) = page(owner, &customers, "last_name", 2, None).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (status, body) = page(owner, &customers, "-last_name", 2, Some(&cursor)).await;
    assert_eq!(
        (status, code(&body)),
        (400, "invalid_cursor"),
        "another sort"
    );
    let mut forged = cursor.clone().into_bytes();
    forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let (status, body) = page(owner, &customers, "last_name", 2, Some(&forged)).await;
    assert_eq!((status, code(&body)), (400, "invalid_cursor"), "{body}");
}

#[tokio::test]
async fn filters_and_sorts_name_only_fields_and_operators_that_exist() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    for (filters, sort) in [
        (
            json!([{ "field": "password", "op": "eq", "value": "x" }]),
            "last_name",
        ),
        (
            json!([{ "field": "last_name", "op": "like", "value": "x" }]),
            "last_name",
        ),
        (json!([]), "custom.nothing"),
        (json!([]), "last_name; DROP TABLE contacts"),
        (json!({ "field": "x" }), "last_name"),
    ] {
        let (status, body) = page(owner, &filters, sort, 5, None).await;
        assert_eq!(
            (status, code(&body)),
            (422, "invalid_input"),
            "{filters} {sort}: {body}"
        );
    }
}

/// A record's activities: the list of activities filtered by a link to it, and nothing else.
#[tokio::test]
async fn activities_are_listed_by_the_record_they_are_linked_to() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let mut contacts = Vec::new();
    for name in ["Ada", "Grace"] {
        let (_, made) = owner
            .post(&format!("{BASE}/contacts"), json!({ "first_name": name }))
            .await;
        contacts.push(made["contact"]["id"].as_str().unwrap().to_owned());
    }
    for (subject, contact) in [("Call Ada", 0), ("Meet Grace", 1), ("Write Ada", 0)] {
        let (status, made) = owner
            .post(
                &format!("{BASE}/activities"),
                json!({ "kind": "note", "subject": subject,
                        "links": [{ "kind": "contact", "id": contacts[contact] }] }),
            )
            .await;
        assert_eq!(status, 201, "{made}");
    }
    let linked = |id: &str| json!([{ "field": "links", "op": "eq", "value": { "kind": "contact", "id": id } }]);
    let (status, body) = owner
        .get(&format!(
            "{BASE}/activities?filters={}",
            urlencode(&linked(&contacts[0]).to_string())
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let subjects: Vec<&str> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["Write Ada", "Call Ada"]);
    for wrong in [
        json!([{ "field": "links", "op": "eq", "value": contacts[0] }]),
        json!([{ "field": "links", "op": "eq", "value": { "kind": "activity", "id": "x" } }]),
        json!([{ "field": "links", "op": "in", "value": { "kind": "contact", "id": "x" } }]),
    ] {
        let (status, body) = owner
            .get(&format!(
                "{BASE}/activities?filters={}",
                urlencode(&wrong.to_string())
            ))
            .await;
        assert_eq!((status, code(&body)), (422, "invalid_input"), "{wrong}");
    }
}

#[tokio::test]
async fn search_finds_prefixes_across_kinds_and_follows_every_change() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let (_, company) = owner
        .post(
            &format!("{BASE}/companies"),
            json!({ "name": "Lovelace Analytical Engines" }),
        )
        .await;
    let (_, contact) = owner
        .post(
            &format!("{BASE}/contacts"),
            json!({ "first_name": "Ada", "last_name": "Lovelace" }),
        )
        .await;
    owner
        .post(
            &format!("{BASE}/deals"),
            json!({ "title": "Engine for Lovelace" }),
        )
        .await;
    owner
        .post(
            &format!("{BASE}/activities"),
            json!({ "kind": "note", "subject": "Met", "body": "Ada loved the engine" }),
        )
        .await;

    let (status, found) = owner.get(&format!("{BASE}/search?q=lov")).await;
    assert_eq!(status, 200, "{found}");
    for (group, count) in [
        ("contacts", 1),
        ("companies", 1),
        ("deals", 1),
        ("activities", 1),
    ] {
        assert_eq!(
            found[group].as_array().unwrap().len(),
            count,
            "{group}: {found}"
        );
    }
    assert_eq!(found["contacts"][0]["title"], "Ada Lovelace");
    let marked: Vec<&str> = found["contacts"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["match"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["Lovelace"], "{found}");

    let (_, both) = owner.get(&format!("{BASE}/search?q=ada%20lov")).await;
    assert_eq!(both["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(
        both["companies"].as_array().unwrap().len(),
        0,
        "every word must match"
    );

    // Renamed: found by the new name at once, not by the old.
    let path = format!(
        "{BASE}/contacts/{}",
        contact["contact"]["id"].as_str().unwrap()
    );
    let (status, _, _) = owner
        .send_with(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "last_name": "Byron" })),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(status, 200);
    let (_, found) = owner.get(&format!("{BASE}/search?q=byr")).await;
    assert_eq!(found["contacts"].as_array().unwrap().len(), 1);
    let (_, found) = owner.get(&format!("{BASE}/search?q=lovelace")).await;
    assert_eq!(found["contacts"].as_array().unwrap().len(), 0);

    // In the trash: not found.
    let company_path = format!(
        "{BASE}/companies/{}",
        company["company"]["id"].as_str().unwrap()
    );
    let (status, _, _) = owner
        .send(reqwest::Method::DELETE, &company_path, None)
        .await;
    assert_eq!(status, 204);
    let (_, found) = owner.get(&format!("{BASE}/search?q=analytical")).await;
    assert_eq!(found["companies"].as_array().unwrap().len(), 0);

    for q in ["%22", "OR", "title%3Ax", "*", "NEAR(a%20b)"] {
        let (status, body) = owner.get(&format!("{BASE}/search?q={q}")).await;
        assert!(matches!(status, 200 | 422), "{q}: {status} {body}");
    }
}

/// A name's beginning, in any case, through `starts_with`; names sort as people read them.
#[tokio::test]
async fn names_are_found_by_their_beginning_in_any_case_and_sorted_ignoring_case() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme"]).await;
    let owner = &mut tenants[0][0].1;
    for last in ["de Vries", "Devlin", "Dewar", "Adams", "DEVON"] {
        let (status, _) = owner
            .post(
                &format!("{BASE}/contacts"),
                serde_json::json!({ "last_name": last }),
            )
            .await;
        assert_eq!(status, 201);
    }
    let filters =
        serde_json::json!([{ "field": "last_name", "op": "starts_with", "value": "dev" }]);
    let (status, body) = owner
        .get(&format!(
            "{BASE}/contacts?sort=last_name&filters={}",
            urlencode(&filters.to_string())
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Devlin", "DEVON"]);
    let (_, body) = owner.get(&format!("{BASE}/contacts?sort=last_name")).await;
    let names: Vec<&str> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Adams", "de Vries", "Devlin", "DEVON", "Dewar"]);
    let bad = serde_json::json!([{ "field": "emails", "op": "starts_with", "value": "a" }]);
    let (status, _) = owner
        .get(&format!(
            "{BASE}/contacts?filters={}",
            urlencode(&bad.to_string())
        ))
        .await;
    assert_eq!(status, 422);
}
