//! What a table shows, as its address says it: `q`, `stage`, `sort`, `columns=a,b,c`, or a
//! saved `view`; the page after `cursor`; and `done`, the word a form left on its way back.
//! The same words come back in the forms that post from a table (`back`), so a post returns
//! to the table as it was.

use serde_json::Value;

use super::chrome::query_escape;
use crate::crm::Kind;
use crate::crm::fields::LIFECYCLE_STAGES;
use crate::crm::list::{Filter, Op};
use crate::crm::views::View;
use crate::error::{ApiError, ErrorCode};

/// One kind's table.
pub struct Table {
    pub kind: Kind,
    pub title: &'static str,
    pub plural: &'static str,
    pub noun: &'static str,
    /// Where the table lives, after the tenant's base.
    pub path: &'static str,
    /// The field the search box filters by its beginning (`starts_with`, which the index of
    /// a name the table is sorted by finds at once), and its label.
    pub q: (&'static str, &'static str),
    /// The sorts offered: the list's field names and their labels; the first is the default.
    pub sorts: &'static [(&'static str, &'static str)],
    /// The columns shown when none are chosen.
    pub defaults: &'static [&'static str],
    /// The fields the name column shows (and an export starts with).
    pub named: &'static [&'static str],
    /// What the stage select filters: a lifecycle stage, or a deal's stage.
    pub stage_field: &'static str,
}

const SORTS: [(&str, &str); 2] = [
    ("-updated_at", "Recently changed"),
    ("-created_at", "Newest"),
];

pub const CONTACTS: Table = Table {
    kind: Kind::Contact,
    title: "Contacts",
    plural: "contacts",
    noun: "contact",
    path: "/contacts",
    q: ("last_name", "Last name starts with"),
    sorts: &[("last_name", "Last name"), SORTS[0], SORTS[1]],
    defaults: &["emails", "title", "lifecycle_stage", "updated_at"],
    named: &["first_name", "last_name"],
    stage_field: "lifecycle_stage",
};

pub const COMPANIES: Table = Table {
    kind: Kind::Company,
    title: "Companies",
    plural: "companies",
    noun: "company",
    path: "/companies",
    q: ("name", "Name starts with"),
    sorts: &[("name", "Name"), SORTS[0], SORTS[1]],
    defaults: &["domain", "industry", "lifecycle_stage", "updated_at"],
    named: &["name"],
    stage_field: "lifecycle_stage",
};

pub const DEALS: Table = Table {
    kind: Kind::Deal,
    title: "Deals",
    plural: "deals",
    noun: "deal",
    path: "/deals/table",
    q: ("title", "Title starts with"),
    sorts: &[
        ("title", "Title"),
        SORTS[0],
        SORTS[1],
        ("expected_close", "Expected close"),
        ("-amount", "Largest amount"),
    ],
    defaults: &[
        "stage_id",
        "amount",
        "status",
        "expected_close",
        "updated_at",
    ],
    named: &["title"],
    stage_field: "stage_id",
};

/// The table of `kind`, if it has one.
pub fn table_of(kind: Kind) -> Option<&'static Table> {
    match kind {
        Kind::Contact => Some(&CONTACTS),
        Kind::Company => Some(&COMPANIES),
        Kind::Deal => Some(&DEALS),
        Kind::Activity => None,
    }
}

/// A table's address, read.
#[derive(Debug, Default, Clone)]
pub struct State {
    pub q: String,
    pub stage: String,
    pub sort: String,
    pub columns: Vec<String>,
    /// Only the records of this company (a company's page links here for all of them).
    pub company: String,
    pub view: Option<String>,
    pub cursor: Option<String>,
    pub done: Option<String>,
    /// `columns` came as one field per column (the column form's checkboxes): the page
    /// answers with the address that names them in one.
    pub scattered: bool,
}

impl State {
    /// Reads the address's fields; a field a table does not take is refused.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut state = State::default();
        let mut column_fields = 0;
        for (name, value) in pairs {
            let value = value.clone();
            match name.as_str() {
                "q" => state.q = value,
                "stage" => state.stage = value,
                "sort" => state.sort = value,
                "company" => state.company = value,
                "columns" => {
                    column_fields += 1;
                    state.columns.extend(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|c| !c.is_empty())
                            .map(str::to_owned),
                    );
                }
                "view" if !value.is_empty() => state.view = Some(value),
                "view" => {}
                "cursor" => state.cursor = Some(value),
                "done" => state.done = Some(value),
                other => {
                    return Err(ApiError::with_message(
                        ErrorCode::InvalidInput,
                        format!("{other}: not something a table takes."),
                    ));
                }
            }
        }
        state.scattered = column_fields > 1;
        Ok(state)
    }

    /// Reads a form's `back`, the query of the table it came from.
    pub fn from_back(back: &str) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(back.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self::parse(&pairs)
    }

    /// The query that shows this table again (the first page, no message): the view alone
    /// when one is applied.
    pub fn query(&self) -> String {
        if let Some(view) = &self.view {
            return format!("view={}", query_escape(view));
        }
        let mut parts = Vec::new();
        for (name, value) in [
            ("q", &self.q),
            ("stage", &self.stage),
            ("sort", &self.sort),
            ("company", &self.company),
        ] {
            if !value.is_empty() {
                parts.push(format!("{name}={}", query_escape(value)));
            }
        }
        if !self.columns.is_empty() {
            parts.push(format!("columns={}", columns_query(&self.columns)));
        }
        parts.join("&")
    }
}

/// Column names for an address, commas between them as they are (`columns=a,b,c`).
pub fn columns_query(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| query_escape(c))
        .collect::<Vec<_>>()
        .join(",")
}

/// What a table lists: its filters, sort and columns, from a saved view when one is applied
/// (and then the search box and stage select show what the view's filters say).
pub struct Resolved {
    pub filters: Vec<Filter>,
    pub sort: String,
    pub columns: Vec<String>,
    pub q: String,
    pub stage: String,
}

/// The filters, sort and columns of `state` (or of `view`, when it is applied).
pub fn resolve(table: &Table, state: &State, view: Option<&View>) -> Resolved {
    let Some(view) = view else {
        let sort = if table.sorts.iter().any(|(s, _)| *s == state.sort) {
            state.sort.clone()
        } else {
            table.sorts[0].0.to_owned()
        };
        return Resolved {
            filters: filters_of(table, state),
            sort,
            columns: state.columns.clone(),
            q: state.q.clone(),
            stage: state.stage.clone(),
        };
    };
    let said = |field: &str, op: Op| {
        view.filters
            .iter()
            .find(|f| f.field == field && f.op == op)
            .and_then(|f| f.value.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    Resolved {
        filters: view.filters.clone(),
        sort: view
            .sort
            .clone()
            .unwrap_or_else(|| table.sorts[0].0.to_owned()),
        columns: view.columns.clone(),
        q: said(table.q.0, Op::StartsWith),
        stage: said(table.stage_field, Op::Eq),
    }
}

/// The filters of the search box, the stage select and the company the table is limited to.
fn filters_of(table: &Table, asked: &State) -> Vec<Filter> {
    let (q, stage) = (asked.q.as_str(), asked.stage.as_str());
    let mut filters = Vec::new();
    if table.kind != Kind::Company && crate::crm::is_id(&asked.company) {
        filters.push(Filter {
            field: "company_id".to_owned(),
            op: Op::Eq,
            value: Value::String(asked.company.clone()),
        });
    }
    if !q.trim().is_empty() {
        filters.push(Filter {
            field: table.q.0.to_owned(),
            op: Op::StartsWith,
            value: Value::String(q.trim().to_owned()),
        });
    }
    let stage_ok = if table.kind == Kind::Deal {
        !stage.is_empty()
    } else {
        LIFECYCLE_STAGES.contains(&stage)
    };
    if stage_ok {
        filters.push(Filter {
            field: table.stage_field.to_owned(),
            op: Op::Eq,
            value: Value::String(stage.to_owned()),
        });
    }
    filters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn columns_from_checkboxes_gather_into_one_field() {
        let state = State::parse(&pairs(&[
            ("q", "ad a"),
            ("columns", "emails"),
            ("columns", "source"),
        ]))
        .unwrap();
        assert!(state.scattered);
        assert_eq!(state.query(), "q=ad%20a&columns=emails,source");
        let again = State::from_back(&state.query()).unwrap();
        assert!(!again.scattered);
        assert_eq!(again.columns, ["emails", "source"]);
        assert!(State::parse(&pairs(&[("nope", "1")])).is_err());
    }

    #[test]
    fn a_wrong_stage_or_sort_is_left_out() {
        let state = State::parse(&pairs(&[("stage", "pirate"), ("sort", "x")])).unwrap();
        let resolved = resolve(&CONTACTS, &state, None);
        assert!(resolved.filters.is_empty());
        assert_eq!(resolved.sort, "last_name");
    }
}
