//! The `holdfast` command line. Each command is a small function over the library; exit codes
//! are 0 for success, 1 for a refusal or failure (one line on stderr), 2 for bad usage.
//!
//! Every line for people goes through [`say!`] and every JSON document through
//! [`print_json`], which escape control characters and bidirectional overrides: stored or
//! attacker-reachable text (an audit entry's target, a tenant's name, a license's customer)
//! can neither forge a line nor reach the operator's terminal as an escape sequence. The lint
//! below keeps a bare `println!` out.
#![warn(clippy::print_stdout, clippy::print_stderr)]

/// `println!` for a line shown to people, with unsafe characters escaped.
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::say_line(format_args!($($arg)*)) };
}

mod admin;
mod audit;
mod backup;
mod config_cmd;
mod healthcheck;
mod import;
mod license;
mod migrate;
mod serve;
mod support;
mod tenant;
mod update;
mod user;
mod version;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::build_info::LONG_VERSION;
use crate::config::{self, ConfigSources, Loaded, LogFormat, Overrides};
use crate::text::{escape, escape_json};

#[derive(Debug, Parser)]
#[command(
    name = "holdfast",
    version = LONG_VERSION,
    about = "Holdfast: the self-hosted, multi-tenant CRM appliance",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
struct GlobalArgs {
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        help = "Data directory (databases, tenant files) [env: HOLDFAST_DATA_DIR]"
    )]
    data_dir: Option<PathBuf>,
    /// TOML config file; without it, the platform config file is read if it exists
    #[arg(long, global = true, value_name = "FILE", env = "HOLDFAST_CONFIG")]
    config: Option<PathBuf>,
    #[arg(
        long,
        global = true,
        value_enum,
        help = "Log format on stdout and in log files [env: HOLDFAST_LOG_FORMAT]"
    )]
    log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the appliance: web UI, API and background work
    Serve(serve::ServeArgs),
    /// Bring every database's schema up to date, then exit
    Migrate,
    /// Inspect the configuration
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
    /// Create and list the operators of the /admin console
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Check the audit logs' hash chains and show their entries
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Install a license key and see the license in force
    #[command(subcommand)]
    License(license::LicenseCommand),
    /// Create, list, suspend, resume and delete tenants
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Add users to tenants, list, deactivate and reactivate them, reset passwords
    #[command(subcommand)]
    User(user::UserCommand),
    /// Import a CSV file of contacts, companies or deals into a tenant (or check it first
    /// with --dry-run); all of it, or nothing
    Import(import::ImportArgs),
    /// Back up every database (consistent, while the server runs) into one archive with a
    /// manifest; `backup verify FILE` checks one
    Backup(backup::BackupArgs),
    /// Restore a backup into the data directory (the server stopped); what it replaces is
    /// kept aside
    Restore(backup::RestoreArgs),
    /// Write what a support desk asks for (version, redacted config, license status, schema
    /// versions, integrity checks, recent logs) into one file, nothing secret inside
    SupportBundle(support::SupportArgs),
    /// Check for a signed release and install it, keeping this binary for a rollback
    #[command(subcommand)]
    Update(update::UpdateCommand),
    /// Exit 0 when a running server answers /healthz (for Docker's HEALTHCHECK)
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Print version, git commit and build date
    Version(version::VersionArgs),
}

/// Parses the command line and runs it; what `main` returns.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Refusals often echo input (a slug, an address): escaped like every other line.
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {}", escape(&one_line(&format!("{err:#}"))));
            }
            ExitCode::from(1)
        }
    }
}

/// Prints one line for people; what [`say!`] calls.
fn say_line(args: std::fmt::Arguments<'_>) {
    write_line(&escape(&args.to_string()));
}

/// Prints `value` as pretty JSON, the characters its encoder leaves raw escaped too.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    write_line(&escape_json(&serde_json::to_string_pretty(value)?));
    Ok(())
}

/// Writes one line to standard output. When the reader has gone (`holdfast audit list |
/// head`, `… | grep -q`), the command has done its work and nobody wants the rest: stop
/// quietly with success, as other command-line tools do, rather than panic.
fn write_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(err) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        // Any other failure to write (a full disk behind a redirect) is worth saying.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("error: cannot write to standard output: {err}");
        }
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(&cli.global, &args),
        Command::Migrate => migrate::run(&cli.global),
        Command::Config(cmd) => config_cmd::run(&cli.global, &cmd),
        Command::Admin(cmd) => admin::run(&cli.global, &cmd),
        Command::Audit(cmd) => audit::run(&cli.global, &cmd),
        Command::License(cmd) => license::run(&cli.global, &cmd),
        Command::Tenant(cmd) => tenant::run(&cli.global, &cmd),
        Command::User(cmd) => user::run(&cli.global, &cmd),
        Command::Import(args) => import::run(&cli.global, &args),
        Command::Backup(args) => backup::run(&cli.global, &args),
        Command::Restore(args) => backup::restore(&cli.global, &args),
        Command::SupportBundle(args) => support::run(&cli.global, &args),
        Command::Update(cmd) => update::run(&cli.global, &cmd),
        Command::Healthcheck(args) => healthcheck::run(&cli.global, &args),
        Command::Version(args) => version::run(&args),
    }
}

impl GlobalArgs {
    /// Loads the layered configuration, with `listen` from a command's own flag if given.
    fn load_config(&self, listen: Option<String>) -> anyhow::Result<Loaded> {
        let sources = ConfigSources {
            explicit_file: self.config.clone(),
            default_files: config::default_config_files(),
            overrides: Overrides {
                listen,
                data_dir: self.data_dir.clone(),
                log_format: self.log_format,
            },
        };
        Ok(sources.load()?)
    }
}

/// Opens the control database (creating and migrating it if needed) for a one-shot command,
/// and records the time.
fn open_control_db(config: &config::Config) -> anyhow::Result<crate::storage::Database> {
    crate::web::prepare_data_dir(config)?;
    let path = config.control_db_path();
    let (db, _) = crate::storage::Database::open(&path, crate::storage::Schema::Control, 2)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // Every command that opens the control database moves the time high-water mark.
    crate::appliance::observe_time(&mut *db.conn()?, time::OffsetDateTime::now_utc())?;
    Ok(db)
}

/// Mails `letter` when SMTP is set, and says what happened; the link was printed anyway.
fn mail(config: &config::Config, letter: &crate::mail::Letter) {
    let Some(smtp) = &config.smtp else { return };
    match crate::mail::send(smtp, letter) {
        Ok(()) => say!("mailed to {}", letter.to),
        Err(err) => say!("not mailed to {}: {err}", letter.to),
    }
}

/// The audit log a command's action goes to.
enum AuditLog<'a> {
    /// The control database: appliance actions.
    Control(&'a crate::storage::Database),
    /// The tenant's own database: actions within a tenant.
    Tenant {
        config: &'a config::Config,
        db: &'a crate::storage::Database,
        slug: &'a str,
    },
}

/// How the audit log and the timeline name whoever runs a command: `cli:<login>`.
fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown user".to_owned())
    )
}

/// Records a command's action, whatever its outcome, with actor `cli`, and returns the
/// command's result. A refusal's stable code (the start of its message) is its outcome.
fn audited(
    log: &AuditLog<'_>,
    action: &str,
    target: String,
    result: anyhow::Result<()>,
) -> anyhow::Result<()> {
    use crate::audit::{NewEntry, Outcome};
    let outcome = match &result {
        Ok(()) => Outcome::Success,
        Err(err) => format!("{err}")
            .split_once(':')
            .and_then(|(code, _)| crate::error::ErrorCode::find(code))
            .map_or(Outcome::Failed, |code| Outcome::Refused(code.as_str())),
    };
    let entry = NewEntry {
        actor: cli_actor(),
        action: action.to_owned(),
        target,
        address: None,
        outcome,
    };
    let written = match log {
        AuditLog::Control(db) => {
            crate::audit::record(&mut *db.conn()?, &entry).map_err(anyhow::Error::from)
        }
        AuditLog::Tenant { config, db, slug } => (|| {
            let Ok(slug) = slug.parse() else { return Ok(0) };
            let Some(tenant) = crate::tenancy::registry::find(&*db.conn()?, &slug)? else {
                return Ok(0); // No such tenant: nothing was done there to record.
            };
            let databases = crate::tenancy::TenantDatabases::new(
                &config.tenants_dir(),
                std::num::NonZeroUsize::MIN,
            );
            let tenant_db = databases.get(&tenant.id.parse()?)?;
            Ok(crate::audit::record(&mut *tenant_db.conn()?, &entry)?)
        })(),
    };
    match (result, written) {
        (Ok(()), Err(err)) => Err(err.context("done, but the audit log could not be written")),
        (result, _) => result,
    }
}

/// One secret (a password) from standard input, without the shell's trailing line break.
fn read_secret_line() -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::io::stdin().take(4096).read_to_string(&mut text)?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    Ok(text.strip_suffix('\r').unwrap_or(text).to_owned())
}

/// Error messages are one line, whatever the cause chain held.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
