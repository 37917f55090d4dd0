//! Duplicates found on demand, and merged: the survivor keeps everything of the others, which
//! go to the trash and come back whole.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";

async fn make(browser: &mut Browser<'_>, kind: &str, body: Value) -> String {
    let (status, answer) = browser.post(&format!("{BASE}/{kind}"), body).await;
    assert_eq!(status, 201, "{answer}");
    let member = match kind {
        "companies" => "company",
        "activities" => "activity",
        _ => kind.trim_end_matches('s'),
    };
    answer[member]["id"].as_str().unwrap().to_owned()
}

async fn read(browser: &mut Browser<'_>, path: &str) -> Value {
    let (status, body) = browser.get(&format!("{BASE}{path}")).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn holds(list: &Value, item: &Value) -> bool {
    list.as_array().is_some_and(|all| all.contains(item))
}

/// The ids of each group, by reason and key.
fn groups(answer: &Value) -> Vec<(String, String, Vec<String>)> {
    answer["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["reason"].as_str().unwrap().to_owned(),
                g["key"].as_str().unwrap().to_owned(),
                g["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

/// Contacts of whom two pairs are alike: José Núñez twice (one address shared), Ann twice (the
/// same name, no company); and a Jose Nunez at no company, who is somebody else.
struct Alike {
    jose: String,
    twin: String,
    ann: String,
    other_ann: String,
}

async fn alike(admin: &mut Browser<'_>) -> Alike {
    let company = make(admin, "companies", json!({ "name": "Initech" })).await;
    let jose = make(
        admin,
        "contacts",
        json!({ "first_name": "José", "last_name": "Núñez", "emails": ["jose@initech.example"],
                "company_id": company, "tags": ["vip"], "custom": {} }),
    )
    .await;
    let twin = make(
        admin,
        "contacts",
        json!({ "first_name": "jose", "last_name": "NUNEZ", "emails": ["j.nunez@home.example", "jose@initech.example"],
                "phones": ["+1 555 0100"], "title": "CTO", "company_id": company, "tags": ["newsletter"] }),
    )
    .await;
    let ann = make(
        admin,
        "contacts",
        json!({ "first_name": "Ann", "emails": ["ann@example.org"] }),
    )
    .await;
    let other_ann = make(
        admin,
        "contacts",
        json!({ "first_name": "Ann", "emails": ["ann@elsewhere.example"] }),
    )
    .await;
    // Someone of the same name at another company is somebody else.
    make(
        admin,
        "contacts",
        json!({ "first_name": "Jose", "last_name": "Nunez" }),
    )
    .await;

    Alike {
        jose,
        twin,
        ann,
        other_ann,
    }
}

#[tokio::test]
async fn contacts_alike_are_found_by_address_and_by_name_among_what_members_see() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let Alike {
        jose,
        twin,
        ann,
        other_ann,
    } = alike(admin).await;
    let found = read(admin, "/duplicates/contacts").await;
    assert_eq!(found["total"], 3, "{found}");
    assert_eq!(
        groups(&found),
        [
            (
                "email".to_owned(),
                "jose@initech.example".to_owned(),
                vec![jose.clone(), twin.clone()]
            ),
            (
                "name".to_owned(),
                "ann".to_owned(),
                vec![ann.clone(), other_ann.clone()]
            ),
            (
                "name".to_owned(),
                "jose nunez".to_owned(),
                vec![jose.clone(), twin.clone()]
            ),
        ]
    );
    let by_email = read(admin, "/duplicates/contacts?by=email&limit=1").await;
    assert_eq!(by_email["total"], 1, "{by_email}");
    let (status, body) = admin
        .get(&format!("{BASE}/duplicates/contacts?by=domain"))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_input"))
    );

    // Members look for duplicates too; viewers don't.
    let (status, _) = people[2]
        .1
        .get(&format!("{BASE}/duplicates/contacts"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = people[3]
        .1
        .get(&format!("{BASE}/duplicates/contacts"))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_refused_merge_changes_nothing() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let Alike { jose, twin, .. } = alike(&mut people[1].1).await;
    let (status, _) = people[2]
        .1
        .post(
            &format!("{BASE}/contacts/{jose}/merge"),
            json!({ "ids": [twin] }),
        )
        .await;
    assert_eq!(status, 403, "only admins merge");

    // Refusals change nothing.
    let admin = &mut people[1].1;
    let before = read(admin, &format!("/contacts/{jose}")).await;
    for (body, headers, code) in [
        (json!({ "ids": [] }), vec![], "invalid_input"),
        (json!({ "ids": [jose] }), vec![], "invalid_input"),
        (json!({ "ids": [twin, twin] }), vec![], "invalid_input"),
        (
            json!({ "ids": [twin, "0123456789abcdef0123456789abcdef"] }),
            vec![],
            "not_found",
        ),
        (
            json!({ "ids": [twin] }),
            vec![("if-match", "\"7\"")],
            "version_mismatch",
        ),
    ] {
        let (status, _, answer) = admin
            .send_with(
                Method::POST,
                &format!("{BASE}/contacts/{jose}/merge"),
                Some(body.clone()),
                &headers,
            )
            .await;
        assert!(status >= 400, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
    }
    assert_eq!(read(admin, &format!("/contacts/{jose}")).await, before);
    read(admin, &format!("/contacts/{twin}")).await;
}

#[tokio::test]
async fn merged_contacts_keep_everything_in_the_survivor_and_come_back_from_the_trash() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let Alike { jose, twin, .. } = alike(admin).await;
    // What hangs on the twin: a deal, a note, a file.
    let deal = make(
        admin,
        "deals",
        json!({ "title": "Renewal", "contact_ids": [twin] }),
    )
    .await;
    let note = make(
        admin,
        "activities",
        json!({ "kind": "note", "subject": "Met at the fair", "links": [{ "kind": "contact", "id": twin }] }),
    )
    .await;
    let (status, _, _) = admin
        .send_raw(
            Method::POST,
            &format!("{BASE}/attachments?record_kind=contact&record_id={twin}&file_name=card.txt"),
            b"vCard".to_vec(),
            "text/plain",
        )
        .await;
    assert_eq!(status, 201);

    let admin = &mut people[1].1;
    let (status, headers, merged) = admin
        .send_with(
            Method::POST,
            &format!("{BASE}/contacts/{jose}/merge"),
            Some(json!({ "ids": [twin] })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(headers["etag"], "\"2\"");
    let merged = &merged["contact"];
    assert_eq!(
        merged["first_name"], "José",
        "the survivor's own values stay"
    );
    assert_eq!(
        merged["emails"],
        json!(["jose@initech.example", "j.nunez@home.example"])
    );
    assert_eq!(merged["phones"], json!(["+1 555 0100"]));
    assert_eq!(merged["title"], "CTO", "what it lacked is taken");
    assert_eq!(merged["tags"], json!(["newsletter", "vip"]));
    let deal_now = read(admin, &format!("/deals/{deal}")).await;
    assert!(
        holds(&deal_now["deal"]["contact_ids"], &json!(jose)),
        "{deal_now}"
    );
    let note_now = read(admin, &format!("/activities/{note}")).await;
    let link = json!({ "kind": "contact", "id": jose });
    assert!(holds(&note_now["activity"]["links"], &link), "{note_now}");
    let files = read(
        admin,
        &format!("/attachments?record_kind=contact&record_id={jose}"),
    )
    .await;
    assert_eq!(files["attachments"].as_array().unwrap().len(), 1, "{files}");
    let timeline = read(admin, &format!("/contacts/{jose}/timeline")).await;
    assert_eq!(timeline["entries"][0]["event"], "merged", "{timeline}");
    assert_eq!(timeline["entries"][0]["detail"]["merged"], json!([twin]));

    // The twin is in the trash, says where it went, and comes back with its deal and note.
    let (status, _) = admin.get(&format!("{BASE}/contacts/{twin}")).await;
    assert_eq!(status, 404);
    let trash = read(admin, "/trash").await;
    assert!(trash.to_string().contains(&twin), "{trash}");
    let (status, restored) = admin
        .post(&format!("{BASE}/contacts/{twin}/restore"), json!({}))
        .await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["contact"]["title"], "CTO");
    let timeline = read(admin, &format!("/contacts/{twin}/timeline")).await;
    let events = &timeline["entries"];
    let events = [
        &events[0]["event"],
        &events[1]["event"],
        &events[2]["event"],
    ];
    assert_eq!(events, ["restored", "merged_into", "deleted"], "{timeline}");
    let deal_now = read(admin, &format!("/deals/{deal}")).await;
    assert!(holds(&deal_now["deal"]["contact_ids"], &json!(twin)));

    let audit = read(admin, "/audit").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["outcome"] == "success"
                && e["target"] == format!("merge of {twin} into contact {jose}")),
        "{audit}"
    );
}

#[tokio::test]
async fn companies_alike_merge_and_their_people_and_deals_move() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let first = make(
        admin,
        "companies",
        json!({ "name": "Globex, Inc.", "domain": "globex.example" }),
    )
    .await;
    let second = make(
        admin,
        "companies",
        json!({ "name": "GLOBEX", "domain": "www.globex.example", "industry": "Energy" }),
    )
    .await;
    let third = make(admin, "companies", json!({ "name": "Globex GmbH" })).await;
    make(admin, "companies", json!({ "name": "Globe" })).await;
    let found = read(admin, "/duplicates/companies").await;
    assert_eq!(
        groups(&found),
        [
            (
                "domain".to_owned(),
                "globex.example".to_owned(),
                vec![first.clone(), second.clone()]
            ),
            (
                "name".to_owned(),
                "globex".to_owned(),
                vec![first.clone(), second.clone(), third.clone()]
            ),
        ]
    );
    let person = make(
        admin,
        "contacts",
        json!({ "first_name": "Hank", "company_id": second }),
    )
    .await;
    let deal = make(
        admin,
        "deals",
        json!({ "title": "Fusion", "company_id": third }),
    )
    .await;
    let (status, merged) = admin
        .post(
            &format!("{BASE}/companies/{first}/merge"),
            json!({ "ids": [second, third] }),
        )
        .await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged["company"]["industry"], "Energy");
    assert_eq!(merged["company"]["domain"], "globex.example");
    let person_now = read(admin, &format!("/contacts/{person}")).await;
    assert_eq!(person_now["contact"]["company_id"], json!(first));
    assert_eq!(person_now["contact"]["version"], 2);
    let timeline = read(admin, &format!("/contacts/{person}/timeline")).await;
    assert_eq!(
        timeline["entries"][0]["detail"]["company_id"],
        json!([second, first])
    );
    let deal_now = read(admin, &format!("/deals/{deal}")).await;
    assert_eq!(deal_now["deal"]["company_id"], json!(first));
    let found = read(admin, "/duplicates/companies").await;
    assert_eq!(found["total"], 0, "{found}");

    // Deals do not merge.
    let other = make(admin, "deals", json!({ "title": "Other" })).await;
    let (status, _) = admin
        .post(
            &format!("{BASE}/deals/{deal}/merge"),
            json!({ "ids": [other] }),
        )
        .await;
    assert_eq!(status, 404);
}
