//! A tenant's whole data as one archive: complete, and verifiable without Holdfast.

use std::collections::BTreeMap;
use std::io::Read as _;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::Holdfast;

/// The lists every archive holds.
const EVERY_LIST: &[&str] = &[
    "contacts.json",
    "contacts.csv",
    "companies.json",
    "companies.csv",
    "deals.json",
    "deals.csv",
    "activities.json",
    "activities.csv",
    "timeline.json",
    "pipelines.json",
    "custom_fields.json",
    "tags.json",
    "teams.json",
    "users.json",
    "audit_log.json",
    "settings.json",
    "saved_views.json",
    "exchange_rates.json",
    "imports.json",
    "import_rejects.json",
    "attachments.json",
];

#[test]
fn a_tenant_archive_holds_every_file_its_manifest_vouches_for() {
    let holdfast = Holdfast::new();
    let data = holdfast.data_dir();
    let data = data.to_str().unwrap();
    holdfast
        .run(&[
            "--data-dir",
            data,
            "tenant",
            "create",
            "--name",
            "Acme",
            "acme",
        ])
        .assert_ok();
    let file = holdfast.home.path().join("people.csv");
    std::fs::write(
        &file,
        "first_name,email,company,tags\nAda,ada@example.com,Analytical Ltd,vip\nBob,bob@example.com,,\n",
    )
    .unwrap();
    holdfast
        .run(&[
            "--data-dir",
            data,
            "import",
            "--tenant",
            "acme",
            "--type",
            "contacts",
            file.to_str().unwrap(),
        ])
        .assert_ok();
    let archive = holdfast.home.path().join("acme.tar");
    let out = archive.to_str().unwrap();
    let run = holdfast.run(&["--data-dir", data, "tenant", "export", "acme", "--out", out]);
    run.assert_ok();
    assert!(
        run.stdout.contains("2 contacts, 1 companies"),
        "{}",
        run.stdout
    );
    // Never over an existing file.
    let again = holdfast.run(&["--data-dir", data, "tenant", "export", "acme", "--out", out]);
    assert_eq!(again.code, 1);

    let files = unpack(&archive);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["tenant"]["slug"], "acme");
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(
        listed.len() + 1,
        files.len(),
        "every file is in the manifest"
    );
    for entry in listed {
        let name = entry["name"].as_str().unwrap();
        let bytes = &files[name];
        assert_eq!(entry["bytes"], bytes.len(), "{name}");
        let digest = holdfast::license::hex(&Sha256::digest(bytes));
        assert_eq!(entry["sha256"], digest, "{name}");
        if std::path::Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            let list: Vec<Value> = serde_json::from_slice(bytes).unwrap();
            assert_eq!(entry["records"], list.len(), "{name}");
        }
    }
    for name in EVERY_LIST {
        assert!(files.contains_key(*name), "{name} is in the archive");
    }
    let contacts: Vec<Value> = serde_json::from_slice(&files["contacts.json"]).unwrap();
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[0]["tags"], serde_json::json!(["vip"]));
    let csv = String::from_utf8(files["contacts.csv"].clone()).unwrap();
    assert!(
        csv.lines().nth(1).unwrap().contains("Analytical Ltd"),
        "{csv}"
    );
    let audit: Vec<Value> = serde_json::from_slice(&files["audit_log.json"]).unwrap();
    assert!(audit.iter().any(|e| e["action"] == "import"), "{audit:?}");
    let imports: Vec<Value> = serde_json::from_slice(&files["imports.json"]).unwrap();
    assert_eq!(imports[0]["created"], 2, "{imports:?}");
}

/// The files of an archive by name, each under the tenant's one folder.
fn unpack(archive: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut reader = tar::Archive::new(std::fs::File::open(archive).unwrap());
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let (folder, name) = path.split_once('/').unwrap();
        assert!(folder.starts_with("holdfast-acme-"), "{path}");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.insert(name.to_owned(), bytes);
    }
    files
}

#[tokio::test]
async fn operators_and_owners_download_the_archive_and_it_is_on_the_record() {
    use crate::helpers::{TestApp, install_license, set_up, tenant_with_every_role};
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    install_license(&mut op, |p| {
        p.max_tenants = 3;
        p.max_seats = 20;
    })
    .await;
    let mut people = tenant_with_every_role(&app, &mut op, "acme").await;
    let owner = &mut people[0].1;
    let (status, body) = owner
        .post(
            "/t/acme/api/v1/contacts",
            serde_json::json!({ "first_name": "Ada" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let contact = body["contact"]["id"].as_str().unwrap().to_owned();
    let (status, _, upload) = owner
        .send_raw(
            reqwest::Method::POST,
            &format!("/t/acme/api/v1/attachments?record_kind=contact&record_id={contact}&file_name=notes.txt"),
            b"met at the fair".to_vec(),
            "text/plain",
        )
        .await;
    assert_eq!(status, 201);
    let upload: Value = serde_json::from_slice(&upload).unwrap();
    let attached = format!(
        "attachments/{}/notes.txt",
        upload["attachment"]["id"].as_str().unwrap()
    );
    for (browser, path) in [
        (&mut op, "/api/v1/admin/tenants/acme/archive"),
        (owner, "/t/acme/api/v1/export/archive"),
    ] {
        let (status, headers, bytes) = browser
            .send_raw(reqwest::Method::GET, path, Vec::new(), "text/plain")
            .await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(headers["content-type"], "application/x-tar");
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a.tar");
        std::fs::write(&archive, bytes).unwrap();
        let files = unpack(&archive);
        let contacts: Vec<Value> = serde_json::from_slice(&files["contacts.json"]).unwrap();
        assert_eq!(contacts.len(), 1, "{path}");
        assert_eq!(contacts[0]["first_name"], "Ada");
        let users: Vec<Value> = serde_json::from_slice(&files["users.json"]).unwrap();
        assert_eq!(users.len(), 4, "{path}");
        assert!(!String::from_utf8_lossy(&files["users.json"]).contains("argon2"));
        let listed: Vec<Value> = serde_json::from_slice(&files["attachments.json"]).unwrap();
        assert_eq!(listed[0]["path"], attached.as_str(), "{listed:?}");
        assert_eq!(files[&attached], b"met at the fair", "{path}");
        let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        let entry = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == attached.as_str())
            .unwrap();
        let digest = holdfast::license::hex(&Sha256::digest(b"met at the fair"));
        assert_eq!(
            (&entry["bytes"], &entry["sha256"]),
            (&json!(15), &json!(digest))
        );
    }
    let (status, _) = op.get("/api/v1/admin/tenants/nope/archive").await;
    assert_eq!(status, 404);
    let (_, audit) = people[0].1.get("/t/acme/api/v1/audit").await;
    let archives = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "archive")
        .count();
    assert_eq!(archives, 2, "{audit}");
}
