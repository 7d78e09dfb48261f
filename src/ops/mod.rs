//! The operator's surface next to the API: `/metrics` (Prometheus text format), `/healthz`
//! (the process answers) and `/readyz` (the store answers and its schema is current), and
//! progress reporting for long terminal work.

pub mod metrics;
pub mod progress;

use std::sync::Arc;

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use crate::api::error_chain;
use crate::clock::Clock;
use crate::storage::Store;
pub use metrics::{Metrics, MetricsError};

/// What the operator endpoints read.
#[derive(Clone)]
pub struct OpsState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    pub clock: Clock,
}

/// The `/metrics`, `/healthz` and `/readyz` routes, ready to merge into the server's router.
pub fn router(state: OpsState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

async fn metrics(State(state): State<OpsState>) -> Response {
    let started = std::time::Instant::now();
    let backlog = match state.store.queue_backlog().await {
        Ok(backlog) => Some(backlog),
        Err(error) => {
            tracing::warn!(error = %error_chain(&error), "cannot read the queue for /metrics");
            None
        }
    };
    state.metrics.storage("queue_backlog", started.elapsed());
    state.metrics.set_backlog(backlog, state.clock.now());

    match state.metrics.render() {
        Ok(text) => {
            let kind = "text/plain; version=0.0.4; charset=utf-8";
            ([(header::CONTENT_TYPE, kind)], text).into_response()
        }
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "cannot render /metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The process is up and serving requests.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers and is at the schema version this build migrates to.
async fn readyz(State(state): State<OpsState>) -> (StatusCode, String) {
    match state.store.schema_status().await {
        Ok(status) if status.found == status.expected => (StatusCode::OK, "ready\n".into()),
        Ok(status) => {
            let reason = format!(
                "not ready: the store's schema is at version {}, this build needs {}\n",
                status.found, status.expected
            );
            (StatusCode::SERVICE_UNAVAILABLE, reason)
        }
        Err(error) => {
            tracing::warn!(error = %error_chain(&error), "readiness check: store unreachable");
            let reason = "not ready: the store does not answer\n".to_string();
            (StatusCode::SERVICE_UNAVAILABLE, reason)
        }
    }
}
