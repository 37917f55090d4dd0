//! A record's page (its details, an edit form for those who may edit, its activities, its
//! timeline) and the form that makes a new one, for contacts, companies and deals alike. The
//! forms post and redirect; a refused value comes back next to its field, and a change made
//! meanwhile by someone else is shown with both versions rather than overwritten. Moving to
//! the trash and adding an activity are in `record_actions`.

use std::collections::{BTreeMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::activity::ActivityView;
use super::link_names;
use super::reader_zone::ReaderZone;
use super::record_actions::{self, ActivityForm, add_activity, linked_activities, trash};
use super::record_form::{self, CompanyField, FieldView, Spec, Values};
use super::record_links::{self, LinkForm, Linked};
use super::{Chrome, render, see_other};
use crate::crm::records::{self, Record};
use crate::crm::{CrmError, Kind, pipelines, timeline};
use crate::error::{ApiError, ErrorCode};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::tenant::CrmCaller as Who;
use crate::web::tenant::{
    IdParam, TenantSession, crm_read as read, crm_write as write, user_emails,
};
use crate::zone::Zone;

/// What the pages of one kind of record need to know about it.
pub trait PageKind {
    const KIND: Kind;
    /// The path segment of its pages (`contacts`).
    const PLURAL: &'static str;
    /// What one is called (`contact`).
    const NOUN: &'static str;
    /// Where its records are listed (`contacts`, or `deals` for the board), and that page's
    /// name.
    const BACK: (&'static str, &'static str);
    const SPECS: &'static [Spec];
    /// What a record is called on its page.
    fn name(body: &Map<String, Value>) -> String;
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn or_unnamed(name: &str, noun: &str) -> String {
    if name.trim().is_empty() {
        format!("Unnamed {noun}")
    } else {
        name.trim().to_owned()
    }
}

pub struct Contacts;
impl PageKind for Contacts {
    const KIND: Kind = Kind::Contact;
    const PLURAL: &'static str = "contacts";
    const NOUN: &'static str = "contact";
    const BACK: (&'static str, &'static str) = ("contacts", "Contacts");
    const SPECS: &'static [Spec] = record_form::CONTACT;
    fn name(body: &Map<String, Value>) -> String {
        let name = format!("{} {}", text(body, "first_name"), text(body, "last_name"));
        or_unnamed(&name, Self::NOUN)
    }
}

pub struct Companies;
impl PageKind for Companies {
    const KIND: Kind = Kind::Company;
    const PLURAL: &'static str = "companies";
    const NOUN: &'static str = "company";
    const BACK: (&'static str, &'static str) = ("companies", "Companies");
    const SPECS: &'static [Spec] = record_form::COMPANY;
    fn name(body: &Map<String, Value>) -> String {
        or_unnamed(text(body, "name"), Self::NOUN)
    }
}

pub struct Deals;
impl PageKind for Deals {
    const KIND: Kind = Kind::Deal;
    const PLURAL: &'static str = "deals";
    const NOUN: &'static str = "deal";
    const BACK: (&'static str, &'static str) = ("deals", "Deals");
    const SPECS: &'static [Spec] = record_form::DEAL;
    fn name(body: &Map<String, Value>) -> String {
        or_unnamed(text(body, "title"), Self::NOUN)
    }
}

/// Declares the pages of one kind: new form, create, record page, update.
macro_rules! record_pages {
    ($module:ident, $marker:ty, $new:literal, $create:literal, $page:literal, $trash:literal, $activities:literal) => {
        pub mod $module {
            use super::*;
            use crate::identity::Role;
            use crate::web::endpoint::{Access, Area, endpoints};
            endpoints! { area: Area::TenantApp;
                GET $new => new_form::<$marker>, Access::Tenant(Role::Member), 200,
                    "The form of a new record", [];
                POST $create => create::<$marker>, Access::Tenant(Role::Member), 303,
                    "Make a record from the form; on to its page", [InvalidInput, ReadOnly];
                GET $page => page::<$marker>, Access::Tenant(Role::Viewer), 200,
                    "A record: details, edit form, timeline", [];
                POST $page => update::<$marker>, Access::Tenant(Role::Member), 303,
                    "Change a record from its form; back to its page",
                    [InvalidInput, VersionMismatch, ReadOnly];
                POST $trash => trash::<$marker>, Access::Tenant(Role::Member), 303,
                    "Move a record (its version posted) to the trash; on to its list",
                    [InvalidInput, NotYourRecord, VersionMismatch, ReadOnly];
                POST $activities => add_activity::<$marker>, Access::Tenant(Role::Member), 303,
                    "Add a note, task or logged call linked to the record; back to its page",
                    [InvalidInput, ReadOnly];
            }
        }
    };
}

record_pages!(
    contact_pages,
    Contacts,
    "/contacts/new",
    "/contacts",
    "/contacts/{id}",
    "/contacts/{id}/trash",
    "/contacts/{id}/activities"
);
record_pages!(
    company_pages,
    Companies,
    "/companies/new",
    "/companies",
    "/companies/{id}",
    "/companies/{id}/trash",
    "/companies/{id}/activities"
);
record_pages!(
    deal_pages,
    Deals,
    "/deals/new",
    "/deals",
    "/deals/{id}",
    "/deals/{id}/trash",
    "/deals/{id}/activities"
);

#[derive(Template)]
#[template(path = "record_new.html")]
struct NewPage {
    chrome: Chrome,
    noun: &'static str,
    plural: &'static str,
    back: &'static str,
    fields: Vec<FieldView>,
    /// A contact's or a deal's company.
    company: Option<CompanyField>,
    error: Option<String>,
}

/// The stages a new deal can start in, as `(id, "Pipeline — Stage")`; none for other kinds.
async fn stage_choices<K: PageKind>(
    state: &web::Data<AppState>,
    session: &TenantSession,
) -> Result<Vec<(String, String)>, ApiError> {
    if K::KIND != Kind::Deal {
        return Ok(Vec::new());
    }
    let all = read(state, session, |conn, _| pipelines::list(conn)).await?;
    Ok(all
        .iter()
        .flat_map(|p| {
            p.stages
                .iter()
                .filter(|s| s.kind == "open")
                .map(move |s| (s.id.clone(), format!("{} — {}", p.name, s.name)))
        })
        .collect())
}

async fn new_page<K: PageKind>(
    state: &web::Data<AppState>,
    session: &TenantSession,
    values: &Values,
    refusal: Option<&ApiError>,
) -> Result<HttpResponse, ApiError> {
    let stages = stage_choices::<K>(state, session).await?;
    let (company, refusal) = CompanyField::of(("", ""), Some(values), refusal);
    let (fields, error) = record_form::views(K::SPECS, values, true, refusal, &stages);
    render(&NewPage {
        chrome: Chrome::new(state, session, &format!("/{}", K::BACK.0)),
        noun: K::NOUN,
        plural: K::PLURAL,
        back: K::BACK.0,
        fields,
        company: (K::KIND != Kind::Company).then_some(company),
        error,
    })
}

async fn new_form<K: PageKind>(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut values = Values::new();
    values.insert("lifecycle_stage".into(), "lead".into());
    new_page::<K>(&state, &session, &values, None).await
}

/// Sets `company_id` in `body` to the company the form's company field names, if the form
/// has that field: resolved in the write's own transaction, with the caller's visibility.
fn with_company(
    conn: &Connection,
    who: &Who,
    body: &mut Map<String, Value>,
    values: &Values,
) -> Result<(), CrmError> {
    let Some(typed) = values.get("company") else {
        return Ok(());
    };
    let chosen = values.get("company_ref").map(String::as_str);
    let id = link_names::company(conn, who, typed, chosen)?;
    body.insert("company_id".into(), json!(id));
    Ok(())
}

/// The posted fields, the gate's `csrf` and the edit form's `version` aside.
fn posted(form: BTreeMap<String, String>) -> (Values, Option<String>) {
    let mut values = form;
    values.remove("csrf");
    let version = values.remove("version");
    (values, version)
}

async fn create<K: PageKind>(
    session: TenantSession,
    state: web::Data<AppState>,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let (values, _) = posted(form.into_inner());
    let made = match record_form::body(K::SPECS, &values, true) {
        Ok(mut body) => {
            let typed = values.clone();
            write(&state, &session, move |conn, who| {
                with_company(conn, who, &mut body, &typed)?;
                who.create(conn, K::KIND, &body, &HashSet::new())
            })
            .await
        }
        Err(err) => Err(err),
    };
    match made {
        Ok(record) => {
            let base = session.current.pages_base();
            Ok(see_other(&format!("{base}/{}/{}", K::PLURAL, record.id)))
        }
        Err(err) if err.code() == ErrorCode::InvalidInput => {
            let mut page = new_page::<K>(&state, &session, &values, Some(&err)).await?;
            *page.status_mut() = err.code().status();
            Ok(page)
        }
        Err(err) => Err(err),
    }
}

struct EntryView {
    at: String,
    actor: String,
    event: String,
    changes: Vec<String>,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    chrome: Chrome,
    noun: &'static str,
    plural: &'static str,
    back: &'static str,
    back_label: &'static str,
    id: String,
    name: String,
    version: i64,
    fields: Vec<FieldView>,
    timeline: Vec<EntryView>,
    error: Option<String>,
    /// After a stale edit: each field that differs, theirs and yours.
    conflict: Option<Vec<(&'static str, String, String)>>,
    /// May the caller move it to the trash (admins: any record; members: their own)?
    may_trash: bool,
    /// The activities linked to it, newest first, and the zone their times are stated in.
    activities: Vec<ActivityView>,
    zone: String,
    /// The form that adds one, as typed, with its refusal.
    activity: ActivityForm,
    activity_kinds: &'static [(&'static str, &'static str)],
    /// What it links to, and the deal page's form that links a contact.
    linked: Linked,
    link_form: LinkForm,
    /// The company field of a contact's or a deal's edit form.
    company: Option<CompanyField>,
    /// The API's address of the record (what the page's script edits in place).
    api: String,
}

/// A record as its page shows it: the record, its newest timeline entries, its activities,
/// and whether the caller may move it to the trash.
pub(super) struct Loaded {
    record: Record,
    timeline: Vec<EntryView>,
    activities: Vec<ActivityView>,
    zone: String,
    may_trash: bool,
    linked: Linked,
    link_form: LinkForm,
}

impl Loaded {
    /// The deal page's link form comes back with what was typed and why it was refused.
    pub(super) fn link_refused(&mut self, typed: String, why: &str) {
        self.link_form = LinkForm {
            typed,
            error: Some(why.to_owned()),
        };
    }
}

fn entry_view(entry: timeline::Entry) -> EntryView {
    let shown = |v: &Value| match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let changes = entry
        .detail
        .as_object()
        .map(|changes| {
            changes
                .iter()
                .filter_map(|(field, change)| {
                    let [old, new] = change.as_array()?.as_slice() else {
                        return None;
                    };
                    Some(format!("{field}: {} → {}", shown(old), shown(new)))
                })
                .collect()
        })
        .unwrap_or_default();
    EntryView {
        at: entry.at,
        actor: entry.actor,
        event: entry.event.replace('_', " "),
        changes,
    }
}

/// The record, its newest timeline entries and its activities, as the caller may see them.
pub(super) async fn load<K: PageKind>(
    state: &web::Data<AppState>,
    session: &TenantSession,
    zone: &Zone,
    id: String,
) -> Result<Loaded, ApiError> {
    let zone = zone.clone();
    let mut loaded = read(state, session, move |conn, who| {
        let record = records::get(conn, K::KIND, &id, &who.visibility)?;
        let entries = timeline::page(conn, K::KIND, &id, None, 50)?;
        let scope = who.visibility.scope(Kind::Activity);
        let me = who.actor.user_id.as_deref();
        let activities = linked_activities(conn, (&scope, me), K::KIND, &id, &zone)?;
        let may_trash =
            records::may_delete(&who.actor, record.owner.as_deref(), &record.created_by);
        let linked = record_links::linked(conn, who, &record)?;
        Ok::<_, CrmError>(Loaded {
            record,
            timeline: entries.into_iter().map(entry_view).collect(),
            activities,
            zone: zone.name().to_owned(),
            may_trash,
            linked,
            link_form: LinkForm::default(),
        })
    })
    .await?;
    // The timeline names people as the audit does (`user:<id>`); the page says who they are.
    let people: std::collections::HashMap<String, String> =
        user_emails(state, session).await?.into_iter().collect();
    for entry in &mut loaded.timeline {
        if let Some(email) = entry
            .actor
            .strip_prefix("user:")
            .and_then(|id| people.get(id))
        {
            entry.actor.clone_from(email);
        }
    }
    Ok(loaded)
}

/// The record's page: its saved values, or `shown` (what was posted) with the refusal; a
/// refusal with nothing shown (a stale move to the trash) is said above the details.
pub(super) fn record_page<K: PageKind>(
    chrome: Chrome,
    loaded: Loaded,
    shown: Option<&Values>,
    refusal: Option<&ApiError>,
    activity: ActivityForm,
) -> Result<HttpResponse, ApiError> {
    let Loaded {
        record,
        timeline,
        activities,
        zone,
        may_trash,
        linked,
        link_form,
    } = loaded;
    let saved = record_form::values_of(K::SPECS, &record.body);
    let saved_company = (
        linked.company_label.as_str(),
        linked.company.as_ref().map_or("", |c| c.id.as_str()),
    );
    let (company, refusal_left) = CompanyField::of(saved_company, shown, refusal);
    let company = (K::KIND != Kind::Company).then_some(company);
    let conflict = refusal
        .filter(|e| e.code() == ErrorCode::VersionMismatch)
        .and(shown)
        .map(|yours| {
            K::SPECS
                .iter()
                .filter(|s| !s.create_only)
                .filter_map(|s| {
                    let theirs = saved.get(s.name).cloned().unwrap_or_default();
                    let mine = yours.get(s.name).cloned().unwrap_or_default();
                    (theirs.trim() != mine.trim()).then_some((s.label, theirs, mine))
                })
                .collect()
        });
    let field_refusal = refusal_left.filter(|e| e.code() == ErrorCode::InvalidInput);
    let (fields, error) =
        record_form::views(K::SPECS, shown.unwrap_or(&saved), false, field_refusal, &[]);
    let error = error.or_else(|| {
        refusal
            .filter(|_| shown.is_none())
            .map(|e| e.message().to_owned())
    });
    let chrome_base = chrome.base.clone();
    let mut page = render(&RecordPage {
        chrome,
        noun: K::NOUN,
        plural: K::PLURAL,
        back: K::BACK.0,
        back_label: K::BACK.1,
        id: record.id.clone(),
        name: K::name(&record.body),
        version: record.version,
        fields,
        timeline,
        error,
        conflict,
        may_trash,
        activities,
        zone,
        activity,
        activity_kinds: record_actions::KINDS,
        api: format!("{chrome_base}/api/v1/{}/{}", K::PLURAL, record.id),
        linked,
        link_form,
        company,
    })?;
    if let Some(err) = refusal {
        *page.status_mut() = err.code().status();
    }
    Ok(page)
}

async fn page<K: PageKind>(
    session: TenantSession,
    state: web::Data<AppState>,
    ReaderZone(zone): ReaderZone,
    path: web::Path<IdParam>,
) -> Result<HttpResponse, ApiError> {
    let loaded = load::<K>(&state, &session, &zone, path.into_inner().id).await?;
    let chrome = Chrome::new(&state, &session, &format!("/{}", K::BACK.0));
    record_page::<K>(chrome, loaded, None, None, ActivityForm::default())
}

async fn update<K: PageKind>(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("{} {id}", K::KIND));
    let (values, version) = posted(form.into_inner());
    let expected = version.and_then(|v| v.parse::<i64>().ok()).ok_or_else(|| {
        ApiError::with_message(ErrorCode::InvalidInput, "version: the form has no version.")
    })?;
    let record_id = id.clone();
    let changed = match record_form::body(K::SPECS, &values, false) {
        Ok(mut body) => {
            let typed = values.clone();
            write(&state, &session, move |conn, who| {
                with_company(conn, who, &mut body, &typed)?;
                let input = records::parse(conn, K::KIND, &body, false)?;
                let users = HashSet::new();
                let env = who.env(&users);
                records::update(conn, K::KIND, &record_id, Some(expected), input, env)
            })
            .await
        }
        Err(err) => Err(err),
    };
    match changed {
        Ok(record) => Ok(see_other(&format!(
            "{}/{}/{}",
            session.current.pages_base(),
            K::PLURAL,
            record.id
        ))),
        Err(err)
            if matches!(
                err.code(),
                ErrorCode::InvalidInput | ErrorCode::VersionMismatch
            ) =>
        {
            let ReaderZone(zone) = ReaderZone::of(&req);
            let loaded = load::<K>(&state, &session, &zone, id).await?;
            let chrome = Chrome::new(&state, &session, &format!("/{}", K::BACK.0));
            let activity = ActivityForm::default();
            record_page::<K>(chrome, loaded, Some(&values), Some(&err), activity)
        }
        Err(err) => Err(err),
    }
}
