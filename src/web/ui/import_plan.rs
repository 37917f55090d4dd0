//! The import wizard's plan as a form: a select per column of the file (the field it fills,
//! as matched from the header or as chosen before), what a duplicate gets, and the field rows
//! are matched on — and back from the posted form to the API's `Plan`.

use std::collections::BTreeMap;

use crate::crm::custom::FieldDef;
use crate::crm::fields::Writable;
use crate::crm::import::columns::{Mapping, key_for};
use crate::crm::import::{Duplicates, Import, Plan, Preview};
use crate::crm::{CrmError, Kind};

/// An option of a select, chosen or not.
#[derive(Debug)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }
}

/// One column of the file: its header, a few of its values, and the fields it may fill.
#[derive(Debug)]
pub struct ColumnRow {
    pub index: usize,
    pub header: String,
    pub samples: String,
    pub options: Vec<Choice>,
}

/// `first_name` → "First name".
fn label_of(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The rows of the plan's form: each column's target is the plan's where it names the column,
/// else the one matched from its header.
pub fn column_rows(import: &Import, preview: &Preview, defs: &[FieldDef]) -> Vec<ColumnRow> {
    let kind = import.record_kind;
    let mut targets: Vec<(String, String)> = vec![(String::new(), "Leave out".into())];
    targets.extend(
        kind.fields()
            .iter()
            .filter(|f| f.writable != Writable::Never)
            .map(|f| (f.name.to_owned(), label_of(f.name))),
    );
    if kind.tagged() {
        targets.push(("tags".into(), "Tags".into()));
    }
    targets.push(("id".into(), "Holdfast id".into()));
    targets.extend(
        defs.iter()
            .map(|d| (format!("custom.{}", d.key), format!("{} (custom)", d.label))),
    );
    preview
        .header
        .iter()
        .enumerate()
        .map(|(index, header)| {
            let chosen = match import.plan.mapping.columns.get(header) {
                Some(given) => given.clone().unwrap_or_default(),
                None => preview
                    .columns
                    .get(index)
                    .cloned()
                    .flatten()
                    .unwrap_or_default(),
            };
            let mut options: Vec<Choice> = targets
                .iter()
                .map(|(value, label)| Choice::new(value, label, *value == chosen))
                .collect();
            let new_key = format!("custom.{}", key_for(header));
            if !targets.iter().any(|(value, _)| *value == new_key) {
                let selected = new_key == chosen;
                options.push(Choice::new(new_key, "A new custom field", selected));
            }
            let samples = preview
                .sample
                .iter()
                .filter_map(|row| row.get(index))
                .filter(|v| !v.is_empty())
                .take(3)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" · ");
            ColumnRow {
                index,
                header: header.clone(),
                samples,
                options,
            }
        })
        .collect()
}

const DUPLICATES: &[(Duplicates, &str, &str)] = &[
    (Duplicates::Skip, "skip", "Skip the row"),
    (
        Duplicates::Update,
        "update",
        "Update the record with the row's values",
    ),
    (Duplicates::Create, "create", "Create a record all the same"),
];

pub fn duplicate_choices(chosen: Duplicates) -> Vec<Choice> {
    DUPLICATES
        .iter()
        .map(|(policy, value, label)| Choice::new(*value, *label, *policy == chosen))
        .collect()
}

/// The fields rows may be matched on: the kind's natural key, the Holdfast id, a custom
/// field (an id from another system).
pub fn match_choices(kind: Kind, defs: &[FieldDef], chosen: Option<&str>) -> Vec<Choice> {
    let natural = match kind {
        Kind::Contact => "E-mail",
        Kind::Company => "Domain",
        _ => "Holdfast id",
    };
    let mut choices = vec![Choice::new("", natural, chosen.is_none())];
    if kind != Kind::Deal {
        choices.push(Choice::new("id", "Holdfast id", chosen == Some("id")));
    }
    choices.extend(defs.iter().map(|d| {
        let value = format!("custom.{}", d.key);
        let selected = chosen == Some(value.as_str());
        Choice::new(value, format!("{} (custom)", d.label), selected)
    }));
    choices
}

/// The plan a posted form asks for: `column.<i>` per column of the file (empty: leave it
/// out), `duplicates`, `match_on` (empty: the kind's natural key).
pub fn plan_of(import: &Import, form: &[(String, String)]) -> Result<Plan, CrmError> {
    let mut columns = BTreeMap::new();
    let mut duplicates = Duplicates::default();
    let mut match_on = None;
    for (name, value) in form {
        if let Some(index) = name.strip_prefix("column.") {
            let header = index
                .parse::<usize>()
                .ok()
                .and_then(|i| import.header.get(i))
                .ok_or_else(|| CrmError::invalid("mapping", "names a column the file lacks"))?;
            let target = (!value.is_empty()).then(|| value.clone());
            columns.insert(header.clone(), target);
        } else if name == "duplicates" {
            duplicates = DUPLICATES
                .iter()
                .find(|(_, v, _)| v == value)
                .map(|(policy, _, _)| *policy)
                .ok_or_else(|| CrmError::invalid("duplicates", "must be skip, update or create"))?;
        } else if name == "match_on" && !value.is_empty() {
            match_on = Some(value.clone());
        }
    }
    Ok(Plan {
        mapping: Mapping {
            columns,
            unmatched: crate::crm::import::columns::Unmatched::Ignore,
        },
        duplicates,
        match_on,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_words() {
        assert_eq!(label_of("first_name"), "First name");
        assert_eq!(label_of("emails"), "Emails");
        assert_eq!(label_of(""), "");
    }
}
