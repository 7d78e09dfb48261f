//! Local callback receivers on 127.0.0.1: one that answers every GET with 200 and notes when
//! each stream's callback arrived (the same handler serves wrk's plain requests), and one that
//! accepts connections and never answers, so deliveries to it stay queued.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{extract::RawQuery, extract::State, routing::get, Router};
use tokio::net::TcpListener;

/// Arrival instants of callbacks, by the stream (`id`) they were for.
#[derive(Default)]
pub struct Arrivals(Mutex<HashMap<String, Instant>>);

impl Arrivals {
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn take(&self) -> HashMap<String, Instant> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    pub arrivals: Arc<Arrivals>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let arrivals = Arc::new(Arrivals::default());
        let app = Router::new()
            .route("/cb", get(callback))
            .with_state(Arc::clone(&arrivals));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            arrivals,
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}/cb", self.addr)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn callback(
    State(arrivals): State<Arc<Arrivals>>,
    RawQuery(query): RawQuery,
) -> &'static str {
    let now = Instant::now();
    if let Some(id) = query.as_deref().and_then(stream_id) {
        arrivals.lock().insert(id.to_string(), now);
    }
    "ok"
}

/// The `id` parameter of a callback query (stream names in the benchmark need no decoding).
fn stream_id(query: &str) -> Option<&str> {
    query.split('&').find_map(|pair| pair.strip_prefix("id="))
}

/// Accepts connections and holds them unanswered until dropped.
pub struct Stalled {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Stalled {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
                // Connections the sender gave up on are closed by it; keep the list bounded.
                if held.len() > 4_096 {
                    held.drain(..2_048);
                }
            }
        });
        Ok(Self { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}/cb", self.addr)
    }
}

impl Drop for Stalled {
    fn drop(&mut self) {
        self.task.abort();
    }
}
