//! One row of a file made into a record's values, by the same checks the API applies
//! (`values`, `custom`, `tags`), after reading cells as people write them in spreadsheets:
//! amounts in major units ("1,250.50"), yes/no, "Customer", an owner's e-mail address, a
//! company, pipeline or stage by its name.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as Sql;
use serde_json::{Map, Value, json};

use super::columns::Target;
use super::matching::{self, MatchOn};
use crate::crm::custom::{CustomKind, FieldDef};
use crate::crm::fields::{Field, FieldType};
use crate::crm::pipelines::Pipeline;
use crate::crm::{CrmError, Kind, currency, tags, values};
use crate::identity::Email;

/// What rows are read against: the tenant's users, pipelines, custom fields and currency.
#[derive(Debug)]
pub struct Context {
    pub kind: Kind,
    pub defs: Vec<FieldDef>,
    /// Users by e-mail address (normalised), and every user id.
    pub users_by_email: HashMap<String, String>,
    pub user_ids: HashSet<String>,
    pub pipelines: Vec<Pipeline>,
    pub default_currency: String,
    /// What the rows are matched on, for each row's key.
    pub match_on: MatchOn,
}

/// A company a row names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyRef {
    Id(String),
    Name(String),
}

/// A row's values, checked.
#[derive(Debug, Default)]
pub struct Prepared {
    pub values: Vec<(&'static Field, Sql)>,
    pub custom: Map<String, Value>,
    pub tags: Option<Vec<String>>,
    pub company: Option<CompanyRef>,
    pub id: Option<String>,
    /// What the row is matched on (see `matching::key`).
    pub key: Option<String>,
}

impl Prepared {
    pub fn value(&self, name: &str) -> Option<&Sql> {
        self.values
            .iter()
            .find(|(f, _)| f.name == name)
            .map(|(_, v)| v)
    }
}

/// Why a row was not imported: the column (header name) at fault, if one is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub column: Option<String>,
    pub reason: String,
}

impl Reject {
    fn of(column: &str, err: &CrmError) -> Self {
        Reject {
            column: Some(column.to_owned()),
            reason: err.to_string(),
        }
    }

    fn whole(reason: impl Into<String>) -> Self {
        Reject {
            column: None,
            reason: reason.into(),
        }
    }
}

/// Reads `fields` (a row, in the order of `header` and `targets`).
pub fn prepare(
    cx: &Context,
    header: &[String],
    targets: &[Target],
    fields: &[&str],
) -> Result<Prepared, Reject> {
    if fields.len() > header.len() && fields[header.len()..].iter().any(|f| !f.trim().is_empty()) {
        return Err(Reject::whole(format!(
            "the row has {} fields, the header {}",
            fields.len(),
            header.len()
        )));
    }
    let mut out = Prepared::default();
    let mut lists: HashMap<&'static str, (String, Vec<Value>)> = HashMap::new();
    let mut amount: Option<(String, String)> = None;
    let mut stage: Option<(String, String)> = None;
    let mut tag_names: Vec<Value> = Vec::new();
    for ((column, target), cell) in header.iter().zip(targets).zip(fields) {
        // A cell Holdfast exported after a `'` (a spreadsheet would take it for a formula).
        let cell = crate::crm::export::unguard(cell.trim());
        if cell.is_empty() {
            continue;
        }
        match target {
            Target::Ignore => {}
            Target::Id => {
                if !crate::crm::is_id(cell) {
                    return Err(Reject::of(
                        column,
                        &CrmError::invalid("id", "must be an id"),
                    ));
                }
                out.id = Some(cell.to_owned());
            }
            Target::Tags => tag_names.extend(split_list(cell).map(|t| json!(t))),
            Target::Custom(key) => {
                let def = cx
                    .defs
                    .iter()
                    .find(|d| &d.key == key)
                    .ok_or_else(|| Reject::whole(format!("custom field {key} is missing")))?;
                let value = custom_value(def, cell).map_err(|e| Reject::of(column, &e))?;
                out.custom.insert(key.clone(), value);
            }
            Target::Field(field) => match field.ty {
                FieldType::Emails | FieldType::Phones => {
                    let entry = lists
                        .entry(field.name)
                        .or_insert_with(|| (column.clone(), Vec::new()));
                    entry.1.extend(split_list(cell).map(|t| json!(t)));
                }
                FieldType::Money => amount = Some((column.clone(), cell.to_owned())),
                FieldType::Stage => stage = Some((column.clone(), cell.to_owned())),
                FieldType::Company => {
                    out.company = Some(if crate::crm::is_id(cell) {
                        CompanyRef::Id(cell.to_owned())
                    } else {
                        CompanyRef::Name(
                            values::line(field.name, &json!(cell))
                                .map_err(|e| Reject::of(column, &e))?,
                        )
                    });
                }
                _ => {
                    let sql = field_value(cx, field, cell).map_err(|e| Reject::of(column, &e))?;
                    out.values.push((field, sql));
                }
            },
        }
    }
    for (name, (column, items)) in lists {
        let field = cx
            .kind
            .field(name)
            .ok_or_else(|| Reject::whole("no field"))?;
        let sql = values::to_sql(name, field.ty, &Value::Array(items))
            .map_err(|e| Reject::of(&column, &e))?;
        out.values.push((field, sql));
    }
    if !tag_names.is_empty() {
        out.tags = Some(
            tags::checked_names(&Value::Array(tag_names)).map_err(|e| Reject::of("tags", &e))?,
        );
    }
    if let Some((column, text)) = stage {
        let sql = stage_value(cx, &out, &text).map_err(|e| Reject::of(&column, &e))?;
        out.values.push((field_of(cx.kind, "stage_id")?, sql));
    }
    if let Some((column, text)) = amount {
        let code = match out.value("currency") {
            Some(Sql::Text(c)) => c.clone(),
            _ => cx.default_currency.clone(),
        };
        let digits = currency::minor_digits(&code).unwrap_or(2);
        let minor = minor_units(&text, digits).ok_or_else(|| {
            Reject::of(
                &column,
                &CrmError::invalid("amount", "must be an amount such as 1250.50"),
            )
        })?;
        let sql = values::to_sql("amount", FieldType::Money, &json!(minor))
            .map_err(|e| Reject::of(&column, &e))?;
        out.values.push((field_of(cx.kind, "amount")?, sql));
    }
    out.key = matching::key(&cx.match_on, &out);
    Ok(out)
}

fn field_of(kind: Kind, name: &str) -> Result<&'static Field, Reject> {
    kind.field(name).ok_or_else(|| Reject::whole("no field"))
}

/// Items of a list cell: "a@x.org; b@y.org", "vip, partner".
fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([';', ',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn field_value(cx: &Context, field: &'static Field, cell: &str) -> Result<Sql, CrmError> {
    let name = field.name;
    let bad = |why: &str| CrmError::invalid(name, why);
    let value = match field.ty {
        FieldType::Choice(choices) => {
            let folded = cell.to_lowercase();
            let found = choices
                .iter()
                .find(|c| c.to_lowercase() == folded)
                .ok_or_else(|| bad(&format!("must be one of {}", choices.join(", "))))?;
            json!(found)
        }
        FieldType::Currency => json!(cell.to_uppercase()),
        FieldType::Percent => {
            let number: f64 = cell
                .trim_end_matches('%')
                .trim()
                .replace(',', ".")
                .parse()
                .map_err(|_| bad("must be a whole number from 0 to 100"))?;
            if !(0.0..=100.0).contains(&number) {
                return Err(bad("must be a whole number from 0 to 100"));
            }
            #[allow(clippy::cast_possible_truncation)] // 0 to 100, checked above.
            let whole = number.round() as i64;
            json!(whole)
        }
        FieldType::Time => {
            if let Some(date) = values::date(cell) {
                json!(format!("{date}T00:00:00Z"))
            } else {
                json!(cell)
            }
        }
        FieldType::User => {
            let id = if cell.contains('@') {
                cell.parse::<Email>()
                    .ok()
                    .and_then(|e| cx.users_by_email.get(e.as_str()).cloned())
            } else {
                Some(cell.to_owned()).filter(|id| cx.user_ids.contains(id))
            };
            json!(id.ok_or_else(|| bad(&format!("there is no user {cell} in this tenant")))?)
        }
        FieldType::Pipeline => {
            let found = cx
                .pipelines
                .iter()
                .find(|p| p.id == cell || p.name.eq_ignore_ascii_case(cell))
                .ok_or_else(|| bad(&format!("there is no pipeline {cell}")))?;
            json!(found.id)
        }
        _ => json!(cell),
    };
    values::to_sql(name, field.ty, &value)
}

/// A deal's stage by id or name: in its pipeline if the row gives one, else in the first
/// pipeline that has a stage of that name.
fn stage_value(cx: &Context, out: &Prepared, cell: &str) -> Result<Sql, CrmError> {
    let pipeline = match out.value("pipeline_id") {
        Some(Sql::Text(id)) => Some(id.as_str()),
        _ => None,
    };
    cx.pipelines
        .iter()
        .filter(|p| pipeline.is_none_or(|id| p.id == id))
        .flat_map(|p| &p.stages)
        .find(|s| s.id == cell || s.name.eq_ignore_ascii_case(cell))
        .map(|s| Sql::Text(s.id.clone()))
        .ok_or_else(|| CrmError::invalid("stage_id", format!("there is no stage {cell}")))
}

fn custom_value(def: &FieldDef, cell: &str) -> Result<Value, CrmError> {
    let name = format!("custom.{}", def.key);
    let value = match def.kind {
        CustomKind::Number => {
            let number: f64 = cell
                .replace([' ', '\''], "")
                .parse()
                .map_err(|_| CrmError::invalid(&name, "must be a number"))?;
            serde_json::Number::from_f64(number)
                .map(Value::Number)
                .ok_or_else(|| CrmError::invalid(&name, "must be a number"))?
        }
        CustomKind::Money => {
            let code = def.options["currency"].as_str().unwrap_or("USD");
            let digits = currency::minor_digits(code).unwrap_or(2);
            json!(
                minor_units(cell, digits)
                    .ok_or_else(|| CrmError::invalid(&name, "must be an amount such as 1250.50"))?
            )
        }
        CustomKind::Checkbox => match cell.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "x" | "on" | "checked" => json!(true),
            "false" | "no" | "n" | "0" | "off" | "unchecked" => json!(false),
            _ => return Err(CrmError::invalid(&name, "must be yes or no")),
        },
        CustomKind::Select => {
            let folded = cell.to_lowercase();
            json!(
                def.choices()
                    .into_iter()
                    .find(|c| c.to_lowercase() == folded)
                    .unwrap_or(cell)
            )
        }
        CustomKind::MultiSelect => {
            let choices = def.choices();
            Value::Array(
                split_list(cell)
                    .map(|item| {
                        let folded = item.to_lowercase();
                        json!(
                            choices
                                .iter()
                                .find(|c| c.to_lowercase() == folded)
                                .copied()
                                .unwrap_or(item)
                        )
                    })
                    .collect(),
            )
        }
        _ => json!(cell),
    };
    def.check(&value)
}

/// An amount in major units ("1,250.50", "1.250,50", "1 250", "-3.5", "$99") in minor units
/// with `digits` decimals. The last `.` or `,` is the decimal point, unless it is the only
/// kind, and it repeats or has exactly three digits after it ("1,250"): then it groups
/// thousands.
pub fn minor_units(text: &str, digits: u8) -> Option<i64> {
    let text: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-'))
        .collect();
    let negative = text.starts_with('-');
    let text = text.trim_start_matches('-');
    if text.is_empty() || text.contains('-') {
        return None;
    }
    let point = text.rfind(['.', ',']).filter(|&i| {
        let separator = text.as_bytes()[i];
        let both = text.contains('.') && text.contains(',');
        let repeated = text.bytes().filter(|b| *b == separator).count() > 1;
        both || (!repeated && text.len() - i - 1 != 3)
    });
    let (whole, fraction) = match point {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    if fraction.len() > usize::from(digits)
        && fraction.trim_end_matches('0').len() > usize::from(digits)
    {
        return None;
    }
    let mut fraction: String = fraction.chars().take(usize::from(digits)).collect();
    while fraction.len() < usize::from(digits) {
        fraction.push('0');
    }
    let all = format!("{}{fraction}", if whole.is_empty() { "0" } else { &whole });
    let minor: i64 = all.parse().ok()?;
    Some(if negative { -minor } else { minor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_as_people_write_them() {
        assert_eq!(minor_units("1250.50", 2), Some(125_050));
        assert_eq!(minor_units("1,250.50", 2), Some(125_050));
        assert_eq!(minor_units("1.250,50", 2), Some(125_050));
        assert_eq!(minor_units("1,250", 2), Some(125_000));
        assert_eq!(minor_units("1 250", 2), Some(125_000));
        assert_eq!(minor_units("$99", 2), Some(9_900));
        assert_eq!(minor_units("-3.5", 2), Some(-350));
        assert_eq!(minor_units("12,5", 2), Some(1_250));
        assert_eq!(minor_units("5000", 0), Some(5_000));
        assert_eq!(minor_units("1.005", 2), Some(100_500));
        assert_eq!(minor_units("1,000,000", 2), Some(100_000_000));
        assert_eq!(minor_units("1.0051", 2), None);
        assert_eq!(minor_units("abc", 2), None);
        assert_eq!(minor_units("1-2", 2), None);
    }
}
