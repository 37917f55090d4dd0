//! Which records a caller may see. Admins choose, per kind of record, whether members and
//! viewers see all records or only their own and their teams'; admins and owners always see
//! all. Every read — a record, a list, search, the board, reports, the timeline — filters by
//! the same [`Scope`], and a record outside it answers as if it did not exist.

use std::collections::HashMap;

use rusqlite::types::Value as Sql;

use super::Kind;

/// What of one kind a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Records whose owner (assignee, for activities) is one of these users.
    OwnedBy(Vec<String>),
}

impl Scope {
    /// A condition on the kind's table (aliased by its own name), with its parameters
    /// appended to `params`; `1` when everything is visible.
    pub fn condition(&self, kind: Kind, params: &mut Vec<Sql>) -> String {
        match self {
            Scope::All => "1".to_owned(),
            Scope::OwnedBy(users) => {
                params.push(Sql::Text(serde_json::json!(users).to_string()));
                format!(
                    "{}.{} IN (SELECT value FROM json_each(?{}))",
                    kind.table(),
                    kind.owner_column(),
                    params.len()
                )
            }
        }
    }

    /// Whether a record owned by `owner` is visible.
    pub fn admits(&self, owner: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::OwnedBy(users) => owner.is_some_and(|o| users.iter().any(|u| u == o)),
        }
    }
}

/// A caller's scope for every kind.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    limited: HashMap<Kind, Vec<String>>,
}

impl Visibility {
    /// Everything visible.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only records owned by `users` of `kind`.
    #[must_use]
    pub fn limit(mut self, kind: Kind, users: Vec<String>) -> Self {
        self.limited.insert(kind, users);
        self
    }

    pub fn scope(&self, kind: Kind) -> Scope {
        self.limited
            .get(&kind)
            .map_or(Scope::All, |users| Scope::OwnedBy(users.clone()))
    }
}
