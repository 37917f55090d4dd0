//! Which field each column of a file fills: matched from the header (the field's own name,
//! the names other CRMs and spreadsheets use, a custom field's key or label — ignoring case,
//! accents, spaces and punctuation), or as the caller maps it.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::crm::custom::FieldDef;
use crate::crm::fields::{Field, Writable};
use crate::crm::{CrmError, Kind};

/// What one column fills.
#[derive(Debug, Clone)]
pub enum Target {
    Field(&'static Field),
    /// A custom field, by key.
    Custom(String),
    Tags,
    /// The record's Holdfast id (to update records by id, as an exported file names them).
    Id,
    Ignore,
}

impl PartialEq for Target {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Target {}

impl Target {
    /// How the API and the plan name it: `first_name`, `custom.plan`, `tags`, `id`, or null.
    pub fn name(&self) -> Option<String> {
        match self {
            Target::Field(f) => Some(f.name.to_owned()),
            Target::Custom(key) => Some(format!("custom.{key}")),
            Target::Tags => Some("tags".into()),
            Target::Id => Some("id".into()),
            Target::Ignore => None,
        }
    }

    /// Reads a name given by a caller. `custom.<key>` of no existing field asks for a new
    /// text field.
    pub fn parse(kind: Kind, name: Option<&str>) -> Result<Target, CrmError> {
        let Some(name) = name else {
            return Ok(Target::Ignore);
        };
        if let Some(key) = name.strip_prefix("custom.") {
            return Ok(Target::Custom(key.to_owned()));
        }
        match name {
            "tags" if kind.tagged() => Ok(Target::Tags),
            "id" => Ok(Target::Id),
            _ => match kind.field(name) {
                Some(f) if f.writable != Writable::Never => Ok(Target::Field(f)),
                _ => Err(CrmError::invalid(
                    "mapping",
                    format!("\"{name}\" is not a field a {kind} import can fill"),
                )),
            },
        }
    }

    /// Whether more than one column may fill it (the values add up).
    pub fn takes_many(&self) -> bool {
        matches!(self, Target::Tags)
            || matches!(self, Target::Field(f) if matches!(f.ty, crate::crm::fields::FieldType::Emails | crate::crm::fields::FieldType::Phones))
    }
}

/// What the caller says of the columns: a target per header name (null: ignore), and what
/// happens to the columns nothing matches.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Header name → `first_name`, `custom.<key>`, `tags`, `id`, or null to ignore the
    /// column. Columns not named here are matched by their header.
    #[serde(default)]
    pub columns: std::collections::BTreeMap<String, Option<String>>,
    /// What columns that match nothing become: `ignore` (the default) or `custom` (a new
    /// text custom field each, labelled with the header).
    #[serde(default)]
    pub unmatched: Unmatched,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Unmatched {
    #[default]
    Ignore,
    Custom,
}

/// The target of each column of `header`.
pub fn targets(
    kind: Kind,
    header: &[String],
    defs: &[FieldDef],
    mapping: &Mapping,
) -> Result<Vec<Target>, CrmError> {
    for name in mapping.columns.keys() {
        if !header.iter().any(|h| h == name) {
            return Err(CrmError::invalid(
                "mapping",
                format!("the file has no column \"{name}\""),
            ));
        }
    }
    let mut targets = Vec::with_capacity(header.len());
    for column in header {
        let target = match mapping.columns.get(column) {
            Some(given) => Target::parse(kind, given.as_deref())?,
            None => match matched(kind, column, defs) {
                Target::Ignore
                    if mapping.unmatched == Unmatched::Custom
                        && !super::REJECT_COLUMNS.contains(&column.as_str()) =>
                {
                    Target::Custom(key_for(column))
                }
                found => found,
            },
        };
        let repeated =
            target != Target::Ignore && !target.takes_many() && targets.contains(&target);
        targets.push(if repeated { Target::Ignore } else { target });
    }
    Ok(targets)
}

/// The field a header names, if any.
pub fn matched(kind: Kind, header: &str, defs: &[FieldDef]) -> Target {
    if let Some(key) = header.strip_prefix("custom.")
        && defs.iter().any(|d| d.key == key)
    {
        return Target::Custom(key.to_owned());
    }
    if super::REJECT_COLUMNS.contains(&header) {
        return Target::Ignore;
    }
    let wanted = folded(header);
    // "Email 2", "Phone (work)": a list field's numbered or qualified columns.
    let bare = wanted.trim_end_matches(|c: char| c.is_ascii_digit());
    if wanted == "id" || wanted == "holdfastid" {
        return Target::Id;
    }
    if kind.tagged() && ["tags", "tag", "labels", "label"].contains(&bare) {
        return Target::Tags;
    }
    for field in kind.fields() {
        if field.writable == Writable::Never {
            continue;
        }
        if folded(field.name) == wanted
            || synonyms(kind, field.name)
                .iter()
                .any(|s| *s == wanted || *s == bare)
        {
            return Target::Field(field);
        }
    }
    for def in defs {
        if folded(&def.key) == wanted || folded(&def.label) == wanted {
            return Target::Custom(def.key.clone());
        }
    }
    Target::Ignore
}

/// Lower case, accents gone, letters and digits only: "E-mail Address" → "emailaddress".
pub fn folded(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A custom field key made from a header: lower case, `_` between words.
pub fn key_for(header: &str) -> String {
    let mut key = String::new();
    for c in header
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
    {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    let key = key.trim_end_matches('_');
    let key = if key.starts_with(|c: char| c.is_ascii_digit()) || key.is_empty() {
        format!("field_{key}")
    } else {
        key.to_owned()
    };
    key.chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('_')
        .to_owned()
}

/// The names spreadsheets and other CRMs give a field, folded.
fn synonyms(kind: Kind, field: &str) -> &'static [&'static str] {
    match (kind, field) {
        (_, "first_name") => &[
            "first",
            "firstname",
            "givenname",
            "forename",
            "vorname",
            "prenom",
        ],
        (_, "last_name") => &[
            "last",
            "lastname",
            "surname",
            "familyname",
            "nachname",
            "nom",
        ],
        (_, "emails") => &[
            "email",
            "emails",
            "emailaddress",
            "mail",
            "workemail",
            "primaryemail",
            "personalemail",
        ],
        (_, "phones") => &[
            "phone",
            "phones",
            "phonenumber",
            "mobile",
            "mobilephone",
            "cell",
            "cellphone",
            "telephone",
            "tel",
            "workphone",
            "homephone",
        ],
        (_, "title") if kind == Kind::Contact => &["jobtitle", "position", "function"],
        (Kind::Deal, "title") => &["name", "dealname", "deal", "opportunity", "opportunityname"],
        (Kind::Company, "name") => &[
            "company",
            "companyname",
            "organization",
            "organisation",
            "account",
            "accountname",
        ],
        (_, "company_id") => &[
            "company",
            "companyname",
            "organization",
            "organisation",
            "account",
            "accountname",
            "employer",
        ],
        (_, "owner_id") => &[
            "owner",
            "owneremail",
            "contactowner",
            "dealowner",
            "companyowner",
            "assignedto",
            "salesrep",
        ],
        (_, "lifecycle_stage") => &["stage", "lifecycle", "lifecyclestage", "leadstatus"],
        (_, "source") => &["leadsource", "origin", "channel"],
        (_, "domain") => &["companydomain", "domainname"],
        (_, "industry") => &["sector", "vertical"],
        (_, "size") => &["companysize", "employees", "numberofemployees", "headcount"],
        (Kind::Company, "phone") => &["phonenumber", "telephone", "tel", "mainphone"],
        (_, "address") => &["streetaddress", "billingaddress", "location", "fulladdress"],
        (_, "website") => &["url", "web", "homepage", "site", "websiteurl"],
        (_, "amount") => &["value", "dealvalue", "dealamount", "price", "revenue"],
        (_, "currency") => &["currencycode"],
        (_, "pipeline_id") => &["pipeline", "pipelinename"],
        (_, "stage_id") => &["stage", "dealstage", "stagename"],
        (_, "lost_reason") => &["reasonlost", "lossreason"],
        (_, "expected_close") => &[
            "closedate",
            "expectedclosedate",
            "closingdate",
            "expectedclose",
        ],
        (_, "probability") => &["winprobability", "probabilitypercent"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(kind: Kind, header: &[&str]) -> Vec<Option<String>> {
        let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        targets(kind, &header, &[], &Mapping::default())
            .expect("maps")
            .iter()
            .map(Target::name)
            .collect()
    }

    #[test]
    fn headers_match_fields_whatever_their_case_accents_and_punctuation() {
        assert_eq!(
            names(
                Kind::Contact,
                &[
                    "Prénom",
                    "LAST NAME",
                    "E-mail Address",
                    "Email 2",
                    "Job Title",
                    "Company",
                    "Tags",
                    "Shoe size"
                ]
            ),
            [
                Some("first_name".into()),
                Some("last_name".into()),
                Some("emails".into()),
                Some("emails".into()),
                Some("title".into()),
                Some("company_id".into()),
                Some("tags".into()),
                None
            ]
        );
        assert_eq!(
            names(Kind::Deal, &["Deal Name", "Value", "Stage", "Close date"]),
            [
                Some("title".into()),
                Some("amount".into()),
                Some("stage_id".into()),
                Some("expected_close".into())
            ]
        );
    }

    #[test]
    fn a_single_field_is_filled_by_its_first_column_only() {
        assert_eq!(
            names(Kind::Company, &["Name", "Company name"]),
            [Some("name".into()), None]
        );
    }

    #[test]
    fn a_mapping_overrides_and_unmatched_columns_can_become_custom_fields() {
        let header = vec![
            "Vorname".to_owned(),
            "Shoe size".to_owned(),
            "Mail".to_owned(),
        ];
        let mapping = Mapping {
            columns: [("Mail".to_owned(), None)].into_iter().collect(),
            unmatched: Unmatched::Custom,
        };
        let got: Vec<_> = targets(Kind::Contact, &header, &[], &mapping)
            .expect("maps")
            .iter()
            .map(Target::name)
            .collect();
        assert_eq!(
            got,
            [
                Some("first_name".into()),
                Some("custom.shoe_size".into()),
                None
            ]
        );
        let bad = Mapping {
            columns: [("Nope".to_owned(), None)].into_iter().collect(),
            unmatched: Unmatched::Ignore,
        };
        assert!(targets(Kind::Contact, &header, &[], &bad).is_err());
    }
}
