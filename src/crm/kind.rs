use serde::{Deserialize, Serialize};

use super::fields::{self, Field};

/// The types of record, each in its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Contact,
    Company,
    Deal,
    Activity,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Contact, Kind::Company, Kind::Deal, Kind::Activity];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Company => "company",
            Kind::Deal => "deal",
            Kind::Activity => "activity",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Its table (and, with `_fts`, its search index).
    pub const fn table(self) -> &'static str {
        match self {
            Kind::Contact => "contacts",
            Kind::Company => "companies",
            Kind::Deal => "deals",
            Kind::Activity => "activities",
        }
    }

    /// Its built-in fields.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::Contact => fields::CONTACT,
            Kind::Company => fields::COMPANY,
            Kind::Deal => fields::DEAL,
            Kind::Activity => fields::ACTIVITY,
        }
    }

    /// The built-in field called `name`.
    pub fn field(self, name: &str) -> Option<&'static Field> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The user a record belongs to, for "delete your own" and team visibility.
    pub const fn owner_column(self) -> &'static str {
        match self {
            Kind::Activity => "assignee_id",
            _ => "owner_id",
        }
    }

    /// Whether records of this kind carry tags.
    pub const fn tagged(self) -> bool {
        !matches!(self, Kind::Activity)
    }

    /// The SQL expression that names a record of this kind in search results (its columns
    /// named with the table, which the search index shares column names with).
    pub const fn title_sql(self) -> &'static str {
        match self {
            Kind::Contact => {
                "trim(contacts.first_name || ' ' || contacts.last_name || CASE WHEN contacts.first_name = '' AND contacts.last_name = '' THEN coalesce(contacts.email, '') ELSE '' END)"
            }
            Kind::Company => "companies.name",
            Kind::Deal => "deals.title",
            Kind::Activity => "activities.subject",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
