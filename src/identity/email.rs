use std::fmt;
use std::str::FromStr;

use unicode_normalization::UnicodeNormalization as _;

/// The longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// An e-mail address, normalised so that one person is one user: look-alike forms (full-width
/// `ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ`, ligatures) fold to the plain characters by Unicode NFKC,
/// then the address is lower-cased and trimmed. Characters that hide or reorder text
/// (controls, bidirectional marks and overrides, zero-width and other invisible format
/// characters) are refused, so two addresses that look the same are the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an e-mail address such as ada@example.com")]
pub struct InvalidEmail;

impl FromStr for Email {
    type Err = InvalidEmail;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // NFKC again after lower-casing: a few lower-case mappings are not normalised.
        let folded: String = text
            .nfkc()
            .collect::<String>()
            .to_lowercase()
            .nfkc()
            .collect();
        let email = folded.trim();
        let Some((local, domain)) = email.split_once('@') else {
            return Err(InvalidEmail);
        };
        let ok = email.len() <= MAX_EMAIL_LEN
            && !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || hides_text(c));
        ok.then(|| Self(email.to_owned())).ok_or(InvalidEmail)
    }
}

/// Controls, bidi marks and overrides ([`crate::text::is_unsafe`]), and the invisible
/// characters that make two addresses look alike: zero-width space, joiners, word joiner,
/// byte-order mark, soft hyphen.
fn hides_text(c: char) -> bool {
    crate::text::is_unsafe(c)
        || matches!(
            c,
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
        )
}

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_nonsense_refused() {
        assert_eq!(
            " Ada@Example.COM ".parse::<Email>().unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "ada@.com",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad}");
        }
    }

    #[test]
    fn look_alikes_fold_to_the_plain_address() {
        for look_alike in [
            "ＡＤＡ@ｅｘａｍｐｌｅ.com",
            "ａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ",
            "\u{3000}Ada@Example.com\u{3000}",
        ] {
            assert_eq!(
                look_alike.parse::<Email>().unwrap().as_str(),
                "ada@example.com",
                "{look_alike}"
            );
        }
        assert_eq!(
            "ﬁn@example.com".parse::<Email>().unwrap().as_str(),
            "fin@example.com"
        );
    }

    #[test]
    fn invisible_and_reordering_characters_are_refused() {
        for hidden in [
            "ada\u{202e}@example.com",
            "ada@exa\u{2066}mple.com\u{2069}",
            "ada\u{200f}@example.com",
            "ada\u{200e}@example.com",
            "ada\u{061c}@example.com",
            "ad\u{200b}a@example.com",
            "ad\u{200d}a@example.com",
            "ad\u{2060}a@example.com",
            "\u{feff}ada@example.com",
            "ad\u{ad}a@example.com",
            "ada\u{1b}[2J@example.com",
            "ada\n@example.com",
            "ada\u{85}@example.com",
        ] {
            assert!(hidden.parse::<Email>().is_err(), "{hidden:?}");
        }
    }
}
