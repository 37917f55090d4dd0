//! The command line: version, help, usage errors and the health check.

use crate::helpers::{Holdfast, TestApp};

#[test]
fn version_prints_version_commit_and_build_date() {
    let holdfast = Holdfast::new();
    let text = holdfast.run(&["version"]).assert_ok().stdout.clone();
    assert!(
        text.starts_with(&format!("holdfast {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(
        text.contains("commit:") && text.contains("build date:"),
        "{text}"
    );
    assert!(text.contains("trusted vendor keys: e4d7b523"), "{text}");
    assert!(text.contains("trusted release keys: dd5b5d1b"), "{text}");
    assert!(
        text.contains("WARNING: this build trusts the DEMO release key"),
        "{text}"
    );
    assert!(
        text.contains("WARNING: this build trusts the DEMO vendor key"),
        "{text}"
    );

    let json = holdfast.run(&["version", "--json"]).assert_ok().json();
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert!(json["commit"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(json["demo_key_trusted"], true);
    assert_eq!(json["demo_release_key_trusted"], true);
    let date = json["build_date"].as_str().unwrap();
    assert_eq!(date.len(), 10, "{date}");

    let flag = holdfast.run(&["--version"]).assert_ok().stdout.clone();
    assert!(flag.contains(env!("CARGO_PKG_VERSION")), "{flag}");
}

#[test]
fn output_to_a_reader_that_has_gone_ends_quietly() {
    // `holdfast version | grep -q holdfast`: grep may leave before holdfast writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let holdfast = Holdfast::new();
    for args in [&["version"][..], &["version", "--json"][..]] {
        let out = holdfast
            .command(args)
            .stdout(writer.try_clone().unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn every_command_has_help() {
    let holdfast = Holdfast::new();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["config", "--help"],
        &["config", "show", "--help"],
        &["healthcheck", "--help"],
        &["version", "--help"],
    ] {
        let run = holdfast.run(args);
        run.assert_ok();
        assert!(run.stdout.contains("Usage:"), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn bad_usage_exits_two() {
    let holdfast = Holdfast::new();
    for args in [
        &["no-such-command"][..],
        &["serve", "--no-such-flag"],
        &["config"],
        &["--log-format", "xml", "version"],
        &[],
    ] {
        let run = holdfast.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn healthcheck_exits_zero_when_the_server_answers() {
    let app = TestApp::spawn().await;
    let url = app.url("/healthz");
    let run =
        tokio::task::spawn_blocking(move || Holdfast::new().run(&["healthcheck", "--url", &url]))
            .await
            .unwrap();
    run.assert_ok();
    assert!(run.stdout.contains("answered 200"), "{}", run.stdout);
}

#[tokio::test]
async fn healthcheck_uses_the_configured_listen_address() {
    let app = TestApp::spawn().await;
    let addr = app.base_url.trim_start_matches("http://").to_owned();
    let run = tokio::task::spawn_blocking(move || {
        Holdfast::new().run_with_env(&["healthcheck"], &[("HOLDFAST_LISTEN", &addr)])
    })
    .await
    .unwrap();
    run.assert_ok();
}

#[tokio::test]
async fn healthcheck_fails_on_a_wrong_answer_or_no_answer() {
    let app = TestApp::spawn().await;
    let wrong = app.url("/nope");
    let run =
        tokio::task::spawn_blocking(move || Holdfast::new().run(&["healthcheck", "--url", &wrong]))
            .await
            .unwrap();
    assert!(
        run.assert_refused().contains("answered 404"),
        "{}",
        run.stderr
    );

    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("http://127.0.0.1:{port}/healthz");
    let run = Holdfast::new().run(&["healthcheck", "--url", &closed, "--timeout", "2"]);
    assert!(
        run.assert_refused().contains("did not answer"),
        "{}",
        run.stderr
    );
}
