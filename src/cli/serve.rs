use clap::Args;

use super::GlobalArgs;
use crate::build_info::LONG_VERSION;
use crate::config::describe_file;
use crate::license::LicenseService;
use crate::telemetry;
use crate::web::{Application, StopSignals};

/// Says at start which license is in force, and loudly when the demo key is trusted.
fn log_license(license: &LicenseService) {
    if license.trusted().demo_key_trusted() {
        tracing::warn!(
            "DEMO VENDOR KEY TRUSTED: this build accepts license keys signed with the demo key \
             committed in the source; anyone can issue them. Build with HOLDFAST_TRUSTED_KEYS \
             for production."
        );
    }
    let effective = license.effective();
    let status = license.status(crate::license::Usage::default());
    tracing::info!(
        "license: {} ({}); instance id {}",
        effective.state.as_str(),
        status.customer.as_deref().map_or_else(
            || "community limits".to_owned(),
            |c| format!("{c}, {}", status.edition.as_deref().unwrap_or_default())
        ),
        license.instance_id()
    );
    for problem in &status.problems {
        tracing::warn!("license: {problem}");
    }
    if status.clock_set_back {
        tracing::warn!(
            "the system clock is more than a day behind the latest time this appliance has seen"
        );
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(
        long,
        value_name = "ADDR",
        help = "Address and port to listen on, e.g. 0.0.0.0:8080 [env: HOLDFAST_LISTEN]"
    )]
    listen: Option<String>,
}

/// Runs the server until SIGTERM or SIGINT, then lets in-flight requests finish and exits 0.
pub fn run(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let loaded = global.load_config(args.listen.clone())?;
    let config = loaded.config;
    let shutdown_timeout = config.shutdown_timeout;
    let _log_guard = telemetry::init(&config)?;
    tracing::info!("Holdfast {LONG_VERSION} starting");
    tracing::info!("data directory: {}", config.data_dir.display());
    tracing::info!(
        "log directory: {} (daily files, kept {} days)",
        config.log_dir.display(),
        config.log_retention_days
    );
    tracing::info!("config file: {}", describe_file(loaded.file.as_deref()));

    // actix's own system runtime: its workers track open connections, which graceful
    // shutdown waits for.
    let result = actix_web::rt::System::new().block_on(async {
        let app = Application::build(config).await?;
        let migration = app.migration();
        if migration.applied.is_empty() {
            tracing::info!("control database at schema version {}", migration.to);
        } else {
            tracing::info!(
                "control database migrated from schema version {} to {}",
                migration.from,
                migration.to
            );
        }
        log_license(&app.state().license);
        let signals = StopSignals::install()?;
        actix_web::rt::spawn(signals.stop_gracefully(app.handle(), shutdown_timeout));
        if let Some(url) = app.setup_url() {
            // On stdout only, not in the log files: the token is a one-time secret.
            say!("Holdfast is not set up yet. Open this one-time setup address: {url}");
            say!(
                "(or create the first operator with: holdfast admin create --email E --password-stdin)"
            );
        }
        tracing::info!("listening on {}", app.base_url());
        app.run_until_stopped().await?;
        anyhow::Ok(())
    });
    match &result {
        Ok(()) => tracing::info!("Holdfast stopped"),
        Err(err) => tracing::error!("Holdfast failed: {err:#}"),
    }
    result
}
