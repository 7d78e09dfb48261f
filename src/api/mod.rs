//! The RPC API: one listener path (`/`), Alibaba's RPC style. The action comes from
//! `x-acs-action` (signature V3) or `Action` (V1), the caller is authenticated, and the
//! action's handler answers in JSON or, for a V1 `Format=XML`, XML.

pub mod actions;
pub mod error;
pub mod params;
pub mod response;

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{header, HeaderMap, Method, Uri},
    response::Response,
    routing::any,
    Router,
};

use crate::auth::{
    signature::{self, IncomingRequest},
    Authenticator,
};
use crate::clock::Clock;
use crate::storage::Store;
use error::ApiError;
use params::Params;
use response::Format;

/// The API version livenotify speaks.
pub const API_VERSION: &str = "2016-11-01";

/// The largest request body the API reads.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every API request can reach.
#[derive(Clone)]
pub struct ApiState {
    pub store: Arc<dyn Store>,
    pub auth: Arc<Authenticator>,
    pub clock: Clock,
    /// Requests by action and code, and the record query's store latency.
    pub metrics: Arc<crate::ops::Metrics>,
}

/// The RPC routes, ready to merge into the server's router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", any(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// A fresh request id: an upper-case UUID, like Alibaba's.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

async fn handle(
    State(state): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_request_id();
    let host_id = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("livenotify")
        .to_string();
    let raw_query = uri.query().unwrap_or("");
    let incoming = IncomingRequest {
        method: method.as_str(),
        path: uri.path(),
        raw_query,
        headers: &headers,
        body: &body,
    };

    let params = match Params::from_request(&incoming) {
        Ok(params) => params,
        Err(error) => {
            state.metrics.api_request("unknown", &error.code());
            return reject(Format::Json, &request_id, &host_id, "", &incoming, error);
        }
    };
    let format = Format::from_param(params.get("Format"));
    let action = action_name(&headers, &params);
    let outcome = serve(&state, &incoming, &headers, &params).await;
    count(&state, action, &outcome);
    match outcome {
        Ok((action, body)) => {
            tracing::debug!(request_id, action, "api request served");
            response::success(format, action, &request_id, body)
        }
        Err(error) => {
            let action = action.unwrap_or_default();
            reject(format, &request_id, &host_id, action, &incoming, error)
        }
    }
}

async fn serve(
    state: &ApiState,
    incoming: &IncomingRequest<'_>,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(&'static str, serde_json::Map<String, serde_json::Value>), ApiError> {
    let action =
        action_name(headers, params).ok_or(ApiError::MissingParameter { name: "Action" })?;
    let action = actions::Action::find(action).ok_or(ApiError::ActionNotFound)?;
    match header_or_param(headers, params, "x-acs-version", "Version") {
        Some(API_VERSION) => {}
        Some(_) => return Err(ApiError::InvalidVersion),
        None => return Err(ApiError::MissingParameter { name: "Version" }),
    }

    let caller = state.auth.authenticate(incoming, action.name()).await?;
    // Authorization happens in `actions::caller_domain`, once the domain is known to be the
    // account's: every action on another account's domain answers as for a missing one.
    let body = actions::dispatch(action, state, &caller, params).await?;
    if !caller.was_authorized() {
        return Err(ApiError::Forbidden);
    }
    Ok((action.name(), body))
}

/// Counts the request by action (`unknown` for a name livenotify does not serve, so clients
/// cannot grow the label set) and code (`OK` for a success).
fn count<T>(state: &ApiState, action: Option<&str>, outcome: &Result<T, ApiError>) {
    let action = action
        .and_then(actions::Action::find)
        .map_or("unknown", actions::Action::name);
    match outcome {
        Ok(_) => state.metrics.api_request(action, "OK"),
        Err(error) => state.metrics.api_request(action, &error.code()),
    }
}

fn action_name<'a>(headers: &'a HeaderMap, params: &'a Params) -> Option<&'a str> {
    header_or_param(headers, params, "x-acs-action", "Action")
}

/// The action or version: for V3 from its `x-acs-` header (which V3 signs), else from the
/// parameter. A V1 signature covers the parameters and no header, so a V1 request's header is
/// never read: it could swap a signed read for a delete.
fn header_or_param<'a>(
    headers: &'a HeaderMap,
    params: &'a Params,
    header: &str,
    param: &str,
) -> Option<&'a str> {
    let signed_header = || {
        signature::is_v3(headers)
            .then(|| headers.get(header).and_then(|v| v.to_str().ok()))
            .flatten()
    };
    signed_header().or_else(|| params.non_empty(param))
}

fn reject(
    format: Format,
    request_id: &str,
    host_id: &str,
    action: &str,
    incoming: &IncomingRequest<'_>,
    error: ApiError,
) -> Response {
    match &error {
        ApiError::Internal(cause) => {
            let error = error_chain(cause.as_ref());
            tracing::error!(request_id, action, error, "api request failed");
        }
        ApiError::NonceCacheFull => {
            tracing::warn!(request_id, action, "replay guard full; request refused");
        }
        _ if error.is_denial() => log_denial(request_id, action, incoming, &error),
        _ => tracing::debug!(request_id, action, code = %error.code(), "api request rejected"),
    }
    response::failure(format, request_id, host_id, &error)
}

/// One info line per request refused for who sent it: bad or unknown key, bad signature,
/// replay, RAM policy, rate limit. The key id is the one the request claimed, if readable;
/// nothing secret is logged.
fn log_denial(request_id: &str, action: &str, incoming: &IncomingRequest<'_>, error: &ApiError) {
    let claimed = match signature::read_claim(incoming) {
        Ok(claim) => printable(&claim.access_key_id),
        // A claim that does not parse (a bad method, a malformed timestamp) still names its
        // key: V1 as the AccessKeyId parameter, V3 as the Credential of its Authorization.
        Err(_) => loose_key_id(incoming)
            .map(|id| printable(&id))
            .unwrap_or_default(),
    };
    tracing::info!(
        request_id,
        access_key_id = %claimed,
        action,
        code = %error.code(),
        "api request denied"
    );
}

/// The access key id a request names, read without checking the rest of its claim.
fn loose_key_id(incoming: &IncomingRequest<'_>) -> Option<String> {
    if signature::is_v3(incoming.headers) {
        let authorization = incoming.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (_, rest) = authorization.split_once("Credential=")?;
        return rest.split(',').next().map(|id| id.trim().to_string());
    }
    signature::parameters(incoming)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == "AccessKeyId")
        .map(|(_, id)| id)
}

/// A client-supplied identifier made safe for a log line: printable and at most 64 chars.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// A cause and its sources on one line, for the log.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
