//! The customer's receiver for the shared-queue tests: counts the callbacks it gets per stream
//! (the callback's `id`), so a test can tell delivered, missing and duplicated events apart.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::extract::{Query, State};

type Counts = Arc<Mutex<HashMap<String, u32>>>;

pub struct Sink {
    pub addr: SocketAddr,
    counts: Counts,
}

impl Sink {
    /// A receiver on 127.0.0.1 answering 200 to every callback.
    pub async fn start() -> Self {
        let counts = Counts::default();
        let app = axum::Router::new()
            .route("/cb", axum::routing::get(receive))
            .with_state(Arc::clone(&counts));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind sink");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, counts }
    }

    pub fn url(&self) -> String {
        format!("http://{}/cb", self.addr)
    }

    /// Callbacks received per stream.
    pub fn counts(&self) -> HashMap<String, u32> {
        self.counts.lock().expect("lock").clone()
    }

    /// Streams received at least once.
    pub fn distinct(&self) -> usize {
        self.counts.lock().expect("lock").len()
    }
}

async fn receive(
    State(counts): State<Counts>,
    Query(params): Query<HashMap<String, String>>,
) -> &'static str {
    let stream = params.get("id").cloned().unwrap_or_default();
    *counts.lock().expect("lock").entry(stream).or_default() += 1;
    "{\"code\":0}"
}
