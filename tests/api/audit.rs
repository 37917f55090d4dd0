//! The audit log: every state change by the CLI and the API, in the control database or the
//! tenant's, hash-chained so that `holdfast audit verify` finds the first edited entry.

use serde_json::{Value, json};

use crate::helpers::{
    Browser, Holdfast, PASSWORD, TestApp, install_license, invite_owner, licensed_tenants, set_up,
};

fn actions(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn cli_actions_are_recorded_and_tampering_is_found() {
    let holdfast = Holdfast::new();
    let dir = holdfast.data_dir().to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--data-dir", &dir]);
        holdfast.run(&all)
    };
    run(&["tenant", "create", "acme", "--name", "Acme"]).assert_ok();
    run(&["tenant", "create", "beta", "--name", "Beta"]).assert_refused();
    run(&["tenant", "suspend", "acme"]).assert_ok();
    run(&["tenant", "resume", "acme"]).assert_ok();
    run(&[
        "user",
        "create",
        "--tenant",
        "acme",
        "--email",
        "a@acme.test",
        "--role",
        "owner",
    ])
    .assert_ok();
    run(&[
        "user",
        "create",
        "--tenant",
        "acme",
        "--email",
        "a@acme.test",
        "--role",
        "owner",
    ])
    .assert_refused();

    let control = run(&["audit", "list", "--json"]).assert_ok().json();
    assert_eq!(
        actions(&control),
        [
            "tenant resume tenant acme success",
            "tenant suspend tenant acme success",
            "tenant create tenant beta refused:tenant_limit_reached",
            "tenant create tenant acme success",
        ]
    );
    assert!(control[0]["actor"].as_str().unwrap().starts_with("cli:"));
    let tenant = run(&["audit", "list", "--tenant", "acme", "--json"])
        .assert_ok()
        .json();
    assert_eq!(
        actions(&tenant),
        [
            "user create user a@acme.test refused:user_exists",
            "user create user a@acme.test success"
        ]
    );

    let verified = run(&["audit", "verify"]);
    let out = &verified.assert_ok().stdout;
    assert!(
        out.contains("control: 4 entries, chain intact")
            && out.contains("tenant acme: 2 entries, chain intact"),
        "{out}"
    );

    let conn = rusqlite::Connection::open(holdfast.data_dir().join("holdfast.db")).unwrap();
    conn.execute(
        "UPDATE audit_log SET target = 'tenant other' WHERE seq = 2",
        [],
    )
    .unwrap();
    let broken = run(&["audit", "verify"]);
    let line = broken.assert_refused();
    assert!(line.contains("control: chain broken at entry 2"), "{line}");

    let report = run(&["audit", "verify", "--tenant", "acme", "--json"])
        .assert_ok()
        .json();
    assert_eq!(report[0]["intact"], true, "only acme's log: intact");
    let tenant_db = std::fs::read_dir(holdfast.data_dir().join("tenants"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "db"))
        .unwrap();
    let conn = rusqlite::Connection::open(tenant_db).unwrap();
    conn.execute("DELETE FROM audit_log WHERE seq = 1", [])
        .unwrap();
    let broken = run(&["audit", "verify", "--tenant", "acme"]);
    assert!(
        broken
            .assert_refused()
            .contains("tenant acme: chain broken at entry 1"),
        "{}",
        broken.stderr
    );
}

/// An appliance with tenant `acme`, its owner invited; the operator and the invitation token.
async fn acme_invited(app: &TestApp) -> (Browser<'_>, String) {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| {
        p.max_tenants = 3;
        p.max_seats = 10;
    })
    .await;
    let token = invite_owner(&mut op, "acme").await;
    (op, token)
}

#[tokio::test]
async fn operator_actions_are_recorded_with_actor_address_and_outcome() {
    let app = TestApp::spawn().await;
    let (mut op, _) = acme_invited(&app).await;
    let (status, log) = op.get("/api/v1/admin/audit").await;
    assert_eq!(status, 200, "{log}");
    let entries = &log["entries"];
    let seen = actions(entries);
    assert_eq!(
        seen[0], "POST /api/v1/admin/tenants tenant acme success",
        "{seen:?}"
    );
    assert!(
        seen[1].starts_with("PUT /api/v1/admin/license license "),
        "{seen:?}"
    );
    assert_eq!(
        seen[2],
        "POST /api/v1/admin/auth/login operator op@example.com success"
    );
    assert_eq!(seen[3], "POST /setup operator op@example.com success");
    assert!(
        entries[0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("operator:")
    );
    assert_eq!(entries[0]["address"], "127.0.0.1");
}

#[tokio::test]
async fn tenant_actions_are_recorded_in_the_tenant_log_for_its_admins() {
    let app = TestApp::spawn().await;
    let (_, token) = acme_invited(&app).await;
    let base = "/t/acme/api/v1";
    let mut owner = Browser::new(&app);
    owner
        .post(
            &format!("{base}/auth/accept-invite"),
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    let (status, _) = owner
        .post(
            &format!("{base}/auth/login"),
            json!({ "email": "owner@acme.test", "password": "wrong password" }),
        )
        .await;
    assert_eq!(status, 401);
    owner
        .post(
            &format!("{base}/auth/login"),
            json!({ "email": "owner@acme.test", "password": PASSWORD }),
        )
        .await;
    owner
        .post(
            &format!("{base}/users"),
            json!({ "email": "v@acme.test", "role": "viewer", "password": PASSWORD }),
        )
        .await;
    let mut viewer = Browser::new(&app);
    viewer
        .post(
            &format!("{base}/auth/login"),
            json!({ "email": "v@acme.test", "password": PASSWORD }),
        )
        .await;
    let (status, _) = viewer
        .post(
            &format!("{base}/users"),
            json!({ "email": "x@acme.test", "role": "admin" }),
        )
        .await;
    assert_eq!(status, 403);

    let (status, log) = owner.get(&format!("{base}/audit")).await;
    assert_eq!(status, 200, "{log}");
    let seen = actions(&log["entries"]);
    assert_eq!(
        seen,
        [
            "POST /api/v1/users /t/acme/api/v1/users refused:forbidden",
            "POST /api/v1/auth/login user v@acme.test success",
            "POST /api/v1/users user v@acme.test as viewer success",
            "POST /api/v1/auth/login user owner@acme.test success",
            "POST /api/v1/auth/login user owner@acme.test refused:invalid_credentials",
            "POST /api/v1/auth/accept-invite user owner@acme.test success",
        ]
    );
    let (_, page) = owner.get(&format!("{base}/audit?limit=2")).await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    let next = page["next_before"].as_i64().unwrap();
    let (_, rest) = owner.get(&format!("{base}/audit?before={next}")).await;
    assert_eq!(rest["entries"].as_array().unwrap().len(), 4);

    let (status, _) = viewer.get(&format!("{base}/audit")).await;
    assert_eq!(status, 403, "the audit log is for admins");
}

#[test]
fn a_tenant_database_behind_the_binary_is_migrated_when_opened() {
    let holdfast = Holdfast::new();
    let dir = holdfast.data_dir().to_str().unwrap().to_owned();
    holdfast
        .run(&[
            "tenant",
            "create",
            "acme",
            "--name",
            "Acme",
            "--data-dir",
            &dir,
        ])
        .assert_ok();
    let tenant_db = std::fs::read_dir(holdfast.data_dir().join("tenants"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "db"))
        .unwrap();
    // As an older release left it: before the audit log existed.
    for suffix in ["", "-wal", "-shm"] {
        let mut file = tenant_db.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    let conn = rusqlite::Connection::open(&tenant_db).unwrap();
    conn.execute_batch(include_str!("../../migrations/tenant/0001_tenant.sql"))
        .unwrap();
    conn.execute_batch("PRAGMA user_version = 1;").unwrap();
    drop(conn);
    holdfast
        .run(&[
            "user",
            "create",
            "--tenant",
            "acme",
            "--email",
            "a@acme.test",
            "--role",
            "owner",
            "--data-dir",
            &dir,
        ])
        .assert_ok();
    let listed = holdfast
        .run(&[
            "audit",
            "list",
            "--tenant",
            "acme",
            "--json",
            "--data-dir",
            &dir,
        ])
        .assert_ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let version: u32 = rusqlite::Connection::open(&tenant_db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, holdfast::storage::Schema::Tenant.latest_version());
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_address_is_recorded() {
    for (trusted, expected) in [("127.0.0.1", "203.0.113.7"), ("", "127.0.0.1")] {
        let app = TestApp::spawn_with(|s| s.trusted_proxies = trusted.into()).await;
        let _op = set_up(&app).await;
        let response = app
            .client
            .post(app.url("/api/v1/admin/auth/login"))
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
            .json(&json!({ "email": "op@example.com", "password": "wrong password!" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let mut op = Browser::new(&app);
        op.post(
            "/api/v1/admin/auth/login",
            json!({ "email": "op@example.com", "password": PASSWORD }),
        )
        .await;
        let (_, log) = op.get("/api/v1/admin/audit").await;
        let refused = log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["outcome"] == "refused:invalid_credentials")
            .unwrap();
        assert_eq!(refused["address"], expected, "trusted proxies {trusted:?}");
    }
}

/// The anonymous refusals of an audit log page.
fn anonymous(log: &Value) -> Vec<String> {
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "anonymous" && e["outcome"] != "success")
        .map(|e| format!("{} {}", e["target"], e["outcome"]))
        .collect()
}

#[tokio::test]
async fn refusals_anyone_can_repeat_at_will_are_not_written_one_row_each() {
    let app = TestApp::spawn().await;
    let (mut op, token) = acme_invited(&app).await;
    for _ in 0..60 {
        let response = app
            .client
            .post(app.url("/setup"))
            .json(&json!({ "token": "junk", "operator": { "email": "x@y.co", "password": PASSWORD } }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
    let (_, log) = op.get("/api/v1/admin/audit?limit=500").await;
    let rows = anonymous(&log);
    assert_eq!(rows.len(), 20, "{rows:?}");
    assert!(
        rows[0].contains("are not recorded for 15 minutes"),
        "{rows:?}"
    );

    crate::helpers::accept_invite(&app, "acme", &token).await;
    let junk = "A".repeat(43);
    for route in ["accept-invite", "reset-password"].iter().cycle().take(60) {
        app.client
            .post(app.url(&format!("/t/acme/api/v1/auth/{route}")))
            .json(&json!({ "token": junk, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
    }
    let mut owner = Browser::new(&app);
    owner
        .post(
            "/t/acme/api/v1/auth/login",
            json!({ "email": "owner@acme.test", "password": PASSWORD }),
        )
        .await;
    let (_, log) = owner.get("/t/acme/api/v1/audit?limit=500").await;
    let rows = anonymous(&log);
    assert!(
        rows.len() <= 20,
        "junk links are bounded by their throttle: {}",
        rows.len()
    );
}

#[tokio::test]
async fn audit_list_shows_hostile_sign_in_names_escaped_on_their_own_line() {
    let app = TestApp::spawn().await;
    let forged = "x@y.co\n     9  2026-01-01T00:00:00Z  operator:forged  admin create  operator evil@y.co  -  success";
    let hostile = [
        forged,
        "\u{1b}[2J\u{1b}]0;owned\u{7}x@y.co",
        "\u{202e}oc.y@x",
    ];
    for email in hostile {
        let response = app
            .client
            .post(app.url("/api/v1/admin/auth/login"))
            .json(&json!({ "email": email, "password": "wrong password!" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    let dir = app.data_dir().to_str().unwrap().to_owned();
    let holdfast = Holdfast::new();
    let listed = holdfast.run(&["audit", "list", "--data-dir", &dir]);
    let text = &listed.assert_ok().stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        1 + hostile.len(),
        "a heading and one line per entry:\n{text}"
    );
    assert!(
        !text.contains(['\u{1b}', '\u{7}', '\u{202e}', '\r']),
        "no raw control or override: {text:?}"
    );
    assert!(text.contains("operator x@y.co\\n     9  2026"), "{text}");
    assert!(text.contains("operator \\u{1b}[2J"), "{text}");
    // The log keeps what was typed; JSON carries it exactly.
    let entries = holdfast
        .run(&["audit", "list", "--json", "--data-dir", &dir])
        .assert_ok()
        .json();
    assert_eq!(entries[2]["target"], format!("operator {forged}"));
}

/// The audit log's JSON takes the same filters as its page: an action's text, a time span,
/// an actor; a moment that is not RFC 3339 is refused.
#[tokio::test]
async fn the_audit_log_is_filtered_by_action_time_and_actor() {
    let app = TestApp::spawn().await;
    let mut op = set_up(&app).await;
    install_license(&mut op, |p| p.max_tenants = 3).await;
    invite_owner(&mut op, "acme").await;
    invite_owner(&mut op, "beta").await;
    let (status, all) = op.get("/api/v1/admin/audit?action=tenants").await;
    assert_eq!(status, 200, "{all}");
    let entries = all["entries"].as_array().unwrap();
    assert!(entries.len() >= 2, "{all}");
    assert!(
        entries
            .iter()
            .all(|e| e["action"].as_str().unwrap().contains("tenants"))
    );
    let actor = entries[0]["actor"].as_str().unwrap().to_owned();
    let (_, by) = op.get(&format!("/api/v1/admin/audit?actor={actor}")).await;
    assert!(
        by["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == actor.as_str())
    );
    let (_, future) = op
        .get("/api/v1/admin/audit?from=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(future["entries"].as_array().unwrap().len(), 0);
    let (status, _) = op.get("/api/v1/admin/audit?from=yesterday").await;
    assert_eq!(status, 400);
}

/// A tenant's database file, opened beside the running server.
fn tenant_file(app: &TestApp, slug: &str) -> rusqlite::Connection {
    let id: String = rusqlite::Connection::open(app.data_dir().join("holdfast.db"))
        .unwrap()
        .query_row("SELECT id FROM tenants WHERE slug = ?1", [slug], |r| {
            r.get(0)
        })
        .unwrap();
    rusqlite::Connection::open(app.tenant_dbs().path(&id.parse().unwrap())).unwrap()
}

/// A CRM change commits with its audit entry, in one transaction: when the entry cannot be
/// written, the change is not made either, so the log never misses a change.
#[tokio::test]
async fn a_crm_change_commits_with_its_audit_entry_or_not_at_all() {
    let app = TestApp::spawn().await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let owner = &mut people[0].1;
    let base = "/t/acme/api/v1";
    let (status, ada) = owner
        .post(&format!("{base}/contacts"), json!({ "first_name": "Ada" }))
        .await;
    assert_eq!(status, 201, "{ada}");
    let (_, log) = owner.get(&format!("{base}/audit")).await;
    assert_eq!(
        actions(&log["entries"])[0],
        format!(
            "POST /api/v1/contacts contact {} success",
            ada["contact"]["id"].as_str().unwrap()
        )
    );

    // The tenant's log takes no entry (as a broken file would not).
    let file = tenant_file(&app, "acme");
    file.execute_batch(
        "CREATE TRIGGER closed_log BEFORE INSERT ON audit_log
         BEGIN SELECT RAISE(ABORT, 'the log is closed'); END;",
    )
    .unwrap();
    let (status, body) = owner
        .post(&format!("{base}/contacts"), json!({ "first_name": "Bea" }))
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal_error", "{body}");
    file.execute_batch("DROP TRIGGER closed_log").unwrap();

    let (_, list) = owner.get(&format!("{base}/contacts")).await;
    let names: Vec<&str> = list["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada"], "the change went with its entry");
}
