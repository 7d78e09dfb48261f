//! One attempt of one delivery: read the domain's callback configuration, build and send the
//! callback, then store the attempt's notify record and the delivery's next step together.

use std::sync::Arc;

use time::OffsetDateTime;

use super::callback::{self, Callback};
use super::retry::{parse_retry_after, RetryPolicy};
use super::sender::{Exchange, Sender};
use crate::api::error_chain;
use crate::clock::{saturating_after, Clock};
use crate::domain::NotifyResult;
use crate::ops::Metrics;
use crate::storage::queue::{AttemptReport, ClaimedDelivery, NextStep, StreamEvent};
use crate::storage::{NewNotifyRecord, NotifyUrlConfig, Store};

/// What every attempt needs.
pub struct Attempts {
    pub store: Arc<dyn Store>,
    pub sender: Sender,
    pub retry: RetryPolicy,
    pub clock: Clock,
    /// Attempts by result, their latency, and how deliveries leave the queue.
    pub metrics: Arc<Metrics>,
}

impl Attempts {
    /// Makes one attempt of `claimed` and stores its outcome. When the store fails, the
    /// failure is logged and the lease left to lapse, so the delivery is tried again.
    pub async fn run(&self, claimed: ClaimedDelivery) {
        let event = &claimed.event;
        let config = match self.store.notify_config(&event.domain).await {
            Ok(config) => config,
            Err(error) => {
                tracing::warn!(
                    event_id = %event.id,
                    error = %error_chain(&error),
                    "cannot read the callback configuration",
                );
                return;
            }
        };
        let report = match config {
            Some(config) => self.attempt(&claimed, &config).await,
            None => {
                tracing::info!(
                    event_id = %event.id,
                    domain = %event.domain.name,
                    "callback configuration removed; delivery dropped",
                );
                self.metrics.delivery_finished("dropped");
                AttemptReport {
                    seq: claimed.seq,
                    lease: claimed.lease.clone(),
                    record: None,
                    next: NextStep::Finish,
                }
            }
        };

        match self.store.complete_attempt(report).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    event_id = %event.id,
                    "delivery lease lapsed before the attempt was stored",
                )
            }
            Err(error) => {
                tracing::error!(
                    event_id = %event.id,
                    error = %error_chain(&error),
                    "cannot store a callback attempt",
                )
            }
        }
    }

    async fn attempt(&self, claimed: &ClaimedDelivery, config: &NotifyUrlConfig) -> AttemptReport {
        let event = &claimed.event;
        let number = claimed.attempts_done + 1;
        let params = callback::params(event);
        let sent_at = self.clock.now();
        let (exchange, headers) = match callback::build(config, event, &params, sent_at) {
            Ok(callback) => (
                self.sender.send(&callback).await,
                Callback::header_block(&callback),
            ),
            Err(error) => (
                Exchange::failed_before_sending(error.to_string()),
                String::new(),
            ),
        };
        let next = self.next_step(number, &exchange);
        log_outcome(event, number, &exchange, next, self.clock.now());
        self.count(&exchange, next);

        let record = NewNotifyRecord {
            domain_id: event.domain.id,
            app_name: event.session.app.clone(),
            stream_name: event.session.stream.clone(),
            notify_type: event.action,
            notify_time: sent_at,
            notify_result: if exchange.success {
                NotifyResult::Success
            } else {
                NotifyResult::Failed
            },
            description: exchange.description.clone(),
            notify_url: config.notify_url.clone(),
            notify_content: callback::notify_content(&params),
            notify_response: exchange.response,
            notify_header: headers,
            event_id: Some(event.id.clone()),
            attempt: Some(number),
            http_status: exchange.http_status,
            latency_ms: Some(u32::try_from(exchange.latency.as_millis()).unwrap_or(u32::MAX)),
        };
        AttemptReport {
            seq: claimed.seq,
            lease: claimed.lease.clone(),
            record: Some(record),
            next,
        }
    }

    fn count(&self, exchange: &Exchange, next: NextStep) {
        self.metrics.attempt(exchange.success, exchange.latency);
        match next {
            NextStep::Finish if exchange.success => self.metrics.delivery_finished("delivered"),
            NextStep::Finish => self.metrics.delivery_finished("gave_up"),
            NextStep::RetryAt(_) => {}
        }
    }

    fn next_step(&self, number: u32, exchange: &Exchange) -> NextStep {
        if exchange.success {
            return NextStep::Finish;
        }
        let now = self.clock.now();
        let retry_after = exchange
            .retry_after
            .as_deref()
            .and_then(|value| parse_retry_after(value, now));
        match self
            .retry
            .next_delay(number, retry_after, rand::random::<f64>())
        {
            Some(delay) => NextStep::RetryAt(saturating_after(now, delay)),
            None => NextStep::Finish,
        }
    }
}

/// One line per attempt: fixed message, the facts in fields.
fn log_outcome(
    event: &StreamEvent,
    attempt: u32,
    exchange: &Exchange,
    next: NextStep,
    now: OffsetDateTime,
) {
    let (next_step, retry_in_ms) = match next {
        NextStep::Finish if exchange.success => ("delivered", None),
        NextStep::Finish => ("gave up", None),
        NextStep::RetryAt(at) => ("retry", Some((at - now).whole_milliseconds().max(0))),
    };
    tracing::info!(
        event_id = %event.id,
        domain = %event.domain.name,
        app = %event.session.app,
        stream = %event.session.stream,
        action = event.action.as_str(),
        attempt,
        result = if exchange.success { "success" } else { "failed" },
        description = %exchange.description,
        http_status = exchange.http_status,
        latency_ms = exchange.latency.as_millis() as u64,
        next = next_step,
        retry_in_ms,
        "callback attempt finished"
    );
}
