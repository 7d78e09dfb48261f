//! Several `livenotify serve` processes (the real binary) on one fresh PostgreSQL database,
//! each with its own port, data directory and node name, and the store they share.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use livenotify::{
    domain::DomainName,
    storage::{NotifyUrlConfig, Store, StoreLocation},
};

use crate::database::TestDatabase;

/// How long any condition may take before a test gives up on it.
pub const PATIENCE: Duration = Duration::from_secs(180);

/// Settings of every process of a cluster.
#[derive(Clone)]
pub struct Settings {
    pub concurrency: usize,
    pub lease_ms: u64,
    pub timeout_ms: u64,
}

/// One running process.
pub struct Node {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Node {
    /// Kills the process at once, as a crash or `kill -9` would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A database, the store on it, and the processes serving it.
pub struct Cluster {
    pub store: Arc<dyn Store>,
    pub nodes: Vec<Node>,
    pub database: TestDatabase,
}

impl Cluster {
    /// A fresh database with `domains` ingest domains calling back to `notify_url`.
    pub async fn prepare(domains: usize, notify_url: &str) -> Self {
        let database = TestDatabase::create_or_default().await;
        let location = StoreLocation::new(Some(database.url().clone()), "/nonexistent".into());
        let store = livenotify::storage::open(&location).await.expect("store");
        let account = store.create_account().await.expect("account");
        for n in 0..domains {
            let name = DomainName::parse(&domain_name(n)).expect("name");
            let domain = store.add_domain(&account, &name).await.expect("domain");
            let config = NotifyUrlConfig {
                domain,
                notify_url: notify_url.to_string(),
                exception_notify_url: None,
                switch_notify_url: None,
                notify_req_auth: false,
                notify_auth_key: None,
            };
            store.set_notify_config(&config).await.expect("config");
        }
        Self {
            store,
            nodes: Vec::new(),
            database,
        }
    }

    /// Starts one more process and waits until it listens.
    pub async fn start_node(&mut self, settings: &Settings) {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let name = format!("node-{}", self.nodes.len());
        let log = std::fs::File::create(dir.path().join("serve.log")).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_livenotify"))
            .arg("--data")
            .arg(dir.path())
            .args(["--database", self.database.url().expose()])
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--allow-private-targets", "--node-name", &name])
            .args(["--delivery-concurrency", &settings.concurrency.to_string()])
            .args(["--delivery-per-domain", &settings.concurrency.to_string()])
            .args(["--delivery-lease-ms", &settings.lease_ms.to_string()])
            .args(["--delivery-timeout-ms", &settings.timeout_ms.to_string()])
            .env("LIVENOTIFY_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("binary starts");
        self.nodes.push(Node {
            port,
            child,
            _dir: dir,
        });
        eventually("the process listens", || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
                .map(drop)
        })
        .await;
    }
}

pub fn domain_name(n: usize) -> String {
    format!("push{n}.example1.com")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Polls `check` until it yields a value; panics after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
