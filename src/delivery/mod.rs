//! Callback delivery: the worker that takes queued stream events to each customer's NotifyUrl
//! as Alibaba stream callbacks, signs and retries them, and records every attempt as a notify
//! record.
//!
//! - [`callback`] builds the request (parameters, query, signature headers);
//! - [`target`] decides which addresses may be connected to;
//! - [`sender`] sends it and describes the outcome; [`response_body`] caps what is kept;
//! - [`retry`] is the schedule; [`attempt`] is one attempt, start to stored record;
//! - [`worker`] claims deliveries from the queue and runs attempts concurrently;
//!   [`handoff`] passes it fresh deliveries that ingest leased as it queued them.

pub mod attempt;
pub mod callback;
pub mod config;
pub mod handoff;
pub mod response_body;
pub mod retry;
pub mod sender;
pub mod target;
pub mod worker;

use std::sync::Arc;

use tokio::sync::{watch, Notify};

pub use config::{DeliveryConfig, DeliveryFileConfig, DeliveryOverrides};
pub use sender::SenderError;

use crate::clock::Clock;
use crate::ops::Metrics;
use crate::storage::Store;

/// Starts the worker on the current runtime; it runs until `shutdown` turns true and then
/// drains. `wake` is notified by ingest whenever it queues an event the worker must claim;
/// attempts are counted in `metrics`. Also returns the handoff for ingest, when the store
/// can lease a delivery as it queues it.
pub fn spawn(
    store: Arc<dyn Store>,
    config: DeliveryConfig,
    clock: Clock,
    node: String,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
    metrics: Arc<Metrics>,
) -> Result<(tokio::task::JoinHandle<()>, Option<Arc<handoff::Handoff>>), SenderError> {
    let policy = target::TargetPolicy {
        allow_private: config.allow_private_targets,
    };
    let attempts = attempt::Attempts {
        store,
        sender: sender::Sender::new(policy, config.timeout)?,
        retry: config.retry.clone(),
        clock,
        metrics,
    };
    if config.allow_private_targets {
        tracing::warn!("callbacks may go to private, loopback and link-local addresses");
    }
    let (worker, handoff) = worker::Worker::new(attempts, config, node, wake);
    Ok((tokio::spawn(worker.run(shutdown)), handoff))
}
