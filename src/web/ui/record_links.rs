//! The records a record's page links to — a contact's company, a company's contacts and
//! deals, a deal's company and contacts — read in the page's own transaction (a company's
//! lists are the API's list filtered on the link, a deal's contacts one query), and the deal
//! page's forms that link a contact (typed by e-mail or name) and unlink one. Both change the
//! deal's `contact_ids` through the API's record update, at the version the page showed, so a
//! stale page never overwrites.

use std::collections::{BTreeMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, web};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::link_names::{self, company_label, contact_name};
use super::reader_zone::ReaderZone;
use super::record::{Deals, PageKind, load, record_page};
use super::record_actions::ActivityForm;
use super::{Chrome, see_other};
use crate::crm::list::{self, Filter, Op, Query};
use crate::crm::records::{self, Record};
use crate::crm::{CrmError, Kind};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::CrmCaller as Who;
use crate::web::tenant::{IdParam, TenantSession, crm_write as write};

endpoints! { area: Area::TenantApp;
    POST "/deals/{id}/contacts" => link_contact, Access::Tenant(Role::Member), 303,
        "Link a contact (typed by e-mail or name) to a deal at the version posted; back to its page",
        [InvalidInput, VersionMismatch, ReadOnly];
    POST "/deals/{id}/contacts/remove" => unlink_contact, Access::Tenant(Role::Member), 303,
        "Unlink a contact from a deal at the version posted; back to its page",
        [InvalidInput, VersionMismatch, ReadOnly];
}

/// How many linked records of one kind a page lists; the rest are a link away.
const SHOWN: u32 = 25;

/// A linked record as the page lists it.
#[derive(Debug)]
pub struct LinkView {
    pub id: String,
    pub name: String,
    /// What tells it apart: an e-mail address, a domain, an amount's stage.
    pub detail: String,
}

/// What a record links to, for its page.
#[derive(Debug, Default)]
pub struct Linked {
    /// A contact's or a deal's company (when the caller can see it).
    pub company: Option<LinkView>,
    /// How the company field of the edit form names it.
    pub company_label: String,
    /// A company's contacts, or a deal's.
    pub contacts: Vec<LinkView>,
    pub more_contacts: bool,
    /// A company's deals.
    pub deals: Vec<LinkView>,
    pub more_deals: bool,
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn contact_view(record: &Record) -> LinkView {
    let email = record
        .body
        .get("emails")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or_default();
    LinkView {
        id: record.id.clone(),
        name: contact_name(&record.body),
        detail: email.to_owned(),
    }
}

fn deal_view(record: &Record) -> LinkView {
    LinkView {
        id: record.id.clone(),
        name: Deals::name(&record.body),
        detail: text(&record.body, "status").to_owned(),
    }
}

/// Up to [`SHOWN`] records of `kind` whose `company_id` is `company`, and whether there are
/// more.
fn of_company(
    conn: &Connection,
    who: &Who,
    kind: Kind,
    company: &str,
    sort: &str,
) -> Result<(Vec<Record>, bool), CrmError> {
    let query = Query {
        filters: vec![Filter {
            field: "company_id".into(),
            op: Op::Eq,
            value: json!(company),
        }],
        sort: Some(sort.into()),
        limit: Some(SHOWN),
        cursor: None,
    };
    let scope = who.visibility.scope(kind);
    let page = list::page(conn, kind, &query, &scope, who.actor.user_id.as_deref())?;
    Ok((page.records, page.next_cursor.is_some()))
}

/// What `record` links to, as the caller may see it.
pub fn linked(conn: &Connection, who: &Who, record: &Record) -> Result<Linked, CrmError> {
    let mut linked = Linked::default();
    if record.kind == Kind::Company {
        let (contacts, more) = of_company(conn, who, Kind::Contact, &record.id, "last_name")?;
        linked.contacts = contacts.iter().map(contact_view).collect();
        linked.more_contacts = more;
        let (deals, more) = of_company(conn, who, Kind::Deal, &record.id, "-updated_at")?;
        linked.deals = deals.iter().map(deal_view).collect();
        linked.more_deals = more;
        return Ok(linked);
    }
    let company_id = text(&record.body, "company_id");
    if !company_id.is_empty() {
        match records::find(conn, Kind::Company, company_id, &who.visibility, false) {
            Ok(company) => {
                linked.company_label = company_label(&company);
                linked.company = Some(LinkView {
                    id: company.id.clone(),
                    name: text(&company.body, "name").to_owned(),
                    detail: text(&company.body, "domain").to_owned(),
                });
            }
            Err(CrmError::NotFound(_)) => {}
            Err(err) => return Err(err),
        }
    }
    if record.kind == Kind::Deal {
        let ids: Vec<String> = contact_ids(record);
        let contacts = records::some(conn, Kind::Contact, &ids, &who.visibility)?;
        linked.contacts = contacts.iter().map(contact_view).collect();
    }
    Ok(linked)
}

fn contact_ids(record: &Record) -> Vec<String> {
    record
        .body
        .get("contact_ids")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The link form as typed, and its refusal.
#[derive(Debug, Default)]
pub struct LinkForm {
    pub typed: String,
    pub error: Option<String>,
}

type Change = Box<dyn FnOnce(&Connection, &Who, &mut Vec<String>) -> Result<(), CrmError> + Send>;

/// Changes the deal's contacts as `change` says, if the deal is still at the version the
/// form posted: the same update the API's `PATCH` makes with `If-Match`.
async fn change_contacts(
    req: &HttpRequest,
    session: &TenantSession,
    state: &web::Data<AppState>,
    id: String,
    form: &BTreeMap<String, String>,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    note_target(req, format!("deal {id}"));
    let expected = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| {
            ApiError::with_message(ErrorCode::InvalidInput, "version: the form has no version.")
        })?;
    let deal = id.clone();
    let changed = write(state, session, move |conn, who| {
        let current = records::get(conn, Kind::Deal, &deal, &who.visibility)?;
        records::check_version(&current, expected)?;
        let mut ids = contact_ids(&current);
        change(conn, who, &mut ids)?;
        let mut body = Map::new();
        body.insert("contact_ids".into(), json!(ids));
        let input = records::parse(conn, Kind::Deal, &body, false)?;
        let users = HashSet::new();
        records::update(
            conn,
            Kind::Deal,
            &deal,
            Some(expected),
            input,
            who.env(&users),
        )
    })
    .await;
    let base = session.current.pages_base();
    let Err(err) = changed else {
        return Ok(see_other(&format!("{base}/deals/{id}#contacts-title")));
    };
    let ReaderZone(zone) = ReaderZone::of(req);
    let mut loaded = load::<Deals>(state, session, &zone, id).await?;
    let chrome = Chrome::new(state, session, &format!("/{}", Deals::BACK.0));
    let why = match err.code() {
        ErrorCode::VersionMismatch => ApiError::with_message(
            ErrorCode::VersionMismatch,
            "This deal changed after the page was opened, so its contacts were not changed. Here it is as it is now.",
        ),
        ErrorCode::InvalidInput => {
            let message = err.message();
            let message = message.strip_prefix("contact: ").unwrap_or(message);
            loaded.link_refused(form.get("contact").cloned().unwrap_or_default(), message);
            let mut page =
                record_page::<Deals>(chrome, loaded, None, None, ActivityForm::default())?;
            *page.status_mut() = err.code().status();
            return Ok(page);
        }
        _ => return Err(err),
    };
    record_page::<Deals>(chrome, loaded, None, Some(&why), ActivityForm::default())
}

async fn link_contact(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let typed = form.get("contact").cloned().unwrap_or_default();
    let change: Change = Box::new(move |conn, who, ids| {
        let contact = link_names::contact(conn, who, &typed)?;
        if !ids.contains(&contact.id) {
            ids.push(contact.id);
        }
        Ok(())
    });
    change_contacts(&req, &session, &state, path.into_inner().id, &form, change).await
}

async fn unlink_contact(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let contact = form.get("contact_id").cloned().unwrap_or_default();
    let change: Change = Box::new(move |_, _, ids| {
        let before = ids.len();
        ids.retain(|id| *id != contact);
        if ids.len() == before {
            return Err(CrmError::invalid("contact", "is not linked to this deal"));
        }
        Ok(())
    });
    change_contacts(&req, &session, &state, path.into_inner().id, &form, change).await
}
