//! Retention: records older than the configured number of days are deleted in small batches,
//! once at start and then every hour, so pruning never stalls the service.

use std::sync::Arc;

use tokio::sync::watch;

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
            Err(error) => tracing::warn!(error = %error, "notify record pruning failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(INTERVAL) => {}
            _ = shutdown.changed() => return,
        }
    }
}
