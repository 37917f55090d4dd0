//! `GET /metrics` in the Prometheus text format, for the operator's monitoring: requests by
//! route template and status, latency, refusals by error code (sign-in failures are
//! `invalid_credentials`, lockouts `rate_limited`), connection-pool waits, open tenant
//! databases, the license, seats and tenants, the last backup, the build.
//!
//! Off unless `metrics_token` is set; then only a request bearing that token is answered
//! (anything else gets 404, as if there were no such route). Labels are route templates and
//! error codes, never paths or input, so no caller can make the series grow without bound.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use super::{AppState, read_only_resource};
use crate::error::{ApiError, ErrorCode};
use crate::identity::setup::constant_time_eq;

/// What the server counts as it serves, and what is read when scraped.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    refusals: IntCounterVec,
    pool_waits: IntCounter,
    pool_wait_micros: IntCounter,
    pool_connections: IntGaugeVec,
    tenant_dbs_open: IntGauge,
    license_state: IntGaugeVec,
    license_days_left: IntGauge,
    seats: IntGaugeVec,
    tenants: IntGaugeVec,
    last_backup_time: IntGauge,
    last_backup_ok: IntGauge,
}

const LICENSE_STATES: &[&str] = &["unlicensed", "valid", "grace", "expired", "not_yet_valid"];

impl Default for Metrics {
    fn default() -> Self {
        Self::new().expect("the metrics' names and labels are valid")
    }
}

impl Metrics {
    fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("holdfast".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer a request")
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ]),
            &["route", "method"],
        )?;
        let refusals = IntCounterVec::new(
            Opts::new(
                "http_refusals_total",
                "Requests refused, by error code (invalid_credentials: failed sign-ins; rate_limited: lockouts)",
            ),
            &["code"],
        )?;
        let pool_waits = IntCounter::new(
            "db_pool_waits_total",
            "Control-database connections asked for when none was idle",
        )?;
        let pool_wait_micros = IntCounter::new(
            "db_pool_wait_microseconds_total",
            "Time spent waiting for those connections",
        )?;
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Control-database connections, idle or in use",
            ),
            &["state"],
        )?;
        let tenant_dbs_open = IntGauge::new("tenant_databases_open", "Tenant databases open")?;
        let license_state = IntGaugeVec::new(
            Opts::new(
                "license_state",
                "1 for the license's state, 0 for the others",
            ),
            &["state"],
        )?;
        let license_days_left = IntGauge::new(
            "license_days_left",
            "Days until the license expires (absent without an expiry)",
        )?;
        let seats = IntGaugeVec::new(Opts::new("seats", "Seats used and licensed"), &["of"])?;
        let tenants = IntGaugeVec::new(Opts::new("tenants", "Tenants used and licensed"), &["of"])?;
        let last_backup_time = IntGauge::new(
            "last_backup_timestamp_seconds",
            "When the last backup of this process ended (Unix time; 0: none yet)",
        )?;
        let last_backup_ok = IntGauge::new(
            "last_backup_success",
            "1 if the last backup succeeded, 0 if it failed or none was made",
        )?;
        let build = IntGaugeVec::new(
            Opts::new("build_info", "The running build"),
            &["version", "commit"],
        )?;
        build
            .with_label_values(&[crate::build_info::VERSION, crate::build_info::GIT_COMMIT])
            .set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(refusals.clone()))?;
        registry.register(Box::new(pool_waits.clone()))?;
        registry.register(Box::new(pool_wait_micros.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(tenant_dbs_open.clone()))?;
        registry.register(Box::new(license_state.clone()))?;
        registry.register(Box::new(license_days_left.clone()))?;
        registry.register(Box::new(seats.clone()))?;
        registry.register(Box::new(tenants.clone()))?;
        registry.register(Box::new(last_backup_time.clone()))?;
        registry.register(Box::new(last_backup_ok.clone()))?;
        registry.register(Box::new(build))?;
        Ok(Self {
            registry,
            requests,
            latency,
            refusals,
            pool_waits,
            pool_wait_micros,
            pool_connections,
            tenant_dbs_open,
            license_state,
            license_days_left,
            seats,
            tenants,
            last_backup_time,
            last_backup_ok,
        })
    }

    /// Counts one answered request (`route` a template, `code` its error code if refused).
    pub fn observe(
        &self,
        route: &str,
        method: &str,
        status: u16,
        code: Option<&str>,
        seconds: f64,
    ) {
        // Methods are any token a client sends: only the standard ones become labels.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
        if let Some(code) = code {
            self.refusals.with_label_values(&[code]).inc();
        }
    }

    /// Reads what is measured at scrape time, then renders everything.
    fn render(&self, state: &AppState, usage: Option<crate::license::Usage>) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let waits = state.control_db.pool_waits();
        catch_up(&self.pool_waits, waits.count.load(Relaxed));
        catch_up(&self.pool_wait_micros, waits.micros.load(Relaxed));
        let (connections, idle) = state.control_db.pool_state();
        self.pool_connections
            .with_label_values(&["idle"])
            .set(i64::from(idle));
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(connections.saturating_sub(idle)));
        self.tenant_dbs_open
            .set(i64::try_from(state.tenant_dbs.open_count()).unwrap_or(i64::MAX));
        let effective = state.license.effective();
        for name in LICENSE_STATES {
            let current = i64::from(effective.state.as_str() == *name);
            self.license_state.with_label_values(&[name]).set(current);
        }
        if let Some(days) = effective.days_left() {
            self.license_days_left.set(days);
        }
        self.seats
            .with_label_values(&["cap"])
            .set(i64::from(effective.max_seats));
        self.tenants
            .with_label_values(&["cap"])
            .set(i64::from(effective.max_tenants));
        if let Some(usage) = usage {
            self.seats
                .with_label_values(&["used"])
                .set(i64::from(usage.seats));
            self.tenants
                .with_label_values(&["used"])
                .set(i64::from(usage.tenants));
        }
        if let Some(last) = state.backups.last() {
            let at = time::OffsetDateTime::parse(
                &last.at,
                &time::format_description::well_known::Rfc3339,
            )
            .map_or(0, time::OffsetDateTime::unix_timestamp);
            self.last_backup_time.set(at);
            self.last_backup_ok.set(i64::from(last.ok));
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Moves `counter` up to `total` (counted elsewhere, never going down).
fn catch_up(counter: &IntCounter, total: u64) {
    let behind = total.saturating_sub(counter.get());
    if behind > 0 {
        counter.inc_by(behind);
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(read_only_resource("/metrics", scrape));
}

async fn scrape(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return Err(ApiError::new(ErrorCode::NotFound));
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let usage = state
        .control_db
        .run(|conn| crate::appliance::usage(conn))
        .await
        .ok();
    Ok(HttpResponse::Ok()
        .content_type(TextEncoder::new().format_type())
        .body(state.metrics.render(&state, usage)))
}
