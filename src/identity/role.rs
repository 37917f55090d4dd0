use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A user's role within their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including the tenant's own settings and owners.
    Owner,
    /// Manages users, roles, tokens and settings.
    Admin,
    /// Works the CRM.
    Member,
    /// Reads only.
    Viewer,
}

impl Role {
    /// Power, from viewer (0) to owner (3).
    const fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Member => 1,
            Role::Viewer => 0,
        }
    }

    /// Does this role include everything `minimum` may do?
    pub const fn at_least(self, minimum: Role) -> bool {
        self.rank() >= minimum.rank()
    }

    /// The less powerful of two roles.
    #[must_use]
    pub const fn lower(self, other: Role) -> Role {
        if self.rank() <= other.rank() {
            self
        } else {
            other
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
