//! The test application: the real API router on a random loopback port, over a fresh store
//! (SQLite in a temporary directory, or a fresh PostgreSQL database when
//! `LIVENOTIFY_TEST_DATABASE` is set), with a manual clock.

use std::{net::SocketAddr, sync::Arc};

use livenotify::{
    api::{self, ApiState},
    auth::{
        policy::Policy,
        signature::{percent_encode, V3Signer},
        Authenticator,
    },
    client::{ApiClient, ClientError},
    clock::Clock,
    domain::{DomainName, NotifyResult, NotifyType},
    storage::{
        ram::{PolicyName, RamUserId, RamUserName},
        AccessKey, IngestDomain, NewNotifyRecord, Store,
    },
};
use serde_json::Value;
use time::OffsetDateTime;

#[path = "../common/database.rs"]
mod database;

pub use database::TestDatabase;

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    pub key: AccessKey,
    pub router: axum::Router,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database under test, dropped after everything above.
    database: Option<TestDatabase>,
}

impl TestApp {
    /// Starts the API with one account, one access key and nothing else.
    pub async fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::create().await;
        let location = database::location(database.as_ref(), dir.path());
        let store = livenotify::storage::open(&location)
            .await
            .expect("store opens");
        let account = store.create_account().await.expect("account");
        let key = store.create_access_key(&account).await.expect("key");
        let clock = Clock::manual(OffsetDateTime::now_utc());

        let shared: Arc<dyn Store> = Arc::clone(&store);
        let state = ApiState {
            auth: Arc::new(Authenticator::new(Arc::clone(&shared), clock.clone())),
            store: shared,
            clock: clock.clone(),
            metrics: Arc::new(livenotify::ops::Metrics::new().expect("metrics")),
        };
        let router = api::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let serving = router.clone();
        tokio::spawn(async move { axum::serve(listener, serving).await });
        Self {
            addr,
            store,
            clock,
            key,
            router,
            dir,
            database,
        }
    }

    /// Drops the notify records table behind the service's back, on either backend.
    pub async fn break_records_table(&self) {
        database::drop_table(self.database.as_ref(), self.dir.path(), "notify_records").await;
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client signing with this app's key.
    pub fn client(&self) -> ApiClient {
        self.client_for(&self.key)
    }

    pub fn client_for(&self, key: &AccessKey) -> ApiClient {
        ApiClient::new(&self.endpoint(), &key.id, &key.secret).expect("client")
    }

    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<Value, ClientError> {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.client().call(action, &params).await
    }

    /// Adds an ingest domain to this app's account.
    pub async fn domain(&self, name: &str) -> IngestDomain {
        let name = DomainName::parse(name).expect("domain name");
        self.store
            .add_domain(&self.key.account, &name)
            .await
            .expect("domain added")
    }

    /// A second account with its own key.
    pub async fn other_account_key(&self) -> AccessKey {
        let account = self.store.create_account().await.expect("account");
        self.store.create_access_key(&account).await.expect("key")
    }

    pub async fn insert(&self, records: Vec<NewNotifyRecord>) {
        self.store
            .insert_records(records)
            .await
            .expect("records stored");
    }

    /// Headers of a V3-signed request, for tests that send raw requests.
    pub fn signed_headers(
        &self,
        params: &[(String, String)],
        nonce: &str,
        at: OffsetDateTime,
    ) -> Vec<(String, String)> {
        let signer = V3Signer {
            access_key_id: &self.key.id,
            access_key_secret: &self.key.secret,
        };
        signer.sign(
            "POST",
            &self.addr.to_string(),
            "DescribeLiveStreamsNotifyRecords",
            "2016-11-01",
            params,
            b"",
            at,
            nonce,
        )
    }
}

/// RAM users, their keys, and calls signed by any key.
impl TestApp {
    /// A RAM user of this app's account with `policies` attached, and one access key.
    pub async fn ram_user(&self, name: &str, policies: &[Value]) -> (RamUserId, AccessKey) {
        let name = RamUserName::parse(name).expect("user name");
        let user = self
            .store
            .create_ram_user(&self.key.account, &name)
            .await
            .expect("RAM user");
        for (n, document) in policies.iter().enumerate() {
            let policy = Policy::parse(&document.to_string()).expect("valid policy");
            let name = PolicyName::parse(&format!("policy-{n}")).expect("policy name");
            self.store
                .attach_policy(&user.id, &name, &policy)
                .await
                .expect("attached");
        }
        let key = self.ram_key(&user.id).await;
        (user.id, key)
    }

    /// One more access key of a RAM user.
    pub async fn ram_key(&self, user: &RamUserId) -> AccessKey {
        self.store
            .create_ram_access_key(user)
            .await
            .expect("RAM key")
    }

    /// Calls `action` signed with `key`.
    pub async fn call_as(
        &self,
        key: &AccessKey,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, ClientError> {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.client_for(key).call(action, &params).await
    }

    /// Sends `action` signed with `key` with this nonce at the app clock's time, as raw HTTP,
    /// and returns the status, the headers and the JSON body.
    pub async fn raw_call(
        &self,
        key: &AccessKey,
        action: &str,
        params: &[(&str, &str)],
        nonce: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signer = V3Signer {
            access_key_id: &key.id,
            access_key_secret: &key.secret,
        };
        let host = self.addr.to_string();
        let at = self.clock.now();
        let headers = signer.sign("POST", &host, action, "2016-11-01", &params, b"", at, nonce);
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        let mut request =
            reqwest::Client::new().post(format!("{}/?{}", self.endpoint(), query.join("&")));
        for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().await.expect("JSON body"))
    }
}

/// A record of `domain` at `at`, with distinct, recognisable field values.
pub fn record(domain: &IngestDomain, at: OffsetDateTime, n: u32) -> NewNotifyRecord {
    NewNotifyRecord {
        domain_id: domain.id,
        app_name: "app".into(),
        stream_name: format!("stream{}", n % 3),
        notify_type: if n % 2 == 0 {
            NotifyType::Publish
        } else {
            NotifyType::PublishDone
        },
        notify_time: at,
        notify_result: if n % 4 == 3 {
            NotifyResult::Failed
        } else {
            NotifyResult::Success
        },
        description: format!("description {n}"),
        notify_url: "http://127.0.0.1:9/callbacks".into(),
        notify_content: format!("{{\"action\":\"publish\",\"n\":{n}}}"),
        notify_response: "{\"Code\":0}".into(),
        notify_header: "Host: 127.0.0.1:9\nUser-Agent: livenotify".into(),
        event_id: Some(format!("event-{n}")),
        attempt: Some(1),
        http_status: Some(200),
        latency_ms: Some(n),
    }
}

/// Formats an instant the way the API takes it.
pub fn utc(at: OffsetDateTime) -> String {
    livenotify::domain::format_utc_seconds(at)
}

/// The API error code of a failed call.
pub fn code_of(result: Result<Value, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}
