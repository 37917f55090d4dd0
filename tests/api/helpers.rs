//! `TestApp` (the real server, in-process) and `Holdfast` (the real binary) for the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use actix_web::dev::ServerHandle;
use holdfast::config::{Config, Settings};
use holdfast::web::Application;
use tempfile::TempDir;

/// A running Holdfast on a random port with its own data directory.
pub struct TestApp {
    pub base_url: String,
    pub config: Config,
    pub client: reqwest::Client,
    state: holdfast::web::AppState,
    handle: ServerHandle,
    _data_dir: TempDir,
}

impl TestApp {
    /// Starts Holdfast on the defaults, except for port and data directory.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts Holdfast with settings changed by `change`.
    pub async fn spawn_with(change: impl FnOnce(&mut Settings)) -> Self {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        // A directory that does not exist yet, as on a fresh machine.
        let mut settings = Settings {
            listen: "127.0.0.1:0".to_owned(),
            data_dir: Some(data_dir.path().join("data")),
            ..Settings::default()
        };
        change(&mut settings);
        let config = Config::from_settings(settings).expect("test settings are valid");
        let app = Application::build(config.clone())
            .await
            .expect("application builds");
        let base_url = app.base_url();
        let handle = app.handle();
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base_url,
            config,
            client,
            state,
            handle,
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request is answered")
    }

    pub async fn request(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .send()
            .await
            .expect("request is answered")
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

/// Asserts the JSON error body of a refusal and returns its message.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(!message.is_empty());
    message
}

/// The real `holdfast` binary in a hermetic environment: no inherited `HOLDFAST_*` variables
/// and a private home, so the platform defaults point into a temporary directory.
pub struct Holdfast {
    pub home: TempDir,
}

impl Holdfast {
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().expect("temp home"),
        }
    }

    /// A data directory inside the private home.
    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// `holdfast ARGS` with only `PATH` and `HOME` from outside.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_holdfast"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("holdfast runs"))
    }

    /// `holdfast ARGS` with `input` on standard input (passwords, keys).
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        use std::io::Write as _;
        let mut child = self
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("holdfast runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().expect("holdfast runs"))
    }

    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied());
        Run::from(cmd.output().expect("holdfast runs"))
    }
}

/// What a finished command printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success; stderr: {}", self.stderr);
        self
    }

    /// A refusal: exit 1 and exactly one line on stderr. Returns that line.
    pub fn assert_refused(&self) -> &str {
        assert_eq!(
            self.code, 1,
            "expected exit 1; stdout: {} stderr: {}",
            self.stdout, self.stderr
        );
        let line = self.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "one line on stderr: {line:?}");
        line
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }
}

impl TestApp {
    /// The tenant databases as the running server holds them.
    pub fn tenant_dbs(&self) -> std::sync::Arc<holdfast::tenancy::TenantDatabases> {
        std::sync::Arc::clone(&self.state.tenant_dbs)
    }

    /// The license as the running server holds it.
    pub fn license(&self) -> std::sync::Arc<holdfast::license::LicenseService> {
        std::sync::Arc::clone(&self.state.license)
    }
}

/// The repository's demo vendor key, as vendor staff would use their own.
pub fn demo_vendor_key() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/demo-vendor.key")
}

/// `holdfast-signer ARGS`.
pub fn signer(args: &[&str]) -> Run {
    Run::from(
        Command::new(env!("CARGO_BIN_EXE_holdfast-signer"))
            .env_clear()
            .args(args)
            .output()
            .expect("holdfast-signer runs"),
    )
}

/// A key signed with the demo vendor key, with any payload (dates in the past included).
pub fn demo_key(change: impl FnOnce(&mut holdfast::license::Payload)) -> String {
    use holdfast::license::{FORMAT_VERSION, IssueRequest, Payload, SigningKeyFile, issue_key};
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut payload = Payload {
        format: FORMAT_VERSION,
        license_id: "test-license".to_owned(),
        customer: "Acme Ltd".to_owned(),
        edition: "enterprise".to_owned(),
        issued_at: now - 60,
        not_before: None,
        expires_at: Some(now + 365 * 86_400),
        grace_days: 14,
        max_seats: 50,
        max_tenants: 5,
        features: vec!["sso".to_owned()],
        instance: None,
    };
    change(&mut payload);
    let vendor = SigningKeyFile::read(&demo_vendor_key()).expect("demo key");
    issue_key(&vendor, &IssueRequest { payload })
        .expect("issue")
        .text()
        .to_owned()
}
