//! Tenants from the command line: each on its own database file, counted against the license,
//! created race-free even by two processes at once.

use std::process::Stdio;

use crate::helpers::{Holdfast, TestApp, demo_key};

struct Appliance {
    holdfast: Holdfast,
    dir: String,
}

impl Appliance {
    fn new() -> Self {
        let holdfast = Holdfast::new();
        let dir = holdfast.data_dir().to_str().unwrap().to_owned();
        Self { holdfast, dir }
    }

    fn run(&self, args: &[&str]) -> crate::helpers::Run {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--data-dir", &self.dir]);
        self.holdfast.run(&all)
    }

    fn license(&self, tenants: u32) {
        let key = demo_key(|p| p.max_tenants = tenants);
        self.run(&["license", "install", &key]).assert_ok();
    }

    fn tenant_files(&self) -> usize {
        std::fs::read_dir(self.holdfast.data_dir().join("tenants"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "db")
            })
            .count()
    }
}

#[test]
fn a_tenant_gets_its_own_database_and_can_be_suspended_resumed_and_deleted() {
    let app = Appliance::new();
    app.license(5);
    let created = app.run(&["tenant", "create", "acme", "--name", "Acme Ltd"]);
    assert!(
        created.assert_ok().stdout.contains("created tenant acme"),
        "{}",
        created.stdout
    );
    let shown = app
        .run(&["tenant", "show", "acme", "--json"])
        .assert_ok()
        .json();
    assert_eq!(shown["name"], "Acme Ltd");
    assert_eq!(shown["status"], "active");
    let id = shown["id"].as_str().unwrap().to_owned();
    let db = app
        .holdfast
        .data_dir()
        .join("tenants")
        .join(format!("{id}.db"));
    let version: u32 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, holdfast::storage::Schema::Tenant.latest_version());

    let suspended = app
        .run(&["tenant", "suspend", "acme", "--json"])
        .assert_ok()
        .json();
    assert_eq!(suspended["status"], "suspended");
    let resumed = app
        .run(&["tenant", "resume", "acme", "--json"])
        .assert_ok()
        .json();
    assert_eq!(resumed["status"], "active");

    app.run(&["tenant", "create", "beta", "--name", "Beta"])
        .assert_ok();
    let list = app.run(&["tenant", "list", "--json"]).assert_ok().json();
    let slugs: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["acme", "beta"]);
    assert_eq!(
        app.run(&["license", "status", "--json"]).json()["tenants_used"],
        2
    );

    let unconfirmed = app.run(&["tenant", "delete", "acme"]);
    assert!(unconfirmed.assert_refused().contains("--yes"));
    assert!(db.exists(), "nothing deleted without --yes");
    app.run(&["tenant", "delete", "acme", "--yes"]).assert_ok();
    assert!(!db.exists(), "the database file is gone");
    let gone = app.run(&["tenant", "show", "acme"]);
    assert!(gone.assert_refused().contains("tenant_not_found"));
    assert_eq!(app.tenant_files(), 1);
}

#[test]
fn bad_or_taken_slugs_are_refused_and_create_nothing() {
    let app = Appliance::new();
    app.license(5);
    for slug in ["Acme", "x-", "admin", "a.b"] {
        let run = app.run(&["tenant", "create", slug, "--name", "X"]);
        assert!(
            run.assert_refused().contains("invalid slug"),
            "{slug}: {}",
            run.stderr
        );
    }
    app.run(&["tenant", "create", "acme", "--name", "Acme"])
        .assert_ok();
    let again = app.run(&["tenant", "create", "acme", "--name", "Acme again"]);
    assert!(again.assert_refused().contains("slug_taken"));
    let no_name = app.run(&["tenant", "create", "blank", "--name", "  "]);
    no_name.assert_refused();
    assert_eq!(app.tenant_files(), 1);
}

#[test]
fn the_license_caps_tenants_and_community_allows_one() {
    let app = Appliance::new();
    app.run(&["tenant", "create", "first", "--name", "First"])
        .assert_ok();
    let second = app.run(&["tenant", "create", "second", "--name", "Second"]);
    assert!(
        second
            .assert_refused()
            .starts_with("error: tenant_limit_reached"),
        "{}",
        second.stderr
    );
    assert_eq!(
        app.tenant_files(),
        1,
        "a refused tenant leaves no database behind"
    );

    app.license(2);
    app.run(&["tenant", "create", "second", "--name", "Second"])
        .assert_ok();
    let third = app.run(&["tenant", "create", "third", "--name", "Third"]);
    assert!(third.assert_refused().contains("tenant_limit_reached"));
}

#[test]
fn two_processes_creating_at_one_below_the_cap_yield_exactly_one_tenant() {
    for _ in 0..3 {
        let app = Appliance::new();
        app.license(2);
        app.run(&["tenant", "create", "first", "--name", "First"])
            .assert_ok();
        let racers: Vec<_> = ["left", "right"]
            .iter()
            .map(|slug| {
                app.holdfast
                    .command(&[
                        "tenant",
                        "create",
                        slug,
                        "--name",
                        slug,
                        "--data-dir",
                        &app.dir,
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outcomes: Vec<_> = racers
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let wins = outcomes.iter().filter(|o| o.status.success()).count();
        assert_eq!(wins, 1, "exactly one of the two");
        let loser = outcomes.iter().find(|o| !o.status.success()).unwrap();
        assert!(String::from_utf8_lossy(&loser.stderr).contains("tenant_limit_reached"));
        assert_eq!(app.tenant_files(), 2);
    }
}

#[tokio::test]
async fn the_server_opens_tenant_databases_lazily_and_keeps_a_bounded_number_open() {
    let app = TestApp::spawn_with(|s| s.max_open_tenant_dbs = 2).await;
    let dir = app.data_dir().to_str().unwrap().to_owned();
    let ids = tokio::task::spawn_blocking(move || {
        let holdfast = Holdfast::new();
        let key = demo_key(|p| p.max_tenants = 3);
        holdfast
            .run(&["license", "install", &key, "--data-dir", &dir])
            .assert_ok();
        ["one", "two", "three"]
            .iter()
            .map(|slug| {
                holdfast
                    .run(&["tenant", "create", slug, "--name", slug, "--data-dir", &dir])
                    .assert_ok();
                let shown = holdfast.run(&["tenant", "show", slug, "--json", "--data-dir", &dir]);
                shown.json()["id"]
                    .as_str()
                    .unwrap()
                    .parse::<holdfast::tenancy::TenantId>()
                    .unwrap()
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();

    let dbs = app.tenant_dbs();
    assert_eq!(dbs.open_count(), 0, "nothing opened before it is needed");
    for id in &ids {
        let db = dbs.get(id).unwrap();
        let count: i64 = db
            .run(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM tenant_meta WHERE key = 'created_at'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(count, 1);
    }
    assert_eq!(dbs.open_count(), 2, "the bound holds");
}

/// A crash between writing a tenant's database and committing its row (or between removing
/// the row and the file) leaves a database no tenant owns: the server moves it aside at start
/// and says so, and never deletes it.
#[tokio::test]
async fn a_database_no_tenant_owns_is_moved_aside_at_start() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir_all(data.join("tenants")).unwrap();
    let id = holdfast::tenancy::TenantId::generate();
    let lost = data.join("tenants").join(format!("{id}.db"));
    rusqlite::Connection::open(&lost)
        .unwrap()
        .execute_batch("CREATE TABLE kept (text TEXT); INSERT INTO kept VALUES ('precious');")
        .unwrap();
    let app = TestApp::spawn_with(|s| s.data_dir = Some(data.clone())).await;
    assert!(!lost.exists());
    let aside: Vec<_> = std::fs::read_dir(app.data_dir().join("orphans"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let kept: String = rusqlite::Connection::open(&aside[0])
        .unwrap()
        .query_row("SELECT text FROM kept", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "precious");
}
