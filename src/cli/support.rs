//! `holdfast support-bundle --out FILE`: what a support desk asks for, nothing secret inside.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{GlobalArgs, open_control_db};
use crate::license::{LicenseService, TrustedKeys};

#[derive(Debug, Args)]
pub struct SupportArgs {
    /// The bundle to write (a new file: never over an existing one)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(global: &GlobalArgs, args: &SupportArgs) -> anyhow::Result<()> {
    let loaded = global.load_config(None)?;
    let db = open_control_db(&loaded.config)?;
    let license = LicenseService::load(&db, TrustedKeys::builtin())?;
    let status = license.status(crate::appliance::usage(&*db.conn()?)?);
    let written = crate::support::write(&loaded, &status, &*db.conn()?, &args.out);
    let names = match written {
        Ok(names) => names,
        Err(err) => {
            // A half-written bundle is no bundle; one that was there before is not ours.
            if !matches!(
                err.downcast_ref::<std::io::Error>(),
                Some(e) if e.kind() == std::io::ErrorKind::AlreadyExists
            ) {
                let _ = std::fs::remove_file(&args.out);
            }
            return Err(err).with_context(|| format!("cannot write {}", args.out.display()));
        }
    };
    say!(
        "{}: {} files ({}); no passwords, keys or tokens inside — read it before you send it",
        args.out.display(),
        names.len(),
        names.join(", ")
    );
    Ok(())
}
