//! The hook endpoints: `POST /hooks/nginx-rtmp`, `POST /hooks/srs` and `POST /hooks/events`,
//! each answered in the form its media server expects. A hook is answered only after its event
//! is durable, and never waits for the customer's server.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::json;

use super::accept::{Acceptance, Ingest};
use super::hook::{HookError, HookEvent, HookQuery};
use super::sources::{generic, nginx_rtmp, srs};
use crate::storage::queue::EventSource;

/// Hook bodies are a few hundred bytes; anything near this is not a hook.
const MAX_HOOK_BODY: usize = 64 * 1024;

/// The hook routes, ready to merge into the server's router.
pub fn router(ingest: Arc<Ingest>) -> Router {
    Router::new()
        .route("/hooks/nginx-rtmp", post(nginx_rtmp_hook))
        .route("/hooks/srs", post(srs_hook))
        .route("/hooks/events", post(generic_hook))
        .layer(DefaultBodyLimit::max(MAX_HOOK_BODY))
        .with_state(ingest)
}

/// nginx-rtmp: any 2xx lets the publish go on; the body is for people reading logs.
async fn nginx_rtmp_hook(
    State(ingest): State<Arc<Ingest>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = HookQuery::parse(query.as_deref());
    let outcome = handle(&ingest, EventSource::NginxRtmp, &query, &headers, || {
        nginx_rtmp::parse(&body, &query)
    })
    .await;
    match outcome {
        Ok(acceptance) => (StatusCode::OK, acceptance.as_str()).into_response(),
        Err(error) => (status(&error), error.to_string()).into_response(),
    }
}

/// SRS: HTTP 200 with `{"code":0}` lets the publish go on; anything else refuses it.
async fn srs_hook(
    State(ingest): State<Arc<Ingest>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = HookQuery::parse(query.as_deref());
    let parse = || srs::parse(&body, &query);
    let outcome = handle(&ingest, EventSource::Srs, &query, &headers, parse).await;
    match outcome {
        Ok(_) => (StatusCode::OK, Json(json!({ "code": 0 }))).into_response(),
        Err(error) => {
            let body = json!({ "code": error.status(), "message": error.to_string() });
            (status(&error), Json(body)).into_response()
        }
    }
}

/// The generic event: `{"outcome": ..., "event_id": ...}` or `{"error": ...}`.
async fn generic_hook(
    State(ingest): State<Arc<Ingest>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = HookQuery::parse(query.as_deref());
    let outcome = handle(&ingest, EventSource::Generic, &query, &headers, || {
        generic::parse(&body, &query).map(Some)
    })
    .await;
    match outcome {
        Ok(acceptance) => {
            let mut body = json!({ "outcome": acceptance.as_str() });
            if let Acceptance::Queued { event_id } = &acceptance {
                body["event_id"] = event_id.as_str().into();
            }
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(error) => (status(&error), Json(json!({ "error": error.to_string() }))).into_response(),
    }
}

/// Accepts the hook (see [`accept_hook`]), then logs and counts it by source and outcome.
async fn handle(
    ingest: &Ingest,
    source: EventSource,
    query: &HookQuery,
    headers: &HeaderMap,
    parse: impl FnOnce() -> Result<Option<HookEvent>, HookError>,
) -> Result<Acceptance, HookError> {
    let outcome = accept_hook(ingest, query, headers, parse).await;
    let label = match &outcome {
        Err(HookError::Store(cause)) => {
            let cause = crate::api::error_chain(cause);
            tracing::error!(error = %cause, "cannot store a hook event; the hook is refused");
            "store_error"
        }
        Err(error) => {
            tracing::debug!(error = %error, "hook refused");
            match error {
                HookError::Forbidden => "forbidden",
                _ => "bad_request",
            }
        }
        Ok(acceptance) => acceptance.as_str(),
    };
    ingest.metrics().hook(source.as_str(), label);
    outcome
}

/// Checks the token, parses the body, applies `?node=` and accepts the event.
async fn accept_hook(
    ingest: &Ingest,
    query: &HookQuery,
    headers: &HeaderMap,
    parse: impl FnOnce() -> Result<Option<HookEvent>, HookError>,
) -> Result<Acceptance, HookError> {
    authorise(ingest, query, headers)?;
    let mut hook = parse()?;
    if let (Some(hook), Some(node)) = (hook.as_mut(), query.node.as_ref()) {
        if !node.is_empty() {
            hook.node = Some(node.clone());
        }
    }
    ingest.accept(hook).await
}

/// When a hook token is configured, the hook must carry it as `?token=` or as a bearer token.
fn authorise(ingest: &Ingest, query: &HookQuery, headers: &HeaderMap) -> Result<(), HookError> {
    let Some(expected) = &ingest.config().token else {
        return Ok(());
    };
    // The scheme name is case-insensitive (RFC 9110); an empty `?token=` counts as absent.
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let from_query = query.token.as_deref().filter(|token| !token.is_empty());
    if [from_query, bearer]
        .into_iter()
        .flatten()
        .any(|given| expected.matches(given))
    {
        Ok(())
    } else {
        Err(HookError::Forbidden)
    }
}

fn status(error: &HookError) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST)
}
