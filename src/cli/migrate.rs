use anyhow::Context;

use super::GlobalArgs;
use crate::storage::{Database, Schema};

/// Applies pending migrations to the control database. Running it again changes nothing.
pub fn run(global: &GlobalArgs) -> anyhow::Result<()> {
    let config = global.load_config(None)?.config;
    crate::web::prepare_data_dir(&config)?;
    let path = config.control_db_path();
    let (db, report) = Database::open(&path, Schema::Control, 1)
        .with_context(|| format!("cannot migrate {}", path.display()))?;
    crate::appliance::observe_time(&mut *db.conn()?, time::OffsetDateTime::now_utc())?;
    if report.applied.is_empty() {
        say!(
            "control database {}: up to date at schema version {}",
            path.display(),
            report.to
        );
    } else {
        let names: Vec<String> = report
            .applied
            .iter()
            .map(|(version, name)| format!("{version:04}_{name}"))
            .collect();
        say!(
            "control database {}: migrated from schema version {} to {} ({})",
            path.display(),
            report.from,
            report.to,
            names.join(", ")
        );
    }
    Ok(())
}
