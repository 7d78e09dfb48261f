//! A small RPC client for livenotify's own API, signing with V3 like the official SDKs. The
//! `records` command, the benchmarks and the tests use it.

use serde_json::Value;
use time::OffsetDateTime;

use crate::api::API_VERSION;
use crate::auth::signature::{percent_encode, V3Signer};

/// How often [`ApiClient::call_patiently`] sends a throttled call again before giving up.
pub const MAX_THROTTLED_RETRIES: u32 = 30;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("endpoint {0:?} is not an http(s) URL")]
    BadEndpoint(String),
    #[error("cannot reach {endpoint}")]
    Transport {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{code}: {message} (HTTP {status}, RequestId {request_id})")]
    Api {
        status: u16,
        code: String,
        message: String,
        request_id: String,
        /// `x-acs-retry-after` of a throttled call: milliseconds to wait.
        retry_after_ms: Option<u64>,
    },
    #[error("the answer is not JSON (HTTP {status})")]
    Decode { status: u16 },
}

/// Credentials and an endpoint such as `http://127.0.0.1:8080`.
pub struct ApiClient {
    endpoint: url::Url,
    host: String,
    access_key_id: String,
    access_key_secret: String,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(
        endpoint: &str,
        access_key_id: &str,
        access_key_secret: &str,
    ) -> Result<Self, ClientError> {
        let bad = || ClientError::BadEndpoint(endpoint.to_string());
        let url = url::Url::parse(endpoint).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad());
        }
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => return Err(bad()),
        };
        Ok(Self {
            endpoint: url,
            host,
            access_key_id: access_key_id.to_string(),
            access_key_secret: access_key_secret.to_string(),
            http: reqwest::Client::new(),
        })
    }

    /// Calls `action` with `params` and returns the JSON body of a success.
    pub async fn call(
        &self,
        action: &str,
        params: &[(String, String)],
    ) -> Result<Value, ClientError> {
        let signer = V3Signer {
            access_key_id: &self.access_key_id,
            access_key_secret: &self.access_key_secret,
        };
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let headers = signer.sign(
            "POST",
            &self.host,
            action,
            API_VERSION,
            params,
            b"",
            OffsetDateTime::now_utc(),
            &nonce,
        );

        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        let mut url = self.endpoint.clone();
        url.set_path("/");
        url.set_query(Some(&query.join("&")));

        let mut request = self.http.post(url);
        for (name, value) in headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
        {
            request = request.header(name, value);
        }
        let transport = |source| ClientError::Transport {
            endpoint: self.endpoint.to_string(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after_ms = response
            .headers()
            .get("x-acs-retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse().ok());
        let bytes = response.bytes().await.map_err(transport)?;
        let body: Value =
            serde_json::from_slice(&bytes).map_err(|_| ClientError::Decode { status })?;
        if status >= 400 {
            let field = |name: &str| {
                body.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            return Err(ClientError::Api {
                status,
                code: field("Code"),
                message: field("Message"),
                request_id: field("RequestId"),
                retry_after_ms,
            });
        }
        Ok(body)
    }

    /// As [`Self::call`], waiting out throttling: a call answered with `x-acs-retry-after` is
    /// sent again after that wait (at most [`MAX_THROTTLED_RETRIES`] times, each wait capped
    /// at 10 s), so a long listing is slowed down by the rate limit instead of cut short.
    pub async fn call_patiently(
        &self,
        action: &str,
        params: &[(String, String)],
    ) -> Result<Value, ClientError> {
        let mut retries = 0;
        loop {
            match self.call(action, params).await {
                Err(ClientError::Api {
                    retry_after_ms: Some(wait),
                    ..
                }) if retries < MAX_THROTTLED_RETRIES => {
                    retries += 1;
                    let wait = std::time::Duration::from_millis(wait.clamp(1, 10_000));
                    tokio::time::sleep(wait).await;
                }
                outcome => return outcome,
            }
        }
    }
}
