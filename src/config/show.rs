//! `holdfast config show`: the effective value of every setting and the layer it came from.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::{Loaded, Settings};

const REDACTED: &str = "[redacted]";

/// One line of `config show`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownSetting {
    pub key: &'static str,
    /// `null` when the setting is unset; secrets are replaced by `[redacted]`.
    pub value: Value,
    pub source: String,
}

/// The effective settings, in [`Settings::KEYS`] order. Directories show their resolved
/// location, so an operator sees where data and logs really go.
pub fn show(loaded: &Loaded) -> Vec<ShownSetting> {
    let raw = serde_json::to_value(&loaded.settings).unwrap_or(Value::Null);
    loaded
        .sources
        .iter()
        .map(|(key, source)| {
            let value = match *key {
                "data_dir" => Value::from(loaded.config.data_dir.display().to_string()),
                "log_dir" => Value::from(loaded.config.log_dir.display().to_string()),
                "backup_dir" => Value::from(loaded.config.backup_dir.display().to_string()),
                _ => raw.get(key).cloned().unwrap_or(Value::Null),
            };
            let value = if Settings::SECRET_KEYS.contains(key) && !value.is_null() {
                Value::from(REDACTED)
            } else {
                value
            };
            ShownSetting {
                key,
                value,
                source: source.to_string(),
            }
        })
        .collect()
}

/// Renders the settings as TOML lines a user could paste into a config file, each with its
/// source as a comment; unset settings are commented out.
pub fn render_text(settings: &[ShownSetting]) -> String {
    let width = settings
        .iter()
        .map(|s| s.key.len() + value_text(&s.value).len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for setting in settings {
        let line = if setting.value.is_null() {
            format!("# {} (not set)", setting.key)
        } else {
            format!("{} = {}", setting.key, value_text(&setting.value))
        };
        let _ = writeln!(out, "{line:<pad$}  # {}", setting.source, pad = width + 3);
    }
    out
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
