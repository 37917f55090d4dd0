//! Custom fields: admins define them per kind of record; values live in the record's
//! `custom` JSON object under the definition's `key`, which never changes. Renaming changes
//! the `label` only; removing keeps the definition (marked) and the values (unread), so no
//! record is ever rewritten or corrupted by a change of definitions.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::values::{self, MAX_AMOUNT};
use super::{CrmError, Kind};

/// What a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomKind {
    Text,
    LongText,
    Number,
    Money,
    Date,
    Checkbox,
    Select,
    MultiSelect,
    Url,
    Email,
    Phone,
}

impl CustomKind {
    pub const ALL: [CustomKind; 11] = [
        CustomKind::Text,
        CustomKind::LongText,
        CustomKind::Number,
        CustomKind::Money,
        CustomKind::Date,
        CustomKind::Checkbox,
        CustomKind::Select,
        CustomKind::MultiSelect,
        CustomKind::Url,
        CustomKind::Email,
        CustomKind::Phone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CustomKind::Text => "text",
            CustomKind::LongText => "long_text",
            CustomKind::Number => "number",
            CustomKind::Money => "money",
            CustomKind::Date => "date",
            CustomKind::Checkbox => "checkbox",
            CustomKind::Select => "select",
            CustomKind::MultiSelect => "multi_select",
            CustomKind::Url => "url",
            CustomKind::Email => "email",
            CustomKind::Phone => "phone",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether values compare as numbers (for ranges and sorting).
    pub fn numeric(self) -> bool {
        matches!(self, CustomKind::Number | CustomKind::Money)
    }
}

/// A custom field's definition.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FieldDef {
    pub id: String,
    pub record_kind: Kind,
    /// Where values are kept; never changes.
    pub key: String,
    /// What people see; admins rename it freely.
    pub label: String,
    pub kind: CustomKind,
    /// `{"choices": [...]}` for selects, `{"currency": "EUR"}` for money.
    pub options: Value,
    pub position: i64,
    pub version: i64,
}

/// Most custom fields per kind of record.
pub const MAX_FIELDS: usize = 200;
/// Most choices of a select.
pub const MAX_CHOICES: usize = 500;

impl FieldDef {
    /// The choices of a select (empty for other kinds).
    pub fn choices(&self) -> Vec<&str> {
        self.options["choices"]
            .as_array()
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The JSON path of its value in `custom`, bound as a parameter (never spliced into SQL).
    pub fn path(&self) -> String {
        format!("$.\"{}\"", self.key)
    }

    /// Checks a value for this field, giving what is kept (`null` clears it).
    pub fn check(&self, value: &Value) -> Result<Value, CrmError> {
        let name = format!("custom.{}", self.key);
        let bad = |why: &str| CrmError::invalid(&name, why);
        if value.is_null() {
            return Ok(Value::Null);
        }
        let text = |check: fn(&str) -> Result<String, String>| -> Result<Value, CrmError> {
            let line = values::line(&name, value)?;
            check(&line).map(Value::from).map_err(|why| bad(&why))
        };
        match self.kind {
            CustomKind::Text => Ok(json!(values::line(&name, value)?)),
            CustomKind::LongText => Ok(json!(values::long_text(&name, value)?)),
            CustomKind::Number => match value.as_f64() {
                Some(x) if x.is_finite() && x.abs() < 1e15 => Ok(value.clone()),
                _ => Err(bad("must be a number")),
            },
            CustomKind::Money => match value.as_i64() {
                Some(n) if n.abs() <= MAX_AMOUNT => Ok(json!(n)),
                _ => Err(bad("must be a whole number of minor units (cents)")),
            },
            CustomKind::Date => value
                .as_str()
                .and_then(values::date)
                .map(Value::from)
                .ok_or_else(|| bad("must be a date such as 2026-12-31")),
            CustomKind::Checkbox => value
                .as_bool()
                .map(Value::from)
                .ok_or_else(|| bad("must be true or false")),
            CustomKind::Select => {
                let choice = value.as_str().unwrap_or_default();
                if self.choices().contains(&choice) {
                    Ok(json!(choice))
                } else {
                    Err(bad(&format!(
                        "must be one of {}",
                        self.choices().join(", ")
                    )))
                }
            }
            CustomKind::MultiSelect => {
                let picked = value
                    .as_array()
                    .ok_or_else(|| bad("must be a list of choices"))?;
                let choices = self.choices();
                let mut kept = Vec::new();
                for item in picked {
                    match item.as_str() {
                        Some(c) if choices.contains(&c) => {
                            if !kept.contains(&c) {
                                kept.push(c);
                            }
                        }
                        _ => {
                            return Err(bad(&format!(
                                "each must be one of {}",
                                choices.join(", ")
                            )));
                        }
                    }
                }
                Ok(json!(kept))
            }
            CustomKind::Url => text(values::url),
            CustomKind::Phone => text(values::phone),
            CustomKind::Email => text(|t| {
                t.parse::<crate::identity::Email>()
                    .map(|e| e.as_str().to_owned())
                    .map_err(|e| e.to_string())
            }),
        }
    }
}

const COLUMNS: &str = "id, record_kind, key, label, kind, options, position, version";

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<FieldDef> {
    let kind: String = row.get(1)?;
    let field_kind: String = row.get(4)?;
    let options: String = row.get(5)?;
    Ok(FieldDef {
        id: row.get(0)?,
        record_kind: Kind::parse(&kind).unwrap_or(Kind::Contact),
        key: row.get(2)?,
        label: row.get(3)?,
        kind: CustomKind::parse(&field_kind).unwrap_or(CustomKind::Text),
        options: serde_json::from_str(&options).unwrap_or(Value::Null),
        position: row.get(6)?,
        version: row.get(7)?,
    })
}

/// The live definitions of `kind`, in their order.
pub fn live(conn: &Connection, kind: Kind) -> Result<Vec<FieldDef>, CrmError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM field_defs WHERE record_kind = ?1 AND deleted_at IS NULL ORDER BY position, seq"
    ))?;
    let defs = stmt
        .query_map([kind.as_str()], read)?
        .collect::<Result<_, _>>()?;
    Ok(defs)
}

/// One live definition by id.
pub fn find(conn: &Connection, id: &str) -> Result<FieldDef, CrmError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM field_defs WHERE id = ?1 AND deleted_at IS NULL"),
        [id],
        read,
    )
    .optional()?
    .ok_or(CrmError::Missing("custom field"))
}

/// What an admin sends to define a field.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFieldDef {
    pub record_kind: Kind,
    pub key: String,
    pub label: String,
    pub kind: CustomKind,
    #[serde(default)]
    pub choices: Vec<String>,
    pub currency: Option<String>,
}

/// What an admin sends to change a definition: its label, its choices, its place.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDefChange {
    pub label: Option<String>,
    pub choices: Option<Vec<String>>,
    pub position: Option<i64>,
}

fn checked_key(key: &str) -> Result<(), CrmError> {
    let ok = (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(CrmError::invalid(
            "key",
            "must be 1 to 40 lower-case letters, digits or _, starting with a letter",
        ));
    }
    if super::fields::reserved(key) {
        return Err(CrmError::invalid("key", "is the name of a built-in field"));
    }
    Ok(())
}

fn checked_choices(choices: &[String]) -> Result<Value, CrmError> {
    if choices.is_empty() || choices.len() > MAX_CHOICES {
        return Err(CrmError::invalid(
            "choices",
            format!("a select needs 1 to {MAX_CHOICES} choices"),
        ));
    }
    let mut kept: Vec<String> = Vec::new();
    for choice in choices {
        let choice = values::line("choices", &json!(choice))?;
        if choice.is_empty() || kept.contains(&choice) {
            return Err(CrmError::invalid(
                "choices",
                "must be distinct and not empty",
            ));
        }
        kept.push(choice);
    }
    Ok(json!(kept))
}

/// Defines a custom field.
pub fn create(conn: &Connection, new: &NewFieldDef) -> Result<FieldDef, CrmError> {
    checked_key(&new.key)?;
    let label = values::line("label", &json!(new.label))?;
    if label.is_empty() {
        return Err(CrmError::invalid("label", "may not be empty"));
    }
    let options = match new.kind {
        CustomKind::Select | CustomKind::MultiSelect => {
            json!({ "choices": checked_choices(&new.choices)? })
        }
        CustomKind::Money => {
            let currency = new.currency.as_deref().unwrap_or_default();
            values::to_sql(
                "currency",
                super::fields::FieldType::Currency,
                &json!(currency),
            )?;
            json!({ "currency": currency })
        }
        _ => json!({}),
    };
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM field_defs WHERE record_kind = ?1 AND deleted_at IS NULL",
        [new.record_kind.as_str()],
        |r| r.get(0),
    )?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_FIELDS {
        return Err(CrmError::Conflict(format!(
            "a kind of record may have at most {MAX_FIELDS} custom fields"
        )));
    }
    let id = super::new_id();
    let inserted = conn.execute(
        "INSERT INTO field_defs (id, record_kind, key, label, kind, options, position, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (record_kind, key) DO NOTHING",
        params![
            id,
            new.record_kind.as_str(),
            new.key,
            label,
            new.kind.as_str(),
            options.to_string(),
            count + 1,
            super::now()
        ],
    )?;
    if inserted == 0 {
        // Also when a removed definition had the key: its values are still in the records.
        return Err(CrmError::Conflict(format!(
            "the key {:?} is taken (keys of removed fields stay taken)",
            new.key
        )));
    }
    find(conn, &id)
}

/// Renames, re-orders or changes the choices of a definition.
pub fn change(conn: &Connection, id: &str, change: &FieldDefChange) -> Result<FieldDef, CrmError> {
    let mut def = find(conn, id)?;
    if let Some(label) = &change.label {
        let label = values::line("label", &json!(label))?;
        if label.is_empty() {
            return Err(CrmError::invalid("label", "may not be empty"));
        }
        def.label = label;
    }
    if let Some(choices) = &change.choices {
        if !matches!(def.kind, CustomKind::Select | CustomKind::MultiSelect) {
            return Err(CrmError::invalid("choices", "only selects have choices"));
        }
        def.options = json!({ "choices": checked_choices(choices)? });
    }
    if let Some(position) = change.position {
        def.position = position;
    }
    conn.execute(
        "UPDATE field_defs SET label = ?2, options = ?3, position = ?4, version = version + 1 WHERE id = ?1",
        params![id, def.label, def.options.to_string(), def.position],
    )?;
    find(conn, id)
}

/// Removes a definition; values stay in the records, unread, and its key stays taken.
/// Removing one already removed is done already.
pub fn remove(conn: &Connection, id: &str) -> Result<(), CrmError> {
    let found = conn.execute(
        "UPDATE field_defs SET deleted_at = coalesce(deleted_at, ?2) WHERE id = ?1",
        params![id, super::now()],
    )?;
    if found == 0 {
        return Err(CrmError::Missing("custom field"));
    }
    Ok(())
}

/// Checks the `custom` member of a write against the definitions, giving the checked values.
pub fn check_values(defs: &[FieldDef], given: &Value) -> Result<Map<String, Value>, CrmError> {
    let given = given
        .as_object()
        .ok_or_else(|| CrmError::invalid("custom", "must be an object"))?;
    let mut checked = Map::new();
    for (key, value) in given {
        let def = defs.iter().find(|d| &d.key == key).ok_or_else(|| {
            CrmError::invalid(
                &format!("custom.{key}"),
                "is not a custom field of this kind of record",
            )
        })?;
        checked.insert(key.clone(), def.check(value)?);
    }
    Ok(checked)
}

/// What clients see of a record's stored `custom` text: the values of live definitions.
pub fn visible(defs: &[FieldDef], stored: &str) -> Map<String, Value> {
    let stored: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
    defs.iter()
        .map(|d| {
            (
                d.key.clone(),
                stored.get(&d.key).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}
