//! Records through the API: create, read with an ETag, change with If-Match, the timeline of
//! each change, bad input refused with the field named and nothing changed, the trash.

use holdfast::identity::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn create(browser: &mut Browser<'_>, kind: &str, body: Value) -> Value {
    create_in(browser, BASE, kind, body).await
}

async fn create_in(browser: &mut Browser<'_>, base: &str, kind: &str, body: Value) -> Value {
    let plural = match kind {
        "company" => "companies".to_owned(),
        "activity" => "activities".to_owned(),
        other => format!("{other}s"),
    };
    let (status, body) = browser.post(&format!("{base}/{plural}"), body).await;
    assert_eq!(status, 201, "{kind}: {body}");
    body[kind].clone()
}

async fn patch(
    browser: &mut Browser<'_>,
    path: &str,
    etag: Option<&str>,
    body: Value,
) -> (u16, Value, Option<String>) {
    let headers: Vec<(&str, &str)> = etag.map(|e| ("if-match", e)).into_iter().collect();
    let (status, headers, body) = browser
        .send_with(
            Method::PATCH,
            &format!("{BASE}{path}"),
            Some(body),
            &headers,
        )
        .await;
    let etag = headers.get("etag").map(|v| v.to_str().unwrap().to_owned());
    (status, body, etag)
}

#[tokio::test]
async fn a_change_needs_the_current_etag_and_lands_in_the_timeline() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let member = &mut people[2].1;
    let company = create(member, "company", json!({ "name": "Initech" })).await;
    let contact = create(
        member,
        "contact",
        json!({
            "first_name": "Ada", "last_name": "Lovelace", "emails": ["Ada@Initech.example"],
            "company_id": company["id"], "tags": ["vip", "VIP", "board"],
        }),
    )
    .await;
    assert_eq!(contact["emails"], json!(["ada@initech.example"]));
    assert_eq!(
        contact["tags"],
        json!(["board", "vip"]),
        "without repeats, by name"
    );
    assert_eq!(contact["lifecycle_stage"], "lead");
    assert_eq!(contact["version"], 1);
    let path = format!("/contacts/{}", contact["id"].as_str().unwrap());

    let (status, headers, _) = member
        .send(Method::GET, &format!("{BASE}{path}"), None)
        .await;
    assert_eq!((status, headers["etag"].to_str().unwrap()), (200, "\"1\""));

    let (status, body, _) = patch(member, &path, None, json!({ "title": "Countess" })).await;
    assert_eq!((status, code(&body)), (428, "if_match_required"));
    let (status, body, etag) = patch(
        member,
        &path,
        Some("\"1\""),
        json!({ "title": "Countess", "tags": ["vip"] }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["contact"]["version"].as_i64(), etag.as_deref()),
        (Some(2), Some("\"2\""))
    );

    // Someone who read version 1 cannot overwrite version 2.
    let (status, body, _) =
        patch(member, &path, Some("\"1\""), json!({ "title": "Engineer" })).await;
    assert_eq!((status, code(&body)), (412, "version_mismatch"), "{body}");
    let (_, now) = member.get(&format!("{BASE}{path}")).await;
    assert_eq!(
        now["contact"]["title"], "Countess",
        "the stale write changed nothing"
    );

    // Writing what is there already is no change.
    let (status, body, _) =
        patch(member, &path, Some("\"2\""), json!({ "title": "Countess" })).await;
    assert_eq!(
        (status, body["contact"]["version"].as_i64()),
        (200, Some(2))
    );

    let (status, timeline) = member.get(&format!("{BASE}{path}/timeline")).await;
    assert_eq!(status, 200, "{timeline}");
    let entries = timeline["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{timeline}");
    assert_eq!(entries[0]["event"], "updated", "newest first");
    assert_eq!(entries[0]["detail"]["title"], json!([null, "Countess"]));
    assert_eq!(
        entries[0]["detail"]["tags"],
        json!([["board", "vip"], ["vip"]])
    );
    assert!(entries[0]["actor"].as_str().unwrap().starts_with("user:"));
    assert_eq!(entries[1]["event"], "created");
}

#[tokio::test]
async fn two_people_saving_one_record_at_once_never_overwrite_each_other() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let deal = create(&mut people[0].1, "deal", json!({ "title": "Renewal" })).await;
    let path = format!("{BASE}/deals/{}", deal["id"].as_str().unwrap());
    let (mut first, mut second) = {
        let mut it = people.into_iter().skip(1).map(|(_, b)| b);
        (it.next().unwrap(), it.next().unwrap())
    };
    let (a, b) = tokio::join!(
        first.send_with(
            Method::PATCH,
            &path,
            Some(json!({ "amount": 100 })),
            &[("if-match", "\"1\"")]
        ),
        second.send_with(
            Method::PATCH,
            &path,
            Some(json!({ "amount": 200 })),
            &[("if-match", "\"1\"")]
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 412],
        "one wins, the other is told: {} / {}",
        a.2,
        b.2
    );
    let winner = if a.0 == 200 { 100 } else { 200 };
    let (_, now) = first.get(&path).await;
    assert_eq!(
        (
            now["deal"]["amount"].as_i64(),
            now["deal"]["version"].as_i64()
        ),
        (Some(winner), Some(2))
    );
}

/// Writes that break a rule, each with the field its refusal must name.
fn bad_inputs(
    support: &str,
    sales_stage: &str,
    stranger: &Value,
) -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "/contacts",
            json!({ "first_name": "A", "nickname": "x" }),
            "nickname",
        ),
        ("/contacts", json!({ "first_name": 7 }), "first_name"),
        (
            "/contacts",
            json!({ "first_name": "A", "emails": ["not an address"] }),
            "emails",
        ),
        (
            "/contacts",
            json!({ "first_name": "A", "lifecycle_stage": "prospect" }),
            "lifecycle_stage",
        ),
        (
            "/contacts",
            json!({ "first_name": "A", "custom": { "tier": "platinum" } }),
            "custom.tier",
        ),
        (
            "/contacts",
            json!({ "first_name": "A", "custom": { "unknown": 1 } }),
            "custom.unknown",
        ),
        (
            "/contacts",
            json!({ "first_name": "A", "version": 9 }),
            "version",
        ),
        (
            "/contacts",
            json!({ "first_name": "A", "owner_id": "0".repeat(32) }),
            "owner_id",
        ),
        (
            "/contacts",
            json!({ "first_name": "A\u{202E}B" }),
            "first_name",
        ),
        ("/contacts", json!({}), "a contact needs"),
        (
            "/companies",
            json!({ "name": "X", "website": "javascript:alert(1)" }),
            "website",
        ),
        (
            "/deals",
            json!({ "title": "X", "currency": "usd" }),
            "currency",
        ),
        ("/deals", json!({ "title": "X", "amount": 1.5 }), "amount"),
        (
            "/deals",
            json!({ "title": "X", "pipeline_id": support, "stage_id": sales_stage }),
            "stage_id",
        ),
        ("/deals", json!({ "title": "X", "status": "won" }), "status"),
        (
            "/deals",
            json!({ "title": "X", "contact_ids": [stranger["id"]] }),
            "contact_ids",
        ),
        (
            "/activities",
            json!({ "kind": "call", "subject": "X", "links": [{ "kind": "contact", "id": stranger["id"] }] }),
            "links",
        ),
        (
            "/activities",
            json!({ "kind": "lunch", "subject": "X" }),
            "kind",
        ),
    ]
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme", "beta"]).await;
    let mut beta = tenants.pop().unwrap();
    let mut acme = tenants.pop().unwrap();
    let stranger = create_in(
        &mut beta[0].1,
        "/t/beta/api/v1",
        "contact",
        json!({ "first_name": "Eve" }),
    )
    .await;
    let owner = &mut acme[0].1;
    let (_, pipelines) = owner.get(&format!("{BASE}/pipelines")).await;
    let sales_stage = pipelines["pipelines"][0]["stages"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = owner
        .post(
            &format!("{BASE}/pipelines"),
            json!({ "name": "Support", "stages": [{ "name": "New" }] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let support = body["pipeline"]["id"].as_str().unwrap().to_owned();
    let (status, body) = owner
        .post(
            &format!("{BASE}/fields"),
            json!({ "record_kind": "contact", "key": "tier", "label": "Tier", "kind": "select", "choices": ["gold"] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let cases = bad_inputs(&support, &sales_stage, &stranger);
    for (path, body, field) in cases {
        let (status, answer) = owner.post(&format!("{BASE}{path}"), body.clone()).await;
        assert_eq!(
            (status, code(&answer)),
            (422, "invalid_input"),
            "{path} {body}: {answer}"
        );
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {answer}"
        );
    }
    for list in ["contacts", "companies", "deals", "activities"] {
        let (_, body) = owner.get(&format!("{BASE}/{list}")).await;
        assert_eq!(body["records"], json!([]), "nothing was made: {list}");
    }
    let (_, tags) = owner.get(&format!("{BASE}/tags")).await;
    assert_eq!(tags["tags"], json!([]));

    // Another tenant's record, by its real id, is not here.
    let (status, body) = owner
        .get(&format!(
            "{BASE}/contacts/{}",
            stranger["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    let (status, body) = owner.get(&format!("{BASE}/contacts/..%2F..%2Fetc")).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn members_trash_their_own_records_admins_any_and_both_restore() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let theirs = create(&mut people[2].1, "company", json!({ "name": "Mine" })).await;
    let others = create(&mut people[0].1, "company", json!({ "name": "Owner's" })).await;
    let path = |c: &Value| format!("{BASE}/companies/{}", c["id"].as_str().unwrap());
    let member = &mut people[2].1;
    let (status, _, body) = member.send(Method::DELETE, &path(&others), None).await;
    assert_eq!((status, code(&body)), (403, "not_your_record"));
    let (status, _, body) = member.send(Method::DELETE, &path(&theirs), None).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = member.get(&path(&theirs)).await;
    assert_eq!(status, 404, "in the trash, not in the CRM");
    let (_, list) = member.get(&format!("{BASE}/companies")).await;
    assert_eq!(list["records"].as_array().unwrap().len(), 1);
    let (status, body) = member
        .post(&format!("{}/restore", path(&theirs)), json!({}))
        .await;
    assert_eq!(
        (status, body["company"]["name"].as_str()),
        (200, Some("Mine")),
        "{body}"
    );

    let admin = &mut people[1].1;
    let (status, _, body) = admin.send(Method::DELETE, &path(&others), None).await;
    assert_eq!(status, 204, "{body}");
    let (status, _, body) = admin.send(Method::DELETE, &path(&others), None).await;
    assert_eq!(status, 204, "deleting again is done already: {body}");
    let (status, timeline) = admin.get(&format!("{}/timeline", path(&others))).await;
    assert_eq!(
        (status, timeline["entries"][0]["event"].as_str()),
        (200, Some("deleted"))
    );
    assert_eq!(people[3].0, Role::Viewer);
}
