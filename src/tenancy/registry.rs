//! The tenants table in the control database. Creating a tenant is one function, race-free
//! across processes: the count, the license check and the insert happen under one
//! `BEGIN IMMEDIATE` write lock, so two creations at one below the cap yield exactly one
//! tenant.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use time::OffsetDateTime;

use super::{Slug, TenantDatabases, TenantDbError, TenantId};
use crate::license::{LicenseService, Refusal, Usage};
use crate::storage::StorageError;

/// Whether a tenant may sign in and use the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }
}

/// A tenant as the appliance records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub custom_domain: Option<String>,
    pub seat_limit: Option<u32>,
    pub timezone: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("a tenant with slug {0} already exists")]
    SlugTaken(String),
    #[error("no tenant with slug {0}")]
    NotFound(String),
    #[error("the tenant name must be 1 to 200 printable characters")]
    BadName,
    #[error("{0}")]
    BadDomain(String),
    #[error("{0:?} is not a time zone such as Europe/Berlin (a name of the IANA database)")]
    BadTimeZone(String),
    #[error("the domain {0} is already another tenant's")]
    DomainTaken(String),
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Database(#[from] TenantDbError),
    #[error("cannot lock the tenants' directory: {0}")]
    Lock(#[from] std::io::Error),
}

impl From<rusqlite::Error> for TenantError {
    fn from(err: rusqlite::Error) -> Self {
        TenantError::Storage(err.into())
    }
}

const COLUMNS: &str =
    "id, slug, name, status, custom_domain, seat_limit, timezone, created_at, updated_at";

fn row_to_tenant(r: &rusqlite::Row<'_>) -> rusqlite::Result<Tenant> {
    let status: String = r.get(3)?;
    Ok(Tenant {
        id: r.get(0)?,
        slug: r.get(1)?,
        name: r.get(2)?,
        status: if status == "suspended" {
            TenantStatus::Suspended
        } else {
            TenantStatus::Active
        },
        custom_domain: r.get(4)?,
        seat_limit: r.get(5)?,
        timezone: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// How many tenants exist (all count against the license, suspended ones too: they keep
/// their data and can be resumed at any time).
pub fn count(conn: &Connection) -> Result<u32, StorageError> {
    Ok(conn.query_row("SELECT count(*) FROM tenants", [], |r| r.get(0))?)
}

/// A change to an optional field: keep it, clear it, or set it. In JSON an absent field
/// keeps, `null` clears, a value sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    fn is_keep(&self) -> bool {
        matches!(self, Change::Keep)
    }

    fn value(&self) -> Option<&T> {
        match self {
            Change::Set(value) => Some(value),
            _ => None,
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Change<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Change::Clear, Change::Set))
    }
}

/// What an operator may change about a tenant.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub seat_limit: Change<u32>,
    #[serde(default)]
    pub custom_domain: Change<String>,
    /// The tenant's time zone: the days its pages group by for readers whose browser does not
    /// say its own.
    #[serde(default)]
    pub timezone: Option<String>,
}

fn checked_name(name: &str) -> Result<String, TenantError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(TenantError::BadName);
    }
    Ok(name.to_owned())
}

/// A tenant's custom domain: a DNS name of at least two labels, lower-cased, with a top label
/// that is not all digits — not an IP address, `localhost` or `*.localhost`, and written
/// without port, brackets or leading or trailing dot. It is outside `base_domain` (whose
/// sub-domains are tenants' slugs) and none of `reserved`, the appliance's own names.
pub fn custom_domain(
    text: &str,
    base_domain: Option<&str>,
    reserved: &[String],
) -> Result<String, TenantError> {
    let refuse = |why: &str| {
        TenantError::BadDomain(format!(
            "{text:?} is not a domain name such as crm.acme.com: {why}"
        ))
    };
    let trimmed = text.trim();
    let bare = trimmed
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(trimmed);
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Err(refuse("an IP address cannot be a tenant's domain"));
    }
    if trimmed.contains([':', '/', '[', ']']) {
        return Err(refuse("give the name alone, without scheme, port or path"));
    }
    if trimmed.starts_with('.') || trimmed.ends_with('.') {
        return Err(refuse("no leading or trailing dot"));
    }
    let domain = crate::config::normalized_dns_name(trimmed)
        .ok_or_else(|| refuse("labels of letters, digits and inner hyphens"))?;
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(refuse("at least two labels"));
    }
    if labels
        .last()
        .is_some_and(|top| top.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(refuse("the last label cannot be a number"));
    }
    if domain == "localhost" || domain.ends_with(".localhost") {
        return Err(refuse("localhost names only reach this machine"));
    }
    if base_domain.is_some_and(|base| domain == base || domain.ends_with(&format!(".{base}"))) {
        return Err(TenantError::BadDomain(format!(
            "{domain} is under the appliance's base domain, where sub-domains are tenant slugs"
        )));
    }
    if reserved.contains(&domain) {
        return Err(TenantError::BadDomain(format!(
            "{domain} is the appliance's own address (appliance_hosts or public_url)"
        )));
    }
    Ok(domain)
}

/// Changes a tenant's name, seat limit, custom domain (see [`custom_domain`]) or time zone
/// (a name of the IANA database); a domain belongs to one tenant. A seat limit below the seats in use removes nobody: further
/// additions are refused.
pub fn update(
    conn: &mut Connection,
    slug: &Slug,
    changes: &TenantChanges,
    config: &crate::config::Config,
) -> Result<Tenant, TenantError> {
    let name = changes.name.as_deref().map(checked_name).transpose()?;
    let timezone = match changes.timezone.as_deref().map(str::trim) {
        None => None,
        Some(text) => Some(
            crate::zone::Zone::named(text)
                .ok_or_else(|| TenantError::BadTimeZone(text.to_owned()))?
                .name()
                .to_owned(),
        ),
    };
    let domain = match &changes.custom_domain {
        Change::Set(text) => Change::Set(custom_domain(
            text,
            config.base_domain.as_deref(),
            &config.appliance_names(),
        )?),
        other => other.clone(),
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tenant = find(&tx, slug)?.ok_or_else(|| TenantError::NotFound(slug.to_string()))?;
    if let Change::Set(domain) = &domain {
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM tenants WHERE custom_domain = ?1 AND id <> ?2)",
            params![domain, tenant.id],
            |r| r.get(0),
        )?;
        if taken {
            return Err(TenantError::DomainTaken(domain.clone()));
        }
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    tx.execute(
        "UPDATE tenants SET
            name = coalesce(?1, name),
            seat_limit = CASE WHEN ?2 THEN ?3 ELSE seat_limit END,
            custom_domain = CASE WHEN ?4 THEN ?5 ELSE custom_domain END,
            timezone = coalesce(?8, timezone),
            updated_at = ?6
         WHERE id = ?7",
        params![
            name,
            !changes.seat_limit.is_keep(),
            changes.seat_limit.value(),
            !domain.is_keep(),
            domain.value(),
            now,
            tenant.id,
            timezone
        ],
    )?;
    let tenant = find(&tx, slug)?.ok_or_else(|| TenantError::NotFound(slug.to_string()))?;
    tx.commit()?;
    Ok(tenant)
}

/// Creates a tenant and its database, if the license allows one more.
pub fn create(
    conn: &mut Connection,
    databases: &TenantDatabases,
    license: &LicenseService,
    slug: &Slug,
    name: &str,
) -> Result<Tenant, TenantError> {
    let name = checked_name(name)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM tenants WHERE slug = ?1)",
        [slug.as_str()],
        |r| r.get(0),
    )?;
    if taken {
        return Err(TenantError::SlugTaken(slug.to_string()));
    }
    let usage = Usage {
        seats: 0,
        tenants: count(&tx)?,
    };
    license.effective().may_add_tenant(usage)?;

    let id = TenantId::generate();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let _changing = databases.changing()?;
    databases.create(&id)?;
    let inserted = tx
        .execute(
            "INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![id.as_str(), slug.as_str(), name, now],
        )
        .and_then(|_| tx.commit());
    if let Err(err) = inserted {
        // The row never existed: take the new database file away again.
        databases.remove(&id);
        return Err(err.into());
    }
    find(conn, slug)?.ok_or_else(|| TenantError::NotFound(slug.to_string()))
}

/// The tenant with `slug`, if any.
pub fn find(conn: &Connection, slug: &Slug) -> Result<Option<Tenant>, TenantError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM tenants WHERE slug = ?1"),
            [slug.as_str()],
            row_to_tenant,
        )
        .optional()?)
}

/// The tenant whose custom domain is `host` (lower-case), if any.
pub fn find_by_domain(conn: &Connection, host: &str) -> Result<Option<Tenant>, TenantError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM tenants WHERE custom_domain = ?1"),
            [host],
            row_to_tenant,
        )
        .optional()?)
}

/// Every tenant, by slug.
pub fn list(conn: &Connection) -> Result<Vec<Tenant>, TenantError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM tenants ORDER BY slug"))?;
    let rows = stmt
        .query_map([], row_to_tenant)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Suspends or resumes a tenant; its data is untouched either way.
pub fn set_status(
    conn: &Connection,
    slug: &Slug,
    status: TenantStatus,
) -> Result<Tenant, TenantError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let changed = conn.execute(
        "UPDATE tenants SET status = ?1, updated_at = ?2 WHERE slug = ?3",
        params![status.as_str(), now, slug.as_str()],
    )?;
    if changed == 0 {
        return Err(TenantError::NotFound(slug.to_string()));
    }
    find(conn, slug)?.ok_or_else(|| TenantError::NotFound(slug.to_string()))
}

/// Deletes a tenant: its row, then its database file.
pub fn delete(
    conn: &Connection,
    databases: &TenantDatabases,
    slug: &Slug,
) -> Result<Tenant, TenantError> {
    let tenant = find(conn, slug)?.ok_or_else(|| TenantError::NotFound(slug.to_string()))?;
    let _changing = databases.changing()?;
    conn.execute("DELETE FROM tenants WHERE id = ?1", [&tenant.id])?;
    if let Ok(id) = tenant.id.parse::<TenantId>() {
        databases.remove(&id);
    }
    Ok(tenant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_domain_is_a_dns_name_of_two_labels_or_more() {
        let reserved = ["console.example.com".to_owned()];
        let check = |text: &str| custom_domain(text, Some("crm.test"), &reserved);
        assert_eq!(check(" CRM.Acme.example ").unwrap(), "crm.acme.example");
        assert_eq!(check("acme.io").unwrap(), "acme.io");
        for bad in [
            "10.0.0.1",
            "[::1]",
            "::1",
            "2001:db8::1",
            "[2001:db8::1]",
            "localhost",
            "app.localhost",
            "acme",
            ".acme.example",
            "acme.example.",
            "acme.example:8443",
            "https://acme.example",
            "1.2.3",
            "acme..example",
            "-acme.example",
            "x.crm.test",
            "crm.test",
            "console.example.com",
            "",
        ] {
            assert!(
                matches!(check(bad), Err(TenantError::BadDomain(_))),
                "{bad:?}"
            );
        }
    }
}
