//! The tables' bulk form: the rows checked (`ids`, one field each — the checkboxes sit in the
//! table and belong to this form by their `form` attribute) and one change, applied by the
//! API's own bulk change (`tenant::bulk_change`, `crm::bulk::apply`): one transaction, all
//! or nothing, each record checked as a change of one would be. A member may trash only
//! their own records; one that is not refuses the whole change. Back to the table with how
//! many changed.

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::chrome::query_escape;
use super::list_query::{State, Table, table_of};
use super::see_other;
use crate::crm::Kind;
use crate::crm::bulk::Bulk;
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{TenantSession, bulk_change};

endpoints! { area: Area::TenantApp;
    POST "/bulk/contacts" => contacts, Access::Tenant(Role::Member), 303,
        "Change or trash the contacts checked (`ids`): `action` owner, lifecycle_stage, add_tag, remove_tag or delete; back to the table with how many changed",
        [InvalidInput, NotYourRecord, ReadOnly];
    POST "/bulk/companies" => companies, Access::Tenant(Role::Member), 303,
        "Change or trash the companies checked (as /bulk/contacts)", [InvalidInput, NotYourRecord, ReadOnly];
    POST "/bulk/deals" => deals, Access::Tenant(Role::Member), 303,
        "Change or trash the deals checked (as /bulk/contacts; `stage` moves them)", [InvalidInput, NotYourRecord, ReadOnly];
}

async fn contacts(
    s: TenantSession,
    st: web::Data<AppState>,
    f: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    change(Kind::Contact, s, st, &f).await
}

async fn companies(
    s: TenantSession,
    st: web::Data<AppState>,
    f: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    change(Kind::Company, s, st, &f).await
}

async fn deals(
    s: TenantSession,
    st: web::Data<AppState>,
    f: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    change(Kind::Deal, s, st, &f).await
}

fn invalid(message: &str) -> ApiError {
    ApiError::with_message(ErrorCode::InvalidInput, message.to_owned())
}

/// The bulk change a form asks for, from its fields.
fn bulk_of(kind: Kind, fields: &[(String, String)]) -> Result<Bulk, ApiError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let ids: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "ids")
        .map(|(_, v)| v.clone())
        .collect();
    let mut bulk = Bulk {
        ids: Some(ids),
        filters: None,
        set: Map::new(),
        add_tags: Vec::new(),
        remove_tags: Vec::new(),
        delete: false,
    };
    let tag = field("tag").trim().to_owned();
    match field("action") {
        "owner" => {
            let owner = field("owner_id");
            let owner = if owner.is_empty() {
                Value::Null
            } else {
                json!(owner)
            };
            bulk.set.insert("owner_id".into(), owner);
        }
        "lifecycle_stage" if kind != Kind::Deal => {
            bulk.set
                .insert("lifecycle_stage".into(), json!(field("lifecycle_stage")));
        }
        "stage" if kind == Kind::Deal => {
            bulk.set.insert("stage_id".into(), json!(field("stage_id")));
        }
        "add_tag" | "remove_tag" if tag.is_empty() => {
            return Err(invalid("tag: say which tag."));
        }
        "add_tag" => bulk.add_tags.push(tag),
        "remove_tag" => bulk.remove_tags.push(tag),
        "delete" => bulk.delete = true,
        _ => return Err(invalid("action: not a change this table offers.")),
    }
    Ok(bulk)
}

/// What the table says after a change.
fn said(table: &Table, delete: bool, matched: usize, changed: usize) -> String {
    let plural = if matched == 1 {
        table.noun
    } else {
        table.plural
    };
    if delete {
        format!("Moved {changed} {plural} to the trash.")
    } else {
        format!("Changed {changed} of {matched} {plural}.")
    }
}

async fn change(
    kind: Kind,
    session: TenantSession,
    state: web::Data<AppState>,
    fields: &[(String, String)],
) -> Result<HttpResponse, ApiError> {
    let table = table_of(kind).ok_or_else(|| invalid("kind: no table"))?;
    let back = fields
        .iter()
        .find(|(n, _)| n == "back")
        .map_or("", |(_, v)| v.as_str());
    let back = State::from_back(back)?.query();
    let bulk = bulk_of(kind, fields)?;
    let delete = bulk.delete;
    let message = if bulk.ids.as_ref().is_some_and(Vec::is_empty) {
        format!("Check some {} first; nothing changed.", table.plural)
    } else {
        let outcome = bulk_change(&state, &session, kind, bulk).await?;
        said(table, delete, outcome.matched, outcome.changed)
    };
    let sep = if back.is_empty() { "" } else { "&" };
    Ok(see_other(&format!(
        "{}{}?{back}{sep}done={}",
        session.current.pages_base(),
        table.path,
        query_escape(&message)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_form_asks_one_change_of_the_rows_checked() {
        let bulk = bulk_of(
            Kind::Deal,
            &form(&[
                ("ids", "a"),
                ("ids", "b"),
                ("action", "stage"),
                ("stage_id", "s"),
            ]),
        )
        .unwrap();
        assert_eq!(bulk.ids.unwrap(), ["a", "b"]);
        assert_eq!(bulk.set["stage_id"], "s");
        assert!(bulk_of(Kind::Deal, &form(&[("action", "lifecycle_stage")])).is_err());
        assert!(bulk_of(Kind::Contact, &form(&[("action", "add_tag")])).is_err());
        assert!(
            bulk_of(Kind::Contact, &form(&[("action", "delete")]))
                .unwrap()
                .delete
        );
    }
}
