use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::license::{InstallDecision, InstallError, LicenseService, TrustedKeys, Usage, rfc3339};

#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Install a license key (refused keys leave the current license in place)
    Install(InstallArgs),
    /// Show the license in force, its limits and dates
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Print this appliance's instance id (to bind a key to it)
    InstanceId,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The key; `-` reads it from standard input
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    key: Option<String>,
    /// Read the key from a file
    #[arg(long)]
    file: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, command: &LicenseCommand) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    let db = super::open_control_db(&config)?;
    let service = LicenseService::load(&db, TrustedKeys::builtin())?;
    match command {
        LicenseCommand::Install(args) => super::audited(
            &super::AuditLog::Control(&db),
            "license install",
            "license key".to_owned(),
            install(&service, args),
        ),
        LicenseCommand::Status { json } => {
            let usage = crate::appliance::usage(&*db.conn()?)?;
            status(&service, usage, *json)
        }
        LicenseCommand::InstanceId => {
            say!("{}", service.instance_id());
            Ok(())
        }
    }
}

fn read_key(args: &InstallArgs) -> anyhow::Result<String> {
    match (&args.key, &args.file) {
        (Some(key), _) if key == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut text)
                .context("cannot read the key from standard input")?;
            Ok(text)
        }
        (Some(key), _) => Ok(key.clone()),
        (None, Some(path)) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            String::from_utf8(bytes).with_context(|| format!("{} is not text", path.display()))
        }
        (None, None) => bail!("give the key, or --file PATH"),
    }
}

fn install(service: &LicenseService, args: &InstallArgs) -> anyhow::Result<()> {
    let key = read_key(args)?;
    let who = format!(
        "cli ({})",
        std::env::var("USER").unwrap_or_else(|_| "unknown user".to_owned())
    );
    match service.install(&key, &who) {
        Ok(outcome) => {
            let payload = outcome.license.payload();
            match outcome.decision {
                InstallDecision::Current => say!(
                    "installed license {} for {} ({}): now {}",
                    payload.license_id,
                    payload.customer,
                    payload.edition,
                    service.effective().state.as_str()
                ),
                InstallDecision::Next => say!(
                    "installed renewal {} for {}: takes over at {} (the current license stays in force until then)",
                    payload.license_id,
                    payload.customer,
                    payload.not_before().map(rfc3339).unwrap_or_default()
                ),
            }
            if let Some(dropped) = &outcome.dropped_pending {
                let old = dropped.payload();
                say!(
                    "note: the renewal of license {} issued {} that was waiting to start at {} is no longer pending: this key replaces it",
                    old.license_id,
                    rfc3339(old.issued_at()),
                    old.not_before().map(rfc3339).unwrap_or_default()
                );
            }
            Ok(())
        }
        Err(InstallError::Refused(err)) => {
            bail!("{}; the current license is unchanged", err.one_line())
        }
        Err(InstallError::Storage(err)) => Err(err).context("cannot store the license"),
    }
}

fn status(service: &LicenseService, usage: Usage, json: bool) -> anyhow::Result<()> {
    let status = service.status(usage);
    if json {
        let mut value = serde_json::to_value(&status)?;
        value["history"] = serde_json::to_value(service.history()?)?;
        super::print_json(&value)?;
        return Ok(());
    }
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    if status.demo_key_trusted {
        say!(
            "WARNING: this build trusts the DEMO vendor key: anyone can issue keys for it. Not for production."
        );
    }
    say!("state:          {}", status.state);
    say!("customer:       {}", opt(&status.customer));
    say!("edition:        {}", opt(&status.edition));
    say!("license id:     {}", opt(&status.license_id));
    say!(
        "seats:          {} of {}",
        status.seats_used,
        status.seats_cap
    );
    say!(
        "tenants:        {} of {}",
        status.tenants_used,
        status.tenants_cap
    );
    say!(
        "features:       {}",
        if status.features.is_empty() {
            "-".to_owned()
        } else {
            status.features.join(", ")
        }
    );
    say!("issued:         {}", opt(&status.issued_at));
    say!(
        "expires:        {}",
        status
            .expires_at
            .clone()
            .unwrap_or_else(|| "never".to_owned())
    );
    say!("grace ends:     {}", opt(&status.grace_ends_at));
    say!(
        "days left:      {}",
        status
            .days_left
            .map_or_else(|| "-".to_owned(), |d| d.to_string())
    );
    if !status.unknown_features.is_empty() {
        say!(
            "unknown features: {} (kept; this build grants nothing for them)",
            status.unknown_features.join(", ")
        );
    }
    say!("bound to:       {}", opt(&status.instance_binding));
    if let Some(renewal) = &status.pending_renewal {
        say!(
            "renewal:        license {} issued {}, takes over at {}: {} seats, {} tenants, expires {}",
            renewal.license_id,
            renewal.issued_at,
            opt(&renewal.starts_at),
            renewal.seats_cap,
            renewal.tenants_cap,
            renewal
                .expires_at
                .clone()
                .unwrap_or_else(|| "never".to_owned())
        );
    }
    say!("instance id:    {}", status.instance_id);
    say!("trusted keys:   {}", status.trusted_key_ids.join(", "));
    if status.clock_set_back {
        say!(
            "WARNING: the system clock is more than a day behind the latest time this appliance has seen."
        );
    } else if let Some(seen) = &status.clock_set_back_last_seen {
        say!("note: the system clock was found set back at {seen}.");
    }
    for problem in &status.problems {
        say!("problem: {problem}");
    }
    if status.over_cap {
        say!(
            "WARNING: more in use than the license allows; additions are refused until under the limits."
        );
    }
    Ok(())
}
