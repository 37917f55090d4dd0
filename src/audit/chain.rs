//! The hash chain: how an entry's bytes are laid out and hashed.

use sha2::{Digest as _, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields an entry's hash covers.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub seq: i64,
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub address: Option<&'a str>,
    pub outcome: &'a str,
}

/// `hex(SHA-256(prev_hash ‖ canonical(fields)))`. The canonical form is unambiguous: numbers
/// are 8 bytes big-endian, each text is its byte length (8 bytes big-endian) then its bytes,
/// and a missing address is a single 0 byte where a present one is 1 then the text. So no two
/// different entries share a form ("ab"+"c" is not "a"+"bc").
pub fn hash(prev_hash: &str, fields: &Fields<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(fields.seq.to_be_bytes());
    hasher.update(fields.at.to_be_bytes());
    for text in [fields.actor, fields.action, fields.target] {
        text_bytes(&mut hasher, text);
    }
    match fields.address {
        None => hasher.update([0u8]),
        Some(address) => {
            hasher.update([1u8]);
            text_bytes(&mut hasher, address);
        }
    }
    text_bytes(&mut hasher, fields.outcome);
    crate::license::hex(&hasher.finalize())
}

fn text_bytes(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_be_bytes());
    hasher.update(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(actor: &'a str, action: &'a str) -> Fields<'a> {
        Fields {
            seq: 1,
            at: 0,
            actor,
            action,
            target: "t",
            address: None,
            outcome: "success",
        }
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        assert_ne!(
            hash(GENESIS, &fields("ab", "c")),
            hash(GENESIS, &fields("a", "bc"))
        );
        let mut with_address = fields("a", "b");
        with_address.address = Some("");
        assert_ne!(
            hash(GENESIS, &fields("a", "b")),
            hash(GENESIS, &with_address)
        );
        assert_ne!(
            hash(GENESIS, &fields("a", "b")),
            hash(&"1".repeat(64), &fields("a", "b"))
        );
    }
}
