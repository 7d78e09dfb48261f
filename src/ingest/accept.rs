//! Accepting a hook event: find the ingest domain, skip it when the domain has no callback
//! configuration, and otherwise queue the event and its delivery durably before answering.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use super::config::IngestConfig;
use super::hook::{HookError, HookEvent};
use crate::clock::Clock;
use crate::delivery::handoff::Handoff;
use crate::ops::Metrics;
use crate::storage::queue::{Enqueued, PublishSession, StreamEvent};
use crate::storage::{IngestDomain, Store};

/// What became of a hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// Stored with its pending delivery.
    Queued { event_id: String },
    /// The session's stop was already accepted, or the source repeated an event id.
    Duplicate,
    /// The domain has no callback configuration: nothing to deliver.
    NoConfig,
    /// No such ingest domain: acknowledged so the media server is not blocked.
    UnknownDomain,
    /// A call that is not a publish start or stop (a play, say).
    Ignored,
}

impl Acceptance {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued { .. } => "queued",
            Self::Duplicate => "duplicate",
            Self::NoConfig => "no_config",
            Self::UnknownDomain => "unknown_domain",
            Self::Ignored => "ignored",
        }
    }
}

/// How many hooks ended each way since the start.
#[derive(Debug, Default)]
pub struct IngestCounters {
    queued: AtomicU64,
    duplicate: AtomicU64,
    no_config: AtomicU64,
    unknown_domain: AtomicU64,
    ignored: AtomicU64,
}

impl IngestCounters {
    fn count(&self, acceptance: &Acceptance) {
        let counter = match acceptance {
            Acceptance::Queued { .. } => &self.queued,
            Acceptance::Duplicate => &self.duplicate,
            Acceptance::NoConfig => &self.no_config,
            Acceptance::UnknownDomain => &self.unknown_domain,
            Acceptance::Ignored => &self.ignored,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The count of hooks that ended as `kind` (an [`Acceptance::as_str`] value).
    pub fn get(&self, kind: &str) -> u64 {
        let counter = match kind {
            "queued" => &self.queued,
            "duplicate" => &self.duplicate,
            "no_config" => &self.no_config,
            "unknown_domain" => &self.unknown_domain,
            "ignored" => &self.ignored,
            _ => return 0,
        };
        counter.load(Ordering::Relaxed)
    }
}

/// The ingest side of the pipeline.
pub struct Ingest {
    store: Arc<dyn Store>,
    clock: Clock,
    config: IngestConfig,
    wake: Arc<Notify>,
    handoff: Option<Arc<Handoff>>,
    counters: IngestCounters,
    metrics: Arc<Metrics>,
}

impl Ingest {
    /// A queued event goes to the worker through `handoff` when there is one and the worker
    /// has room; otherwise `wake` is notified, so the worker claims it at once.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Clock,
        config: IngestConfig,
        wake: Arc<Notify>,
        handoff: Option<Arc<Handoff>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            store,
            clock,
            config,
            wake,
            handoff,
            counters: IngestCounters::default(),
            metrics,
        }
    }

    /// Where hook calls are counted by source and outcome.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn config(&self) -> &IngestConfig {
        &self.config
    }

    pub fn counters(&self) -> &IngestCounters {
        &self.counters
    }

    /// Accepts a parsed hook (`None`: a call that is not a publish start or stop).
    pub async fn accept(&self, hook: Option<HookEvent>) -> Result<Acceptance, HookError> {
        let acceptance = match hook {
            Some(hook) => self.accept_event(hook).await?,
            None => Acceptance::Ignored,
        };
        self.counters.count(&acceptance);
        Ok(acceptance)
    }

    async fn accept_event(&self, hook: HookEvent) -> Result<Acceptance, HookError> {
        hook.refuse_nul()?;
        let Some(domain) = self
            .store
            .domain_by_name(&hook.domain)
            .await
            .map_err(HookError::Store)?
        else {
            tracing::warn!(
                domain = %hook.domain,
                source = hook.source.as_str(),
                "hook for an unknown ingest domain",
            );
            return Ok(Acceptance::UnknownDomain);
        };
        if self
            .store
            .notify_config(&domain)
            .await
            .map_err(HookError::Store)?
            .is_none()
        {
            tracing::debug!(
                domain = %domain.name,
                "no callback configured for the domain; event not queued",
            );
            return Ok(Acceptance::NoConfig);
        }

        let event = self.stream_event(hook, domain);
        let (event_id, domain, action) =
            (event.id.clone(), event.domain.name.clone(), event.action);
        let stream = (
            event.domain.id,
            event.session.app.clone(),
            event.session.stream.clone(),
        );
        let lease = self
            .handoff
            .as_ref()
            .and_then(|handoff| handoff.lease(event.received_at));
        let (enqueued, handed) = match lease {
            Some(lease) => self.store.enqueue_handed(event, lease).await,
            None => self.store.enqueue_event(event).await.map(|e| (e, None)),
        }
        .map_err(HookError::Store)?;
        match enqueued {
            Enqueued::Queued { paired_with, .. } => {
                match (handed, &self.handoff) {
                    (Some(delivery), Some(handoff)) => handoff.give(delivery),
                    (None, Some(handoff)) => {
                        handoff.note_behind(stream);
                        self.wake.notify_one();
                    }
                    (_, None) => self.wake.notify_one(),
                }
                tracing::debug!(
                    event_id,
                    domain = %domain,
                    action = action.as_str(),
                    paired_with,
                    "stream event queued",
                );
                Ok(Acceptance::Queued { event_id })
            }
            Enqueued::Duplicate(why) => {
                tracing::debug!(
                    domain = %domain,
                    action = action.as_str(),
                    reason = ?why,
                    "duplicate stream event dropped",
                );
                Ok(Acceptance::Duplicate)
            }
        }
    }

    fn stream_event(&self, hook: HookEvent, domain: IngestDomain) -> StreamEvent {
        let received_at = self.clock.now();
        StreamEvent {
            // Time-ordered (version 7), so the id indexes grow at one end instead of taking
            // a write on a random page for every event.
            id: uuid::Uuid::now_v7().to_string(),
            domain,
            session: PublishSession {
                app: hook.app,
                stream: hook.stream,
                client_id: hook.client_id,
            },
            action: hook.action,
            client_ip: hook.client_ip,
            usrargs: hook.usrargs,
            node: hook.node.unwrap_or_else(|| self.config.node.clone()),
            height: hook.height,
            width: hook.width,
            time: hook.time.unwrap_or(received_at),
            received_at,
            source: hook.source,
            source_event_id: hook.source_event_id,
            paired_with: None,
        }
    }
}
