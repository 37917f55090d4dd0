//! A new tenant with its owner: the tenant row, its database file and the owner's seat,
//! all or nothing. The CLI, the operator API and the one-time setup all provision here.

use rusqlite::Connection;

use crate::identity::password::NewPassword;
use crate::identity::{Email, OneTimeLink, Role, UserError, users};
use crate::license::LicenseService;
use crate::tenancy::{Slug, Tenant, TenantDatabases, TenantError, registry};

/// Who owns the new tenant: active at once with a password, else invited by link.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub email: &'a Email,
    pub password: Option<&'a NewPassword>,
}

/// The new tenant, and its owner's invitation when the owner has no password yet.
#[derive(Debug)]
pub struct Provisioned {
    pub tenant: Tenant,
    pub owner_invite: Option<OneTimeLink>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Tenant(#[from] TenantError),
    #[error(transparent)]
    Owner(#[from] UserError),
}

/// Creates the tenant (within the license's tenant cap) and, if given, its owner (within the
/// seat cap). If the owner cannot be added, the tenant and its database go again.
pub fn tenant_with_owner(
    conn: &mut Connection,
    databases: &TenantDatabases,
    license: &LicenseService,
    slug: &Slug,
    name: &str,
    owner: Option<Owner<'_>>,
) -> Result<Provisioned, ProvisionError> {
    let tenant = registry::create(conn, databases, license, slug, name)?;
    let Some(owner) = owner else {
        return Ok(Provisioned {
            tenant,
            owner_invite: None,
        });
    };
    let added = users::create(
        conn,
        &license.effective(),
        &tenant,
        owner.email,
        Role::Owner,
        owner.password,
    );
    match added {
        Ok(created) => Ok(Provisioned {
            tenant,
            owner_invite: created.invite,
        }),
        Err(err) => {
            registry::delete(conn, databases, slug)?;
            Err(err.into())
        }
    }
}
