//! Lists as files: the columns of an export, and each record as a CSV row that an import
//! reads back to the same record — amounts in major units, lists joined with `; `, a
//! company, pipeline or stage by its name, an owner by e-mail address. A cell a spreadsheet
//! would take for a formula (`=`, `+`, `-`, `@` first) is written after a `'`, which an
//! import takes off again.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::Value;

use super::custom::{CustomKind, FieldDef};
use super::fields::{Field, FieldType};
use super::pipelines::Pipeline;
use super::records::Record;
use super::{CrmError, Kind, currency};

/// Records read from the database per chunk of an export.
pub const CHUNK: usize = 500;

/// One column of an export.
#[derive(Debug, Clone)]
pub enum Column {
    Id,
    Field(&'static Field),
    Custom(FieldDef),
    Tags,
    /// `created_at`, `updated_at`, `created_by`, `updated_by`, `version`, `deleted_at`.
    System(&'static str),
}

const SYSTEM: [&str; 6] = [
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "version",
    "deleted_at",
];

impl Column {
    /// Its header: the field's name, or (for a reference written as a name) what an import
    /// matches it by: `company`, `owner`, `pipeline`, `stage`.
    pub fn header(&self) -> String {
        match self {
            Column::Id => "id".into(),
            Column::Field(f) => match f.ty {
                FieldType::Company => "company".into(),
                FieldType::User if f.name == "owner_id" => "owner".into(),
                FieldType::User => f.name.trim_end_matches("_id").into(),
                FieldType::Pipeline => "pipeline".into(),
                FieldType::Stage => "stage".into(),
                _ => f.name.into(),
            },
            Column::Custom(def) => format!("custom.{}", def.key),
            Column::Tags => "tags".into(),
            Column::System(name) => (*name).into(),
        }
    }

    fn parse(kind: Kind, defs: &[FieldDef], name: &str) -> Option<Column> {
        if let Some(key) = name.strip_prefix("custom.") {
            return defs
                .iter()
                .find(|d| d.key == key)
                .map(|d| Column::Custom(d.clone()));
        }
        match name {
            "id" => Some(Column::Id),
            "tags" if kind.tagged() => Some(Column::Tags),
            _ => kind.field(name).map(Column::Field).or_else(|| {
                SYSTEM
                    .iter()
                    .find(|s| **s == name)
                    .map(|s| Column::System(s))
            }),
        }
    }
}

/// The columns asked for (comma-separated names), or all of them: the id, every field,
/// every custom field, tags, and when records were made and changed.
pub fn columns(
    kind: Kind,
    defs: &[FieldDef],
    given: Option<&str>,
) -> Result<Vec<Column>, CrmError> {
    let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else {
        let mut all = vec![Column::Id];
        all.extend(kind.fields().iter().map(Column::Field));
        all.extend(defs.iter().cloned().map(Column::Custom));
        if kind.tagged() {
            all.push(Column::Tags);
        }
        all.extend(["created_at", "updated_at"].map(Column::System));
        return Ok(all);
    };
    given
        .split(',')
        .map(|name| {
            Column::parse(kind, defs, name.trim()).ok_or_else(|| {
                CrmError::invalid(
                    "columns",
                    format!("{} is not a column of a {kind}", name.trim()),
                )
            })
        })
        .collect()
}

/// What turns ids into the names a file shows: users' e-mail addresses, companies' names,
/// pipelines and stages.
#[derive(Debug, Default)]
pub struct Names {
    pub users: HashMap<String, String>,
    pub pipelines: Vec<Pipeline>,
    /// Companies of the chunk being written (see [`Names::companies_of`]).
    companies: HashMap<String, String>,
}

impl Names {
    pub fn new(users: HashMap<String, String>, pipelines: Vec<Pipeline>) -> Self {
        Self {
            users,
            pipelines,
            companies: HashMap::new(),
        }
    }

    /// Reads the names of the companies `records` name (one query a chunk).
    pub fn companies_of(&mut self, conn: &Connection, records: &[Record]) -> Result<(), CrmError> {
        let ids: Vec<&str> = records
            .iter()
            .filter_map(|r| r.body.get("company_id").and_then(Value::as_str))
            .collect();
        self.companies.clear();
        if ids.is_empty() {
            return Ok(());
        }
        let mut stmt = conn.prepare_cached(
            "SELECT id, name FROM companies WHERE id IN (SELECT value FROM json_each(?1))",
        )?;
        let rows = stmt.query_map([serde_json::to_string(&ids).unwrap_or_default()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (id, name) = row?;
            self.companies.insert(id, name);
        }
        Ok(())
    }
}

/// The CSV cells of `record` for `columns`.
pub fn row(record: &Record, columns: &[Column], names: &Names) -> Vec<String> {
    columns
        .iter()
        .map(|column| guard(cell(record, column, names)))
        .collect()
}

fn cell(record: &Record, column: &Column, names: &Names) -> String {
    let body = &record.body;
    match column {
        Column::Id => record.id.clone(),
        Column::Tags => list(body.get("tags")),
        Column::System(name) => text(body.get(*name)),
        Column::Custom(def) => {
            let value = body.get("custom").and_then(|c| c.get(&def.key));
            match (def.kind, value) {
                (CustomKind::Money, Some(Value::Number(n))) => {
                    let code = def.options["currency"].as_str().unwrap_or("USD");
                    major(n.as_i64().unwrap_or_default(), code)
                }
                (CustomKind::MultiSelect, v) => list(v),
                (_, v) => text(v),
            }
        }
        Column::Field(field) => {
            let value = body.get(field.name);
            let id = value.and_then(Value::as_str).unwrap_or_default();
            match field.ty {
                FieldType::Emails | FieldType::Phones => list(value),
                FieldType::Money => match value.and_then(Value::as_i64) {
                    Some(minor) => major(
                        minor,
                        body.get("currency")
                            .and_then(Value::as_str)
                            .unwrap_or("USD"),
                    ),
                    None => String::new(),
                },
                FieldType::Company => names.companies.get(id).cloned().unwrap_or_default(),
                FieldType::User => names.users.get(id).cloned().unwrap_or_else(|| id.into()),
                FieldType::Pipeline => names
                    .pipelines
                    .iter()
                    .find(|p| p.id == id)
                    .map_or_else(|| id.into(), |p| p.name.clone()),
                FieldType::Stage => names
                    .pipelines
                    .iter()
                    .flat_map(|p| &p.stages)
                    .find(|s| s.id == id)
                    .map_or_else(|| id.into(), |s| s.name.clone()),
                _ => text(value),
            }
        }
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn list(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| text(Some(i)))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// Minor units as an amount in major units: 125050 USD → "1250.50".
fn major(minor: i64, code: &str) -> String {
    let digits = u32::from(currency::minor_digits(code).unwrap_or(2));
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = digits as usize
    )
}

/// A cell a spreadsheet would run as a formula, written as text.
fn guard(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The cell as written before [`guard`]: an import's reading of an exported cell.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_go_out_in_major_units_and_formulas_as_text() {
        assert_eq!(major(125_050, "USD"), "1250.50");
        assert_eq!(major(-5, "EUR"), "-0.05");
        assert_eq!(major(5000, "JPY"), "5000");
        assert_eq!(major(1_234_567, "KWD"), "1234.567");
        assert_eq!(guard("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("+1 555 0100".into()), "'+1 555 0100");
        assert_eq!(guard("Ada".into()), "Ada");
        assert_eq!(unguard("'+1 555 0100"), "+1 555 0100");
        assert_eq!(unguard("'quoted"), "'quoted");
        assert_eq!(
            crate::crm::import::convert::minor_units(&major(125_050, "USD"), 2),
            Some(125_050)
        );
    }
}
