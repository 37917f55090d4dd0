//! Graceful shutdown: SIGTERM (systemd, Docker) and SIGINT (Ctrl-C) both stop accepting new
//! connections and let in-flight requests finish, up to `shutdown_timeout_secs`. A second
//! signal stops at once.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The stop signals, watched from the moment this exists: install it before announcing that
/// the server listens, so that no signal can arrive while the default action (exit at once)
/// still applies.
#[derive(Debug)]
pub struct StopSignals {
    term: Signal,
    int: Signal,
}

impl StopSignals {
    pub fn install() -> std::io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }

    /// Waits for a stop signal, then stops the server gracefully.
    pub async fn stop_gracefully(mut self, handle: ServerHandle, timeout: Duration) {
        let name = self.next().await;
        tracing::info!(
            "{name} received: finishing in-flight requests (at most {} s)",
            timeout.as_secs()
        );
        let graceful = handle.stop(true);
        tokio::select! {
            () = graceful => {}
            name = self.next() => {
                tracing::warn!("{name} received again: stopping now");
                handle.stop(false).await;
            }
        }
    }
}
