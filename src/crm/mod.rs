//! The CRM that tenants work in: companies, contacts, deals in pipelines, activities, tags,
//! custom fields, the timeline of every record and full-text search. Everything here works on
//! one tenant's own database (a `rusqlite` connection or transaction) and knows nothing of
//! HTTP; `web::tenant::crm` puts it on the route table.

pub mod attachments;
pub mod board;
pub mod branding;
pub mod bulk;
pub(crate) mod currency;
pub mod cursor;
pub mod custom;
pub mod duplicates;
pub mod erase;
mod error;
pub mod export;
pub mod fields;
pub mod import;
mod kind;
pub mod leads;
pub mod list;
pub mod merge;
pub mod money;
pub mod pipelines;
pub mod records;
pub mod reports;
pub mod search;
pub mod settings;
pub mod snippet;
pub mod tags;
pub mod teams;
pub mod timeline;
pub mod trash;
pub mod values;
pub mod views;
pub mod visibility;

pub use error::CrmError;
pub use kind::Kind;

use crate::identity::Role;

/// Who makes a change: named in the timeline as the audit log names them.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user:<id>` or `token:<id>`.
    pub name: String,
    /// The signed-in user, or the maker of the token; records they create are theirs.
    pub user_id: Option<String>,
    pub role: Role,
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A new public record id: 32 hex digits, random, never reused.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `text` has the form of a record id, checked before it reaches a query.
pub fn is_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
