//! Mail through an SMTP server the test runs on loopback: invitations, password resets and
//! license warnings arrive; without SMTP nothing is mailed and links are shown as before.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{Holdfast, TestApp, demo_key, licensed_tenants};

/// A minimal SMTP server: accepts every letter and keeps its envelope recipient and text.
struct Inbox {
    port: u16,
    letters: Arc<Mutex<Vec<(String, String)>>>,
}

impl Inbox {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let letters = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&letters);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = Arc::clone(&kept);
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 inbox ESMTP\r\n").await.unwrap();
                    let (mut to, mut text, mut in_data) = (String::new(), String::new(), false);
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data {
                            if line == "." {
                                in_data = false;
                                kept.lock().unwrap().push((to.clone(), text.clone()));
                                write.write_all(b"250 kept\r\n").await.unwrap();
                            } else {
                                text.push_str(&line);
                                text.push('\n');
                            }
                            continue;
                        }
                        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                        let answer: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 inbox\r\n",
                            "RCPT" => {
                                to = line.trim_start_matches("RCPT TO:").trim().to_owned();
                                b"250 ok\r\n"
                            }
                            "DATA" => {
                                in_data = true;
                                text.clear();
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        };
                        write.write_all(answer).await.unwrap();
                    }
                });
            }
        });
        Self { port, letters }
    }

    fn settings(&self, s: &mut holdfast::config::Settings) {
        s.smtp_host = Some("127.0.0.1".into());
        s.smtp_port = self.port;
        s.smtp_security = "none".into();
        s.smtp_from = Some("Holdfast <crm@acme.test>".into());
    }

    fn letters(&self) -> Vec<(String, String)> {
        self.letters.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn invitations_and_password_resets_are_mailed_when_smtp_is_set() {
    let inbox = Inbox::start().await;
    let app = TestApp::spawn_with(|s| inbox.settings(s)).await;
    let mut people = licensed_tenants(&app, &["acme"]).await.remove(0);
    let before = inbox.letters().len();
    let (status, body) = people[0]
        .1
        .post(
            "/t/acme/api/v1/users",
            json!({ "email": "newbie@acme.test", "role": "member" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["mailed"], true);
    let letters = inbox.letters();
    assert_eq!(letters.len(), before + 1);
    let (to, text) = letters.last().unwrap();
    assert_eq!(to, "<newbie@acme.test>");
    let link = body["invite_link"].as_str().unwrap();
    let unfolded = text.replace("=\n", "");
    assert!(unfolded.contains("as member"), "{text}");
    assert!(
        unfolded.contains(&link[link.len() - 20..]),
        "the link is in the letter: {text}"
    );

    let id = body["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = people[0]
        .1
        .post(
            &format!("/t/acme/api/v1/users/{id}/reset-password"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mailed"], true);
    assert!(
        inbox
            .letters()
            .last()
            .unwrap()
            .1
            .contains("Subject: Set a new Holdfast password")
    );

    // Without SMTP: shown, not mailed.
    let plain = TestApp::spawn().await;
    let mut people = licensed_tenants(&plain, &["acme"]).await.remove(0);
    let (_, body) = people[0]
        .1
        .post(
            "/t/acme/api/v1/users",
            json!({ "email": "other@acme.test", "role": "member" }),
        )
        .await;
    assert_eq!(body["mailed"], false);
    assert!(body["invite_link"].is_string());
}

#[tokio::test]
async fn operators_are_warned_once_when_the_license_is_about_to_expire() {
    let inbox = Inbox::start().await;
    let holdfast = Holdfast::new();
    let data = holdfast.data_dir();
    let dir = data.to_str().unwrap();
    let soon = time::OffsetDateTime::now_utc().unix_timestamp() + 5 * 86_400;
    let key = demo_key(|p| p.expires_at = Some(soon));
    holdfast
        .run(&["--data-dir", dir, "license", "install", &key])
        .assert_ok();
    holdfast
        .run_with_stdin(
            &[
                "--data-dir",
                dir,
                "admin",
                "create",
                "--email",
                "op@acme.test",
                "--password-stdin",
            ],
            crate::helpers::PASSWORD,
        )
        .assert_ok();
    let app = TestApp::spawn_with(|s| {
        inbox.settings(s);
        s.data_dir = Some(data.clone());
    })
    .await;
    let mut letters = Vec::new();
    for _ in 0..100 {
        letters = inbox.letters();
        if !letters.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].0, "<op@acme.test>");
    assert!(letters[0].1.contains("expires in"), "{}", letters[0].1);
    // Noted, so that the next look (hourly, or after a restart) does not send it again.
    let conn = rusqlite::Connection::open(app.data_dir().join("holdfast.db")).unwrap();
    let noted: i64 = conn
        .query_row(
            "SELECT count(*) FROM appliance_meta WHERE key = 'license_warning:test-license:7_days'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(noted, 1);
}

#[tokio::test]
async fn the_command_line_mails_the_invitations_it_prints() {
    let inbox = Inbox::start().await;
    let port = inbox.port.to_string();
    let run = tokio::task::spawn_blocking(move || {
        let holdfast = Holdfast::new();
        let data = holdfast.data_dir();
        let env = [
            ("HOLDFAST_SMTP_HOST", "127.0.0.1"),
            ("HOLDFAST_SMTP_PORT", port.as_str()),
            ("HOLDFAST_SMTP_SECURITY", "none"),
            ("HOLDFAST_SMTP_FROM", "crm@acme.test"),
        ];
        let args = [
            "--data-dir",
            data.to_str().unwrap(),
            "tenant",
            "create",
            "--name",
            "Acme",
            "--owner-email",
            "boss@acme.test",
            "acme",
        ];
        holdfast.run_with_env(&args, &env)
    })
    .await
    .unwrap();
    run.assert_ok();
    assert!(
        run.stdout.contains("mailed to boss@acme.test"),
        "{}",
        run.stdout
    );
    let letters = inbox.letters();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].0, "<boss@acme.test>");
    assert!(letters[0].1.contains("as owner"), "{}", letters[0].1);
}
