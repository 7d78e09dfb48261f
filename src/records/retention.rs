//! Retention: notify records older than the configured number of days, and delivered stream
//! events as old (kept until then for pairing and dedupe), are deleted in small batches, once
//! at start and then every hour, so pruning never stalls the service.

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
        match store.prune_records(cutoff).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, days, "pruned notify records"),
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "notify record pruning failed")
            }
        }
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
