use std::num::NonZeroUsize;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::license::{LicenseService, TrustedKeys};
use crate::tenancy::{Slug, Tenant, TenantDatabases, TenantError, TenantStatus, registry};

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its own database
    Create {
        /// Short name: lowercase letters, digits, hyphens (used in URLs)
        slug: String,
        /// Display name
        #[arg(long)]
        name: String,
    },
    /// List the tenants
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one tenant
    Show(SlugArgs),
    /// Stop a tenant's sign-ins and API at once; its data is kept
    Suspend(SlugArgs),
    /// Let a suspended tenant back in
    Resume(SlugArgs),
    /// Delete a tenant and its database file (asks for --yes)
    Delete {
        slug: String,
        /// Confirm: the tenant's data is removed for good
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct SlugArgs {
    slug: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

fn slug(text: &str) -> anyhow::Result<Slug> {
    text.parse::<Slug>()
        .map_err(|e| anyhow::anyhow!("invalid slug {text:?}: {e}"))
}

/// A refusal as one line with its stable code first, like the API's error codes.
fn refusal(err: TenantError) -> anyhow::Error {
    match err {
        TenantError::Refused(refusal) => anyhow::anyhow!("{}: {refusal}", refusal.code()),
        TenantError::SlugTaken(_) => anyhow::anyhow!("slug_taken: {err}"),
        TenantError::NotFound(_) => anyhow::anyhow!("tenant_not_found: {err}"),
        other => anyhow::Error::new(other),
    }
}

fn print(tenant: &Tenant, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(tenant)?);
    } else {
        println!(
            "{}  {}  {:?}  id {}",
            tenant.slug,
            tenant.status.as_str(),
            tenant.name,
            tenant.id
        );
    }
    Ok(())
}

pub fn run(global: &GlobalArgs, command: &TenantCommand) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    let db = super::open_control_db(&config)?;
    let databases = TenantDatabases::new(&config.tenants_dir(), NonZeroUsize::MIN);
    let mut conn = db.conn()?;
    match command {
        TenantCommand::Create { slug: text, name } => {
            let license = LicenseService::load(&db, TrustedKeys::builtin())?;
            let tenant = registry::create(&mut conn, &databases, &license, &slug(text)?, name)
                .map_err(refusal)?;
            println!(
                "created tenant {} ({}), database {}",
                tenant.slug,
                tenant.name,
                databases
                    .path(&tenant.id.parse().context("tenant id")?)
                    .display()
            );
        }
        TenantCommand::List { json } => {
            let tenants = registry::list(&conn).map_err(refusal)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&tenants)?);
            } else {
                for tenant in &tenants {
                    print(tenant, false)?;
                }
            }
        }
        TenantCommand::Show(args) => {
            let tenant = registry::find(&conn, &slug(&args.slug)?)
                .map_err(refusal)?
                .ok_or_else(|| refusal(TenantError::NotFound(args.slug.clone())))?;
            print(&tenant, args.json)?;
        }
        TenantCommand::Suspend(args) => {
            let tenant = registry::set_status(&conn, &slug(&args.slug)?, TenantStatus::Suspended)
                .map_err(refusal)?;
            print(&tenant, args.json)?;
        }
        TenantCommand::Resume(args) => {
            let tenant = registry::set_status(&conn, &slug(&args.slug)?, TenantStatus::Active)
                .map_err(refusal)?;
            print(&tenant, args.json)?;
        }
        TenantCommand::Delete { slug: text, yes } => {
            if !yes {
                bail!(
                    "deleting tenant {text} removes its data for good: run again with --yes to confirm"
                );
            }
            let tenant = registry::delete(&conn, &databases, &slug(text)?).map_err(refusal)?;
            println!("deleted tenant {} and its database", tenant.slug);
        }
    }
    Ok(())
}
