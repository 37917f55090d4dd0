//! The signed payload: compact JSON with short field names, so a typical key stays well under
//! 400 characters. Field names are part of the key format (see LICENSE-KEYS.md).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::LicenseError;

/// The payload format this build reads and writes.
pub const FORMAT_VERSION: u8 = 1;
/// Grace days when the key does not say.
pub const DEFAULT_GRACE_DAYS: u16 = 14;

const MAX_TEXT: usize = 200;
const MAX_GRACE_DAYS: u16 = 365;
/// How many feature names a key may carry, and how long each may be.
pub const MAX_FEATURES: usize = 64;
pub const MAX_FEATURE_LEN: usize = 64;

/// A feature name: 1 to [`MAX_FEATURE_LEN`] ASCII letters, digits, `_`, `-` or `.`, the first
/// a letter or digit. Generous on purpose: names a later build defines must pass here, so that
/// this build accepts newer keys (and grants nothing for names it does not know).
pub fn is_feature_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.len() <= MAX_FEATURE_LEN
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Accepts a JSON object whose member names are all distinct, and nothing else: an array of
/// the same values, or an object naming a member twice, would let two readers of one signed
/// payload see different licenses.
struct DistinctMembers;

impl<'de> serde::de::Visitor<'de> for DistinctMembers {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            // Read as a value, not skipped: an unknown member must be valid JSON text too.
            map.next_value::<serde_json::Value>()?;
            if !seen.insert(name.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "member {name:?} appears twice"
                )));
            }
        }
        Ok(())
    }
}

fn check_shape(bytes: &[u8]) -> Result<(), LicenseError> {
    use serde::Deserializer as _;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.deserialize_map(DistinctMembers)
        .and_then(|()| de.end())
        .map_err(|e| LicenseError::Malformed(format!("payload: {e}")))
}

/// A premium feature a license may grant. Keys may name features this build does not know;
/// they are kept and shown, and grant nothing here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    Sso,
    Branding,
    ApiTokens,
    AuditExport,
}

impl Feature {
    pub const ALL: [Feature; 4] = [
        Feature::Sso,
        Feature::Branding,
        Feature::ApiTokens,
        Feature::AuditExport,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Feature::Sso => "sso",
            Feature::Branding => "branding",
            Feature::ApiTokens => "api_tokens",
            Feature::AuditExport => "audit_export",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a license key says. Times are Unix seconds (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// Payload format version.
    #[serde(rename = "v")]
    pub format: u8,
    /// The license this key belongs to; renewals keep it, so rollback can be refused.
    #[serde(rename = "id")]
    pub license_id: String,
    #[serde(rename = "c")]
    pub customer: String,
    #[serde(rename = "e")]
    pub edition: String,
    #[serde(rename = "iat")]
    pub issued_at: i64,
    #[serde(rename = "nbf", default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// Absent: perpetual.
    #[serde(rename = "exp", default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(rename = "g", default = "default_grace")]
    pub grace_days: u16,
    /// Active users across all tenants.
    #[serde(rename = "u")]
    pub max_seats: u32,
    #[serde(rename = "t")]
    pub max_tenants: u32,
    #[serde(rename = "f", default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// The instance id this key is bound to, if any.
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

fn default_grace() -> u16 {
    DEFAULT_GRACE_DAYS
}

fn time_of(secs: i64) -> Result<OffsetDateTime, LicenseError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| LicenseError::Malformed(format!("time {secs} is out of range")))
}

fn plain_text(field: &str, value: &str) -> Result<(), LicenseError> {
    if value.trim().is_empty()
        || value.chars().count() > MAX_TEXT
        || value.chars().any(char::is_control)
    {
        return Err(LicenseError::Malformed(format!(
            "{field} must be 1 to {MAX_TEXT} printable characters"
        )));
    }
    Ok(())
}

impl Payload {
    /// Decodes and checks the payload's own consistency (the signature is checked before).
    pub fn from_json(bytes: &[u8]) -> Result<Self, LicenseError> {
        check_shape(bytes)?;
        let payload: Payload = serde_json::from_slice(bytes)
            .map_err(|e| LicenseError::Malformed(format!("payload: {e}")))?;
        payload.check()?;
        Ok(payload)
    }

    /// The canonical bytes that get signed.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn check(&self) -> Result<(), LicenseError> {
        if self.format != FORMAT_VERSION {
            return Err(LicenseError::Malformed(format!(
                "payload format {} is not supported (this build reads {FORMAT_VERSION})",
                self.format
            )));
        }
        plain_text("license id", &self.license_id)?;
        plain_text("customer", &self.customer)?;
        plain_text("edition", &self.edition)?;
        if let Some(instance) = &self.instance {
            plain_text("instance", instance)?;
        }
        time_of(self.issued_at)?;
        let grace = i64::from(self.grace_days) * 86_400;
        if let Some(exp) = self.expires_at {
            time_of(exp)?;
            time_of(exp.saturating_add(grace))?;
            if exp <= self.not_before.unwrap_or(self.issued_at) {
                return Err(LicenseError::Malformed(
                    "expires before it becomes valid".to_owned(),
                ));
            }
        }
        if let Some(nbf) = self.not_before {
            time_of(nbf)?;
        }
        if self.grace_days > MAX_GRACE_DAYS {
            return Err(LicenseError::Malformed(format!(
                "grace days above {MAX_GRACE_DAYS}"
            )));
        }
        if self.features.len() > MAX_FEATURES || !self.features.iter().all(|f| is_feature_name(f)) {
            return Err(LicenseError::Malformed(format!(
                "features must be up to {MAX_FEATURES} names of 1 to {MAX_FEATURE_LEN} letters, \
                 digits, '_', '-' or '.', starting with a letter or digit"
            )));
        }
        Ok(())
    }

    pub fn issued_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.issued_at).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn not_before(&self) -> Option<OffsetDateTime> {
        self.not_before
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
    }

    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
    }

    /// The first second of the expired (read-only) state, if the license expires.
    pub fn grace_ends_at(&self) -> Option<OffsetDateTime> {
        self.expires_at()
            .map(|exp| exp + time::Duration::days(i64::from(self.grace_days)))
    }

    /// The key's feature names this build does not know (kept, shown, granting nothing).
    pub fn unknown_features(&self) -> Vec<String> {
        let mut unknown: Vec<String> = self
            .features
            .iter()
            .filter(|f| Feature::parse(f).is_none())
            .cloned()
            .collect();
        unknown.sort();
        unknown.dedup();
        unknown
    }

    /// The features this build knows, from the key's list.
    pub fn known_features(&self) -> Vec<Feature> {
        let mut known: Vec<Feature> = self
            .features
            .iter()
            .filter_map(|f| Feature::parse(f))
            .collect();
        known.sort();
        known.dedup();
        known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_follow_the_documented_grammar() {
        for ok in [
            "sso",
            "oauth2_sync",
            "s3-export",
            "SSO",
            "crm.v2",
            "9lives",
            &"a".repeat(64),
        ] {
            assert!(is_feature_name(ok), "{ok}");
        }
        for bad in ["", "_x", "-x", ".x", "a b", "é", "a/b", &"a".repeat(65)] {
            assert!(!is_feature_name(bad), "{bad}");
        }
    }

    #[test]
    fn only_an_object_with_distinct_members_is_a_payload() {
        let object = br#"{"v":1,"id":"x","c":"C","e":"e","iat":0,"u":1,"t":1}"#;
        assert!(Payload::from_json(object).is_ok());
        let array = br#"[1,"x","C","e",0,null,null,14,1,1,[],null]"#;
        assert!(Payload::from_json(array).is_err(), "positional");
        let twice = br#"{"v":1,"id":"x","c":"C","e":"e","iat":0,"u":1,"u":5,"t":1}"#;
        assert!(Payload::from_json(twice).is_err(), "a member twice");
        let unknown_twice = br#"{"v":1,"id":"x","c":"C","e":"e","iat":0,"u":1,"t":1,"z":1,"z":2}"#;
        assert!(
            Payload::from_json(unknown_twice).is_err(),
            "even an unknown one"
        );
        let bom = [b"\xef\xbb\xbf".as_slice(), object].concat();
        assert!(Payload::from_json(&bom).is_err(), "a byte order mark");
        let trailing = [object.as_slice(), b" {}"].concat();
        assert!(Payload::from_json(&trailing).is_err(), "trailing data");
    }
}
