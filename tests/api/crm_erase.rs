//! Erasing a person: the contact and all that is only about them go for good, from the
//! records, the search index and the database file's bytes; what is about others too stays.

use reqwest::Method;
use serde_json::{Value, json};

use crate::crm_import::{run, upload};
use crate::helpers::{Browser, TestApp, licensed_tenants};

const BASE: &str = "/t/acme/api/v1";
const EMAIL: &str = "zed.quixote@private.example";

async fn made(browser: &mut Browser<'_>, path: &str, body: Value, member: &str) -> String {
    let (status, answer) = browser.post(&format!("{BASE}{path}"), body).await;
    assert_eq!(status, 201, "{answer}");
    answer[member]["id"].as_str().unwrap().to_owned()
}

/// Every byte of the tenant's database, after a checkpoint folded the WAL into it.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let dir = app.data_dir().join("tenants");
    let db = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "db"))
        .unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    bytes
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// Zed, and what hangs on them: a deal shared with Olga, a note about Zed alone, a meeting
/// also about the deal, a file, and a rejected import row with Zed's address.
struct Person {
    zed: String,
    other: String,
    deal: String,
    alone: String,
    shared: String,
    import: String,
}

async fn person(admin: &mut Browser<'_>) -> Person {
    // Zed comes from an import, one of whose rejected rows also carries Zed's address.
    let file = format!("First name,E-mail,Stage\nZed,{EMAIL},lead\nZed,{EMAIL},weird\n");
    let (status, body) = upload(admin, "contact", file.as_bytes()).await;
    assert_eq!(status, 201, "{body}");
    let import = body["import"]["id"].as_str().unwrap().to_owned();
    let done = run(admin, &import, "start", json!({ "duplicates": "create" })).await;
    assert_eq!(done["counts"]["rejected"], 1, "{done}");
    let (_, list) = admin.get(&format!("{BASE}/contacts")).await;
    let zed = list["records"][0]["id"].as_str().unwrap().to_owned();
    let other = made(
        admin,
        "/contacts",
        json!({ "first_name": "Olga" }),
        "contact",
    )
    .await;
    let deal = made(
        admin,
        "/deals",
        json!({ "title": "Windmills", "contact_ids": [zed, other] }),
        "deal",
    )
    .await;
    let alone = made(
        admin,
        "/activities",
        json!({ "kind": "note", "subject": "Zed confided xylophonist secrets",
                "links": [{ "kind": "contact", "id": zed }] }),
        "activity",
    )
    .await;
    let shared = made(
        admin,
        "/activities",
        json!({ "kind": "meeting", "subject": "Windmill review",
                "links": [{ "kind": "contact", "id": zed }, { "kind": "deal", "id": deal }] }),
        "activity",
    )
    .await;
    let (status, _, _) = admin
        .send_raw(
            Method::POST,
            &format!("{BASE}/attachments?record_kind=contact&record_id={zed}&file_name=id.txt"),
            b"passport".to_vec(),
            "text/plain",
        )
        .await;
    assert_eq!(status, 201);
    Person {
        zed,
        other,
        deal,
        alone,
        shared,
        import,
    }
}

/// Whether the address or the note's words are left in the database file or an upload.
fn traces(app: &TestApp) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = database_bytes(app);
    for text in [EMAIL, "xylophonist"] {
        if holds(&bytes, text) {
            found.push(format!("{text} in the database"));
        }
    }
    let uploads = app.data_dir().join("imports");
    for tenant in std::fs::read_dir(&uploads).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(tenant.path()).unwrap().flatten() {
            if holds(&std::fs::read(file.path()).unwrap(), EMAIL) {
                found.push(file.path().display().to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn an_erased_contact_is_gone_from_records_search_and_the_file_and_others_keep_theirs() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let admin = &mut people[1].1;
    let Person {
        zed,
        other,
        deal,
        alone,
        shared,
        import,
    } = person(admin).await;
    assert!(!traces(&app).is_empty());

    // Only admins erase.
    for who in [2, 3] {
        let (status, _) = people[who]
            .1
            .post(&format!("{BASE}/contacts/{zed}/erase"), json!({}))
            .await;
        assert_eq!(status, 403);
    }
    let admin = &mut people[1].1;
    let (status, erased) = admin
        .post(&format!("{BASE}/contacts/{zed}/erase"), json!({}))
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(
        erased,
        json!({ "contact": true, "activities": 1, "activities_unlinked": 1, "attachments": 1,
                "deals_unlinked": 1, "import_rows": 1 })
    );

    for path in [format!("/contacts/{zed}"), format!("/activities/{alone}")] {
        let (status, _) = admin.get(&format!("{BASE}{path}")).await;
        assert_eq!(status, 404, "{path}");
    }
    let (_, trash) = admin.get(&format!("{BASE}/trash")).await;
    assert!(
        !trash.to_string().contains(&zed),
        "not in the trash: {trash}"
    );
    for q in ["zed", "xylophonist"] {
        let (_, found) = admin.get(&format!("{BASE}/search?q={q}")).await;
        assert_eq!(found["contacts"], json!([]), "{q}: {found}");
        assert_eq!(found["activities"], json!([]), "{q}: {found}");
    }
    let (_, shared) = admin.get(&format!("{BASE}/activities/{shared}")).await;
    assert_eq!(
        shared["activity"]["links"],
        json!([{ "kind": "deal", "id": deal }])
    );
    let (_, deal) = admin.get(&format!("{BASE}/deals/{deal}")).await;
    assert_eq!(deal["deal"]["contact_ids"], json!([other]));
    let (_, rejects) = admin
        .get(&format!("{BASE}/imports/{import}/rejected"))
        .await;
    assert!(!rejects.to_string().contains(EMAIL), "{rejects}");
    assert_eq!(traces(&app), Vec::<String>::new());

    // Erasing it again finds nothing; the audit log names the erasure by id alone.
    let (status, again) = admin
        .post(&format!("{BASE}/contacts/{zed}/erase"), json!({}))
        .await;
    assert_eq!((status, &again["contact"]), (200, &json!(false)), "{again}");
    let (_, audit) = admin.get(&format!("{BASE}/audit")).await;
    let target = format!("erase of contact {zed}");
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["target"] == target.as_str() && e["outcome"] == "success"),
        "{audit}"
    );
}
