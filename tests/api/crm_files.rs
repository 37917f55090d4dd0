//! Attachments: kept whole, offered back only as downloads, capped by the tenant's setting.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";

async fn upload(
    browser: &mut Browser<'_>,
    contact: &str,
    name: &str,
    bytes: Vec<u8>,
    kind: &str,
) -> (u16, Value) {
    let (status, _, body) = browser
        .send_raw(
            Method::POST,
            &format!("{BASE}/attachments?record_kind=contact&record_id={contact}&file_name={name}"),
            bytes,
            kind,
        )
        .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_file_comes_back_whole_as_a_download_and_never_runs() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let (_, contact) = owner
        .post(&format!("{BASE}/contacts"), json!({ "first_name": "Ada" }))
        .await;
    let contact = contact["contact"]["id"].as_str().unwrap().to_owned();
    // Larger than one chunk of a download, with every byte value.
    let pdf: Vec<u8> = (0..300_000_u32).map(|i| (i * 7 % 251) as u8).collect();
    let (status, body) = upload(
        owner,
        &contact,
        "..%2F..%2Fquarterly%20r%C3%A9port.pdf",
        pdf.clone(),
        "application/pdf",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["attachment"]["file_name"], "quarterly réport.pdf");
    assert_eq!(body["attachment"]["size"], 300_000);
    let id = body["attachment"]["id"].as_str().unwrap().to_owned();

    let (status, headers, bytes) = owner
        .send_raw(
            Method::GET,
            &format!("{BASE}/attachments/{id}"),
            Vec::new(),
            "text/plain",
        )
        .await;
    assert_eq!(status, 200);
    assert!(bytes == pdf, "the same bytes back");
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"quarterly r_port.pdf\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''quarterly%20r%C3%A9port.pdf"),
        "{disposition}"
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );

    let (status, body) = upload(
        owner,
        &contact,
        "page.html",
        b"<script>alert(1)</script>".to_vec(),
        "text/html",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let html = body["attachment"]["id"].as_str().unwrap();
    let (_, headers, _) = owner
        .send_raw(
            Method::GET,
            &format!("{BASE}/attachments/{html}"),
            Vec::new(),
            "text/plain",
        )
        .await;
    assert_eq!(
        headers["content-type"], "application/octet-stream",
        "never shown as a page"
    );

    let (_, listed) = owner
        .get(&format!(
            "{BASE}/attachments?record_kind=contact&record_id={contact}"
        ))
        .await;
    assert_eq!(listed["attachments"].as_array().unwrap().len(), 2);
    let (_, timeline) = owner
        .get(&format!("{BASE}/contacts/{contact}/timeline"))
        .await;
    assert_eq!(timeline["entries"][0]["event"], "attachment_added");

    // The uploader or an admin removes it; another member does not.
    let member = &mut people[2].1;
    let (status, _, body) = member
        .send(Method::DELETE, &format!("{BASE}/attachments/{id}"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("not_your_record"))
    );
    let (status, _, _) = people[1]
        .1
        .send(Method::DELETE, &format!("{BASE}/attachments/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = people[1].1.get(&format!("{BASE}/attachments/{id}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_file_over_the_tenants_cap_is_refused_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let (status, _, body) = owner
        .send(
            Method::PATCH,
            &format!("{BASE}/settings"),
            Some(json!({ "attachment_max_bytes": 1000 })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, contact) = owner
        .post(&format!("{BASE}/contacts"), json!({ "first_name": "Ada" }))
        .await;
    let contact = contact["contact"]["id"].as_str().unwrap().to_owned();
    let (status, body) = upload(
        owner,
        &contact,
        "big.bin",
        vec![1; 1001],
        "application/octet-stream",
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );
    let (status, _) = upload(
        owner,
        &contact,
        "fits.bin",
        vec![1; 1000],
        "application/octet-stream",
    )
    .await;
    assert_eq!(status, 201);
    let (_, listed) = owner
        .get(&format!(
            "{BASE}/attachments?record_kind=contact&record_id={contact}"
        ))
        .await;
    assert_eq!(listed["attachments"].as_array().unwrap().len(), 1);
    let (status, body) = upload(
        owner,
        &"0".repeat(32),
        "x.bin",
        vec![1; 10],
        "application/octet-stream",
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}
