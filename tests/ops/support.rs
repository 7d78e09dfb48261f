//! The service under test for the operator surface: the real server (API, hooks, worker,
//! `/metrics`, `/healthz`, `/readyz`) on a random loopback port over a fresh data directory,
//! a callback receiver on loopback, and a parser for the Prometheus text format.

use std::{collections::HashMap, future::Future, net::SocketAddr, time::Duration};

use livenotify::{
    client::ApiClient,
    config::{FileConfig, Overrides, ServeConfig},
    delivery::{DeliveryFileConfig, DeliveryOverrides},
    domain::DomainName,
    ingest::HookOverrides,
    storage::{
        sqlite::SqliteStore, AccessKey, AccountId, IdentityStore, NotifyConfigStore,
        NotifyUrlConfig, QueueStore, RecordCursor, RecordFilter, RecordStore,
    },
};
use tokio::sync::oneshot;

/// How long any condition may take before a test gives up on it.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Service {
    pub addr: SocketAddr,
    pub store: SqliteStore,
    pub account: AccountId,
    pub key: AccessKey,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Service {
    /// Starts the server; failed callbacks are retried after `retry_delay_ms`.
    pub async fn start(retry_delay_ms: u64) -> Self {
        Self::start_with(retry_delay_ms, |_| {}).await
    }

    /// Starts the server with the settings `adjust` makes to the test's overrides.
    pub async fn start_with(retry_delay_ms: u64, adjust: impl FnOnce(&mut Overrides)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let account = store.create_account().await.expect("account");
        let key = store.create_access_key(&account).await.expect("key");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let file = FileConfig {
            delivery: DeliveryFileConfig {
                poll_interval_ms: Some(50),
                drain_timeout_ms: Some(1_000),
                ..DeliveryFileConfig::default()
            },
            ..FileConfig::default()
        };
        let mut overrides = Overrides {
            data_dir: Some(dir.path().to_path_buf()),
            listen: Some("127.0.0.1:0".into()),
            hooks: HookOverrides {
                node_name: Some("ops-test".into()),
                ..HookOverrides::default()
            },
            delivery: DeliveryOverrides {
                allow_private_targets: Some(true),
                retry_count: Some(3),
                retry_delay_ms: Some(retry_delay_ms),
                ..DeliveryOverrides::default()
            },
            ..Overrides::default()
        };
        adjust(&mut overrides);
        let config = ServeConfig::resolve(file, overrides).expect("valid config");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(livenotify::server::serve(listener, config, async move {
            let _ = stopped.await;
        }));
        let service = Self {
            addr,
            store,
            account,
            key,
            http: reqwest::Client::new(),
            dir,
            stop: Some(stop),
            server: Some(server),
        };
        eventually("the server answers /healthz", || async {
            let (status, _) = service.get("/healthz").await?;
            (status == 200).then_some(())
        })
        .await;
        service
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Status and body of a GET, or `None` when nothing answered.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let response = self.http.get(self.url(path)).send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.unwrap_or_default()))
    }

    pub fn client(&self, secret: &str) -> ApiClient {
        ApiClient::new(&self.url(""), &self.key.id, secret).expect("client")
    }

    /// Adds `name` to the account, with an unsigned callback to `notify_url` when given.
    pub async fn domain(&self, name: &str, notify_url: Option<&str>) {
        let name = DomainName::parse(name).expect("domain name");
        let domain = self
            .store
            .add_domain(&self.account, &name)
            .await
            .expect("domain");
        if let Some(url) = notify_url {
            let config = NotifyUrlConfig {
                domain,
                notify_url: url.into(),
                exception_notify_url: None,
                switch_notify_url: None,
                notify_req_auth: false,
                notify_auth_key: None,
            };
            self.store.set_notify_config(&config).await.expect("config");
        }
    }

    /// Posts a generic JSON event; returns the answer's status.
    pub async fn event(&self, body: &str) -> u16 {
        self.http
            .post(self.url("/hooks/events"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("hook answered")
            .status()
            .as_u16()
    }

    /// Waits until `n` records are stored and `queued` deliveries remain.
    pub async fn settle(&self, n: usize, queued: u64) {
        let all = RecordFilter {
            domain: None,
            app_name: None,
            stream_name: None,
            result: None,
        };
        eventually("records stored", || async {
            let records = self.store.scan_records(&all, RecordCursor(0), 1_000).await;
            let depth = self.store.queued_deliveries().await.ok()?;
            (records.ok()?.len() >= n && depth == queued).then_some(())
        })
        .await;
    }

    /// The scrape, parsed.
    pub async fn metrics(&self) -> Metrics {
        let (status, text) = self.get("/metrics").await.expect("metrics answered");
        assert_eq!(status, 200, "{text}");
        Metrics::parse(&text)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

/// A Prometheus text exposition: `name{labels}` (labels as written) to value.
pub struct Metrics(HashMap<String, f64>);

impl Metrics {
    pub fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("a sample line");
                (series.to_string(), value.parse().expect("a number"))
            })
            .collect();
        Self(samples)
    }

    /// The sample of `name` with exactly `labels` (in any order); 0 when absent.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        wanted.sort();
        self.0
            .iter()
            .find(|(series, _)| {
                let (series_name, rest) = series.split_once('{').unwrap_or((series, "}"));
                let mut have: Vec<String> = rest
                    .trim_end_matches('}')
                    .split(',')
                    .filter(|label| !label.is_empty())
                    .map(str::to_string)
                    .collect();
                have.sort();
                series_name == name && have == wanted
            })
            .map_or(0.0, |(_, value)| *value)
    }
}

/// A callback receiver on loopback answering every request with `status`.
pub async fn receiver(status: u16) -> SocketAddr {
    use axum::{http::StatusCode, routing::any, Router};
    let code = StatusCode::from_u16(status).expect("status");
    let app = Router::new().route("/cb", any(move || async move { (code, "{\"code\":0}") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Polls `check` until it yields a value; panics after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
