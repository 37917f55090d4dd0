//! The text form of a license key, `HF1.<key-id>.<payload>.<signature>`, and its verification.
//!
//! The payload and signature are base64url without padding, so a key is one line of ASCII
//! that survives forms, shells and e-mail. The signature is Ed25519 over the decoded payload
//! bytes, checked with `verify_strict`.

use std::fmt::{self, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signature;
use sha2::{Digest, Sha256};

use super::error::LicenseError;
use super::payload::Payload;
use super::trusted::TrustedKeys;

/// The version prefix of every key this build reads.
pub const KEY_PREFIX: &str = "HF1";
/// The longest key accepted, after whitespace is removed.
pub const MAX_KEY_LEN: usize = 2048;
/// Input longer than this is refused before it is even cleaned (a pasted file, an attack).
const MAX_INPUT_LEN: usize = 8 * 1024;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

/// The id of a vendor key: the first 4 bytes of SHA-256 of the public key, in hex. Derived,
/// so a key id can never disagree with its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    pub fn of_public_key(key: &[u8; 32]) -> Self {
        Self(hex(&Sha256::digest(key)[..4]))
    }

    fn parse(text: &str) -> Result<Self, LicenseError> {
        let ok = text.len() == 8
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(text.to_owned()))
            .ok_or_else(|| LicenseError::Malformed("the key id is not 8 hex digits".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key whose signature has been checked against a trusted vendor key. Holding one means the
/// payload is exactly what the vendor signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLicense {
    text: String,
    key_id: KeyId,
    payload: Payload,
}

/// The parts of a key, decoded but not yet verified.
struct Parts {
    text: String,
    key_id: KeyId,
    payload_bytes: Vec<u8>,
    signature: Signature,
}

fn split(input: &str) -> Result<Parts, LicenseError> {
    let malformed = |why: &str| LicenseError::Malformed(why.to_owned());
    if input.len() > MAX_INPUT_LEN {
        return Err(malformed("far too long to be a license key"));
    }
    // Keys pasted from e-mail arrive wrapped and indented: whitespace anywhere is dropped.
    let text: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Err(malformed("empty"));
    }
    if !text.is_ascii() {
        return Err(malformed("contains characters that are not ASCII"));
    }
    if text.len() > MAX_KEY_LEN {
        return Err(malformed("longer than 2048 characters"));
    }
    let mut fields = text.split('.');
    let (Some(prefix), Some(id), Some(payload), Some(signature), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(malformed("expected HF1.<key-id>.<payload>.<signature>"));
    };
    if prefix != KEY_PREFIX {
        return Err(malformed(&format!(
            "unknown key version {prefix:?} (this build reads {KEY_PREFIX})"
        )));
    }
    let key_id = KeyId::parse(id)?;
    let payload_bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| malformed("the payload is not base64url"))?;
    let signature_bytes: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| malformed("the signature is not base64url"))?
        .try_into()
        .map_err(|_| malformed("the signature is not 64 bytes"))?;
    Ok(Parts {
        text,
        key_id,
        payload_bytes,
        signature: Signature::from_bytes(&signature_bytes),
    })
}

impl VerifiedLicense {
    /// Parses `input` and verifies its signature against `trusted`. Never panics, whatever
    /// the input.
    pub fn verify(input: &str, trusted: &TrustedKeys) -> Result<Self, LicenseError> {
        let parts = split(input)?;
        let key = trusted
            .get(&parts.key_id)
            .ok_or_else(|| LicenseError::UnknownKey(parts.key_id.clone()))?;
        key.verifying_key()
            .verify_strict(&parts.payload_bytes, &parts.signature)
            .map_err(|_| LicenseError::BadSignature(parts.key_id.clone()))?;
        let payload = Payload::from_json(&parts.payload_bytes)?;
        Ok(Self {
            text: parts.text,
            key_id: parts.key_id,
            payload,
        })
    }

    /// Builds the text of a key from its parts (used by the signer).
    pub(crate) fn encode(key_id: &KeyId, payload_bytes: &[u8], signature: &Signature) -> String {
        format!(
            "{KEY_PREFIX}.{key_id}.{}.{}",
            URL_SAFE_NO_PAD.encode(payload_bytes),
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }

    /// The key as one line, without whitespace.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The payload part of the key (base64url, as signed): equal for two keys exactly when
    /// they carry the same signed bytes, whichever vendor key signed them.
    pub fn payload_part(&self) -> &str {
        payload_part(&self.text)
    }

    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    pub fn payload(&self) -> &Payload {
        &self.payload
    }
}

/// The payload part of a key's text (its third dot-separated part).
pub fn payload_part(text: &str) -> &str {
    text.split('.').nth(2).unwrap_or_default()
}

/// Decodes a key's key id and payload without checking the signature, for `inspect` to show
/// what a refused key claims. Nothing decoded this way is ever trusted.
pub fn decode_unverified(input: &str) -> Result<(KeyId, Payload), LicenseError> {
    let parts = split(input)?;
    Ok((parts.key_id, Payload::from_json(&parts.payload_bytes)?))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::license::InvalidReason::{BadSignature, Malformed, UnknownKey};
    use crate::license::testkit::Vendor;

    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";

    #[test]
    fn a_typical_key_fits_in_400_characters() {
        let key = Vendor::new().issue_with(|p| {
            p.license_id = "0123456789abcdef01234567".to_owned(); // as the signer makes them
            p.features = ["sso", "branding", "api_tokens", "audit_export"]
                .map(str::to_owned)
                .to_vec();
        });
        assert_eq!(key.payload().customer.len(), 30);
        assert!(key.text().len() <= 400, "{} characters", key.text().len());
        assert!(key.text().is_ascii());
    }

    #[test]
    fn every_single_character_change_is_refused() {
        let vendor = Vendor::new();
        let trusted = vendor.trusted();
        let key = vendor.issue_with(|_| {});
        let text = key.text();
        let mut tried = 0;
        for (index, original) in text.char_indices() {
            for replacement in ALPHABET.chars().filter(|c| *c != original) {
                let mut changed = text.to_owned();
                changed.replace_range(index..=index, &replacement.to_string());
                assert!(
                    VerifiedLicense::verify(&changed, &trusted).is_err(),
                    "{original:?} -> {replacement:?} at {index} was accepted"
                );
                tried += 1;
            }
        }
        assert!(tried > 20_000, "{tried}");
    }

    #[test]
    fn refusals_carry_the_precise_reason() {
        let vendor = Vendor::new();
        let key = vendor.issue_with(|_| {});
        let reason = |text: &str, trusted: &TrustedKeys| {
            VerifiedLicense::verify(text, trusted)
                .unwrap_err()
                .reason()
                .unwrap()
        };
        assert_eq!(reason(key.text(), &Vendor::new().trusted()), UnknownKey);
        assert_eq!(reason("HF1.nothing", &vendor.trusted()), Malformed);
        assert_eq!(
            reason(&key.text().replacen("HF1", "HF2", 1), &vendor.trusted()),
            Malformed
        );
        // A valid payload from another key, under our key id: the signature fails.
        let other = Vendor::new().issue_with(|_| {});
        let mut parts: Vec<&str> = key.text().split('.').collect();
        let other_parts: Vec<&str> = other.text().split('.').collect();
        parts[3] = other_parts[3];
        assert_eq!(reason(&parts.join("."), &vendor.trusted()), BadSignature);
    }

    #[test]
    fn whitespace_and_line_breaks_from_email_are_ignored() {
        let vendor = Vendor::new();
        let key = vendor.issue_with(|_| {});
        let wrapped = key
            .text()
            .as_bytes()
            .chunks(60)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n    ");
        let again =
            VerifiedLicense::verify(&format!("\n\t{wrapped}  "), &vendor.trusted()).unwrap();
        assert_eq!(again, key);
    }

    #[test]
    fn oversized_input_is_refused_as_malformed() {
        let trusted = Vendor::new().trusted();
        for input in ["A".repeat(MAX_KEY_LEN + 1), " ".repeat(1_000_000)] {
            assert_eq!(
                VerifiedLicense::verify(&input, &trusted)
                    .unwrap_err()
                    .reason(),
                Some(Malformed)
            );
        }
    }

    proptest! {
        #[test]
        fn random_text_never_panics(input in ".{0,3000}") {
            let trusted = Vendor::new().trusted();
            prop_assert!(VerifiedLicense::verify(&input, &trusted).is_err());
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let trusted = TrustedKeys::builtin();
            let _ = VerifiedLicense::verify(&String::from_utf8_lossy(&bytes), &trusted);
        }

        #[test]
        fn key_shaped_garbage_never_panics(id in "[0-9a-f]{8}", payload in "[A-Za-z0-9_-]{0,400}", sig in "[A-Za-z0-9_-]{0,100}") {
            let trusted = TrustedKeys::builtin();
            let _ = VerifiedLicense::verify(&format!("HF1.{id}.{payload}.{sig}"), &trusted);
        }
    }
}
