//! Tenancy: each tenant's business data lives in its own SQLite file, and code that serves a
//! tenant holds only that tenant's [`Database`]. Isolation holds by construction.

mod databases;
mod id;
pub mod orphans;
pub mod registry;
mod slug;
pub mod statistics;

pub use databases::{TenantDatabases, TenantDbError};
pub use id::TenantId;
pub use registry::{Change, Tenant, TenantChanges, TenantError, TenantStatus};
pub use slug::{InvalidSlug, MAX_SLUG_LEN, Slug};
