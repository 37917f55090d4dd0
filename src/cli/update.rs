//! `holdfast update check|apply [--file BUNDLE] [--allow-downgrade] [--rollback]`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::json;

use super::GlobalArgs;
use crate::build_info::VERSION;
use crate::license::TrustedKeys;
use crate::update::{self, Available, OpenedBundle, UpdateError};

#[derive(Debug, Subcommand)]
pub enum UpdateCommand {
    /// Say whether a newer release is available (from `update_url`, or in a bundle file)
    Check {
        /// A bundle file to verify instead of asking the release source
        #[arg(long, value_name = "BUNDLE")]
        file: Option<PathBuf>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Verify a release bundle and swap it in for this binary, keeping this one for
    /// `--rollback`; or roll back to the binary kept by the last update
    Apply(ApplyArgs),
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A bundle file (air-gapped sites) instead of the newest from the release source
    #[arg(long, value_name = "BUNDLE", conflicts_with = "rollback")]
    file: Option<PathBuf>,
    /// Install a bundle that is not newer than this binary
    #[arg(long, conflicts_with = "rollback")]
    allow_downgrade: bool,
    /// Put back the binary the last update replaced
    #[arg(long)]
    rollback: bool,
}

pub fn run(global: &GlobalArgs, cmd: &UpdateCommand) -> anyhow::Result<()> {
    match cmd {
        UpdateCommand::Check { file, json } => check(global, file.as_deref(), *json),
        UpdateCommand::Apply(args) if args.rollback => rollback(),
        UpdateCommand::Apply(args) => apply(global, args),
    }
}

fn check(global: &GlobalArgs, file: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let target = update::this_target();
    let (version, from) = if let Some(file) = file {
        let bundle = update::open(file, &TrustedKeys::release())?;
        (
            Some(bundle.info.version.clone()),
            file.display().to_string(),
        )
    } else {
        let url = release_source(global)?;
        (update::latest(&url, target)?.map(|a| a.version), url)
    };
    let newer = match &version {
        Some(v) => update::is_newer(VERSION, v)?,
        None => false,
    };
    if json {
        return super::print_json(&json!({
            "current": VERSION,
            "target": target,
            "source": from,
            "available": version,
            "update_available": newer,
        }));
    }
    match version {
        Some(v) if newer => say!("Holdfast {v} is available from {from} (this is {VERSION})"),
        Some(v) => say!("up to date: this is {VERSION}; {from} offers {v}"),
        None => say!("up to date: {from} offers no release for {target}"),
    }
    Ok(())
}

fn apply(global: &GlobalArgs, args: &ApplyArgs) -> anyhow::Result<()> {
    let binary = update::current_binary()?;
    if TrustedKeys::release().demo_key_trusted() {
        say!(
            "WARNING: this build trusts the DEMO release key, whose private half is public: a bundle signed with it proves nothing (see RELEASES.md)"
        );
    }
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let bundle_path = if let Some(file) = &args.file {
        file.clone()
    } else {
        let url = release_source(global)?;
        match update::latest(&url, update::this_target())? {
            Some(available) if args.allow_downgrade || newer(&available)? => {
                say!("downloading {}", available.url);
                update::download(&available, scratch.path())?
            }
            _ => {
                say!("up to date: this is {VERSION}, and {url} offers nothing newer");
                return Ok(());
            }
        }
    };
    let bundle: OpenedBundle =
        update::open(&bundle_path, &TrustedKeys::release()).map_err(|e| refused(&e))?;
    if update::is_installed(&binary, &bundle.info) {
        say!(
            "{} already is the binary of Holdfast {}; nothing was changed",
            binary.display(),
            bundle.info.version
        );
        return Ok(());
    }
    update::check_applicable(&bundle.info, args.allow_downgrade).map_err(|e| refused(&e))?;
    let installed = update::install(&bundle.binary, &binary).map_err(|e| refused(&e))?;
    say!(
        "updated {} from {VERSION} to {}; the binary it replaced is kept as {} (`holdfast update apply --rollback` puts it back)",
        installed.binary.display(),
        bundle.info.version,
        installed.previous.display()
    );
    say!("restart the service to run it, e.g. `systemctl restart holdfast`");
    Ok(())
}

fn rollback() -> anyhow::Result<()> {
    let binary = update::current_binary()?;
    let done = update::rollback(&binary).map_err(|e| refused(&e))?;
    say!(
        "rolled back {}: the binary the last update replaced is in place again; the one it replaced is kept as {}",
        done.binary.display(),
        done.previous.display()
    );
    say!(
        "restart the service to run it; if the newer release had already changed the databases, this one refuses them: restore the backup taken before the update (`holdfast restore FILE`)"
    );
    Ok(())
}

fn newer(available: &Available) -> anyhow::Result<bool> {
    Ok(update::is_newer(VERSION, &available.version)?)
}

fn release_source(global: &GlobalArgs) -> anyhow::Result<String> {
    global.load_config(None)?.config.update_url.context(
        "no_release_source: no update_url is configured; set it, or give a bundle with --file",
    )
}

/// The refusal, with the promise the checks keep.
fn refused(err: &UpdateError) -> anyhow::Error {
    match err {
        UpdateError::Install(_) => anyhow::anyhow!("{err}"),
        _ => anyhow::anyhow!("{err}; nothing was changed"),
    }
}
