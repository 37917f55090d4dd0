//! Configuration: typed settings, layered flags > `HOLDFAST_*` env > TOML file > defaults.
//!
//! [`Settings`] is the raw shape every layer fills; [`Config`] is what the rest of the program
//! receives, validated once at start so nothing downstream re-checks a value. Config is passed
//! by value, never read from a global.

mod load;
mod show;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use load::{ConfigSources, ENV_PREFIX, Loaded, Overrides, Source, describe_file, env_var_name};
pub use show::{ShownSetting, render_text, show};
pub use validate::{ConfigError, normalized_dns_name};

/// The limits of one setting live in one constant that both the check and its message use.
pub const MAX_BODY_BYTES_RANGE: (u64, u64) = (1024, 256 * 1024 * 1024);
/// Limits of `max_import_bytes`: 1 KiB to 64 GiB.
pub const MAX_IMPORT_BYTES_RANGE: (u64, u64) = (1024, 64 * 1024 * 1024 * 1024);
pub const LOG_RETENTION_DAYS_RANGE: (u32, u32) = (1, 3650);
pub const SHUTDOWN_TIMEOUT_SECS_RANGE: (u64, u64) = (1, 600);
pub const DB_POOL_SIZE_RANGE: (u32, u32) = (1, 64);
pub const MAX_OPEN_TENANT_DBS_RANGE: (u32, u32) = (1, 10_000);
pub const SESSION_IDLE_MINUTES_RANGE: (u32, u32) = (5, 7 * 24 * 60);
pub const SESSION_LIFETIME_HOURS_RANGE: (u32, u32) = (1, 366 * 24);
/// Hours between scheduled backups (0: none), and how many are kept.
pub const BACKUP_INTERVAL_HOURS_RANGE: (u32, u32) = (0, 366 * 24);
pub const BACKUP_KEEP_RANGE: (u32, u32) = (1, 1000);

/// How log lines are written, to stdout and to the log files alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Every setting as a layer provides it, before validation. Field names are the TOML keys; the
/// environment variable is `HOLDFAST_` + the name in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port the HTTP server listens on.
    pub listen: String,
    /// Where the databases live; empty means the platform default.
    pub data_dir: Option<PathBuf>,
    /// Where the rolling log files go; empty means `<data_dir>/logs`.
    pub log_dir: Option<PathBuf>,
    pub log_format: LogFormat,
    /// A tracing filter: `info`, or `holdfast=debug,info`.
    pub log_level: String,
    /// How many daily log files are kept.
    pub log_retention_days: u32,
    /// The domain under which tenants are served as `<slug>.<base_domain>`.
    pub base_domain: Option<String>,
    /// The URL users reach Holdfast at, used in links the server prints.
    pub public_url: Option<String>,
    /// PEM certificate chain for built-in TLS; set together with `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for built-in TLS.
    pub tls_key: Option<PathBuf>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: u64,
    /// The largest CSV file an import takes, in bytes.
    pub max_import_bytes: u64,
    /// How long in-flight requests may take to finish after a stop signal.
    pub shutdown_timeout_secs: u64,
    /// Connections kept to the control database.
    pub db_pool_size: u32,
    /// Tenant databases kept open at once; the least recently used one closes first.
    pub max_open_tenant_dbs: u32,
    /// A session nobody uses for this long ends.
    pub session_idle_minutes: u32,
    /// Any session ends this long after sign-in.
    pub session_lifetime_hours: u32,
    /// Mark cookies `Secure` even without built-in TLS (behind a TLS-terminating proxy).
    /// They are always `Secure` with built-in TLS or an `https` public URL.
    pub cookie_secure: bool,
    /// Comma-separated addresses of reverse proxies whose forwarded headers are believed.
    pub trusted_proxies: String,
    /// Comma-separated host names (or IP addresses) where the console and the prefix-routed
    /// tenants answer; empty means any host that is not a tenant's.
    pub appliance_hosts: String,
    /// Where backups go (scheduled ones, and `holdfast backup` without `--out`); empty means
    /// `<data_dir>/backups`.
    pub backup_dir: Option<PathBuf>,
    /// `serve` makes a backup when the newest is this many hours old; 0 turns it off.
    pub backup_interval_hours: u32,
    /// Scheduled backups kept; older ones are deleted after a new one succeeds.
    pub backup_keep: u32,
    /// The bearer token `GET /metrics` asks for (at least 16 characters); unset, `/metrics`
    /// is off.
    pub metrics_token: Option<String>,
    /// The SMTP server invitations, password resets and license warnings are mailed through;
    /// unset, links are only shown.
    pub smtp_host: Option<String>,
    /// 0: the usual port of `smtp_security` (587 for starttls, 465 for tls, 25 for none).
    pub smtp_port: u16,
    /// `starttls`, `tls` (implicit TLS) or `none` (only for a relay on this machine).
    pub smtp_security: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// A file holding the SMTP password (its first line), instead of `smtp_password`.
    pub smtp_password_file: Option<PathBuf>,
    /// The sender: `Holdfast <crm@example.com>` or an address.
    pub smtp_from: Option<String>,
    /// The release manifest `holdfast update` reads (connected sites); unset, updates come
    /// only from a file (`--file`).
    pub update_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            data_dir: None,
            log_dir: None,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            log_retention_days: 14,
            base_domain: None,
            public_url: None,
            tls_cert: None,
            tls_key: None,
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 1024 * 1024 * 1024,
            shutdown_timeout_secs: 30,
            db_pool_size: 8,
            max_open_tenant_dbs: 100,
            session_idle_minutes: 8 * 60,
            session_lifetime_hours: 7 * 24,
            cookie_secure: false,
            trusted_proxies: String::new(),
            appliance_hosts: String::new(),
            backup_dir: None,
            backup_interval_hours: 24,
            backup_keep: 7,
            metrics_token: None,
            smtp_host: None,
            smtp_port: 0,
            smtp_security: "starttls".to_owned(),
            smtp_username: None,
            smtp_password: None,
            smtp_password_file: None,
            smtp_from: None,
            update_url: None,
        }
    }
}

impl Settings {
    /// The setting names, in the order `config show` lists them.
    pub const KEYS: &'static [&'static str] = &[
        "listen",
        "data_dir",
        "log_dir",
        "log_format",
        "log_level",
        "log_retention_days",
        "base_domain",
        "public_url",
        "tls_cert",
        "tls_key",
        "max_body_bytes",
        "max_import_bytes",
        "shutdown_timeout_secs",
        "db_pool_size",
        "max_open_tenant_dbs",
        "session_idle_minutes",
        "session_lifetime_hours",
        "cookie_secure",
        "trusted_proxies",
        "appliance_hosts",
        "backup_dir",
        "backup_interval_hours",
        "backup_keep",
        "metrics_token",
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_username",
        "smtp_password",
        "smtp_password_file",
        "smtp_from",
        "update_url",
    ];

    /// Settings whose values are secrets and are shown redacted (TLS settings are paths, not
    /// keys).
    pub const SECRET_KEYS: &'static [&'static str] = &["metrics_token", "smtp_password"];
}

/// Built-in TLS material, both paths known to be set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The validated configuration the program runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
    pub log_format: LogFormat,
    pub log_level: String,
    pub log_retention_days: u32,
    pub base_domain: Option<String>,
    pub public_url: Option<String>,
    pub tls: Option<TlsPaths>,
    pub max_body_bytes: usize,
    pub max_import_bytes: u64,
    pub shutdown_timeout: Duration,
    pub db_pool_size: u32,
    pub max_open_tenant_dbs: std::num::NonZeroUsize,
    pub session_idle: Duration,
    pub session_lifetime: Duration,
    /// Cookies carry `Secure`.
    pub cookie_secure: bool,
    /// Proxies whose forwarded headers (`X-Forwarded-*`, `Forwarded`) are believed: the
    /// client's address, the host and the scheme it asked for.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The appliance's own host names (lower-case; IP addresses without brackets), where the
    /// console and the prefix-routed tenants answer; empty: any host that is not a tenant's.
    pub appliance_hosts: Vec<String>,
    pub backup_dir: PathBuf,
    /// None: no scheduled backups.
    pub backup_interval: Option<Duration>,
    pub backup_keep: u32,
    pub metrics_token: Option<String>,
    /// Mail: none when `smtp_host` is unset.
    pub smtp: Option<Smtp>,
    /// The release manifest `holdfast update` reads; none: bundles come only from files.
    pub update_url: Option<String>,
}

/// How to reach the SMTP server.
#[derive(Clone, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    StartTls,
    Tls,
    None,
}

impl Config {
    /// Path of the control database.
    pub fn control_db_path(&self) -> PathBuf {
        self.data_dir.join("holdfast.db")
    }

    /// Directory holding one database file per tenant.
    pub fn tenants_dir(&self) -> PathBuf {
        self.data_dir.join("tenants")
    }

    /// Names that are the appliance's own and so never a tenant's custom domain: the
    /// `appliance_hosts` and the host of `public_url`.
    pub fn appliance_names(&self) -> Vec<String> {
        let public = self
            .public_url
            .as_deref()
            .and_then(|url| url.parse::<actix_web::http::Uri>().ok())
            .and_then(|uri| {
                uri.host()
                    .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
            });
        self.appliance_hosts.iter().cloned().chain(public).collect()
    }

    /// The address users reach Holdfast at, for links handed out (setup, invitations,
    /// password resets): `public_url` when set, else what the server listens on.
    pub fn base_url(&self) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let host = if self.listen.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            self.listen.ip()
        };
        format!("{scheme}://{}", SocketAddr::new(host, self.listen.port()))
    }
}

/// The platform's data directory for Holdfast (e.g. `~/.local/share/holdfast` on Linux), or
/// `/var/lib/holdfast` when the platform has no home directory to offer (system services).
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "holdfast").map_or_else(
        || PathBuf::from("/var/lib/holdfast"),
        |dirs| dirs.data_dir().to_path_buf(),
    )
}

/// The system-wide config file, for packaged installs (systemd, .deb).
pub const SYSTEM_CONFIG_FILE: &str = "/etc/holdfast/holdfast.toml";

/// Where a config file is looked for when no `--config` is given, in order: the user's
/// platform config file (e.g. `~/.config/holdfast/holdfast.toml`), then the system-wide one.
/// The first that exists is read.
pub fn default_config_files() -> Vec<PathBuf> {
    let user = directories::ProjectDirs::from("", "", "holdfast")
        .map(|dirs| dirs.config_dir().join("holdfast.toml"));
    user.into_iter()
        .chain(std::iter::once(PathBuf::from(SYSTEM_CONFIG_FILE)))
        .collect()
}
