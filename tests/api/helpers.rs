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
    /// The one-time setup token the server made (a fresh appliance has one).
    pub setup_token: Option<String>,
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
            // Scheduled backups only where a test asks for them.
            backup_interval_hours: 0,
            ..Settings::default()
        };
        change(&mut settings);
        let config = Config::from_settings(settings).expect("test settings are valid");
        let app = Application::build(config.clone())
            .await
            .expect("application builds");
        let base_url = app.base_url();
        let setup_token = app.setup_token().map(str::to_owned);
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
            setup_token,
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

    /// The gates' cache of callers as the running server holds it.
    pub fn callers(&self) -> std::sync::Arc<holdfast::web::callers::CallerCache> {
        std::sync::Arc::clone(&self.state.callers)
    }

    /// The answers the running server keeps for repeated reads.
    pub fn answers(&self) -> std::sync::Arc<holdfast::web::answers::AnswerCache> {
        std::sync::Arc::clone(&self.state.answers)
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

/// A browser of one person: keeps the cookies the server sets and sends the CSRF token the
/// last sign-in returned, like the web UI does.
pub struct Browser<'a> {
    client: reqwest::Client,
    base_url: String,
    cookies: std::collections::BTreeMap<String, String>,
    pub csrf: Option<String>,
    /// A `Host` header to send (host-based tenant routing).
    pub host: Option<String>,
    _app: std::marker::PhantomData<&'a TestApp>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self::at(app.client.clone(), &app.base_url)
    }

    /// A browser of the server at `base_url` (a served binary, say).
    pub fn at(client: reqwest::Client, base_url: &str) -> Self {
        Self {
            client,
            base_url: base_url.to_owned(),
            cookies: std::collections::BTreeMap::new(),
            csrf: None,
            host: None,
            _app: std::marker::PhantomData,
        }
    }

    /// Sends a request with this browser's cookies and CSRF token; remembers new cookies
    /// and, from a JSON answer carrying one, the CSRF token.
    pub async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        self.send_with(method, path, body, &[]).await
    }

    /// Sends `bytes` as the body, of type `content_type`; answers with the raw body.
    pub async fn send_raw(
        &mut self,
        method: reqwest::Method,
        path: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .header("content-type", content_type)
            .body(bytes);
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        request = request.header("cookie", jar.join("; "));
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    /// [`Browser::send`] with more headers (`If-Match`, say).
    pub async fn send_with(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", jar.join("; "));
        }
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(host) = &self.host {
            request = request.header("host", host);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all("set-cookie") {
            let text = set.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = response.bytes().await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        if let Some(csrf) = json.get("csrf_token").and_then(|v| v.as_str()) {
            self.csrf = Some(csrf.to_owned());
        }
        (status, headers, json)
    }

    pub async fn get(&mut self, path: &str) -> (u16, serde_json::Value) {
        let (status, _, json) = self.send(reqwest::Method::GET, path, None).await;
        (status, json)
    }

    pub async fn post(&mut self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let (status, _, json) = self.send(reqwest::Method::POST, path, Some(body)).await;
        (status, json)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }
}

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// Runs the one-time setup with an operator `op@example.com` and returns that operator's
/// signed-in browser.
pub async fn set_up(app: &TestApp) -> Browser<'_> {
    let mut browser = Browser::new(app);
    let (status, body) = browser
        .post(
            "/setup",
            serde_json::json!({
                "token": app.setup_token.clone().expect("a fresh appliance offers setup"),
                "operator": { "email": "op@example.com", "password": PASSWORD },
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = browser
        .post(
            "/api/v1/admin/auth/login",
            serde_json::json!({ "email": "op@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser
}

/// Installs a license issued with the demo key, through the operator API.
pub async fn install_license(
    op: &mut Browser<'_>,
    change: impl FnOnce(&mut holdfast::license::Payload),
) {
    let key = demo_key(change);
    let (status, _, body) = op
        .send(
            reqwest::Method::PUT,
            "/api/v1/admin/license",
            Some(serde_json::json!({ "key": key })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Creates tenant `slug` with `owner@<slug>.test` invited as its owner; returns the
/// invitation's token.
pub async fn invite_owner(op: &mut Browser<'_>, slug: &str) -> String {
    let (status, body) = op
        .post(
            "/api/v1/admin/tenants",
            serde_json::json!({ "slug": slug, "name": slug, "owner_email": format!("owner@{slug}.test") }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["owner_invite_link"]
        .as_str()
        .unwrap()
        .split("#token=")
        .nth(1)
        .unwrap()
        .to_owned()
}

/// Accepts an invitation to tenant `slug` with [`PASSWORD`], from a fresh browser.
pub async fn accept_invite(app: &TestApp, slug: &str, token: &str) -> serde_json::Value {
    let (status, body) = Browser::new(app)
        .post(
            &format!("/t/{slug}/api/v1/auth/accept-invite"),
            serde_json::json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Moves the appliance's clock past expiry and grace, and has the server see it.
pub async fn past_grace(app: &TestApp) {
    let conn = rusqlite::Connection::open(app.data_dir().join("holdfast.db")).unwrap();
    conn.execute(
        "UPDATE clock SET high_water_unix = unixepoch('now') + 30 * 86400",
        [],
    )
    .unwrap();
    let license = app.license();
    tokio::task::spawn_blocking(move || license.refresh(true).unwrap())
        .await
        .unwrap();
}

/// A licensed appliance (3 tenants, 20 seats, API tokens) with tenant `slug` and a
/// signed-in user of each role (`<role>@<slug>.test`), owner first. Call `set_up` first.
pub async fn tenant_with_every_role<'a>(
    app: &'a TestApp,
    op: &mut Browser<'a>,
    slug: &str,
) -> Vec<(holdfast::identity::Role, Browser<'a>)> {
    use holdfast::identity::Role;
    let token = invite_owner(op, slug).await;
    accept_invite(app, slug, &token).await;
    let base = format!("/t/{slug}/api/v1");
    let mut people: Vec<(Role, Browser<'a>)> = Vec::new();
    for role in [Role::Owner, Role::Admin, Role::Member, Role::Viewer] {
        let email = format!("{}@{slug}.test", role.as_str());
        if role != Role::Owner {
            let owner: &mut Browser<'a> = &mut people[0].1;
            let (status, body) = owner
                .post(
                    &format!("{base}/users"),
                    serde_json::json!({ "email": email, "role": role, "password": PASSWORD }),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        let mut browser = Browser::new(app);
        let (status, body) = browser
            .post(
                &format!("{base}/auth/login"),
                serde_json::json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        people.push((role, browser));
    }
    people
}

/// A licensed appliance with tenants of `slugs`, each with a signed-in user of every role.
pub async fn licensed_tenants<'a>(
    app: &'a TestApp,
    slugs: &[&str],
) -> Vec<Vec<(holdfast::identity::Role, Browser<'a>)>> {
    licensed_tenants_with(app, slugs, |_| {}).await
}

/// A browser signed in to tenant `slug` as `email` (whose password is [`PASSWORD`]).
pub async fn sign_in_as<'a>(app: &'a TestApp, slug: &str, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let (status, body) = browser
        .post(
            &format!("/t/{slug}/api/v1/auth/login"),
            serde_json::json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser
}

/// [`licensed_tenants`] with the license changed by `change`.
pub async fn licensed_tenants_with<'a>(
    app: &'a TestApp,
    slugs: &[&str],
    change: impl FnOnce(&mut holdfast::license::Payload),
) -> Vec<Vec<(holdfast::identity::Role, Browser<'a>)>> {
    let mut op = set_up(app).await;
    install_license(&mut op, |p| {
        p.max_tenants = 3;
        p.max_seats = 20;
        p.features = vec!["api_tokens".into()];
        change(p);
    })
    .await;
    let mut all = Vec::new();
    for slug in slugs {
        all.push(tenant_with_every_role(app, &mut op, slug).await);
    }
    all
}
