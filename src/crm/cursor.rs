//! List cursors: where a page ended (the last row's sort value and `seq`), bound to the
//! list's filters and sort, and signed with the tenant's own key. A cursor altered by a
//! client, or used with other filters, is refused instead of quietly showing another page.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use super::CrmError;

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The last row's sort value.
    pub value: Value,
    /// The last row's `seq`.
    pub seq: i64,
}

#[derive(Serialize, Deserialize)]
struct Signed {
    /// What the list was: its kind, filters and sort, as the caller gave them.
    list: String,
    at: Position,
}

/// The tenant's cursor key.
pub fn key(conn: &Connection) -> Result<Vec<u8>, CrmError> {
    let hex: String = conn
        .prepare_cached("SELECT value FROM tenant_meta WHERE key = 'cursor_key'")?
        .query_row([], |r| r.get(0))?;
    Ok(hex.into_bytes())
}

fn mac(key: &[u8], payload: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(payload);
    mac.finalize().into_bytes()[..16].to_vec()
}

/// A cursor for `list` that resumes after `at`.
pub fn encode(key: &[u8], list: &str, at: Position) -> String {
    let payload = serde_json::to_vec(&Signed {
        list: list.to_owned(),
        at,
    })
    .unwrap_or_default();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(mac(key, &payload))
    )
}

/// Where a cursor of `list` resumes, if this tenant signed it for this very list.
pub fn decode(key: &[u8], list: &str, cursor: &str) -> Result<Position, CrmError> {
    let (payload, tag) = cursor.split_once('.').ok_or(CrmError::InvalidCursor)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| CrmError::InvalidCursor)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| CrmError::InvalidCursor)?;
    let mut check = Hmac::<Sha256>::new_from_slice(key).map_err(|_| CrmError::InvalidCursor)?;
    check.update(&payload);
    check
        .verify_truncated_left(&tag)
        .map_err(|_| CrmError::InvalidCursor)?;
    if tag.len() != 16 {
        return Err(CrmError::InvalidCursor);
    }
    let signed: Signed = serde_json::from_slice(&payload).map_err(|_| CrmError::InvalidCursor)?;
    if signed.list != list {
        return Err(CrmError::InvalidCursor);
    }
    Ok(signed.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_resumes_only_the_list_it_was_made_for_and_only_unaltered() {
        let at = Position {
            value: Value::from("Lovelace"),
            seq: 42,
        };
        let cursor = encode(b"k1", "contact:sort=last_name", at.clone());
        assert_eq!(
            decode(b"k1", "contact:sort=last_name", &cursor).unwrap(),
            at
        );
        assert!(
            decode(b"k2", "contact:sort=last_name", &cursor).is_err(),
            "another tenant's key"
        );
        assert!(
            decode(b"k1", "contact:sort=-last_name", &cursor).is_err(),
            "another list"
        );
        let (payload, tag) = cursor.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap())
                .unwrap()
                .replace("42", "41"),
        );
        assert!(decode(b"k1", "contact:sort=last_name", &format!("{forged}.{tag}")).is_err());
        assert!(
            decode(b"k1", "contact:sort=last_name", &format!("{payload}.")).is_err(),
            "no tag"
        );
        assert!(decode(b"k1", "contact:sort=last_name", "garbage").is_err());
    }
}
