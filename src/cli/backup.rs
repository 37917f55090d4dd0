//! `holdfast backup [--out DIR]`, `holdfast backup verify FILE`, `holdfast restore FILE`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{AuditLog, GlobalArgs, audited, open_control_db};
use crate::backup::{self, Manifest};

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    /// Directory the archive goes to [default: the `backup_dir` setting, `<data dir>/backups`]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum BackupCommand {
    /// Check a backup: its manifest, every file's size and SHA-256, and SQLite's integrity
    /// check of every database in it
    Verify {
        /// The backup archive
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup archive (verified whole before anything is replaced)
    file: PathBuf,
}

/// `holdfast backup`: a consistent snapshot of every database, while the server runs.
pub fn run(global: &GlobalArgs, args: &BackupArgs) -> anyhow::Result<()> {
    if let Some(BackupCommand::Verify { file }) = &args.command {
        let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
        let manifest = backup::verify(file, scratch.path())
            .with_context(|| format!("backup_invalid: {}", file.display()))?;
        say!("{}: ok — {}", file.display(), summary(&manifest));
        return Ok(());
    }
    let config = global.load_config(None)?.config;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| config.backup_dir.clone());
    let db = open_control_db(&config)?;
    let result = backup::create(&config, &out);
    let target = match &result {
        Ok((path, _)) => path.display().to_string(),
        Err(_) => out.display().to_string(),
    };
    let (path, manifest) = match result {
        Ok(made) => made,
        Err(err) => {
            return audited(
                &AuditLog::Control(&db),
                "backup",
                target,
                Err(err).context("backup failed"),
            );
        }
    };
    audited(&AuditLog::Control(&db), "backup", target, Ok(()))?;
    say!("{}: {}", path.display(), summary(&manifest));
    Ok(())
}

/// `holdfast restore FILE`.
pub fn restore(global: &GlobalArgs, args: &RestoreArgs) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    let restored = backup::restore(&config, &args.file).with_context(|| {
        format!(
            "nothing was changed; cannot restore {}",
            args.file.display()
        )
    })?;
    let db = open_control_db(&config)?;
    audited(
        &AuditLog::Control(&db),
        "restore",
        args.file.display().to_string(),
        Ok(()),
    )?;
    say!(
        "restored {} into {}: {}",
        args.file.display(),
        config.data_dir.display(),
        summary(&restored.manifest)
    );
    if let Some(aside) = &restored.aside {
        say!(
            "the databases it replaced are in {}; delete them once you are satisfied",
            aside.display()
        );
    }
    Ok(())
}

fn summary(manifest: &Manifest) -> String {
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    format!(
        "instance {}, made {} by Holdfast {}, {} tenant database(s), {} KiB",
        manifest.instance_id,
        manifest.created_at,
        manifest.holdfast_version,
        manifest.files.len() - 1,
        bytes.div_ceil(1024)
    )
}
