//! Sends one callback and says what happened, in the words a notify record's Description
//! uses: `success`, `HTTP 500`, `timeout after 5s`, `connection refused`, `connection reset`,
//! `DNS lookup failed`, `redirect (HTTP 302) not followed`, `address 10.0.0.1 refused
//! (private)`. Redirects are never followed and no proxy is used, so the address checked is
//! the address connected to.

use std::{error::Error as StdError, sync::Arc, time::Duration};

use tokio::time::Instant;
use url::Host;

use super::callback::Callback;
use super::response_body::{self, NOTIFY_RESPONSE_CAP};
use super::target::{LookupError, RefusedAddress, TargetPolicy};

/// The HTTP client could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the callback HTTP client")]
pub struct SenderError(#[source] reqwest::Error);

/// What one callback attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub success: bool,
    /// `success`, or why the attempt failed.
    pub description: String,
    pub http_status: Option<u16>,
    /// The response body as NotifyResponse keeps it.
    pub response: String,
    pub latency: Duration,
    pub retry_after: Option<String>,
}

impl Exchange {
    /// An attempt that failed before anything was sent.
    pub fn failed_before_sending(description: String) -> Self {
        Self {
            success: false,
            description,
            http_status: None,
            response: String::new(),
            latency: Duration::ZERO,
            retry_after: None,
        }
    }
}

/// Sends callbacks: one pooled HTTP client with the address policy at connect time.
pub struct Sender {
    client: reqwest::Client,
    policy: TargetPolicy,
    timeout: Duration,
}

impl Sender {
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Result<Self, SenderError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .dns_resolver(Arc::new(policy))
            .build()
            .map_err(SenderError)?;
        Ok(Self {
            client,
            policy,
            timeout,
        })
    }

    /// Sends `callback` (GET) and reads at most the capped body of the answer.
    pub async fn send(&self, callback: &Callback) -> Exchange {
        if let Err(refused) = self.check_literal(callback) {
            return Exchange::failed_before_sending(refused.to_string());
        }
        let mut request = self.client.get(callback.url.clone());
        for (name, value) in callback.headers.iter().filter(|(name, _)| *name != "Host") {
            request = request.header(*name, value);
        }

        let started = Instant::now();
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let mut exchange = Exchange::failed_before_sending(self.describe(&error));
                exchange.latency = started.elapsed();
                return exchange;
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let (prefix, read_error) =
            response_body::read_prefix(&mut response, NOTIFY_RESPONSE_CAP).await;
        let latency = started.elapsed();

        let description = match (status.as_u16(), &read_error) {
            (200..=299, None) => "success".to_string(),
            (200..=299, Some(error)) => self.describe(error),
            (code @ 300..=399, _) => format!("redirect (HTTP {code}) not followed"),
            (code, _) => format!("HTTP {code}"),
        };
        Exchange {
            success: description == "success",
            description,
            http_status: Some(status.as_u16()),
            response: response_body::encode(&prefix),
            latency,
            retry_after,
        }
    }

    /// An IP-literal URL never reaches the resolver, so its address is checked here.
    fn check_literal(&self, callback: &Callback) -> Result<(), RefusedAddress> {
        match callback.url.host() {
            Some(Host::Ipv4(ip)) => self.policy.check(ip.into()),
            Some(Host::Ipv6(ip)) => self.policy.check(ip.into()),
            _ => Ok(()),
        }
    }

    fn describe(&self, error: &reqwest::Error) -> String {
        describe_error(error, self.timeout)
    }
}

/// Why a request failed, in a notify record's words.
pub fn describe_error(error: &reqwest::Error, timeout: Duration) -> String {
    if let Some(refused) = find::<RefusedAddress>(error) {
        return refused.to_string();
    }
    if find::<LookupError>(error).is_some() {
        return "DNS lookup failed".to_string();
    }
    if error.is_timeout() {
        return format!("timeout after {}", human(timeout));
    }
    if let Some(io) = find::<std::io::Error>(error) {
        use std::io::ErrorKind;
        match io.kind() {
            ErrorKind::ConnectionRefused => return "connection refused".into(),
            ErrorKind::ConnectionReset => return "connection reset".into(),
            ErrorKind::ConnectionAborted => return "connection aborted".into(),
            ErrorKind::UnexpectedEof => return "connection closed early".into(),
            _ => {}
        }
    }
    if error.is_connect() {
        return format!("connection failed: {}", innermost(error));
    }
    format!("request failed: {}", innermost(error))
}

/// The first error of type `E` in `error`'s source chain.
fn find<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut current = Some(error);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

fn innermost(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// `5s`, or `750ms` for a timeout that is not whole seconds.
fn human(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_in_whole_seconds_when_they_are() {
        assert_eq!(human(Duration::from_secs(5)), "5s");
        assert_eq!(human(Duration::from_millis(750)), "750ms");
    }
}
