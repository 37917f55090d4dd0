//! Keeps the server's cached license current: picks up a key installed by the CLI within
//! seconds, records the time (the high-water mark) once a minute, and lets a pre-installed
//! renewal take over when its not-before second comes. Signatures are only checked when the
//! stored keys change.

use std::sync::Arc;
use std::time::Duration;

use crate::license::LicenseService;

/// How often the server looks for a newly installed key (one small read).
pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);
/// How often the time high-water mark is written.
const OBSERVE_EVERY: u32 = 30;

pub async fn run(license: Arc<LicenseService>) {
    let mut ticks: u32 = 0;
    let mut interval = tokio::time::interval(CHECK_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        ticks = ticks.wrapping_add(1);
        let observe = ticks.is_multiple_of(OBSERVE_EVERY);
        let service = Arc::clone(&license);
        let before = service.effective().state;
        let result = tokio::task::spawn_blocking(move || {
            service.refresh(observe)?;
            Ok::<_, crate::storage::StorageError>(service.effective().state)
        })
        .await;
        match result {
            Ok(Ok(after)) if after != before => {
                tracing::info!("license state is now {}", after.as_str());
            }
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!("cannot refresh the license: {err}"),
            Err(_) => return, // The runtime is shutting down.
        }
    }
}
