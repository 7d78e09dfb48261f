//! The service's Prometheus metrics: one [`Metrics`] value, made in `serve` and handed to the
//! API, the hooks and the delivery worker, which count into it. No global registry: each
//! server (and each test) has its own. Queue depth and age are read from the store when
//! `/metrics` is scraped, so they are never stale.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use time::OffsetDateTime;

use crate::storage::queue::QueueBacklog;

/// Delivery latency buckets, in seconds: a callback answers in milliseconds or times out.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Storage latency buckets, in seconds.
const STORAGE_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Why the metrics could not be set up or written.
#[derive(Debug, thiserror::Error)]
#[error("metrics")]
pub struct MetricsError(#[from] prometheus::Error);

/// Every metric livenotify exports, in one registry.
pub struct Metrics {
    registry: Registry,
    hooks: IntCounterVec,
    attempts: IntCounterVec,
    deliveries: IntCounterVec,
    latency: HistogramVec,
    api: IntCounterVec,
    storage: HistogramVec,
    queue_depth: IntGauge,
    queue_oldest: Gauge,
    store_up: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new();
        let metrics = Self {
            hooks: counter(
                "livenotify_hook_requests_total",
                "Hook calls by source and outcome.",
                &["source", "outcome"],
            )?,
            attempts: counter(
                "livenotify_callback_attempts_total",
                "Callback attempts by result (success or failed).",
                &["result"],
            )?,
            deliveries: counter(
                "livenotify_deliveries_finished_total",
                "Deliveries that left the queue: delivered, gave_up or dropped.",
                &["outcome"],
            )?,
            latency: histogram(
                "livenotify_callback_latency_seconds",
                "Time from sending a callback to the end of its answer, by result.",
                &["result"],
                LATENCY_BUCKETS,
            )?,
            api: counter(
                "livenotify_api_requests_total",
                "API requests by action and code (OK for a success).",
                &["action", "code"],
            )?,
            storage: histogram(
                "livenotify_storage_seconds",
                "Latency of store operations, by operation.",
                &["operation"],
                STORAGE_BUCKETS,
            )?,
            queue_depth: IntGauge::new(
                "livenotify_queue_depth",
                "Deliveries queued or in flight, read at scrape time.",
            )?,
            queue_oldest: Gauge::new(
                "livenotify_queue_oldest_age_seconds",
                "Age of the oldest pending delivery's event (0 when empty), read at scrape time.",
            )?,
            store_up: IntGauge::new(
                "livenotify_store_up",
                "1 when the store answered the scrape's queue query, else 0.",
            )?,
            registry,
        };
        metrics.register_all()?;
        Ok(metrics)
    }

    fn register_all(&self) -> Result<(), MetricsError> {
        let collectors: [Box<dyn prometheus::core::Collector>; 9] = [
            Box::new(self.hooks.clone()),
            Box::new(self.attempts.clone()),
            Box::new(self.deliveries.clone()),
            Box::new(self.latency.clone()),
            Box::new(self.api.clone()),
            Box::new(self.storage.clone()),
            Box::new(self.queue_depth.clone()),
            Box::new(self.queue_oldest.clone()),
            Box::new(self.store_up.clone()),
        ];
        for collector in collectors {
            self.registry.register(collector)?;
        }
        Ok(())
    }

    /// A hook call from `source` (`nginx-rtmp`, `srs`, `events`) that ended as `outcome`.
    pub fn hook(&self, source: &str, outcome: &str) {
        self.hooks.with_label_values(&[source, outcome]).inc();
    }

    /// One callback attempt and its latency.
    pub fn attempt(&self, success: bool, latency: std::time::Duration) {
        let result = if success { "success" } else { "failed" };
        self.attempts.with_label_values(&[result]).inc();
        self.latency
            .with_label_values(&[result])
            .observe(latency.as_secs_f64());
    }

    /// A delivery left the queue as `outcome` (`delivered`, `gave_up`, `dropped`).
    pub fn delivery_finished(&self, outcome: &str) {
        self.deliveries.with_label_values(&[outcome]).inc();
    }

    /// An API request for `action` answered with `code` (`OK` for a success).
    pub fn api_request(&self, action: &str, code: &str) {
        self.api.with_label_values(&[action, code]).inc();
    }

    /// A store operation took `elapsed`.
    pub fn storage(&self, operation: &str, elapsed: std::time::Duration) {
        self.storage
            .with_label_values(&[operation])
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the queue gauges from a fresh reading (`None`: the store did not answer).
    pub fn set_backlog(&self, backlog: Option<QueueBacklog>, now: OffsetDateTime) {
        let Some(backlog) = backlog else {
            self.store_up.set(0);
            return;
        };
        self.store_up.set(1);
        self.queue_depth
            .set(i64::try_from(backlog.depth).unwrap_or(i64::MAX));
        let age = backlog
            .oldest_received_at
            .map(|at| (now - at).as_seconds_f64().max(0.0))
            .unwrap_or(0.0);
        self.queue_oldest.set(age);
    }

    /// Everything in the Prometheus text format.
    pub fn render(&self) -> Result<String, MetricsError> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

fn counter(name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, MetricsError> {
    Ok(IntCounterVec::new(Opts::new(name, help), labels)?)
}

fn histogram(
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> Result<HistogramVec, MetricsError> {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    Ok(HistogramVec::new(opts, labels)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_up_in_the_text_format() {
        let metrics = Metrics::new().expect("metrics");
        metrics.hook("srs", "queued");
        metrics.api_request("DescribeLiveStreamsNotifyRecords", "OK");
        metrics.attempt(true, std::time::Duration::from_millis(20));
        let text = metrics.render().expect("render");
        let queued = r#"livenotify_hook_requests_total{outcome="queued",source="srs"} 1"#;
        assert!(text.contains(queued));
        assert!(text.contains("livenotify_callback_latency_seconds_count{result=\"success\"} 1"));
    }

    #[test]
    fn the_oldest_age_is_measured_from_now() {
        let metrics = Metrics::new().expect("metrics");
        let now = OffsetDateTime::now_utc();
        let backlog = QueueBacklog {
            depth: 3,
            oldest_received_at: Some(now - time::Duration::seconds(90)),
        };
        metrics.set_backlog(Some(backlog), now);
        let text = metrics.render().expect("render");
        assert!(text.contains("livenotify_queue_depth 3"));
        assert!(text.contains("livenotify_queue_oldest_age_seconds 90"));
    }
}
