//! A support bundle: what a vendor's support desk asks for, in one tar file, with nothing
//! secret inside — the build, the effective configuration (secrets redacted), the license's
//! status (never the key), each database's schema version, size and integrity check, the
//! backups and set-aside databases there are, and the tail of the newest log files (which
//! never hold passwords, tokens or keys: requests are logged by route template).

use std::fs;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};

use crate::config::{Loaded, show};
use crate::license::LicenseStatus;

/// Lines kept from the end of each log file, and how many of the newest files.
const LOG_LINES: usize = 2000;
const LOG_FILES: usize = 3;

/// Writes the bundle to `out` (a new file); answers the names of the files inside.
pub fn write(
    loaded: &Loaded,
    license: &LicenseStatus,
    control: &Connection,
    out: &Path,
) -> anyhow::Result<Vec<String>> {
    let config = &loaded.config;
    let file = fs::File::create_new(out)?;
    let mut tar = tar::Builder::new(io::BufWriter::new(file));
    let mut names = Vec::new();
    let mtime = u64::try_from(crate::crm::now()).unwrap_or(0);
    let mut add = |name: &str, bytes: &[u8]| -> io::Result<()> {
        crate::archive::append(&mut tar, name, bytes.len() as u64, mtime, bytes)?;
        names.push(name.to_owned());
        Ok(())
    };
    let about = json!({
        "holdfast_version": crate::build_info::VERSION,
        "commit": crate::build_info::GIT_COMMIT,
        "build_date": crate::build_info::BUILD_DATE,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "created_at": crate::crm::values::rfc3339(crate::crm::now()),
        "data_dir": config.data_dir.display().to_string(),
        "log_dir": config.log_dir.display().to_string(),
        "config_file": loaded.file.as_ref().map(|p| p.display().to_string()),
    });
    add("about.json", &pretty(&about))?;
    let settings: Vec<Value> = show(loaded)
        .iter()
        .map(|s| json!({ "key": s.key, "value": s.value, "source": s.source }))
        .collect();
    add("config.json", &pretty(&json!(settings)))?;
    add("license.json", &pretty(&json!(license)))?;
    add(
        "databases.json",
        &pretty(&json!(databases(config, control)?)),
    )?;
    let listing = json!({
        "backups": crate::web::backups::list(&config.backup_dir),
        "orphans": file_names(&config.data_dir.join("orphans")),
        "replaced_by_restores": file_names(&config.data_dir)
            .into_iter()
            .filter(|n| n.starts_with("replaced-"))
            .collect::<Vec<_>>(),
    });
    add("files.json", &pretty(&listing))?;
    for log in newest_logs(&config.log_dir) {
        let name = format!(
            "logs/{}",
            log.file_name().unwrap_or_default().to_string_lossy()
        );
        add(&name, &tail(&log)?)?;
    }
    tar.into_inner()?.flush()?;
    Ok(names)
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Each database: its schema version, size and SQLite's integrity check.
fn databases(config: &crate::config::Config, control: &Connection) -> anyhow::Result<Vec<Value>> {
    let mut all = vec![checked(&config.control_db_path(), "holdfast.db", None)];
    let mut stmt = control.prepare("SELECT id, slug FROM tenants ORDER BY slug")?;
    let tenants: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, slug) in tenants {
        let path = config.tenants_dir().join(format!("{id}.db"));
        all.push(checked(&path, &format!("tenants/{id}.db"), Some(&slug)));
    }
    Ok(all)
}

fn checked(path: &Path, name: &str, tenant: Option<&str>) -> Value {
    let bytes = fs::metadata(path).map(|m| m.len()).ok();
    let result = (|| -> rusqlite::Result<(u32, String)> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let integrity = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok((version, integrity))
    })();
    match result {
        Ok((version, integrity)) => json!({
            "name": name, "tenant": tenant, "bytes": bytes,
            "schema_version": version, "integrity_check": integrity,
        }),
        Err(err) => json!({
            "name": name, "tenant": tenant, "bytes": bytes,
            "error": err.to_string(),
        }),
    }
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// The newest log files Holdfast wrote.
fn newest_logs(dir: &Path) -> Vec<PathBuf> {
    let mut logs: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(crate::telemetry::LOG_FILE_PREFIX))
        })
        .collect();
    logs.sort();
    logs.into_iter().rev().take(LOG_FILES).collect()
}

/// The last [`LOG_LINES`] lines of a file, read as a stream.
fn tail(path: &Path) -> io::Result<Vec<u8>> {
    let mut last: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    for line in io::BufReader::new(fs::File::open(path)?).lines() {
        let line = line.unwrap_or_else(|e| format!("(unreadable line: {e})"));
        if last.len() == LOG_LINES {
            last.pop_front();
        }
        last.push_back(line);
    }
    let mut out = Vec::new();
    for line in last {
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}
