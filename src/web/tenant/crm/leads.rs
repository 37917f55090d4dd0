//! Converting a lead into a customer, with its first deal if asked.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::records::{Companies, Contacts, RecordKind};
use super::{if_match, users_named, write};
use crate::crm::Kind;
use crate::crm::leads;
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession};

endpoints! { area: Area::Tenant;
    POST "/contacts/{id}/convert" => convert::<Contacts>, Access::Tenant(Role::Member), 200,
        "Make a lead a customer; `deal` (optional) creates its first deal with it",
        [InvalidInput, VersionMismatch, BadRequest, ReadOnly], in: Conversion;
    POST "/companies/{id}/convert" => convert::<Companies>, Access::Tenant(Role::Member), 200,
        "Make a lead company a customer; `deal` (optional) creates its first deal with it",
        [InvalidInput, VersionMismatch, BadRequest, ReadOnly], in: Conversion;
}

/// What a conversion may add: the first deal, as `POST /deals` takes it.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Conversion {
    deal: Option<Map<String, Value>>,
}

async fn convert<K: RecordKind>(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: web::Json<Conversion>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("{} {id}", K::KIND));
    let expected = if_match(&req)?.version();
    let deal = body.into_inner().deal;
    let users = match &deal {
        Some(deal) => users_named(&state, &session, Kind::Deal, deal).await?,
        None => std::collections::HashSet::new(),
    };
    let (record, deal) = write(&state, &session, move |conn, who| {
        let env = who.env(&users);
        leads::convert(conn, K::KIND, &id, deal, expected, env)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, record.etag()))
        .json(json!({ K::KIND.as_str(): record.body, "deal": deal.map(|d| d.body) })))
}
