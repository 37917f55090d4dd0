//! Backups of the whole appliance: taken while the server runs and writes, verified without
//! trust, restored on a fresh machine — and never over a running server or from a damaged
//! file.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::helpers::{Holdfast, TestApp, licensed_tenants, set_up};

fn contacts_in(data_dir: &Path) -> Vec<i64> {
    let mut counts = Vec::new();
    let mut dbs: Vec<PathBuf> = std::fs::read_dir(data_dir.join("tenants"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .collect();
    dbs.sort();
    for db in dbs {
        let conn = rusqlite::Connection::open(&db).unwrap();
        counts.push(
            conn.query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
                .unwrap(),
        );
    }
    counts
}

fn instance_id(data_dir: &Path) -> String {
    let conn = rusqlite::Connection::open(data_dir.join("holdfast.db")).unwrap();
    conn.query_row(
        "SELECT value FROM appliance_meta WHERE key = 'instance_id'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_writing_verifies_and_restores_on_a_fresh_machine() {
    let app = TestApp::spawn().await;
    let mut tenants = licensed_tenants(&app, &["acme", "beta"]).await;
    let acme = &mut tenants[0][1].1;
    for n in 0..20 {
        let (status, _) = acme
            .post(
                "/t/acme/api/v1/contacts",
                json!({ "first_name": format!("Before {n}") }),
            )
            .await;
        assert_eq!(status, 201);
    }
    // Writes go on while the backup runs.
    let holdfast = Holdfast::new();
    let out = holdfast.home.path().join("backups");
    let command = {
        let data = app.data_dir().to_str().unwrap().to_owned();
        let out = out.to_str().unwrap().to_owned();
        let holdfast = Holdfast::new();
        tokio::task::spawn_blocking(move || {
            holdfast.run(&["--data-dir", &data, "backup", "--out", &out])
        })
    };
    let mut written = 0;
    while !command.is_finished() {
        let (status, _) = acme
            .post("/t/acme/api/v1/contacts", json!({ "first_name": "During" }))
            .await;
        assert_eq!(status, 201);
        written += 1;
    }
    let run = command.await.unwrap();
    run.assert_ok();
    let file = first_file(&out);
    assert!(
        run.stdout.contains("2 tenant database(s)"),
        "{}",
        run.stdout
    );
    assert!(written > 0);

    let verified = holdfast.run(&["backup", "verify", file.as_str()]);
    verified.assert_ok();
    assert!(verified.stdout.contains(": ok"), "{}", verified.stdout);

    // A fresh machine: the same instance, every tenant, at least what was acknowledged
    // before the backup began.
    let fresh = holdfast.home.path().join("fresh");
    let restored = holdfast.run(&[
        "--data-dir",
        fresh.to_str().unwrap(),
        "restore",
        file.as_str(),
    ]);
    restored.assert_ok();
    assert_eq!(instance_id(&fresh), instance_id(app.data_dir()));
    let counts = contacts_in(&fresh);
    assert_eq!(counts.len(), 2);
    assert!(
        counts.iter().any(|&n| (20..=20 + written).contains(&n)),
        "{counts:?}"
    );
    let listed = holdfast.run(&["--data-dir", fresh.to_str().unwrap(), "tenant", "list"]);
    listed.assert_ok();
    assert!(listed.stdout.contains("acme") && listed.stdout.contains("beta"));
}

#[tokio::test]
async fn a_restore_refuses_a_running_server_and_a_damaged_backup_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let _tenants = licensed_tenants(&app, &["acme"]).await;
    let holdfast = Holdfast::new();
    let data = app.data_dir().to_str().unwrap().to_owned();
    let out = holdfast.home.path().join("backups");
    holdfast
        .run(&[
            "--data-dir",
            &data,
            "backup",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert_ok();
    let file = first_file(&out);
    let file = file.as_str();

    let control = std::fs::read(app.data_dir().join("holdfast.db")).unwrap();
    let refused = holdfast.run(&["--data-dir", &data, "restore", file]);
    assert!(
        refused.assert_refused().contains("server is running"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read(app.data_dir().join("holdfast.db")).unwrap(),
        control
    );

    // One byte changed inside a database: verify says which file, restore changes nothing.
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes
        .windows(16)
        .position(|w| w == b"SQLite format 3\0")
        .unwrap();
    bytes[at + 4096 + 100] ^= 0x55;
    let damaged = holdfast.home.path().join("damaged.tar");
    std::fs::write(&damaged, bytes).unwrap();
    let damaged = damaged.to_str().unwrap();
    let checked = holdfast.run(&["backup", "verify", damaged]);
    assert!(
        checked
            .assert_refused()
            .contains("differs from the manifest"),
        "{}",
        checked.stderr
    );
    let elsewhere = holdfast.home.path().join("elsewhere");
    let elsewhere = elsewhere.to_str().unwrap();
    holdfast
        .run(&["--data-dir", elsewhere, "restore", file])
        .assert_ok();
    let before = std::fs::read(Path::new(elsewhere).join("holdfast.db")).unwrap();
    let refused = holdfast.run(&["--data-dir", elsewhere, "restore", damaged]);
    assert!(
        refused.assert_refused().contains("nothing was changed"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read(Path::new(elsewhere).join("holdfast.db")).unwrap(),
        before
    );
    // Not a backup at all.
    let text = holdfast.home.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let refused = holdfast.run(&["backup", "verify", text.to_str().unwrap()]);
    refused.assert_refused();
}

#[tokio::test]
async fn the_server_backs_up_on_schedule_keeps_the_newest_and_operators_download_them() {
    let app = TestApp::spawn_with(|s| {
        s.backup_interval_hours = 24;
        s.backup_keep = 2;
    })
    .await;
    let mut op = set_up(&app).await;
    // None yet: the first is made at once.
    let mut listed = serde_json::Value::Null;
    for _ in 0..200 {
        let (status, body) = op.get("/api/v1/admin/backups").await;
        assert_eq!(status, 200, "{body}");
        listed = body;
        if listed["last"]["ok"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(listed["last"]["by"], "schedule", "{listed}");
    assert_eq!(listed["interval_hours"], 24);
    assert_eq!(listed["backups"].as_array().unwrap().len(), 1, "{listed}");

    let mut names = Vec::new();
    for _ in 0..2 {
        let (status, made) = op.post("/api/v1/admin/backups", json!({})).await;
        assert_eq!(status, 201, "{made}");
        assert_eq!(made["databases"], 1);
        names.push(made["name"].as_str().unwrap().to_owned());
    }
    let (_, listed) = op.get("/api/v1/admin/backups").await;
    let kept: Vec<&str> = listed["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(kept.len(), 2, "only the newest two are kept: {listed}");
    assert!(kept.contains(&names[1].as_str()), "{listed}");
    assert!(
        listed["last"]["by"]
            .as_str()
            .unwrap()
            .starts_with("operator:")
    );

    let (status, headers, bytes) = op
        .send_raw(
            reqwest::Method::GET,
            &format!("/api/v1/admin/backups/{}", names[1]),
            Vec::new(),
            "text/plain",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-tar");
    let holdfast = Holdfast::new();
    let file = holdfast.home.path().join("downloaded.tar");
    std::fs::write(&file, bytes).unwrap();
    holdfast
        .run(&["backup", "verify", file.to_str().unwrap()])
        .assert_ok();
    for name in [
        "holdfast-backup-19700101T000000Z.tar",
        "..%2Fholdfast.db",
        "holdfast.db",
    ] {
        let (status, _) = op.get(&format!("/api/v1/admin/backups/{name}")).await;
        assert_eq!(status, 404, "{name}");
    }
}

/// Imports contacts named `rows` (one a line) into tenants acme and beta.
fn import_into(holdfast: &Holdfast, dir: &str, rows: &str) {
    let file = holdfast.home.path().join("people.csv");
    std::fs::write(&file, format!("first_name\n{rows}\n")).unwrap();
    for slug in ["acme", "beta"] {
        let file = file.to_str().unwrap();
        holdfast
            .run(&[
                "--data-dir",
                dir,
                "import",
                "--tenant",
                slug,
                "--type",
                "contacts",
                file,
            ])
            .assert_ok();
    }
}

fn first_file(dir: &Path) -> String {
    let entry = std::fs::read_dir(dir).unwrap().flatten().next().unwrap();
    entry.path().to_str().unwrap().to_owned()
}

#[test]
fn one_tenant_backs_up_and_restores_on_its_own_and_each_backup_only_as_what_it_is() {
    let holdfast = Holdfast::new();
    let data = holdfast.data_dir();
    let dir = data.to_str().unwrap();
    let key = crate::helpers::demo_key(|p| p.max_tenants = 3);
    holdfast
        .run(&["--data-dir", dir, "license", "install", &key])
        .assert_ok();
    for slug in ["acme", "beta"] {
        holdfast
            .run(&["--data-dir", dir, "tenant", "create", "--name", slug, slug])
            .assert_ok();
    }
    import_into(&holdfast, dir, "Ada\nBob");
    let out = holdfast.home.path().join("backups");
    let out_text = out.to_str().unwrap();
    let made = holdfast.run(&[
        "--data-dir",
        dir,
        "tenant",
        "backup",
        "acme",
        "--out",
        out_text,
    ]);
    made.assert_ok();
    let tenant_file = first_file(&out);
    let tenant_file = tenant_file.as_str();
    assert!(
        tenant_file.contains("holdfast-tenant-acme-"),
        "{tenant_file}"
    );
    holdfast.run(&["backup", "verify", tenant_file]).assert_ok();
    import_into(&holdfast, dir, "Cy\nDee");
    assert_eq!(contacts_in(&data).iter().sum::<i64>(), 8);

    holdfast
        .run(&["--data-dir", dir, "tenant", "restore", "acme", tenant_file])
        .assert_ok();
    let mut counts = contacts_in(&data);
    counts.sort_unstable();
    assert_eq!(
        counts,
        [2, 4],
        "acme is back to two contacts, beta keeps four"
    );

    let refused = holdfast.run(&["--data-dir", dir, "restore", tenant_file]);
    assert!(
        refused.assert_refused().contains("one tenant's backup"),
        "{}",
        refused.stderr
    );
    let refused = holdfast.run(&["--data-dir", dir, "tenant", "restore", "nope", tenant_file]);
    assert!(
        refused.assert_refused().contains("create it first"),
        "{}",
        refused.stderr
    );
    let whole = holdfast.home.path().join("whole");
    holdfast
        .run(&[
            "--data-dir",
            dir,
            "backup",
            "--out",
            whole.to_str().unwrap(),
        ])
        .assert_ok();
    let whole_file = first_file(&whole);
    let refused = holdfast.run(&[
        "--data-dir",
        dir,
        "tenant",
        "restore",
        "acme",
        whole_file.as_str(),
    ]);
    assert!(
        refused.assert_refused().contains("whole appliance"),
        "{}",
        refused.stderr
    );
}
