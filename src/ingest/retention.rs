//! Stream events are kept for pairing and dedupe; once delivered and older than the record
//! retention, they are pruned in small batches, at start and then every hour.

use std::sync::Arc;

use tokio::sync::watch;

use crate::api::error_chain;
use crate::clock::Clock;
use crate::storage::Store;

const INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Prunes until `shutdown` turns true.
pub async fn run(
    store: Arc<dyn Store>,
    clock: Clock,
    days: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let cutoff = clock.now() - time::Duration::days(i64::from(days));
        match store.prune_events(cutoff).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, days, "pruned delivered stream events"),
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "stream event pruning failed")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = shutdown.changed() => return,
        }
    }
}
