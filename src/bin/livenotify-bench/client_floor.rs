//! The HTTP client alone: livenotify's own callback sender (the pooled client the delivery
//! worker uses) sending plain GETs to the same receiver from this process, with nothing
//! stored and no hooks. It is the ceiling any delivery through that client can reach on this
//! machine, measured in the same run as wrk so the two can be compared.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use livenotify::delivery::callback::Callback;
use livenotify::delivery::sender::Sender;
use livenotify::delivery::target::TargetPolicy;
use url::Url;

use crate::receiver::Receiver;
use crate::BenchError;

/// What the sender alone reached.
pub struct ClientFloor {
    pub sent: usize,
    pub succeeded: usize,
    pub concurrency: usize,
    pub per_second: f64,
}

/// Sends `count` callbacks to `receiver` from `concurrency` tasks sharing one sender.
pub async fn run(
    receiver: &Receiver,
    count: usize,
    concurrency: usize,
) -> Result<ClientFloor, BenchError> {
    let policy = TargetPolicy {
        allow_private: true,
    };
    let sender = Sender::new(policy, Duration::from_secs(5))
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let sender = Arc::new(sender);
    let base = Url::parse(&receiver.url()).map_err(|e| BenchError::Setup(e.to_string()))?;
    let next = Arc::new(AtomicUsize::new(0));
    let succeeded = Arc::new(AtomicUsize::new(0));

    let began = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (sender, base, next, succeeded) = (
            Arc::clone(&sender),
            base.clone(),
            Arc::clone(&next),
            Arc::clone(&succeeded),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let mut url = base.clone();
                url.set_query(Some(&format!("action=publish&id=f{i}")));
                let callback = Callback {
                    url,
                    headers: Vec::new(),
                };
                if sender.send(&callback).await.success {
                    succeeded.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let wall = began.elapsed();
    receiver.arrivals.take();
    let succeeded = succeeded.load(Ordering::Relaxed);
    Ok(ClientFloor {
        sent: count,
        succeeded,
        concurrency,
        per_second: succeeded as f64 / wall.as_secs_f64(),
    })
}
