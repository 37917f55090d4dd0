//! The search page: one query across contacts, companies, deals and activities, results
//! grouped by kind with the matching words marked — the API's search (`crm::search`) as a
//! page. The top bar's box submits here, and with JavaScript shows the same while typing.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, render};
use crate::crm::search::{self, Hit};
use crate::error::{ApiError, ErrorCode};
use crate::identity::Role;
use crate::web::AppState;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{TenantSession, crm_read as read};

endpoints! { area: Area::TenantApp;
    GET "/search" => find, Access::Tenant(Role::Viewer), 200,
        "Search every kind of record", [InvalidInput];
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    q: String,
}

struct Group {
    title: &'static str,
    plural: &'static str,
    /// Kinds with a page of their own link to it.
    linked: bool,
    hits: Vec<Hit>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    searched: bool,
    groups: Vec<Group>,
    error: Option<String>,
}

async fn find(
    session: TenantSession,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let q = params.into_inner().q;
    let chrome = Chrome::new(&state, &session, "/search");
    if q.trim().is_empty() {
        return render(&SearchPage {
            chrome,
            q,
            searched: false,
            groups: Vec::new(),
            error: None,
        });
    }
    let text = q.clone();
    let found = read(&state, &session, move |conn, who| {
        search::search(conn, &text, &who.visibility, 20)
    })
    .await;
    let (groups, error) = match found {
        Ok(results) => {
            let groups = [
                ("Contacts", "contacts", true, results.contacts),
                ("Companies", "companies", true, results.companies),
                ("Deals", "deals", true, results.deals),
                ("Activities", "activities", false, results.activities),
            ]
            .into_iter()
            .filter(|(_, _, _, hits)| !hits.is_empty())
            .map(|(title, plural, linked, hits)| Group {
                title,
                plural,
                linked,
                hits,
            })
            .collect();
            (groups, None)
        }
        Err(err) if err.code() == ErrorCode::InvalidInput => {
            let why = err
                .message()
                .split_once(": ")
                .map_or(err.message(), |(_, w)| w);
            (Vec::new(), Some(format!("The search {why}")))
        }
        Err(err) => return Err(err),
    };
    render(&SearchPage {
        chrome,
        searched: error.is_none(),
        q,
        groups,
        error,
    })
}
