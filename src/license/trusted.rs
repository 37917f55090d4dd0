//! The vendor public keys this build trusts, compiled in by `build.rs`. No runtime setting
//! adds one: a production build replaces the set with `HOLDFAST_TRUSTED_KEYS`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;

use super::key::KeyId;

include!(concat!(env!("OUT_DIR"), "/trusted_keys.rs"));
include!(concat!(env!("OUT_DIR"), "/release_keys.rs"));

/// The first word of a public key line.
pub const PUBLIC_KEY_TAG: &str = "holdfast-ed25519";

/// One trusted vendor key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    id: KeyId,
    key: VerifyingKey,
}

impl TrustedKey {
    pub fn new(key: VerifyingKey) -> Self {
        Self {
            id: KeyId::of_public_key(key.as_bytes()),
            key,
        }
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The line a build trusts: `holdfast-ed25519 <key-id> <public-key>`.
    pub fn line(&self) -> String {
        format!(
            "{PUBLIC_KEY_TAG} {} {}",
            self.id,
            URL_SAFE_NO_PAD.encode(self.key.as_bytes())
        )
    }

    /// Parses a line as [`TrustedKey::line`] prints it.
    pub fn parse_line(line: &str) -> Option<Self> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [PUBLIC_KEY_TAG, id, key] = fields[..] else {
            return None;
        };
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(key).ok()?.try_into().ok()?;
        let trusted = Self::new(VerifyingKey::from_bytes(&bytes).ok()?);
        (trusted.id.as_str() == id).then_some(trusted)
    }
}

/// A set of trusted vendor keys, looked up by key id.
#[derive(Debug, Clone)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
    demo: bool,
}

impl TrustedKeys {
    /// The keys compiled into this build.
    pub fn builtin() -> Self {
        let keys = TRUSTED_KEYS
            .iter()
            .filter_map(|(_, bytes)| VerifyingKey::from_bytes(bytes).ok().map(TrustedKey::new))
            .collect();
        Self {
            keys,
            demo: DEMO_KEY_TRUSTED,
        }
    }

    /// The keys this build trusts to sign update bundles: a set apart from the license keys
    /// (`HOLDFAST_RELEASE_KEYS` at build time).
    pub fn release() -> Self {
        let keys = RELEASE_TRUSTED_KEYS
            .iter()
            .filter_map(|(_, bytes)| VerifyingKey::from_bytes(bytes).ok().map(TrustedKey::new))
            .collect();
        Self {
            keys,
            demo: DEMO_RELEASE_KEY_TRUSTED,
        }
    }

    /// Every key of the set, for verifiers that try them all (update bundles name no key).
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// An explicit set (the signer's `inspect --pubkey`).
    pub fn only(keys: Vec<TrustedKey>) -> Self {
        Self { keys, demo: false }
    }

    pub fn get(&self, id: &KeyId) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.id() == id)
    }

    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id().to_string()).collect()
    }

    /// Does this set hold a committed demo key? Then anyone can sign with it, and the
    /// appliance says so loudly.
    pub fn demo_key_trusted(&self) -> bool {
        self.demo
    }
}
