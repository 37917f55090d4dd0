//! Purges what has been in each tenant's trash longer than the tenant keeps it, once an hour
//! (and refreshes each database's planner statistics, tidies up imports, and moves aside
//! tenant databases no tenant owns),
//! so deleted data really goes even from a tenant nobody opens. Not while the appliance is
//! read-only: then nothing changes, expired records are only left out of the trash's list.

use std::time::Duration;

use rusqlite::TransactionBehavior;

use super::AppState;
use crate::tenancy::registry;

/// How often every tenant's trash is swept, and how long after start the first sweep runs.
const EVERY: Duration = Duration::from_secs(60 * 60);
const FIRST_AFTER: Duration = Duration::from_secs(60);

pub async fn run(state: AppState) {
    tokio::time::sleep(FIRST_AFTER).await;
    let mut interval = tokio::time::interval(EVERY);
    loop {
        interval.tick().await;
        let tidy = state.clone();
        match tokio::task::spawn_blocking(move || tidy_imports(&tidy)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!("cannot tidy up imports: {err:#}"),
            Err(_) => return,
        }
        if state.license.effective().may_write().is_err() {
            continue;
        }
        let state = state.clone();
        match tokio::task::spawn_blocking(move || sweep(&state)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(purged)) => tracing::info!(purged, "purged records past the trash's retention"),
            Ok(Err(err)) => tracing::warn!("cannot sweep the trash: {err:#}"),
            Err(_) => return, // The runtime is shutting down.
        }
    }
}

/// Moves aside tenant databases no tenant owns, takes back the imports that lost their
/// runner (Holdfast or the CLI stopped while they ran) and forgets files uploaded but not
/// imported within a day. Also while read-only: this only undoes. Blocking.
fn tidy_imports(state: &AppState) -> anyhow::Result<()> {
    super::tidy_orphans(&state.config, &*state.control_db.conn()?);
    for tenant in registry::list(&*state.control_db.conn()?)? {
        let db = state.tenant_dbs.get(&tenant.id.parse()?)?;
        let files = crate::crm::import::Files::new(&state.config.data_dir, &tenant.id);
        let mut conn = db.conn()?;
        let recovered = crate::crm::import::recover(&mut conn, &files)?;
        let expired = crate::crm::import::expire_waiting(&conn, &files)?;
        if recovered + expired > 0 {
            tracing::info!(tenant = %tenant.slug, recovered, expired, "tidied up imports");
        }
    }
    Ok(())
}

/// Sweeps every active tenant's trash; returns how many records went. Blocking.
fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let tenants = registry::list(&*state.control_db.conn()?)?;
    let mut purged = 0;
    for tenant in tenants {
        let id = tenant.id.parse()?;
        let db = state.tenant_dbs.get(&id)?;
        let mut conn = db.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        purged += crate::crm::trash::purge_expired(&tx)?;
        tx.commit()?;
        // Keep the planner's statistics fresh as the tenant grows (bounded work).
        crate::tenancy::statistics::refresh(&conn)?;
    }
    Ok(purged)
}
