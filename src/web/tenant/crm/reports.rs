//! The dashboard, reports and exchange rates.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::schemas::RatesAnswer;
use super::{read, write};
use crate::crm::{money, reports};
use crate::error::{ApiError, ErrorCode};
use crate::identity::{Role, users};
use crate::web::AppState;
use crate::web::audit_trail::note_target;
use crate::web::endpoint::{Access, Area, endpoints};
use crate::web::tenant::TenantSession;
use crate::zone::Zone;

endpoints! { area: Area::Tenant;
    GET "/dashboard" => dashboard, Access::Tenant(Role::Viewer), 200,
        "Pipeline value per stage, won and lost this month and last, activities due (today as it is in `timezone`, an IANA name; default the tenant's), recent changes, seats",
        [InvalidQuery];
    GET "/reports/won-by-month" => won_by_month, Access::Tenant(Role::Viewer), 200,
        "Deals won per month (the last `months`, default 12), per currency", [InvalidQuery];
    GET "/reports/funnel" => funnel, Access::Tenant(Role::Viewer), 200,
        "How many deals of a pipeline reached each stage, and the share that went on",
        [InvalidQuery, InvalidInput];
    GET "/exchange-rates" => show_rates, Access::Tenant(Role::Viewer), 200,
        "What one unit of each currency is worth in the default currency", [], out: RatesAnswer;
    PUT "/exchange-rates" => set_rates, Access::Tenant(Role::Admin), 200,
        "Replace the exchange rates (decimal text, e.g. {\"EUR\": \"1.0825\"})",
        [InvalidInput, ReadOnly], in: Rates, out: RatesAnswer;
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DashboardQuery {
    timezone: Option<String>,
}

async fn dashboard(
    session: TenantSession,
    state: web::Data<AppState>,
    query: web::Query<DashboardQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::crm::now();
    let named = query
        .timezone
        .as_deref()
        .unwrap_or(&session.current.tenant.timezone);
    let zone = Zone::named(named).ok_or_else(|| {
        ApiError::with_message(
            ErrorCode::InvalidQuery,
            "timezone: must be a time zone such as Europe/Berlin (a name of the IANA database).",
        )
    })?;
    let today = zone.today_span();
    let mut board = read(&state, &session, move |conn, who| {
        reports::dashboard(conn, &who.visibility, now, &today)
    })
    .await?;
    let tenant_id = session.current.tenant.id.clone();
    let (in_use, tenant_users) = state
        .control_db
        .run_as(move |conn| -> Result<_, ApiError> {
            Ok((
                users::seats_in_use(conn)?,
                users::list(conn, &tenant_id)?.len(),
            ))
        })
        .await?;
    board["seats"] = json!({
        "in_use": in_use,
        "cap": state.license.effective().max_seats,
        "this_tenant": tenant_users,
    });
    Ok(HttpResponse::Ok().json(board))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Months {
    months: Option<u8>,
}

async fn won_by_month(
    session: TenantSession,
    state: web::Data<AppState>,
    params: web::Query<Months>,
) -> Result<HttpResponse, ApiError> {
    let months = i32::from(params.into_inner().months.unwrap_or(12).clamp(1, 60));
    let now = crate::crm::now();
    let rows = read(&state, &session, move |conn, who| {
        reports::won_by_month(conn, &who.visibility, now, months)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "months": rows })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunnelParams {
    pipeline_id: String,
    /// Deals made in the last this many days (default 365).
    days: Option<u32>,
}

async fn funnel(
    session: TenantSession,
    state: web::Data<AppState>,
    params: web::Query<FunnelParams>,
) -> Result<HttpResponse, ApiError> {
    let FunnelParams { pipeline_id, days } = params.into_inner();
    let since = crate::crm::now() - i64::from(days.unwrap_or(365).min(36_500)) * 86_400;
    let steps = read(&state, &session, move |conn, who| {
        reports::funnel(conn, &who.visibility, &pipeline_id, since)
    })
    .await?;
    Ok(HttpResponse::Ok().json(steps))
}

async fn show_rates(
    session: TenantSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rates = read(&state, &session, |conn, _| money::rates(conn)).await?;
    Ok(HttpResponse::Ok().json(RatesAnswer { rates }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    rates: BTreeMap<String, String>,
}

async fn set_rates(
    session: TenantSession,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<Rates>,
) -> Result<HttpResponse, ApiError> {
    let given = body.into_inner().rates;
    note_target(&req, "exchange rates");
    let rates = write(&state, &session, move |conn, _| {
        money::set_rates(conn, &given)?;
        money::rates(conn)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RatesAnswer { rates }))
}
