//! Backups inside `serve`: one made whenever the newest in `backup_dir` is older than
//! `backup_interval_hours` (checked every minute, so a restart neither skips nor repeats
//! one), the oldest beyond `backup_keep` deleted after a new one succeeds. A failure is
//! logged as an error, kept as the last result, and tried again an hour later. The operator
//! API lists backups with the last result, starts one, and downloads one; one backup runs at
//! a time.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::AppState;
use crate::backup;

/// How often the schedule is looked at, and how long after a failure the next try waits.
const TICK: Duration = Duration::from_secs(60);
const RETRY: Duration = Duration::from_secs(3600);

/// The last backup's result and whether one is running: what the console shows.
#[derive(Debug, Default)]
pub struct BackupState {
    last: Mutex<Option<LastBackup>>,
    running: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LastBackup {
    /// When it ended.
    pub at: String,
    pub ok: bool,
    /// The archive's file name, when it succeeded.
    pub file: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Who asked: `schedule` or `operator:<id>`.
    pub by: String,
}

impl BackupState {
    pub fn last(&self) -> Option<LastBackup> {
        self.last.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Why a backup could not be made now.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("a backup is running; wait for it to end")]
    Busy,
    #[error("{0}")]
    Failed(String),
}

/// Makes a backup now, unless one is running; records its result. Answers the archive's
/// path and manifest.
pub async fn make(state: &AppState, by: String) -> Result<(PathBuf, backup::Manifest), StartError> {
    let backups = Arc::clone(&state.backups);
    let _running = backups.running.try_lock().map_err(|_| StartError::Busy)?;
    let config = Arc::clone(&state.config);
    let made = tokio::task::spawn_blocking(move || {
        let made = backup::create(&config, &config.backup_dir)?;
        prune(&config.backup_dir, config.backup_keep);
        Ok::<_, backup::BackupError>(made)
    })
    .await
    .map_err(|e| StartError::Failed(e.to_string()))
    .and_then(|r| r.map_err(|e| StartError::Failed(e.to_string())));
    let last = LastBackup {
        at: crate::crm::values::rfc3339(crate::crm::now()),
        ok: made.is_ok(),
        file: made.as_ref().ok().and_then(|(path, _)| file_name(path)),
        error: made.as_ref().err().map(ToString::to_string),
        by: by.clone(),
    };
    match &made {
        Ok((path, manifest)) => tracing::info!(
            file = %path.display(), databases = manifest.files.len(), by = %by, "backup made"
        ),
        Err(err) => tracing::error!(error = %err, by = %by, "backup failed"),
    }
    if let Ok(mut slot) = backups.last.lock() {
        *slot = Some(last);
    }
    made
}

/// Makes scheduled backups until the server stops: at once if none is recent, then whenever
/// the newest is `backup_interval` old; after a failure, an hour later.
pub async fn run(state: AppState) {
    let Some(interval) = state.config.backup_interval else {
        return;
    };
    loop {
        let due = newest_age(&state.config.backup_dir).is_none_or(|age| age >= interval);
        let resting = state.backups.last().is_some_and(|l| !l.ok) && !retry_due(&state.backups);
        if due && !resting {
            let _ = make(&state, "schedule".into()).await;
        }
        tokio::time::sleep(TICK).await;
    }
}

/// Whether the last backup's end is [`RETRY`] ago.
fn retry_due(backups: &BackupState) -> bool {
    let Some(last) = backups.last() else {
        return true;
    };
    time::OffsetDateTime::parse(&last.at, &time::format_description::well_known::Rfc3339)
        .map_or(true, |at| time::OffsetDateTime::now_utc() - at >= RETRY)
}

/// A backup archive in the directory: its name, size and time.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Listed {
    pub name: String,
    pub bytes: u64,
    pub modified_at: String,
}

/// The backups in `dir`, newest first.
pub fn list(dir: &Path) -> Vec<Listed> {
    let mut all: Vec<(SystemTime, Listed)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let meta = entry.metadata().ok()?;
            (is_backup_name(&name) && meta.is_file()).then_some(())?;
            let modified = meta.modified().ok()?;
            let secs = modified
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()?
                .as_secs();
            Some((
                modified,
                Listed {
                    name,
                    bytes: meta.len(),
                    modified_at: crate::crm::values::rfc3339(i64::try_from(secs).ok()?),
                },
            ))
        })
        .collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.name.cmp(&a.1.name)));
    all.into_iter().map(|(_, l)| l).collect()
}

/// Whether `name` is one `backup::create` gives: `holdfast-backup-<stamp>[-n].tar`, with no
/// path in it.
pub fn is_backup_name(name: &str) -> bool {
    name.strip_prefix("holdfast-backup-")
        .and_then(|rest| rest.strip_suffix(".tar"))
        .is_some_and(|stamp| {
            !stamp.is_empty()
                && stamp
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn newest_age(dir: &Path) -> Option<Duration> {
    let newest = list(dir).into_iter().next()?;
    let at = time::OffsetDateTime::parse(
        &newest.modified_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    (time::OffsetDateTime::now_utc() - at).try_into().ok()
}

/// Deletes the oldest backups beyond `keep`.
fn prune(dir: &Path, keep: u32) {
    for old in list(dir).into_iter().skip(keep as usize) {
        if let Err(err) = std::fs::remove_file(dir.join(&old.name)) {
            tracing::warn!(file = %old.name, error = %err, "cannot delete an old backup");
        }
    }
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name()?.to_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::is_backup_name;

    #[test]
    fn only_backup_archives_by_name_are_offered() {
        assert!(is_backup_name("holdfast-backup-20261206T021720Z.tar"));
        assert!(is_backup_name("holdfast-backup-20261206T021720Z-2.tar"));
        assert!(!is_backup_name("holdfast-backup-.tar"));
        assert!(!is_backup_name("holdfast-backup-../../holdfast.db.tar"));
        assert!(!is_backup_name("holdfast.db"));
    }
}
