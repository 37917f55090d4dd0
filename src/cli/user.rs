use anyhow::Context;
use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::identity::password::NewPassword;
use crate::identity::{Email, Role, User, UserError, users};
use crate::license::{LicenseService, TrustedKeys};
use crate::tenancy::{Slug, Tenant, registry};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user to a tenant (takes a seat); without a password, prints a one-time invite link
    Create {
        #[command(flatten)]
        who: UserArgs,
        /// What the user may do in the tenant
        #[arg(long, value_enum)]
        role: Role,
        /// Read the user's password from standard input instead of inviting them
        #[arg(long)]
        password_stdin: bool,
    },
    /// List a tenant's users
    List {
        /// The tenant's slug
        #[arg(long)]
        tenant: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Stop a user's access and free their seat; their data stays
    Deactivate(UserArgs),
    /// Give a deactivated user their seat back, if one is free
    Reactivate(UserArgs),
    /// Print a one-time link for the user to set a new password
    ResetPassword(UserArgs),
}

#[derive(Debug, Args)]
pub struct UserArgs {
    /// The tenant's slug
    #[arg(long)]
    tenant: String,
    /// The user's e-mail address
    #[arg(long)]
    email: String,
}

/// A refusal as one line with its stable code first, like the API's error codes.
fn refusal(err: UserError) -> anyhow::Error {
    match err {
        UserError::Storage(_) => anyhow::Error::new(err),
        other => anyhow::anyhow!("{}: {other}", other.code()),
    }
}

fn tenant(conn: &rusqlite::Connection, text: &str) -> anyhow::Result<Tenant> {
    let slug: Slug = text
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid slug {text:?}: {e}"))?;
    registry::find(conn, &slug)?
        .ok_or_else(|| anyhow::anyhow!("tenant_not_found: no tenant with slug {text}"))
}

fn email(text: &str) -> anyhow::Result<Email> {
    text.parse()
        .map_err(|e| anyhow::anyhow!("invalid e-mail {text:?}: {e}"))
}

fn print(user: &User) {
    say!(
        "{}  {}  {}  id {}",
        user.email,
        user.role,
        user.status.as_str(),
        user.id
    );
}

pub fn run(global: &GlobalArgs, command: &UserCommand) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    let db = super::open_control_db(&config)?;
    let result = execute(&config, &db, command);
    let (action, who) = match command {
        UserCommand::Create { who, .. } => ("user create", who),
        UserCommand::Deactivate(who) => ("user deactivate", who),
        UserCommand::Reactivate(who) => ("user reactivate", who),
        UserCommand::ResetPassword(who) => ("user reset-password", who),
        UserCommand::List { .. } => return result,
    };
    let log = super::AuditLog::Tenant {
        config: &config,
        db: &db,
        slug: &who.tenant,
    };
    super::audited(&log, action, format!("user {}", who.email.trim()), result)
}

fn execute(
    config: &crate::config::Config,
    db: &crate::storage::Database,
    command: &UserCommand,
) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    let license = || -> anyhow::Result<_> {
        Ok(LicenseService::load(db, TrustedKeys::builtin())?.effective())
    };
    match command {
        UserCommand::Create {
            who,
            role,
            password_stdin,
        } => {
            let tenant = tenant(&conn, &who.tenant)?;
            let email = email(&who.email)?;
            let password = password_stdin
                .then(super::read_secret_line)
                .transpose()
                .context("cannot read the password from standard input")?
                .map(|p| NewPassword::new(&p, email.as_str()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
            let created = users::create(
                &mut conn,
                &license()?,
                &tenant,
                &email,
                *role,
                password.as_ref(),
            )
            .map_err(refusal)?;
            say!(
                "created {} user {} in tenant {}",
                created.user.role,
                created.user.email,
                tenant.slug
            );
            if let Some(invite) = created.invite {
                let link = invite.url(&config.base_url(), &tenant.slug);
                say!("one-time invite link (valid 7 days): {link}");
                let role = created.user.role.as_str();
                let letter =
                    crate::mail::invitation(&created.user.email, &tenant.name, role, &link);
                super::mail(config, &letter);
            }
        }
        UserCommand::List { tenant: slug, json } => {
            let tenant = tenant(&conn, slug)?;
            let list = users::list(&conn, &tenant.id).map_err(refusal)?;
            if *json {
                super::print_json(&list)?;
            } else {
                list.iter().for_each(print);
            }
        }
        UserCommand::Deactivate(who) => {
            let tenant = tenant(&conn, &who.tenant)?;
            let user =
                users::deactivate(&mut conn, &tenant, &email(&who.email)?).map_err(refusal)?;
            print(&user);
        }
        UserCommand::Reactivate(who) => {
            let tenant = tenant(&conn, &who.tenant)?;
            let user = users::reactivate(&mut conn, &license()?, &tenant, &email(&who.email)?)
                .map_err(refusal)?;
            print(&user);
        }
        UserCommand::ResetPassword(who) => {
            let tenant = tenant(&conn, &who.tenant)?;
            let (user, link) =
                users::password_link(&mut conn, &tenant, &email(&who.email)?).map_err(refusal)?;
            let valid = match link.purpose {
                crate::identity::LinkPurpose::Invite => "7 days",
                crate::identity::LinkPurpose::Reset => "24 hours",
            };
            let url = link.url(&config.base_url(), &tenant.slug);
            say!("one-time link for {} (valid {valid}): {url}", user.email);
            let letter = match link.purpose {
                crate::identity::LinkPurpose::Invite => {
                    crate::mail::invitation(&user.email, &tenant.name, user.role.as_str(), &url)
                }
                crate::identity::LinkPurpose::Reset => {
                    crate::mail::password_reset(&user.email, &tenant.name, &url)
                }
            };
            super::mail(config, &letter);
        }
    }
    Ok(())
}
