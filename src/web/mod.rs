//! The HTTP server: an [`Application`] that binds, serves and stops gracefully.
//!
//! Tests build the same `Application` on port 0 with a temporary data directory, so what they
//! exercise is exactly what `holdfast serve` runs.

pub(crate) mod admin;
pub mod answers;
pub(crate) mod archive_download;
mod assets;
pub(crate) mod audit_trail;
pub mod auth;
pub mod backups;
pub mod callers;
pub(crate) mod console;
pub mod endpoint;
mod extractors;
pub mod forwarded;
mod health;
pub mod hosts;
mod license_refresher;
pub mod mailer;
pub mod metrics;
mod openapi;
pub(crate) mod refusals;
mod request_span;
mod security_headers;
mod setup;
mod setup_page;
mod shutdown;
pub(crate) mod tenant;
mod tls;
mod trash_sweeper;
pub(crate) mod ui;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;

use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::license::{LicenseService, TrustedKeys};
use crate::storage::{Database, MigrationReport, Schema};
use crate::tenancy::TenantDatabases;

pub use request_span::RequestId;
pub use shutdown::StopSignals;

/// What every handler can reach. Cloned per worker; the pieces are cheap handles.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub control_db: Database,
    /// What the gates read about callers, kept while the control database is unchanged.
    pub callers: Arc<callers::CallerCache>,
    /// Answers to repeated reads, kept while their tenant's database is unchanged.
    pub answers: Arc<answers::AnswerCache>,
    pub license: Arc<LicenseService>,
    /// Tenant databases, opened on first use and bounded by `max_open_tenant_dbs`.
    pub tenant_dbs: Arc<TenantDatabases>,
    pub sign_in_throttle: Arc<crate::identity::throttle::SignInThrottle>,
    /// Failed redemptions of one-time links, per client address.
    pub link_throttle: Arc<crate::identity::throttle::Throttle>,
    /// Anonymous refusals written to the audit logs, per client address.
    pub anonymous_refusals: Arc<crate::identity::throttle::Throttle>,
    /// The last backup's result, and the one running.
    pub backups: Arc<backups::BackupState>,
    /// What `/metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
}

/// A bound, ready-to-run Holdfast server.
pub struct Application {
    server: Server,
    local_addr: SocketAddr,
    scheme: &'static str,
    migration: MigrationReport,
    state: AppState,
    setup_token: Option<String>,
    /// Held while serving, so that a restore never replaces databases under a server.
    _data_lock: crate::fsutil::DataDirLock,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("local_addr", &self.local_addr)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Prepares the data directory, opens and migrates the control database, and binds the
    /// listener. Nothing is served until [`Application::run_until_stopped`].
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let config = Arc::new(config);
        let (data_lock, control_db, migration, callers) =
            open_control_db(Arc::clone(&config)).await?;
        let license = {
            let db = control_db.clone();
            tokio::task::spawn_blocking(move || LicenseService::load(&db, TrustedKeys::builtin()))
                .await
                .context("license start-up task failed")?
                .context("cannot load the license")?
        };
        let license = Arc::new(license);
        let setup_token = {
            let db = control_db.clone();
            db.run(|conn| crate::identity::setup::issue_token(conn))
                .await
                .context("cannot prepare the one-time setup")?
        };
        tokio::spawn(license_refresher::run(Arc::clone(&license)));
        let state = AppState {
            config: Arc::clone(&config),
            control_db,
            callers: Arc::new(callers),
            answers: Arc::default(),
            license,
            tenant_dbs: Arc::new(TenantDatabases::new(
                &config.tenants_dir(),
                config.max_open_tenant_dbs,
            )),
            sign_in_throttle: Arc::default(),
            link_throttle: Arc::new(crate::identity::throttle::Throttle::new(
                crate::identity::throttle::ADDRESS_POLICY,
            )),
            anonymous_refusals: Arc::new(crate::identity::throttle::Throttle::new(
                audit_trail::ANONYMOUS_REFUSAL_BUDGET,
            )),
            backups: Arc::default(),
            metrics: Arc::default(),
        };

        tokio::spawn(trash_sweeper::run(state.clone()));
        tokio::spawn(backups::run(state.clone()));
        tokio::spawn(mailer::run(state.clone()));

        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let state_for_callers = state.clone();
        let max_body = config.max_body_bytes;
        let tls_enabled = config.tls.is_some();
        // Signals are ours to handle (see `shutdown`): actix would treat SIGINT as a forced stop.
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .configure(|cfg| extractors::configure(cfg, max_body))
                .configure(routes)
                .default_service(web::to(not_found))
                .wrap(from_fn(hosts::confine))
                .wrap(Compress::default())
                .wrap(security_headers::headers(tls_enabled))
                .wrap(from_fn(request_span::request_span))
        })
        .shutdown_timeout(config.shutdown_timeout.as_secs())
        .disable_signals();
        let (server, scheme) = match &config.tls {
            Some(paths) => {
                let tls = tls::server_config(paths)?;
                (server.listen_rustls_0_23(listener, tls)?, "https")
            }
            None => (server.listen(listener)?, "http"),
        };
        Ok(Self {
            server: server.run(),
            local_addr,
            scheme,
            migration,
            state: state_for_callers,
            setup_token,
            _data_lock: data_lock,
        })
    }

    /// The address actually bound (the real port when the config asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT` or `https://…`: where the server answers.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.local_addr)
    }

    /// What opening the control database migrated.
    /// The one-time setup address, while no operator exists. The token is in the fragment so
    /// that it never reaches access logs.
    pub fn setup_url(&self) -> Option<String> {
        let base = self
            .state
            .config
            .public_url
            .clone()
            .unwrap_or_else(|| self.base_url());
        self.setup_token
            .as_ref()
            .map(|token| format!("{base}/setup#token={token}"))
    }

    /// The one-time setup token, while no operator exists.
    pub fn setup_token(&self) -> Option<&str> {
        self.setup_token.as_deref()
    }

    pub fn migration(&self) -> &MigrationReport {
        &self.migration
    }

    /// What the handlers share: config, databases, the license.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A handle to stop the server: gracefully lets in-flight requests finish.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped by a signal or through the handle.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Creates the data directory layout, takes it, and opens the control database, and the
/// gates' cache of it, off the executor.
async fn open_control_db(
    config: Arc<Config>,
) -> anyhow::Result<(
    crate::fsutil::DataDirLock,
    Database,
    MigrationReport,
    callers::CallerCache,
)> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        prepare_data_dir(&config)?;
        let lock = crate::fsutil::DataDirLock::take(&config.data_dir).with_context(|| {
            format!(
                "another Holdfast server is running on {}",
                config.data_dir.display()
            )
        })?;
        let path = config.control_db_path();
        let cannot_open = || format!("cannot open {}", path.display());
        let (db, report) = Database::open(&path, Schema::Control, config.db_pool_size)
            .with_context(cannot_open)?;
        let callers = callers::CallerCache::open(&path).with_context(cannot_open)?;
        tidy_orphans(&config, &*db.conn()?);
        Ok((lock, db, report, callers))
    })
    .await
    .context("database start-up task failed")?
}

/// Moves tenant databases that no tenant owns (left by a crash while a tenant was being
/// created or deleted) to `orphans/`, saying so in the log. Blocking.
pub(crate) fn tidy_orphans(config: &Config, conn: &rusqlite::Connection) {
    let orphans = config.data_dir.join("orphans");
    match crate::tenancy::orphans::tidy(conn, &config.tenants_dir(), &orphans) {
        Ok(moved) => {
            for orphan in moved {
                tracing::warn!(
                    file = %orphan.file.display(),
                    moved_to = %orphan.moved_to.display(),
                    "a tenant database that no tenant owns was moved aside"
                );
            }
        }
        Err(err) => tracing::warn!("cannot look for tenant databases no tenant owns: {err}"),
    }
}

/// The data directory and its `tenants/` folder exist and are private (0700).
pub fn prepare_data_dir(config: &Config) -> anyhow::Result<()> {
    for dir in [&config.data_dir, &config.tenants_dir()] {
        crate::fsutil::create_private_dir(dir)
            .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    }
    Ok(())
}

fn routes(cfg: &mut web::ServiceConfig) {
    health::routes(cfg);
    metrics::routes(cfg);
    assets::routes(cfg);
    endpoint::register(cfg, ROOT_MODULES);
    endpoint::register(cfg, console::MODULES);
    // The operator API before the tenant API: `/api/v1/admin/…` is never a tenant route.
    admin::routes(cfg);
    tenant::routes(cfg);
}

/// The modules served at the root of the server.
const ROOT_MODULES: &[endpoint::Module] = &[setup::MODULE, openapi::MODULE];

/// Every API route, as declared in the route table.
pub fn api_endpoints() -> Vec<endpoint::Endpoint> {
    [ROOT_MODULES, admin::MODULES, tenant::MODULES]
        .iter()
        .flat_map(|modules| endpoint::endpoints_of(modules))
        .collect()
}

/// Every page of the tenant app, as declared in the route table.
pub fn page_endpoints() -> Vec<endpoint::Endpoint> {
    endpoint::endpoints_of(ui::MODULES)
}

/// Every page of the operator console, as declared in the route table.
pub fn console_endpoints() -> Vec<endpoint::Endpoint> {
    endpoint::endpoints_of(console::MODULES)
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound))
}

/// The fallback of a resource whose path matched but whose methods did not.
async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::MethodNotAllowed))
}

/// A read-only resource: `handler` answers GET and HEAD; any other method gets
/// `method_not_allowed` through the error table.
pub(crate) fn read_only_resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args> + Clone,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(method_not_allowed))
}
