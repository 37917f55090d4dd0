//! The control database: created private, migrated at start and by `holdfast migrate`, and
//! refused when a newer release wrote it.

use std::os::unix::fs::PermissionsExt;

use holdfast::config::{Config, Settings};
use holdfast::storage::Schema;
use holdfast::web::Application;

use crate::helpers::{Holdfast, TestApp};

fn user_version(path: &std::path::Path) -> u32 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn starting_creates_a_private_data_dir_and_a_migrated_wal_database() {
    let app = TestApp::spawn().await;
    let db = app.data_dir().join("holdfast.db");
    assert_eq!(user_version(&db), Schema::Control.latest_version());
    let mode: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for dir in [app.data_dir().to_path_buf(), app.data_dir().join("tenants")] {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
}

#[test]
fn migrate_applies_once_and_is_idempotent() {
    let holdfast = Holdfast::new();
    let data_dir = holdfast.data_dir();
    let dir = data_dir.to_str().unwrap();
    let first = holdfast.run(&["migrate", "--data-dir", dir]);
    assert!(
        first
            .assert_ok()
            .stdout
            .contains("migrated from schema version 0 to"),
        "{}",
        first.stdout
    );
    let second = holdfast.run(&["migrate", "--data-dir", dir]);
    assert!(
        second.assert_ok().stdout.contains("up to date"),
        "{}",
        second.stdout
    );
    assert_eq!(
        user_version(&data_dir.join("holdfast.db")),
        Schema::Control.latest_version()
    );
}

#[test]
fn a_database_from_a_newer_release_is_refused_and_left_alone() {
    let holdfast = Holdfast::new();
    let data_dir = holdfast.data_dir();
    let dir = data_dir.to_str().unwrap();
    holdfast.run(&["migrate", "--data-dir", dir]).assert_ok();
    let db = data_dir.join("holdfast.db");
    let newer = Schema::Control.latest_version() + 5;
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();

    let run = holdfast.run(&["migrate", "--data-dir", dir]);
    let line = run.assert_refused();
    assert!(line.contains("newer than this Holdfast"), "{line}");
    assert!(
        line.contains("install that release again"),
        "says what to do: {line}"
    );

    let serve = holdfast.run(&["serve", "--data-dir", dir, "--listen", "127.0.0.1:0"]);
    assert!(serve.assert_refused().contains("newer than this Holdfast"));
    assert_eq!(user_version(&db), newer, "the database is untouched");
}

#[tokio::test]
async fn the_application_refuses_to_build_on_a_newer_database() {
    let data_dir = tempfile::tempdir().unwrap();
    let db = data_dir.path().join("holdfast.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let config = Config::from_settings(Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: Some(data_dir.path().to_path_buf()),
        ..Settings::default()
    })
    .unwrap();
    let err = Application::build(config).await.unwrap_err();
    assert!(format!("{err:#}").contains("schema version 999"), "{err:#}");
}
