//! The columns a table may show: a kind's built-in fields, its tags, when records were made
//! and changed, and its custom fields (`crm::custom::live`). Columns are named as the API's
//! export names them (`lifecycle_stage`, `custom.region`), so a table's choice is also its
//! export's. A cell is read from the record the list already holds, plus names the page
//! fetched once (users, pipelines): never a query per row.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::format::money;
use crate::crm::Kind;
use crate::crm::custom::{CustomKind, FieldDef};
use crate::crm::fields::FieldType;
use crate::crm::pipelines::Pipeline;

/// Fields a table never offers as columns: its name column is always there, and a company's
/// name would take a query of its own.
fn left_out(kind: Kind, name: &str) -> bool {
    let named = match kind {
        Kind::Contact => &["first_name", "last_name"][..],
        Kind::Company => &["name"][..],
        Kind::Deal => &["title"][..],
        Kind::Activity => &["subject"][..],
    };
    name == "company_id" || named.contains(&name)
}

/// One column a table may show.
#[derive(Debug, Clone)]
pub struct Column {
    /// The export's name of it.
    pub name: String,
    pub label: String,
    how: How,
}

#[derive(Debug, Clone)]
enum How {
    Field(FieldType),
    Time,
    Tags,
    Custom(FieldDef),
}

/// One cell: text, and the moment it names when it is one (for `<time datetime>`).
pub struct Cell {
    pub text: String,
    pub time: Option<String>,
}

/// What turns ids into names on a page: users' e-mail addresses, pipelines and stages.
#[derive(Default)]
pub struct Names {
    pub users: HashMap<String, String>,
    pub pipelines: Vec<Pipeline>,
}

fn label_of(name: &str) -> String {
    let known = match name {
        "emails" => "E-mail",
        "phones" => "Phone",
        "owner_id" => "Owner",
        "stage_id" => "Stage",
        "pipeline_id" => "Pipeline",
        "lifecycle_stage" => "Lifecycle stage",
        "expected_close" => "Expected close",
        "updated_at" => "Updated",
        "created_at" => "Created",
        "stage_entered_at" => "In stage since",
        "closed_at" => "Closed",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// Every column `kind` may show, in the order a table shows them.
pub fn all(kind: Kind, defs: &[FieldDef]) -> Vec<Column> {
    let mut columns: Vec<Column> = kind
        .fields()
        .iter()
        .filter(|f| !left_out(kind, f.name))
        .map(|f| Column {
            name: f.name.to_owned(),
            label: label_of(f.name),
            how: if f.ty == FieldType::Time {
                How::Time
            } else {
                How::Field(f.ty)
            },
        })
        .collect();
    if kind.tagged() {
        columns.push(Column {
            name: "tags".into(),
            label: "Tags".into(),
            how: How::Tags,
        });
    }
    columns.extend(defs.iter().map(|d| Column {
        name: format!("custom.{}", d.key),
        label: d.label.clone(),
        how: How::Custom(d.clone()),
    }));
    columns.extend(["created_at", "updated_at"].map(|name| Column {
        name: name.to_owned(),
        label: label_of(name),
        how: How::Time,
    }));
    columns
}

/// The columns named (in the order of `all`), of those there are; none named or none left:
/// `defaults`.
pub fn chosen(all: &[Column], names: &[String], defaults: &[&str]) -> Vec<Column> {
    let pick = |wanted: &dyn Fn(&str) -> bool| -> Vec<Column> {
        all.iter().filter(|c| wanted(&c.name)).cloned().collect()
    };
    let given = pick(&|name| names.iter().any(|n| n == name));
    if given.is_empty() {
        pick(&|name| defaults.contains(&name))
    } else {
        given
    }
}

fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => if *b { "Yes" } else { "No" }.to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| text_of(Some(i)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

fn plain(text: String) -> Cell {
    Cell { text, time: None }
}

/// The cell of `column` for the record `body`.
pub fn cell(column: &Column, body: &Map<String, Value>, names: &Names) -> Cell {
    let value = body.get(&column.name);
    let id = value.and_then(Value::as_str).unwrap_or_default();
    match &column.how {
        How::Time | How::Field(FieldType::Date) if !id.is_empty() => Cell {
            text: id.to_owned(),
            time: Some(id.to_owned()),
        },
        How::Tags => plain(text_of(body.get("tags"))),
        How::Custom(def) => {
            let value = body.get("custom").and_then(|c| c.get(&def.key));
            match (def.kind, value.and_then(Value::as_i64)) {
                (CustomKind::Money, Some(minor)) => {
                    let code = def.options["currency"].as_str().unwrap_or("USD");
                    plain(format!("{} {code}", money(minor, code)))
                }
                _ => plain(text_of(value)),
            }
        }
        How::Field(FieldType::Money) => plain(value.and_then(Value::as_i64).map_or_else(
            String::new,
            |minor| {
                let code = body
                    .get("currency")
                    .and_then(Value::as_str)
                    .unwrap_or("USD");
                format!("{} {code}", money(minor, code))
            },
        )),
        How::Field(FieldType::User) => plain(
            names
                .users
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_owned()),
        ),
        How::Field(FieldType::Pipeline) => plain(
            names
                .pipelines
                .iter()
                .find(|p| p.id == id)
                .map_or_else(|| id.to_owned(), |p| p.name.clone()),
        ),
        How::Field(FieldType::Stage) => plain(
            names
                .pipelines
                .iter()
                .flat_map(|p| &p.stages)
                .find(|s| s.id == id)
                .map_or_else(|| id.to_owned(), |s| s.name.clone()),
        ),
        How::Field(FieldType::Percent) if value.is_some_and(Value::is_number) => {
            plain(format!("{} %", text_of(value)))
        }
        _ => plain(text_of(value)),
    }
}

/// Whether any of `columns` names a user (then the page needs the users' addresses).
pub fn names_users(columns: &[Column]) -> bool {
    columns
        .iter()
        .any(|c| matches!(c.how, How::Field(FieldType::User)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_or_no_columns_fall_back_to_the_defaults() {
        let all = all(Kind::Contact, &[]);
        let names = |cols: Vec<Column>| cols.into_iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(
            names(chosen(&all, &["nope".into()], &["emails", "updated_at"])),
            ["emails", "updated_at"]
        );
        assert_eq!(
            names(chosen(&all, &["source".into(), "emails".into()], &[])),
            ["emails", "source"]
        );
        assert!(all.iter().all(|c| c.name != "company_id"));
        assert!(
            all.iter().any(|c| c.name == "title"),
            "a contact's job title"
        );
        assert_eq!(label_of("lifecycle_stage"), "Lifecycle stage");
        assert_eq!(label_of("industry"), "Industry");
    }
}
