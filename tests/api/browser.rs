//! A real headless Chromium driven through `WebDriver` (Debian's `chromium` and
//! `chromium-driver`), for the tests of the web UI. Without them the browser tests skip with
//! a message saying how to install them; `.ci/run` sets `HOLDFAST_REQUIRE_BROWSER=1`, which
//! makes a missing browser a failure instead.
//!
//! Each page visited is checked for the browser's console errors (a CSP violation is one) and
//! with the axe-core accessibility engine (a pinned npm package, installed on first use).

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The axe-core release the accessibility checks run.
const AXE_VERSION: &str = "4.10.3";

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    /// Where screenshots go: `target/…/browser-screenshots/<test>/`.
    shots: PathBuf,
}

impl Drop for Browser {
    /// Ends chromedriver and every Chromium process it started: they share the process
    /// group chromedriver leads. Killing chromedriver alone leaves Chromium running, and a
    /// machine that runs the suite often fills its memory with them.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn found(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

/// The pages the README shows, by their page check's name.
const README_PICTURES: &[&str] = &[
    "dashboard",
    "board",
    "contacts-columns",
    "contact-with-company",
    "search",
    "path-import-map",
    "path-import-done",
    "calendar-week",
    "settings-users",
    "settings-pipelines",
    "console-overview",
    "console-license-refused",
    "console-tenant",
    "phone-contacts",
];

impl Browser {
    /// Starts Chromium for the test `name`; `None` (with a message) when it is not installed
    /// and not required.
    pub async fn start(name: &str) -> Option<Self> {
        Self::start_in_zone(name, None).await
    }

    /// [`Browser::start`] with Chromium in the time zone `zone` (through `TZ`) rather than the
    /// machine's.
    pub async fn start_in_zone(name: &str, zone: Option<&str>) -> Option<Self> {
        let (Some(driver), Some(chromium)) = (found("chromedriver"), found("chromium")) else {
            let required = std::env::var_os("HOLDFAST_REQUIRE_BROWSER").is_some_and(|v| v == "1");
            assert!(
                !required,
                "HOLDFAST_REQUIRE_BROWSER=1 but chromium or chromedriver is missing"
            );
            eprintln!(
                "SKIPPED {name}: the browser tests need Chromium and its WebDriver \
                 (Debian: apt-get install -y chromium chromium-driver)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(driver);
        if let Some(zone) = zone {
            driver.env("TZ", zone);
        }
        let driver = driver
            .arg(format!("--port={port}"))
            // Leads a process group of its own, which Chromium joins (see `Drop`).
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut client = None;
        for _ in 0..100 {
            // Plain HTTP to the driver on loopback: no TLS stack needed.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("browser-screenshots")
            .join(name);
        std::fs::create_dir_all(&shots).unwrap();
        Some(Self {
            client: client.expect("chromedriver answers"),
            driver,
            _profile: profile,
            shots,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Waits for an element `css` finds (after a form's post and redirect, say).
    pub async fn wait_for(&self, css: &str) {
        self.client
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
    }

    /// The body of a GET of `path` made by the page (with its cookies), as text: what a link
    /// to a download would save.
    pub async fn fetch(&self, path: &str) -> String {
        let answer = self
            .client
            .execute(
                "return fetch(arguments[0], { credentials: 'same-origin' })
                   .then((r) => r.ok ? r.text() : `HTTP ${r.status}`);",
                vec![serde_json::json!(path)],
            )
            .await
            .unwrap();
        answer.as_str().unwrap_or_default().to_owned()
    }

    /// The `attribute` of the element `css` finds.
    pub async fn attr(&self, css: &str, attribute: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .attr(attribute)
            .await
            .unwrap()
            .unwrap_or_default()
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Saves a screenshot as `<name>.png` (and returns its path). With
    /// `HOLDFAST_SCREENSHOTS=<dir>` (the README's pictures: `docs/screenshots`), a copy of
    /// those the README shows ([`README_PICTURES`]) goes there too.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap();
        let pictured = README_PICTURES.contains(&name);
        if let Some(dir) = std::env::var_os("HOLDFAST_SCREENSHOTS").filter(|_| pictured) {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        }
        path
    }

    /// The checks every page must pass: no console errors (CSP violations included) and no
    /// serious or critical accessibility violations. Takes a screenshot first, so a failure
    /// leaves a picture of the page. A page that answers a refused form with its 4xx status
    /// makes the browser log that status for the page itself: that entry is the page's
    /// answer, not an error of it, and is the only one let through.
    pub async fn check_page(&self, name: &str) {
        let shot = self.screenshot(name).await;
        let page = format!("{} - ", self.client.current_url().await.unwrap());
        let errors: Vec<Value> = self
            .console()
            .await
            .into_iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .filter(|entry| {
                !(entry["source"] == "network"
                    && entry["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with(&page)))
            })
            .collect();
        assert!(
            errors.is_empty(),
            "console errors on {name} ({}): {errors:#?}",
            shot.display()
        );
        let violations = self.accessibility_violations().await;
        assert!(
            violations.is_empty(),
            "accessibility violations on {name} ({}): {violations:#?}",
            shot.display()
        );
    }

    /// The browser console's entries since the last call.
    pub async fn console(&self) -> Vec<Value> {
        let logs = self.client.issue_cmd(BrowserLog).await.unwrap();
        logs.as_array().cloned().unwrap_or_default()
    }

    /// axe-core's serious and critical violations on the page, each as `id: help (targets)`.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let source = axe_source();
        self.client.execute(&source, Vec::new()).await.unwrap();
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations), e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
                Vec::new(),
            )
            .await
            .unwrap();
        result
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                let targets: Vec<String> = v["nodes"]
                    .as_array()
                    .map(|nodes| nodes.iter().map(|n| n["target"].to_string()).collect())
                    .unwrap_or_default();
                format!("{}: {} {}", v["id"], v["help"], targets.join(", "))
            })
            .collect()
    }
}

/// chromedriver's log of the browser console (not in the W3C protocol, so not in
/// fantoccini).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// The axe-core script, installed with npm into the target directory on first use.
fn axe_source() -> String {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("axe-core-{AXE_VERSION}"));
    let script = dir.join("node_modules/axe-core/axe.min.js");
    if !script.is_file() {
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
            ])
            .arg(&dir)
            .arg(format!("axe-core@{AXE_VERSION}"))
            .status()
            .expect("npm runs (Debian: apt-get install -y npm)");
        assert!(
            status.success(),
            "npm install axe-core@{AXE_VERSION} failed"
        );
    }
    std::fs::read_to_string(script).unwrap()
}
