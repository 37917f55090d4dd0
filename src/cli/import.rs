//! `holdfast import`: a CSV file into a tenant, read where it is, with the same checks,
//! dry run, duplicates policy, progress and all-or-nothing as an import through the API.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::GlobalArgs;
use crate::crm::import::{self, Duplicates, Files, Import, Plan, Runner, State, columns};
use crate::crm::{Actor, Kind};
use crate::identity::{Role, users};
use crate::license::{LicenseService, TrustedKeys};
use crate::storage::open_connection;
use crate::tenancy::{Slug, TenantDatabases, registry};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RecordType {
    Contacts,
    Companies,
    Deals,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DuplicatesArg {
    Skip,
    Update,
    Create,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tenant's slug
    #[arg(long)]
    tenant: String,
    /// What the file holds
    #[arg(long = "type", value_enum)]
    record_type: RecordType,
    /// The CSV file (UTF-8; `,`, `;` or tab between fields)
    file: PathBuf,
    /// Check the file and say what an import would do, changing nothing
    #[arg(long)]
    dry_run: bool,
    /// What a row that matches an existing record does
    #[arg(long, value_enum, default_value = "skip")]
    duplicates: DuplicatesArg,
    /// The field rows match existing records on: email, domain, id or custom.KEY
    #[arg(long = "match", value_name = "FIELD")]
    match_on: Option<String>,
    /// Map a column to a field: "Column=field" ("Column=" ignores it); repeatable
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// Make a text custom field of each column that matches no field
    #[arg(long)]
    unmatched_to_custom: bool,
    /// Where to write the rejected rows as CSV [default: FILE.rejected.csv, if any]
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Print the import as JSON when it ends
    #[arg(long)]
    json: bool,
}

pub fn run(global: &GlobalArgs, args: &ImportArgs) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    let control = super::open_control_db(&config)?;
    let slug: Slug = args
        .tenant
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid slug {:?}: {e}", args.tenant))?;
    let tenant = registry::find(&*control.conn()?, &slug)?
        .ok_or_else(|| anyhow::anyhow!("tenant_not_found: no tenant with slug {}", args.tenant))?;
    let kind = match args.record_type {
        RecordType::Contacts => Kind::Contact,
        RecordType::Companies => Kind::Company,
        RecordType::Deals => Kind::Deal,
    };
    let plan = plan(args)?;
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    if size > config.max_import_bytes {
        anyhow::bail!(
            "payload_too_large: the file has {size} bytes; max_import_bytes allows {}",
            config.max_import_bytes
        );
    }
    if !args.dry_run {
        may_write(&control).map_err(anyhow::Error::msg)?;
    }
    let users: Vec<(String, String)> = users::list(&*control.conn()?, &tenant.id)?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let databases = TenantDatabases::new(&config.tenants_dir(), NonZeroUsize::MIN);
    let db = databases.get(&tenant.id.parse()?)?;
    let files = Files::new(&config.data_dir, &tenant.id);
    let mut conn = open_connection(db.path())?;
    import::recover(&mut conn, &files)?;
    let actor = Actor {
        name: super::cli_actor(),
        user_id: None,
        role: Role::Owner,
    };
    let preview = import::preview(&conn, &args.file, kind)
        .map_err(|e| anyhow::anyhow!("invalid_file: {e}"))?;
    let id = crate::crm::new_id();
    let file_name = args
        .file
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    // The run's lock is taken before the import says it runs, so a recovery (by the server,
    // say) can never take it for one that lost its runner.
    let held = files
        .hold(&id)?
        .context("the import's lock is held by another process")?;
    {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        import::ledger::create(
            &tx,
            &import::ledger::NewImport {
                id: &id,
                kind,
                file_name: &file_name,
                file_bytes: i64::try_from(size).unwrap_or(i64::MAX),
                header: &preview.header,
                delimiter: preview.delimiter.chars().next().unwrap_or(','),
                actor: &actor.name,
            },
        )?;
        import::ledger::begin(&tx, &id, &plan, args.dry_run)
            .map_err(|e| anyhow::anyhow!("conflict: {e}"))?;
        tx.commit()?;
    }
    let runner = Runner {
        actor,
        users,
        authority: {
            let (control, dry_run) = (control.clone(), args.dry_run);
            Box::new(move || if dry_run { Ok(()) } else { may_write(&control) })
        },
    };
    let ended = watch(db.path(), &id, || {
        import::run(&mut conn, &id, &args.file, &runner)
    })?;
    drop(held);
    report(&ended, args, &db)
}

/// Whether the license still lets data change (read again: it may pass its grace while a
/// long import runs).
fn may_write(control: &crate::storage::Database) -> Result<(), String> {
    LicenseService::load(control, TrustedKeys::builtin())
        .map_err(|e| e.to_string())?
        .effective()
        .may_write()
        .map_err(|e| format!("read_only: {e}"))
}

/// Runs `work` while printing the import's progress to standard error every few seconds.
fn watch(
    path: &Path,
    id: &str,
    work: impl FnOnce() -> Result<Import, crate::crm::CrmError>,
) -> anyhow::Result<Import> {
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let Ok(conn) = open_connection(path) else {
                return;
            };
            let mut waited = Duration::ZERO;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                waited += Duration::from_millis(100);
                if waited < Duration::from_secs(2) {
                    continue;
                }
                waited = Duration::ZERO;
                if let Ok(now) = import::ledger::get(&conn, id) {
                    progress_line(&now);
                }
            }
        });
        let result = work();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        result.map_err(anyhow::Error::from)
    })
}

#[allow(clippy::print_stderr)] // Progress is for the operator watching, not for a pipe.
fn progress_line(import: &Import) {
    let p = import.progress;
    eprintln!(
        "{:>5.1} %  {} rows  {} rows/s{}",
        p.percent,
        import.counts.rows,
        p.rows_per_second,
        p.seconds_left
            .map(|s| format!("  about {s} s left"))
            .unwrap_or_default()
    );
}

fn plan(args: &ImportArgs) -> anyhow::Result<Plan> {
    let mut mapping = columns::Mapping::default();
    for pair in &args.map {
        let (column, field) = pair
            .split_once('=')
            .with_context(|| format!("--map {pair:?} must be COLUMN=FIELD"))?;
        let field = field.trim();
        mapping.columns.insert(
            column.trim().to_owned(),
            (!field.is_empty()).then(|| field.to_owned()),
        );
    }
    if args.unmatched_to_custom {
        mapping.unmatched = columns::Unmatched::Custom;
    }
    Ok(Plan {
        mapping,
        duplicates: match args.duplicates {
            DuplicatesArg::Skip => Duplicates::Skip,
            DuplicatesArg::Update => Duplicates::Update,
            DuplicatesArg::Create => Duplicates::Create,
        },
        match_on: args.match_on.clone(),
    })
}

/// Says how the import ended, writes the rejected rows, and fails unless it was done (or
/// checked).
fn report(ended: &Import, args: &ImportArgs, db: &crate::storage::Database) -> anyhow::Result<()> {
    let c = ended.counts;
    let rejects_path = args.rejects.clone().unwrap_or_else(|| {
        let mut name = args.file.clone().into_os_string();
        name.push(".rejected.csv");
        PathBuf::from(name)
    });
    if c.rejected > 0 {
        write_rejects(db, ended, &rejects_path)?;
    }
    if args.json {
        super::print_json(ended)?;
    } else {
        say!(
            "import {} {}{}: {} rows, {} created, {} updated, {} skipped, {} rejected, {} companies created",
            ended.id,
            ended.state.as_str(),
            if ended.dry_run {
                " (dry run: nothing was changed)"
            } else {
                ""
            },
            c.rows,
            c.created,
            c.updated,
            c.skipped,
            c.rejected,
            c.companies_created
        );
        if let Some(examples) = ended
            .outcome
            .get("skipped_examples")
            .and_then(|v| v.as_array())
        {
            for example in examples.iter().take(5).filter_map(|e| e.as_str()) {
                say!("  skipped {example}");
            }
        }
        if c.rejected > 0 {
            say!(
                "rejected rows, with their line and reason: {}",
                rejects_path.display()
            );
        }
    }
    match ended.state {
        State::Done | State::Checked => Ok(()),
        _ => anyhow::bail!(
            "import_failed: {}",
            ended
                .failure
                .as_deref()
                .unwrap_or("the import did not finish")
        ),
    }
}

fn write_rejects(db: &crate::storage::Database, ended: &Import, path: &Path) -> anyhow::Result<()> {
    let conn = db.conn()?;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    let mut after = 0;
    let mut first = true;
    loop {
        let page = import::ledger::rejected(&conn, ended.seq, after, import::REJECTS_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.line;
        out = import::write_rejected(out, &ended.header, &page, first)?;
        first = false;
    }
    std::io::Write::flush(&mut out)?;
    Ok(())
}
