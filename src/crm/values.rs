//! Values of fields: a JSON value from a client is checked against its field's type and
//! turned into what is stored; a stored value is turned back into what clients see.

use rusqlite::types::Value as Sql;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::CrmError;
use super::fields::FieldType;
use crate::identity::Email;

/// Longest single-line text, in characters.
pub const MAX_LINE: usize = 500;
/// Longest text of many lines, in characters.
pub const MAX_LONG_TEXT: usize = 100_000;
/// Most e-mail addresses or phone numbers on one record.
pub const MAX_LIST: usize = 20;
/// Largest amount, in minor units, either way: ten trillion in a currency of cents, far
/// beyond any deal, and small enough that sums over millions of deals stay exact (see
/// `board`).
pub const MAX_AMOUNT: i64 = 10_i64.pow(15);

/// Checks `value` for a field called `name` of type `ty`, giving what is stored.
pub fn to_sql(name: &str, ty: FieldType, value: &Value) -> Result<Sql, CrmError> {
    let bad = |why: &str| CrmError::invalid(name, why);
    if value.is_null() {
        return match ty {
            FieldType::Name => Ok(Sql::Text(String::new())),
            FieldType::Emails | FieldType::Phones => Ok(Sql::Text("[]".into())),
            FieldType::Currency | FieldType::Choice(_) | FieldType::Pipeline | FieldType::Stage => {
                Err(bad("may not be null"))
            }
            _ => Ok(Sql::Null),
        };
    }
    match ty {
        FieldType::Name => Ok(Sql::Text(line(name, value)?)),
        FieldType::Text => Ok(optional(line(name, value)?)),
        FieldType::LongText => Ok(optional(long_text(name, value)?)),
        FieldType::Emails => list(name, value, |text| {
            text.parse::<Email>()
                .map(|e| e.as_str().to_owned())
                .map_err(|e| e.to_string())
        }),
        FieldType::Phones => list(name, value, phone),
        FieldType::Phone => Ok(optional(
            phone(&line(name, value)?).map_err(|why| bad(&why))?,
        )),
        FieldType::Url => Ok(optional(url(&line(name, value)?).map_err(|why| bad(&why))?)),
        FieldType::Domain => Ok(optional(
            domain(&line(name, value)?).map_err(|why| bad(&why))?,
        )),
        FieldType::Date => {
            let text = value
                .as_str()
                .ok_or_else(|| bad("must be a date such as 2026-12-31"))?;
            date(text)
                .map(Sql::Text)
                .ok_or_else(|| bad("must be a date such as 2026-12-31"))
        }
        FieldType::Time => {
            let text = value.as_str().unwrap_or_default();
            OffsetDateTime::parse(text, &Rfc3339)
                .map(|t| Sql::Integer(t.unix_timestamp()))
                .map_err(|_| bad("must be a time such as 2026-12-31T09:30:00Z"))
        }
        FieldType::Percent => match value.as_i64() {
            Some(n @ 0..=100) => Ok(Sql::Integer(n)),
            _ => Err(bad("must be a whole number from 0 to 100")),
        },
        FieldType::Money => match value.as_i64() {
            Some(n) if n.abs() <= MAX_AMOUNT => Ok(Sql::Integer(n)),
            _ => Err(bad(
                "must be a whole number of minor units (cents), at most 10^15 either way",
            )),
        },
        FieldType::Currency => {
            let code = value.as_str().unwrap_or_default();
            super::currency::minor_digits(code)
                .map(|_| Sql::Text(code.to_owned()))
                .ok_or_else(|| bad("must be an ISO 4217 currency code such as EUR"))
        }
        FieldType::Choice(choices) => {
            let text = value.as_str().unwrap_or_default();
            if choices.contains(&text) {
                Ok(Sql::Text(text.to_owned()))
            } else {
                Err(bad(&format!("must be one of {}", choices.join(", "))))
            }
        }
        FieldType::User | FieldType::Company | FieldType::Pipeline | FieldType::Stage => {
            match value.as_str() {
                Some(id) if super::is_id(id) => Ok(Sql::Text(id.to_owned())),
                _ => Err(bad("must be an id")),
            }
        }
        FieldType::Count => Err(bad("is kept by Holdfast")),
    }
}

/// What clients see of a stored value of type `ty`.
pub fn to_json(ty: FieldType, value: Sql) -> Value {
    match (ty, value) {
        (_, Sql::Null | Sql::Blob(_)) => Value::Null,
        (FieldType::Time, Sql::Integer(t)) => json!(rfc3339(t)),
        (FieldType::Emails | FieldType::Phones, Sql::Text(list)) => {
            serde_json::from_str(&list).unwrap_or(Value::Array(Vec::new()))
        }
        (_, Sql::Integer(n)) => json!(n),
        (_, Sql::Real(x)) => json!(x),
        (_, Sql::Text(text)) => json!(text),
    }
}

/// A Unix time as RFC 3339 (UTC).
pub fn rfc3339(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn optional(text: String) -> Sql {
    if text.is_empty() {
        Sql::Null
    } else {
        Sql::Text(text)
    }
}

/// One line of text, trimmed: no line breaks, controls or bidirectional overrides, which
/// would forge lines wherever the text is printed.
pub fn line(name: &str, value: &Value) -> Result<String, CrmError> {
    let text = value
        .as_str()
        .ok_or_else(|| CrmError::invalid(name, "must be text"))?
        .trim();
    if text.chars().any(crate::text::is_unsafe) {
        return Err(CrmError::invalid(
            name,
            "may not hold line breaks or control characters",
        ));
    }
    if text.chars().count() > MAX_LINE {
        return Err(CrmError::invalid(
            name,
            format!("may be at most {MAX_LINE} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// Text of many lines: line breaks and tabs are kept (`\r\n` becomes `\n`); other controls
/// and bidirectional overrides are refused.
pub fn long_text(name: &str, value: &Value) -> Result<String, CrmError> {
    let text = value
        .as_str()
        .ok_or_else(|| CrmError::invalid(name, "must be text"))?
        .replace("\r\n", "\n");
    let text = text.trim();
    if text
        .chars()
        .any(|c| c != '\n' && c != '\t' && crate::text::is_unsafe(c))
    {
        return Err(CrmError::invalid(name, "may not hold control characters"));
    }
    if text.chars().count() > MAX_LONG_TEXT {
        return Err(CrmError::invalid(
            name,
            format!("may be at most {MAX_LONG_TEXT} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// A JSON array of distinct items, each checked by `check`, stored as JSON text.
fn list(
    name: &str,
    value: &Value,
    check: impl Fn(&str) -> Result<String, String>,
) -> Result<Sql, CrmError> {
    let items = value
        .as_array()
        .ok_or_else(|| CrmError::invalid(name, "must be a list"))?;
    if items.len() > MAX_LIST {
        return Err(CrmError::invalid(
            name,
            format!("may hold at most {MAX_LIST} items"),
        ));
    }
    let mut kept: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let text = line(name, item)?;
        let checked =
            check(&text).map_err(|why| CrmError::invalid(name, format!("{text:?} is {why}")))?;
        if !checked.is_empty() && !kept.contains(&checked) {
            kept.push(checked);
        }
    }
    Ok(Sql::Text(Value::from(kept).to_string()))
}

/// A phone number: digits with the usual separators, an optional leading `+` and an
/// extension.
pub fn phone(text: &str) -> Result<String, String> {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let allowed = text.chars().all(|c| {
        c.is_ascii_digit()
            || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')' | '/')
            // An extension: "x12", "ext 12".
            || matches!(c.to_ascii_lowercase(), 'e' | 'x' | 't')
    });
    if text.is_empty() || (allowed && (3..=20).contains(&digits) && text.len() <= 40) {
        Ok(text.to_owned())
    } else {
        Err("not a phone number such as +1 555 0100".to_owned())
    }
}

/// An `http` or `https` address; anything else (`javascript:`, `data:`) would be a link that
/// runs code when someone clicks it.
pub fn url(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        _ if text.is_empty() => Ok(String::new()),
        Some(rest)
            if !rest.is_empty() && !text.contains(char::is_whitespace) && text.len() <= 2048 =>
        {
            Ok(text.to_owned())
        }
        _ => Err("must be an http or https address".to_owned()),
    }
}

/// A domain name, lower-cased, without scheme or path.
pub fn domain(text: &str) -> Result<String, String> {
    let lower = text.trim_end_matches('.').to_ascii_lowercase();
    let ok = lower.is_empty()
        || (lower.len() <= 253
            && lower.contains('.')
            && lower.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    if ok {
        Ok(lower)
    } else {
        Err("must be a domain name such as example.com".to_owned())
    }
}

/// `YYYY-MM-DD` if it is a real date.
pub fn date(text: &str) -> Option<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .ok()
        .map(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_would_forge_a_line_is_refused() {
        assert!(to_sql("title", FieldType::Text, &json!("CEO\nforged")).is_err());
        assert!(to_sql("title", FieldType::Text, &json!("a\u{202E}b")).is_err());
        assert_eq!(
            to_sql("title", FieldType::Text, &json!("  CEO ")).unwrap(),
            Sql::Text("CEO".into())
        );
        assert_eq!(
            to_sql("body", FieldType::LongText, &json!("one\r\ntwo")).unwrap(),
            Sql::Text("one\ntwo".into())
        );
    }

    #[test]
    fn values_are_checked_by_their_type() {
        let ok = |ty, v: Value| to_sql("f", ty, &v).is_ok();
        assert!(ok(
            FieldType::Emails,
            json!(["Ada@Example.com", "ada@example.com"])
        ));
        assert_eq!(
            to_sql(
                "f",
                FieldType::Emails,
                &json!(["Ada@Example.com", "ada@example.com"])
            )
            .unwrap(),
            Sql::Text(r#"["ada@example.com"]"#.into()),
            "normalised and without repeats"
        );
        assert!(!ok(FieldType::Emails, json!(["not an address"])));
        assert!(!ok(FieldType::Emails, json!("ada@example.com")));
        assert!(ok(FieldType::Url, json!("https://example.com/x")));
        assert!(!ok(FieldType::Url, json!("javascript:alert(1)")));
        assert!(ok(FieldType::Date, json!("2028-02-29")));
        assert!(!ok(FieldType::Date, json!("2027-02-29")));
        assert!(ok(FieldType::Time, json!("2026-01-01T10:00:00+01:00")));
        assert!(!ok(FieldType::Percent, json!(101)));
        assert!(!ok(FieldType::Money, json!(1.5)));
        assert!(!ok(FieldType::Money, json!("100")));
        assert!(ok(FieldType::Currency, json!("JPY")));
        assert!(!ok(FieldType::Currency, json!("usd")));
        assert!(!ok(FieldType::Choice(&["a"]), json!("b")));
        assert!(!ok(FieldType::Company, json!("../x")));
        assert!(ok(FieldType::Domain, json!("Example.COM")));
        assert!(!ok(FieldType::Domain, json!("https://example.com")));
        assert!(ok(FieldType::Phones, json!(["+1 (555) 010-0100 ext 12"])));
        assert!(!ok(FieldType::Phones, json!(["call me"])));
        assert!(!ok(FieldType::Currency, Value::Null));
        assert!(ok(FieldType::Text, Value::Null));
    }

    #[test]
    fn stored_values_read_back_as_clients_sent_them() {
        assert_eq!(
            to_json(FieldType::Time, Sql::Integer(0)),
            json!("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            to_json(FieldType::Emails, Sql::Text(r#"["a@b.co"]"#.into())),
            json!(["a@b.co"])
        );
    }
}
