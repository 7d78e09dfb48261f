//! The stream callback configuration of an ingest domain: `SetLiveStreamsNotifyUrlConfig`,
//! `DescribeLiveStreamsNotifyUrlConfig` and `DeleteLiveStreamsNotifyUrlConfig`. Alibaba has
//! no Add/Update pair here: Set creates or replaces the configuration.

use serde_json::{Map, Value};

use super::{caller_domain, ActionBody};
use crate::api::{error::ApiError, params::Params, ApiState};
use crate::auth::Caller;
use crate::storage::NotifyUrlConfig;

/// The longest URL accepted for any of the three callback URLs.
const MAX_URL_LEN: usize = 2048;

pub async fn set(
    state: &ApiState,
    caller: &Caller,
    params: &Params,
) -> Result<ActionBody, ApiError> {
    let domain = caller_domain(state, caller, params).await?;
    let notify_url =
        url_param(params, "NotifyUrl")?.ok_or(ApiError::MissingParameter { name: "NotifyUrl" })?;
    let notify_req_auth = match params.non_empty("NotifyReqAuth") {
        None | Some("no") => false,
        Some("yes") => true,
        Some(_) => return Err(invalid("NotifyReqAuth must be yes or no.")),
    };
    let notify_auth_key = params
        .non_empty("NotifyAuthKey")
        .map(auth_key)
        .transpose()?;
    if notify_req_auth && notify_auth_key.is_none() {
        return Err(invalid(
            "NotifyAuthKey is required when NotifyReqAuth is yes.",
        ));
    }

    let config = NotifyUrlConfig {
        domain,
        notify_url,
        exception_notify_url: url_param(params, "ExceptionNotifyUrl")?,
        switch_notify_url: url_param(params, "SwitchNotifyUrl")?,
        notify_req_auth,
        notify_auth_key,
    };
    state.store.set_notify_config(&config).await?;
    tracing::info!(
        domain = %config.domain.name,
        account = %caller.account,
        "stream callback configured"
    );
    Ok(Map::new())
}

pub async fn describe(
    state: &ApiState,
    caller: &Caller,
    params: &Params,
) -> Result<ActionBody, ApiError> {
    let domain = caller_domain(state, caller, params).await?;
    let mut config = Map::new();
    if let Some(found) = state.store.notify_config(&domain).await? {
        config.insert("DomainName".into(), found.domain.name.as_str().into());
        config.insert("NotifyUrl".into(), found.notify_url.into());
        let optional = [
            ("ExceptionNotifyUrl", found.exception_notify_url),
            ("SwitchNotifyUrl", found.switch_notify_url),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                config.insert(name.into(), value.into());
            }
        }
        let auth = if found.notify_req_auth { "yes" } else { "no" };
        config.insert("NotifyReqAuth".into(), auth.into());
        if let Some(key) = found.notify_auth_key {
            config.insert("NotifyAuthKey".into(), key.into());
        }
    }
    let mut body = Map::new();
    body.insert("LiveStreamsNotifyConfig".into(), Value::Object(config));
    Ok(body)
}

pub async fn delete(
    state: &ApiState,
    caller: &Caller,
    params: &Params,
) -> Result<ActionBody, ApiError> {
    let domain = caller_domain(state, caller, params).await?;
    state.store.delete_notify_config(&domain).await?;
    tracing::info!(
        domain = %domain.name,
        account = %caller.account,
        "stream callback configuration deleted"
    );
    Ok(Map::new())
}

fn invalid(detail: &str) -> ApiError {
    ApiError::InvalidParam {
        detail: detail.to_string(),
    }
}

/// An absolute http or https URL with a host, or nothing when the parameter is absent.
fn url_param(params: &Params, name: &'static str) -> Result<Option<String>, ApiError> {
    let Some(text) = params.non_empty(name) else {
        return Ok(None);
    };
    let bad = || {
        invalid(&format!(
            "{name} must be an absolute http or https URL of at most {MAX_URL_LEN} characters."
        ))
    };
    if text.len() > MAX_URL_LEN {
        return Err(bad());
    }
    let url = url::Url::parse(text).map_err(|_| bad())?;
    let has_host = url.host_str().is_some_and(|host| !host.is_empty());
    if !matches!(url.scheme(), "http" | "https") || !has_host {
        return Err(bad());
    }
    Ok(Some(text.to_string()))
}

/// NotifyAuthKey: 16 to 64 letters and digits.
fn auth_key(text: &str) -> Result<String, ApiError> {
    let ok = (16..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(text.to_string())
    } else {
        Err(invalid(
            "NotifyAuthKey must be 16 to 64 letters and digits.",
        ))
    }
}
