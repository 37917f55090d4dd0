//! Exports: a list as CSV or JSON, streamed, with the list's filters; a CSV Holdfast
//! exported imports into another tenant to the same records.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants};

async fn download(browser: &mut Browser<'_>, path: &str) -> (u16, String, String) {
    let (status, headers, body) = browser
        .send_raw(Method::GET, path, Vec::new(), "text/plain")
        .await;
    let kind = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, String::from_utf8(body).unwrap())
}

/// Defines the custom fields both tenants share.
async fn define_fields(owner: &mut Browser<'_>, base: &str) {
    for field in [
        json!({ "record_kind": "contact", "key": "shoe_size", "label": "Shoe size", "kind": "number" }),
        json!({ "record_kind": "contact", "key": "tier", "label": "Tier", "kind": "select", "choices": ["gold", "silver"] }),
        json!({ "record_kind": "contact", "key": "budget", "label": "Budget", "kind": "money", "currency": "EUR" }),
    ] {
        let (status, body) = owner.post(&format!("{base}/fields"), field).await;
        assert_eq!(status, 201, "{body}");
    }
}

/// The export without what belongs to the tenant rather than the record (ids, owners,
/// times), rows sorted.
fn comparable(csv: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let keep: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| !["id", "owner", "created_at", "updated_at"].contains(&h.as_str()))
        .map(|(i, _)| i)
        .collect();
    let mut rows: Vec<String> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            keep.iter().map(|i| &r[*i]).collect::<Vec<_>>().join("|")
        })
        .collect();
    rows.sort();
    rows.insert(
        0,
        keep.iter()
            .map(|i| header[*i].as_str())
            .collect::<Vec<_>>()
            .join("|"),
    );
    rows
}

#[tokio::test]
async fn an_exported_csv_imports_into_another_tenant_to_the_same_records() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme", "beta"]).await;
    let acme = &mut tenants[0][0].1;
    define_fields(acme, "/t/acme/api/v1").await;
    let (_, company) = acme
        .post(
            "/t/acme/api/v1/companies",
            json!({ "name": "Analytical Ltd", "domain": "analytical.example" }),
        )
        .await;
    let company = company["company"]["id"].as_str().unwrap().to_owned();
    for body in [
        json!({ "first_name": "Ada", "last_name": "Lovelace", "emails": ["ada@example.com", "ada@work.example"],
                "phones": ["+44 20 7946 0000"], "title": "=HYPERLINK(\"http://evil\")", "company_id": company,
                "lifecycle_stage": "customer", "source": "Conference, 2026", "tags": ["vip", "math"],
                "custom": { "shoe_size": 38.5, "tier": "gold", "budget": 125_050 } }),
        json!({ "first_name": "Grace", "last_name": "Hopper \"Amazing\"", "emails": ["grace@example.com"],
                "title": "Rear admiral; retired", "lifecycle_stage": "qualified", "custom": { "budget": -5 } }),
        json!({ "first_name": "Émile", "emails": [], "lifecycle_stage": "lead" }),
    ] {
        let (status, body) = acme.post("/t/acme/api/v1/contacts", body).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, kind, exported) = download(acme, "/t/acme/api/v1/export/contacts").await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(
        exported.contains("'=HYPERLINK"),
        "a formula goes out as text: {exported}"
    );
    assert!(exported.contains("'+44 20 7946 0000"), "{exported}");
    assert!(
        exported.contains("1250.50"),
        "money in major units: {exported}"
    );

    let beta = &mut tenants[1][0].1;
    define_fields(beta, "/t/beta/api/v1").await;
    let (status, _, body) = beta
        .send_raw(
            Method::POST,
            "/t/beta/api/v1/imports?record_kind=contact&file_name=acme.csv",
            exported.clone().into_bytes(),
            "text/csv",
        )
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 201, "{body}");
    let id = body["import"]["id"].as_str().unwrap().to_owned();
    // acme's ids and owners mean nothing in beta.
    let plan = json!({ "mapping": { "columns": { "id": null, "owner": null } } });
    let (status, body) = beta
        .post(&format!("/t/beta/api/v1/imports/{id}/start"), plan)
        .await;
    assert_eq!(status, 202, "{body}");
    let mut done = Value::Null;
    for _ in 0..400 {
        let (_, now) = beta.get(&format!("/t/beta/api/v1/imports/{id}")).await;
        if now["import"]["state"] != "running" {
            done = now["import"].clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["counts"]["rejected"], 0, "{done}");
    let (_, _, again) = download(beta, "/t/beta/api/v1/export/contacts").await;
    assert_eq!(comparable(&again), comparable(&exported));
}

#[tokio::test]
async fn exports_follow_the_list_and_come_as_json_too() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    // More contacts than one chunk of an export, made by an import.
    let mut file = b"first_name,email,lifecycle stage\n".to_vec();
    for i in 0..1_203 {
        let stage = if i % 3 == 0 { "customer" } else { "lead" };
        file.extend(format!("P{i},p{i}@example.com,{stage}\n").as_bytes());
    }
    let (_, _, body) = admin
        .send_raw(
            Method::POST,
            "/t/acme/api/v1/imports?record_kind=contact&file_name=p.csv",
            file,
            "text/csv",
        )
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    let id = body["import"]["id"].as_str().unwrap().to_owned();
    admin
        .post(&format!("/t/acme/api/v1/imports/{id}/start"), json!({}))
        .await;
    for _ in 0..400 {
        let (_, now) = admin.get(&format!("/t/acme/api/v1/imports/{id}")).await;
        if now["import"]["state"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let viewer = &mut people[3].1;
    let (status, _, csv) = download(
        viewer,
        "/t/acme/api/v1/export/contacts?columns=first_name,emails",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 1 + 1_203);
    assert_eq!(csv.lines().next(), Some("first_name,emails"));
    let filters = r#"[{"field":"lifecycle_stage","op":"eq","value":"customer"}]"#;
    let (status, kind, json_text) = download(
        viewer,
        &format!(
            "/t/acme/api/v1/export/contacts?format=json&sort=first_name&filters={}",
            urlencode(filters)
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/json"));
    let all: Vec<Value> = serde_json::from_str(&json_text).unwrap();
    assert_eq!(all.len(), 401);
    assert!(all.iter().all(|c| c["lifecycle_stage"] == "customer"));
    assert_eq!(all[0]["first_name"], "P0");
    // Bad input is refused before a byte of the file.
    for (query, code) in [
        ("format=xml", "invalid_query"),
        ("columns=first_name,nope", "invalid_input"),
        (
            "filters=[{\"field\":\"nope\",\"op\":\"eq\",\"value\":1}]",
            "invalid_input",
        ),
        ("sort=nope", "invalid_input"),
    ] {
        let (status, body) = viewer
            .get(&format!("/t/acme/api/v1/export/contacts?{query}"))
            .await;
        assert_eq!(body["error"]["code"], code, "{query}: {status} {body}");
    }
    // Every export is on the record.
    let admin = &mut people[1].1;
    let (_, audit) = admin.get("/t/acme/api/v1/audit").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "export" && e["target"] == "401 contacts as JSON"),
        "{audit}"
    );
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
