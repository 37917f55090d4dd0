//! Text for people: stored or attacker-reachable strings shown on a terminal or in a text log
//! file. A sign-in's e-mail field, a JSON key or a tenant name can hold a line break, an
//! escape sequence or a bidirectional override; printed raw, it forges a line of
//! `holdfast audit list` or of the log, or repaints the operator's terminal. Every
//! human-readable printer passes such text through [`escape`]; JSON output is escaped by its
//! encoder and by [`escape_json`].

use std::borrow::Cow;
use std::fmt::Write as _;

/// Does `c` change how a line reads beyond its own glyph: C0 and C1 controls, DEL, line and
/// paragraph separators, and the bidirectional marks, embeddings, overrides and isolates
/// that reorder the rest of a line?
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every [unsafe](is_unsafe) character written as a visible escape: `\n`, `\r`,
/// `\t`, else `\u{1b}` as Rust writes it. Backslashes stay as they are, so ordinary text
/// (paths, messages) reads unchanged; only the characters that could forge or reorder a line
/// change.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// JSON text with the [unsafe](is_unsafe) characters its encoder leaves raw (DEL, C1, bidi
/// controls, U+2028/9) written as `\uXXXX` escapes. Outside strings JSON is plain ASCII, so
/// every such character is inside a string and the escape keeps the value the same. Line
/// breaks between values (pretty printing, a log line's end) stay.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    let raw = |c: char| c != '\n' && is_unsafe(c);
    if !json.chars().any(raw) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if raw(c) {
            // Every unsafe character is in the Basic Multilingual Plane: one `\uXXXX`.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_become_visible_escapes() {
        assert_eq!(escape("ada@example.com"), "ada@example.com");
        assert!(matches!(escape("plain – ünïcode ✓"), Cow::Borrowed(_)));
        assert_eq!(
            escape("x@y.co\n2026-01-01 forged\r\t"),
            "x@y.co\\n2026-01-01 forged\\r\\t"
        );
        assert_eq!(escape("\u{1b}[2J\u{7}"), "\\u{1b}[2J\\u{7}");
        assert_eq!(escape("a\u{7f}b\u{9b}c\u{85}"), "a\\u{7f}b\\u{9b}c\\u{85}");
        assert_eq!(
            escape("evil\u{202e}txt.exe\u{2066}\u{2069}\u{200f}\u{2028}"),
            "evil\\u{202e}txt.exe\\u{2066}\\u{2069}\\u{200f}\\u{2028}"
        );
        assert!(!escape("\u{0}\u{1f}\u{80}\u{9f}").chars().any(is_unsafe));
        // A backslash is ordinary text: paths and messages read as they are.
        assert_eq!(escape(r"C:\data\n"), r"C:\data\n");
    }

    #[test]
    fn json_keeps_its_value_and_loses_raw_controls() {
        let value = serde_json::json!({ "who": "a\u{1b}b\u{202e}c\u{9b}d\ne" });
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let escaped = escape_json(&pretty);
        assert!(
            !escaped.chars().any(|c| c != '\n' && is_unsafe(c)),
            "{escaped}"
        );
        assert_eq!(escaped.lines().count(), pretty.lines().count());
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, value);
    }
}
