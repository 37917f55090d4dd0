//! Importing CSV files: the check says what the import then does, bad rows are reported
//! (and come back as CSV), duplicates follow the policy, and an import is all or nothing —
//! undone when cancelled, taken back when its runner dies, reverted on request.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Browser, Holdfast, TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";

/// Uploads `bytes` as a file to import into records of `kind`; answers the status and body.
pub async fn upload(browser: &mut Browser<'_>, kind: &str, bytes: &[u8]) -> (u16, Value) {
    let (status, _, body) = browser
        .send_raw(
            Method::POST,
            &format!("{BASE}/imports?record_kind={kind}&file_name=people.csv"),
            bytes.to_vec(),
            "text/csv",
        )
        .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Starts a check or an import of `id` with `plan`, and waits for it to end.
pub async fn run(browser: &mut Browser<'_>, id: &str, action: &str, plan: Value) -> Value {
    let (status, body) = browser
        .post(&format!("{BASE}/imports/{id}/{action}"), plan)
        .await;
    assert_eq!(status, 202, "{body}");
    ended(browser, id).await
}

/// The import once it is no longer running.
async fn ended(browser: &mut Browser<'_>, id: &str) -> Value {
    for _ in 0..1200 {
        let (status, body) = browser.get(&format!("{BASE}/imports/{id}")).await;
        assert_eq!(status, 200, "{body}");
        if body["import"]["state"] != "running" {
            return body["import"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} never ended");
}

/// Every live contact, as `first_name <email>` sorted, with their tags.
async fn contacts(browser: &mut Browser<'_>) -> Vec<String> {
    let (status, body) = browser.get(&format!("{BASE}/contacts?limit=100")).await;
    assert_eq!(status, 200, "{body}");
    let mut all: Vec<String> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} <{}> {}",
                c["first_name"].as_str().unwrap_or(""),
                c["emails"][0].as_str().unwrap_or(""),
                c["tags"]
            )
        })
        .collect();
    all.sort();
    all
}

const PEOPLE: &[u8] = b"\xEF\xBB\xBFFirst name;Last name;E-mail;Company;Tags;Stage\r\n\
Ada;Lovelace;ada@example.com;Analytical Ltd;vip, math;Customer\r\n\
Bob;Byte;not-an-email;Analytical Ltd;;\r\n\
Ada again;Lovelace;ADA@example.com;;;\r\n\
Cy;\"Cole\";cy@example.com;Other Co;;lead\r\n\
Eve;Evans;eve@example.com;;;weird\r\n";

#[tokio::test]
async fn a_check_changes_nothing_and_the_import_then_does_what_it_said() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let (status, body) = upload(admin, "contact", PEOPLE).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["import"]["state"], "uploaded");
    assert_eq!(body["preview"]["delimiter"], ";");
    assert_eq!(
        body["preview"]["columns"],
        json!([
            "first_name",
            "last_name",
            "emails",
            "company_id",
            "tags",
            "lifecycle_stage"
        ])
    );
    let id = body["import"]["id"].as_str().unwrap().to_owned();

    let checked = run(admin, &id, "check", json!({})).await;
    assert_eq!(checked["state"], "checked", "{checked}");
    let counts = json!({ "rows": 5, "created": 2, "updated": 0, "skipped": 1, "rejected": 2, "companies_created": 2 });
    assert_eq!(checked["counts"], counts);
    assert!(contacts(admin).await.is_empty(), "a check changes nothing");
    let (_, companies) = admin.get(&format!("{BASE}/companies")).await;
    assert_eq!(companies["records"], json!([]));

    let done = run(admin, &id, "start", json!({})).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["counts"], counts, "the import did what its check said");
    assert_eq!(done["progress"]["percent"], 100.0);
    assert_eq!(
        contacts(admin).await,
        [
            "Ada <ada@example.com> [\"math\",\"vip\"]",
            "Cy <cy@example.com> []"
        ]
    );
    // The contact names its company (made by the import), and its timeline the import.
    let (_, page) = admin
        .get(&format!(
            "{BASE}/contacts?filters=[{{\"field\":\"first_name\",\"op\":\"eq\",\"value\":\"Ada\"}}]"
        ))
        .await;
    let ada = &page["records"][0];
    let (_, company) = admin
        .get(&format!(
            "{BASE}/companies/{}",
            ada["company_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(company["company"]["name"], "Analytical Ltd");
    assert_eq!(ada["lifecycle_stage"], "customer");
    let (_, timeline) = admin
        .get(&format!(
            "{BASE}/contacts/{}/timeline",
            ada["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(timeline["entries"][0]["event"], "imported");
    assert_eq!(timeline["entries"][0]["detail"]["import_id"], id.as_str());

    rejected_rows_come_back_as_csv(admin, &id).await;

    // One audit entry with the counts.
    let (_, audit) = admin.get(&format!("{BASE}/audit")).await;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "import")
        .expect("an audit entry for the import");
    assert!(
        entry["target"]
            .as_str()
            .unwrap()
            .contains("5 rows, 2 created, 0 updated, 1 skipped, 2 rejected"),
        "{entry}"
    );
    // An import that is done cannot run again.
    let (status, body) = admin
        .post(&format!("{BASE}/imports/{id}/start"), json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
}

/// The rejected rows of the import of [`PEOPLE`] as CSV, ready to fix and import again.
async fn rejected_rows_come_back_as_csv(admin: &mut Browser<'_>, id: &str) {
    let (status, headers, csv) = admin
        .send_raw(
            Method::GET,
            &format!("{BASE}/imports/{id}/rejected.csv"),
            Vec::new(),
            "text/plain",
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "First name,Last name,E-mail,Company,Tags,Stage,Rejected at line,Why rejected"
    );
    assert!(
        lines[1].starts_with("Bob,Byte,not-an-email,Analytical Ltd,,,3,"),
        "{csv}"
    );
    assert!(lines[1].contains("column E-mail"), "{csv}");
    assert!(
        lines[2].starts_with("Eve,Evans,eve@example.com,,,weird,6,"),
        "{csv}"
    );
    assert_eq!(lines.len(), 3, "{csv}");
}

#[tokio::test]
async fn updates_fill_matches_and_a_revert_undoes_them_but_never_a_later_edit() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let mut ids = Vec::new();
    for (name, email) in [("Ada", "ada@example.com"), ("Bob", "bob@example.com")] {
        let (status, body) = admin
            .post(
                &format!("{BASE}/contacts"),
                json!({ "first_name": name, "emails": [email], "title": "Engineer", "tags": ["old"] }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["contact"]["id"].as_str().unwrap().to_owned());
    }
    let file = b"email,title,tags,first name\nada@example.com,CTO,new,\nbob@example.com,CEO,,\nnew@example.com,,,Nia\n";
    let (_, body) = upload(admin, "contact", file).await;
    let id = body["import"]["id"].as_str().unwrap().to_owned();
    let done = run(admin, &id, "start", json!({ "duplicates": "update" })).await;
    assert_eq!(done["counts"]["updated"], 2, "{done}");
    assert_eq!(done["counts"]["created"], 1, "{done}");
    let (_, ada) = admin.get(&format!("{BASE}/contacts/{}", ids[0])).await;
    assert_eq!(ada["contact"]["title"], "CTO");
    assert_eq!(
        ada["contact"]["first_name"], "Ada",
        "an empty cell changes nothing"
    );
    assert_eq!(
        ada["contact"]["tags"],
        json!(["new", "old"]),
        "tags are added"
    );

    // Bob is edited after the import: the revert leaves his edit alone, and says so.
    let (status, _, _) = admin
        .send_with(
            Method::PATCH,
            &format!("{BASE}/contacts/{}", ids[1]),
            Some(json!({ "title": "Founder" })),
            &[("If-Match", "*")],
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = admin
        .post(&format!("{BASE}/imports/{id}/revert"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let reverted = &body["import"];
    assert_eq!(reverted["state"], "reverted");
    assert_eq!(reverted["outcome"]["trashed"], 1);
    assert_eq!(reverted["outcome"]["restored"], 1);
    assert_eq!(reverted["outcome"]["changed_since"], 1);
    assert_eq!(reverted["outcome"]["changed_since_ids"], json!([ids[1]]));
    let (_, ada) = admin.get(&format!("{BASE}/contacts/{}", ids[0])).await;
    assert_eq!(ada["contact"]["title"], "Engineer");
    assert_eq!(ada["contact"]["tags"], json!(["old"]));
    let (_, bob) = admin.get(&format!("{BASE}/contacts/{}", ids[1])).await;
    assert_eq!(bob["contact"]["title"], "Founder");
    // The contact the import made is in the trash, where it can be restored.
    let (_, trash) = admin.get(&format!("{BASE}/trash")).await;
    assert!(trash.to_string().contains("Nia"), "{trash}");
    let (status, _) = admin
        .post(&format!("{BASE}/imports/{id}/revert"), json!({}))
        .await;
    assert_eq!(status, 409, "reverted once only");
}

#[tokio::test]
async fn files_that_are_not_csv_text_are_refused_whole_and_change_nothing() {
    let app = TestApp::spawn_with(|s| s.max_import_bytes = 2 * 1024 * 1024).await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "a zip",
            b"PK\x03\x04\0\0\0binary".to_vec(),
            422,
            "invalid_file",
        ),
        (
            "utf-16",
            b"\xFF\xFEn\0a\0m\0e\0".to_vec(),
            422,
            "invalid_file",
        ),
        ("latin-1", b"name\nJos\xE9\n".to_vec(), 422, "invalid_file"),
        (
            "a header only",
            b"first_name,email\n".to_vec(),
            422,
            "invalid_file",
        ),
        ("nothing", Vec::new(), 422, "invalid_file"),
        (
            "too large",
            vec![b'a'; 2 * 1024 * 1024 + 1],
            413,
            "payload_too_large",
        ),
    ];
    for (what, bytes, status, code) in cases {
        let (got, body) = upload(admin, "contact", &bytes).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{what}: {body}"
        );
    }
    let (_, body) = admin.get(&format!("{BASE}/imports")).await;
    assert_eq!(body["imports"], json!([]), "no import was recorded");
    let leftovers: Vec<_> = std::fs::read_dir(app.data_dir().join("imports"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .collect();
    assert!(leftovers.is_empty(), "no file was kept: {leftovers:?}");

    // A row longer than any record (an unclosed quote), deep in a file, stops the import:
    // nothing is kept.
    let mut file = b"first_name,email\n".to_vec();
    for i in 0..10 {
        file.extend(format!("P{i},p{i}@example.com\n").as_bytes());
    }
    file.extend(b"Bob,\"");
    file.extend(std::iter::repeat_n(b'x', 1536 * 1024));
    let (status, body) = upload(admin, "contact", &file).await;
    assert_eq!(status, 201, "the start of the file is fine: {body}");
    let id = body["import"]["id"].as_str().unwrap().to_owned();
    let ended = run(admin, &id, "start", json!({})).await;
    assert_eq!(ended["state"], "failed", "{ended}");
    assert!(contacts(admin).await.is_empty());
}

/// A file of `rows` contacts.
fn many(rows: usize) -> Vec<u8> {
    let mut file = b"first_name,last_name,email\n".to_vec();
    for i in 0..rows {
        file.extend(format!("Person{i},Family{},p{i}@example.com\n", i % 97).as_bytes());
    }
    file
}

#[tokio::test]
async fn a_cancelled_import_and_one_whose_admin_was_demoted_leave_nothing_behind() {
    let app = TestApp::spawn_with(|s| s.max_import_bytes = 64 * 1024 * 1024).await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let (owner, rest) = people.split_at_mut(1);
    let owner = &mut owner[0].1;
    let admin = &mut rest[0].1;
    let file = many(150_000);
    for stop in ["cancel", "demote"] {
        let (status, body) = upload(admin, "contact", &file).await;
        assert_eq!(status, 201, "{body}");
        let id = body["import"]["id"].as_str().unwrap().to_owned();
        let (status, _) = admin
            .post(&format!("{BASE}/imports/{id}/start"), json!({}))
            .await;
        assert_eq!(status, 202);
        // Once some rows are in, stop it.
        loop {
            let (_, now) = admin.get(&format!("{BASE}/imports/{id}")).await;
            assert_eq!(now["import"]["state"], "running", "stopped in time: {now}");
            if now["import"]["counts"]["created"].as_i64().unwrap() > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (status, before) = owner.get(&format!("{BASE}/contacts?limit=1")).await;
        assert_eq!(status, 200, "{before}");
        assert_eq!(
            before["records"].as_array().unwrap().len(),
            1,
            "rows were in"
        );
        if stop == "cancel" {
            let (status, body) = admin
                .post(&format!("{BASE}/imports/{id}/cancel"), json!({}))
                .await;
            assert_eq!(status, 200, "{body}");
        } else {
            let (_, users) = owner.get(&format!("{BASE}/users")).await;
            let admin_id = users["users"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["email"] == "admin@acme.test")
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let (status, _, body) = owner
                .send(
                    Method::PATCH,
                    &format!("{BASE}/users/{admin_id}"),
                    Some(json!({ "role": "member" })),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
        let ended = ended(owner, &id).await;
        let expected = if stop == "cancel" {
            "cancelled"
        } else {
            "failed"
        };
        assert_eq!(ended["state"], expected, "{ended}");
        assert!(contacts(owner).await.is_empty(), "{stop}: nothing is left");
    }
}

#[test]
fn an_import_whose_process_dies_is_taken_back_by_the_next_one() {
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
    std::fs::write(&file, many(300_000)).unwrap();
    let file = file.to_str().unwrap();
    let mut child = holdfast
        .command(&[
            "--data-dir",
            data,
            "import",
            "--tenant",
            "acme",
            "--type",
            "contacts",
            file,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once its first batches are committed.
    let db = std::fs::read_dir(holdfast.data_dir().join("tenants"))
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "db"))
        .unwrap()
        .path();
    let count = |sql: &str| -> i64 {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap_or(0)
    };
    for _ in 0..600 {
        if count("SELECT count(*) FROM contacts") > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(count("SELECT count(*) FROM contacts") > 0, "rows were in");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        count("SELECT count(*) FROM imports WHERE state = 'running'"),
        1
    );

    // The next import finds the dead one and takes it back before it starts.
    let small = holdfast.home.path().join("one.csv");
    std::fs::write(&small, "first_name,email\nIda,ida@example.com\n").unwrap();
    let run = holdfast.run(&[
        "--data-dir",
        data,
        "import",
        "--tenant",
        "acme",
        "--type",
        "contacts",
        small.to_str().unwrap(),
    ]);
    run.assert_ok();
    assert!(run.stdout.contains("1 created"), "{}", run.stdout);
    assert_eq!(
        count("SELECT count(*) FROM contacts"),
        1,
        "only the second file's contact"
    );
    assert_eq!(
        count("SELECT count(*) FROM imports WHERE state = 'failed' AND failure LIKE '%stopped%'"),
        1
    );
    assert_eq!(count("SELECT count(*) FROM timeline"), 1);
}

#[tokio::test]
async fn rows_of_one_file_that_match_each_other_follow_the_policy_too() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let file = b"email,first name,title\nnia@example.com,Nia,\nNIA@example.com,,CEO\nzed@example.com,Zed,\n";
    for (policy, created, updated, skipped, title) in [
        ("update", 2, 1, 0, Some("CEO")),
        ("skip", 0, 0, 3, Some("CEO")),
    ] {
        let (_, body) = upload(admin, "contact", file).await;
        let id = body["import"]["id"].as_str().unwrap().to_owned();
        let checked = run(admin, &id, "check", json!({ "duplicates": policy })).await;
        let done = run(admin, &id, "start", json!({ "duplicates": policy })).await;
        assert_eq!(done["counts"], checked["counts"], "{policy}: as checked");
        assert_eq!(
            (
                &done["counts"]["created"],
                &done["counts"]["updated"],
                &done["counts"]["skipped"]
            ),
            (&json!(created), &json!(updated), &json!(skipped)),
            "{policy}: {done}"
        );
        let (_, page) = admin
            .get(&format!("{BASE}/contacts?filters=[{{\"field\":\"first_name\",\"op\":\"eq\",\"value\":\"Nia\"}}]"))
            .await;
        assert_eq!(
            page["records"].as_array().unwrap().len(),
            1,
            "{policy}: one Nia"
        );
        assert_eq!(page["records"][0]["title"].as_str(), title, "{policy}");
    }
}

#[tokio::test]
async fn an_update_that_would_move_a_deal_is_refused_not_dropped() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let (status, body) = admin
        .post(&format!("{BASE}/deals"), json!({ "title": "Old title" }))
        .await;
    assert_eq!(status, 201, "{body}");
    let deal = body["deal"]["id"].as_str().unwrap().to_owned();
    for (stage, rejected, updated) in [("Qualified", 1, 0), ("Lead in", 0, 1)] {
        let file = format!("id,title,stage\n{deal},New title,{stage}\n");
        let (_, body) = upload(admin, "deal", file.as_bytes()).await;
        let id = body["import"]["id"].as_str().unwrap().to_owned();
        let done = run(
            admin,
            &id,
            "start",
            json!({ "duplicates": "update", "match_on": "id" }),
        )
        .await;
        assert_eq!(done["counts"]["rejected"], rejected, "{stage}: {done}");
        assert_eq!(done["counts"]["updated"], updated, "{stage}: {done}");
        if rejected > 0 {
            let (_, rows) = admin.get(&format!("{BASE}/imports/{id}/rejected")).await;
            let reason = rows["rejected"][0]["reason"].as_str().unwrap();
            assert!(reason.contains("does not move deals"), "{reason}");
        }
    }
    let (_, now) = admin.get(&format!("{BASE}/deals/{deal}")).await;
    assert_eq!(now["deal"]["title"], "New title");
}
