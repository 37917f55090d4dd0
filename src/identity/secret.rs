//! Bearer secrets: one-time links, session ids and API tokens. 256 random bits, shown once,
//! stored only as their SHA-256 so that a copy of the database lets nobody sign in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// A freshly made secret: the text handed out once, and the hash kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// What the holder presents (43 URL-safe characters).
    pub text: String,
    /// What the database stores.
    pub hash: String,
}

impl Secret {
    /// 256 bits from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let text = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash(&text);
        Self { text, hash }
    }
}

/// The stored form of a presented secret. SHA-256 suffices: the secret has 256 bits of
/// entropy, so there is nothing to guess and no need for a slow hash.
pub fn hash(text: &str) -> String {
    crate::license::hex(&Sha256::digest(text.as_bytes()))
}

/// Does `text` look like a secret we made? Lets callers refuse junk before touching the
/// database.
pub fn well_formed(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_well_formed_and_stored_hashed() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_ne!(a.text, b.text);
        assert!(well_formed(&a.text), "{}", a.text);
        assert_eq!(a.hash, hash(&a.text));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.text));
        assert!(!well_formed("short"));
        assert!(!well_formed(
            &"a".repeat(42).chars().chain(['/']).collect::<String>()
        ));
    }
}
