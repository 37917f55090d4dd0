//! Deals as a pipeline board: a column per stage with its count and value (per currency),
//! the first cards of each, and on each card a "Move to" form — the keyboard's way, and what
//! dragging a card onto another column submits (see `assets/js/app.js`).

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use super::format::Amount;
use super::{Chrome, render, see_other};
use crate::crm::board::{self, Total};
use crate::crm::{Kind, pipelines};
use crate::error::ApiError;
use crate::identity::Role;
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::{IdParam, TenantSession, crm_read as read, crm_write as write};

endpoints! { area: Area::TenantApp;
    GET "/deals" => show, Access::Tenant(Role::Viewer), 200,
        "The deals of a pipeline as a board", [];
    POST "/deals/{id}/move" => move_deal, Access::Tenant(Role::Member), 303,
        "Move a deal to a stage; back to its board", [InvalidInput, ReadOnly];
}

const CARDS_PER_STAGE: u32 = 25;
const CLOSED_WITHIN_DAYS: i64 = 30;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    pipeline: Option<String>,
    /// `me`: only the caller's deals.
    #[serde(default)]
    owner: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct Card {
    id: String,
    title: String,
    amount: Option<Amount>,
}

struct ColumnView {
    id: String,
    name: String,
    count: i64,
    total: Vec<Amount>,
    cards: Vec<Card>,
    more: i64,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    chrome: Chrome,
    pipeline_id: String,
    pipeline_name: String,
    pipelines: Vec<Choice>,
    stages: Vec<Choice>,
    columns: Vec<ColumnView>,
    summary: Vec<Amount>,
    /// Only the caller's deals.
    mine: bool,
}

/// Totals per currency, never added across currencies: "12,500.00 EUR · 3,000.00 USD".
fn totals(totals: &[Total]) -> Vec<Amount> {
    totals
        .iter()
        .filter_map(|t| Some(Amount::new(i64::try_from(t.amount).ok()?, &t.currency)))
        .collect()
}

fn card(deal: &Value) -> Card {
    let text = |name: &str| deal[name].as_str().unwrap_or_default().to_owned();
    Card {
        id: text("id"),
        title: text("title"),
        amount: deal["amount"]
            .as_i64()
            .map(|a| Amount::new(a, &text("currency"))),
    }
}

async fn show(
    session: TenantSession,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let Params {
        pipeline: asked,
        owner,
    } = params.into_inner();
    let mine = owner == "me";
    let since = crate::crm::now() - CLOSED_WITHIN_DAYS * 86_400;
    let (all, pipeline, columns) = read(&state, &session, move |conn, who| {
        let all = pipelines::list(conn)?;
        let pipeline = match asked {
            Some(id) => pipelines::get(conn, &id)?,
            None => all
                .first()
                .cloned()
                .ok_or(crate::crm::CrmError::Missing("pipeline"))?,
        };
        let scope = who.visibility.scope(Kind::Deal);
        let owner = who.actor.user_id.as_deref().filter(|_| mine);
        let columns = board::board(conn, &pipeline.id, &scope, CARDS_PER_STAGE, since, owner)?;
        Ok((all, pipeline, columns))
    })
    .await?;
    let summary = totals(&board::by_currency(&columns));
    let page = BoardPage {
        mine,
        chrome: Chrome::new(&state, &session, "/deals"),
        pipelines: all
            .iter()
            .map(|p| Choice {
                value: p.id.clone(),
                label: p.name.clone(),
                selected: p.id == pipeline.id,
            })
            .collect(),
        stages: pipeline
            .stages
            .iter()
            .map(|s| Choice {
                value: s.id.clone(),
                label: s.name.clone(),
                selected: false,
            })
            .collect(),
        columns: columns
            .iter()
            .map(|c| {
                let cards: Vec<Card> = c.deals.iter().map(card).collect();
                ColumnView {
                    id: c.stage.id.clone(),
                    name: c.stage.name.clone(),
                    count: c.count,
                    total: totals(&c.totals),
                    more: c.count - i64::try_from(cards.len()).unwrap_or(0),
                    cards,
                }
            })
            .collect(),
        pipeline_id: pipeline.id,
        pipeline_name: pipeline.name,
        summary,
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveForm {
    /// Checked by the gate.
    #[serde(rename = "csrf", default)]
    _csrf: serde::de::IgnoredAny,
    stage_id: String,
    #[serde(default)]
    pipeline: String,
    /// The board's owner filter, kept after the move.
    #[serde(default)]
    owner: String,
}

async fn move_deal(
    req: HttpRequest,
    session: TenantSession,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner().id;
    note_target(&req, format!("deal {id}"));
    let MoveForm {
        stage_id,
        pipeline,
        owner,
        ..
    } = form.into_inner();
    write(&state, &session, move |conn, who| {
        pipelines::move_deal(conn, &id, &stage_id, None, None, who.env(&HashSet::new()))
    })
    .await?;
    let base = session.current.pages_base();
    let mut query = Vec::new();
    if pipeline
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        query.push(format!("pipeline={pipeline}"));
    }
    if owner == "me" {
        query.push("owner=me".to_owned());
    }
    Ok(see_other(&format!("{base}/deals?{}", query.join("&"))))
}
