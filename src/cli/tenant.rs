use std::num::NonZeroUsize;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::identity::Email;
use crate::license::{LicenseService, TrustedKeys};
use crate::provision::{self, Owner, ProvisionError};
use crate::tenancy::{
    Change, Slug, Tenant, TenantChanges, TenantDatabases, TenantError, TenantStatus, registry,
};

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its own database
    Create {
        /// Short name: lowercase letters, digits, hyphens (used in URLs)
        slug: String,
        /// Display name
        #[arg(long)]
        name: String,
        /// Invite this address as the tenant's owner (prints a one-time link; takes a seat)
        #[arg(long, value_name = "EMAIL")]
        owner_email: Option<String>,
    },
    /// Change a tenant's name, per-tenant seat limit, custom domain or time zone
    Update {
        slug: String,
        /// New display name
        #[arg(long)]
        name: Option<String>,
        /// At most this many of the license's seats for this tenant
        #[arg(long, value_name = "N", conflicts_with = "no_seat_limit")]
        seat_limit: Option<u32>,
        /// Remove the tenant's seat limit
        #[arg(long)]
        no_seat_limit: bool,
        /// Serve the tenant at this domain too (outside the base domain)
        #[arg(long, value_name = "DOMAIN", conflicts_with = "no_custom_domain")]
        custom_domain: Option<String>,
        /// Remove the tenant's custom domain
        #[arg(long)]
        no_custom_domain: bool,
        /// The tenant's time zone (an IANA name such as Europe/Berlin): the days its pages
        /// group by when a browser does not say its own
        #[arg(long, value_name = "ZONE")]
        timezone: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
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
    /// Write a tenant's whole data to one archive (tar of JSON and CSV files with a
    /// manifest), readable without Holdfast: for a data-protection request, or before
    /// deleting it
    Export {
        slug: String,
        /// The archive to write (it must not exist)
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Back up one tenant's database (consistent, while the server runs) into one archive
    /// with a manifest; `holdfast backup verify FILE` checks it
    Backup {
        slug: String,
        /// Directory the archive goes to [default: the `backup_dir` setting]
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
    },
    /// Restore one tenant's backup into the tenant SLUG (the server stopped): its database is
    /// replaced, the one it replaces kept aside; its users stay as they are
    Restore {
        slug: String,
        /// The tenant's backup archive (verified whole before anything is replaced)
        file: std::path::PathBuf,
    },
    /// Delete a tenant and its database file (asks for --yes); export it first with
    /// `holdfast tenant export SLUG --out FILE` to keep a copy of its data
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
        TenantError::BadName | TenantError::BadDomain(_) | TenantError::BadTimeZone(_) => {
            anyhow::anyhow!("invalid_input: {err}")
        }
        TenantError::DomainTaken(_) => anyhow::anyhow!("domain_taken: {err}"),
        other => anyhow::Error::new(other),
    }
}

fn print(tenant: &Tenant, json: bool) -> anyhow::Result<()> {
    if json {
        super::print_json(tenant)?;
    } else {
        let limit = tenant
            .seat_limit
            .map_or_else(|| "no seat limit".to_owned(), |n| format!("seat limit {n}"));
        let domain = tenant
            .custom_domain
            .as_deref()
            .unwrap_or("no custom domain");
        say!(
            "{}  {}  {:?}  {limit}  {domain}  id {}",
            tenant.slug,
            tenant.status.as_str(),
            tenant.name,
            tenant.id
        );
    }
    Ok(())
}

/// Creates a tenant and, with `owner_email`, invites its owner: both or neither.
fn create(
    config: &crate::config::Config,
    conn: &mut rusqlite::Connection,
    databases: &TenantDatabases,
    license: &LicenseService,
    text: &str,
    name: &str,
    owner_email: Option<&str>,
) -> anyhow::Result<()> {
    let owner: Option<Email> = owner_email
        .map(|e| {
            e.parse()
                .map_err(|err| anyhow::anyhow!("invalid e-mail {e:?}: {err}"))
        })
        .transpose()?;
    let slug = slug(text)?;
    let owner = owner.as_ref().map(|email| Owner {
        email,
        password: None,
    });
    let provisioned = provision::tenant_with_owner(conn, databases, license, &slug, name, owner)
        .map_err(|err| match err {
            ProvisionError::Tenant(err) => refusal(err),
            ProvisionError::Owner(err) => anyhow::anyhow!("{}: {err}", err.code()),
        })?;
    let (tenant, invite) = (provisioned.tenant, provisioned.owner_invite);
    say!(
        "created tenant {} ({}), database {}",
        tenant.slug,
        tenant.name,
        databases
            .path(&tenant.id.parse().context("tenant id")?)
            .display()
    );
    if let (Some(invite), Some(email)) = (invite, owner_email) {
        let link = invite.url(&config.base_url(), &tenant.slug);
        say!("one-time owner invite link (valid 7 days): {link}");
        let letter = crate::mail::invitation(email.trim(), &tenant.name, "owner", &link);
        super::mail(config, &letter);
    }
    Ok(())
}

/// A `--no-X` flag clears, `--X VALUE` sets, neither keeps.
fn change<T>(clear: bool, value: Option<T>) -> Change<T> {
    match (clear, value) {
        (true, _) => Change::Clear,
        (false, Some(value)) => Change::Set(value),
        (false, None) => Change::Keep,
    }
}

pub fn run(global: &GlobalArgs, command: &TenantCommand) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    let db = super::open_control_db(&config)?;
    let result = execute(&config, &db, command);
    let (action, slug) = match command {
        TenantCommand::Create { slug, .. } => ("tenant create", slug),
        TenantCommand::Update { slug, .. } => ("tenant update", slug),
        TenantCommand::Suspend(args) => ("tenant suspend", &args.slug),
        TenantCommand::Resume(args) => ("tenant resume", &args.slug),
        TenantCommand::Delete { slug, .. } => ("tenant delete", slug),
        TenantCommand::Export { slug, .. } => ("tenant export", slug),
        TenantCommand::Backup { slug, .. } => ("tenant backup", slug),
        TenantCommand::Restore { slug, .. } => ("tenant restore", slug),
        TenantCommand::List { .. } | TenantCommand::Show(_) => return result,
    };
    super::audited(
        &super::AuditLog::Control(&db),
        action,
        format!("tenant {slug}"),
        result,
    )
}

fn execute(
    config: &crate::config::Config,
    db: &crate::storage::Database,
    command: &TenantCommand,
) -> anyhow::Result<()> {
    let databases = TenantDatabases::new(&config.tenants_dir(), NonZeroUsize::MIN);
    let mut conn = db.conn()?;
    match command {
        TenantCommand::Create {
            slug: text,
            name,
            owner_email,
        } => {
            let license = LicenseService::load(db, TrustedKeys::builtin())?;
            create(
                config,
                &mut conn,
                &databases,
                &license,
                text,
                name,
                owner_email.as_deref(),
            )?;
        }
        TenantCommand::Update {
            slug: text,
            name,
            seat_limit,
            no_seat_limit,
            custom_domain,
            no_custom_domain,
            timezone,
            json,
        } => {
            // Tenant settings are data: an expired license freezes them, as over HTTP.
            LicenseService::load(db, TrustedKeys::builtin())?
                .effective()
                .may_write()
                .map_err(|r| refusal(r.into()))?;
            let changes = TenantChanges {
                name: name.clone(),
                seat_limit: change(*no_seat_limit, *seat_limit),
                custom_domain: change(*no_custom_domain, custom_domain.clone()),
                timezone: timezone.clone(),
            };
            let tenant =
                registry::update(&mut conn, &slug(text)?, &changes, config).map_err(refusal)?;
            print(&tenant, *json)?;
        }
        TenantCommand::List { json } => {
            let tenants = registry::list(&conn).map_err(refusal)?;
            if *json {
                super::print_json(&tenants)?;
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
        TenantCommand::Export { slug: text, out } => {
            export(config, &conn, &databases, text, out)?;
        }
        TenantCommand::Backup { slug: text, out } => backup(config, &conn, text, out.as_ref())?,
        TenantCommand::Restore { slug: text, file } => restore(config, text, file)?,
        TenantCommand::Delete { slug: text, yes } => {
            if !yes {
                bail!(
                    "deleting tenant {text} removes its data for good: run again with --yes to confirm \
                     (keep a copy first: holdfast tenant export {text} --out FILE)"
                );
            }
            let tenant = registry::delete(&conn, &databases, &slug(text)?).map_err(refusal)?;
            say!("deleted tenant {} and its database", tenant.slug);
        }
    }
    Ok(())
}

/// `tenant backup`: one tenant's database, as of one commit, in one archive.
fn backup(
    config: &crate::config::Config,
    conn: &rusqlite::Connection,
    text: &str,
    out: Option<&std::path::PathBuf>,
) -> anyhow::Result<()> {
    let tenant = registry::find(conn, &slug(text)?)
        .map_err(refusal)?
        .ok_or_else(|| refusal(TenantError::NotFound(text.to_owned())))?;
    let instance = crate::appliance::instance_id(conn)?;
    let out = out.cloned().unwrap_or_else(|| config.backup_dir.clone());
    let (path, manifest) = crate::backup::create_tenant(config, &tenant, instance.as_str(), &out)?;
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    say!(
        "{}: tenant {} at schema version {}, {} KiB",
        path.display(),
        tenant.slug,
        manifest.files[0].schema_version,
        bytes.div_ceil(1024)
    );
    Ok(())
}

/// `tenant restore`: one tenant's backup into an existing tenant, the server stopped.
fn restore(
    config: &crate::config::Config,
    text: &str,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let restored = crate::backup::restore_tenant(config, &slug(text)?, file)
        .with_context(|| format!("nothing was changed; cannot restore {}", file.display()))?;
    let from = restored
        .manifest
        .tenant
        .as_ref()
        .map_or("", |t| t.slug.as_str());
    say!(
        "restored tenant {text} from {} (a backup of tenant {from}, made {})",
        file.display(),
        restored.manifest.created_at
    );
    if let Some(aside) = &restored.aside {
        say!(
            "the database it replaced is in {}; delete it once you are satisfied",
            aside.display()
        );
    }
    Ok(())
}

/// `tenant export`: the tenant's whole data to one new archive file.
fn export(
    config: &crate::config::Config,
    conn: &rusqlite::Connection,
    databases: &TenantDatabases,
    text: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let tenant = registry::find(conn, &slug(text)?)?
        .ok_or_else(|| anyhow::anyhow!("tenant_not_found: no tenant with slug {text}"))?;
    let users = crate::identity::users::list(conn, &tenant.id)?;
    let tenant_db = databases.get(&tenant.id.parse()?)?;
    let mut tenant_conn = tenant_db.conn()?;
    let file = std::fs::File::create_new(out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    let tx = tenant_conn.transaction()?;
    let written = crate::archive::write(
        &tx,
        &tenant,
        &users,
        &config.data_dir,
        std::io::BufWriter::new(file),
    );
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(err) => {
            // A half-written archive is no archive.
            let _ = std::fs::remove_file(out);
            return Err(err.into());
        }
    };
    tx.commit()?;
    let lists: Vec<String> = manifest
        .files
        .iter()
        .filter_map(|f| {
            f.name
                .strip_suffix(".json")
                .map(|list| format!("{} {list}", f.records))
        })
        .collect();
    say!(
        "wrote {} ({} files: {})",
        out.display(),
        manifest.files.len() + 1,
        lists.join(", ")
    );
    Ok(())
}
