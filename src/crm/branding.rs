//! A tenant's brand (a licensed feature): an accent colour and a logo, kept in the tenant's
//! own database. The colour must keep white text on it readable (WCAG AA, 4.5:1), because
//! buttons and the current page's tab are white on the accent; the logo is a PNG, JPEG,
//! GIF or WebP image (never SVG, which can carry scripts), at most [`MAX_LOGO_BYTES`].

use base64::Engine as _;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::CrmError;

/// The largest logo kept.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// The contrast white text needs on the accent (WCAG 2 AA for normal text).
const MIN_CONTRAST: f64 = 4.5;

const ACCENT: &str = "brand_accent";
const LOGO: &str = "brand_logo";

/// A logo as served: its type, bytes, and a digest that names this version of it.
#[derive(Debug, Clone)]
pub struct Logo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

#[derive(Debug, Clone, Default)]
pub struct Branding {
    /// `#rrggbb`, lower case.
    pub accent: Option<String>,
    pub logo: Option<Logo>,
}

fn stored(conn: &Connection, key: &str) -> Result<Option<Value>, CrmError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM crm_settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

fn store(conn: &Connection, key: &str, value: Option<&Value>) -> Result<(), CrmError> {
    match value {
        Some(value) => conn.execute(
            "INSERT INTO crm_settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value.to_string()],
        )?,
        None => conn.execute("DELETE FROM crm_settings WHERE key = ?1", [key])?,
    };
    Ok(())
}

pub fn get(conn: &Connection) -> Result<Branding, CrmError> {
    let accent = stored(conn, ACCENT)?.and_then(|v| v.as_str().map(str::to_owned));
    let logo = stored(conn, LOGO)?.and_then(|v| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v["data"].as_str()?)
            .ok()?;
        Some(Logo {
            content_type: image_type(&bytes)?,
            sha256: v["sha256"].as_str()?.to_owned(),
            bytes,
        })
    });
    Ok(Branding { accent, logo })
}

/// `#rrggbb` as its three channels.
fn channels(hex: &str) -> Option<[u8; 3]> {
    let digits = hex.strip_prefix('#')?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// The contrast ratio of white on `rgb` (WCAG 2's relative luminance).
pub fn contrast_with_white(rgb: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
    1.05 / (luminance + 0.05)
}

/// Sets the accent colour (`None`: Holdfast's own).
pub fn set_accent(conn: &Connection, accent: Option<&str>) -> Result<(), CrmError> {
    let Some(accent) = accent.map(str::trim).filter(|a| !a.is_empty()) else {
        return store(conn, ACCENT, None);
    };
    let accent = accent.to_ascii_lowercase();
    let rgb = channels(&accent)
        .ok_or_else(|| CrmError::invalid("accent", "must be a colour written #rrggbb"))?;
    let contrast = contrast_with_white(rgb);
    if contrast < MIN_CONTRAST {
        return Err(CrmError::invalid(
            "accent",
            format!(
                "is too light: white text on it has a contrast of {contrast:.1}:1, and needs {MIN_CONTRAST}:1 to stay readable; choose a darker colour"
            ),
        ));
    }
    store(conn, ACCENT, Some(&json!(accent)))
}

/// The type of an image Holdfast serves as a logo, from its first bytes.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Keeps `bytes` as the logo, once they are an image of a type served and small enough.
pub fn set_logo(conn: &Connection, bytes: &[u8]) -> Result<(), CrmError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(CrmError::invalid(
            "logo",
            format!("must be at most {} KB", MAX_LOGO_BYTES / 1024),
        ));
    }
    if image_type(bytes).is_none() {
        return Err(CrmError::invalid(
            "logo",
            "must be a PNG, JPEG, GIF or WebP image",
        ));
    }
    let value = json!({
        "data": base64::engine::general_purpose::STANDARD.encode(bytes),
        "sha256": format!("{:x}", Sha256::digest(bytes)),
    });
    store(conn, LOGO, Some(&value))
}

pub fn remove_logo(conn: &Connection) -> Result<(), CrmError> {
    store(conn, LOGO, None)
}

/// The stylesheet that puts the accent in place of Holdfast's (empty without one). Only
/// in the light scheme: the dark one keeps Holdfast's accent, chosen to read on dark.
pub fn stylesheet(branding: &Branding) -> String {
    branding
        .accent
        .as_deref()
        .filter(|a| channels(a).is_some())
        .map(|accent| {
            format!(
                "@media not (prefers-color-scheme: dark) {{ :root {{ --hf-accent: {accent}; }} }}\n"
            )
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_text_must_stay_readable_on_the_accent() {
        assert!((contrast_with_white([0, 0, 0]) - 21.0).abs() < 0.01);
        assert!((contrast_with_white([255, 255, 255]) - 1.0).abs() < 0.01);
        // Holdfast's own accent passes; a light yellow does not.
        assert!(contrast_with_white(channels("#0e6b5c").unwrap()) >= MIN_CONTRAST);
        assert!(contrast_with_white(channels("#ffd700").unwrap()) < MIN_CONTRAST);
        for bad in ["1f5f99", "#1f5f9", "#1f5f99a", "#gggggg", "", "#"] {
            assert!(channels(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_raster_images_are_logos() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b""), None);
    }

    #[test]
    fn the_stylesheet_carries_only_a_checked_colour() {
        let mut branding = Branding::default();
        assert_eq!(stylesheet(&branding), "");
        branding.accent = Some("#123456".into());
        assert!(
            stylesheet(&branding).contains(":root { --hf-accent: #123456; }"),
            "{}",
            stylesheet(&branding)
        );
        branding.accent = Some("red; } body { display: none".into());
        assert_eq!(stylesheet(&branding), "");
    }
}
