//! The pipeline under test: the real server (API, hooks, worker) on a random loopback port over
//! a fresh data directory (and a fresh PostgreSQL database when `LIVENOTIFY_TEST_DATABASE` is
//! set), a direct handle on the same store, and polling helpers.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use livenotify::{
    config::{FileConfig, Overrides, ServeConfig},
    delivery::{DeliveryFileConfig, DeliveryOverrides},
    domain::DomainName,
    ingest::{HookFileConfig, HookOverrides},
    storage::{
        AccountId, IngestDomain, NotifyRecord, NotifyUrlConfig, RecordCursor, RecordFilter, Store,
    },
};
use tokio::sync::oneshot;

#[path = "../common/database.rs"]
mod database;

pub use database::TestDatabase;

pub const NODE: &str = "test-node";
pub const AUTH_KEY: &str = "Ab12345678901234";

/// How long any condition may take before a test gives up on it.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Settings a test may change; the rest are fast test defaults.
#[derive(Clone)]
pub struct Options {
    pub retry_count: u32,
    pub retry_delay_ms: u64,
    pub timeout_ms: Option<u64>,
    pub allow_private_targets: bool,
    pub hook_token: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            retry_count: 2,
            retry_delay_ms: 100,
            timeout_ms: None,
            allow_private_targets: true,
            hook_token: None,
        }
    }
}

pub struct Pipeline {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub account: AccountId,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
    /// Dropped last, after the server and the store let go of it.
    _database: Option<TestDatabase>,
}

impl Pipeline {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::create().await;
        let location = database::location(database.as_ref(), dir.path());
        let store = livenotify::storage::open(&location).await.expect("store");
        let account = store.create_account().await.expect("account");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config =
            ServeConfig::resolve(file_config(), overrides(&options, &dir, database.as_ref()))
                .expect("valid config");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(livenotify::server::serve(listener, config, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            store,
            account,
            http: reqwest::Client::new(),
            stop: Some(stop),
            server: Some(server),
            _dir: dir,
            _database: database,
        }
    }

    /// Adds `name` to the test account, with a signed callback to `notify_url` when given.
    pub async fn domain(&self, name: &str, notify_url: Option<&str>) -> IngestDomain {
        let name = DomainName::parse(name).expect("domain name");
        let domain = self
            .store
            .add_domain(&self.account, &name)
            .await
            .expect("domain");
        if let Some(url) = notify_url {
            let config = NotifyUrlConfig {
                domain: domain.clone(),
                notify_url: url.to_string(),
                exception_notify_url: None,
                switch_notify_url: None,
                notify_req_auth: true,
                notify_auth_key: Some(AUTH_KEY.to_string()),
            };
            self.store.set_notify_config(&config).await.expect("config");
        }
        domain
    }

    /// Posts `body` to a hook path (with its query) and returns status and body text.
    pub async fn hook(
        &self,
        path_and_query: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, String) {
        let response = self
            .http
            .post(format!("http://{}{path_and_query}", self.addr))
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("hook answered");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    pub async fn nginx(&self, query: &str, form: &str) -> (u16, String) {
        let path = format!("/hooks/nginx-rtmp{query}");
        self.hook(&path, "application/x-www-form-urlencoded", form)
            .await
    }

    pub async fn event(&self, json: &str) -> (u16, String) {
        self.hook("/hooks/events", "application/json", json).await
    }

    /// Every notify record stored, oldest first.
    pub async fn records(&self) -> Vec<NotifyRecord> {
        let all = RecordFilter {
            domain: None,
            app_name: None,
            stream_name: None,
            result: None,
        };
        self.store
            .scan_records(&all, RecordCursor(0), 10_000)
            .await
            .expect("records")
    }

    /// Waits until `n` records are stored and the queue is empty, then returns the records.
    pub async fn settled_records(&self, n: usize) -> Vec<NotifyRecord> {
        eventually("records stored and queue drained", || async {
            let queued = self.store.queued_deliveries().await.expect("queue");
            let records = self.records().await;
            (queued == 0 && records.len() >= n).then_some(records)
        })
        .await
    }

    /// Stops the server as SIGTERM would, and waits for it.
    pub async fn stop(mut self) {
        self.shut_down().await;
    }

    /// Stops the server as SIGTERM would and waits for it, keeping the store readable.
    pub async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

fn file_config() -> FileConfig {
    FileConfig {
        hooks: HookFileConfig::default(),
        delivery: DeliveryFileConfig {
            poll_interval_ms: Some(50),
            drain_timeout_ms: Some(2_000),
            ..DeliveryFileConfig::default()
        },
        ..FileConfig::default()
    }
}

fn overrides(
    options: &Options,
    dir: &tempfile::TempDir,
    database: Option<&TestDatabase>,
) -> Overrides {
    Overrides {
        data_dir: Some(dir.path().to_path_buf()),
        database_url: database.map(|db| db.url().clone()),
        listen: Some("127.0.0.1:0".into()),
        retention_days: None,
        hooks: HookOverrides {
            hook_token: options.hook_token.clone(),
            node_name: Some(NODE.into()),
        },
        delivery: DeliveryOverrides {
            allow_private_targets: Some(options.allow_private_targets),
            delivery_timeout_ms: options.timeout_ms,
            retry_count: Some(options.retry_count),
            retry_delay_ms: Some(options.retry_delay_ms),
            ..DeliveryOverrides::default()
        },
        ..Overrides::default()
    }
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

/// The lower-case hex MD5 signature Alibaba's receivers recompute.
pub fn expected_signature(domain: &str, timestamp: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(
        format!("{domain}|{timestamp}|{AUTH_KEY}").as_bytes(),
    ))
}

/// The eleven fields of the seed's record, none of which may be empty.
pub fn assert_every_field_filled(record: &NotifyRecord) {
    let r = &record.record;
    let fields = [
        ("NotifyType", r.notify_type.as_str().to_string()),
        ("Description", r.description.clone()),
        ("StreamName", r.stream_name.clone()),
        ("NotifyTime", r.notify_time.unix_timestamp().to_string()),
        ("DomainName", record.domain_name.to_string()),
        ("NotifyContent", r.notify_content.clone()),
        ("NotifyUrl", r.notify_url.clone()),
        ("NotifyResult", r.notify_result.as_str().to_string()),
        ("AppName", r.app_name.clone()),
        ("NotifyResponse", r.notify_response.clone()),
        ("NotifyHeader", r.notify_header.clone()),
    ];
    for (name, value) in fields {
        assert!(!value.is_empty(), "{name} is empty in {record:?}");
    }
}
