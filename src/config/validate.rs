//! Turning raw [`Settings`] into a [`Config`]: every check names the setting it refuses.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::http::Uri;

use super::load::Source;
use super::{
    BACKUP_INTERVAL_HOURS_RANGE, BACKUP_KEEP_RANGE, Config, DB_POOL_SIZE_RANGE,
    LOG_RETENTION_DAYS_RANGE, MAX_BODY_BYTES_RANGE, MAX_IMPORT_BYTES_RANGE,
    MAX_OPEN_TENANT_DBS_RANGE, SESSION_IDLE_MINUTES_RANGE, SESSION_LIFETIME_HOURS_RANGE,
    SHUTDOWN_TIMEOUT_SECS_RANGE, Settings, TlsPaths, default_data_dir,
};

/// A configuration Holdfast refuses to start with. Displays as one line naming the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    Invalid {
        key: String,
        origin: Option<String>,
        reason: String,
    },
    File {
        path: PathBuf,
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid {
                key,
                origin,
                reason,
            } => {
                write!(f, "invalid setting {key}")?;
                if let Some(origin) = origin {
                    write!(f, " (from {origin})")?;
                }
                write!(f, ": {reason}")
            }
            ConfigError::File { path, reason } => {
                write!(f, "config file {}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn invalid(key: &str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_owned(),
            origin: None,
            reason: reason.into(),
        }
    }

    /// Adds which layer gave the refused value.
    pub(super) fn with_origin(self, sources: &[(&'static str, Source)]) -> Self {
        match self {
            ConfigError::Invalid { key, reason, .. } => {
                let origin = sources
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, source)| source.to_string());
                ConfigError::Invalid {
                    key,
                    origin,
                    reason,
                }
            }
            other @ ConfigError::File { .. } => other,
        }
    }

    /// Turns a merge/type error into one line that names the setting and where it came from.
    pub(super) fn from_figment(err: &figment::Error, sources: &[(&'static str, Source)]) -> Self {
        let key = err
            .path
            .iter()
            .rfind(|segment| segment.as_str() != "default")
            .cloned();
        match key {
            Some(key) => ConfigError::invalid(&key, err.kind.to_string()).with_origin(sources),
            None => match err.metadata.as_ref().and_then(|m| m.source.as_ref()) {
                Some(figment::Source::File(path)) => ConfigError::File {
                    path: path.clone(),
                    reason: one_line(&err.kind.to_string()),
                },
                _ => ConfigError::invalid("(unknown)", one_line(&err.to_string())),
            },
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn in_range<T: PartialOrd + fmt::Display + Copy>(
    key: &str,
    value: T,
    (min, max): (T, T),
) -> Result<T, ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::invalid(
            key,
            format!("{value} is out of range: must be between {min} and {max}"),
        ));
    }
    Ok(value)
}

/// The SMTP settings, when `smtp_host` is set: a sender that is an address, a known
/// security, one source of password.
fn smtp(settings: &Settings) -> Result<Option<super::Smtp>, ConfigError> {
    use super::SmtpSecurity;
    let Some(host) = settings
        .smtp_host
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    else {
        return Ok(None);
    };
    let security = match settings.smtp_security.trim() {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        "none" => SmtpSecurity::None,
        other => {
            return Err(ConfigError::invalid(
                "smtp_security",
                format!("{other:?} is not starttls, tls or none"),
            ));
        }
    };
    let port = match (settings.smtp_port, security) {
        (0, SmtpSecurity::StartTls) => 587,
        (0, SmtpSecurity::Tls) => 465,
        (0, SmtpSecurity::None) => 25,
        (port, _) => port,
    };
    let from = settings
        .smtp_from
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ConfigError::invalid("smtp_from", "must be set when smtp_host is"))?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::invalid(
            "smtp_from",
            "must be an address, or a name and an address: Holdfast <crm@example.com>",
        ));
    }
    let password = match (&settings.smtp_password, &settings.smtp_password_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                "smtp_password_file",
                "set either smtp_password or smtp_password_file, not both",
            ));
        }
        (Some(password), None) => Some(password.clone()),
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file).map_err(|err| {
                ConfigError::invalid("smtp_password_file", format!("cannot read it: {err}"))
            })?;
            Some(text.lines().next().unwrap_or_default().to_owned())
        }
        (None, None) => None,
    };
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]");
    if security == SmtpSecurity::None && password.is_some() && !loopback {
        return Err(ConfigError::invalid(
            "smtp_security",
            "none would send the SMTP password in the clear: use starttls or tls (none is for a relay on this machine)",
        ));
    }
    Ok(Some(super::Smtp {
        host: host.to_owned(),
        port,
        security,
        username: settings.smtp_username.clone().filter(|u| !u.is_empty()),
        password,
        from: from.to_owned(),
    }))
}

fn max_open(n: u32) -> Result<std::num::NonZeroUsize, ConfigError> {
    let n = in_range("max_open_tenant_dbs", n, MAX_OPEN_TENANT_DBS_RANGE)?;
    Ok(std::num::NonZeroUsize::new(n as usize).unwrap_or(std::num::NonZeroUsize::MIN))
}

fn minutes(n: u32) -> Duration {
    Duration::from_secs(60 * u64::from(n))
}

/// The metrics token: none when unset or empty; else at least 16 visible ASCII characters,
/// so that it cannot be guessed and sits in a header as it is.
fn metrics_token(token: Option<String>) -> Result<Option<String>, ConfigError> {
    match token {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) if t.len() >= 16 && t.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(t)),
        Some(_) => Err(ConfigError::invalid(
            "metrics_token",
            "must be at least 16 visible ASCII characters (no spaces)",
        )),
    }
}

/// Time between scheduled backups; none when `hours` is 0.
fn backup_interval(hours: u32) -> Result<Option<Duration>, ConfigError> {
    let hours = in_range("backup_interval_hours", hours, BACKUP_INTERVAL_HOURS_RANGE)?;
    Ok((hours > 0).then(|| Duration::from_secs(3600 * u64::from(hours))))
}

fn directory(key: &str, value: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    let Some(path) = value else { return Ok(None) };
    if path.as_os_str().is_empty() {
        return Err(ConfigError::invalid(key, "must not be empty"));
    }
    std::path::absolute(path)
        .map(Some)
        .map_err(|err| ConfigError::invalid(key, format!("cannot resolve path: {err}")))
}

/// The lower-cased DNS name in `value`, if it is one: dot-separated labels of letters,
/// digits and inner hyphens.
pub fn normalized_dns_name(value: &str) -> Option<String> {
    let name = value.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    (!name.is_empty() && name.len() <= 253 && name.split('.').all(label_ok)).then_some(name)
}

/// Lower-cased DNS name: dot-separated labels of letters, digits and inner hyphens.
fn dns_name(key: &str, value: &str) -> Result<String, ConfigError> {
    let Some(name) = normalized_dns_name(value) else {
        return Err(ConfigError::invalid(
            key,
            format!("{value:?} is not a domain name such as crm.example.com"),
        ));
    };
    Ok(name)
}

/// A comma-separated list of IP addresses (empty: none).
fn ip_list(key: &str, value: &str) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| {
            text.parse().map_err(|_| {
                ConfigError::invalid(
                    key,
                    format!("{text:?} is not an IP address such as 10.0.0.2"),
                )
            })
        })
        .collect()
}

/// A comma-separated list of host names or IP addresses (empty: none), lower-cased, IPv6
/// without brackets. None may be a tenant's host (`<slug>.<base_domain>`).
fn host_list(
    key: &str,
    value: &str,
    base_domain: Option<&str>,
) -> Result<Vec<String>, ConfigError> {
    let mut hosts: Vec<String> = Vec::new();
    for text in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        let host = match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => normalized_dns_name(text).ok_or_else(|| {
                ConfigError::invalid(
                    key,
                    format!(
                        "{text:?} is not a host name or IP address such as crm.example.com \
                         (no scheme, port or path)"
                    ),
                )
            })?,
        };
        let tenant_label = base_domain
            .and_then(|base| host.strip_suffix(base))
            .and_then(|rest| rest.strip_suffix('.'))
            .filter(|label| !label.contains('.'));
        if let Some(label) = tenant_label
            && label.parse::<crate::tenancy::Slug>().is_ok()
        {
            return Err(ConfigError::invalid(
                key,
                format!("{host} is a tenant's host under base_domain ({label} is a slug)"),
            ));
        }
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    Ok(hosts)
}

fn public_url(key: &str, value: &str) -> Result<String, ConfigError> {
    let refuse = || {
        ConfigError::invalid(
            key,
            format!("{value:?} is not an http(s) URL such as https://crm.example.com"),
        )
    };
    let uri: Uri = value.trim().parse().map_err(|_| refuse())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.authority().is_none() || uri.query().is_some() {
        return Err(refuse());
    }
    Ok(value.trim().trim_end_matches('/').to_owned())
}

fn optional_url(key: &str, value: Option<&str>) -> Result<Option<String>, ConfigError> {
    value.map(|u| public_url(key, u)).transpose()
}

/// Built-in TLS: both paths or neither.
fn tls_paths(cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<TlsPaths>, ConfigError> {
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsPaths { cert, key })),
        (Some(_), None) => Err(ConfigError::invalid(
            "tls_key",
            "must be set when tls_cert is set",
        )),
        (None, Some(_)) => Err(ConfigError::invalid(
            "tls_cert",
            "must be set when tls_key is set",
        )),
    }
}

impl Config {
    /// Validates raw settings and resolves defaults that depend on the platform.
    pub fn from_settings(settings: Settings) -> Result<Self, ConfigError> {
        let listen: SocketAddr = settings.listen.trim().parse().map_err(|_| {
            ConfigError::invalid(
                "listen",
                format!(
                    "{:?} is not an address and port such as 127.0.0.1:8080 or [::]:8080",
                    settings.listen
                ),
            )
        })?;
        let data_dir = match directory("data_dir", settings.data_dir.as_deref())? {
            Some(dir) => dir,
            None => default_data_dir(),
        };
        let log_dir = directory("log_dir", settings.log_dir.as_deref())?
            .unwrap_or_else(|| data_dir.join("logs"));
        tracing_subscriber::EnvFilter::try_new(&settings.log_level).map_err(|err| {
            ConfigError::invalid(
                "log_level",
                format!("{:?} is not a log filter ({err})", settings.log_level),
            )
        })?;
        let smtp = smtp(&settings)?;
        let tls = tls_paths(settings.tls_cert, settings.tls_key)?;
        let max_body_bytes = in_range(
            "max_body_bytes",
            settings.max_body_bytes,
            MAX_BODY_BYTES_RANGE,
        )?;
        let tls_on = tls.is_some();
        let base_domain = settings
            .base_domain
            .as_deref()
            .map(|d| dns_name("base_domain", d))
            .transpose()?;
        Ok(Config {
            smtp,
            listen,
            backup_dir: directory("backup_dir", settings.backup_dir.as_deref())?
                .unwrap_or_else(|| data_dir.join("backups")),
            data_dir,
            log_dir,
            log_format: settings.log_format,
            log_level: settings.log_level,
            log_retention_days: in_range(
                "log_retention_days",
                settings.log_retention_days,
                LOG_RETENTION_DAYS_RANGE,
            )?,
            appliance_hosts: host_list(
                "appliance_hosts",
                &settings.appliance_hosts,
                base_domain.as_deref(),
            )?,
            base_domain,
            public_url: optional_url("public_url", settings.public_url.as_deref())?,
            tls,
            max_body_bytes: usize::try_from(max_body_bytes).unwrap_or(usize::MAX),
            backup_interval: backup_interval(settings.backup_interval_hours)?,
            backup_keep: in_range("backup_keep", settings.backup_keep, BACKUP_KEEP_RANGE)?,
            metrics_token: metrics_token(settings.metrics_token)?,
            update_url: optional_url("update_url", settings.update_url.as_deref())?,
            max_import_bytes: in_range(
                "max_import_bytes",
                settings.max_import_bytes,
                MAX_IMPORT_BYTES_RANGE,
            )?,
            shutdown_timeout: Duration::from_secs(in_range(
                "shutdown_timeout_secs",
                settings.shutdown_timeout_secs,
                SHUTDOWN_TIMEOUT_SECS_RANGE,
            )?),
            db_pool_size: in_range("db_pool_size", settings.db_pool_size, DB_POOL_SIZE_RANGE)?,
            max_open_tenant_dbs: max_open(settings.max_open_tenant_dbs)?,
            session_idle: minutes(in_range(
                "session_idle_minutes",
                settings.session_idle_minutes,
                SESSION_IDLE_MINUTES_RANGE,
            )?),
            session_lifetime: minutes(
                60 * in_range(
                    "session_lifetime_hours",
                    settings.session_lifetime_hours,
                    SESSION_LIFETIME_HOURS_RANGE,
                )?,
            ),
            trusted_proxies: ip_list("trusted_proxies", &settings.trusted_proxies)?,
            cookie_secure: settings.cookie_secure
                || tls_on
                || settings
                    .public_url
                    .as_deref()
                    .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(change: impl FnOnce(&mut Settings)) -> Result<Config, ConfigError> {
        let mut settings = Settings {
            data_dir: Some(PathBuf::from("/srv/holdfast")),
            ..Settings::default()
        };
        change(&mut settings);
        Config::from_settings(settings)
    }

    fn refused_key(result: Result<Config, ConfigError>) -> String {
        match result {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid_and_resolve_directories() {
        let config = with(|_| {}).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.log_dir, PathBuf::from("/srv/holdfast/logs"));
        assert_eq!(
            config.control_db_path(),
            PathBuf::from("/srv/holdfast/holdfast.db")
        );
        assert!(config.tls.is_none());
    }

    #[test]
    fn cookies_are_secure_with_tls_an_https_public_url_or_when_asked() {
        assert!(!with(|_| {}).unwrap().cookie_secure);
        assert!(with(|s| s.cookie_secure = true).unwrap().cookie_secure);
        let https = with(|s| s.public_url = Some("https://crm.example.com".into())).unwrap();
        assert!(https.cookie_secure);
        let http = with(|s| s.public_url = Some("http://crm.example.com".into())).unwrap();
        assert!(!http.cookie_secure);
    }

    #[test]
    fn each_bad_value_names_its_setting() {
        assert_eq!(
            refused_key(with(|s| s.listen = "localhost".into())),
            "listen"
        );
        assert_eq!(
            refused_key(with(|s| s.log_level = "info,=[".into())),
            "log_level"
        );
        assert_eq!(
            refused_key(with(|s| s.log_retention_days = 0)),
            "log_retention_days"
        );
        assert_eq!(
            refused_key(with(|s| s.max_body_bytes = 10)),
            "max_body_bytes"
        );
        assert_eq!(
            refused_key(with(|s| s.shutdown_timeout_secs = 0)),
            "shutdown_timeout_secs"
        );
        assert_eq!(refused_key(with(|s| s.db_pool_size = 0)), "db_pool_size");
        assert_eq!(
            refused_key(with(|s| s.max_open_tenant_dbs = 0)),
            "max_open_tenant_dbs"
        );
        assert_eq!(
            refused_key(with(|s| s.trusted_proxies = "10.0.0.1, proxy".into())),
            "trusted_proxies"
        );
        assert_eq!(
            with(|s| s.trusted_proxies = " 10.0.0.1, ::1 ,".into())
                .unwrap()
                .trusted_proxies
                .len(),
            2
        );
        assert_eq!(
            refused_key(with(|s| s.session_idle_minutes = 1)),
            "session_idle_minutes"
        );
        assert_eq!(
            refused_key(with(|s| s.session_lifetime_hours = 0)),
            "session_lifetime_hours"
        );
        assert_eq!(
            refused_key(with(|s| s.data_dir = Some(PathBuf::new()))),
            "data_dir"
        );
        assert_eq!(
            refused_key(with(|s| s.base_domain = Some("-bad-.example".into()))),
            "base_domain"
        );
        assert_eq!(
            refused_key(with(|s| s.public_url = Some("ftp://example.com".into()))),
            "public_url"
        );
        assert_eq!(
            refused_key(with(|s| s.tls_cert = Some("/etc/cert.pem".into()))),
            "tls_key"
        );
    }

    #[test]
    fn appliance_hosts_are_names_or_addresses_and_never_a_tenants() {
        let config = with(|s| {
            s.base_domain = Some("crm.test".into());
            s.appliance_hosts =
                " Console.Example.com., 10.0.0.5, [::1], www.crm.test, crm.test, 10.0.0.5 ".into();
        })
        .unwrap();
        assert_eq!(
            config.appliance_hosts,
            [
                "console.example.com",
                "10.0.0.5",
                "::1",
                "www.crm.test",
                "crm.test"
            ]
        );
        assert!(with(|_| {}).unwrap().appliance_hosts.is_empty());
        for bad in [
            "https://console.example.com",
            "console.example.com:8080",
            "console.example.com/admin",
            "acme.crm.test",
            "bad_name.example",
        ] {
            assert_eq!(
                refused_key(with(|s| {
                    s.base_domain = Some("crm.test".into());
                    s.appliance_hosts = bad.into();
                })),
                "appliance_hosts",
                "{bad}"
            );
        }
    }

    #[test]
    fn range_message_uses_the_same_limits_as_the_check() {
        let err = with(|s| s.max_body_bytes = 1).unwrap_err().to_string();
        let (min, max) = MAX_BODY_BYTES_RANGE;
        assert!(err.contains(&format!("between {min} and {max}")), "{err}");
    }

    #[test]
    fn domain_and_url_are_normalised() {
        let config = with(|s| {
            s.base_domain = Some("CRM.Example.com.".into());
            s.public_url = Some("https://crm.example.com/".into());
        })
        .unwrap();
        assert_eq!(config.base_domain.as_deref(), Some("crm.example.com"));
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://crm.example.com")
        );
    }

    #[test]
    fn mail_settings_need_a_sender_and_never_send_a_password_in_the_clear() {
        let smtp = |change: fn(&mut Settings)| {
            with(|s| {
                s.smtp_host = Some("mail.example.com".into());
                s.smtp_from = Some("Holdfast <crm@example.com>".into());
                change(s);
            })
        };
        let config = smtp(|_| {}).unwrap();
        let mail = config.smtp.unwrap();
        assert_eq!(
            (mail.port, mail.security),
            (587, super::super::SmtpSecurity::StartTls)
        );
        assert!(smtp(|s| s.smtp_from = None).is_err());
        assert!(smtp(|s| s.smtp_from = Some("not an address".into())).is_err());
        assert!(smtp(|s| s.smtp_security = "ssl".into()).is_err());
        assert!(
            smtp(|s| {
                s.smtp_security = "none".into();
                s.smtp_password = Some("secret".into());
            })
            .is_err()
        );
        assert!(
            smtp(|s| {
                s.smtp_password = Some("secret".into());
                s.smtp_password_file = Some("/etc/holdfast/smtp".into());
            })
            .is_err()
        );
        assert!(with(|_| {}).unwrap().smtp.is_none());
    }
}
