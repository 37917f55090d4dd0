//! The fields of a record's form, per kind: what each shows, how a posted value becomes the
//! API's value (an empty field clears it), and how a record's value is shown in the form.
//! E-mails and phones are one comma-separated field, so a record with several keeps them all.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::crm::fields::LIFECYCLE_STAGES;
use crate::error::{ApiError, ErrorCode};

/// How a field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    LongText,
    /// Comma-separated values, a list in the API.
    List,
    Choice(&'static [&'static str]),
    /// In major units (`12,500.00`), minor units in the API.
    Money,
    Date,
    /// A stage of any pipeline (deals, on creation: moving is the board's).
    Stage,
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    /// Only when the record is made (the edit form leaves it out).
    pub create_only: bool,
}

const fn spec(name: &'static str, label: &'static str, input: Input) -> Spec {
    Spec {
        name,
        label,
        input,
        create_only: false,
    }
}

pub const CONTACT: &[Spec] = &[
    spec("first_name", "First name", Input::Text),
    spec("last_name", "Last name", Input::Text),
    spec("emails", "E-mail addresses", Input::List),
    spec("phones", "Phone numbers", Input::List),
    spec("title", "Title", Input::Text),
    spec(
        "lifecycle_stage",
        "Lifecycle stage",
        Input::Choice(LIFECYCLE_STAGES),
    ),
];

pub const COMPANY: &[Spec] = &[
    spec("name", "Name", Input::Text),
    spec("domain", "Domain", Input::Text),
    spec("industry", "Industry", Input::Text),
    spec(
        "size",
        "Size",
        Input::Choice(crate::crm::fields::COMPANY_SIZES),
    ),
    spec("phone", "Phone", Input::Text),
    spec("website", "Website", Input::Text),
    spec("address", "Address", Input::LongText),
    spec(
        "lifecycle_stage",
        "Lifecycle stage",
        Input::Choice(LIFECYCLE_STAGES),
    ),
];

pub const DEAL: &[Spec] = &[
    spec("title", "Title", Input::Text),
    spec("amount", "Amount", Input::Money),
    spec("currency", "Currency (ISO 4217, e.g. EUR)", Input::Text),
    Spec {
        name: "stage_id",
        label: "Pipeline and stage",
        input: Input::Stage,
        create_only: true,
    },
    spec("expected_close", "Expected close date", Input::Date),
];

/// A form's values by field name, as text.
pub type Values = BTreeMap<String, String>;

/// A record's values as its form shows them.
pub fn values_of(specs: &[Spec], body: &Map<String, Value>) -> Values {
    let currency = body.get("currency").and_then(Value::as_str).unwrap_or("");
    specs
        .iter()
        .map(|spec| {
            let value = body.get(spec.name).unwrap_or(&Value::Null);
            let text = match (spec.input, value) {
                (_, Value::Null) => String::new(),
                (Input::List, Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                (Input::Money, Value::Number(n)) => n
                    .as_i64()
                    .map_or_else(|| n.to_string(), |m| plain_money(m, currency)),
                (_, Value::String(s)) => s.clone(),
                (_, other) => other.to_string(),
            };
            (spec.name.to_owned(), text)
        })
        .collect()
}

/// Minor units as major units without grouping, as typed back into the form.
fn plain_money(minor: i64, currency: &str) -> String {
    super::format::money(minor, currency).replace(',', "")
}

/// The API's body for posted `values`: every field of the form (creation or edit).
pub fn body(
    specs: &[Spec],
    values: &Values,
    creating: bool,
) -> Result<Map<String, Value>, ApiError> {
    let mut body = Map::new();
    for spec in specs.iter().filter(|s| creating || !s.create_only) {
        let text = values.get(spec.name).map_or("", |v| v.trim());
        let value = match spec.input {
            Input::List => json!(
                text.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
            ),
            // Nothing typed: a new record takes the default, an edited one is cleared (a
            // select always has a value, so it never clears).
            _ if text.is_empty() => {
                if creating || matches!(spec.input, Input::Choice(_) | Input::Stage) {
                    continue;
                }
                Value::Null
            }
            Input::Money => json!(minor_units(spec.name, text, values.get("currency"))?),
            _ => json!(text),
        };
        body.insert(spec.name.to_owned(), value);
    }
    Ok(body)
}

/// `12,500.50` (or `12500.5`) as minor units of `currency` (2 digits when not known yet).
fn minor_units(field: &str, text: &str, currency: Option<&String>) -> Result<i64, ApiError> {
    let refuse = || {
        ApiError::with_message(
            ErrorCode::InvalidInput,
            format!("{field}: {text:?} is not an amount such as 12500.00."),
        )
    };
    let digits = currency
        .map(|c| c.trim().to_ascii_uppercase())
        .and_then(|c| crate::crm::currency::minor_digits(&c))
        .unwrap_or(2);
    let clean: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_'))
        .collect();
    let (negative, clean) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, clean),
    };
    let (whole, fraction) = clean.split_once('.').unwrap_or((&clean, ""));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || fraction.len() > usize::from(digits)
    {
        return Err(refuse());
    }
    let scale = 10_i64.pow(u32::from(digits));
    let fraction = format!("{fraction:0<width$}", width = usize::from(digits));
    let minor = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(scale))
        .and_then(|w| w.checked_add(fraction.parse::<i64>().unwrap_or(0)))
        .ok_or_else(refuse)?;
    Ok(if negative { -minor } else { minor })
}

/// One field of the form as the templates show it.
#[derive(Debug)]
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `date`, `textarea` or `select`.
    pub control: &'static str,
    pub value: String,
    /// (value, label, selected) of a select.
    pub options: Vec<(String, String, bool)>,
    pub error: Option<String>,
    /// How the page's script edits it in place: `text`, `list` (comma-separated) or `choice`;
    /// empty when it does not (an amount, whose currency decides its digits).
    pub inline: &'static str,
}

/// The fields of the form (`creating` or editing) with `values`; a refusal that names one
/// of them goes next to it, and is returned otherwise (for the top of the form). `stages`
/// are the (id, "Pipeline — Stage") a deal can start in.
pub fn views(
    specs: &[Spec],
    values: &Values,
    creating: bool,
    refusal: Option<&ApiError>,
    stages: &[(String, String)],
) -> (Vec<FieldView>, Option<String>) {
    let (named, message) = match refusal.map(|e| (e, e.message().split_once(": "))) {
        Some((_, Some((field, why)))) => (Some(field.to_owned()), why.to_owned()),
        Some((err, None)) => (None, err.message().to_owned()),
        None => (None, String::new()),
    };
    let mut placed = false;
    let views = specs
        .iter()
        .filter(|s| creating || !s.create_only)
        .map(|spec| {
            let value = values.get(spec.name).cloned().unwrap_or_default();
            let error = (named.as_deref() == Some(spec.name)).then(|| {
                placed = true;
                message.clone()
            });
            let (control, options) = match spec.input {
                Input::Choice(choices) => (
                    "select",
                    choices
                        .iter()
                        .map(|c| ((*c).to_owned(), (*c).to_owned(), *c == value))
                        .collect(),
                ),
                Input::Stage => (
                    "select",
                    stages
                        .iter()
                        .map(|(id, label)| (id.clone(), label.clone(), *id == value))
                        .collect(),
                ),
                Input::LongText => ("textarea", Vec::new()),
                Input::Date => ("date", Vec::new()),
                _ => ("text", Vec::new()),
            };
            let inline = match spec.input {
                Input::List => "list",
                Input::Choice(_) => "choice",
                Input::Text | Input::LongText | Input::Date => "text",
                Input::Money | Input::Stage => "",
            };
            FieldView {
                name: spec.name,
                label: spec.label,
                control,
                value,
                options,
                error,
                inline,
            }
        })
        .collect();
    let general = refusal.filter(|_| !placed).map(|e| e.message().to_owned());
    (views, general)
}

/// The company field of a contact's or a deal's form: a company's name as typed (resolved by
/// the server, see `link_names`), the id it named when the page was made (kept while the
/// text still names it; the type-ahead sets it), and its refusal.
#[derive(Debug, Default)]
pub struct CompanyField {
    pub text: String,
    pub chosen: String,
    pub error: Option<String>,
}

impl CompanyField {
    /// The field as posted in `values` (or as `saved` when the form did not come back), with
    /// the part of `refusal` that names it; the refusal's remaining part is returned.
    pub fn of<'a>(
        saved: (&str, &str),
        shown: Option<&Values>,
        refusal: Option<&'a ApiError>,
    ) -> (Self, Option<&'a ApiError>) {
        let mut field = match shown.filter(|v| v.contains_key("company")) {
            Some(values) => CompanyField {
                text: values.get("company").cloned().unwrap_or_default(),
                chosen: values.get("company_ref").cloned().unwrap_or_default(),
                error: None,
            },
            None => CompanyField {
                text: saved.0.to_owned(),
                chosen: saved.1.to_owned(),
                error: None,
            },
        };
        let named = refusal.and_then(|e| {
            let message = e.message();
            message
                .strip_prefix("company: ")
                .or_else(|| message.strip_prefix("company_id: "))
        });
        match named {
            Some(why) => {
                field.error = Some(why.to_owned());
                (field, None)
            }
            None => (field, refusal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_typed_in_major_units() {
        let eur = Some("EUR".to_owned());
        assert_eq!(
            minor_units("amount", "12,500.50", eur.as_ref()).unwrap(),
            1_250_050
        );
        assert_eq!(
            minor_units("amount", "12500.5", eur.as_ref()).unwrap(),
            1_250_050
        );
        assert_eq!(minor_units("amount", "-3", eur.as_ref()).unwrap(), -300);
        let jpy = Some("JPY".to_owned());
        assert_eq!(minor_units("amount", "1000", jpy.as_ref()).unwrap(), 1000);
        for bad in ["1.234", "12e3", "", ".5", "1.2.3", "99999999999999999999"] {
            assert!(minor_units("amount", bad, eur.as_ref()).is_err(), "{bad}");
        }
        assert!(minor_units("amount", "1.5", jpy.as_ref()).is_err());
    }

    #[test]
    fn a_record_shows_in_its_form_as_it_was_typed() {
        let body =
            json!({"amount": 1_250_050, "currency": "EUR", "title": "Big", "expected_close": null});
        let values = values_of(DEAL, body.as_object().unwrap());
        assert_eq!(values["amount"], "12500.50");
        assert_eq!(values["title"], "Big");
        assert_eq!(values["expected_close"], "");
        let back = super::body(DEAL, &values, false).unwrap();
        assert_eq!(back["amount"], 1_250_050);
        assert!(!back.contains_key("stage_id"), "not on edit");
    }
}
