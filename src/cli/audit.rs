use std::num::NonZeroUsize;

use clap::Subcommand;

use super::GlobalArgs;
use crate::audit;
use crate::storage::Database;
use crate::tenancy::{Slug, TenantDatabases, registry};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of the appliance's audit log and of every tenant's (exit 1 if any
    /// is broken, naming the first broken entry)
    Verify {
        /// Only this tenant's log
        #[arg(long)]
        tenant: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show the newest entries of the appliance's audit log, or of a tenant's
    List {
        /// The tenant's log instead of the appliance's
        #[arg(long)]
        tenant: Option<String>,
        /// How many entries (at most 500)
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// The audit logs to look at: the control database's and the tenants' (all, or one).
fn logs(
    config: &crate::config::Config,
    control: &Database,
    tenant: Option<&str>,
    with_control: bool,
) -> anyhow::Result<Vec<(String, Database)>> {
    let databases = TenantDatabases::new(&config.tenants_dir(), NonZeroUsize::MIN);
    let conn = control.conn()?;
    let tenants =
        match tenant {
            Some(text) => {
                let slug: Slug = text
                    .parse()
                    .map_err(|e| anyhow::anyhow!("invalid slug {text:?}: {e}"))?;
                vec![registry::find(&conn, &slug)?.ok_or_else(|| {
                    anyhow::anyhow!("tenant_not_found: no tenant with slug {text}")
                })?]
            }
            None => registry::list(&conn)?,
        };
    let mut logs = Vec::new();
    if with_control && tenant.is_none() {
        logs.push(("control".to_owned(), control.clone()));
    }
    for tenant in tenants {
        let db = databases.get(&tenant.id.parse()?)?;
        logs.push((format!("tenant {}", tenant.slug), db));
    }
    Ok(logs)
}

pub fn run(global: &GlobalArgs, command: &AuditCommand) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    let control = super::open_control_db(&config)?;
    match command {
        AuditCommand::Verify { tenant, json } => {
            let mut broken = Vec::new();
            let mut report = Vec::new();
            for (name, db) in logs(&config, &control, tenant.as_deref(), true)? {
                let result = audit::verify(&*db.conn()?)?;
                match &result {
                    Ok(count) => report
                        .push(serde_json::json!({ "log": name, "entries": count, "intact": true })),
                    Err(link) => {
                        report.push(serde_json::json!({ "log": name, "intact": false, "broken_at": link.seq, "reason": link.reason }));
                        broken.push(format!("{name}: {link}"));
                    }
                }
                if !json {
                    match result {
                        Ok(count) => say!("{name}: {count} entries, chain intact"),
                        Err(link) => say!("{name}: {link}"),
                    }
                }
            }
            if *json {
                super::print_json(&report)?;
            }
            if !broken.is_empty() {
                anyhow::bail!("audit_broken: {}", broken.join("; "));
            }
        }
        AuditCommand::List {
            tenant,
            limit,
            json,
        } => {
            let (name, db) = match tenant {
                Some(_) => logs(&config, &control, tenant.as_deref(), false)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("no such tenant"))?,
                None => ("control".to_owned(), control.clone()),
            };
            let entries = audit::list(&*db.conn()?, None, *limit)?;
            if *json {
                super::print_json(&entries)?;
            } else {
                say!("{name}:");
                for e in &entries {
                    let at =
                        e.at.format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default();
                    say!(
                        "{:>6}  {at}  {}  {}  {}  {}  {}",
                        e.seq,
                        e.actor,
                        e.action,
                        e.target,
                        e.address.as_deref().unwrap_or("-"),
                        e.outcome
                    );
                }
            }
        }
    }
    Ok(())
}
