//! Graceful shutdown: SIGTERM (systemd, Docker) and SIGINT (Ctrl-C) both stop accepting new
//! connections and let in-flight requests finish, up to `shutdown_timeout_secs`. A second
//! signal stops at once.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::signal::unix::{SignalKind, signal};

/// Waits for SIGTERM or SIGINT, then stops the server gracefully.
pub async fn stop_on_signals(handle: ServerHandle, timeout: Duration) {
    let Some(name) = next_stop_signal().await else {
        return;
    };
    tracing::info!(
        "{name} received: finishing in-flight requests (at most {} s)",
        timeout.as_secs()
    );
    let graceful = handle.stop(true);
    tokio::select! {
        () = graceful => {}
        Some(name) = next_stop_signal() => {
            tracing::warn!("{name} received again: stopping now");
            handle.stop(false).await;
        }
    }
}

/// The name of the next stop signal, or `None` if signals cannot be watched (then the server
/// runs until stopped some other way, which is still correct).
async fn next_stop_signal() -> Option<&'static str> {
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(err), _) | (_, Err(err)) => {
            tracing::error!("cannot watch stop signals: {err}");
            return None;
        }
    };
    tokio::select! {
        _ = term.recv() => Some("SIGTERM"),
        _ = int.recv() => Some("SIGINT"),
    }
}
