use std::fmt;
use std::str::FromStr;

/// The longest slug: a DNS label.
pub const MAX_SLUG_LEN: usize = 63;

/// Names that would collide with the appliance's own hosts and paths.
const RESERVED: &[&str] = &[
    "admin", "api", "app", "assets", "auth", "healthz", "metrics", "readyz", "setup", "static",
    "t", "www",
];

/// A tenant's short name: a lowercase DNS label, so it works as `<slug>.<base-domain>` and as
/// `/t/<slug>/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

/// Why a text is not a slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSlug {
    #[error(
        "a slug is 1 to {MAX_SLUG_LEN} lowercase letters, digits and inner hyphens, like acme-eu"
    )]
    Shape,
    #[error("{0:?} is reserved for Holdfast itself")]
    Reserved(String),
}

impl FromStr for Slug {
    type Err = InvalidSlug;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let shape_ok = !text.is_empty()
            && text.len() <= MAX_SLUG_LEN
            && !text.starts_with('-')
            && !text.ends_with('-')
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !shape_ok {
            return Err(InvalidSlug::Shape);
        }
        if RESERVED.contains(&text) {
            return Err(InvalidSlug::Reserved(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }
}

impl Slug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_dns_labels_and_not_reserved() {
        for good in ["acme", "acme-eu", "a1", &"a".repeat(63)] {
            assert!(good.parse::<Slug>().is_ok(), "{good}");
        }
        for bad in [
            "",
            "Acme",
            "-acme",
            "acme-",
            "ac me",
            "acme.eu",
            "ä",
            &"a".repeat(64),
        ] {
            assert_eq!(bad.parse::<Slug>(), Err(InvalidSlug::Shape), "{bad}");
        }
        assert!(matches!(
            "admin".parse::<Slug>(),
            Err(InvalidSlug::Reserved(_))
        ));
    }
}
