//! Posting generic JSON events to `/hooks/events` of a serve process with bounded
//! concurrency, timing each hook from send to its durable acknowledgement.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

/// What a burst of hooks came to: latency samples, when each stream's hook was acknowledged,
/// the wall time, and how many hooks were not queued.
pub struct Posted {
    pub samples: Vec<Duration>,
    pub accepted: HashMap<String, Instant>,
    pub wall: Duration,
    pub refused: usize,
}

/// A burst: `count` publish events, stream `"{prefix}{i}"` in domain `domains[i % len]`.
pub struct Burst<'a> {
    pub endpoint: &'a str,
    pub domains: &'a [String],
    pub prefix: &'a str,
    pub count: usize,
    pub concurrency: usize,
}

/// Posts the burst; every task stops at `count` hooks or after `max_time`.
pub async fn post(burst: Burst<'_>, max_time: Duration) -> Posted {
    let http = reqwest::Client::new();
    let url = format!("{}/hooks/events", burst.endpoint);
    let next = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..burst.concurrency {
        let (http, url, next) = (http.clone(), url.clone(), Arc::clone(&next));
        let (domains, prefix, count) = (
            burst.domains.to_vec(),
            burst.prefix.to_string(),
            burst.count,
        );
        tasks.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || began.elapsed() > max_time {
                    return mine;
                }
                let stream = format!("{prefix}{i}");
                let body = serde_json::json!({
                    "action": "publish",
                    "domain": domains[i % domains.len()],
                    "app": "live",
                    "stream": stream,
                    "client_id": format!("c{i}"),
                    "ip": "203.0.113.7",
                });
                let sent = Instant::now();
                let queued = match http.post(&url).json(&body).send().await {
                    Ok(response) => response.text().await.is_ok_and(|t| t.contains("queued")),
                    Err(_) => false,
                };
                mine.push((stream, sent, Instant::now(), queued));
            }
        });
    }
    collect(tasks, began).await
}

async fn collect(
    mut tasks: tokio::task::JoinSet<Vec<(String, Instant, Instant, bool)>>,
    began: Instant,
) -> Posted {
    let mut posted = Posted {
        samples: Vec::new(),
        accepted: HashMap::new(),
        wall: Duration::ZERO,
        refused: 0,
    };
    while let Some(Ok(results)) = tasks.join_next().await {
        for (stream, sent, acked, queued) in results {
            if queued {
                posted.samples.push(acked - sent);
                posted.accepted.insert(stream, acked);
            } else {
                posted.refused += 1;
            }
        }
    }
    posted.wall = began.elapsed();
    posted
}
