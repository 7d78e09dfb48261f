//! The HTTP listener: accepts connections and serves each with hyper's HTTP/1. A connection
//! whose request head does not arrive within the configured time is closed, and a request
//! whose body does not arrive within the same time is refused, so clients that send slowly
//! (or never) cannot pile up; at most a configured number of connections
//! is open at once, and past it new ones wait in the listen backlog. On shutdown the listener
//! stops accepting, idle connections close, and busy ones finish the request they serve.

use std::{future::Future, io, pin::pin, sync::Arc, time::Duration};

use axum::{http::Request, Router};
use hyper::body::Incoming;

use super::body_deadline::DeadlineBody;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{watch, OwnedSemaphorePermit, Semaphore},
};

/// How long the accept loop waits after an error such as running out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Bounds on the connections the listener holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time a client has to send a complete request head, counted from the connection's
    /// start or from the end of the previous response (so it also closes idle keep-alives),
    /// and, once the head is in, to send the body.
    pub header_read_timeout: Duration,
    /// Connections open at once.
    pub max_connections: u32,
}

/// Serves `app` on `listener` until `shutdown` completes, then waits until every open
/// connection has finished its request.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (closing, closing_rx) = watch::channel(false);

    let mut shutdown = pin!(shutdown);
    let mut at_limit = false;
    loop {
        let slot = tokio::select! {
            slot = take_slot(&slots, limits, &mut at_limit) => slot,
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = accept(&listener) => accepted,
            () = &mut shutdown => break,
        };
        if let Some(stream) = stream {
            let connection = serve_one(
                http.clone(),
                stream,
                app.clone(),
                limits.header_read_timeout,
                closing_rx.clone(),
            );
            tokio::spawn(async move {
                connection.await;
                drop(slot);
            });
        }
    }

    // Every connection holds a slot until it ends, so having them all back means none is open.
    drop(listener);
    let _ = closing.send(true);
    let _ = slots.acquire_many(limits.max_connections).await;
}

/// A free connection slot; warns once each time the limit is reached.
async fn take_slot(
    slots: &Arc<Semaphore>,
    limits: &ConnectionLimits,
    at_limit: &mut bool,
) -> OwnedSemaphorePermit {
    if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
        *at_limit = false;
        return slot;
    }
    if !*at_limit {
        *at_limit = true;
        tracing::warn!(
            max_connections = limits.max_connections,
            "connection limit reached; new connections wait"
        );
    }
    loop {
        // The semaphore is never closed, so acquiring fails only in theory.
        if let Ok(slot) = Arc::clone(slots).acquire_owned().await {
            return slot;
        }
        tokio::time::sleep(ACCEPT_BACKOFF).await;
    }
}

/// The next connection, or `None` after an error (logged, and followed by a short pause when
/// the error is the listener's and not one client's).
async fn accept(listener: &TcpListener) -> Option<TcpStream> {
    match listener.accept().await {
        Ok((stream, _)) => Some(stream),
        Err(error) if is_one_client(&error) => {
            tracing::debug!(%error, "connection failed while being accepted");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "cannot accept connections");
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            None
        }
    }
}

fn is_one_client(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// Serves one connection until it ends; once `closing` turns true, it ends after the
/// request in progress, at once when idle.
async fn serve_one(
    http: http1::Builder,
    stream: TcpStream,
    app: Router,
    body_limit: Duration,
    mut closing: watch::Receiver<bool>,
) {
    // A body gets as long as a head, counted once: a client that sends its head and then
    // trickles the body is answered with an error instead of holding its connection open.
    let app = tower::ServiceBuilder::new()
        .map_request(move |request: Request<Incoming>| {
            request.map(|body| DeadlineBody::new(body, body_limit))
        })
        .service(app);
    let service = TowerToHyperService::new(app);
    let mut connection = pin!(http
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades());
    let ended = tokio::select! {
        outcome = connection.as_mut() => Some(outcome),
        _ = closing.wait_for(|closing| *closing) => None,
    };
    let outcome = match ended {
        Some(outcome) => outcome,
        None => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = outcome {
        tracing::debug!(%error, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::routing::get;
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        sync::{oneshot, Notify},
        task::JoinHandle,
    };

    use super::*;

    /// A safety net for a hang; not a limit on speed.
    const SAFETY_NET: Duration = Duration::from_secs(30);

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    struct Listener {
        addr: SocketAddr,
        stop: oneshot::Sender<()>,
        stopped: JoinHandle<()>,
    }

    /// Serves `app` with a header timeout long enough never to matter here.
    async fn listen(app: Router, max_connections: u32) -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_secs(3600),
            max_connections,
        };
        let (stop, stop_rx) = oneshot::channel::<()>();
        let stopped = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop_rx.await;
            };
            serve_connections(listener, app, &limits, shutdown).await;
        });
        Listener {
            addr,
            stop,
            stopped,
        }
    }

    /// Reads from `stream` until `wanted` has arrived or the stream ends.
    async fn read_until(stream: &mut TcpStream, wanted: &str) -> String {
        let reading = async {
            let mut received = Vec::new();
            let mut chunk = [0u8; 1024];
            while !String::from_utf8_lossy(&received).contains(wanted) {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => received.extend_from_slice(&chunk[..n]),
                }
            }
            String::from_utf8_lossy(&received).into_owned()
        };
        tokio::time::timeout(SAFETY_NET, reading)
            .await
            .expect("an answer before the safety net")
    }

    #[tokio::test]
    async fn past_the_connection_limit_a_client_waits_until_a_connection_closes() {
        let app = Router::new().route("/", get(|| async { "hello" }));
        let listener = listen(app, 1).await;

        // The first client is served and keeps its (idle, keep-alive) connection open.
        let mut holder = TcpStream::connect(listener.addr).await.expect("connect");
        holder.write_all(REQUEST).await.expect("send");
        assert!(read_until(&mut holder, "hello").await.contains("hello"));

        // The second is not accepted while the first holds the only slot.
        let mut waiting = TcpStream::connect(listener.addr).await.expect("connect");
        waiting.write_all(REQUEST).await.expect("send");
        let mut byte = [0u8; 1];
        let early = tokio::time::timeout(Duration::from_millis(200), waiting.read(&mut byte));
        assert!(early.await.is_err(), "answered past the connection limit");

        drop(holder);
        assert!(read_until(&mut waiting, "hello").await.contains("hello"));
        let _ = listener.stop.send(());
        listener.stopped.await.expect("the listener stops");
    }

    #[tokio::test]
    async fn shutdown_lets_a_request_in_progress_finish_and_closes_idle_connections() {
        let release = Arc::new(Notify::new());
        let started = Arc::new(Notify::new());
        let app = {
            let (release, started) = (Arc::clone(&release), Arc::clone(&started));
            Router::new().route(
                "/",
                get(move || async move {
                    started.notify_one();
                    release.notified().await;
                    "finished"
                }),
            )
        };
        let listener = listen(app, 16).await;
        let idle = TcpStream::connect(listener.addr).await.expect("connect");
        let mut busy = TcpStream::connect(listener.addr).await.expect("connect");
        busy.write_all(REQUEST).await.expect("send");
        started.notified().await;

        let _ = listener.stop.send(());
        release.notify_one();

        let answer = read_until(&mut busy, "finished").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("finished"), "{answer}");
        tokio::time::timeout(SAFETY_NET, listener.stopped)
            .await
            .expect("the listener stops with an idle connection open")
            .expect("the listener task ends cleanly");
        drop(idle);
    }
}
