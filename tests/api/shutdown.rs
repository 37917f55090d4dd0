//! `holdfast serve` as an operator runs it: it logs where things live, writes request logs to
//! stdout and the log files, and on SIGTERM or SIGINT lets in-flight requests finish and
//! exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::Holdfast;

/// A `holdfast serve` child on a random port, with what it printed until it was listening.
pub struct Served {
    child: Child,
    pub addr: String,
    pub startup: Vec<String>,
}

pub fn serve(holdfast: &Holdfast, extra: &[&str]) -> Served {
    serve_with_env(holdfast, extra, &[])
}

fn serve_with_env(holdfast: &Holdfast, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let data_dir = holdfast.data_dir();
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut child = holdfast
        .command(&args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut startup = Vec::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve printed a listening line before exiting")
            .unwrap();
        startup.push(line.clone());
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .trim_end_matches('"')
                .split(['"', ' '])
                .next()
                .unwrap()
                .to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Served {
        child,
        addr,
        startup,
    }
}

impl Served {
    fn signal(&self, signal: Signal) {
        kill(
            Pid::from_raw(i32::try_from(self.child.id()).unwrap()),
            signal,
        )
        .unwrap();
    }

    /// Sends `signal` and returns the exit code.
    pub async fn stop(mut self, signal: Signal) -> i32 {
        self.signal(signal);
        tokio::task::spawn_blocking(move || wait_for_exit(&mut self.child))
            .await
            .unwrap()
    }
}

fn wait_for_exit(child: &mut Child) -> i32 {
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    panic!("serve did not exit within 10 s of the signal");
}

/// The server asks the kernel for no transparent huge pages: after a burst of requests its
/// allocator gives memory back, and each huge page faulted in again is zeroed whole (2 MiB),
/// which made searches after a burst four times slower at p95.
#[tokio::test]
async fn serve_takes_no_transparent_huge_pages() {
    let holdfast = Holdfast::new();
    let served = serve(&holdfast, &[]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", served.child.id())).unwrap();
    let thp = status
        .lines()
        .find_map(|line| line.strip_prefix("THP_enabled:"))
        .map(str::trim);
    // A kernel that does not say (before 5.0) has nothing to check.
    if let Some(thp) = thp {
        assert_eq!(thp, "0", "{status}");
    }
    assert_eq!(served.stop(Signal::SIGTERM).await, 0);
}

async fn in_flight_request_survives(signal: Signal) {
    let holdfast = Holdfast::new();
    let mut served = serve(&holdfast, &[]);
    let startup = served.startup.join("\n");
    let data_dir = holdfast.data_dir();
    assert!(
        startup.contains(&format!("data directory: {}", data_dir.display())),
        "{startup}"
    );
    assert!(startup.contains("log directory:"), "{startup}");
    assert!(startup.contains("config file:"), "{startup}");
    assert!(startup.contains("DEMO VENDOR KEY TRUSTED"), "{startup}");
    assert!(
        startup.contains("license: unlicensed (community limits)"),
        "{startup}"
    );

    // Make a request that is truly in flight when the signal arrives: another process holds
    // the control database's write lock, so /readyz waits on SQLite's busy timeout.
    let lock = rusqlite::Connection::open(data_dir.join("holdfast.db")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut stream = TcpStream::connect(&served.addr).await.unwrap();
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: holdfast\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    served.signal(signal);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        TcpStream::connect(&served.addr).await.is_err(),
        "no new connections after the signal"
    );
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "still running while a request is in flight"
    );

    drop(lock); // The request can now read the database and answer.
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"status\":\"ready\""), "{response}");

    let code = tokio::task::spawn_blocking(move || wait_for_exit(&mut served.child))
        .await
        .unwrap();
    assert_eq!(code, 0, "graceful exit after {signal}");
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_zero() {
    in_flight_request_survives(Signal::SIGTERM).await;
}

#[tokio::test]
async fn sigint_lets_in_flight_requests_finish_and_exits_zero() {
    in_flight_request_survives(Signal::SIGINT).await;
}

#[tokio::test]
async fn requests_are_logged_as_json_to_stdout_and_the_log_files() {
    let holdfast = Holdfast::new();
    let served = serve(&holdfast, &["--log-format", "json"]);
    let client = reqwest::Client::new();
    let response = client
        .get(format!("http://{}/no-such-page", served.addr))
        .header("X-Request-Id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    assert_eq!(served.stop(Signal::SIGTERM).await, 0);

    let log_dir = holdfast.data_dir().join("logs");
    let files = holdfast::telemetry::log_files(&log_dir).unwrap();
    assert_eq!(files.len(), 1, "one daily file: {files:?}");
    let text = std::fs::read_to_string(log_dir.join(&files[0])).unwrap();
    let request_line = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("every line is JSON"))
        .find(|l| l["span"]["request_id"] == "trace-me-42")
        .unwrap_or_else(|| panic!("request logged:\n{text}"));
    let span = &request_line["span"];
    assert_eq!(span["method"], "GET");
    assert_eq!(span["status"], 404);
    assert!(span["route"].is_string());
    assert!(span["latency_ms"].is_number());
    assert!(text.contains("listening on"), "start-up is in the file too");
}

#[tokio::test]
async fn log_files_beyond_the_retention_are_removed() {
    let holdfast = Holdfast::new();
    let log_dir = holdfast.data_dir().join("logs");
    std::fs::create_dir_all(&log_dir).unwrap();
    for day in ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"] {
        std::fs::write(log_dir.join(format!("holdfast.{day}.log")), "old\n").unwrap();
    }
    std::fs::write(log_dir.join("unrelated.txt"), "kept\n").unwrap();

    // Signal only once serving: before that, SIGTERM ends the process without a clean exit.
    let served = serve_with_env(&holdfast, &[], &[("HOLDFAST_LOG_RETENTION_DAYS", "2")]);
    assert_eq!(served.stop(Signal::SIGTERM).await, 0);
    let files = holdfast::telemetry::log_files(&log_dir).unwrap();
    assert_eq!(files.len(), 2, "retention of 2 daily files: {files:?}");
    // Which old file survives depends on creation times that ties can blur; how many is exact.
    let old = files
        .iter()
        .filter(|f| f.starts_with("holdfast.2020"))
        .count();
    assert_eq!(old, 1, "{files:?}");
    assert!(
        files.iter().any(|f| !f.starts_with("holdfast.2020")),
        "today's file: {files:?}"
    );
    assert!(
        log_dir.join("unrelated.txt").exists(),
        "other files are never touched"
    );
}

#[tokio::test]
async fn a_request_cannot_forge_or_colour_a_line_of_the_text_log() {
    let holdfast = Holdfast::new();
    let served = serve(&holdfast, &[]);
    // An unknown field is refused, and the refusal's cause, naming the field, is logged.
    let body = r#"{"email":"a@b.co","password":"x","evil\nFORGED line \u001b[2J\u202e":1}"#;
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/v1/admin/auth/login", served.addr))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(served.stop(Signal::SIGTERM).await, 0);

    let log_dir = holdfast.data_dir().join("logs");
    let files = holdfast::telemetry::log_files(&log_dir).unwrap();
    let text = std::fs::read_to_string(log_dir.join(&files[0])).unwrap();
    assert!(
        text.contains(r"evil\nFORGED line"),
        "the cause is logged:\n{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("FORGED")),
        "no forged line:\n{text}"
    );
    assert!(
        !text.contains(['\u{1b}', '\u{202e}', '\r']),
        "no raw escape or override:\n{text:?}"
    );
}
