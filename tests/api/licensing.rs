//! Licensing as a customer admin meets it: `holdfast license install|status|instance-id`, with
//! keys from `holdfast-signer`, and a running server that follows the installed key.

use std::time::Duration;

use holdfast::license::LicenseState;

use crate::helpers::{Holdfast, TestApp, demo_key, demo_vendor_key, signer};

fn status(holdfast: &Holdfast, data_dir: &str) -> serde_json::Value {
    holdfast
        .run(&["license", "status", "--json", "--data-dir", data_dir])
        .assert_ok()
        .json()
}

fn issue(extra: &[&str]) -> String {
    let key_file = demo_vendor_key();
    let mut args = vec![
        "issue",
        "--key",
        key_file.to_str().unwrap(),
        "--customer",
        "Acme Corporation International",
        "--edition",
        "enterprise",
        "--users",
        "50",
        "--tenants",
        "5",
    ];
    args.extend_from_slice(extra);
    signer(&args).assert_ok().stdout.trim().to_owned()
}

#[test]
fn without_a_key_the_appliance_runs_on_community_limits() {
    let holdfast = Holdfast::new();
    let dir = holdfast.data_dir();
    let dir = dir.to_str().unwrap();
    let shown = status(&holdfast, dir);
    assert_eq!(shown["state"], "unlicensed");
    assert_eq!(shown["seats_cap"], 5);
    assert_eq!(shown["tenants_cap"], 1);
    assert_eq!(shown["features"], serde_json::json!([]));
    assert_eq!(shown["demo_key_trusted"], true);
    assert_eq!(shown["trusted_key_ids"], serde_json::json!(["e4d7b523"]));
    let id = holdfast.run(&["license", "instance-id", "--data-dir", dir]);
    assert_eq!(id.assert_ok().stdout.trim(), shown["instance_id"]);

    let text = holdfast.run(&["license", "status", "--data-dir", dir]);
    assert!(
        text.assert_ok().stdout.contains("DEMO vendor key"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_key_from_the_signer_installs_from_an_argument_a_file_or_stdin() {
    let holdfast = Holdfast::new();
    let dir = holdfast.data_dir();
    let dir = dir.to_str().unwrap();
    let key = issue(&["--days", "365", "--features", "sso,branding"]);

    let run = holdfast.run(&["license", "install", &key, "--data-dir", dir]);
    assert!(
        run.assert_ok().stdout.contains("now valid"),
        "{}",
        run.stdout
    );
    let shown = status(&holdfast, dir);
    assert_eq!(shown["state"], "valid");
    assert_eq!(shown["customer"], "Acme Corporation International");
    assert_eq!(shown["seats_cap"], 50);
    assert_eq!(shown["tenants_cap"], 5);
    assert_eq!(shown["features"], serde_json::json!(["sso", "branding"]));
    assert_eq!(shown["days_left"], 365);
    assert_eq!(shown["history"].as_array().unwrap().len(), 1);
    assert!(
        shown["history"][0]["installed_by"]
            .as_str()
            .unwrap()
            .starts_with("cli")
    );

    // The same key wrapped over lines in a file, as it arrives by e-mail.
    let file = holdfast.home.path().join("license.txt");
    let wrapped: Vec<String> = key
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    std::fs::write(&file, format!("\n  {}\n", wrapped.join("\n  "))).unwrap();
    holdfast
        .run(&[
            "license",
            "install",
            "--file",
            file.to_str().unwrap(),
            "--data-dir",
            dir,
        ])
        .assert_ok();

    let mut child = holdfast
        .command(&["license", "install", "-", "--data-dir", dir])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), key.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        status(&holdfast, dir)["history"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn a_refused_key_says_exactly_why_and_keeps_the_previous_license() {
    let holdfast = Holdfast::new();
    let dir = holdfast.data_dir();
    let dir = dir.to_str().unwrap();
    let good = demo_key(|p| p.issued_at -= 3600);
    holdfast
        .run(&["license", "install", &good, "--data-dir", dir])
        .assert_ok();

    let foreign_key = holdfast.home.path().join("other-vendor.key");
    signer(&["keygen", "--out", foreign_key.to_str().unwrap()]).assert_ok();
    let foreign = signer(&[
        "issue",
        "--key",
        foreign_key.to_str().unwrap(),
        "--customer",
        "X",
        "--edition",
        "e",
        "--users",
        "1",
        "--tenants",
        "1",
        "--perpetual",
    ])
    .assert_ok()
    .stdout
    .trim()
    .to_owned();
    let mut tampered = good.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    let cases = [
        ("HF1.not-a-key".to_owned(), "license_invalid (malformed)"),
        (tampered, "license_invalid (bad_signature)"),
        (foreign, "license_invalid (unknown_key)"),
        (
            demo_key(|p| p.instance = Some("another-appliance".into())),
            "license_invalid (wrong_instance)",
        ),
        (
            demo_key(|p| p.issued_at += 3600),
            "license_invalid (issued_in_future)",
        ),
        (
            // Same license, issued before the installed key: last year's key cannot come back.
            demo_key(|p| {
                p.issued_at -= 7200;
                p.max_seats = 500;
            }),
            "license_invalid (superseded)",
        ),
        (
            demo_key(|p| {
                p.license_id = "old".into();
                p.issued_at -= 400 * 86_400;
                p.expires_at = Some(p.issued_at + 365 * 86_400);
            }),
            "license_expired",
        ),
    ];
    for (key, expected) in cases {
        let run = holdfast.run(&["license", "install", &key, "--data-dir", dir]);
        let line = run.assert_refused();
        assert!(line.contains(expected), "{expected}: {line}");
        assert!(line.contains("the current license is unchanged"), "{line}");
        let shown = status(&holdfast, dir);
        assert_eq!(shown["license_id"], "test-license", "after {expected}");
        assert_eq!(shown["seats_cap"], 50);
    }
    assert_eq!(
        status(&holdfast, dir)["history"].as_array().unwrap().len(),
        1,
        "refusals store nothing"
    );
}

#[test]
fn a_key_bound_to_this_instance_installs() {
    let holdfast = Holdfast::new();
    let dir = holdfast.data_dir();
    let dir = dir.to_str().unwrap();
    let id = holdfast
        .run(&["license", "instance-id", "--data-dir", dir])
        .stdout
        .trim()
        .to_owned();
    let key = issue(&["--days", "30", "--instance", &id]);
    holdfast
        .run(&["license", "install", &key, "--data-dir", dir])
        .assert_ok();
    assert_eq!(status(&holdfast, dir)["state"], "valid");
}

#[test]
fn expiry_is_judged_by_the_high_water_mark_when_the_clock_is_set_back() {
    let holdfast = Holdfast::new();
    let data_dir = holdfast.data_dir();
    let dir = data_dir.to_str().unwrap();
    let key = demo_key(|p| p.expires_at = Some(p.issued_at + 10 * 86_400));
    holdfast
        .run(&["license", "install", &key, "--data-dir", dir])
        .assert_ok();
    assert_eq!(status(&holdfast, dir)["state"], "valid");

    // The appliance once saw a time 30 days ahead; the clock has since been set back.
    let conn = rusqlite::Connection::open(data_dir.join("holdfast.db")).unwrap();
    conn.execute(
        "UPDATE clock SET high_water_unix = unixepoch('now') + 30 * 86400",
        [],
    )
    .unwrap();
    let shown = status(&holdfast, dir);
    assert_eq!(shown["state"], "expired", "{shown}");
    assert_eq!(shown["clock_set_back"], true);
    assert!(shown["clock_set_back_last_seen"].is_string());
}

#[tokio::test]
async fn a_running_server_picks_up_a_key_installed_by_the_cli() {
    let app = TestApp::spawn().await;
    assert_eq!(app.license().effective().state, LicenseState::Unlicensed);
    let dir = app.data_dir().to_str().unwrap().to_owned();
    let key = demo_key(|_| {});
    tokio::task::spawn_blocking(move || {
        Holdfast::new()
            .run(&["license", "install", &key, "--data-dir", &dir])
            .assert_ok();
    })
    .await
    .unwrap();
    for _ in 0..50 {
        if app.license().effective().state == LicenseState::Valid {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the server did not pick up the new key within 10 s");
}

#[tokio::test]
async fn a_renewal_installed_ahead_takes_over_by_itself_at_its_date() {
    let app = TestApp::spawn().await;
    let license = app.license();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    license.install(&demo_key(|_| {}), "test").unwrap();
    let renewal = demo_key(|p| {
        p.issued_at = now;
        p.not_before = Some(now + 3);
        p.max_seats = 80;
    });
    let outcome = license.install(&renewal, "test").unwrap();
    assert_eq!(outcome.decision, holdfast::license::InstallDecision::Next);
    let before = license.effective();
    assert_eq!(before.max_seats, 50, "the current license stays in force");
    assert!(before.pending.is_some());
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let after = license.effective();
    assert_eq!(after.state, LicenseState::Valid);
    assert_eq!(
        after.max_seats, 80,
        "the renewal took over without a restart"
    );
}
