use std::fmt;
use std::str::FromStr;

/// A tenant's permanent id: 32 lowercase hex digits, also its database file name. Made at
/// random when a tenant is created; never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text is not a tenant id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a tenant id (32 lowercase hex digits)")]
pub struct InvalidTenantId;

impl FromStr for TenantId {
    type Err = InvalidTenantId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let valid = text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| Self(text.to_owned())).ok_or(InvalidTenantId)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_anything_else_is_refused() {
        let id = TenantId::generate();
        assert_eq!(id.as_str().parse::<TenantId>().unwrap(), id);
        for bad in [
            "",
            "../holdfast",
            "ABCDEF0123456789ABCDEF0123456789",
            &"a".repeat(31),
        ] {
            assert!(bad.parse::<TenantId>().is_err(), "{bad}");
        }
    }
}
